// The rewrite engine: fixed points, the trace, users rebuilt once, CSE
// through hash-consing, the caller's graph untouched, and every way a rule
// set can go wrong reported as an Error.
#include "optimizer_support.hpp"

using namespace sgtest;
using pattern::Num;
using pattern::Var;

namespace {

const Var x{"x"}, y{"y"};
const Num a{"a"}, b{"b"};

std::vector<Rule> neg_neg() {
  using namespace pattern;
  return {{"neg-neg", -(-x), x, Contract::exact}};
}

}  // namespace

TEST_CASE("a rule that enables another up the graph reaches the fixed point in one run") {
  using namespace pattern;
  const std::vector<Rule> rules = {
      {"mul-constant", x * a, [](const Match& m) { return scale(m[x], m[a]); }, Contract::exact},
      {"scale-scale", scale(scale(x, a), b), [](const Match& m) { return scale(m[x], m[a] * m[b]); }, Contract::exact},
  };
  Graph g;
  Expr u = g.input("u", DType::float64, {kSymbolic});
  Expr e = u;
  for (int i = 0; i < 6; ++i) e = e * 2.0;
  RewriteTrace trace;
  const Expr out = rewrite({e}, rules, "test", &trace)[0];
  CHECK(out.is(scale(u, 64.0)));
  // The first mul becomes a scale; every later one, rebuilt on the scale
  // below it, becomes a scale of a scale, which the second rule merges.
  REQUIRE(trace.size() == 11);
  CHECK(trace[0].rule == "mul-constant");
  for (std::size_t i = 1; i < trace.size(); i += 2) {
    CHECK(trace[i].rule == "mul-constant");
    CHECK(trace[i + 1].rule == "scale-scale");
    CHECK(trace[i + 1].before.is(trace[i].after));
  }
  CHECK(trace.back().after.is(out));
}

TEST_CASE("forwarding and hash-consing finish what one rewrite starts") {
  Graph g;
  Expr u = g.input("u", DType::float64, {kSymbolic});
  Expr e = u;
  for (int i = 0; i < 6; ++i) e = neg(e);  // -(-(-(-(-(-u)))))
  RewriteTrace trace;
  const Expr out = rewrite({e}, neg_neg(), "test", &trace)[0];
  CHECK(out.is(u));
  // neg(neg(u)) -> u fires once: the third neg, rebuilt on u, is the first
  // neg again (hash-consing), and the fourth is the second, forwarded to u.
  REQUIRE(trace.size() == 1);
  CHECK(trace[0].pass == "test");
  CHECK(trace[0].rule == "neg-neg");
  CHECK(trace[0].before.is(neg(neg(u))));
  CHECK(trace[0].after.is(u));
}

TEST_CASE("the trace records rule, pass, node before and node after, in order") {
  Graph g;
  Expr xv = g.input("x", DType::float64, {kSymbolic});
  Expr s = where(xv > 0.0, xv, 0.1 * xv);
  RewriteTrace trace;
  const Expr out = optimize({s}, Pipeline::standard(), &trace)[0];
  REQUIRE(trace.size() == 2);
  CHECK(trace[0].pass == "canonicalize");
  CHECK(trace[0].rule == "mul-constant");
  CHECK(trace[0].before.is(0.1 * xv));
  CHECK(trace[0].after.is(scale(xv, 0.1)));
  CHECK(trace[1].pass == "relu-to-abs");
  CHECK(trace[1].rule == "relu-switch");
  CHECK(trace[1].before.is(where(xv > 0.0, xv, scale(xv, 0.1))));
  CHECK(trace[1].after.is(out));
  CHECK(out.is(relu(xv, 0.1)));
}

TEST_CASE("a rewrite rebuilds each user of what changed once, and nothing else") {
  Graph g;
  Expr u = g.input("u", DType::float64, {kSymbolic});
  Expr e = neg(neg(u));
  Expr side = exp(u);  // reachable, but nothing under it changes
  for (int i = 0; i < 1000; ++i) e = tanh(e) + side;
  const std::size_t before = g.size();
  const Expr out = rewrite({e}, neg_neg(), "test")[0];
  // 2000 rebuilt users (each tanh and add on the chain), no other node.
  CHECK(g.size() - before == 2000);
  Expr want = u;
  for (int i = 0; i < 1000; ++i) want = tanh(want) + side;
  CHECK(out.is(want));
}

