// Deep graphs: the gradient of a long chain of switches is built and
// evaluated without recursion, and its size is a small constant times the
// chain's. The gradient of 1,000,000-node graphs is in test_scale.cpp.
#include <doctest/doctest.h>

#include <cmath>
#include <symgraph/symgraph.hpp>

using namespace symgraph;

TEST_CASE("a deep chain of switches: masks stay O(1) nodes per step") {
  // y = where(y > 0, tanh(y), scale(y, 0.5)) repeated: four forward nodes a
  // step (gt, tanh, scale, switch). The gradient's nodes a step: the
  // switch's two masked branches; tanh's three rule nodes and their mask;
  // not c, scale's rule and its mask; the add of the two. The union of the
  // masks, c or not c, is everything, so the sum is unmasked: 10 nodes, 2.5
  // per forward node.
  constexpr int kSteps = 50'000;
  constexpr double kNodesPerForwardNode = 2.5;
  Graph g;
  const Expr x = g.input("x", DType::float64, {});
  Expr y = x;
  for (int i = 0; i < kSteps; ++i) y = where(y > 0.0, tanh(y), scale(y, 0.5));
  const std::size_t forward = g.size();
  const Expr dx = grad(y, {x})[0];
  const std::size_t added = g.size() - forward;
  MESSAGE("forward nodes: " << forward << ", gradient nodes: " << added);
  CHECK(static_cast<double>(added) <= kNodesPerForwardNode * static_cast<double>(forward) + 8);

  for (double x0 : {0.9, -0.9}) {
    double v = x0, d = 1.0;
    for (int i = 0; i < kSteps; ++i) {
      if (v > 0) {
        v = std::tanh(v);
        d *= 1.0 - v * v;
      } else {
        v *= 0.5;
        d *= 0.5;
      }
    }
    const auto out = compile_reference({x}, {dx})({Tensor::scalar(x0)});
    CHECK(out[0].at(0) == doctest::Approx(d).epsilon(1e-9));
  }
}
