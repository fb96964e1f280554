// Scale: graphs of 1,000,000 nodes, deep (a chain) and wide (a fan-in and a
// fan-out), through every stage: build, grad, optimize, to_json, from_json,
// compile_reference and compile() with a call each, and destruction. Nothing
// may recurse in the depth of a graph (the suite runs on the default 8 MiB
// stack, and passes under `ulimit -s 1024` too), values are checked against
// plain loops, and each stage's peak memory per node is bounded.
//
// The workloads are in scale_workloads.hpp, shared with the memory report
// (bench/memory_per_node). Under the sanitizers the node count is lowered
// with SYMGRAPH_SCALE_NODES (tests/CMakeLists.txt: they are several times
// slower and use several times the memory) and memory is not bounded (their
// allocators keep freed memory in quarantine); everything else is checked.
#include <doctest/doctest.h>

#include <cmath>
#include <map>

#include "scale_workloads.hpp"

using namespace symgraph;

namespace {

bool close(double got, double want, double rel) {
  return std::abs(got - want) <= rel * std::max(std::abs(want), 1e-300);
}

/// Peak memory allowed per node built, by stage (bytes), and for the whole
/// run. Measured on x86-64 Linux with glibc (docs/performance.md, "Memory
/// per node"; bench/memory_per_node prints the numbers) plus a margin of
/// about a third: a stage that grows past it has a new cost per node.
struct Bounds {
  std::map<std::string, double> stage;
  double whole;
};

const std::map<std::string, Bounds>& bounds() {
  // Measured at 1,000,000 nodes (bytes a node):
  //            build  grad optimize to_json from_json reference compile  whole
  //   chain       83   283      589     643       399       787    1543   2941
  //   fan_in     145   151      745     477       453       588     851   2397
  //   fan_out    225   422      372     914       798      1500    2594   4721
  // The gradient, optimize, JSON and both evaluators each handle the whole
  // graph the earlier stages left (the gradient triples a chain), and every
  // stage's results stay alive to the end, as a user's would.
  static const std::map<std::string, Bounds> b = {
      {"chain", {{{"build", 110}, {"grad", 370}, {"optimize", 770}, {"to_json", 840}, {"from_json", 520},
                  {"compile_reference", 1020}, {"compile", 2000}, {"destruction", 16}}, 3800}},
      {"fan_in", {{{"build", 190}, {"grad", 200}, {"optimize", 970}, {"to_json", 620}, {"from_json", 590},
                   {"compile_reference", 770}, {"compile", 1110}, {"destruction", 16}}, 3100}},
      {"fan_out", {{{"build", 290}, {"grad", 550}, {"optimize", 480}, {"to_json", 1190}, {"from_json", 1040},
                    {"compile_reference", 1950}, {"compile", 3370}, {"destruction", 16}}, 6100}},
  };
  return b;
}

/// Reports every stage, and checks its memory per node against the bounds.
void check_memory(const std::string& shape, const workloads::Report& r, std::size_t nodes) {
  const Bounds& b = bounds().at(shape);
  const auto per_node = [&](std::size_t bytes) { return static_cast<double>(bytes) / static_cast<double>(nodes); };
  for (const auto& s : r.stages) {
    CAPTURE(s.name);
    if (!s.peak_bytes) {
      MESSAGE(shape << " " << s.name << ": " << s.seconds << " s (memory not measured here)");
      continue;
    }
    MESSAGE(shape << " " << s.name << ": " << s.seconds << " s, peak " << per_node(*s.peak_bytes) << " bytes/node");
    CHECK(per_node(*s.peak_bytes) <= b.stage.at(s.name));
  }
  if (const auto p = r.peak_bytes()) {
    MESSAGE(shape << " whole run: peak " << per_node(*p) << " bytes/node");
    CHECK(per_node(*p) <= b.whole);
    // Destroying the graphs gives their memory back: what is left is a few
    // MiB the allocator and the evaluator's per-thread scratch keep.
    const std::size_t left = r.stages.back().rss_after - std::min(r.stages.back().rss_after, r.baseline_rss);
    CHECK(left <= (std::size_t{16} << 20));
  }
}

/// Counts the nodes of each op that `outputs` reach.
std::map<std::string, std::size_t> op_counts(const std::vector<Expr>& outputs) {
  std::map<std::string, std::size_t> counts;
  const std::vector<char> live = reachable(outputs);
  for (std::size_t id = 0; id < live.size(); ++id)
    if (live[id]) ++counts[outputs[0].graph()->node(static_cast<NodeId>(id)).op->name()];
  return counts;
}

/// Checks shared by the three shapes, after `stage`.
void check_common(workloads::Workload& w, const std::string& stage, std::size_t n) {
  if (stage == "build") {
    CHECK(w.graph.size() == n);
  } else if (stage == "from_json") {
    // Exact round trip.
    CHECK(to_json(w.loaded->inputs, w.loaded->outputs) == w.json);
    CHECK(w.loaded->outputs.size() == w.optimized.size());
  } else if (stage == "compile") {
    // compile() optimizes the outputs again: every node it needs exists
    // already (optimize() built them), so the store does not grow.
    CHECK(w.graph.size() == w.size_before_compile);
  }
}

}  // namespace

