#include "symgraph/graph/dot.hpp"

#include "symgraph/graph/order.hpp"
#include "symgraph/graph/print.hpp"

namespace symgraph {
namespace {

/// A DOT string literal; "\n" in `s` becomes a line break in the label.
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

std::string to_dot(const std::vector<Expr>& outputs) {
  const NodeOrder order = order_nodes("to_dot", outputs);
  std::string out =
      "digraph symgraph {\n"
      "  node [shape=box, style=rounded, fontname=\"Helvetica\", fontsize=11];\n"
      "  edge [fontname=\"Helvetica\", fontsize=9];\n";
  for (std::size_t k = 0; k < order.size(); ++k) {
    const Node& n = order.store().node(order.nodes()[k]);
    const std::string& op = n.op->name();
    std::string attrs = "label=" + quoted(node_label(n) + "\n[id " + std::to_string(k) + "] " + type_str(n.type));
    if (op == "input") attrs += ", shape=ellipse, style=\"\"";
    if (op == "constant") attrs += ", shape=box, style=\"rounded,dashed\"";
    out += "  n" + std::to_string(k) + " [" + attrs + "];\n";
  }
  for (std::size_t k = 0; k < order.size(); ++k) {
    const Node& n = order.store().node(order.nodes()[k]);
    const bool positional = n.inputs.size() > 1 && !n.op->commutative();
    for (std::size_t i = 0; i < n.inputs.size(); ++i) {
      out += "  n" + std::to_string(order.number(n.inputs[i])) + " -> n" + std::to_string(k);
      if (positional) out += " [label=\"" + std::to_string(i) + "\"]";
      out += ";\n";
    }
  }
  for (std::size_t i = 0; i < order.outputs().size(); ++i) {
    const std::string o = "out" + std::to_string(i);
    out += "  " + o + " [label=\"output " + std::to_string(i) + "\", shape=plaintext];\n";
    out += "  n" + std::to_string(order.number(order.outputs()[i])) + " -> " + o + ";\n";
  }
  return out + "}\n";
}

}  // namespace symgraph
