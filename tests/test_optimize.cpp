// optimize(): pipelines, strict against standard, 100+ random graphs
// checked rewrite by rewrite against each rule's contract (and bit for bit
// under the strict pipeline), a 1,000,000-node graph, compact(), determinism.
#include <map>

#include "optimizer_support.hpp"
#include "symgraph/graph/rules.hpp"

using namespace sgtest;

TEST_CASE("pipelines: names, stages, strict, none") {
  CHECK(Pipeline::standard().str() == "constant-folding+canonicalize+relu-to-abs+cse, dead-node-removal");
  CHECK(Pipeline::strict().str() == "constant-folding+canonicalize+cse, dead-node-removal (exact rules only)");
  CHECK(Pipeline::none().str() == "(no passes)");
  const Pipeline p = Pipeline::from_names({"canonicalize+relu-to-abs", "cse"});
  CHECK(p.str() == "canonicalize+relu-to-abs, cse");
  CHECK(p.stages() == std::vector<Pipeline::Stage>{{"canonicalize", "relu-to-abs"}, {"cse"}});
  CHECK(!p.is_exact_only());
  CHECK(p.exact_only().is_exact_only());
  const std::string msg = error_of([] { Pipeline::from_names({"canonicalise"}); });
  CHECK(msg == "optimize: unknown pass 'canonicalise' (the passes are constant-folding, canonicalize, relu-to-abs, cse, "
               "dead-node-removal)");
  CHECK(error_of([] { Pipeline::from_names({"cse+"}); }) ==
        "optimize: an empty pass name in 'cse+' (passes run together are joined by '+')");
  CHECK(error_of([] { Pipeline::from_names({""}); }) ==
        "optimize: an empty pass name in '' (passes run together are joined by '+')");
  std::vector<std::string> names;
  for (const Pass& pass : passes()) names.push_back(pass.name);
  CHECK(names == std::vector<std::string>{"constant-folding", "canonicalize", "relu-to-abs", "cse", "dead-node-removal"});
  for (const Pass& pass : passes()) CHECK(!pass.summary.empty());

  Graph g;
  Expr x = g.input("x", DType::float64, {kSymbolic});
  Expr e = where(x > 0.0, x, 0.1 * x) + 0.0;
  CHECK(optimize({e}, Pipeline::none())[0].is(e));
}

TEST_CASE("strict runs exact rules only; standard adds the documented ones") {
  Graph g;
  Expr x = g.input("x", DType::float64, {kSymbolic}), y = g.input("y", DType::float64, {kSymbolic});
  auto both = [](const Expr& e) {
    return std::pair{optimize({e}, Pipeline::strict())[0], optimize({e}, Pipeline::standard())[0]};
  };
  {  // x + 0.0 changes the sign of a zero: standard only. x + (-0.0) is exact.
    auto [strict, standard] = both(x + 0.0);
    CHECK(strict.is(x + 0.0));
    CHECK(standard.is(x));
    CHECK(both(x + (-0.0)).first.is(x));
  }
  {  // relu-to-abs is not exact; strict still turns the mul into a scale.
    auto [strict, standard] = both(where(x > 0.0, x, 0.1 * x));
    CHECK(strict.is(where(x > 0.0, x, scale(x, 0.1))));
    CHECK(standard.is(relu(x, 0.1)));
  }
  {  // Merging scales rounds once instead of twice, unless the first is a power of two >= 1 and |b| >= 1.
    auto [strict, standard] = both(scale(scale(x, 0.1), 0.3));
    CHECK(strict.is(scale(scale(x, 0.1), 0.3)));
    CHECK(standard.is(scale(x, 0.1 * 0.3)));
    CHECK(both(scale(scale(x, 2.0), 3.0)).first.is(scale(x, 6.0)));
  }
  {  // maximum's operand order decides the sign of a zero on a tie.
    auto [strict, standard] = both(maximum(y, x));
    CHECK(strict.is(maximum(y, x)));
    CHECK(standard.is(maximum(x, y)));
    CHECK(both(y + x).first.is(x + y));
  }
  {  // Never: x * 0 -> 0 or x - x -> 0 (0 * inf and inf - inf are NaN).
    auto [strict, standard] = both(x - x);
    CHECK(standard.is(x - x));
    CHECK(standard.input(0).is(x));
    const Expr times_zero = optimize({x * 0.0})[0];
    CHECK(times_zero.is(scale(x, 0.0)));
  }
}

