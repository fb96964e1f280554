// The pattern language: holes, consistent bindings, commutative matching,
// number holes over constants and attributes, literals, alternatives with
// backtracking into the condition.
#include "optimizer_support.hpp"

using namespace sgtest;
using pattern::Num;
using pattern::Pattern;
using pattern::Var;

namespace {

const Var x{"x"}, y{"y"};
const Num a{"a"}, b{"b"};

std::optional<Match> match(const pattern::CompiledPattern& p, const Expr& e) { return p.match(e); }

struct Fixture {
  Graph g;
  Expr u = g.input("u", DType::float64, {3});
  Expr v = g.input("v", DType::float64, {3});
  Expr k(double value) { return g.constant(value); }
  Expr k(std::vector<double> values) { return g.constant(tensor(std::move(values))); }
};

}  // namespace

TEST_CASE("holes bind nodes; a hole used twice matches one node twice") {
  using namespace pattern;
  Fixture f;
  const CompiledPattern twice(x + x);
  REQUIRE(match(twice, add(f.u, f.u)));
  CHECK((*match(twice, add(f.u, f.u)))[x].is(f.u));
  CHECK(!match(twice, add(f.u, f.v)));

  // x in switch(x > 0, x, alpha * x) is one node in all three places.
  const CompiledPattern relu_like(where(x > zero(), x, scale(x, a)));
  const auto m = match(relu_like, where(f.u > 0.0, f.u, scale(f.u, 0.25)));
  REQUIRE(m);
  CHECK((*m)[x].is(f.u));
  CHECK((*m)[a] == 0.25);
  CHECK(!match(relu_like, where(f.u > 0.0, f.v, scale(f.u, 0.25))));
  CHECK(!match(relu_like, where(f.u > 0.0, f.u, scale(f.v, 0.25))));
  CHECK(!match(relu_like, where(f.u > 1.0, f.u, scale(f.u, 0.25))));
}

TEST_CASE("commutative ops match in both operand orders; others do not") {
  using namespace pattern;
  Fixture f;
  const CompiledPattern times_num(x * a);
  for (const Expr& e : {mul(f.u, f.k(2.0)), mul(f.k(2.0), f.u)}) {
    const auto m = match(times_num, e);
    REQUIRE(m);
    CHECK((*m)[x].is(f.u));
    CHECK((*m)[a] == 2.0);
  }
  const CompiledPattern minus_zero(x - lit(0.0));
  CHECK(match(minus_zero, sub(f.u, f.k(0.0))));
  CHECK(!match(minus_zero, sub(f.k(0.0), f.u)));
  // maximum is commutative: maximum(0, u) matches maximum(x, 0).
  CHECK(match(CompiledPattern(maximum(x, zero())), maximum(f.k(0.0), f.u)));
}

TEST_CASE("the condition takes part in backtracking: operand orders and alternatives") {
  using namespace pattern;
  Fixture f;
  // mul(u, v) matches x * y with x = u first; a condition that wants x = v
  // makes the matcher try the other order.
  const Rule wants_v("wants-v", x * y, x, Contract::exact, [](const Match& m) { return m[x].name() == "v"; });
  const auto m = wants_v.match(mul(f.u, f.v));
  REQUIRE(m);
  CHECK((*m)[x].is(f.v));
  CHECK((*m)[y].is(f.u));
  // The second alternative is tried when the condition rejects the first.
  const Rule alt("alt", any_of({x + y, x * y}), x, Contract::exact,
                 [](const Match& mm) { return mm.root().op_name() == "mul"; });
  CHECK(alt.match(mul(f.u, f.v)));
  CHECK(!alt.match(add(f.u, f.v)));
}

TEST_CASE("number holes: splat constants of any shape, and numeric attributes") {
  using namespace pattern;
  Fixture f;
  const CompiledPattern times_num(x * a);
  const auto m = match(times_num, mul(f.u, f.k({0.5, 0.5, 0.5})));
  REQUIRE(m);
  CHECK((*m)[a] == 0.5);
  CHECK(m->constant(a).op_name() == "constant");
  CHECK(!match(times_num, mul(f.u, f.k({0.5, 0.5, 0.25}))));
  // +0 and -0 differ in bits: a constant holding both is not a splat.
  CHECK(!match(times_num, mul(f.u, f.k({0.0, -0.0, 0.0}))));
  // NaN constants are one value (the store canonicalises NaN payloads).
  CHECK(match(times_num, mul(f.u, f.k({NaN, -NaN, NaN}))));
  // A Num in an attribute position binds the attribute.
  const auto s = match(CompiledPattern(scale(x, a)), scale(f.u, -3.0));
  REQUIRE(s);
  CHECK((*s)[a] == -3.0);
  CHECK(!s->constant(a).valid());
  // A Num used twice must see one value, bit for bit.
  const CompiledPattern twice(scale(scale(x, a), a));
  CHECK(match(twice, scale(scale(f.u, 2.0), 2.0)));
  CHECK(!match(twice, scale(scale(f.u, 2.0), 3.0)));
  CHECK(!match(CompiledPattern(scale(scale(x, a), a)), scale(scale(f.u, 0.0), -0.0)));
}

