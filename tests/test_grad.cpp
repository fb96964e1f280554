// grad() and vjp(): the must-show values of the autodiff issue, each against
// a hand computation, and the API's edge cases (shapes, disconnected and bool
// inputs, errors).
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <symgraph/symgraph.hpp>

using namespace symgraph;

namespace {

const double kInf = std::numeric_limits<double>::infinity();

Tensor vec(std::initializer_list<double> v) { return Tensor::from_list<double>(v); }

/// Evaluates `outputs` at `args` with the reference evaluator.
std::vector<Tensor> eval(const std::vector<Expr>& inputs, const std::vector<Expr>& outputs,
                         const std::vector<Tensor>& args) {
  return compile_reference(inputs, outputs)(args);
}

/// Element-by-element bit equality with an expected vector (so -0 vs +0 and
/// NaN are told apart).
void check_bits(const Tensor& got, const std::vector<double>& want) {
  REQUIRE(got.size() == static_cast<std::int64_t>(want.size()));
  for (std::size_t i = 0; i < want.size(); ++i) {
    const double g = got.at(static_cast<std::int64_t>(i));
    INFO("element " << i << ": got " << g << ", want " << want[i]);
    if (std::isnan(want[i])) {
      CHECK(std::isnan(g));
    } else {
      CHECK(g == want[i]);
      CHECK(std::signbit(g) == std::signbit(want[i]));
    }
  }
}

}  // namespace

TEST_CASE("relu slopes: abs form 0 / 1, leaky alpha, 0.5 and (1+alpha)/2 at 0") {
  Graph g;
  Expr x = g.input("x", DType::float64, {kSymbolic});
  struct Case {
    double alpha;
    std::vector<double> want;
  };
  const Tensor xs = vec({-2, -0.5, 0.5, 3, 0});
  for (const Case& c : {Case{0.0, {0, 0, 1, 1, 0.5}}, Case{0.1, {0.1, 0.1, 1, 1, 0.55}}}) {
    CAPTURE(c.alpha);
    const Expr dx = grad(sum(relu(x, c.alpha)), {x})[0];
    const auto out = eval({x}, {dx}, {xs});
    for (std::size_t i = 0; i < c.want.size(); ++i) CHECK(out[0].at(static_cast<std::int64_t>(i)) == doctest::Approx(c.want[i]).epsilon(1e-15));
  }
  // Exactly [0, 0, 1, 1] for alpha = 0: 0.5 * (1 + sign(x)).
  const auto out = eval({x}, {grad(sum(relu(x)), {x})[0]}, {vec({-2, -0.5, 0.5, 3})});
  check_bits(out[0], {0, 0, 1, 1});
}

TEST_CASE("relu switch form has slope alpha at 0") {
  Graph g;
  Expr x = g.input("x", DType::float64, {4});
  const Expr y = where(x > 0.0, x, 0.1 * x);
  const auto out = eval({x}, {grad(sum(y), {x})[0]}, {vec({-2, 0, 0.5, -0.0})});
  check_bits(out[0], {0.1, 0.1, 1, 0.1});
}

TEST_CASE("tensor alpha: d/dalpha sum(relu(x, alpha)) = sum over x < 0 of x") {
  Graph g;
  Expr x = g.input("x", DType::float64, {2, 3});
  Expr alpha = g.input("alpha", DType::float64, {3});  // one slope per column, broadcast over rows
  const Expr cost = sum(relu(x, alpha));
  const auto d = grad(cost, {x, alpha});
  const Tensor xs = Tensor::from_list<double>({-1, 2, -3, -0.5, -4, 5}, {2, 3});
  const Tensor as = vec({0.1, 0.2, 0.3});
  const auto out = eval({x, alpha}, {d[0], d[1]}, {xs, as});
  CHECK(out[1].shape() == Shape{3});
  // Column sums over x < 0: [-1 + -0.5, -4, -3].
  const std::vector<double> want{-1.5, -4, -3};
  for (std::int64_t i = 0; i < 3; ++i) CHECK(out[1].at(i) == doctest::Approx(want[static_cast<std::size_t>(i)]).epsilon(1e-15));
  // dx is alpha where x < 0, 1 where x > 0.
  const std::vector<double> want_dx{0.1, 1, 0.3, 0.1, 0.2, 1};
  for (std::int64_t i = 0; i < 6; ++i) CHECK(out[0].at(i) == doctest::Approx(want_dx[static_cast<std::size_t>(i)]).epsilon(1e-15));
  // And numerically, with respect to both.
  GradCheckOptions opt;
  opt.points = {{xs, as}};
  const GradCheckResult r = check_grad(cost, {x, alpha}, opt);
  INFO(r.report);
  CHECK(r.passed);
  CHECK(r.checked == 9);
}

