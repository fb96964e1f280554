#pragma once
/// Graphviz DOT form of a graph (render with `dot -Tsvg`). Data flows
/// downwards: inputs and constants at the top, outputs at the bottom. Each
/// node shows its label (graph/print.hpp), its number (as in the JSON and
/// text forms) and its type; edges into an op with several operands that is
/// not commutative are labelled with the operand's position. The output is
/// deterministic and built without recursion.
#include <string>
#include <vector>

#include "symgraph/core/graph.hpp"

namespace symgraph {

std::string to_dot(const std::vector<Expr>& outputs);

}  // namespace symgraph