TEST_CASE("scale: a chain of 1,000,000 nodes") {
  const std::size_t n = workloads::node_count();
  // The oracle: the chain's recurrence, per element, in plain double.
  const std::vector<double> xs = {-0.75, 0.25, 0.5};
  std::vector<double> want_y(xs.size()), want_dy(xs.size());
  std::size_t levels = 0, tail = 0;
  auto check = [&](workloads::Workload& w, const std::string& stage) {
    CAPTURE(stage);
    check_common(w, stage, n);
    if (stage == "build") {
      // The levels, counted back from the output: a tail of tanh, then
      // neg(switch(gt(t, 0), t, mul(0.1, t))) with t = add(tanh(y), x).
      Expr e = w.forward[0];
      for (; e.op_name() == "tanh"; e = e.input(0)) ++tail;
      for (; e.op_name() == "neg"; e = e.input(0).input(1).input(0).input(0)) ++levels;
      CHECK(e.is(w.x));
      CHECK(3 + 6 * levels + tail == n);
      for (std::size_t j = 0; j < xs.size(); ++j) {
        double y = xs[j], dy = 1.0;
        for (std::size_t l = 0; l < levels; ++l) {
          const double th = std::tanh(y);
          const double t = th + xs[j], dt = (1.0 - th * th) * dy + 1.0;
          y = -(t > 0.0 ? t : 0.1 * t);
          dy = -(t > 0.0 ? dt : 0.1 * dt);
        }
        for (std::size_t l = 0; l < tail; ++l) {
          const double th = std::tanh(y);
          dy *= 1.0 - th * th;
          y = th;
        }
        want_y[j] = y;
        want_dy[j] = dy;
      }
    } else if (stage == "grad") {
      // O(n): a few nodes a forward node (3.0 measured).
      CHECK(w.graph.size() - n <= 4 * n);
    } else if (stage == "optimize") {
      // relu-to-abs rewrote the switch of every level.
      const auto counts = op_counts({w.optimized[0]});
      CHECK(counts.count("switch") == 0);
      CHECK(counts.at("abs") == levels);
    } else if (stage == "compile_reference" || stage == "compile") {
      const auto& v = stage == "compile" ? w.compiled_values : w.reference_values;
      REQUIRE(v.size() == 2);
      for (std::size_t j = 0; j < xs.size(); ++j) {
        CAPTURE(j);
        // relu-to-abs rounds differently from the switch, within a few ulps
        // a level; the chain contracts errors (|tanh'| < 1).
        CHECK(close(v[0].at(static_cast<std::int64_t>(j)), want_y[j], 1e-12));
        CHECK(close(v[1].at(static_cast<std::int64_t>(j)), want_dy[j], 1e-9));
      }
    }
  };
  check_memory("chain", workloads::run_stages("chain", n, check), n);
}

TEST_CASE("scale: a sum of 500,000 distinct terms (1,000,000 nodes, fan-in)") {
  const std::size_t n = workloads::node_count();
  auto check = [&](workloads::Workload& w, const std::string& stage) {
    CAPTURE(stage);
    check_common(w, stage, n);
    if (stage == "compile_reference" || stage == "compile") {
      const auto& v = stage == "compile" ? w.compiled_values : w.reference_values;
      REQUIRE(v.size() == 2);
      // The oracle: the same pairwise sum, level by level, of the factors
      // (the sum is linear in x: sum_i c_i x).
      std::vector<double> level = w.factors;
      while (level.size() > 1) {
        std::vector<double> next;
        for (std::size_t i = 0; i + 1 < level.size(); i += 2) next.push_back(level[i] + level[i + 1]);
        if (level.size() % 2) next.push_back(level.back());
        level = std::move(next);
      }
      const double total = level[0];
      for (std::int64_t j = 0; j < w.args[0].size(); ++j) {
        CAPTURE(j);
        CHECK(close(v[0].at(j), total * w.args[0].at(j), 1e-12));
        CHECK(close(v[1].at(j), total, 1e-12));
      }
    }
  };
  check_memory("fan_in", workloads::run_stages("fan_in", n, check), n);
}

TEST_CASE("scale: 1,000,000 outputs of one node (fan-out)") {
  const std::size_t n = workloads::node_count();
  auto check = [&](workloads::Workload& w, const std::string& stage) {
    CAPTURE(stage);
    check_common(w, stage, n);
    if (stage == "compile_reference" || stage == "compile") {
      const auto& v = stage == "compile" ? w.compiled_values : w.reference_values;
      REQUIRE(v.size() == w.factors.size() + 1);
      const Tensor& x = w.args[0];
      const Tensor& g = w.args[1];
      // Every output is exactly c_i * tanh(x): nothing rewrites a scale of
      // a tanh.
      std::size_t wrong = 0;
      for (std::size_t i = 0; i < w.factors.size(); ++i)
        for (std::int64_t j = 0; j < x.size(); ++j) wrong += v[i].at(j) != w.factors[i] * std::tanh(x.at(j));
      CHECK(wrong == 0);
      // The gradient: sum_i c_i g (1 - tanh(x)^2).
      double total = 0;
      for (double c : w.factors) total += c;
      for (std::int64_t j = 0; j < x.size(); ++j) {
        const double th = std::tanh(x.at(j));
        CHECK(close(v.back().at(j), total * g.at(j) * (1 - th * th), 1e-12));
      }
    }
  };
  check_memory("fan_out", workloads::run_stages("fan_out", n, check), n);
}
