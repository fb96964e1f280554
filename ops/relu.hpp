#pragma once
/// relu and leaky relu without a branch, as composites of abs, add and scale:
///
///   alpha == 0:  relu(x) = 0.5 * (x + |x|)
///   alpha != 0:  relu(x) = f1 * x + f2 * |x|,  f1 = (1 + alpha) / 2,  f2 = (1 - alpha) / 2
///
/// which equals switch(x > 0, x, alpha * x) up to rounding (see
/// docs/optimizer.md for exactly where the two forms differ). A composite is
/// a function that builds nodes, not an op.
#include "symgraph/core/graph.hpp"

namespace symgraph {

/// alpha == 0: scale(add(x, abs(x)), 0.5);
/// otherwise:  add(scale(x, f1), scale(abs(x), f2)), f1 and f2 rounded to x's dtype.
/// Operands of add and mul are in ascending id order, the order the
/// optimizer gives commutative operands, so optimizing leaves these nodes be.
Expr relu(const Expr& x, double alpha = 0.0);

/// Leaky relu with a tensor slope (for example a learned per-channel alpha,
/// broadcast against x): add(mul(x, f1), mul(abs(x), f2)) with
/// f1 = scale(1 + alpha, 0.5) and f2 = scale(1 - alpha, 0.5) built as expressions.
Expr relu(const Expr& x, const Expr& alpha);

}  // namespace symgraph
