#pragma once
// The 1,000,000-node workloads of the scale suite (tests/test_scale.cpp) and
// the memory report (bench/memory_per_node.cpp): three graph shapes, each
// run through every stage a user takes a graph through, with the peak
// resident memory of each stage measured.
//
// Shapes, each stressing another dimension of every stage:
//   chain    depth: one path of n ops (a leaky relu written as a switch, so
//            the optimizer rewrites every level, plus tanh, add and neg)
//   fan_in   width into one node: a sum of n/2 distinct terms scale(x, c_i)
//            as a balanced tree of adds built level by level, so a schedule
//            in id order holds every term at once
//   fan_out  width out of one node: n outputs scale(tanh(x), c_i), each an
//            output of the function; its gradient (a vjp of all of them)
//            adds n cotangents into one node
//
// Stages: build, grad (differentiate first), optimize (the standard
// pipeline, forward and gradient outputs together), to_json, from_json,
// compile_reference (of the loaded graph) and a call, compile() (of the
// graph as built: it optimizes again) and a call, destruction.
//
// Memory: the peak resident set size (VmHWM) a stage reaches above the
// resident size it starts at. Free memory is handed back to the system
// first (malloc_trim) and the high-water mark reset (/proc/self/clear_refs),
// so each stage's peak is its own and the start is what is live. Linux only;
// elsewhere (or under a sanitizer, whose allocator keeps freed memory in
// quarantine) the numbers are reported as unavailable. SYMGRAPH_SCALE_VERBOSE
// prints each stage as it ends.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <symgraph/symgraph.hpp>
#include <vector>

#if defined(__GLIBC__)  // defined by the C library headers above
#include <malloc.h>
#endif

namespace workloads {

using namespace symgraph;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif
#else
inline constexpr bool kSanitized = false;
#endif

/// Nodes of each workload: 1,000,000, or SYMGRAPH_SCALE_NODES if set (the
/// sanitizer runs set it lower: see tests/CMakeLists.txt).
inline std::size_t node_count() {
  if (const char* s = std::getenv("SYMGRAPH_SCALE_NODES")) {
    const long long v = std::atoll(s);
    if (v >= 64) return static_cast<std::size_t>(v);
  }
  return 1'000'000;
}

/// Hands free heap memory back to the system (glibc), so that resident
/// size is what is live.
inline void trim() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

/// Bytes of a "VmRSS:" or "VmHWM:" line of /proc/self/status (0 if absent).
inline std::size_t status_bytes(const std::string& key) {
  std::ifstream in("/proc/self/status");
  std::string word;
  while (in >> word) {
    if (word == key) {
      std::size_t kib = 0;
      in >> kib;
      return kib * 1024;
    }
  }
  return 0;
}

/// Peak resident memory of a stretch of code above what was resident at its start.
class PeakMeter {
 public:
  /// Resets the high-water mark; false when this system cannot.
  bool start() {
    trim();
    std::ofstream clear("/proc/self/clear_refs");
    clear << "5";
    clear.close();
    ok_ = !kSanitized && clear.good();
    start_rss_ = status_bytes("VmRSS:");
    ok_ = ok_ && start_rss_ > 0 && status_bytes("VmHWM:") <= start_rss_ + (std::size_t{1} << 20);
    return ok_;
  }
  /// Peak minus start, or nullopt when not measurable.
  std::optional<std::size_t> peak_above_start() const {
    if (!ok_) return std::nullopt;
    const std::size_t hwm = status_bytes("VmHWM:");
    return hwm > start_rss_ ? hwm - start_rss_ : 0;
  }
  std::size_t start_rss() const { return start_rss_; }

