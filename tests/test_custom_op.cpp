// A user-defined op, built from the example's own source
// (examples/custom_op/softplus.cpp): its values against closed forms, its
// gradient against central differences, JSON, printing, the rewrite rule
// and the symgraph command loading it.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "elu.hpp"
#include "harness.hpp"
#include "softplus.hpp"

using namespace sgtest;
using example::softplus;

namespace {

/// softplus in long double, log1p(exp(x)) straight from the definition: an
/// oracle with 11 more bits than float64 (exp(x) in long double overflows
/// only above x = 11356).
long double softplus_oracle(long double x) { return std::log1p(std::exp(x)); }

template <class T> Tensor vector_of(const std::vector<double>& v) {
  return tensor(v, {}, std::is_same_v<T, float> ? DType::float32 : DType::float64);
}

/// softplus of `xs` with both evaluators, which must agree bit for bit.
Tensor softplus_of(const Tensor& xs) {
  Graph g;
  const Expr x = g.input("x", xs.dtype(), {kSymbolic});
  const Tensor ref = compile_reference({x}, {softplus(x)})({xs})[0];
  CompileOptions as_written;
  as_written.pipeline = Pipeline::none();
  check_same(compile({x}, {softplus(x)}, as_written)({xs})[0], ref);
  return ref;
}

const char* const kRule = "log-1-plus-exp";

/// y = x for x > 0, alpha * expm1(x) otherwise (elu).  dy/dx = 1, alpha * exp(x).
/// An op with an attribute whose printed form reads its operand.
struct TestElu final : ElementwiseOp {
  TestElu() : ElementwiseOp("test_elu", 1, 1) {}
  std::vector<AttrSpec> attr_specs() const override { return {{"alpha", AttrKind::real}}; }
  void compute(std::span<const Tensor* const> in, const Attrs& attrs, Tensor& out) const override {
    const double alpha = attrs.get<double>("alpha");
    dispatch_float(out.dtype(), name(), [&]<class T>() {
      elementwise_kernel<T, T>(out, {in[0]}, [alpha](auto& y, const auto& x) {
        y = x.unaryExpr([alpha](T v) { return v > T(0) ? v : static_cast<T>(alpha) * std::expm1(v); });
      });
    });
  }
  /// Reads args[0]: the printers must hand it exactly one operand.
  std::string format(std::span<const std::string> args, const Attrs& attrs) const override {
    if (args.size() != 1) throw Error("test_elu: format() got " + std::to_string(args.size()) + " operands");
    return "elu[" + attr_str(*attrs.find("alpha")) + "](" + args[0] + ")";
  }

 protected:
  std::vector<std::optional<Expr>> partials(const Expr& y, const Expr& g) const override {
    const Expr x = y.input(0);
    return {where(x > 0.0, g, (y.attrs().get<double>("alpha") * exp(x)) * g)};
  }
};
const RegisterOp<TestElu> test_elu_registration;

Expr test_elu(const Expr& x, double alpha) { return apply("test_elu", {x}, {{"alpha", alpha}}); }

/// Two operands of one type, printed "a <+> b" (and "<+>" alone); infer
/// reads both operands, format both strings. No kernel is needed here.
struct TestPair final : Op {
  TestPair() : Op("test_pair", 2, 2) {}
  TensorType infer(std::span<const TensorType> in, const Attrs&) const override {
    if (in[0] != in[1]) fail("operands " + type_str(in[0]) + " and " + type_str(in[1]) + " differ");
    return in[0];
  }
  void compute(std::span<const Tensor* const>, const Attrs&, Tensor&) const override {}
  std::string format(std::span<const std::string> args, const Attrs&) const override {
    if (args.size() != 2) throw Error("test_pair: format() got " + std::to_string(args.size()) + " operands");
    return args[0] + " <+> " + args[1];
  }
  std::string label(const Attrs&) const override { return "<+>"; }
};
const RegisterOp<TestPair> test_pair_registration;

std::uint64_t bits(double v) { return std::bit_cast<std::uint64_t>(v); }

}  // namespace

TEST_CASE_TEMPLATE("softplus: special values exactly, no overflow at large |x|", T, float, double) {
  constexpr T inf = std::numeric_limits<T>::infinity();
  const T log2 = static_cast<T>(std::log(2.0L));
  // x, softplus(x) exactly (bits compared, signs of zeros included).
  const std::vector<std::pair<T, T>> cases = {
      {T(0), log2},                                    // log(1 + 1)
      {-T(0), log2},                                   // -0 too
      {T(1000), T(1000)},                              // x + exp(-1000): exp(-1000) is far below x's ulp
      {T(100), T(100)},                                // float32's exp(100) overflows; softplus does not
      {T(-1000), T(0)},                                // exp(-1000) underflows to +0 in both dtypes
      {inf, inf},                                      //
      {-inf, T(0)},                                    // +0, not -0
      {std::numeric_limits<T>::max(), std::numeric_limits<T>::max()},
      {std::numeric_limits<T>::lowest(), T(0)},
  };
  std::vector<double> xs;
  for (const auto& c : cases) xs.push_back(static_cast<double>(c.first));
  xs.push_back(NaN);
  const Tensor y = softplus_of(vector_of<T>(xs));
  for (std::size_t i = 0; i < cases.size(); ++i) {
    CAPTURE(cases[i].first);
    const T got = y.data<T>()[i];
    CHECK(got == cases[i].second);
    CHECK(std::signbit(got) == std::signbit(cases[i].second));
  }
  CHECK(std::isnan(y.data<T>()[cases.size()]));
}

TEST_CASE_TEMPLATE("softplus: within 2 ulp of the long double oracle from -110 to 110", T, float, double) {
  // From the far negative tail (softplus(x) ~ exp(x), subnormal in float32
  // below -87) through 0 to x + exp(-x).
  std::vector<double> xs;
  for (double x = -110.0; x <= 110.0; x += 0.173) xs.push_back(static_cast<double>(static_cast<T>(x)));
  for (double x : {-40.0, -20.0, -1e-3, -1e-30, 1e-30, 1e-3, 20.0, 40.0}) xs.push_back(x);
  const Tensor y = softplus_of(vector_of<T>(xs));
  std::int64_t worst = 0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const T want = static_cast<T>(softplus_oracle(static_cast<long double>(static_cast<T>(xs[i]))));
    const std::int64_t d = ulp_distance(y.data<T>()[i], want);
    INFO("x = " << xs[i] << ": got " << y.data<T>()[i] << ", want " << want);
    CHECK(d <= 2);
    worst = std::max(worst, d);
  }
  MESSAGE("worst distance from the oracle: " << worst << " ulp");
}

