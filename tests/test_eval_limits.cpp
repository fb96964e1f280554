// EvalLimits: what one call of a compiled function may compute, checked
// before any work, in both evaluators; Op::work; the bounds on what
// compile() and the optimizer fold at compile time.
#include <sys/resource.h>
#include <symgraph/graph/json.hpp>

#include "harness.hpp"

using namespace sgtest;

namespace {

/// The process's peak resident memory so far, in KiB.
long peak_rss_kib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}


/// The reviewer's 528-byte document: two empty constants whose matmul has
/// 400,000,000 elements (3.2 GB), summed.
const char* const kEmptyMatmul =
    R"({"format":"symgraph","version":1,"inputs":[],"outputs":[4],"nodes":[
{"id":0,"op":"constant","inputs":[],"dtype":"float64","shape":[20000,0],"attrs":{"value":{"dtype":"float64","shape":[20000,0],"data":[]}}},
{"id":1,"op":"constant","inputs":[],"dtype":"float64","shape":[0,20000],"attrs":{"value":{"dtype":"float64","shape":[0,20000],"data":[]}}},
{"id":3,"op":"matmul","inputs":[0,1],"dtype":"float64","shape":[20000,20000]},
{"id":4,"op":"sum","inputs":[3],"dtype":"float64","shape":[],"attrs":{"axes":[0,1],"keepdims":0}}]}
)";

/// One of the two evaluators, compiled with `limits` (compile() without
/// rewriting, so both run the graph as written).
struct Evaluator {
  const char* name;
  Function (*make)(const std::vector<Expr>&, const std::vector<Expr>&, const EvalLimits&);
};

Function make_reference(const std::vector<Expr>& in, const std::vector<Expr>& out, const EvalLimits& limits) {
  return compile_reference(in, out, limits);
}

Function make_fast(const std::vector<Expr>& in, const std::vector<Expr>& out, const EvalLimits& limits) {
  CompileOptions options;
  options.pipeline = Pipeline::none();
  options.limits = limits;
  return compile(in, out, options);
}

const Evaluator kEvaluators[] = {{"compile_reference", make_reference}, {"compile", make_fast}};

EvalLimits value_cap(std::size_t n) {
  EvalLimits l;
  l.max_value_elements = n;
  return l;
}
EvalLimits total_cap(std::size_t n) {
  EvalLimits l;
  l.max_total_elements = n;
  return l;
}
EvalLimits work_cap(std::size_t n) {
  EvalLimits l;
  l.max_work = n;
  return l;
}

std::string id_of(const Expr& e) { return "[id " + std::to_string(e.id()) + "]"; }

}  // namespace

TEST_CASE("the defaults cap nothing; any() tells whether a cap is set") {
  const EvalLimits none;
  CHECK(none.max_value_elements == SIZE_MAX);
  CHECK(none.max_total_elements == SIZE_MAX);
  CHECK(none.max_work == SIZE_MAX);
  CHECK(!none.any());
  CHECK(value_cap(5).any());
  CHECK(total_cap(5).any());
  CHECK(work_cap(5).any());
  CHECK(!CompileOptions{}.limits.any());
}

TEST_CASE("Op::work: elements read and written; matmul adds m*k*n; broadcast_to and sum_to do not read `like`") {
  Graph g;
  const Expr a = g.input("a", DType::float64, {3, 4});
  const Expr b = g.input("b", DType::float64, {4, 5});
  auto work = [](const Expr& e) {
    std::vector<TensorType> in;
    for (std::size_t j = 0; j < e.node().inputs.size(); ++j) in.push_back(e.input(j).type());
    return e.op().work(in, e.type(), e.attrs());
  };
  CHECK(work(matmul(a, b)) == 12 + 20 + 15 + 3 * 4 * 5);
  CHECK(work(exp(a)) == 12 + 12);
  CHECK(work(a + a) == 12 + 12 + 12);
  CHECK(work(sum(a)) == 12 + 1);
  const Expr row = g.input("r", DType::float64, {1, 4});
  CHECK(work(broadcast_to(row, a)) == 4 + 12);
  CHECK(work(sum_to(a, row)) == 12 + 4);
  // Shapes whose counts overflow 64 bits saturate.
  const TensorType huge{DType::float64, {std::int64_t{1} << 40, std::int64_t{1} << 40}};
  const TensorType wide{DType::float64, {std::int64_t{1} << 40, 0}}, tall{DType::float64, {0, std::int64_t{1} << 40}};
  const std::vector<TensorType> operands = {wide, tall};
  CHECK(matmul(a, b).op().work(operands, huge, {}) == UINT64_MAX);
  CHECK(saturated_elements(huge.shape) == UINT64_MAX);
  CHECK(saturated_elements(wide.shape) == 0);
  CHECK(saturated_elements({}) == 1);
}