TEST_CASE("literals compare bits in the constant's dtype; zero() takes either sign") {
  using namespace pattern;
  Fixture f;
  CHECK(match(CompiledPattern(x + lit(-0.0)), add(f.u, f.k(-0.0))));
  CHECK(!match(CompiledPattern(x + lit(-0.0)), add(f.u, f.k(0.0))));
  CHECK(!match(CompiledPattern(x + lit(0.0)), add(f.u, f.k(-0.0))));
  CHECK(match(CompiledPattern(x + zero()), add(f.u, f.k(-0.0))));
  CHECK(match(CompiledPattern(x + zero()), add(f.u, f.k(0.0))));
  CHECK(!match(CompiledPattern(x + zero()), add(f.u, f.k(1e-300))));
  // A float32 constant 0.1f matches lit(0.1): the literal is rounded to the dtype.
  Graph g;
  Expr w = g.input("w", DType::float32, {2});
  CHECK(match(CompiledPattern(x * lit(0.1)), w * 0.1));
  CHECK(!match(CompiledPattern(x * lit(0.1)), w * 0.2));
  // scale's factor compares bits too.
  CHECK(match(CompiledPattern(scale(x, 1.0)), scale(f.u, 1.0)));
  CHECK(!match(CompiledPattern(scale(x, 1.0)), scale(f.u, -1.0)));
}

TEST_CASE("constant_operands, commutative and the ops a pattern can match at its root") {
  using namespace pattern;
  Fixture f;
  const CompiledPattern fold(constant_operands());
  CHECK(match(fold, add(f.k(1.0), f.k(2.0))));
  CHECK(match(fold, neg(f.k(1.0))));
  CHECK(!match(fold, add(f.k(1.0), f.u)));
  CHECK(!match(fold, f.k(1.0)));  // a constant has no operands to fold
  CHECK(fold.root_ops().empty());

  const CompiledPattern pair(commutative(x, y));
  const auto m = match(pair, add(f.v, f.u));
  REQUIRE(m);
  CHECK((*m)[x].is(f.v));  // bound in stored order, never swapped
  CHECK((*m)[y].is(f.u));
  CHECK(!match(pair, sub(f.v, f.u)));

  CHECK(CompiledPattern(x * a).root_ops() == std::vector<const Op*>{&op_named("mul")});
  CHECK(CompiledPattern(any_of({x > zero(), x >= zero()})).root_ops().size() == 2);
  CHECK(CompiledPattern(x).root_ops().empty());
}

TEST_CASE("pattern errors and printing") {
  using namespace pattern;
  CHECK(error_of([] { CompiledPattern(op("no_such_op", {x})); }).find("unknown op 'no_such_op'") != std::string::npos);
  CHECK(error_of([] { CompiledPattern(scale(x, Num("x"))); }).find("both as a Var and as a Num") != std::string::npos);
  CHECK(error_of([] { CompiledPattern(op("neg", {x, y})); }).find("cannot have 2 operands") != std::string::npos);
  Fixture f;
  const CompiledPattern p(x + y);
  const auto m = match(p, add(f.u, f.v));
  REQUIRE(m);
  CHECK(error_of([&] { (*m)[Var("z")]; }).find("has no Var named 'z'") != std::string::npos);
  CHECK(error_of([&] { (*m)[Num("a")]; }).find("has no Num named 'a'") != std::string::npos);
  CHECK(Pattern(where(x > zero(), x, scale(x, a))).str() == "switch(gt(x, 0), x, scale(x, factor=a))");
  CHECK(Pattern(x + lit(-0.0)).str() == "add(x, -0)");
  CHECK(Pattern(any_of({x < zero(), zero() > x})).str() == "any_of(lt(x, 0) | gt(0, x))");
}
