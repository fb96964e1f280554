#include <doctest/doctest.h>

#include <cmath>
#include <symgraph/symgraph.hpp>

using namespace symgraph;

TEST_CASE("relu smoke") {
  Graph g;
  Expr x = g.input("x", DType::float64, {kSymbolic});
  Function f = compile({x}, {relu(x), relu(x, 0.1)});
  auto out = f({Tensor::from_list<double>({-2.0, -0.5, -0.0, 0.0, 0.5, 3.0})});
  CHECK(out[0].to_vector<double>() == std::vector<double>{0, 0, 0, 0, 0.5, 3});
}