TEST_CASE("the 528-byte empty matmul is refused before any work, in both evaluators") {
  const LoadedGraph g = from_json(kEmptyMatmul);
  const Expr mm = g.outputs[0].input(0);
  REQUIRE(mm.op_name() == "matmul");
  for (const Evaluator& ev : kEvaluators) {
    INFO(ev.name);
    const Function f = ev.make(g.inputs, g.outputs, value_cap(std::size_t{1} << 25));
    const long peak_before = peak_rss_kib();
    const std::string problem =
        limit_error_of([&] { f({}); }, "EvalLimits::max_value_elements", std::size_t{1} << 25);
    CHECK(problem == "matmul " + id_of(mm) + " would compute float64[20000, 20000]: 400000000 elements");
    // Refused before any work: the 3.2 GB result was never touched.
    CHECK(peak_rss_kib() - peak_before < 100 * 1024);
    // The work cap alone refuses it too (the multiply-adds are 0, the writes are not).
    CHECK(limit_error_of([&] { ev.make(g.inputs, g.outputs, work_cap(1'000'000))({}); }, "EvalLimits::max_work",
                         1'000'000) == "matmul " + id_of(mm) + " would bring the work done to 400000000 operations");
  }
  // compile() with its default pipeline (the optimizer does not fold it either).
  CompileOptions options;
  options.limits = total_cap(1'000'000);
  CHECK(limit_error_of([&] { compile(g.inputs, g.outputs, options)({}); }, "EvalLimits::max_total_elements",
                       1'000'000)
            .find("matmul [id ") == 0);
}

TEST_CASE("each cap: exactly enough is accepted, one less refused, in both evaluators, at call-time shapes") {
  // sum(exp(x) + x) on x of n elements computes exp (n), add (n) and sum (1):
  // 2n + 1 elements; work exp 2n, add 3n, sum n + 1: 6n + 1.
  Graph g;
  const Expr x = g.input("x", DType::float64, {kSymbolic});
  const Expr e = exp(x);
  const Expr a = e + x;
  const Expr s = sum(a);
  const std::int64_t n = 1000;
  std::vector<double> xs(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < xs.size(); ++i) xs[i] = 0.001 * static_cast<double>(i);
  const Tensor arg = tensor(xs);
  const auto un = static_cast<std::size_t>(n);
  for (const Evaluator& ev : kEvaluators) {
    INFO(ev.name);
    // The limits change nothing in what a call computes (compile()'s full
    // sum adds in another order than the reference's).
    const Tensor want = ev.make({x}, {s}, {})({arg})[0];
    check_same(ev.make({x}, {s}, value_cap(un))({arg})[0], want);
    CHECK(limit_error_of([&] { ev.make({x}, {s}, value_cap(un - 1))({arg}); }, "EvalLimits::max_value_elements",
                         un - 1) == "exp " + id_of(e) + " would compute float64[1000]: 1000 elements");
    check_same(ev.make({x}, {s}, total_cap(2 * un + 1))({arg})[0], want);
    CHECK(limit_error_of([&] { ev.make({x}, {s}, total_cap(2 * un))({arg}); }, "EvalLimits::max_total_elements",
                         2 * un) == "sum " + id_of(s) + " would bring the elements computed to 2001");
    check_same(ev.make({x}, {s}, work_cap(6 * un + 1))({arg})[0], want);
    CHECK(limit_error_of([&] { ev.make({x}, {s}, work_cap(6 * un))({arg}); }, "EvalLimits::max_work", 6 * un) ==
          "sum " + id_of(s) + " would bring the work done to 6001 operations");

    // The same function, called with a longer argument, is refused (the
    // shapes of each call count), and still works on the shorter one.
    const Function f = ev.make({x}, {s}, value_cap(un));
    std::vector<double> longer = xs;
    longer.push_back(1.0);
    CHECK(limit_error_of([&] { f({tensor(longer)}); }, "EvalLimits::max_value_elements", un).find("1001 elements") !=
          std::string::npos);
    check_same(f({arg})[0], want);
    std::vector<Tensor> out;
    CHECK_THROWS_AS(f.eval_into({tensor(longer)}, out), LimitError);

    // Static shapes: counted once, refused at every call.
    Graph h;
    const Expr y = h.input("y", DType::float64, {n});
    const Function fs = ev.make({y}, {sum(exp(y) + y)}, total_cap(2 * un));
    CHECK_THROWS_AS(fs({arg}), LimitError);
    CHECK_THROWS_AS(fs({arg}), LimitError);
    check_same(ev.make({y}, {sum(exp(y) + y)}, total_cap(2 * un + 1))({arg})[0], want);
  }
}

