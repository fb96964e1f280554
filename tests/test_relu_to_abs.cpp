// relu-to-abs: every spelling of (leaky) relu becomes exactly the nodes
// relu() builds; every look-alike is left as it was; the tiny-slope guard.
#include "optimizer_support.hpp"

using namespace sgtest;

namespace {

using Build = std::function<Expr(const Expr& x, const Expr& y)>;

Expr k(const Expr& like, double v) { return constant_like(like, v); }
Expr k(const Expr& like, std::vector<double> v, Shape shape) {
  return graph_of(like).constant(tensor(std::move(v), std::move(shape), like.dtype()));
}

/// Runs the standard pipeline and reports whether relu-to-abs fired.
std::pair<Expr, bool> optimized(const Expr& e) {
  RewriteTrace trace;
  const Expr out = optimize({e}, Pipeline::standard(), &trace)[0];
  const bool fired = std::any_of(trace.begin(), trace.end(), [](const RewriteEvent& ev) { return ev.pass == "relu-to-abs"; });
  return {out, fired};
}

struct Spelling {
  const char* what;
  Build build;
  double alpha;  // the slope the rewrite must find
};

// One row per spelling. alpha = 0 rows become relu(x) = 0.5 * (x + |x|).
const std::vector<Spelling> spellings = {
    {"switch(x > 0, x, 0.1 * x)", [](auto& x, auto&) { return where(x > 0.0, x, 0.1 * x); }, 0.1},
    {"switch(0 < x, x, 0.1 * x)", [](auto& x, auto&) { return where(0.0 < x, x, 0.1 * x); }, 0.1},
    {"switch(x >= 0, x, 0.1 * x)", [](auto& x, auto&) { return where(x >= 0.0, x, 0.1 * x); }, 0.1},
    {"switch(0 <= x, x, 0.1 * x)", [](auto& x, auto&) { return where(0.0 <= x, x, 0.1 * x); }, 0.1},
    {"switch(x > 0, x, x * 0.1)", [](auto& x, auto&) { return where(x > 0.0, x, x * 0.1); }, 0.1},
    {"switch(x > 0, x, scale(x, 0.1))", [](auto& x, auto&) { return where(x > 0.0, x, scale(x, 0.1)); }, 0.1},
    {"switch(x > -0.0, x, 0.1 * x)", [](auto& x, auto&) { return where(x > -0.0, x, 0.1 * x); }, 0.1},
    {"switch(x > [0], x, [0.1] * x) (shape-[1] constants)",
     [](auto& x, auto&) { return where(x > k(x, {0.0}, {1}), x, k(x, {0.1}, {1}) * x); }, 0.1},
    {"switch(x < 0, 0.1 * x, x)", [](auto& x, auto&) { return where(x < 0.0, 0.1 * x, x); }, 0.1},
    {"switch(0 > x, 0.1 * x, x)", [](auto& x, auto&) { return where(0.0 > x, 0.1 * x, x); }, 0.1},
    {"switch(x <= 0, x * 0.1, x)", [](auto& x, auto&) { return where(x <= 0.0, x * 0.1, x); }, 0.1},
    {"switch(0 >= x, scale(x, 0.1), x)", [](auto& x, auto&) { return where(0.0 >= x, scale(x, 0.1), x); }, 0.1},
    {"switch(x > 0, x, 0)", [](auto& x, auto&) { return where(x > 0.0, x, k(x, 0.0)); }, 0.0},
    {"switch(x > 0, x, -0.0)", [](auto& x, auto&) { return where(x > 0.0, x, k(x, -0.0)); }, 0.0},
    {"switch(x > 0, x, 0 * x)", [](auto& x, auto&) { return where(x > 0.0, x, 0.0 * x); }, 0.0},
    {"switch(x >= 0, x, scale(x, 0))", [](auto& x, auto&) { return where(x >= 0.0, x, scale(x, 0.0)); }, 0.0},
    {"switch(x < 0, 0, x)", [](auto& x, auto&) { return where(x < 0.0, k(x, 0.0), x); }, 0.0},
    {"switch(x <= 0, x * 0, x)", [](auto& x, auto&) { return where(x <= 0.0, x * 0.0, x); }, 0.0},
    {"switch(x > 0, x, -0.5 * x)", [](auto& x, auto&) { return where(x > 0.0, x, -0.5 * x); }, -0.5},
    {"switch(x > 0, x, 3 * x)", [](auto& x, auto&) { return where(x > 0.0, x, 3.0 * x); }, 3.0},
    {"switch(x > 0, x, 10 * x)", [](auto& x, auto&) { return where(x > 0.0, x, 10.0 * x); }, 10.0},
    {"switch(x < 0, -3 * x, x)", [](auto& x, auto&) { return where(x < 0.0, -3.0 * x, x); }, -3.0},
    {"maximum(x, 0.1 * x)", [](auto& x, auto&) { return maximum(x, 0.1 * x); }, 0.1},
    {"maximum(0.1 * x, x)", [](auto& x, auto&) { return maximum(0.1 * x, x); }, 0.1},
    {"maximum(x, scale(x, 0.5))", [](auto& x, auto&) { return maximum(x, scale(x, 0.5)); }, 0.5},
    {"maximum(x * 0.9, x)", [](auto& x, auto&) { return maximum(x * 0.9, x); }, 0.9},
    {"maximum(x, -0.5 * x)", [](auto& x, auto&) { return maximum(x, -0.5 * x); }, -0.5},
    {"maximum(x, 0)", [](auto& x, auto&) { return maximum(x, k(x, 0.0)); }, 0.0},
    {"maximum(0, x)", [](auto& x, auto&) { return maximum(k(x, 0.0), x); }, 0.0},
};

struct LookAlike {
  const char* what;
  Build build;
};

// One row per function that resembles relu but is not (or that the abs form
// would not reproduce within the tolerance).
const std::vector<LookAlike> look_alikes = {
    {"another threshold: switch(x > 1, x, 0.1 * x)", [](auto& x, auto&) { return where(x > 1.0, x, 0.1 * x); }},
    {"another selected operand: switch(x > 0, y, 0.1 * x)", [](auto& x, auto& y) { return where(x > 0.0, y, 0.1 * x); }},
    {"another condition: switch(y > 0, x, 0.1 * x)", [](auto& x, auto& y) { return where(y > 0.0, x, 0.1 * x); }},
    {"another slope operand: switch(x > 0, x, 0.1 * y)", [](auto& x, auto& y) { return where(x > 0.0, x, 0.1 * y); }},
    {"branches swapped: switch(x > 0, 0.1 * x, x)", [](auto& x, auto&) { return where(x > 0.0, 0.1 * x, x); }},
    {"condition inverted alone: switch(x < 0, x, 0.1 * x)", [](auto& x, auto&) { return where(x < 0.0, x, 0.1 * x); }},
    {"a constant that is not 0: switch(x > 0, x, 0.5)", [](auto& x, auto&) { return where(x > 0.0, x, k(x, 0.5)); }},
    {"alpha depends on x: switch(x > 0, x, (x * x) * x)",
     [](auto& x, auto&) { return where(x > 0.0, x, (x * x) * x); }},
    {"alpha depends on x: switch(x > 0, x, exp(x) * x)", [](auto& x, auto&) { return where(x > 0.0, x, exp(x) * x); }},
    {"alpha is x: switch(x > 0, x, x * x)", [](auto& x, auto&) { return where(x > 0.0, x, x * x); }},
    {"maximum with alpha > 1: maximum(x, 2 * x)", [](auto& x, auto&) { return maximum(x, 2.0 * x); }},
    {"maximum with alpha > 1: maximum(1.5 * x, x)", [](auto& x, auto&) { return maximum(1.5 * x, x); }},
    {"maximum(x, 0 * x): NaN at +inf, which relu would hide", [](auto& x, auto&) { return maximum(x, 0.0 * x); }},
    {"maximum with a tensor alpha of unknown size: maximum(x, y * x)",
     [](auto& x, auto& y) { return maximum(x, y * x); }},
    {"maximum with a constant alpha above 1 in one element",
     [](auto& x, auto&) { return maximum(x, k(x, {0.5, 2.0, 0.1}, {3}) * x); }},
    {"minimum(x, 0.1 * x)", [](auto& x, auto&) { return minimum(x, 0.1 * x); }},
    {"the shape would change: switch(x > zeros[2, 3], x, 0.1 * x)",
     [](auto& x, auto&) { return where(x > k(x, std::vector<double>(6, 0.0), {2, 3}), x, 0.1 * x); }},
    {"the shape would change: switch(x > 0, x, 0) with a [2, 3] zero",
     [](auto& x, auto&) { return where(x > 0.0, x, k(x, std::vector<double>(6, 0.0), {2, 3})); }},
    {"tiny alpha 1e-9: the abs form loses the slope", [](auto& x, auto&) { return where(x > 0.0, x, 1e-9 * x); }},
    {"alpha = 1 (the function is x)", [](auto& x, auto&) { return where(x > 0.0, x, scale(x, 1.0)); }},
    {"alpha = -1 (the function is |x|)", [](auto& x, auto&) { return where(x > 0.0, x, -1.0 * x); }},
};

}  // namespace

