// compile() optimizes before planning (standard pipeline by default).
#include "harness.hpp"

using namespace sgtest;

TEST_CASE("compile runs the standard pipeline by default, strict and none on request") {
  Graph g;
  Expr x = g.input("x", DType::float64, {kSymbolic});
  Expr y = where(x > 0.0, x, 0.1 * x);
  const Tensor xs = tensor({-inf, -2.0, -0.0, 0.0, 3.0, inf, NaN});

  Function standard = compile({x}, {y});
  CHECK(standard.describe().find("abs") != std::string::npos);  // relu-to-abs fired
  const Tensor a = standard({xs})[0];
  // The documented differences of the abs form: NaN at -inf, +0 for -0, and
  // NaN where the switch form hid a NaN input as 0.1 * NaN = NaN anyway.
  CHECK(std::isnan(a.at(0)));
  CHECK(ulp_distance(a.at(1), -0.2) <= 4);
  CHECK(same_value(a.at(2), 0.0));
  CHECK(same_value(a.at(4), 3.0));
  CHECK(same_value(a.at(5), inf));

  CompileOptions strict;
  strict.pipeline = Pipeline::strict();
  check_same(compile({x}, {y}, strict)({xs})[0], compile_reference({x}, {y})({xs})[0]);
  CompileOptions none;
  none.pipeline = Pipeline::none();
  CHECK(compile({x}, {y}, none).describe().find("abs") == std::string::npos);
  check_same(compile({x}, {y}, none)({xs})[0], compile_reference({x}, {y})({xs})[0]);
}
