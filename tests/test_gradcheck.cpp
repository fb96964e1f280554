// Every op's VJP rule against central differences (check_grad), in float64
// and float32, on several shapes, with broadcasting, and with symbolic
// dimensions that are 1 when the graph runs. Also the checker itself: it
// must catch a wrong rule, skip kinks, and say where it failed.
#include <doctest/doctest.h>

#include <functional>
#include <symgraph/symgraph.hpp>

using namespace symgraph;

namespace {

using Build = std::function<Expr(const std::vector<Expr>&)>;

constexpr std::int64_t S = kSymbolic;

struct OpCase {
  std::string name;
  Build build;
  std::vector<Shape> declared;  ///< input shapes as declared (may be symbolic)
  std::vector<Shape> run = {};  ///< shapes when the graph runs (default: declared)
  double low = -2.0;            ///< random coordinates in [low, high]
  double high = 2.0;
  std::vector<bool> is_bool = {};  ///< per input: bool instead of the tested float dtype
};

Expr c(const Expr& like, double v) { return constant_like(like, v); }

/// One table row per op and shape pattern.
std::vector<OpCase> op_cases() {
  using V = const std::vector<Expr>&;
  std::vector<OpCase> t;
  // Unary elementwise ops, on a 0-d, a vector and a matrix.
  const std::vector<std::pair<std::string, Build>> unary = {
      {"neg", [](V x) { return neg(x[0]); }},
      {"abs", [](V x) { return abs(x[0]); }},
      {"sign", [](V x) { return sign(x[0]) * x[0]; }},  // sign's own slope is 0
      {"exp", [](V x) { return exp(x[0]); }},
      {"tanh", [](V x) { return tanh(x[0]); }},
      {"scale", [](V x) { return scale(x[0], -2.5); }},
      {"relu", [](V x) { return relu(x[0]); }},
      {"leaky relu", [](V x) { return relu(x[0], 0.1); }},
  };
  for (const auto& [name, fn] : unary)
    for (const Shape& s : {Shape{}, Shape{5}, Shape{2, 3}}) t.push_back({name + " " + shape_str(s), fn, {s}});
  for (const Shape& s : {Shape{}, Shape{4}, Shape{2, 3}}) {
    t.push_back({"log " + shape_str(s), [](V x) { return log(x[0]); }, {s}, {}, 0.2, 3.0});
    t.push_back({"sqrt " + shape_str(s), [](V x) { return sqrt(x[0]); }, {s}, {}, 0.2, 3.0});
  }

  // Binary elementwise ops with NumPy broadcasting, including symbolic
  // dimensions that are 1 at run time (declared [?], run [1]).
  const std::vector<std::pair<std::string, Build>> binary = {
      {"add", [](V x) { return add(x[0], x[1]); }},
      {"sub", [](V x) { return sub(x[0], x[1]); }},
      {"mul", [](V x) { return mul(x[0], x[1]); }},
      {"maximum", [](V x) { return maximum(x[0], x[1]); }},
      {"minimum", [](V x) { return minimum(x[0], x[1]); }},
      {"div", [](V x) { return div(x[0], exp(x[1])); }},  // divisor kept away from 0
      {"div by sum", [](V x) { return div(x[0], x[1] * x[1] + 1.0); }},
  };
  struct Pattern {
    std::vector<Shape> declared, run;
  };
  const std::vector<Pattern> patterns = {
      {{{3}, {3}}, {}},
      {{{2, 3}, {3}}, {}},
      {{{2, 1}, {1, 3}}, {}},
      {{{}, {2, 3}}, {}},
      {{{4, 1, 3}, {2, 1}}, {}},
      {{{S}, {S}}, {{1}, {4}}},           // a symbolic dimension that is 1 at run time
      {{{2, S}, {S, 3}}, {{2, 1}, {1, 3}}},
      {{{S, 3}, {2, S}}, {{2, 3}, {2, 1}}},
  };
  for (const auto& [name, fn] : binary)
    for (const Pattern& p : patterns)
      t.push_back({name + " " + shape_str(p.declared[0]) + " " + shape_str(p.declared[1]), fn, p.declared, p.run});

  // switch: a comparison condition, a bool input condition, broadcast branches.
  t.push_back({"switch gt", [](V x) { return where(gt(x[0], x[1]), x[0] * x[1], exp(x[1])); }, {{2, 3}, {3}}});
  t.push_back({"switch lt scalar branch",
               [](V x) { return where(lt(x[0], c(x[0], 0.3)), x[1], x[0] * 3.0); }, {{2, 3}, {}}});
  t.push_back({"switch ge le eq", [](V x) {
                 const Expr a = where(ge(x[0], x[1]), x[0], x[1]);
                 const Expr b = where(le(x[0], x[1]), tanh(x[0]), x[1] * x[1]);
                 return where(eq(x[0], x[0]), a + b, x[0]);
               }, {{S}, {S}}, {{4}, {1}}});
  t.push_back({"switch bool input", [](V x) { return where(x[2], x[0], x[1] * 2.0); }, {{2, 3}, {3}, {2, 1}},
               {}, -2.0, 2.0, {false, false, true}});
  t.push_back({"cast of a comparison", [](V x) { return cast(gt(x[0], x[1]), x[0].dtype()) * x[0]; }, {{5}, {5}}});

  // Reductions over several axis sets, with and without keepdims.
  const std::vector<std::pair<std::vector<std::int64_t>, bool>> reductions = {
      {{}, false}, {{0}, false}, {{1}, false}, {{0, 2}, false}, {{0, 1, 2}, false}, {{1}, true}, {{0, 2}, true}};
  for (const auto& [axes, keep] : reductions) {
    const std::string suffix = shape_str(axes) + (keep ? " keepdims" : "");
    t.push_back({"sum " + suffix, [axes = axes, keep = keep](V x) { return sum(x[0], axes, keep); }, {{2, 3, 4}}});
    t.push_back({"max " + suffix, [axes = axes, keep = keep](V x) { return max(x[0], axes, keep); }, {{2, 3, 4}}});
  }
  t.push_back({"sum all", [](V x) { return sum(x[0] * x[0]); }, {{S, 3}}, {{2, 3}}});
  t.push_back({"max all", [](V x) { return max(x[0]); }, {{S, 3}}, {{1, 3}}});

  // Linear algebra.
  t.push_back({"matmul", [](V x) { return matmul(x[0], x[1]); }, {{2, 3}, {3, 4}}});
  t.push_back({"matmul symbolic", [](V x) { return matmul(x[0], x[1]); }, {{S, S}, {S, 2}}, {{1, 3}, {3, 2}}});
  t.push_back({"matmul vector", [](V x) { return matmul(x[0], x[1]); }, {{1, 3}, {3, 1}}});
  t.push_back({"transpose", [](V x) { return transpose(x[0]) * x[1]; }, {{2, 3}, {3, 2}}});

  // Shape ops.
  t.push_back({"broadcast_to", [](V x) { return broadcast_to(x[0], x[1]) * x[1]; }, {{3}, {2, 3}}});
  t.push_back({"broadcast_to symbolic", [](V x) { return broadcast_to(x[0], x[1]) * x[1]; }, {{S}, {2, S}},
               {{1}, {2, 4}}});
  t.push_back({"sum_to", [](V x) { return sum_to(x[0], x[1]) * x[1]; }, {{2, 3}, {1, 3}}});
  t.push_back({"sum_to symbolic", [](V x) { return sum_to(x[0], x[1]) * x[1]; }, {{2, S}, {S}}, {{2, 3}, {1}}});
  t.push_back({"expand_dims", [](V x) { return expand_dims(x[0], {0, 2}) * x[1]; }, {{2, 3}, {4, 2, 1, 3}}});
  t.push_back({"squeeze", [](V x) { return squeeze(x[0], {1}) * 2.0; }, {{3, 1, 2}}});
  t.push_back({"squeeze symbolic", [](V x) { return squeeze(x[0], {0}) * x[1]; }, {{S, 4}, {4}}, {{1, 4}, {4}}});
  t.push_back({"reshape", [](V x) { return reshape(x[0], {3, 2}) * x[1]; }, {{2, 3}, {3, 2}}});
  t.push_back({"reshape symbolic", [](V x) { return reshape(x[0], {6}) * x[1]; }, {{S, 3}, {6}}, {{2, 3}, {6}}});
  t.push_back({"cast", [](V x) { return cast(x[0] * x[0], x[0].dtype() == DType::float32 ? DType::float64 : DType::float32); },
               {{4}}});
  return t;
}

void run_case(const OpCase& oc, DType dtype) {
  Graph g;
  std::vector<Expr> inputs;
  for (std::size_t i = 0; i < oc.declared.size(); ++i) {
    const DType dt = !oc.is_bool.empty() && oc.is_bool[i] ? DType::boolean : dtype;
    inputs.push_back(g.input(std::string(1, static_cast<char>('a' + i)), dt, oc.declared[i]));
  }
  const Expr out = oc.build(inputs);
  GradCheckOptions opt;
  opt.shapes = oc.run;
  opt.low = oc.low;
  opt.high = oc.high;
  opt.random_points = 3;
  const GradCheckResult r = check_grad(out, inputs, opt);
  INFO(oc.name << " in " << dtype_name(dtype) << "\n" << r.report);
  CHECK(r.passed);
  CHECK(r.checked > 0);
  CHECK(r.skipped == 0);
  // The tolerance is the lowest precision's among the output and the float
  // inputs: 1e-6 relative (1e-8 absolute for ~0 slopes) for float64 graphs.
  CHECK(r.dtype == (dtype == DType::float64 && out.dtype() == DType::float64 ? DType::float64 : DType::float32));
  if (r.dtype == DType::float64) CHECK(r.tolerance.rtol == 1e-6);
}

/// A user op whose rule is off by a factor 2: y = x^2, "dy/dx = 4x".
struct BadSquare final : ElementwiseOp {
  BadSquare() : ElementwiseOp("test_bad_square", 1, 1) {}
  void compute(std::span<const Tensor* const> in, const Attrs&, Tensor& out) const override {
    dispatch_float(out.dtype(), name(), [&]<class T>() {
      elementwise_kernel<T, T>(out, {in[0]}, [](auto& o, const auto& x) { o = x * x; });
    });
  }
  std::vector<std::optional<Expr>> partials(const Expr& y, const Expr& g) const override {
    return {g * scale(y.input(0), 4.0)};
  }
};
const RegisterOp<BadSquare> bad_square;

}  // namespace