TEST_CASE("softplus: type inference and errors come from ElementwiseOp") {
  Graph g;
  const Expr x = g.input("x", DType::float32, {2, kSymbolic});
  CHECK(softplus(x).type() == TensorType{DType::float32, {2, kSymbolic}});
  const Expr b = g.input("b", DType::boolean, {3});
  CHECK(error_of([&] { softplus(b); }) == "softplus: operand 0 is bool[3]; this op needs float32 or float64");
  CHECK(error_of([&] { apply("softplus", {x, x}); }).find("softplus") != std::string::npos);
}

TEST_CASE_TEMPLATE("the gradient is sigmoid(x), checked against central differences", T, float, double) {
  const DType dt = std::is_same_v<T, float> ? DType::float32 : DType::float64;
  // softplus alone, and inside a broadcasting composite.
  GradCheckResult r = verify_grad([](const std::vector<Expr>& in) { return softplus(in[0]); },
                                  {tensor({-3.0, -0.5, 0.25, 2.5}, {}, dt)});
  CHECK(r.passed);
  r = verify_grad([](const std::vector<Expr>& in) { return softplus(in[0] * in[1]) - softplus(-in[1]); },
                  {tensor({-1.5, 0.5, 2.0, -0.25, 1.0, 3.0}, {2, 3}, dt), tensor({0.5, -1.25, 2.0}, {}, dt)});
  CHECK(r.passed);

  // Values: sigmoid, finite at the extremes; and the second derivative
  // sigmoid(x) sigmoid(-x), finite too (0.25 at 0).
  Graph g;
  const Expr x = g.input("x", dt, {kSymbolic});
  const Expr d1 = grad(sum(softplus(x)), {x})[0];
  const Expr d2 = grad(sum(d1), {x})[0];
  const std::vector<double> xs = {-1000.0, -inf, -2.0, -0.0, 0.0, 2.0, 1000.0, inf};
  const std::vector<Tensor> got = run({x}, {d1, d2}, {tensor(xs, {}, dt)});
  for (std::size_t i = 0; i < xs.size(); ++i) {
    CAPTURE(xs[i]);
    const long double s = 1.0L / (1.0L + std::exp(-static_cast<long double>(xs[i])));
    CHECK(ulp_distance(got[0].data<T>()[i], static_cast<T>(s)) <= 2);
    CHECK(std::isfinite(got[1].at(static_cast<std::int64_t>(i))));
    CHECK(std::abs(got[1].at(static_cast<std::int64_t>(i)) - static_cast<double>(s * (1.0L - s))) <= 4e-7);
  }
  CHECK(got[1].at(4) == 0.25);
}

TEST_CASE("JSON round trip: the same graph, the same values") {
  for (DType dt : {DType::float32, DType::float64}) {
    Graph g;
    const Expr x = g.input("x", dt, {kSymbolic});
    const Expr y = softplus(scale(x, 2.0)) + softplus(x);
    const Expr dy = grad(sum(y), {x})[0];
    const std::string text = to_json({x}, {y, dy});
    CHECK(text.find("\"op\": \"softplus\"") != std::string::npos);
    const LoadedGraph back = from_json(text);
    CHECK(to_json(back.inputs, back.outputs) == text);
    CHECK(back.outputs[0].input(0).op_name() == "softplus");
    const Tensor xs = tensor({-1000.0, -3.0, -0.0, 0.5, 88.0, 1000.0, NaN}, {}, dt);
    const std::vector<Tensor> before = run({x}, {y, dy}, {xs}), after = run(back.inputs, back.outputs, {xs});
    check_same(after[0], before[0]);
    check_same(after[1], before[1]);
  }
}

// examples/custom_op/elu.cpp, the guide's op with an attribute: the kernel
// and the VJP read alpha from the node.
TEST_CASE_TEMPLATE("elu: the kernel and the gradient read the attribute", T, float, double) {
  const DType dt = std::is_same_v<T, float> ? DType::float32 : DType::float64;
  const std::vector<double> xs = {-inf, -1000.0, -3.0, -1.0, -1e-3, -0.0, 0.0, 1e-3, 0.5, 3.0, inf};
  for (const double alpha : {0.5, 2.0, -1.5}) {
    CAPTURE(alpha);
    Graph g;
    const Expr x = g.input("x", dt, {kSymbolic});
    const Expr y = example::elu(x, alpha);
    CHECK(y.attrs().get<double>("alpha") == alpha);
    const Expr dy = grad(sum(y), {x})[0];
    const Tensor in = tensor(xs, {}, dt);
    const std::vector<Tensor> ref = compile_reference({x}, {y, dy})({in});
    CompileOptions as_written;
    as_written.pipeline = Pipeline::none();
    const std::vector<Tensor> fast = compile({x}, {y, dy}, as_written)({in});
    check_same(fast[0], ref[0]);
    check_same(fast[1], ref[1]);
    for (std::size_t i = 0; i < xs.size(); ++i) {
      CAPTURE(xs[i]);
      // Oracles in long double: x, alpha * expm1(x); 1, alpha * exp(x).
      const long double v = static_cast<T>(xs[i]), a = static_cast<T>(alpha);
      const T want = static_cast<T>(v > 0 ? v : a * std::expm1(v));
      const T dwant = static_cast<T>(v > 0 ? 1.0L : a * std::exp(v));
      CHECK(ulp_distance(ref[0].data<T>()[i], want) <= 2);
      CHECK(ulp_distance(ref[1].data<T>()[i], dwant) <= 2);
    }
    const GradCheckResult r = verify_grad([alpha](const std::vector<Expr>& v) { return example::elu(v[0], alpha); },
                                          {tensor({-3.0, -0.5, -0.125, 0.25, 2.5}, {}, dt)});
    CHECK(r.passed);
    // The attribute goes through JSON, and the loaded node computes the same.
    const LoadedGraph back = from_json(to_json({x}, {y, dy}));
    CHECK(back.outputs[0].attrs().get<double>("alpha") == alpha);
    const std::vector<Tensor> again = compile_reference(back.inputs, back.outputs)({in});
    check_same(again[0], ref[0]);
    check_same(again[1], ref[1]);
  }
  // Two slopes, two nodes; an elu without its attribute is refused.
  Graph g;
  const Expr x = g.input("x", dt, {3});
  CHECK(!example::elu(x, 0.5).is(example::elu(x, 0.25)));
  CHECK(example::elu(x, 0.5).is(example::elu(x, 0.5)));
  CHECK(error_of([&] { apply("elu", {x}); }).find("missing attribute \"alpha\" (a number) of op elu") !=
        std::string::npos);
}

