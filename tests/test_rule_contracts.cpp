// Every rule against its stated contract (graph/rewrite.hpp,
// docs/optimizer.md): each row builds a graph the rule rewrites at its root,
// the rule runs alone, and the graphs before and after are evaluated with
// the reference evaluator on every pair of special values (±0, ±inf, NaN,
// subnormals, the smallest normal, values near the max) and on random
// values over the whole exponent range, in float32 and float64. The checker
// of the rule's contract (tests/optimizer_support.hpp) then compares them
// element by element. A last case proves that every rule of every pass has
// been checked in both dtypes, and that docs/optimizer.md lists it.
#include <filesystem>
#include <fstream>
#include <set>

#include "optimizer_support.hpp"

using namespace sgtest;

namespace {

struct In {
  Expr x, y;  // float inputs of shape [n]
  Expr c;     // a bool input of shape [n]
  DType dt;
  std::vector<double> xs, ys;  // their values
};

struct Row {
  std::string rule;
  std::string what;
  std::function<Expr(const In&)> before;
};

Expr num(const In& in, double v) { return constant_like(in.x, v); }

/// A constant holding `values` in the inputs' dtype.
Expr constant_of(const In& in, const std::vector<double>& values) {
  return graph_of(in.x).constant(tensor(values, {static_cast<std::int64_t>(values.size())}, in.dt));
}

std::vector<Row> rows() {
  std::vector<Row> r;
  auto row = [&](std::string rule, std::string what, std::function<Expr(const In&)> f) {
    r.push_back({std::move(rule), std::move(what), std::move(f)});
  };
  auto fmt = [](double v) {
    std::ostringstream s;
    s << v;
    return s.str();
  };

  // constant-folding: ops on constants holding the special-value grid.
  using Bin = Expr (*)(const Expr&, const Expr&);
  using Un = Expr (*)(const Expr&);
  for (auto [name, op] : std::vector<std::pair<const char*, Bin>>{
           {"add", symgraph::add}, {"sub", sub}, {"mul", mul}, {"div", div}, {"maximum", maximum}, {"minimum", minimum}, {"gt", gt}})
    row("fold", std::string(name) + "(c1, c2)", [f = op](const In& in) { return f(constant_of(in, in.xs), constant_of(in, in.ys)); });
  for (auto [name, op] : std::vector<std::pair<const char*, Un>>{
           {"neg", neg}, {"abs", abs}, {"exp", exp}, {"sqrt", sqrt}, {"tanh", tanh}, {"sign", sign}})
    row("fold", std::string(name) + "(c)", [f = op](const In& in) { return f(constant_of(in, in.xs)); });
  row("fold", "scale(c, 0.1)", [](const In& in) { return scale(constant_of(in, in.xs), 0.1); });
  row("fold", "switch(c, c1, c2)", [](const In& in) {
    std::vector<double> c(in.xs.size());
    for (std::size_t i = 0; i < c.size(); ++i) c[i] = i % 3 == 0;
    const Expr cond = graph_of(in.x).constant(booleans(c, {static_cast<std::int64_t>(c.size())}));
    return where(cond, constant_of(in, in.xs), constant_of(in, in.ys));
  });

  // canonicalize: neutral elements, in both operand orders.
  row("add-neg-zero", "x + -0", [](const In& in) { return in.x + num(in, -0.0); });
  row("add-neg-zero", "-0 + x", [](const In& in) { return num(in, -0.0) + in.x; });
  row("add-zero", "x + 0", [](const In& in) { return in.x + num(in, 0.0); });
  row("add-zero", "0 + x", [](const In& in) { return num(in, 0.0) + in.x; });
  row("sub-zero", "x - 0", [](const In& in) { return in.x - num(in, 0.0); });
  row("sub-neg-zero", "x - -0", [](const In& in) { return in.x - num(in, -0.0); });
  row("mul-one", "x * 1", [](const In& in) { return in.x * num(in, 1.0); });
  row("mul-one", "1 * x", [](const In& in) { return num(in, 1.0) * in.x; });
  row("div-one", "x / 1", [](const In& in) { return in.x / num(in, 1.0); });
  row("scale-one", "scale(x, 1)", [](const In& in) { return scale(in.x, 1.0); });
  row("add-zero", "x + [0, 0, ...]", [](const In& in) {
    return in.x + constant_of(in, std::vector<double>(in.xs.size(), 0.0));
  });

  // Multiplication by constants.
  for (double v : {0.1, -2.0, 0.0, -0.0, 3.0, 1e-30, -1e30, inf, -inf, NaN, 5e-324}) {
    row("mul-constant", "x * " + fmt(v), [v](const In& in) { return in.x * num(in, v); });
    row("mul-constant", fmt(v) + " * x", [v](const In& in) { return num(in, v) * in.x; });
  }
  for (double v : {2.0, 0.5, -4.0, 0x1p-126, 0x1p100, -0x1p-60})
    row("div-power-of-two", "x / " + fmt(v), [v](const In& in) { return in.x / num(in, v); });
  for (auto [a, b] : std::vector<std::pair<double, double>>{{2, 3}, {4, -1.5}, {-8, 1.1}, {1, 7.3}, {0x1p40, 0x1p60}})
    row("scale-scale-exact", "scale(scale(x, " + fmt(a) + "), " + fmt(b) + ")",
        [a = a, b = b](const In& in) { return scale(scale(in.x, a), b); });
  for (auto [a, b] : std::vector<std::pair<double, double>>{
           {0.1, 0.3}, {3, 1.0 / 3}, {1e-20, 1e20}, {2.5, 1e-30}, {0.7, -1.3}, {1e30, 1e-30}, {1e-30, 3}, {0.5, 2}})
    row("scale-scale", "scale(scale(x, " + fmt(a) + "), " + fmt(b) + ")",
        [a = a, b = b](const In& in) { return scale(scale(in.x, a), b); });

  // Signs and comparisons.
  row("neg-neg", "-(-x)", [](const In& in) { return -(-in.x); });
  for (double a : {0.1, -3.0, 0.0, -0.0})
    row("neg-scale", "-scale(x, " + fmt(a) + ")", [a](const In& in) { return -scale(in.x, a); });
  for (double a : {0.1, -3.0, 0.0})
    row("scale-neg", "scale(-x, " + fmt(a) + ")", [a](const In& in) { return scale(-in.x, a); });
  row("add-neg", "x + -y", [](const In& in) { return in.x + (-in.y); });
  row("add-neg", "-y + x", [](const In& in) { return (-in.y) + in.x; });
  row("sub-neg", "x - -y", [](const In& in) { return in.x - (-in.y); });
  row("abs-neg", "|-x|", [](const In& in) { return abs(-in.x); });
  row("abs-abs", "||x||", [](const In& in) { return abs(abs(in.x)); });
  row("lt-to-gt", "x < y", [](const In& in) { return in.x < in.y; });
  row("le-to-ge", "x <= y", [](const In& in) { return in.x <= in.y; });

  // Selections and shape ops.
  row("maximum-same", "maximum(x, x)", [](const In& in) { return maximum(in.x, in.x); });
  row("minimum-same", "minimum(x, x)", [](const In& in) { return minimum(in.x, in.x); });
  row("switch-same", "switch(c, x, x)", [](const In& in) { return where(in.c, in.x, in.x); });
  row("broadcast-noop", "broadcast_to(x, y)", [](const In& in) { return broadcast_to(in.x, in.y); });
  row("broadcast-noop", "broadcast_to(x, 0-d)", [](const In& in) { return broadcast_to(in.x, num(in, 2.0)); });
  row("sum-to-noop", "sum_to(x, y)", [](const In& in) { return sum_to(in.x, in.y); });
  // An operand broadcast_to(k, y) whose y fits the other operand: k is a
  // one-element constant or has the full shape itself.
  auto half = [](const In& in) { return constant_of(in, {0.5}); };
  row("broadcast-operand", "x * broadcast_to([0.5], y)", [half](const In& in) { return in.x * broadcast_to(half(in), in.y); });
  row("broadcast-operand", "broadcast_to([0.5], y) - x", [half](const In& in) { return broadcast_to(half(in), in.y) - in.x; });
  row("broadcast-operand", "x / broadcast_to(y, x)", [](const In& in) { return in.x / broadcast_to(in.y, in.x); });
  row("broadcast-operand", "broadcast_to(y, x) >= x", [](const In& in) { return broadcast_to(in.y, in.x) >= in.x; });
  row("broadcast-operand", "maximum(broadcast_to([-0], y), x)",
      [](const In& in) { return maximum(broadcast_to(constant_of(in, {-0.0}), in.y), in.x); });
  row("broadcast-operand", "switch(c, x, broadcast_to([0.5], y))",
      [half](const In& in) { return where(in.c, in.x, broadcast_to(half(in), in.y)); });
  row("broadcast-operand", "switch(c, broadcast_to(y, x), x)",
      [](const In& in) { return where(in.c, broadcast_to(in.y, in.x), in.x); });
  row("unary-broadcast", "exp(broadcast_to(x, y))", [](const In& in) { return exp(broadcast_to(in.x, in.y)); });
  row("unary-broadcast", "scale(broadcast_to(x, y), 0.1)", [](const In& in) { return scale(broadcast_to(in.x, in.y), 0.1); });
  row("unary-broadcast", "-broadcast_to([-0], y)", [](const In& in) { return -broadcast_to(constant_of(in, {-0.0}), in.y); });
  row("unary-broadcast", "sign(broadcast_to(x, y))", [](const In& in) { return sign(broadcast_to(in.x, in.y)); });
  row("unary-broadcast", "sqrt(broadcast_to(x, y))", [](const In& in) { return sqrt(broadcast_to(in.x, in.y)); });
  row("sum-no-axes", "sum(x, axes=[])", [](const In& in) { return sum(in.x, {}); });
  row("cast-same", "cast(x, its dtype)", [](const In& in) { return cast(in.x, in.dt); });
  row("reshape-same", "reshape(x, its shape)", [](const In& in) { return reshape(in.x, in.x.shape()); });
  row("transpose-transpose", "transpose(transpose(m))", [](const In& in) {
    return transpose(transpose(reshape(in.x, {in.x.shape()[0] / 2, 2})));
  });

  // cse: one order of commutative operands (x is declared before y).
  row("order-operands", "add(y, x)", [](const In& in) { return add(in.y, in.x); });
  row("order-operands", "mul(y, x)", [](const In& in) { return mul(in.y, in.x); });
  row("order-operands", "eq(y, x)", [](const In& in) { return eq(in.y, in.x); });
  row("order-operands-minmax", "maximum(y, x)", [](const In& in) { return maximum(in.y, in.x); });
  row("order-operands-minmax", "minimum(y, x)", [](const In& in) { return minimum(in.y, in.x); });

  // relu-to-abs: every spelling, many slopes (rows whose slope the guard
  // rejects are checked to leave the graph alone).
  const std::vector<double> alphas = {0.1, 0.01, 0.3, 0.5, 0.9, -0.5, -0.1, 2.0, 3.0, 10.0, -3.0, 1e3, 1e-3, 0.0,
                                      -0.0, 1e-5, 1e-9, 1.0, -1.0, 0.999};
  for (double a : alphas) {
    const std::string s = fmt(a);
    row("relu-switch", "switch(x > 0, x, " + s + " * x)", [a](const In& in) { return where(in.x > 0.0, in.x, a * in.x); });
    row("relu-switch", "switch(0 < x, x, x * " + s + ")", [a](const In& in) { return where(0.0 < in.x, in.x, in.x * a); });
    row("relu-switch", "switch(x >= 0, x, scale(x, " + s + "))",
        [a](const In& in) { return where(in.x >= 0.0, in.x, scale(in.x, a)); });
    row("relu-switch", "switch(0 <= x, x, " + s + " * x)", [a](const In& in) { return where(0.0 <= in.x, in.x, a * in.x); });
    row("relu-switch-inverted", "switch(x < 0, " + s + " * x, x)",
        [a](const In& in) { return where(in.x < 0.0, a * in.x, in.x); });
    row("relu-switch-inverted", "switch(0 > x, scale(x, " + s + "), x)",
        [a](const In& in) { return where(0.0 > in.x, scale(in.x, a), in.x); });
    row("relu-switch-inverted", "switch(x <= 0, x * " + s + ", x)",
        [a](const In& in) { return where(in.x <= 0.0, in.x * a, in.x); });
    row("relu-switch-inverted", "switch(0 >= x, " + s + " * x, x)",
        [a](const In& in) { return where(0.0 >= in.x, a * in.x, in.x); });
    row("relu-maximum", "maximum(x, " + s + " * x)", [a](const In& in) { return maximum(in.x, a * in.x); });
    row("relu-maximum", "maximum(scale(x, " + s + "), x)", [a](const In& in) { return maximum(scale(in.x, a), in.x); });
  }
  row("relu-switch-zero", "switch(x > 0, x, 0)", [](const In& in) { return where(in.x > 0.0, in.x, num(in, 0.0)); });
  row("relu-switch-zero", "switch(x >= 0, x, -0.0)", [](const In& in) { return where(in.x >= 0.0, in.x, num(in, -0.0)); });
  row("relu-switch-zero-inverted", "switch(x < 0, 0, x)", [](const In& in) { return where(in.x < 0.0, num(in, 0.0), in.x); });
  row("relu-switch-zero-inverted", "switch(0 >= x, 0, x)", [](const In& in) { return where(0.0 >= in.x, num(in, 0.0), in.x); });
  row("relu-maximum-zero", "maximum(x, 0)", [](const In& in) { return maximum(in.x, num(in, 0.0)); });
  row("relu-maximum-zero", "maximum(0, x)", [](const In& in) { return maximum(num(in, 0.0), in.x); });
  // Tensor slopes: y is the slope, over the whole special-value grid.
  row("relu-switch-tensor", "switch(x > 0, x, y * x)", [](const In& in) { return where(in.x > 0.0, in.x, in.y * in.x); });
  row("relu-switch-tensor", "switch(0 <= x, x, x * y)", [](const In& in) { return where(0.0 <= in.x, in.x, in.x * in.y); });
  row("relu-switch-tensor-inverted", "switch(x < 0, y * x, x)",
      [](const In& in) { return where(in.x < 0.0, in.y * in.x, in.x); });
  row("relu-maximum-tensor", "maximum(x, [0.1, -0.3, ...] * x)", [](const In& in) {
    std::vector<double> t(in.xs.size());
    const double cycle[] = {0.1, 0.5, -0.3, 0.01, 0.9, -2.0, 1.0 / 3};
    for (std::size_t i = 0; i < t.size(); ++i) t[i] = cycle[i % 7];
    return maximum(in.x, constant_of(in, t) * in.x);
  });
  return r;
}

/// The special-value grid (every pair) followed by random pairs.
std::pair<std::vector<double>, std::vector<double>> arguments(DType dt) {
  auto [xs, ys] = special_pairs(dt, 600, 7);
  if (xs.size() % 2) {  // transpose-transpose reshapes x to [n/2, 2]
    xs.push_back(1.5);
    ys.push_back(-2.5);
  }
  return {xs, ys};
}

std::map<DType, std::set<std::string>>& checked() {
  static std::map<DType, std::set<std::string>> names;
  return names;
}

}  // namespace