namespace {

/// Random expression graphs over inputs x and y: arithmetic, selections,
/// relu in many spellings and slopes, and bait for the canonical rules,
/// with shared subexpressions.
class RandomGraph {
 public:
  RandomGraph(std::uint64_t seed, DType dt) : rng_(seed) {
    x = g.input("x", dt, {kSymbolic});
    y = g.input("y", dt, {kSymbolic});
    pool_ = {x, y};
  }

  Expr build(int depth) {
    Expr e = node(depth);
    pool_.push_back(e);
    return e;
  }

  Graph g;
  Expr x, y;

 private:
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  template <class T> const T& pick(const std::vector<T>& v) { return v[static_cast<std::size_t>(pick(static_cast<int>(v.size())))]; }

  Expr leaf() {
    if (pick(4) == 0) return constant_like(x, pick(constants_));
    return pick(pool_);
  }

  Expr sub_expr(int depth) { return depth <= 0 || pick(5) == 0 ? leaf() : build(depth - 1); }

  Expr node(int depth) {
    const Expr a = sub_expr(depth), b = sub_expr(depth);
    const double alpha = pick(alphas_);
    switch (pick(12)) {
      case 0: return pick(std::vector<Expr (*)(const Expr&)>{neg, abs, tanh, exp, sqrt, sign})(a);
      case 1: return scale(a, pick(constants_));
      case 2: return pick(std::vector<Expr (*)(const Expr&, const Expr&)>{add, sub, mul, div, maximum, minimum})(a, b);
      case 3: return a * pick(constants_);
      case 4: {  // relu, in one of its spellings
        switch (pick(7)) {
          case 0: return where(a > 0.0, a, alpha * a);
          case 1: return where(0.0 <= a, a, scale(a, alpha));
          case 2: return where(a < 0.0, a * alpha, a);
          case 3: return maximum(a, alpha * a);
          case 4: return maximum(constant_like(a, 0.0), a);
          case 5: return where(a > 0.0, a, b * a);
          default: return where(a >= 0.0, a, constant_like(a, 0.0));
        }
      }
      case 5: return relu(a, alpha);
      case 6: return where(pick(std::vector<Expr (*)(const Expr&, const Expr&)>{gt, ge, lt, le, eq})(a, b), a, b);
      case 7: return pick(2) ? -(-a) : a + constant_like(a, pick(std::vector<double>{0.0, -0.0}));
      case 8: return scale(scale(a, pick(constants_)), pick(constants_));
      case 9: return pick(2) ? a - (-b) : a + (-b);
      case 10: return where(a > b, a, a);
      default: return pick(pool_);
    }
  }

  std::mt19937_64 rng_;
  std::vector<Expr> pool_;
  const std::vector<double> constants_ = {0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 3.0, 0.1, -0.25, 1e-3, 1e30};
  const std::vector<double> alphas_ = {0.0, 0.1, 0.01, 0.5, -0.5, 3.0, 1e-9, 1.0, 0.3};
};

std::vector<Tensor> random_graph_args(DType dt) {
  const auto [xs, ys] = special_pairs(dt, 300, 11);
  return {tensor(xs, {}, dt), tensor(ys, {}, dt)};
}

}  // namespace