TEST_CASE("every op's VJP agrees with central differences (float64, 1e-6 relative)") {
  for (const OpCase& oc : op_cases()) run_case(oc, DType::float64);
}

TEST_CASE("every op's VJP agrees with central differences (float32, documented looser bound)") {
  for (const OpCase& oc : op_cases()) run_case(oc, DType::float32);
}

TEST_CASE("check_grad catches a wrong rule and says where") {
  Graph g;
  Expr x = g.input("x", DType::float64, {3});
  const Expr y = apply("test_bad_square", {x});
  GradCheckOptions opt;
  opt.points = {{Tensor::from_list<double>({1, -2, 0.5})}};
  const GradCheckResult r = check_grad(y, {x}, opt);
  CHECK_FALSE(r.passed);
  CHECK(r.failed == 3);
  CHECK(r.worst_input == 0);
  CHECK(r.worst_element == 1);  // |4x - 2x| weighted by the projection: largest at x = -2
  CHECK(r.worst_numeric == doctest::Approx(r.worst_symbolic / 2).epsilon(1e-6));
  CHECK(r.report.find("FAILED") != std::string::npos);
  CHECK(r.report.find("d/d x[1]") != std::string::npos);
  CHECK_THROWS_AS(verify_grad(y, {x}, opt), Error);
  // The same through the builder form.
  CHECK_THROWS_WITH_AS(verify_grad([](const std::vector<Expr>& in) { return apply("test_bad_square", {in[0]}); },
                                   {Tensor::from_list<double>({1, 2})}),
                       doctest::Contains("gradient check FAILED"), Error);
}

