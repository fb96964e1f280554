// libFuzzer target: a tensor value (value_from_json), with the properties of fuzz/checks.hpp.
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    symgraph::fuzz::check_value(text);
  } catch (const symgraph::fuzz::Violation& v) {
    std::fprintf(stderr, "fuzz_value: property violated: %s\n", v.what());
    std::abort();
  } catch (const std::exception& e) {
    // symgraph::Error included: it is a refusal only where checks.hpp expects one.
    std::fprintf(stderr, "fuzz_value: unexpected exception: %s\n", e.what());
    std::abort();
  }
  return 0;
}