TEST_CASE("second derivative of sum(x * x * x) is 6x") {
  Graph g;
  Expr x = g.input("x", DType::float64, {kSymbolic});
  const Expr d1 = grad(sum(x * x * x), {x})[0];
  const Expr d2 = grad(sum(d1), {x})[0];
  const Tensor xs = vec({-2, -0.5, 0, 1.5, 3});
  const auto out = eval({x}, {d1, d2}, {xs});
  for (std::int64_t i = 0; i < xs.size(); ++i) {
    CHECK(out[0].at(i) == doctest::Approx(3 * xs.at(i) * xs.at(i)).epsilon(1e-15));
    CHECK(out[1].at(i) == doctest::Approx(6 * xs.at(i)).epsilon(1e-15));
  }
}

TEST_CASE("grad of grad through relu: finite, 0 at x = 0") {
  Graph g;
  Expr x = g.input("x", DType::float64, {kSymbolic});
  for (double alpha : {0.0, 0.1}) {
    CAPTURE(alpha);
    const Expr d1 = grad(sum(relu(x, alpha)), {x})[0];
    const Expr d2 = grad(sum(d1), {x})[0];
    const Expr d3 = grad(sum(d2), {x})[0];
    const auto out = eval({x}, {d2, d3}, {vec({-1, 0, -0.0, 2})});
    check_bits(out[0], {0, 0, 0, 0});
    check_bits(out[1], {0, 0, 0, 0});
  }
}

TEST_CASE("abs gradient at [0, -0, 2.5, -2.5] is [0, 0, 1, -1]") {
  Graph g;
  Expr x = g.input("x", DType::float64, {4});
  const auto out = eval({x}, {grad(sum(abs(x)), {x})[0]}, {vec({0.0, -0.0, 2.5, -2.5})});
  check_bits(out[0], {0, 0, 1, -1});
}

TEST_CASE("maximum / minimum: ties split 0.5 / 0.5, maximum(x, x) has slope 1") {
  Graph g;
  Expr x = g.input("x", DType::float64, {3});
  Expr y = g.input("y", DType::float64, {3});
  const Tensor xs = vec({1, 2, 3}), ys = vec({1, 5, -3});
  for (auto op : {&maximum, &minimum}) {
    const auto d = grad(sum(op(x, y)), {x, y});
    const auto out = eval({x, y}, d, {xs, ys});
    const bool is_max = op == &maximum;
    check_bits(out[0], {0.5, is_max ? 0.0 : 1.0, is_max ? 1.0 : 0.0});
    check_bits(out[1], {0.5, is_max ? 1.0 : 0.0, is_max ? 0.0 : 1.0});
    check_bits(eval({x}, {grad(sum(op(x, x)), {x})[0]}, {xs})[0], {1, 1, 1});
  }
  // max(x, 0) + min(x, 0) = x keeps derivative 1 at 0.
  const Expr zero = constant_like(x, 0.0);
  check_bits(eval({x}, {grad(sum(maximum(x, zero) + minimum(x, zero)), {x})[0]}, {vec({0, -0.0, 2})})[0], {1, 1, 1});
}

