// Built against an installed symgraph: evaluates leaky relu and checks it.
#include <cstdio>
#include <symgraph/symgraph.hpp>

int main() {
  using namespace symgraph;
  Graph g;
  Expr x = g.input("x", DType::float64, {kSymbolic});
  Tensor y = compile({x}, {relu(x)})({Tensor::from_list<double>({-1.0, 2.0})})[0];
  const bool ok = y.at(0) == 0.0 && y.at(1) == 2.0;
  std::printf("consumer: relu([-1, 2]) = [%g, %g] %s\n", y.at(0), y.at(1), ok ? "ok" : "WRONG");
  return ok ? 0 : 1;
}
