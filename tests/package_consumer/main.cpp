// Built against an installed symgraph: evaluates leaky relu, and an op of
// this project's own (cube.cpp) with its gradient and JSON round trip.
#include <cstdio>
#include <symgraph/symgraph.hpp>

int main() {
  using namespace symgraph;
  Graph g;
  Expr x = g.input("x", DType::float64, {kSymbolic});
  Tensor xs = Tensor::from_list<double>({-1.0, 2.0});
  Tensor y = compile({x}, {relu(x)})({xs})[0];
  bool ok = y.at(0) == 0.0 && y.at(1) == 2.0;
  std::printf("consumer: relu([-1, 2]) = [%g, %g] %s\n", y.at(0), y.at(1), ok ? "ok" : "WRONG");

  Expr c = apply("consumer_cube", {x});
  LoadedGraph back = from_json(to_json({x}, {c, grad(sum(c), {x})[0]}));
  std::vector<Tensor> v = compile(back.inputs, back.outputs)({xs});
  const bool cube_ok = v[0].at(0) == -1.0 && v[0].at(1) == 8.0 && v[1].at(0) == 3.0 && v[1].at(1) == 12.0;
  std::printf("consumer: cube([-1, 2]) = [%g, %g], gradient [%g, %g] %s\n", v[0].at(0), v[0].at(1), v[1].at(0),
              v[1].at(1), cube_ok ? "ok" : "WRONG");
  return ok && cube_ok ? 0 : 1;
}