TEST_CASE("switch: the unselected branch never poisons the gradient") {
  Graph g;
  SUBCASE("the issue's example: y = switch(a > 1.5, a * b, a)") {
    Expr a = g.input("a", DType::float64, {2});
    Expr b = g.input("b", DType::float64, {2});
    const Expr y = where(a > 1.5, a * b, a);
    const auto d = grad(sum(y), {a, b});
    const auto out = eval({a, b}, d, {vec({1, 2}), vec({kInf, 3})});
    check_bits(out[0], {1, 3});
    check_bits(out[1], {0, 2});
  }
  SUBCASE("an unselected branch that overflows: switch(x < 10, x, exp(x)) at 1000") {
    Expr x = g.input("x", DType::float64, {kSymbolic});
    const Expr y = where(x < 10.0, x, exp(x));
    const auto out = eval({x}, {grad(sum(y), {x})[0]}, {vec({1000, 1, 2})});
    check_bits(out[0], {std::exp(1000.0), 1, 1});  // exp(1000) = inf: selected there
    const Expr y2 = where(x < 10.0, x * 1.0, exp(x));
    const auto out2 = eval({x}, {grad(sum(y2), {x})[0]}, {vec({1000, -1000})});
    check_bits(out2[0], {kInf, 1});
  }
  SUBCASE("chains of elementwise ops under the switch") {
    Expr x = g.input("x", DType::float64, {3});
    // At x = 1: log(0) = -inf, 1/0 = inf, sqrt'(0) = inf; at 1000
    // exp(exp(x)) overflows and tanh's argument is inf (1 - y^2 = 0 times inf).
    const Expr u = x - 1.0;
    const Expr branch = exp(exp(x)) * log(u) + sqrt(u) / u + tanh(x * x * 1e300);
    const Expr y = where(x > 0.5, x * x, branch);
    const auto out = eval({x}, {grad(sum(y), {x})[0]}, {vec({1000, 1, 3})});
    check_bits(out[0], {2000, 2, 6});
    // The other polarity: the unselected branch is the first.
    const Expr y2 = where(x <= 0.5, branch, x * x);
    check_bits(eval({x}, {grad(sum(y2), {x})[0]}, {vec({1000, 1, 3})})[0], {2000, 2, 6});
    // Without the switch the chain's gradient is not finite there.
    const auto raw = eval({x}, {grad(sum(branch), {x})[0]}, {vec({1000, 1, 3})});
    CHECK(std::isinf(raw[0].at(0)));
    CHECK(std::isnan(raw[0].at(1)));
  }
  SUBCASE("nested switches") {
    Expr x = g.input("x", DType::float64, {3});
    const Expr inner = where(x < 100.0, x * 3.0, exp(x * x));
    const Expr y = where(x > 0.0, inner, x);
    check_bits(eval({x}, {grad(sum(y), {x})[0]}, {vec({50, -1000, 1000})})[0], {3, 1, kInf});
  }
}

TEST_CASE("maximum, minimum and max select too: the operand that lost never poisons") {
  Graph g;
  Expr x = g.input("x", DType::float64, {3});
  const Tensor xs = vec({0.0, 0.5, 2});
  const Expr zero = constant_like(x, 0.0);
  // log(0) = -inf and log' = inf there, but maximum took the 0.
  check_bits(eval({x}, {grad(sum(maximum(zero, log(x))), {x})[0]}, {xs})[0], {0, 0, 0.5});
  check_bits(eval({x}, {grad(sum(minimum(zero, neg(log(x)))), {x})[0]}, {xs})[0], {0, 0, -0.5});
  // sqrt'(0) = inf at the elements that are not the maximum.
  check_bits(eval({x}, {grad(max(sqrt(x)), {x})[0]}, {xs})[0], {0, 0, 0.25 / std::sqrt(0.5)});
  // Ties still split, NaN still gives no gradient.
  check_bits(eval({x}, {grad(max(x), {x})[0]}, {vec({2, 2, 1})})[0], {0.5, 0.5, 0});
  check_bits(eval({x}, {grad(max(x), {x})[0]}, {vec({-1, -1, -1})})[0], {1.0 / 3, 1.0 / 3, 1.0 / 3});
  check_bits(eval({x}, {grad(sum(maximum(x, x) + minimum(x, x)), {x})[0]}, {xs})[0], {2, 2, 2});
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const Tensor with_nan = Tensor::from_list<double>({1, nan, 2});
  check_bits(eval({x}, {grad(sum(maximum(x, zero)), {x})[0]}, {with_nan})[0], {1, 0, 1});
  check_bits(eval({x}, {grad(max(x), {x})[0]}, {with_nan})[0], {0, 0, 0});
}

