#pragma once
// softplus(x) = log(1 + exp(x)): an op defined outside the library, in the
// user's own files (softplus.cpp has the op, its registration and a rewrite
// rule). docs/adding-an-op.md walks through it.
#include <symgraph/symgraph.hpp>

namespace example {

/// softplus(x) = log(1 + exp(x)), elementwise, float32 or float64.
symgraph::Expr softplus(const symgraph::Expr& x);

}  // namespace example
