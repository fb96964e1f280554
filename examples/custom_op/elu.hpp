#pragma once
// elu(x, alpha): an op with an attribute, defined outside the library
// (elu.cpp). docs/adding-an-op.md shows how its kernel and its gradient
// read the attribute.
#include <symgraph/symgraph.hpp>

namespace example {

/// elu(x, alpha) = x for x > 0, alpha * (exp(x) - 1) otherwise; elementwise,
/// float32 or float64.
symgraph::Expr elu(const symgraph::Expr& x, double alpha);

}  // namespace example