TEST_CASE("switch masks through sums of cotangents, broadcasting and reductions") {
  Graph g;
  Expr x = g.input("x", DType::float64, {3});
  const Tensor xs = vec({1000, 1, 2});
  SUBCASE("a node used by two switches") {
    // At 1000 neither switch selects t = exp(x) = inf: the cotangent of t is
    // a sum of two masked terms, masked by their union.
    const Expr t = exp(x);
    const Expr y = where(x > 500.0, x, t) + where(x > 600.0, 2.0 * x, t);
    const auto out = eval({x}, {grad(sum(y), {x})[0]}, {vec({1000, 1, 550})});
    check_bits(out[0], {3, 2 * std::exp(1.0), 1 + std::exp(550.0)});
  }
  SUBCASE("a node used twice in one branch") {
    const Expr t = exp(x);
    const Expr y = where(x > 10.0, x, t * t) + 0.0 * x;
    check_bits(eval({x}, {grad(sum(y), {x})[0]}, {vec({1000, 20, 30})})[0], {1, 1, 1});
  }
  SUBCASE("a broadcast scalar in a branch") {
    Expr s = g.input("s", DType::float64, {});
    const Expr y = where(x < 10.0, x, exp(s) * x);
    const auto d = grad(sum(y), {x, s});
    const auto out = eval({x, s}, d, {vec({1, 2, 3}), Tensor::scalar(1000.0)});
    check_bits(out[0], {1, 1, 1});
    check_bits(out[1], {0});
  }
  SUBCASE("under a reduction: switch(c, sum(exp(x)), 0)") {
    Expr c = g.input("c", DType::boolean, {});
    const Expr y = where(c, sum(exp(x * x)), constant_like(x, 0.0));
    const auto out = eval({x, c}, {grad(y, {x})[0]}, {vec({1000, 1, 2}), Tensor::scalar(0.0, DType::boolean)});
    check_bits(out[0], {0, 0, 0});
    const Expr ym = where(c, max(exp(x * x)), constant_like(x, 0.0));
    check_bits(eval({x, c}, {grad(ym, {x})[0]}, {vec({1000, 1, 2}), Tensor::scalar(0.0, DType::boolean)})[0], {0, 0, 0});
  }
  SUBCASE("through every shape op") {
    Expr m = g.input("m", DType::float64, {2, 3});
    Expr c = g.input("c", DType::boolean, {});
    Expr wide = g.input("wide", DType::float64, {2, 6});
    Expr row = g.input("row", DType::float64, {1, 6});
    const Expr t = transpose(exp(m * m));                                     // [3, 2], inf
    const Expr flat = squeeze(expand_dims(reshape(t, {6}), {0}), {0});         // [6]
    const Expr spread = sum_to(broadcast_to(cast(flat, DType::float64), wide), row);  // [1, 6]
    const Expr y = where(c, sum(spread) + max(spread), m * 0.0 + 1.0);
    const Tensor ms = Tensor::from_list<double>({1000, 1, 2, 3, -1000, 0.5}, {2, 3});
    const auto out = eval({m, c, wide, row}, {grad(sum(y), {m})[0]},
                          {ms, Tensor::scalar(0.0, DType::boolean), Tensor(DType::float64, {2, 6}), Tensor(DType::float64, {1, 6})});
    check_bits(out[0], {0, 0, 0, 0, 0, 0});
  }
}

TEST_CASE("broadcasting is undone, also for a symbolic dimension that is 1 at run time") {
  Graph g;
  Expr a = g.input("a", DType::float64, {kSymbolic, 3});
  Expr b = g.input("b", DType::float64, {kSymbolic});
  Expr s = g.input("s", DType::float64, {});
  const auto d = grad(sum(a * b * s), {a, b, s});
  CHECK(d[0].shape() == Shape{kSymbolic, 3});
  CHECK(d[1].shape() == Shape{kSymbolic});
  CHECK(d[2].shape() == Shape{});
  // a is [2, 3], b is [1] at run time (broadcast along a's last axis).
  const Tensor as = Tensor::from_list<double>({1, 2, 3, 4, 5, 6}, {2, 3});
  const auto out = eval({a, b, s}, d, {as, Tensor::from_list<double>({10}, {1}), Tensor::scalar(0.5)});
  CHECK(out[0].shape() == Shape{2, 3});
  CHECK(out[1].shape() == Shape{1});
  CHECK(out[2].shape() == Shape{});
  check_bits(out[0], {5, 5, 5, 5, 5, 5});
  check_bits(out[1], {10.5});  // 0.5 * (1 + ... + 6)
  check_bits(out[2], {210});   // 10 * 21
  // b as [3] at run time: no broadcasting.
  const auto out3 = eval({a, b, s}, d, {as, vec({1, 2, 3}), Tensor::scalar(2.0)});
  CHECK(out3[1].shape() == Shape{3});
  check_bits(out3[1], {10, 14, 18});
}