TEST_CASE("canonical operand order lets hash-consing unify x * y and y * x and all above them") {
  Graph g;
  Expr u = g.input("u", DType::float64, {3}), v = g.input("v", DType::float64, {3});
  Expr e = exp(u * v) + exp(v * u);
  RewriteTrace trace;
  const Expr out = optimize({e}, Pipeline::from_names({"cse"}), &trace)[0];
  CHECK(out.is(exp(u * v) + exp(u * v)));
  REQUIRE(trace.size() == 1);
  CHECK(trace[0].rule == "order-operands");
  CHECK(trace[0].before.is(v * u));
}

TEST_CASE("rewriting adds nodes; the caller's expressions and values do not change") {
  Graph g;
  Expr xv = g.input("x", DType::float64, {4});
  Expr s = where(xv > 0.0, xv, 0.1 * xv) + (xv * 1.0);
  const std::vector<NodeId> inputs = s.node().inputs;
  const auto before = run({xv}, {s}, {tensor({-2, -0.0, 0.5, 3})});
  const Expr out = optimize({s})[0];
  CHECK(!out.is(s));
  CHECK(s.op_name() == "add");
  CHECK(s.node().inputs == inputs);
  CHECK(s.input(0).op_name() == "switch");
  check_same(run({xv}, {s}, {tensor({-2, -0.0, 0.5, 3})})[0], before[0]);
  // The result compiles with the caller's input expression.
  CHECK(run({xv}, {out}, {tensor({1, 2, 3, 4})})[0].at(3) == 8.0);
}

TEST_CASE("only what the outputs reach is rewritten") {
  Graph g;
  Expr u = g.input("u", DType::float64, {kSymbolic});
  Expr dead = neg(neg(u)) * 2.0;  // never an output
  Expr live = tanh(u);
  RewriteTrace trace;
  CHECK(optimize({live}, Pipeline::standard(), &trace)[0].is(live));
  CHECK(trace.empty());
  (void)dead;
}

TEST_CASE("a replacement may be a node that exists already, even one no output reaches") {
  Graph g;
  Expr xv = g.input("x", DType::float64, {kSymbolic});
  const Expr existing = relu(xv, 0.1);  // built by the user, unused
  const Expr s = where(xv > 0.0, xv, scale(xv, 0.1));
  const std::size_t size = g.size();
  const Expr out = optimize({s})[0];
  CHECK(out.is(existing));
  CHECK(g.size() == size);  // relu-to-abs built nothing new
}

TEST_CASE("a rule that would change a dtype or shape is an error, never skipped") {
  using namespace pattern;
  Graph g;
  Expr u = g.input("u", DType::float64, {3});
  Expr s = g.input("s", DType::float64, {});
  const std::vector<Rule> bad = {{"drop-left", x + y, y, Contract::exact}};
  const std::string msg = error_of([&] { rewrite({u + s}, bad, "test"); });
  CHECK(msg.find("rewrite rule 'drop-left' (pass test) on add #") != std::string::npos);
  CHECK(msg.find("would change its type from float64[3] to float64[]") != std::string::npos);
}

TEST_CASE("a rule that fails, builds in its condition, or leaves the graph elsewhere is an error") {
  using namespace pattern;
  Graph g;
  Expr u = g.input("u", DType::float64, {3});
  const std::vector<Rule> throws = {{"throws", -x, [](const Match& m) { return m[x] + Graph().constant(1.0); },
                                     Contract::exact}};
  CHECK(error_of([&] { rewrite({-u}, throws, "test"); }).find("rewrite rule 'throws' (pass test) on neg #") !=
        std::string::npos);
  CHECK(error_of([&] { rewrite({-u}, throws, "test"); }).find("failed: add: operands belong to different graphs") !=
        std::string::npos);
  const std::vector<Rule> builds = {{"builds", -x, x, Contract::exact, [](const Match& m) { return exp(m[x]).valid(); }}};
  CHECK(error_of([&] { rewrite({-u}, builds, "test"); }).find("its condition built nodes") != std::string::npos);
  Graph other;
  const std::vector<Rule> elsewhere = {{"elsewhere", -x, [&](const Match&) { return other.input("o", DType::float64, {3}); },
                                        Contract::exact}};
  CHECK(error_of([&] { rewrite({-u}, elsewhere, "test"); }).find("returned an expression of another graph") !=
        std::string::npos);
}