TEST_CASE("outputs that are copies count: an input or a constant returned, an output listed again") {
  // Returning x 1000 times makes 1000 tensors of x's size: each counts
  // against max_total_elements, as does a constant and a repeated output.
  Graph g;
  const Expr x = g.input("x", DType::float64, {kSymbolic});
  const Expr c = g.constant(tensor({1, 2, 3, 4}));
  const Expr e = exp(x);
  const Tensor arg = tensor({0.5, 1.5, 2.5});
  for (const Evaluator& ev : kEvaluators) {
    INFO(ev.name);
    // x (3), c (4), e computed (3), e again (3): 13.
    const std::vector<Expr> outs = {x, c, e, e};
    const std::vector<Tensor> got = ev.make({x}, outs, total_cap(13))({arg});
    REQUIRE(got.size() == 4);
    check_same(got[0], arg);
    check_same(got[1], tensor({1, 2, 3, 4}));
    check_same(got[3], got[2]);
    CHECK(limit_error_of([&] { ev.make({x}, outs, total_cap(12))({arg}); }, "EvalLimits::max_total_elements", 12) ==
          "output 3 (a copy of float64[3]) would bring the elements computed to 13");
    CHECK(limit_error_of([&] { ev.make({x}, {x, x}, total_cap(5))({arg}); }, "EvalLimits::max_total_elements", 5) ==
          "output 1 (a copy of float64[3]) would bring the elements computed to 6");
    // The many-outputs case: 1000 copies of a 3-element input.
    const std::vector<Expr> many(1000, x);
    CHECK_THROWS_AS(ev.make({x}, many, total_cap(2999))({arg}), LimitError);
    CHECK(ev.make({x}, many, total_cap(3000))({arg}).size() == 1000);
  }
}

TEST_CASE("matmul's multiply-adds count: two 4000 x 4000 operands are refused before any work") {
  Graph g;
  const Expr a = g.input("a", DType::float64, {kSymbolic, kSymbolic});
  const Expr b = g.input("b", DType::float64, {kSymbolic, kSymbolic});
  const Expr m = matmul(a, b);
  for (const Evaluator& ev : kEvaluators) {
    INFO(ev.name);
    // [2, 3] x [3, 4]: reads 6 + 12, writes 8, 24 multiply-adds: 50.
    const Tensor a23 = tensor({1, 2, 3, 4, 5, 6}, {2, 3});
    const Tensor b34 = tensor({1, 0, 0, 1, 0, 1, 0, 1, 1, 1, 1, 1}, {3, 4});
    check_same(ev.make({a, b}, {m}, work_cap(50))({a23, b34})[0], tensor({4, 5, 3, 6, 10, 11, 6, 15}, {2, 4}));
    CHECK(limit_error_of([&] { ev.make({a, b}, {m}, work_cap(49))({a23, b34}); }, "EvalLimits::max_work", 49) ==
          "matmul " + id_of(m) + " would bring the work done to 50 operations");
    // 4000 x 4000 operands (allocated by the caller): 6.4e10 multiply-adds.
    const Tensor big(DType::float64, {4000, 4000});
    const long peak_before = peak_rss_kib();
    CHECK_THROWS_AS(ev.make({a, b}, {m}, work_cap(std::size_t{1} << 32))({big, big}), LimitError);
    CHECK(peak_rss_kib() - peak_before < 100 * 1024);  // no 128 MB result made
  }
}

TEST_CASE("compile() folds constant subgraphs within the limits and a fixed budget; the rest is counted per call") {
  Graph g;
  const Expr x = g.input("x", DType::float64, {1000});
  std::vector<double> cs(1000, 0.5);
  const Expr k = exp(g.constant(tensor(cs)));
  const Expr y = k + x;
  const Tensor arg = tensor(std::vector<double>(1000, 1.0));
  const Tensor want = compile_reference({x}, {y})({arg})[0];
  // Folded at compile time: the call computes only the add.
  check_same(make_fast({x}, {y}, total_cap(1000))({arg})[0], want);
  // Too large for the limits to fold: the call would compute it, and says so.
  CHECK(limit_error_of([&] { make_fast({x}, {y}, value_cap(999))({arg}); }, "EvalLimits::max_value_elements", 999) ==
        "exp " + id_of(k) + " would compute float64[1000]: 1000 elements");

  // A chain of 200 negations of a 65,536-element constant: 13,107,200
  // elements in all, more than compile() folds (4,194,304); the rest runs
  // in the call, with the same values.
  Graph h;
  const Expr z = h.input("z", DType::float64, {65536});
  Expr c = h.constant(Tensor(DType::float64, {65536}));
  for (int i = 0; i < 200; ++i) c = neg(c) + 1.0;
  const Expr out = c + z;
  const Tensor zs(DType::float64, {65536});
  const Function f = make_fast({z}, {out}, {});
  CHECK(f.num_steps() >= 1);
  CHECK(f.describe().find("neg") != std::string::npos);  // not everything was folded
  check_same(f({zs})[0], compile_reference({z}, {out})({zs})[0]);
}