TEST_CASE("every spelling of relu becomes exactly relu(x, alpha)") {
  for (DType dt : {DType::float64, DType::float32}) {
    for (const Spelling& s : spellings) {
      CAPTURE(dtype_name(dt));
      CAPTURE(s.what);
      Graph g;
      const Expr x = g.input("x", dt, {3}), y = g.input("y", dt, {3});
      const auto [out, fired] = optimized(s.build(x, y));
      CHECK(fired);
      // The optimizer sees alpha as the graph stores it, rounded to the dtype.
      const Expr want = s.alpha == 0.0 ? relu(x) : relu(x, round_to(dt, s.alpha));
      CHECK(out.is(want));  // the same nodes: relu() built after optimize finds them
      // And across graphs: the same structure as relu() in a fresh graph.
      Graph fresh;
      const Expr fx = fresh.input("x", dt, {3});
      CHECK(structurally_equal(out, s.alpha == 0.0 ? relu(fx) : relu(fx, round_to(dt, s.alpha))));
    }
  }
}

TEST_CASE("a tensor alpha that does not depend on x becomes relu(x, alpha)") {
  Graph g;
  const Expr x = g.input("x", DType::float64, {kSymbolic});
  const Expr a = g.input("a", DType::float64, {kSymbolic});
  CHECK(optimized(where(x > 0.0, x, a * x)).first.is(relu(x, a)));
  CHECK(optimized(where(0.0 <= x, x, x * a)).first.is(relu(x, a)));
  CHECK(optimized(where(x < 0.0, a * x, x)).first.is(relu(x, a)));
  const Expr w = g.input("w", DType::float64, {kSymbolic});
  CHECK(optimized(where(x > 0.0, x, tanh(w) * x)).first.is(relu(x, tanh(w))));
  // A per-column slope broadcasts along rows: the result keeps x's shape.
  const Expr m = g.input("m", DType::float64, {2, 3});
  const Expr col = g.input("col", DType::float64, {3});
  CHECK(optimized(where(m > 0.0, m, col * m)).first.is(relu(m, col)));
  // The slope may widen the result, as long as the switch had that shape.
  const Expr row = g.input("row", DType::float64, {3});
  const Expr slopes = g.input("slopes", DType::float64, {2, 3});
  const Expr wide = where(row > 0.0, row, slopes * row);
  REQUIRE(wide.shape() == Shape{2, 3});
  CHECK(optimized(wide).first.is(relu(row, slopes)));
  // A constant slope tensor: the factors are folded, as in relu(x, t) optimized.
  const Expr v = g.input("v", DType::float64, {3});
  const Expr t = g.constant(tensor({0.1, 0.2, -0.3}));
  const Expr want = optimize({relu(v, t)})[0];
  CHECK(optimized(where(v > 0.0, v, t * v)).first.is(want));
  CHECK(optimized(maximum(v, v * t)).first.is(optimize({relu(v, g.constant(tensor({0.1, 0.2, -0.3})))})[0]));
  CHECK(want.op_name() == "add");
}