TEST_CASE("rules that cycle are detected and reported") {
  using namespace pattern;
  Graph g;
  Expr u = g.input("u", DType::float64, {3}), v = g.input("v", DType::float64, {3});
  // Swapping operands unconditionally: u + v -> v + u -> u + v.
  const std::vector<Rule> swap = {{"swap", x + y, [](const Match& m) { return m[y] + m[x]; }, Contract::exact}};
  const std::string msg = error_of([&] { rewrite({u + v}, swap, "test"); });
  CHECK(msg.find("the rules cycle: add #") != std::string::npos);
  CHECK(msg.find("-> [swap] add #") != std::string::npos);
  // A rule that returns the node it matched makes no progress: also a cycle.
  const std::vector<Rule> same = {{"same", x + y, [](const Match& m) { return m.root(); }, Contract::exact}};
  CHECK(error_of([&] { rewrite({u + v}, same, "test"); }).find("the rules cycle") != std::string::npos);
  // Two rules that undo each other through new nodes.
  const std::vector<Rule> undo = {
      {"to-scale", x * a, [](const Match& m) { return scale(m[x], m[a]); }, Contract::exact},
      {"to-mul", scale(x, a), [](const Match& m) { return m[x] * m[a]; }, Contract::exact},
  };
  CHECK(error_of([&] { rewrite({u * 3.0}, undo, "test"); }).find("the rules cycle") != std::string::npos);
  // A result that contains the node it replaces would grow forever.
  const std::vector<Rule> wrap = {{"wrap", -x, [](const Match& m) { return -(-(-m[x])); }, Contract::exact}};
  CHECK(error_of([&] { rewrite({-u}, wrap, "test"); }).find("contains the node it replaces") != std::string::npos);
  // A rule that keeps matching its own, ever new, results: the limit stops it.
  const std::vector<Rule> grow = {
      {"grow", scale(x, a), [](const Match& m) { return scale(m[x] + m[x], m[a] + 1.0); }, Contract::exact}};
  const std::string g_msg = error_of([&] { rewrite({scale(u, 1.0)}, grow, "test"); });
  CHECK(g_msg.find("no fixed point after") != std::string::npos);
  CHECK(g_msg.find("'grow' (") != std::string::npos);
}

TEST_CASE("rewrite and optimize: empty outputs, outputs of two graphs") {
  CHECK(optimize({}).empty());
  CHECK(rewrite({}, neg_neg()).empty());
  Graph g1, g2;
  Expr u = g1.input("u"), v = g2.input("v");
  CHECK(error_of([&] { optimize({u, v}); }).find("different graphs") != std::string::npos);
  CHECK(error_of([&] { rewrite({u, v}, neg_neg()); }).find("one graph") != std::string::npos);
  CHECK(error_of([&] { optimize({Expr()}); }).find("empty") != std::string::npos);
}

TEST_CASE("several outputs share their rewritten parts") {
  Graph g;
  Expr u = g.input("u", DType::float64, {kSymbolic});
  Expr r = where(u > 0.0, u, 0.2 * u);
  const auto out = optimize({r, r + 1.0, -(-u)});
  CHECK(out[0].is(relu(u, 0.2)));
  CHECK(out[1].op_name() == "add");
  CHECK((out[1].input(0).is(out[0]) || out[1].input(1).is(out[0])));
  CHECK(out[2].is(u));
}

namespace {

/// A user op, defined outside the library: y = x * x.  dy/dx = 2x.
struct Square final : ElementwiseOp {
  Square() : ElementwiseOp("test_square", 1, 1) {}
  void compute(std::span<const Tensor* const> in, const Attrs&, Tensor& out) const override {
    dispatch_float(out.dtype(), name(), [&]<class T>() {
      elementwise_kernel<T, T>(out, {in[0]}, [](auto& o, const auto& v) { o = v * v; });
    });
  }

