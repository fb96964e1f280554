#pragma once
/// Reverse-mode automatic differentiation: gradients as graphs.
///
/// vjp() is one reverse sweep over node ids (ids are a topological order):
/// it marks the nodes that lie between `wrt` and the outputs, then walks them
/// from the last to the first, asks each node's op for its vector-Jacobian
/// product (Op::vjp) and adds the cotangents each input receives. Nothing
/// recurses in the depth of the graph, every node's rule runs once, so the
/// gradient of a graph of n nodes has O(n) nodes. Gradients are expressions
/// in the cost's graph store: they can be printed, optimized, compiled and
/// differentiated again. See docs/autodiff.md for the conventions at kinks.
#include <optional>
#include <vector>

#include "symgraph/core/graph.hpp"

namespace symgraph {

/// What grad() returns for a float input the cost does not depend on (no
/// path from it to the cost in the graph).
enum class Disconnected {
  zeros,  ///< zeros_like(input): zeros of the input's run-time shape
  error,  ///< throw Error naming the input
};

struct GradOptions {
  Disconnected disconnected = Disconnected::zeros;
};

/// d cost / d w for each w in wrt, each with w's dtype and shape.
///
/// `cost` must be a 0-d float expression (reduce a tensor with sum() first,
/// or use vjp). Each w may be any float node of the cost's graph (an input,
/// or an intermediate node, whose gradient is then the total derivative of
/// the cost with respect to that node's value). A w the cost depends on only
/// through ops without a gradient (comparisons, sign, switch conditions) gets
/// zeros; a w not connected to the cost at all gets zeros too, or an error
/// with Disconnected::error. A bool w is an error: bool values have no
/// gradient (vjp() returns nullopt for them instead).
std::vector<Expr> grad(const Expr& cost, const std::vector<Expr>& wrt);
std::vector<Expr> grad(const Expr& cost, const std::vector<Expr>& wrt, const GradOptions& options);

/// Vector-Jacobian products: sum_k cotangents[k] . d outputs[k] / d w for
/// each w in wrt, or nullopt where it is zero because no gradient reaches w
/// (w is bool, not connected to the outputs, or connected only through ops
/// without a gradient).
///
/// cotangents[k] has outputs[k]'s dtype and a shape that broadcasts to
/// outputs[k]'s (it is broadcast first). Outputs must be float.
std::vector<std::optional<Expr>> vjp(const std::vector<Expr>& outputs, const std::vector<Expr>& wrt,
                                     const std::vector<Expr>& cotangents);

}  // namespace symgraph