TEST_CASE("look-alikes are left alone") {
  for (DType dt : {DType::float64, DType::float32}) {
    for (const LookAlike& l : look_alikes) {
      CAPTURE(dtype_name(dt));
      CAPTURE(l.what);
      Graph g;
      const Expr x = g.input("x", dt, {3}), y = g.input("y", dt, {3});
      const Expr e = l.build(x, y);
      const auto [out, fired] = optimized(e);
      CHECK(!fired);
      // Whatever else changed, the result computes what the original does.
      const std::vector<double> xs = {-2.0, 0.0, 3.0};
      const auto before = run({x, y}, {e}, {tensor(xs, {3}, dt), tensor({1.0, -1.0, 0.5}, {3}, dt)});
      const auto after = run({x, y}, {out}, {tensor(xs, {3}, dt), tensor({1.0, -1.0, 0.5}, {3}, dt)});
      check_same(after[0], before[0]);
    }
  }
  // Slopes the guard rejects only in float32.
  Graph g;
  const Expr x = g.input("x", DType::float32, {3});
  CHECK(!optimized(where(x > 0.0, x, 1e-5 * x)).second);
  CHECK(!optimized(where(x > 0.0, x, 2e-4 * x)).second);
  CHECK(optimized(where(x > 0.0, x, 1e-3 * x)).second);
  Graph h;
  const Expr z = h.input("z", DType::float64, {3});
  CHECK(optimized(where(z > 0.0, z, 1e-5 * z)).second);
}