TEST_CASE("text and DOT name the op") {
  Graph g;
  const Expr x = g.input("x", DType::float64, {3});
  const Expr y = softplus(x);
  CHECK(debugprint({y}) == "softplus [id 1] float64[3]\n |x [id 0] float64[3]\n");
  CHECK(to_dot({y}).find("n1 [label=\"softplus\\n[id 1] float64[3]\"];") != std::string::npos);
  CHECK(expr_str(log(softplus(x))) == "log(softplus(x))");
}

TEST_CASE("the rewrite fires on log(1 + exp(x)) in both operand orders, float32 and float64") {
  for (DType dt : {DType::float32, DType::float64}) {
    for (int spelling = 0; spelling < 2; ++spelling) {
      CAPTURE(dtype_name(dt));
      CAPTURE(spelling);
      Graph g;
      const Expr x = g.input("x", dt, {kSymbolic});
      const Expr hand = spelling == 0 ? log(1.0 + exp(x)) : log(exp(x) + 1.0);
      RewriteTrace trace;
      const Expr out = optimize({hand}, Pipeline::standard(), &trace)[0];
      CHECK(out.is(softplus(x)));
      REQUIRE(!trace.empty());
      CHECK(trace.back().pass == "softplus");
      CHECK(trace.back().rule == kRule);
      CHECK(trace.back().after.is(softplus(x)));

      // Where exp neither overflows nor vanishes against 1, the forms agree
      // within the rounding of 1 + exp(x), a few eps absolute (eps relative
      // for large x); beyond, softplus is right and the hand-written form not.
      const double eps = dt == DType::float32 ? 0x1p-23 : 0x1p-52;
      const Tensor xs = tensor({-5.0, -1.0, -0.0, 0.5, 3.0, 15.0}, {}, dt);
      const std::vector<Tensor> v = run({x}, {hand, out}, {xs});
      for (std::int64_t i = 0; i < xs.size(); ++i)
        CHECK(std::abs(v[0].at(i) - v[1].at(i)) <= 4 * eps * std::max(1.0, std::abs(v[1].at(i))));
      const double big = dt == DType::float32 ? 100.0 : 1000.0;    // exp(big) overflows
      const double small = dt == DType::float32 ? -20.0 : -100.0;  // 1 + exp(small) rounds to 1
      const std::vector<Tensor> tails = run({x}, {hand, out}, {tensor({big, small, NaN}, {}, dt)});
      CHECK(tails[0].at(0) == inf);
      CHECK(tails[1].at(0) == big);
      CHECK(tails[0].at(1) == 0.0);
      CHECK(std::abs(tails[1].at(1) - std::exp(small)) <= eps * std::exp(small));
      CHECK(std::isnan(tails[0].at(2)));
      CHECK(std::isnan(tails[1].at(2)));  // no NaN becomes a number
    }
  }
}

TEST_CASE("the rewrite does not fire on look-alikes, nor in the strict pipeline") {
  Graph g;
  const Expr x = g.input("x", DType::float64, {kSymbolic});
  const Expr y = g.input("y", DType::float64, {kSymbolic});
  const Expr s = g.input("s", DType::float64, {});
  const std::vector<Expr> others = {
      log(2.0 + exp(x)),                                           // another constant
      log(y + exp(x)),                                             // not a constant
      log(1.0 + exp(x) * 2.0),                                     // not exp(x)
      log(g.constant(Tensor::from_list<double>({1, 1, 1})) + exp(s)),  // 1 would broadcast s to [3]
  };
  for (const Expr& e : others) {
    CAPTURE(expr_str(e));
    RewriteTrace trace;
    optimize({e}, Pipeline::standard(), &trace);
    for (const RewriteEvent& ev : trace) CHECK(ev.rule != kRule);
  }
  const Expr hand = log(1.0 + exp(x));
  CHECK(optimize({hand}, Pipeline::strict())[0].op_name() == "log");
  CHECK(Pipeline::standard().str() == "constant-folding+canonicalize+relu-to-abs+cse+softplus, dead-node-removal");
  CHECK(Pipeline::strict().str() ==
        "constant-folding+canonicalize+cse+softplus, dead-node-removal (exact rules only)");
}

TEST_CASE("compile() evaluates the user op inside a fused elementwise chain") {
  Graph g;
  const Expr x = g.input("x", DType::float64, {kSymbolic});
  // exp, scale | softplus | add, relu: the op has no fused kernel, so it
  // runs with its own compute() between two fused kernels.
  const Expr y = relu(softplus(exp(x) * 0.5) + x, 0.1);
  CompileOptions as_written;
  as_written.pipeline = Pipeline::none();
  const Function fast = compile({x}, {y}, as_written);
  CHECK(fast.num_steps() == 3);
  CHECK(fast.describe().find("softplus") != std::string::npos);
  std::vector<double> values;
  for (int i = -2000; i <= 2000; ++i) values.push_back(i * 0.37);
  values.insert(values.end(), {inf, -inf, NaN, -0.0});
  const std::vector<Tensor> args = {tensor(values)};
  check_same(fast(args)[0], compile_reference({x}, {y})(args)[0]);
  // With the standard pipeline, compile() rewrites the hand-written form first.
  const Expr hand = log(1.0 + exp(x));
  check_same(compile({x}, {hand})(args)[0], softplus_of(args[0]));
}