TEST_CASE("inputs the cost does not depend on: zeros of the run-time shape, or an error") {
  Graph g;
  Expr x = g.input("x", DType::float64, {kSymbolic});
  Expr unused = g.input("unused", DType::float64, {kSymbolic, 2});
  Expr via_compare = g.input("c", DType::float64, {kSymbolic});
  // c only reaches the cost through a comparison: zeros, never an error.
  const Expr cost = sum(where(via_compare > 0.0, x, x * x));
  const auto d = grad(cost, {x, unused, via_compare});
  const auto out = eval({x, unused, via_compare}, d,
                        {vec({1, 2}), Tensor(DType::float64, {3, 2}), vec({-1, 1})});
  check_bits(out[0], {2, 1});
  CHECK(out[1].shape() == Shape{3, 2});
  check_bits(out[1], {0, 0, 0, 0, 0, 0});
  check_bits(out[2], {0, 0});
  CHECK_THROWS_WITH_AS(grad(cost, {x, unused}, GradOptions{Disconnected::error}),
                       doctest::Contains("does not depend on wrt[1], input 'unused'"), Error);
  CHECK_NOTHROW(grad(cost, {x, via_compare}, GradOptions{Disconnected::error}));
  // vjp says nullopt for both kinds.
  const auto v = vjp({cost}, {x, unused, via_compare}, {constant_like(cost, 1.0)});
  CHECK(v[0].has_value());
  CHECK_FALSE(v[1].has_value());
  CHECK_FALSE(v[2].has_value());
}

TEST_CASE("bool inputs: grad refuses them, vjp returns nullopt") {
  Graph g;
  Expr x = g.input("x", DType::float64, {2});
  Expr m = g.input("m", DType::boolean, {2});
  const Expr cost = sum(where(m, x, x * 3.0));
  CHECK_THROWS_WITH_AS(grad(cost, {x, m}), doctest::Contains("wrt[1], input 'm' (bool[2]), is bool"), Error);
  const auto v = vjp({cost}, {x, m}, {constant_like(cost, 1.0)});
  CHECK(v[0].has_value());
  CHECK_FALSE(v[1].has_value());
}

TEST_CASE("grad: the cost must be a 0-d float expression") {
  Graph g;
  Expr x = g.input("x", DType::float64, {3});
  CHECK_THROWS_WITH_AS(grad(x * x, {x}), doctest::Contains("must be a 0-d float expression, got float64[3]"), Error);
  CHECK_THROWS_WITH_AS(grad(gt(sum(x), constant_like(x, 0.0)), {x}), doctest::Contains("got bool[]"), Error);
  CHECK_THROWS_AS(grad(Expr(), {x}), Error);
  Graph other;
  Expr y = other.input("y", DType::float64, {});
  CHECK_THROWS_WITH_AS(grad(sum(x), {y}), doctest::Contains("another graph"), Error);
}

