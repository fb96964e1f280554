#include "symgraph/graph/print.hpp"

#include <unordered_set>

namespace symgraph {
namespace {

std::string head(const Expr& e) {
  const Node& n = e.node();
  std::string s;
  if (n.op->name() == "input") {
    s = n.name;
  } else if (n.op->name() == "constant") {
    s = "constant " + attr_str(*n.attrs.find("value"));
  } else {
    s = n.op->name();
    if (!n.attrs.empty()) {
      s += "{";
      bool first = true;
      for (const auto& [k, v] : n.attrs.items()) {
        s += (first ? "" : ", ") + k + "=" + attr_str(v);
        first = false;
      }
      s += "}";
    }
  }
  return s + " [id " + std::to_string(n.op->name() == "input" ? e.id() : e.id()) + "] " + type_str(n.type);
}

}  // namespace

std::string debugprint(const std::vector<Expr>& outputs) {
  std::string out;
  std::unordered_set<NodeId> printed;
  // Explicit stack of (node, depth): no recursion in the graph's depth.
  for (const Expr& root : outputs) {
    std::vector<std::pair<Expr, std::size_t>> stack{{root, 0}};
    while (!stack.empty()) {
      auto [e, depth] = stack.back();
      stack.pop_back();
      std::string indent;
      for (std::size_t i = 0; i < depth; ++i) indent += i + 1 == depth ? " |" : "  ";
      const bool leaf = e.num_inputs() == 0;
      const bool seen = !printed.insert(e.id()).second;
      out += indent + head(e) + (seen && !leaf ? " (shown above)" : "") + "\n";
      if (seen) continue;
      for (std::size_t i = e.num_inputs(); i-- > 0;) stack.emplace_back(e.input(i), depth + 1);
    }
  }
  return out;
}

}  // namespace symgraph
