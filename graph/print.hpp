#pragma once
/// Text form of a graph, in the spirit of Theano's debugprint: one node a
/// line, its inputs indented below it, each shared node printed in full once
/// and referred to by its id afterwards.
#include <string>
#include <vector>

#include "symgraph/core/graph.hpp"

namespace symgraph {

std::string debugprint(const std::vector<Expr>& outputs);

}  // namespace symgraph