TEST_CASE("expressions call registered ops by name") {
  Graph g;
  ExpressionInputs decl;
  decl.declared["m"] = {DType::float64, {2, 3}};
  const std::vector<Expr> outs = parse_expressions(g, "softplus(2 * x), softplus(x) + 1, transpose(m)", decl);
  const Expr x = g.input("x", DType::float64, {kSymbolic});
  CHECK(outs[0].is(softplus(g.constant(2.0) * x)));
  CHECK(outs[1].is(softplus(x) + 1.0));
  CHECK(outs[2].op_name() == "transpose");
  CHECK(error_of([&] { parse_expressions(g, "softplus(x, x)"); }) == "column 1: softplus takes 1 argument, got 2");
  CHECK(error_of([&] { parse_expressions(g, "softplus()"); }) == "column 1: softplus takes 1 argument, got 0");
  // An op with attributes is not callable (there is no syntax for them),
  // and the message says so rather than calling it unknown.
  CHECK(error_of([&] { parse_expressions(g, "reshape(x)"); }) ==
        "column 1: op 'reshape' needs attributes (shape), which an expression cannot give; build it in C++ or load "
        "it from JSON");
  CHECK(error_of([&] { parse_expressions(g, "2 * test_elu(x)"); }) ==
        "column 5: op 'test_elu' needs attributes (alpha), which an expression cannot give; build it in C++ or load "
        "it from JSON");
}

TEST_CASE("a pass of the user's own joins a pipeline by name") {
  using namespace pattern;
  const Var v{"v"};
  // softplus(x) - x -> softplus(-x)   log(1 + e^x) - log(e^x) = log(e^-x + 1)
  register_pass("test-softplus-shift", "softplus(x) - x becomes softplus(-x)",
                {{"softplus-minus-x", op("softplus", {v}) - v, [v](const Match& m) { return softplus(-m[v]); },
                  Contract::approximate}});
  Graph g;
  const Expr x = g.input("x", DType::float64, {kSymbolic});
  const Expr e = softplus(x) - x;
  CHECK(optimize({e})[0].op_name() == "sub");  // not in the standard pipeline
  RewriteTrace trace;
  const Pipeline p = Pipeline::standard().with("test-softplus-shift");
  CHECK(p.str() == "constant-folding+canonicalize+relu-to-abs+cse+softplus+test-softplus-shift, dead-node-removal");
  CHECK(optimize({e}, p, &trace)[0].is(softplus(-x)));
  CHECK(trace.back().pass == "test-softplus-shift");
  CHECK(optimize({e}, Pipeline::from_names({"test-softplus-shift"}))[0].is(softplus(-x)));
  bool listed = false;
  for (const Pass& pass : passes()) listed |= pass.name == "test-softplus-shift";
  CHECK(listed);

  // Names: unique, usable in from_names and on the command line.
  CHECK(error_of([] { register_pass("softplus", "", {}); }) ==
        "register_pass 'softplus': a pass of that name is registered already");
  CHECK(error_of([] { register_pass("cse", "", {}); }) == "register_pass 'cse': a built-in pass has that name");
  CHECK(error_of([] { register_pass("a+b", "", {}); }).find("without '+', ',' or spaces") != std::string::npos);
  CHECK(error_of([] { register_pass("", "", {}); }).find("must be non-empty") != std::string::npos);
  CHECK(error_of([&] { register_pass("test-again", "", {{kRule, -v, v, Contract::exact}}); }) ==
        "register_pass 'test-again': pass softplus already has a rule named 'log-1-plus-exp' (rule names are unique)");
  // A rule named like a built-in one is refused when it is registered, so
  // no later optimize() ever meets the clash.
  CHECK(error_of([&] { register_pass("test-shadow", "", {{"neg-neg", -v, v, Contract::exact}}); }) ==
        "register_pass 'test-shadow': built-in pass canonicalize already has a rule named 'neg-neg' (rule names are "
        "unique)");
  CHECK(error_of([&] { register_pass("test-shadow", "", {{"order-operands", -v, v, Contract::exact}}); }) ==
        "register_pass 'test-shadow': built-in pass canonicalize already has a rule named 'order-operands' (rule "
        "names are unique)");
  CHECK(error_of([] { Pipeline::standard().with("test-shadow"); }).find("unknown pass 'test-shadow'") !=
        std::string::npos);
  CHECK(optimize({-(-x)}, Pipeline::standard())[0].is(x));
  CHECK(error_of([] { Pipeline::standard().with("no-such-pass"); }).find("unknown pass 'no-such-pass'") !=
        std::string::npos);
}

TEST_CASE("printers call format() with one string per operand, and label() for a node alone") {
  Graph g;
  const Expr x = g.input("x", DType::float64, {3});
  const Expr e = apply("test_pair", {test_elu(x, 0.5), x});
  CHECK(expr_str(e) == "elu[0.5](x) <+> x");
  CHECK(expr_str(test_elu(e, 2.0)) == "elu[2](elu[0.5](x) <+> x)");
  // Beyond the depth shown, and in the one-node-a-line forms: label().
  CHECK(expr_str(e, 0) == "<+>[id 2]...");
  CHECK(expr_str(test_elu(x, 0.5), 0) == "test_elu(alpha=0.5)[id 1]...");
  CHECK(debugprint({e}) ==
        "<+> [id 2] float64[3]\n"
        " |test_elu(alpha=0.5) [id 1] float64[3]\n"
        " | |x [id 0] float64[3]\n"
        " |x [id 0] float64[3]\n");
  // Integer lists print as integers (-1 is not a shape's "?").
  CHECK(attr_str(std::vector<std::int64_t>{-1, 0, 9007199254740993}) == "[-1, 0, 9007199254740993]");
  const std::string dot = to_dot({e});
  CHECK(dot.find("label=\"<+>\\n[id 2] float64[3]\"") != std::string::npos);
  CHECK(dot.find("label=\"test_elu(alpha=0.5)\\n[id 1] float64[3]\"") != std::string::npos);
  // A rewrite trace prints both sides with format().
  using namespace pattern;
  const Var v{"v"};
  RewriteTrace trace;
  const Rule swap{"test-pair-elu", op("test_pair", {op("test_elu", {v}, {{"alpha", 0.5}}), v}),
                  [v](const Match& m) { return apply("test_pair", {m[v], test_elu(m[v], 0.5)}); }, Contract::exact};
  rewrite({e}, {swap}, "test", &trace);
  REQUIRE(trace.size() == 1);
  CHECK(expr_str(trace[0].after) == "x <+> elu[0.5](x)");
}

