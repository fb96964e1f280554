// relu without a branch: builds relu and leaky relu of a symbolic vector as
// composites of abs, add and scale, evaluates them, and prints the graphs.
#include <cstdio>
#include <symgraph/symgraph.hpp>

using namespace symgraph;

int main() {
  Graph g;
  Expr x = g.input("x", DType::float64, {kSymbolic});  // a vector of any length

  Expr r = relu(x);        // 0.5 * (x + |x|)
  Expr l = relu(x, 0.1);   // 0.55 * x + 0.45 * |x|

  Function f = compile({x}, {r, l});
  Tensor xs = Tensor::from_list<double>({-2.0, -0.5, -0.0, 0.0, 0.5, 3.0});
  std::vector<Tensor> out = f({xs});

  std::printf("%8s %10s %14s\n", "x", "relu(x)", "relu(x, 0.1)");
  for (std::int64_t i = 0; i < xs.size(); ++i)
    std::printf("%8g %10g %14g\n", xs.at(i), out[0].at(i), out[1].at(i));

  std::printf("\nrelu(x):\n%s", debugprint({r}).c_str());
  std::printf("\nrelu(x, 0.1):\n%s", debugprint({l}).c_str());
  return 0;
}
