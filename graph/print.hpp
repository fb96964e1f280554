#pragma once
/// Text form of a graph, in the spirit of Theano's debugprint: one node a
/// line with its op, number and type, its inputs indented below it; a node
/// used more than once is expanded the first time and afterwards shown as a
/// one-line reference to its number. Numbers are those of the JSON output
/// (graph/order.hpp), so a line can be matched with its JSON node.
///
///   add [id 4] float64[?]
///    |scale(factor=0.55) [id 1] float64[?]
///    | |x [id 0] float64[?]
///    |scale(factor=0.45) [id 3] float64[?]
///      |abs [id 2] float64[?]
///        |x [id 0] float64[?]
///
/// A node's label is Op::label() of its attributes (so an op can choose its
/// own), an input's is its name and a constant's its value. Deeper than
/// `max_indent` levels, a subtree continues in its own block further down
/// ("(continued below)"), so the output stays linear in the graph's size
/// and nothing recurses in its depth.
#include <string>
#include <vector>

#include "symgraph/core/graph.hpp"

namespace symgraph {

struct PrintOptions {
  std::size_t max_indent = 32;
};

std::string debugprint(const std::vector<Expr>& outputs, const PrintOptions& options = {});

/// A one-line form of an expression built from Op::format() of each node
/// with its operands' forms (always one per operand):
/// switch(gt(x, 0), x, mul(0.1, x)). Operands
/// deeper than `max_depth` levels are shown as their label and number,
/// abs[id 7]...; iterative, so any depth is safe. Meant for short forms
/// (messages, traces): each level copies its operands' text, so the cost
/// grows with the square of the depth shown.
std::string expr_str(const Expr& e, std::size_t max_depth = 4);

/// The label a node gets in the text and DOT forms: an input's name, a
/// constant's value, otherwise Op::label(), e.g. "scale(factor=0.5)" or "add".
std::string node_label(const Node& node);

}  // namespace symgraph
