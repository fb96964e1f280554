#pragma once
/// What the optimizer can prove about run-time shapes that the static types
/// leave open. Two vectors of type float64[?] may have different lengths, but
/// x and 0.55 * |x| never do: elementwise ops, broadcast_to and sum_to pass a
/// shape on unchanged. Gradient graphs of symbolic-shape inputs are full of
/// sum_to(g, x) and broadcast_to(c, x) nodes that are no-ops for this reason.
#include "symgraph/core/graph.hpp"

namespace symgraph {

/// True when `a` and `b` are proven to have the same shape whenever the graph
/// runs: equal concrete static shapes, or equal static shapes whose symbolic
/// dimensions all come from one source (shape_source). False means "not
/// proven", not "different".
bool same_runtime_shape(const Expr& a, const Expr& b);

/// The node whose run-time shape `e`'s run-time shape provably equals, found
/// by following shape-preserving nodes upwards: sum_to(x, like) has like's
/// shape; an elementwise op or broadcast_to has the shape of an operand k when every other operand has k's source or broadcasts into k
/// without changing it (each dimension 1, or a known size equal to k's). The
/// search visits a bounded number of nodes (it runs inside rule conditions):
/// past the bound a node is its own source, which is always sound.
NodeId shape_source(const Expr& e);

}  // namespace symgraph