 private:
  bool ok_ = false;
  std::size_t start_rss_ = 0;
};

struct StageResult {
  std::string name;
  double seconds = 0;
  std::optional<std::size_t> peak_bytes;  // above the stage's start
  std::size_t rss_before = 0, rss_after = 0;  // resident, free memory handed back
};

struct Report {
  std::size_t baseline_rss = 0;  // resident before the workload
  std::vector<StageResult> stages;
  /// The highest resident size any stage reached, above the baseline.
  std::optional<std::size_t> peak_bytes() const {
    std::size_t top = 0;
    for (const StageResult& s : stages) {
      if (!s.peak_bytes) return std::nullopt;
      top = std::max(top, s.rss_before + *s.peak_bytes);
    }
    return top > baseline_rss ? top - baseline_rss : 0;
  }
};

/// A workload at the state its stages left it in.
struct Workload {
  std::string shape;
  Graph graph;
  Expr x, g;  // the input, and (fan_out) the cotangent input
  std::vector<Expr> inputs, forward, gradient;
  std::vector<Expr> outputs;    // forward then gradient
  std::vector<double> factors;  // fan_in, fan_out: the c_i
  std::size_t nodes = 0;        // after build
  std::vector<Expr> optimized;  // forward then gradient outputs
  std::string json;
  std::optional<LoadedGraph> loaded;
  std::vector<Tensor> args;
  std::vector<Tensor> reference_values;  // compile_reference of the loaded graph
  std::vector<Tensor> compiled_values;   // compile() of the graph as built
  std::size_t compiled_steps = 0;
  std::size_t size_before_compile = 0;   // of the store
};

/// Distinct factors in (0.5, 1.5): the i-th of n.
inline double factor(std::size_t i, std::size_t n) { return 0.5 + (static_cast<double>(i) + 0.5) / static_cast<double>(n); }

inline void build_chain(Workload& w, std::size_t n) {
  w.x = w.graph.input("x", DType::float64, {kSymbolic});
  w.inputs = {w.x};
  Expr y = w.x;
  // 6 nodes a level: tanh, add, gt, mul, switch, neg (the constants 0 and
  // 0.1 are shared by every level).
  while (w.graph.size() + 6 <= n) y = -where(tanh(y) + w.x > 0.0, tanh(y) + w.x, 0.1 * (tanh(y) + w.x));
  while (w.graph.size() < n) y = tanh(y);
  w.forward = {y};
}

inline void build_fan_in(Workload& w, std::size_t n) {
  w.x = w.graph.input("x", DType::float64, {kSymbolic});
  w.inputs = {w.x};
  const std::size_t terms = (n - 1) / 2 + 1;  // terms scales and terms - 1 adds
  std::vector<Expr> level;
  level.reserve(terms);
  for (std::size_t i = 0; i < terms; ++i) {
    w.factors.push_back(factor(i, terms));
    level.push_back(scale(w.x, w.factors.back()));
  }
  while (level.size() > 1) {
    std::vector<Expr> next;
    next.reserve(level.size() / 2 + 1);
    for (std::size_t i = 0; i + 1 < level.size(); i += 2) next.push_back(level[i] + level[i + 1]);
    if (level.size() % 2) next.push_back(level.back());
    level = std::move(next);
  }
  w.forward = {level[0]};
}

inline void build_fan_out(Workload& w, std::size_t n) {
  w.x = w.graph.input("x", DType::float64, {kSymbolic});
  w.g = w.graph.input("g", DType::float64, {kSymbolic});
  w.inputs = {w.x, w.g};
  const Expr h = tanh(w.x);
  const std::size_t outputs = n - 3;
  w.forward.reserve(outputs);
  for (std::size_t i = 0; i < outputs; ++i) {
    w.factors.push_back(factor(i, outputs));
    w.forward.push_back(scale(h, w.factors.back()));
  }
}

inline std::vector<Tensor> arguments(const Workload& w) {
  std::vector<Tensor> a = {Tensor::from_list<double>({-0.75, 0.25, 0.5})};
  if (w.shape == "fan_out") a.push_back(Tensor::from_list<double>({1.0, -2.0, 0.25}));
  return a;
}

/// Runs every stage of `shape` ("chain", "fan_in", "fan_out") with n nodes,
/// calling `check(w, stage)` after each but the last; returns the stages'
/// times and memory.
inline Report run_stages(const std::string& shape, std::size_t n,
                         const std::function<void(Workload&, const std::string&)>& check) {
  Report report;
  trim();
  report.baseline_rss = status_bytes("VmRSS:");
  auto& results = report.stages;
  auto w = std::make_unique<Workload>();
  w->shape = shape;
  auto stage = [&](const std::string& name, const std::function<void()>& body) {
    PeakMeter meter;
    meter.start();
    const auto t0 = std::chrono::steady_clock::now();
    body();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    results.push_back({name, seconds, meter.peak_above_start(), meter.start_rss(), 0});
    trim();
    results.back().rss_after = status_bytes("VmRSS:");
    if (std::getenv("SYMGRAPH_SCALE_VERBOSE"))
      std::fprintf(stderr, "%s %s: %.3f s, peak +%zu MiB, resident after %zu MiB\n", shape.c_str(), name.c_str(),
                   seconds, results.back().peak_bytes.value_or(0) >> 20, results.back().rss_after >> 20);
    if (w) check(*w, name);
  };
  stage("build", [&] {
    if (shape == "chain") build_chain(*w, n);
    else if (shape == "fan_in") build_fan_in(*w, n);
    else build_fan_out(*w, n);
    w->nodes = w->graph.size();
  });
  stage("grad", [&] {
    if (shape == "fan_out") {
      const std::vector<Expr> seeds(w->forward.size(), w->g);
      w->gradient = {*vjp(w->forward, {w->x}, seeds)[0]};
    } else {
      w->gradient = grad(sum(w->forward[0]), {w->x});
    }
  });
  w->outputs = w->forward;
  w->outputs.insert(w->outputs.end(), w->gradient.begin(), w->gradient.end());
  stage("optimize", [&] { w->optimized = optimize(w->outputs); });
  stage("to_json", [&] { w->json = to_json(w->inputs, w->optimized); });
  stage("from_json", [&] { w->loaded = from_json(w->json); });
  w->args = arguments(*w);
  stage("compile_reference", [&] {
    w->reference_values = compile_reference(w->loaded->inputs, w->loaded->outputs)(w->args);
  });
  stage("compile", [&] {
    w->size_before_compile = w->graph.size();
    const Function f = compile(w->inputs, w->outputs);
    w->compiled_steps = f.num_steps();
    w->compiled_values = f(w->args);
  });
  stage("destruction", [&] { w.reset(); });
  return report;
}

}  // namespace workloads