TEST_CASE("attributes are checked when a node is built, in the same words as JSON loading") {
  Graph g;
  const Expr x = g.input("x", DType::float64, {3});
  const std::size_t nodes = g.size();
  const std::vector<std::pair<Attrs, std::string>> cases = {
      {{}, "missing attribute \"alpha\" (a number) of op test_elu"},
      {{{"alpha", std::string("big")}}, "attribute \"alpha\" of op test_elu must be a number, got a string"},
      {{{"alpha", std::int64_t{1}}}, "attribute \"alpha\" of op test_elu must be a number, got an integer"},
      {{{"alpha", 0.5}, {"beta", 1.0}}, "op test_elu has no attribute \"beta\" (its attributes: alpha (number))"},
  };
  for (const auto& [attrs, message] : cases) {
    CAPTURE(message);
    CHECK(error_of([&] { apply("test_elu", {x}, attrs); }) == message);
  }
  // Built-in ops alike; nothing is added to the store by a failed build.
  CHECK(error_of([&] { apply("scale", {x}); }) == "missing attribute \"factor\" (a number) of op scale");
  CHECK(error_of([&] { apply("neg", {x}, {{"factor", 2.0}}); }) ==
        "op neg has no attribute \"factor\" (its attributes: none)");
  CHECK(error_of([&] { apply("sum", {x}, {{"axes", std::vector<std::int64_t>{0}}}); }) ==
        "missing attribute \"keepdims\" (an integer) of op sum");
  CHECK(g.size() == nodes);

  // JSON loading reports the same check, with the place in the document.
  const std::string doc = to_json({x}, {test_elu(x, 0.5)});
  const auto without = [&](const std::string& from, const std::string& to) {
    std::string d = doc;
    REQUIRE(d.find(from) != std::string::npos);
    return error_of([&] { from_json(d.replace(d.find(from), from.size(), to)); });
  };
  CHECK(without("\"attrs\": {\"alpha\": 0.5}", "\"attrs\": {}") ==
        "nodes[1].attrs (node 1, op test_elu): " + error_of([&] { apply("test_elu", {x}); }));
  CHECK(without("\"alpha\": 0.5", "\"alpha\": 0.5, \"beta\": 1") ==
        "nodes[1].attrs.beta (node 1, op test_elu): " +
            error_of([&] { apply("test_elu", {x}, {{"alpha", 0.5}, {"beta", 1.0}}); }));
}

TEST_CASE("registration checks an op's numbers of operands; infer never sees fewer than declared") {
  struct NoOperands final : ElementwiseOp {
    NoOperands() : ElementwiseOp("test_no_operands", 0, 0) {}
    void compute(std::span<const Tensor* const>, const Attrs&, Tensor&) const override {}

   protected:
    std::vector<std::optional<Expr>> partials(const Expr&, const Expr&) const override { return {}; }
  };
  struct Backwards final : Op {
    Backwards(int min, int max) : Op("test_backwards", min, max) {}
    TensorType infer(std::span<const TensorType> in, const Attrs&) const override { return in[0]; }
    void compute(std::span<const Tensor* const>, const Attrs&, Tensor&) const override {}
  };
  CHECK(error_of([] { register_op(std::make_unique<NoOperands>()); }) ==
        "register_op: op 'test_no_operands' is elementwise and needs at least one operand (min_inputs is 0): its "
        "type is the broadcast of its operands'");
  CHECK(error_of([] { register_op(std::make_unique<Backwards>(2, 1)); }) ==
        "register_op: op 'test_backwards' has max_inputs 1 below min_inputs 2 (a negative max_inputs means any "
        "number)");
  CHECK(error_of([] { register_op(std::make_unique<Backwards>(-1, 2)); }) ==
        "register_op: op 'test_backwards' has min_inputs -1; it must be 0 or more");
  CHECK(OpRegistry::instance().find("test_no_operands") == nullptr);
  CHECK(OpRegistry::instance().find("test_backwards") == nullptr);

  // test_pair's infer reads two operands: with one, the count is refused first.
  Graph g;
  const Expr x = g.input("x", DType::float64, {3});
  CHECK(error_of([&] { apply("test_pair", {x}); }) == "test_pair: expects 2 input(s), got 1");
  const std::string doc = to_json({x}, {apply("test_pair", {x, x})});
  std::string one = doc;
  one.replace(one.find("\"inputs\": [0, 0]"), 16, "\"inputs\": []");
  CHECK(error_of([&] { from_json(one); }) == "nodes[1].inputs (node 1, op test_pair): op test_pair takes 2 input(s), got 0");
  // An elementwise op used without registering it, with no operands: an
  // error from infer, not a read past the end.
  const NoOperands unregistered;
  CHECK(error_of([&] { g.store()->add(unregistered, {}, {}); }) ==
        "test_no_operands: an elementwise op needs at least one operand");
}