TEST_CASE("120 random graphs: strict is bit for bit, and every standard rewrite keeps its rule's contract") {
  std::map<std::string, int> fired;
  int graphs = 0;
  for (DType dt : {DType::float64, DType::float32}) {
    const std::vector<Tensor> args = random_graph_args(dt);
    for (std::uint64_t seed = 1; seed <= 60; ++seed) {
      CAPTURE(dtype_name(dt));
      CAPTURE(seed);
      RandomGraph r(seed, dt);
      const std::vector<Expr> outs = {r.build(5), r.build(4)};
      ++graphs;

      // Strict: the optimized graph computes the same bits on every input.
      const std::vector<Expr> strict = optimize(outs, Pipeline::strict());
      const auto want = run({r.x, r.y}, outs, args);
      const auto got = run({r.x, r.y}, strict, args);
      for (std::size_t k = 0; k < outs.size(); ++k) {
        CHECK(strict[k].type() == outs[k].type());
        check_same(got[k], want[k]);
      }

      // Standard: each rewrite, evaluated before and after on the same
      // inputs, keeps the contract of the rule that made it.
      RewriteTrace trace;
      const std::vector<Expr> standard = optimize(outs, Pipeline::standard(), &trace);
      for (std::size_t k = 0; k < outs.size(); ++k) CHECK(standard[k].type() == outs[k].type());
      for (const RewriteEvent& ev : trace) {
        CAPTURE(ev.rule);
        const std::string violation = check_rewrite(rule_named(ev.rule), ev.before, ev.after, {r.x, r.y}, args);
        CHECK_MESSAGE(violation.empty(), violation);
        ++fired[ev.rule];
      }
      run({r.x, r.y}, standard, args);  // and it runs
    }
  }
  CHECK(graphs >= 100);
  // The generator exercises the interesting rules.
  for (const char* rule : {"relu-switch", "relu-switch-inverted", "relu-maximum", "relu-maximum-zero", "relu-switch-tensor",
                           "relu-switch-zero", "mul-constant", "scale-scale", "order-operands", "add-zero", "neg-neg",
                           "switch-same", "lt-to-gt", "fold"}) {
    CAPTURE(rule);
    CHECK(fired[rule] > 0);
  }
}

TEST_CASE("compact copies what the outputs reach into a fresh graph") {
  Graph g;
  const Expr x = g.input("x", DType::float64, {kSymbolic});
  const Expr unused = g.input("unused", DType::float64, {});
  const Expr e = where(x > 0.0, x, 0.1 * x) * 2.0 + exp(unused) * 0.0;
  const Expr out = optimize({e})[0];
  CHECK(g.size() > 12);
  const Compacted c = compact({out});
  CHECK(c.graph.size() == reachable_ops({out}).size());
  REQUIRE(c.inputs.size() == 2);
  CHECK(c.inputs[0].name() == "x");
  CHECK(c.inputs[1].name() == "unused");
  CHECK(structurally_equal(c.outputs[0], out));
  const std::vector<Tensor> args = {tensor({-3.0, 0.5, 2.0}), tensor({1.0})};
  check_same(run(c.inputs, c.outputs, args)[0], run({x, unused}, {out}, args)[0]);
  CHECK(compact({}).outputs.empty());
}

TEST_CASE("optimizing is deterministic: the same program gives the same graph, id for id") {
  auto program = [] {
    Graph g;
    const Expr x = g.input("x", DType::float32, {kSymbolic}), y = g.input("y", DType::float32, {kSymbolic});
    const Expr e = maximum(y * x, 0.25 * (x * y)) + where(x < 0.0, 0.3 * x, x) - (-y) * 1.0;
    return optimize({e, e * 2.0});
  };
  const auto a = program(), b = program();
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].id() == b[i].id());
    CHECK(structurally_equal(a[i], b[i]));
  }
}