TEST_CASE("vjp: several outputs, broadcast cotangents, intermediate wrt") {
  Graph g;
  Expr x = g.input("x", DType::float64, {2, 3});
  Expr w = g.input("w", DType::float64, {3});
  const Expr h = tanh(x * w);  // [2, 3]
  const Expr y1 = h * 2.0;
  const Expr y2 = sum(h, {0});  // [3]
  const Expr u = g.input("u", DType::float64, {3});
  // A 0-d cotangent broadcasts to y1's shape; u is y2's cotangent.
  const auto d = vjp({y1, y2}, {x, w, h}, {constant_like(y1, 1.0), u});
  REQUIRE(d[0].has_value());
  REQUIRE(d[1].has_value());
  REQUIRE(d[2].has_value());
  const Tensor xs = Tensor::from_list<double>({0.1, -0.2, 0.3, 0.4, -0.5, 0.6}, {2, 3});
  const Tensor ws = vec({1.5, -1, 0.5}), us = vec({1, 2, 3});
  const auto out = eval({x, w, u}, {*d[0], *d[1], *d[2]}, {xs, ws, us});
  // d/dh = 2 + u (broadcast over rows); d/dx = (2 + u) (1 - h^2) w.
  for (std::int64_t i = 0; i < 6; ++i) {
    const double hv = std::tanh(xs.at(i) * ws.at(i % 3));
    const double dh = 2 + us.at(i % 3);
    CHECK(out[2].at(i) == doctest::Approx(dh).epsilon(1e-15));
    CHECK(out[0].at(i) == doctest::Approx(dh * (1 - hv * hv) * ws.at(i % 3)).epsilon(1e-14));
  }
  CHECK(out[1].shape() == Shape{3});
  // Errors name what is wrong.
  CHECK_THROWS_WITH_AS(vjp({y1}, {x}, {}), doctest::Contains("1 output(s) but 0 cotangent(s)"), Error);
  CHECK_THROWS_WITH_AS(vjp({y1}, {x}, {g.input("f", DType::float32, {3})}), doctest::Contains("needs the output's dtype"),
                       Error);
  CHECK_THROWS_WITH_AS(vjp({y1}, {x}, {g.input("v", DType::float64, {2})}),
                       doctest::Contains("the cotangent of output 0 is float64[2] but the output is float64[2, 3]"), Error);
  CHECK_THROWS_WITH_AS(vjp({gt(x, x)}, {x}, {gt(x, x)}), doctest::Contains("is not float"), Error);
  // The gradient with respect to the cost itself is 1.
  const Expr c = sum(x);
  CHECK(eval({x}, {grad(c, {c})[0]}, {xs})[0].at(0) == 1.0);
}

TEST_CASE("a node without a gradient rule: a clear error naming it") {
  struct NoGrad final : Op {
    NoGrad() : Op("test_no_grad", 1, 1) {}
    TensorType infer(std::span<const TensorType> in, const Attrs&) const override { return in[0]; }
    void compute(std::span<const Tensor* const> in, const Attrs&, Tensor& out) const override { out = in[0]->clone(); }
  };
  static const RegisterOp<NoGrad> reg;
  Graph g;
  Expr x = g.input("x", DType::float64, {2});
  const Expr y = apply("test_no_grad", {exp(x)});
  CHECK_THROWS_WITH_AS(grad(sum(y), {x}), doctest::Contains("test_no_grad: has no gradient rule"), Error);
  CHECK_THROWS_WITH_AS(grad(sum(y), {x}), doctest::Contains("while differentiating node"), Error);
}

TEST_CASE("gradients are graphs: printable, differentiable, deterministic") {
  const auto build = [] {
    Graph g;
    Expr x = g.input("x", DType::float64, {kSymbolic});
    const Expr d = grad(sum(relu(x, 0.1) * exp(x)), {x})[0];
    return debugprint({d, grad(sum(d), {x})[0]});
  };
  const std::string a = build();
  CHECK(a == build());
  CHECK(a.find("sign") != std::string::npos);
}

TEST_CASE("sqrt and log at 0: the formula in IEEE arithmetic, masked under a switch") {
  Graph g;
  Expr x = g.input("x", DType::float64, {4});
  const Tensor xs = vec({0.0, -0.0, 4, 0.25});
  // sqrt'(x) = 1 / (2 sqrt(x)): +inf at +0, and at -0 (sqrt(-0) = -0) -inf.
  check_bits(eval({x}, {grad(sum(sqrt(x)), {x})[0]}, {xs})[0], {kInf, -kInf, 0.25, 1});
  // log'(x) = 1 / x: the same signs.
  check_bits(eval({x}, {grad(sum(log(x)), {x})[0]}, {xs})[0], {kInf, -kInf, 0.25, 4});
  // An unselected sqrt or log contributes nothing...
  const Expr y = where(x > 0.0, sqrt(x) + log(x), x * 3.0);
  check_bits(eval({x}, {grad(sum(y), {x})[0]}, {xs})[0], {3, 3, 0.25 + 0.25, 1 + 4});
  // ...but a cotangent that is 0 by arithmetic is a number: 0 * inf = NaN.
  // (Checked element by element: GCC 12.2 at -O2 -mavx512f miscompiles the
  // initializer list {nan, nan, 0, 0} here into four NaNs.)
  const Tensor d = eval({x}, {grad(sum(sqrt(x) * 0.0), {x})[0]}, {xs})[0];
  CHECK(std::isnan(d.at(0)));
  CHECK(std::isnan(d.at(1)));
  CHECK(d.at(2) == 0.0);
  CHECK(d.at(3) == 0.0);
}