TEST_CASE("NaN attributes are one value, in memory and through JSON; -0 in JSON is -0.0") {
  Graph g;
  const Expr x = g.input("x", DType::float64, {kSymbolic});
  const double payload = std::bit_cast<double>(0x7ff8000000000123ULL);
  const double signaling = std::bit_cast<double>(0x7ff0000000000001ULL);
  const Expr a = test_elu(x, NaN);
  for (double nan : {-NaN, payload, -payload, signaling}) {
    CAPTURE(bits(nan));
    CHECK(test_elu(x, nan).is(a));
    CHECK(scale(x, nan).is(scale(x, NaN)));
  }
  CHECK(bits(a.attrs().get<double>("alpha")) == bits(NaN));
  CHECK(!test_elu(x, -0.0).is(test_elu(x, 0.0)));  // zeros keep their sign

  // The document of elu(x, -NaN) is that of elu(x, NaN), and reloading
  // keeps exactly the nodes memory has.
  CHECK(to_json({x}, {test_elu(x, -NaN)}) == to_json({x}, {a}));
  const std::vector<Expr> outs = {a, test_elu(x, -payload), test_elu(x, -0.0), test_elu(x, 0.0)};
  const std::string doc = to_json({x}, outs);
  const LoadedGraph back = from_json(doc);
  CHECK(back.outputs[0].is(back.outputs[1]));
  CHECK(!back.outputs[2].is(back.outputs[3]));
  CHECK(std::signbit(back.outputs[2].attrs().get<double>("alpha")));
  CHECK(!std::signbit(back.outputs[3].attrs().get<double>("alpha")));
  CHECK(to_json(back.inputs, back.outputs) == doc);

  // Tensor attributes alike; the caller's tensor keeps its bits.
  for (DType dt : {DType::float32, DType::float64}) {
    CAPTURE(dtype_name(dt));
    Tensor odd = tensor({1.0, 2.0}, {}, dt);
    if (dt == DType::float32) {
      odd.data<float>()[1] = std::bit_cast<float>(0xffc00123U);
    } else {
      odd.data<double>()[1] = -payload;
    }
    const Attrs p{{"v", odd}}, q{{"v", tensor({1.0, NaN}, {}, dt)}};
    CHECK(p == q);
    CHECK(p.hash() == q.hash());
    CHECK(std::isnan(odd.at(1)));
    if (dt == DType::float32) {
      CHECK(std::bit_cast<std::uint32_t>(odd.data<float>()[1]) == 0xffc00123U);
    } else {
      CHECK(bits(odd.data<double>()[1]) == bits(-payload));
    }
  }

  // A literal NaN in a pattern matches the NaN attribute.
  using namespace pattern;
  const Var v{"v"};
  const Rule nan_alpha{"test-nan-alpha", op("test_elu", {v}, {{"alpha", -NaN}}), Replacement(v), Contract::exact};
  CHECK(nan_alpha.match(test_elu(x, payload)).has_value());
  CHECK(!nan_alpha.match(test_elu(x, 0.5)).has_value());

  // Hand-written "-0" (an integer token) is -0.0 where a float is read: in
  // attributes and in constants' data; an integer attribute reads 0.
  const std::string one = to_json({x}, {test_elu(x, 0.5)});
  const auto alpha_of = [&](const std::string& text) {
    std::string d = one;
    d.replace(d.find("\"alpha\": 0.5"), 12, "\"alpha\": " + text);
    return from_json(d).outputs[0].attrs().get<double>("alpha");
  };
  for (const char* text : {"-0", "-0.0", "-0e0"}) {
    CAPTURE(text);
    CHECK(alpha_of(text) == 0.0);
    CHECK(std::signbit(alpha_of(text)));
  }
  for (const char* text : {"0", "0.0"}) {
    CAPTURE(text);
    CHECK(!std::signbit(alpha_of(text)));
  }
  std::string minus_zero = one;
  minus_zero.replace(minus_zero.find("\"alpha\": 0.5"), 12, "\"alpha\": -0");
  const LoadedGraph loaded = from_json(minus_zero);
  CHECK(to_json(loaded.inputs, loaded.outputs) == to_json({x}, {test_elu(x, -0.0)}));
  for (DType dt : {DType::float32, DType::float64}) {
    CAPTURE(dtype_name(dt));
    std::string d = to_json({}, {graph_of(x).constant(tensor({1.0, 2.0}, {}, dt))});
    REQUIRE(d.find("[1.0, 2.0]") != std::string::npos);
    d.replace(d.find("[1.0, 2.0]"), 10, "[-0, 0]");
    const Tensor value = from_json(d).outputs[0].attrs().get<Tensor>("value");
    CHECK(std::signbit(value.at(0)));
    CHECK(!std::signbit(value.at(1)));
  }
  std::string sum_doc = to_json({x}, {sum(x, {0}, false)});
  REQUIRE(sum_doc.find("\"keepdims\": 0") != std::string::npos);
  sum_doc.replace(sum_doc.find("\"keepdims\": 0"), 13, "\"keepdims\": -0");
  CHECK(from_json(sum_doc).outputs[0].attrs().get<std::int64_t>("keepdims") == 0);
}

TEST_CASE("a replacement that returns an empty expression says so") {
  using namespace pattern;
  const Var v{"v"};
  Graph g;
  const Expr x = g.input("x", DType::float64, {});
  const Rule empty{"test-to-empty", -v, [](const Match&) { return Expr(); }, Contract::exact};
  const std::string err = error_of([&] { rewrite({-x}, {empty}, "test"); });
  CHECK(err.find("rewrite rule 'test-to-empty' (pass test) on ") == 0);
  CHECK(err.find("returned an empty expression (Expr()); a replacement builds one") != std::string::npos);
  CHECK(err.find("another graph") == std::string::npos);
}

TEST_CASE("an unregistered op: JSON and expressions say which op and what to do") {
  const std::string doc = R"({"format": "symgraph", "version": 1, "inputs": [0], "outputs": [1], "nodes": [
    {"id": 0, "op": "input", "name": "x", "inputs": [], "dtype": "float64", "shape": []},
    {"id": 1, "op": "softsign", "inputs": [0], "dtype": "float64", "shape": []}]})";
  CHECK(error_of([&] { from_json(doc); }) ==
        "nodes[1].op: unknown op \"softsign\" in node 1 (not a built-in op; if it is an extension op, register it "
        "before loading: link the file with its RegisterOp, or load_extension() / symgraph --load the shared "
        "object that has it)");
  Graph g;
  const std::string parse_error = error_of([&] { parse_expressions(g, "softsign(x)"); });
  CHECK(parse_error.find("column 1: unknown function 'softsign' (functions: abs, ") == 0);
  CHECK(parse_error.find("an extension op once registered (symgraph --load, or RegisterOp)") != std::string::npos);
  CHECK(error_of([] { op_named("softsign"); }).find("unknown op 'softsign'") == 0);
}

#ifdef SOFTPLUS_EXTENSION

namespace {

/// The 1-based number of the line of `file` that contains `marker`.
int line_of(const std::string& file, const std::string& marker) {
  std::ifstream in(file);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n)
    if (line.find(marker) != std::string::npos) return n;
  FAIL("no line of " << file << " contains " << marker);
  return 0;
}

/// How a registration's error names where it is declared.
std::string declared(const char* what, const std::string& file, const std::string& marker) {
  return std::string(" (") + what + " at " + file.substr(file.find_last_of('/') + 1) + ":" +
         std::to_string(line_of(file, marker)) + ")";
}

const std::string kModules = EXTENSIONS_SOURCE_DIR "/modules.cpp";
const std::string kPrograms = EXTENSIONS_SOURCE_DIR "/programs.cpp";
const std::string kSoftplusSource = SOFTPLUS_SOURCE;

bool has_pass(const std::string& name) {
  for (const Pass& p : passes())
    if (p.name == name) return true;
  return false;
}

}  // namespace