 protected:
  std::vector<std::optional<Expr>> partials(const Expr& y, const Expr& g) const override {
    return {g * scale(y.input(0), 2.0)};
  }
};

/// A commutative user op: y = a * a + b * b.
struct SumOfSquares final : ElementwiseOp {
  SumOfSquares() : ElementwiseOp("test_sum_of_squares", 2, 2) {}
  bool commutative() const override { return true; }
  void compute(std::span<const Tensor* const> in, const Attrs&, Tensor& out) const override {
    dispatch_float(out.dtype(), name(), [&]<class T>() {
      elementwise_kernel<T, T, T>(out, {in[0], in[1]}, [](auto& o, const auto& a, const auto& b) { o = a * a + b * b; });
    });
  }

 protected:
  std::vector<std::optional<Expr>> partials(const Expr& y, const Expr& g) const override {
    return {g * scale(y.input(0), 2.0), g * scale(y.input(1), 2.0)};
  }
};

const RegisterOp<Square> square_op;
const RegisterOp<SumOfSquares> sum_of_squares_op;

}  // namespace

TEST_CASE("user ops take part in rewriting: their own rules, folding with their kernel, commutative matching") {
  using namespace pattern;
  Graph g;
  const Expr u = g.input("u", DType::float64, {3}), v = g.input("v", DType::float64, {3});
  // A rule for a user op, matched by name.
  const std::vector<Rule> mine = {
      // square(-x) -> square(x)                 (-x)^2 is x^2, bit for bit
      {"square-neg", op("test_square", {-x}), [](const Match& m) { return apply("test_square", {m[x]}); },
       Contract::exact},
  };
  const Expr sq = apply("test_square", {-u});
  CHECK(rewrite({sq}, mine, "mine")[0].is(apply("test_square", {u})));
  // Constant folding runs the user op's kernel.
  const Expr folded = optimize({apply("test_square", {g.constant(tensor({-3.0, 0.5}))})})[0];
  REQUIRE(folded.op_name() == "constant");
  check_same(folded.attrs().get<Tensor>("value"), tensor({9.0, 0.25}));
  // A commutative user op matches in both orders and gets one operand order.
  const Rule same_operands("same", op("test_sum_of_squares", {x, -x}), x, Contract::exact);
  CHECK(same_operands.match(apply("test_sum_of_squares", {-u, u})));
  const Expr swapped = apply("test_sum_of_squares", {v, u});
  CHECK(optimize({swapped})[0].is(apply("test_sum_of_squares", {u, v})));
}

TEST_CASE("CSE identifies constants by dtype and bits: +0 and -0 differ, NaNs are one") {
  Graph g;
  const Expr u = g.input("u", DType::float64, {3});
  const auto out = optimize({u * g.constant(0.0), u * g.constant(-0.0), u + g.constant(NaN), u + g.constant(-NaN)});
  CHECK(out[0].is(scale(u, 0.0)));
  CHECK(out[1].is(scale(u, -0.0)));
  CHECK(!out[0].is(out[1]));
  CHECK(out[2].is(out[3]));
  CHECK(!g.constant(0.5, DType::float32).is(g.constant(0.5, DType::float64)));
}

TEST_CASE("rewriting a graph again reuses the earlier results: no new nodes, no new work") {
  // Once optimized, the store holds every node the rules build for this
  // graph. Optimizing the same outputs again (compile() after optimize()
  // does) must find them. It once re-anchored them behind the users of the
  // nodes they replace, and rebuilt those users over and over: 330,000 new
  // nodes for these 2,000 levels, quadratic in the depth.
  Graph g;
  const Expr x = g.input("x", DType::float64, {kSymbolic});
  Expr y = x;
  for (int level = 0; level < 2000; ++level) {
    const Expr t = tanh(y) + x;
    y = -where(t > 0.0, t, 0.1 * t);
  }
  const std::vector<Expr> outs = {y, grad(sum(y), {x})[0]};
  const std::vector<Expr> once = optimize(outs);
  const std::size_t size = g.size();
  for (const auto& again : {optimize(outs), optimize(once)}) {
    CHECK(g.size() == size);
    REQUIRE(again.size() == 2);
    CHECK(again[0].is(once[0]));
    CHECK(again[1].is(once[1]));
  }
}
