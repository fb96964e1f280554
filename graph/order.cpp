#include "symgraph/graph/order.hpp"

#include <string>

namespace symgraph {

NodeOrder NodeOrder::build(std::string_view who, const std::vector<Expr>* inputs, const std::vector<Expr>& outputs) {
  const std::string prefix(who);
  const std::shared_ptr<GraphStore>* graph = nullptr;
  auto check = [&](const Expr& e, const char* what, std::size_t i) {
    if (!e.valid()) throw Error(prefix + ": " + what + " " + std::to_string(i) + " is an empty expression");
    if (!graph) graph = &e.graph();
    if (e.graph() != *graph)
      throw Error(prefix + ": " + what + " " + std::to_string(i) +
                  " belongs to another graph (all expressions must come from one Graph)");
  };
  if (inputs)
    for (std::size_t i = 0; i < inputs->size(); ++i) check((*inputs)[i], "input", i);
  for (std::size_t i = 0; i < outputs.size(); ++i) check(outputs[i], "output", i);

  NodeOrder order;
  if (!graph) return order;  // nothing to number
  const GraphStore& store = **graph;
  order.store_ = &store;
  order.number_.assign(store.size(), kNone);
  auto emit = [&](NodeId id) {
    order.number_[id] = static_cast<std::uint32_t>(order.nodes_.size());
    order.nodes_.push_back(id);
  };

  if (inputs) {
    for (std::size_t i = 0; i < inputs->size(); ++i) {
      const Expr& e = (*inputs)[i];
      if (e.op_name() != "input")
        throw Error(prefix + ": input " + std::to_string(i) + " is a '" + e.op_name() +
                    "' node; the inputs of a function must be graph inputs");
      if (order.number_[e.id()] != kNone)
        throw Error(prefix + ": input '" + e.name() + "' is listed twice");
      emit(e.id());
      order.inputs_.push_back(e.id());
    }
  } else {
    // The input nodes the outputs reach, in id order: one backward scan,
    // since ids are a topological order.
    NodeId top = 0;
    for (const Expr& e : outputs) top = std::max(top, e.id());
    std::vector<char> live(static_cast<std::size_t>(top) + 1, 0);
    for (const Expr& e : outputs) live[e.id()] = 1;
    for (std::size_t id = live.size(); id-- > 0;) {
      if (!live[id]) continue;
      const Node& n = store.node(static_cast<NodeId>(id));
      for (NodeId in : n.inputs) live[in] = 1;
    }
    for (std::size_t id = 0; id < live.size(); ++id) {
      if (live[id] && store.node(static_cast<NodeId>(id)).op->name() == "input") {
        emit(static_cast<NodeId>(id));
        order.inputs_.push_back(static_cast<NodeId>(id));
      }
    }
  }

  // Depth-first post-order from each output; a frame is (node, next operand).
  std::vector<std::pair<NodeId, std::uint32_t>> stack;
  constexpr std::uint32_t kEntered = kNone - 1;
  for (const Expr& out : outputs) {
    order.outputs_.push_back(out.id());
    if (order.number_[out.id()] != kNone) continue;
    order.number_[out.id()] = kEntered;
    stack.emplace_back(out.id(), 0);
    while (!stack.empty()) {
      auto& [id, next] = stack.back();
      const Node& n = store.node(id);
      if (next < n.inputs.size()) {
        const NodeId in = n.inputs[next++];
        if (order.number_[in] == kNone) {
          order.number_[in] = kEntered;
          stack.emplace_back(in, 0);
        }
        continue;
      }
      const NodeId done = id;
      stack.pop_back();
      if (inputs && n.op->name() == "input")
        throw Error(prefix + ": the outputs depend on input '" + n.name + "', which is not among the inputs given");
      emit(done);
    }
  }
  return order;
}

NodeOrder order_nodes(std::string_view who, const std::vector<Expr>& outputs) {
  return NodeOrder::build(who, nullptr, outputs);
}

NodeOrder order_nodes(std::string_view who, const std::vector<Expr>& inputs, const std::vector<Expr>& outputs) {
  return NodeOrder::build(who, &inputs, outputs);
}

}  // namespace symgraph