TEST_CASE("load_extension: errors name the file, the registration and the reason") {
  // This program has softplus already (it exports its symbols to the
  // module, like the symgraph command): the module's registrations fail,
  // and say so, instead of ending the program from a static initialiser.
  const std::string want = std::string("extension '") + SOFTPLUS_EXTENSION +
                           "': register_op: an op named 'softplus' is already registered" +
                           declared("RegisterOp", kSoftplusSource, "const RegisterOp<Softplus>") +
                           "; register_pass 'softplus': a pass of that name is registered already" +
                           declared("RegisterPass", kSoftplusSource, "const RegisterPass softplus_pass");
  CHECK(error_of([] { load_extension(SOFTPLUS_EXTENSION); }) == want);
  CHECK(error_of([] { load_extension(SOFTPLUS_EXTENSION); }) == want);  // again: the same
  CHECK(error_of([] { load_extension("/no/such/extension.so"); })
            .find("cannot load extension '/no/such/extension.so': /no/such/extension.so: cannot open shared object "
                  "file") == 0);
  // The library's own op is still the one in use.
  Graph g;
  const Expr x = g.input("x", DType::float64, {});
  CHECK(run({x}, {softplus(x)}, {tensor({0.0})})[0].at(0) == static_cast<double>(std::log(2.0L)));
}

TEST_CASE("load_extension is all or nothing: a failed load takes back its ops and passes, and fails again") {
  const std::string unknown_op = error_of([] { op_named("no_such_op"); });
  struct Case {
    const char* module;
    std::string reasons;
    std::vector<std::string> ops, passes;  // what the module registered before it failed
  };
  const std::vector<Case> cases = {
      {MODULE_builtin_op_name,
       "register_op: an op named 'exp' is already registered" +
           declared("RegisterOp", kModules, "line: builtin_op_name RegisterOp<Exp>"),
       {"ext_first"},
       {"ext-first"}},
      {MODULE_rule_unknown_op,
       "register_pass 'ext-bad': its rules failed to build: " + unknown_op +
           declared("RegisterPass", kModules, "line: rule_unknown_op RegisterPass"),
       {"ext_second"},
       {}},
      {MODULE_constructor_throws,
       "constructor failed" + declared("RegisterOp", kModules, "line: constructor_throws RegisterOp<Throws>") +
           "; an exception that is not a std::exception" +
           declared("RegisterOp", kModules, "line: constructor_throws RegisterOp<ThrowsInt>"),
       {},
       {}},
      {MODULE_builtin_rule_name,
       "register_pass 'ext-third': built-in pass canonicalize already has a rule named 'order-operands' (rule names "
       "are unique)" +
           declared("RegisterPass", kModules, "line: builtin_rule_name RegisterPass"),
       {"ext_third"},
       {}},
      {MODULE_zero_arity,
       "register_op: op 'ext_zero' is elementwise and needs at least one operand (min_inputs is 0): its type is the "
       "broadcast of its operands'" +
           declared("RegisterOp", kModules, "line: zero_arity RegisterOp<Zero>"),
       {},
       {}},
  };
  const std::string standard = Pipeline::standard().str();
  for (const Case& c : cases) {
    CAPTURE(c.module);
    const std::string want = std::string("extension '") + c.module + "': " + c.reasons;
    CHECK(error_of([&] { load_extension(c.module); }) == want);
    for (const std::string& name : c.ops) CHECK(OpRegistry::instance().find(name) == nullptr);
    for (const std::string& name : c.passes) CHECK(!has_pass(name));
    CHECK(Pipeline::standard().str() == standard);
    CHECK(error_of([&] { load_extension(c.module); }) == want);
    for (const std::string& name : c.ops) CHECK(OpRegistry::instance().find(name) == nullptr);
  }
  // A JSON document naming an op of a failed module does not load.
  Graph g;
  const Expr x = g.input("x", DType::float64, {});
  std::string doc = to_json({x}, {abs(x)});
  doc.replace(doc.find("\"op\": \"abs\""), 11, "\"op\": \"ext_first\"");
  CHECK(error_of([&] { from_json(doc); }).find("unknown op \"ext_first\"") != std::string::npos);
}

TEST_CASE("load_extension: a pass declared before the op its rule names") {
  REQUIRE(error_of([] { load_extension(MODULE_pass_before_op); }) == "");
  REQUIRE(error_of([] { load_extension(MODULE_pass_before_op); }) == "");  // loads once
  CHECK(has_pass("ext-magnitude"));
  Graph g;
  const Expr x = g.input("x", DType::float64, {kSymbolic});
  const Expr once = apply("ext_magnitude", {x});
  RewriteTrace trace;
  CHECK(optimize({apply("ext_magnitude", {once})}, Pipeline::standard(), &trace)[0].is(once));
  REQUIRE(!trace.empty());
  CHECK(trace.back().rule == "ext-magnitude-twice");
  const Tensor xs = tensor({-2.0, -0.0, 3.0, -inf, NaN});
  check_same(run({x}, {once}, {xs})[0], tensor({2.0, 0.0, 3.0, inf, NaN}));
}

