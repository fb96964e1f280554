// A user-defined op, built from the example's own source
// (examples/custom_op/softplus.cpp): its values against closed forms, its
// gradient against central differences, JSON, printing, the rewrite rule
// and the symgraph command loading it.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

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
  // An op with attributes is not callable (there is no syntax for them).
  CHECK(error_of([&] { parse_expressions(g, "reshape(x)"); }).find("unknown function 'reshape'") == 10);
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
  // A rule named like a built-in one is caught when a pipeline runs both.
  register_pass("test-shadow", "", {{"neg-neg", -v, v, Contract::exact}});
  CHECK(error_of([&] { optimize({-x}, Pipeline::standard().with("test-shadow")); }) ==
        "optimize: passes canonicalize and test-shadow both have a rule named 'neg-neg' (rename the registered pass's "
        "rule)");
  CHECK(error_of([] { Pipeline::standard().with("no-such-pass"); }).find("unknown pass 'no-such-pass'") !=
        std::string::npos);
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

TEST_CASE("load_extension: errors name the file and the failed registration") {
  // This program has softplus already (it exports its symbols to the
  // module, like the symgraph command): the module's registrations fail,
  // and say so, instead of ending the program from a static initialiser.
  const std::string err = error_of([] { load_extension(SOFTPLUS_EXTENSION); });
  CHECK(err == std::string("extension '") + SOFTPLUS_EXTENSION +
                   "': register_op: an op named 'softplus' is already registered; register_pass 'softplus': a pass "
                   "of that name is registered already");
  CHECK(error_of([] { load_extension("/no/such/extension.so"); })
            .find("cannot load extension '/no/such/extension.so': /no/such/extension.so: cannot open shared object "
                  "file") == 0);
  // The library's own op is still the one in use.
  Graph g;
  const Expr x = g.input("x", DType::float64, {});
  CHECK(run({x}, {softplus(x)}, {tensor({0.0})})[0].at(0) == static_cast<double>(std::log(2.0L)));
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
}

#endif