TEST_CASE("why the guard: with a tiny alpha the abs form's slope is not alpha") {
  Graph g;
  const Expr x = g.input("x", DType::float32, {1});
  // relu(x, 1e-8) built by hand: f1 = f2 = 0.5 in float32, so the negative
  // slope is 0, where the switch has 1e-8.
  const auto out = run({x}, {relu(x, 1e-8), where(x > 0.0, x, 1e-8 * x)}, {tensor({-1.0}, {1}, DType::float32)});
  CHECK(out[0].at(0) == 0.0);
  CHECK(out[1].at(0) == static_cast<double>(-1e-8f));
  // The optimizer keeps the switch and its exact slope.
  const Expr kept = optimized(where(x > 0.0, x, 1e-8 * x)).first;
  CHECK(run({x}, {kept}, {tensor({-1.0}, {1}, DType::float32)})[0].at(0) == static_cast<double>(-1e-8f));
}

TEST_CASE("the standard pipeline leaves relu's own nodes as they are") {
  for (DType dt : {DType::float64, DType::float32}) {
    Graph g;
    const Expr x = g.input("x", dt, {kSymbolic});
    const Expr a = g.input("a", dt, {kSymbolic});
    for (const Expr& r : {relu(x), relu(x, 0.1), relu(x, -0.5), relu(x, 3.0), relu(x, 1e-9), relu(x, 0.01), relu(x, a)}) {
      RewriteTrace trace;
      CHECK(optimize({r}, Pipeline::standard(), &trace)[0].is(r));
      CHECK(trace.empty());
    }
  }
}

TEST_CASE("relu-to-abs runs on its own, and says what it did") {
  Graph g;
  const Expr x = g.input("x", DType::float64, {kSymbolic});
  RewriteTrace trace;
  const auto out = optimize({where(x > 0.0, x, 0.2 * x), maximum(k(x, 0.0), x)}, Pipeline::from_names({"relu-to-abs"}), &trace);
  CHECK(out[0].is(relu(x, 0.2)));
  CHECK(out[1].is(relu(x)));
  REQUIRE(trace.size() == 2);
  CHECK(trace[0].pass == "relu-to-abs");
  CHECK(trace[0].rule == "relu-switch");
  CHECK(trace[1].rule == "relu-maximum-zero");
}

TEST_CASE("the optimized relu keeps the slope within the tolerance") {
  for (DType dt : {DType::float64, DType::float32}) {
    for (double alpha : {0.1, 0.01, 0.3, -0.5, 3.0, 1e-3}) {
      CAPTURE(dtype_name(dt));
      CAPTURE(alpha);
      Graph g;
      const Expr x = g.input("x", dt, {4});
      const Expr s = where(x > 0.0, x, alpha * x);
      const auto [out, fired] = optimized(s);
      REQUIRE(fired);
      const auto v = run({x}, {s, out}, {tensor({-1.0, -1e3, -7.25, 2.0}, {4}, dt)});
      for (std::int64_t i = 0; i < 3; ++i)
        CHECK(std::abs(v[1].at(i) - v[0].at(i)) <= rules::relu_abs_tolerance(dt) * std::abs(v[0].at(i)));
    }
  }
}

TEST_CASE("relu spelled with the zeros_like builder is relu") {
  for (DType dt : {DType::float64, DType::float32}) {
    CAPTURE(dtype_name(dt));
    Graph g;
    const Expr x = g.input("x", dt, {kSymbolic});
    const Expr want = optimize({relu(x)})[0];
    CHECK(optimize({where(x > 0.0, x, zeros_like(x))})[0].is(want));
    CHECK(optimize({maximum(x, zeros_like(x))})[0].is(want));
    CHECK(optimize({where(x < 0.0, zeros_like(x), x)})[0].is(want));
  }
}