TEST_CASE("every rule keeps its contract on special and random values, float32 and float64") {
  for (DType dt : {DType::float32, DType::float64}) {
    CAPTURE(dtype_name(dt));
    const auto [xs, ys] = arguments(dt);
    const auto n = static_cast<std::int64_t>(xs.size());
    std::vector<double> cs(xs.size());
    for (std::size_t i = 0; i < cs.size(); ++i) cs[i] = (i * 7919) % 3 == 0;
    const std::vector<Tensor> args = {tensor(xs, {n}, dt), tensor(ys, {n}, dt), booleans(cs, {n})};
    for (const Row& row : rows()) {
      CAPTURE(row.rule);
      CAPTURE(row.what);
      Graph g;
      const In in{g.input("x", dt, {n}), g.input("y", dt, {n}), g.input("c", DType::boolean, {n}), dt, xs, ys};
      const Expr before = row.before(in);
      const Rule& rule = rule_named(row.rule);
      RewriteTrace trace;
      const Expr after = rewrite({before}, std::vector<Rule>{rule}, "verify", &trace)[0];
      if (rule.contract() == Contract::relu_abs && trace.empty()) {
        // Only slopes the guard rejects may be left alone.
        const std::optional<Match> m = rule.pattern().match(before);
        REQUIRE(m);
        const double alpha = (*m)[pattern::Num("alpha")];
        INFO("alpha " << alpha << " not rewritten");
        const bool rejected = !rules::relu_abs_keeps_slope(alpha, dt) || (row.rule == "relu-maximum" && alpha == 0.0) ||
                              (row.rule == "relu-maximum" && alpha > 1.0);
        CHECK(rejected);
        CHECK(after.is(before));
        continue;
      }
      CHECK(trace.size() == 1);
      if (trace.size() != 1) continue;
      CHECK(trace[0].before.is(before));
      CHECK(trace[0].after.is(after));
      CHECK(after.type() == before.type());
      const std::string violation = check_rewrite(rule, before, after, {in.x, in.y, in.c}, args);
      CHECK_MESSAGE(violation.empty(), violation);
      checked()[dt].insert(row.rule);
    }
  }
}

