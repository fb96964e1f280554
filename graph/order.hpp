#pragma once
/// A canonical numbering of the nodes a set of outputs needs, shared by the
/// JSON writer and the text and DOT printers, so that all three call a node
/// by the same number.
///
/// The order depends only on the expressions, not on the store: the
/// function's inputs come first, in argument order, then the remaining
/// nodes in depth-first post-order from the outputs (operands in order).
/// Post-order is a topological order (operands before users), and building
/// the same expression in another store, in another order, or next to other
/// nodes gives the same numbering. The traversal uses an explicit stack.
#include <cstdint>
#include <string_view>
#include <vector>

#include "symgraph/core/graph.hpp"

namespace symgraph {

class NodeOrder;
NodeOrder order_nodes(std::string_view who, const std::vector<Expr>& outputs);
NodeOrder order_nodes(std::string_view who, const std::vector<Expr>& inputs, const std::vector<Expr>& outputs);

class NodeOrder {
 public:
  /// Store ids of the numbered nodes: nodes()[k] is node number k.
  const std::vector<NodeId>& nodes() const { return nodes_; }
  /// The function's input nodes (store ids), in argument order; they are
  /// numbered 0 .. inputs().size() - 1.
  const std::vector<NodeId>& inputs() const { return inputs_; }
  const std::vector<NodeId>& outputs() const { return outputs_; }
  /// Number of store node `id`; kNone if it is not numbered.
  std::uint32_t number(NodeId id) const { return id < number_.size() ? number_[id] : kNone; }
  const GraphStore& store() const { return *store_; }
  std::size_t size() const { return nodes_.size(); }

  static constexpr std::uint32_t kNone = 0xffffffffu;

 private:
  friend NodeOrder order_nodes(std::string_view, const std::vector<Expr>&);
  friend NodeOrder order_nodes(std::string_view, const std::vector<Expr>&, const std::vector<Expr>&);
  static NodeOrder build(std::string_view who, const std::vector<Expr>* inputs, const std::vector<Expr>& outputs);
  const GraphStore* store_ = nullptr;
  std::vector<NodeId> nodes_, inputs_, outputs_;
  std::vector<std::uint32_t> number_;
};

/// Numbers the nodes `outputs` reach. The inputs are the input nodes they
/// reach, in store id order (the order they were declared). `who` names the
/// caller in error messages (every expression must be valid and of one graph).
NodeOrder order_nodes(std::string_view who, const std::vector<Expr>& outputs);

/// Same, with the function's inputs given: input nodes, each listed once,
/// also those no output needs; every input node an output needs must be
/// listed.
NodeOrder order_nodes(std::string_view who, const std::vector<Expr>& inputs, const std::vector<Expr>& outputs);

}  // namespace symgraph
