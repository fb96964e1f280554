#include "symgraph/graph/shapes.hpp"

#include <unordered_map>

namespace symgraph {
namespace {

/// Nodes a single query may visit; deep elementwise chains past this many
/// nodes are simply not proven.
constexpr std::size_t kVisitBudget = 512;

/// `small`'s static shape broadcasts into `big`'s without changing it,
/// whatever the run-time sizes.
bool fits_statically(const Shape& small, const Shape& big) {
  if (small.size() > big.size()) return false;
  for (std::size_t i = 0; i < small.size(); ++i) {
    const std::int64_t ds = small[i], db = big[i + big.size() - small.size()];
    if (ds != 1 && (ds != db || ds == kSymbolic)) return false;
  }
  return true;
}

/// The node's shape is its operands' shapes broadcast together: elementwise
/// ops and broadcast_to (which broadcasts both ways, like NumPy's).
bool broadcasts(const Node& n) { return n.op->elementwise() || n.op->name() == "broadcast_to"; }

class SourceFinder {
 public:
  explicit SourceFinder(const GraphStore& g) : g_(g) {}

  NodeId find(NodeId root) {
    // Post-order over the shape-relevant operands, with an explicit stack.
    std::vector<std::pair<NodeId, bool>> stack = {{root, false}};
    while (!stack.empty()) {
      auto [id, expanded] = stack.back();
      stack.pop_back();
      if (source_.count(id)) continue;
      if (expanded || visited_ >= kVisitBudget) {
        source_[id] = expanded ? resolve(id) : id;
        continue;
      }
      ++visited_;
      stack.push_back({id, true});
      for (NodeId in : operands_that_matter(id))
        if (!source_.count(in)) stack.push_back({in, false});
    }
    return source_.at(root);
  }

 private:
  std::vector<NodeId> operands_that_matter(NodeId id) const {
    const Node& n = g_.node(id);
    const std::string& op = n.op->name();
    if (op == "sum_to" && n.inputs.size() == 2) return {n.inputs[1]};
    if (broadcasts(n)) return n.inputs;
    return {};
  }

  NodeId resolve(NodeId id) const {
    const Node& n = g_.node(id);
    const std::string& op = n.op->name();
    if (op == "sum_to" && n.inputs.size() == 2) return source_.at(n.inputs[1]);
    if (!broadcasts(n)) return id;
    // The result has operand k's shape when every other operand shares k's
    // source or fits into k's static shape.
    for (NodeId k : n.inputs) {
      const Node& nk = g_.node(k);
      if (nk.type.shape != n.type.shape) continue;
      bool all = true;
      for (NodeId j : n.inputs)
        if (j != k && source_.at(j) != source_.at(k) && !fits_statically(g_.node(j).type.shape, nk.type.shape)) {
          all = false;
          break;
        }
      if (all) return source_.at(k);
    }
    return id;
  }

  const GraphStore& g_;
  std::unordered_map<NodeId, NodeId> source_;
  std::size_t visited_ = 0;
};

}  // namespace

NodeId shape_source(const Expr& e) { return SourceFinder(*e.graph()).find(e.id()); }

bool same_runtime_shape(const Expr& a, const Expr& b) {
  if (a.graph() != b.graph() || a.shape() != b.shape()) return false;
  if (is_concrete(a.shape()) || a.is(b)) return true;
  SourceFinder finder(*a.graph());
  return finder.find(a.id()) == finder.find(b.id());
}

}  // namespace symgraph