TEST_CASE("the contract check covers every rule of every pass, and the docs list them") {
  std::ifstream docs(std::filesystem::path(__FILE__).parent_path().parent_path() / "docs" / "optimizer.md");
  REQUIRE(docs.good());
  const std::string text((std::istreambuf_iterator<char>(docs)), std::istreambuf_iterator<char>());
  for (const Pass& p : passes())
    for (const Rule& r : *p.rules) {
      CAPTURE(p.name);
      CAPTURE(r.name());
      CHECK(checked()[DType::float32].count(r.name()) == 1);
      CHECK(checked()[DType::float64].count(r.name()) == 1);
      CHECK(text.find("`" + r.name() + "`") != std::string::npos);
    }
}

TEST_CASE("the relu-to-abs guard: tolerance sqrt(eps), slope computed in the dtype") {
  using rules::relu_abs_keeps_slope;
  CHECK(rules::relu_abs_tolerance(DType::float32) == doctest::Approx(3.4526698e-4));
  CHECK(rules::relu_abs_tolerance(DType::float64) == doctest::Approx(1.4901161e-8));
  // Usual slopes pass in both dtypes; alpha = 0 is the exact 0.5 * (x + |x|) form.
  for (DType dt : {DType::float32, DType::float64})
    for (double a : {0.0, 0.01, 0.1, 0.2, 0.3, -0.5, 2.0, 3.0, -3.0, 1e3, 1e30})
      CHECK(relu_abs_keeps_slope(round_to(dt, a), dt));
  // Tiny slopes: in float32, f1 and f2 both round to 0.5 and the abs form's
  // slope f1 - f2 is 0, not 1e-8; in float64 the slope is right but the
  // products' rounding, 2 eps / alpha ~ 4e-8, exceeds the tolerance.
  const double tiny = 1e-8;
  CHECK(round_to<float>((1 + round_to<float>(tiny)) / 2) == 0.5);
  CHECK(!relu_abs_keeps_slope(round_to<float>(tiny), DType::float32));
  CHECK(!relu_abs_keeps_slope(tiny, DType::float64));
  CHECK(relu_abs_keeps_slope(1e-6, DType::float64));
  CHECK(!relu_abs_keeps_slope(round_to<float>(1e-5), DType::float32));
  // A slope whose factors are exact still has the products' rounding:
  // 2^-20 in float32 would lose 2 eps / 2^-20 = 1/4 of its value.
  CHECK(!relu_abs_keeps_slope(0x1p-20, DType::float32));
  // alpha = ±1: a factor is 0, and 0 * inf would make an infinite x NaN.
  CHECK(!relu_abs_keeps_slope(1.0, DType::float64));
  CHECK(!relu_abs_keeps_slope(-1.0, DType::float32));
  // Not a number or not finite: never.
  CHECK(!relu_abs_keeps_slope(NaN, DType::float64));
  CHECK(!relu_abs_keeps_slope(inf, DType::float64));
}