TEST_CASE("differentiate, then optimize: the optimized gradient keeps the switch's slope at the kink") {
  for (DType dt : {DType::float64, DType::float32}) {
    CAPTURE(dtype_name(dt));
    Graph g;
    const Expr x = g.input("x", dt, {kSymbolic});
    const Expr y = where(x > 0.0, x, 0.1 * x);
    const Expr dx = grad(sum(y), {x})[0];
    // The gradient graph uses the forward switch (for its shape), and the
    // optimizer rewrites it there too; the slope does not depend on it.
    const Expr optimized_dx = optimize({dx})[0];
    const Tensor xs = tensor({0.0, -0.0, -2.0, 3.0}, {}, dt);
    const double tenth = round_to(dt, 0.1);
    // The switch selects 0.1 * x at x = 0: slope 0.1, before and after optimizing.
    check_same(run({x}, {optimized_dx}, {xs})[0], tensor({tenth, tenth, tenth, 1.0}, {}, dt));
    check_same(run({x}, {dx}, {xs})[0], tensor({tenth, tenth, tenth, 1.0}, {}, dt));
    // Optimizing first would differentiate the abs form 0.55 x + 0.45 |x|,
    // whose slope at 0 is 0.55 + 0.45 sign(0) = 0.55.
    const Expr relu_form = optimize({y})[0];
    REQUIRE(relu_form.is(relu(x, tenth)));
    const Tensor kink = run({x}, {grad(sum(relu_form), {x})[0]}, {tensor({0.0}, {1}, dt)})[0];
    CHECK(kink.at(0) == doctest::Approx(0.55).epsilon(1e-6));
  }
}

TEST_CASE("symbolic shapes: shape-preserving ops prove sum_to and broadcast_to no-ops, and only those") {
  for (DType dt : {DType::float64, DType::float32}) {
    CAPTURE(dtype_name(dt));
    Graph g;
    const Expr x = g.input("x", dt, {kSymbolic});
    const Expr z = g.input("z", dt, {kSymbolic});
    // Same source: x, |x| * 0.45 and x + |x| all have x's length.
    CHECK(same_runtime_shape(x, scale(abs(x), 0.45)));
    CHECK(same_runtime_shape(abs(x) + x, exp(x)));
    CHECK(same_runtime_shape(x * constant_like(x, 2.0), x));
    CHECK(same_runtime_shape(sum_to(z, x), x));
    // Different inputs of type [?] may differ (one may be 1 and broadcast).
    CHECK_FALSE(same_runtime_shape(x, z));
    CHECK_FALSE(same_runtime_shape(x + z, x));
    CHECK(same_runtime_shape(x + z, abs(x + z) * (x + z)));

    // The gradient of sum(leaky relu) becomes f1 + f2 * sign(x): one scale,
    // one sign, one add; no sum_to, no broadcast_to.
    const Expr cost = sum(relu(x, 0.1));
    const Expr dx = grad(cost, {x})[0];
    const Expr opt = optimize({dx})[0];
    const std::vector<std::string> ops = reachable_ops({opt});
    CHECK(std::count(ops.begin(), ops.end(), "sum_to") == 0);
    CHECK(std::count(ops.begin(), ops.end(), "broadcast_to") == 0);
    CHECK(ops.size() <= 5);  // x, sign, scale, a constant, add
    const Tensor xs = tensor({-2.0, -0.0, 0.0, 3.0, inf, -inf, NaN}, {}, dt);
    check_same(run({x}, {opt}, {xs})[0], run({x}, {dx}, {xs})[0]);
    check_same(compile({x}, {dx})({xs})[0], run({x}, {dx}, {xs})[0]);

    // x + z with z of length 1 at run time: the sum_to that folds z's
    // gradient back to length 1 must stay.
    const Expr dz = optimize({grad(sum(x + z), {z})[0]})[0];
    const std::vector<std::string> zops = reachable_ops({dz});
    CHECK(std::count(zops.begin(), zops.end(), "sum_to") == 1);
    const Tensor four = tensor({1.0, 2.0, 3.0, 4.0}, {}, dt), one = tensor({5.0}, {1}, dt);
    check_same(run({x, z}, {dz}, {four, one})[0], tensor({4.0}, {1}, dt));
    check_same(compile({x, z}, {dz})({four, one})[0], tensor({4.0}, {1}, dt));
  }
}