namespace {

struct Output {
  int status = -1;
  std::string out, err;
};

/// Runs `program args` through the shell; standard error captured apart.
Output run_program(const std::string& program, const std::string& args) {
  const std::string err_file = "test_custom_op_" + std::to_string(::getpid()) + ".err";
  Output r;
  FILE* p = ::popen(("'" + program + "' " + args + " 2>" + err_file).c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(err_file);
  r.err.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  std::remove(err_file.c_str());
  return r;
}

const std::string kLoad = std::string("--load '") + SOFTPLUS_EXTENSION + "'";

}  // namespace

TEST_CASE("the symgraph command with --load: the op in expressions, JSON, passes, gradients") {
  const Output e = run_program(SYMGRAPH_CLI, "eval " + kLoad +
                                                 " -e 'softplus(x)' --input 'x=[-1000, -0.0, 1000, \"inf\", \"-inf\"]' "
                                                 "--grad x");
  CHECK(e.status == 0);
  CHECK(e.err.empty());
  CHECK(e.out ==
        "{\"outputs\": [{\"dtype\": \"float64\", \"shape\": [5], \"data\": [0.0, 0.6931471805599453, 1000.0, \"inf\", "
        "0.0]}], \"grads\": {\"x\": {\"dtype\": \"float64\", \"shape\": [5], \"data\": [0.0, 0.5, 1.0, 1.0, 0.0]}}}\n");

  // The pass joins the standard pipeline; --trace names it.
  const Output o = run_program(SYMGRAPH_CLI, "opt " + kLoad + " -e 'log(1 + exp(x))' --format text --trace");
  CHECK(o.status == 0);
  CHECK(o.out == "softplus [id 1] float64[?]\n |x [id 0] float64[?]\n");
  CHECK(o.err.find("rewrite softplus log-1-plus-exp: log(add(exp(x), 1)) -> softplus(x)\n") != std::string::npos);
  // ... and --passes names it.
  const Output named = run_program(SYMGRAPH_CLI, "opt " + kLoad + " -e 'log(1 + exp(x))' --passes softplus --trace");
  CHECK(named.status == 0);
  CHECK(named.err == "rewrite softplus log-1-plus-exp: log(add(1, exp(x))) -> softplus(x)\n");

  // A document naming the op loads with the extension, and fails without it.
  const std::string file = "test_custom_op_" + std::to_string(::getpid()) + ".json";
  {
    Graph g;
    const Expr x = g.input("x", DType::float32, {kSymbolic});
    std::ofstream(file) << to_json({x}, {softplus(x)});
  }
  const Output loaded = run_program(SYMGRAPH_CLI, "eval " + kLoad + " " + file + " --input 'x=[1, 100]'");
  CHECK(loaded.out == "{\"outputs\": [{\"dtype\": \"float32\", \"shape\": [2], \"data\": [1.3132617, 100.0]}], "
                      "\"grads\": {}}\n");
  const Output missing = run_program(SYMGRAPH_CLI, "eval " + file + " --input 'x=[1, 100]'");
  std::remove(file.c_str());
  CHECK(missing.status == 1);
  CHECK(missing.out.empty());
  CHECK(missing.err.find("error: " + file + ": nodes[1].op: unknown op \"softplus\" in node 1") == 0);
  CHECK(missing.err.find("symgraph --load the shared object that has it)\n") != std::string::npos);

  const Output bad = run_program(SYMGRAPH_CLI, "print --load ./no-such-extension.so -e x");
  CHECK(bad.status == 1);
  CHECK(bad.out.empty());
  CHECK(bad.err.find("error: cannot load extension './no-such-extension.so': ") == 0);
  CHECK(std::count(bad.err.begin(), bad.err.end(), '\n') == 1);
}

TEST_CASE("a command of the user's own: cli_main with the op linked in") {
  const Output e = run_program(SYMGRAPH_SOFTPLUS, "eval -e 'log(exp(x) + 1)' --input 'x=[1000]' --trace");
  CHECK(e.status == 0);
  CHECK(e.out == "{\"outputs\": [{\"dtype\": \"float64\", \"shape\": [1], \"data\": [1000.0]}], \"grads\": {}}\n");
  CHECK(e.err.find("rewrite softplus log-1-plus-exp") != std::string::npos);
  // The rest of the command is the same program: its contract holds.
  const Output bad = run_program(SYMGRAPH_SOFTPLUS, "eval -e 'softplus(x, x)' --input x=1");
  CHECK(bad.status == 1);
  CHECK(bad.err == "error: column 1: softplus takes 1 argument, got 2\n");
  // It loads extension modules too: linking symgraph::cli gives it the whole
  // library, its symbols exported.
  const Output loaded = run_program(
      SYMGRAPH_SOFTPLUS, std::string("eval --load '") + MODULE_pass_before_op +
                             "' -e 'ext_magnitude(ext_magnitude(softplus(x) - 2))' --input 'x=[0, 5]' --trace");
  CHECK(loaded.status == 0);
  CHECK(loaded.err.find("rewrite ext-magnitude ext-magnitude-twice") != std::string::npos);
  // The oracle: the built-in abs in place of the module's op.
  Graph g;
  const Expr x = g.input("x", DType::float64, {kSymbolic});
  const Tensor want = run({x}, {abs(softplus(x) - 2.0)}, {tensor({0.0, 5.0})})[0];
  CHECK(loaded.out == "{\"outputs\": [" + value_to_json(want) + "], \"grads\": {}}\n");
}

TEST_CASE("the symgraph command: a module that fails to load is one error line, exit status 1") {
  for (const char* module : {MODULE_rule_unknown_op, MODULE_builtin_op_name, MODULE_constructor_throws}) {
    CAPTURE(module);
    const Output r = run_program(SYMGRAPH_CLI, std::string("print --load '") + module + "' -e 'exp(x)'");
    CHECK(r.status == 1);
    CHECK(r.out.empty());
    CHECK(r.err.find(std::string("error: extension '") + module + "': ") == 0);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
}

TEST_CASE("a program's own static registrations: a failure is reported at first use, never ends the program") {
  // Two RegisterOp of one name: main runs, every use of a registry throws.
  const std::string dup = "this program's static registrations failed (they ran before main): register_op: an op "
                          "named 'ext_dup' is already registered" +
                          declared("RegisterOp", kPrograms, "line: duplicate_op RegisterOp<Two>");
  const Output d = run_program(PROGRAM_duplicate_op, "");
  CHECK(d.status == 0);
  CHECK(d.out == "main reached\ninput: error: " + dup + "\noptimize: error: " + dup + "\ninput again: error: " + dup +
                     "\n");
  // Rules that fail to build: graphs build until the first use of passes.
  const std::string rules = "this program's static registrations failed (they ran before main): register_pass "
                            "'ext-bad': its rules failed to build: " +
                            error_of([] { op_named("no_such_op"); }) +
                            declared("RegisterPass", kPrograms, "line: failing_rules RegisterPass");
  const Output f = run_program(PROGRAM_failing_rules, "");
  CHECK(f.status == 0);
  CHECK(f.out == "main reached\ninput: ok\noptimize: error: " + rules + "\ninput again: error: " + rules + "\n");
  // A pass declared before its op, in one file: it works.
  const Output p = run_program(PROGRAM_pass_before_op, "");
  CHECK(p.status == 0);
  CHECK(p.out == "main reached\ninput: ok\next_id(z)\noptimize: ok\ninput again: ok\n");
}

#endif