TEST_CASE("check_grad skips coordinates whose step crosses a kink") {
  Graph g;
  Expr x = g.input("x", DType::float64, {3});
  GradCheckOptions opt;
  // abs at 0 (slope 0 by convention, central differences say 0 too, but the
  // step crosses the kink), maximum at a tie, and 1e-9 from the kink.
  opt.points = {{Tensor::from_list<double>({0.0, 1e-9, 1.5})}};
  const GradCheckResult r = check_grad(abs(x) + maximum(x, c(x, 1.5)), {x}, opt);
  INFO(r.report);
  CHECK(r.skipped == 3);
  CHECK(r.checked == 0);
  // Nothing compared is no pass, and verify_grad says why.
  CHECK_FALSE(r.passed);
  CHECK(r.report.find("no coordinate could be checked") != std::string::npos);
  CHECK_THROWS_WITH_AS(verify_grad(abs(x) + maximum(x, c(x, 1.5)), {x}, opt),
                       doctest::Contains("every step crossed a kink"), Error);
  // One coordinate away from the kinks is enough.
  opt.points = {{Tensor::from_list<double>({0.0, 1e-9, 2.5})}};
  const GradCheckResult r1 = check_grad(abs(x) + maximum(x, c(x, 1.5)), {x}, opt);
  CHECK(r1.passed);
  CHECK(r1.checked == 1);
  // Random points are redrawn away from kinks: none skipped.
  GradCheckOptions rnd;
  rnd.random_points = 5;
  const GradCheckResult r2 = check_grad(abs(x) + maximum(x, c(x, 0.5)) + max(x * x), {x}, rnd);
  INFO(r2.report);
  CHECK(r2.passed);
  CHECK(r2.skipped == 0);
  CHECK(r2.checked == 15);
}