TEST_CASE("constant folding stays within fixed bounds: 4096 elements, 65,536 work, whatever the shapes") {
  Graph g;
  auto folded = [](const Expr& e) { return optimize({e}, Pipeline::from_names({"constant-folding"}))[0].op_name() == "constant"; };
  auto filled = [&](Shape shape) { return g.constant(Tensor(DType::float64, std::move(shape))); };
  // Up to 1024 elements from anything; beyond, no more than the largest
  // operand, and never more than 4096.
  CHECK(folded(filled({1, 32}) + filled({32, 1})));
  CHECK(!folded(filled({1, 33}) + filled({32, 1})));
  CHECK(folded(neg(filled({4096}))));
  CHECK(!folded(neg(filled({4097}))));
  CHECK(folded(broadcast_to(g.constant(1.0), filled({4096}))));
  CHECK(!folded(broadcast_to(g.constant(1.0), filled({4097}))));
  // Work (Op::work): a sum reads its operand, a matmul adds m*k*n.
  CHECK(folded(sum(filled({65535}))));
  CHECK(!folded(sum(filled({65536}))));
  const Expr a32 = g.constant(Tensor(DType::float64, {32, 32}));
  CHECK(folded(matmul(a32, a32)));  // 3 * 1024 + 32 * 32 * 32 = 35,840
  const Expr a40 = g.constant(Tensor(DType::float64, {40, 40}));
  CHECK(!folded(matmul(a40, a40)));  // 3 * 1600 + 40 * 40 * 40 = 68,800
  // Empty operands, huge results: never folded, nothing allocated.
  const Expr wide = g.constant(Tensor(DType::float64, {20000, 0})), tall = g.constant(Tensor(DType::float64, {0, 20000}));
  CHECK(!folded(matmul(wide, tall)));
  const std::int64_t huge = std::int64_t{1} << 32;  // 2^64 elements: saturated, not overflowed
  CHECK(!folded(matmul(g.constant(Tensor(DType::float64, {huge, 0})), g.constant(Tensor(DType::float64, {0, huge})))));
}

TEST_CASE("constant folding stays within a total budget per optimize() run") {
  // A chain c + k + k + ... of 4096-element constants: each fold is small,
  // but all 2000 together would make 8,192,000 elements (and keep them all
  // in the graph). One run folds kFoldBudgetElements of them, the rest stay.
  Graph g;
  const std::int64_t n = 4096;
  Tensor k(DType::float64, {n});
  for (std::int64_t i = 0; i < n; ++i) k.data<double>()[i] = 1.0;
  const Expr kc = g.constant(k);
  const Expr x = g.input("x", DType::float64, {n});
  Expr chain = kc;
  const int links = 2000;
  for (int i = 0; i < links; ++i) chain = chain + kc;
  const Expr out = optimize({chain + x}, Pipeline::from_names({"constant-folding"}))[0];
  // The folds made: constants of the graph beyond the one built by hand.
  const std::size_t store_nodes = out.graph()->size();
  std::size_t constants = 0;
  for (std::size_t id = 0; id < store_nodes; ++id)
    constants += out.graph()->node(static_cast<NodeId>(id)).op->name() == "constant";
  CHECK(constants - 1 == rules::kFoldBudgetElements / static_cast<std::uint64_t>(n));  // 1024 folds
  // Still the same function: x + 2001 everywhere.
  const Tensor arg = Tensor(DType::float64, {n});
  const Tensor got = compile_reference({x}, {out})({arg})[0];
  CHECK(got.at(0) == 2001.0);
  CHECK(got.at(n - 1) == 2001.0);
  // Each run has its own budget: the next run folds further.
  const Expr again = optimize({out}, Pipeline::from_names({"constant-folding"}))[0];
  CHECK(compile_reference({x}, {again})({arg})[0].at(0) == 2001.0);
}
