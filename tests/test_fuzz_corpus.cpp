// The fuzz corpus (fuzz/corpus/<target>/), every input the fuzzers kept and
// every crash they found, replayed through the same checks the fuzz targets
// make (fuzz/checks.hpp): refusals are Errors with one printable line, and
// what is accepted round-trips through JSON exactly, prints and optimizes.
#include <algorithm>
#include <filesystem>
#include <fstream>

#include "checks.hpp"
#include "harness.hpp"

#ifndef SYMGRAPH_FUZZ_CORPUS
#error "SYMGRAPH_FUZZ_CORPUS (the path of fuzz/corpus) must be defined by the build"
#endif

namespace {

/// The inputs of one target's corpus, in name order.
std::vector<std::filesystem::path> corpus(const char* target) {
  std::vector<std::filesystem::path> files;
  const auto dir = std::filesystem::path(SYMGRAPH_FUZZ_CORPUS) / target;
  if (std::filesystem::is_directory(dir))
    for (const auto& entry : std::filesystem::directory_iterator(dir))
      if (entry.is_regular_file()) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::string contents(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

template <class Check> void replay(const char* target, std::size_t at_least, Check check) {
  const auto files = corpus(target);
  CHECK_MESSAGE(files.size() >= at_least, target << ": " << files.size() << " inputs");
  for (const auto& file : files) {
    const std::string text = contents(file);
    try {
      check(text);
    } catch (const symgraph::fuzz::Violation& v) {
      FAIL_CHECK(target << "/" << file.filename().string() << ": " << v.what());
    } catch (const std::exception& e) {
      FAIL_CHECK(target << "/" << file.filename().string() << ": unexpected exception: " << e.what());
    }
  }
}

}  // namespace

TEST_CASE("fuzz corpus: JSON documents") { replay("json", 200, symgraph::fuzz::check_document); }

TEST_CASE("fuzz corpus: expressions") { replay("parse", 100, symgraph::fuzz::check_expression); }

TEST_CASE("fuzz corpus: tensor values") { replay("value", 15, symgraph::fuzz::check_value); }