TEST_CASE("check_grad: builder form, default tolerances, errors") {
  const GradCheckResult r = verify_grad([](const std::vector<Expr>& in) { return sum(tanh(in[0]) * in[1]); },
                                        {Tensor::from_list<double>({0.1, -0.7, 2}), Tensor::scalar(0.3)});
  CHECK(r.passed);
  CHECK(r.checked == 4);
  CHECK(r.points == 1);
  CHECK(default_tolerance(DType::float64).rtol == 1e-6);
  CHECK(default_tolerance(DType::float32).rtol == 1e-2);
  CHECK_THROWS_AS(default_tolerance(DType::boolean), Error);
  Graph g;
  Expr b = g.input("b", DType::boolean, {2});
  Expr x = g.input("x", DType::float64, {2});
  CHECK_THROWS_WITH_AS(check_grad(where(b, x, x), {b}), doctest::Contains("no float input"), Error);
  CHECK_THROWS_WITH_AS(check_grad(gt(x, x), {x}), doctest::Contains("must be float"), Error);
  GradCheckOptions opt;
  opt.points = {{Tensor::from_list<double>({1, 2})}};
  CHECK_THROWS_WITH_AS(check_grad(where(b, x, x), {b, x}, opt), doctest::Contains("1 tensor(s) for 2 input(s)"), Error);
}

TEST_CASE("higher order: gradients of gradients agree with central differences") {
  using V = const std::vector<Expr>&;
  const std::vector<std::pair<std::string, Build>> fns = {
      {"x^3", [](V x) { return x[0] * x[0] * x[0]; }},
      {"tanh", [](V x) { return tanh(x[0]); }},
      {"exp", [](V x) { return exp(x[0] * 0.5); }},
      {"log", [](V x) { return log(x[0] * x[0] + 1.0); }},
      {"sqrt", [](V x) { return sqrt(x[0] * x[0] + 0.5); }},
      {"div", [](V x) { return x[1] / (x[0] * x[0] + 1.0); }},
      {"mul", [](V x) { return x[0] * x[1] * x[0]; }},
      {"relu", [](V x) { return relu(x[0], 0.1) * x[0]; }},
      {"tensor alpha relu", [](V x) { return relu(x[0], x[1]) * x[1]; }},
      {"maximum", [](V x) { return maximum(x[0] * x[0], x[1]) * x[0]; }},
      {"switch", [](V x) { return where(x[0] > x[1], x[0] * x[1], exp(x[0])); }},
      {"max", [](V x) { return max(x[0] * x[1], {0}, true) * x[0]; }},
      {"matmul", [](V x) { return matmul(x[0] * x[0], transpose(x[1])) ; }},
      {"sum and broadcast", [](V x) { return sum(x[0] * x[0], {1}, true) * x[1]; }},
  };
  for (const auto& entry : fns) {
    const auto& name = entry.first;
    const auto& fn = entry.second;
    for (int order = 2; order <= 3; ++order) {
      Graph g;
      const Expr a = g.input("a", DType::float64, {2, 3});
      const Expr b = g.input("b", DType::float64, {3});
      Expr d = fn({a, broadcast_to(b, a)});
      // Each order differentiates the sum of the previous gradients (a
      // projection of them) with respect to both inputs.
      for (int k = 1; k < order; ++k) {
        const auto grads = grad(sum(d), {a, b});
        d = sum(grads[0] * grads[0] * 0.5) + sum(grads[1] * 0.25);
      }
      GradCheckOptions opt;
      opt.low = 0.3;  // positive: keeps x * x > b in "maximum" away from 0 crossings
      opt.high = 1.7;
      const GradCheckResult r = check_grad(d, {a, b}, opt);
      INFO(name << " order " << order << "\n" << r.report);
      CHECK(r.passed);
      CHECK(r.checked > 0);
    }
  }
}
