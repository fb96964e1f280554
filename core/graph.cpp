#include "symgraph/core/graph.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "symgraph/core/registry.hpp"

namespace symgraph {
namespace {

std::uint32_t node_hash(const Node& n) {
  std::size_t h = std::hash<const void*>{}(n.op);
  auto mix = [&](std::size_t v) { h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2); };
  for (NodeId i : n.inputs) mix(i);
  mix(n.attrs.hash());
  mix(std::hash<std::string>{}(n.name));
  return static_cast<std::uint32_t>(h ^ (h >> 32));
}

const std::string& no_name() {
  static const std::string empty;
  return empty;
}

// All NaNs of a dtype become the one default quiet NaN, so constants that
// are NaN compare (and hash) equal bit for bit.
void canonicalize_nans(Tensor& t) {
  if (t.dtype() == DType::float32) {
    for (float& v : t.array<float>()) if (std::isnan(v)) v = std::numeric_limits<float>::quiet_NaN();
  } else if (t.dtype() == DType::float64) {
    for (double& v : t.array<double>()) if (std::isnan(v)) v = std::numeric_limits<double>::quiet_NaN();
  }
}

}  // namespace

namespace {
constexpr NodeId kEmptySlot = std::numeric_limits<NodeId>::max();

/// Slot of hash h in a table of `size` (a power of two) slots: Fibonacci
/// hashing spreads node_hash's low-entropy low bits over the table.
std::size_t slot_of(std::size_t h, std::size_t size) {
  return static_cast<std::size_t>((static_cast<std::uint64_t>(h) * 0x9e3779b97f4a7c15ULL) >> 32) & (size - 1);
}
}  // namespace

NodeInputs::NodeInputs(const std::vector<NodeId>& ids) : size_(static_cast<std::uint32_t>(ids.size())) {
  if (ids.size() > std::numeric_limits<std::uint32_t>::max()) throw Error("graph: a node has too many inputs");
  if (size_ <= kInline) {
    std::copy(ids.begin(), ids.end(), data_);
  } else {
    NodeId* p = new NodeId[size_];
    std::copy(ids.begin(), ids.end(), p);
    std::memcpy(data_, &p, sizeof p);
  }
}

std::size_t GraphStore::TypeHash::operator()(const TensorType& t) const {
  std::size_t h = static_cast<std::size_t>(t.dtype);
  for (auto d : t.shape) h = h * 1000003u ^ std::hash<std::int64_t>{}(d);
  return h;
}

const TensorType& GraphStore::intern_type(TensorType t) { return *types_.insert(std::move(t)).first; }

GraphStore::GraphStore() : index_(64, kEmptySlot) {}

bool GraphStore::same_node(NodeId a, NodeId b) const {
  const Node& x = nodes_[a];
  const Node& y = nodes_[b];
  return x.hash == y.hash && x.op == y.op && x.inputs == y.inputs && x.name == y.name && x.attrs == y.attrs;
}

void GraphStore::grow_index() {
  std::vector<NodeId> bigger(index_.size() * 2, kEmptySlot);
  for (NodeId id : index_) {
    if (id == kEmptySlot) continue;
    std::size_t i = slot_of(nodes_[id].hash, bigger.size());
    while (bigger[i] != kEmptySlot) i = (i + 1) & (bigger.size() - 1);
    bigger[i] = id;
  }
  index_ = std::move(bigger);
}

NodeId GraphStore::intern(Node n) {
  // kEmptySlot is never a node id.
  if (nodes_.size() >= std::numeric_limits<NodeId>::max() - 1)
    throw Error("graph: too many nodes (the limit is " + std::to_string(std::numeric_limits<NodeId>::max() - 1) + ")");
  n.hash = node_hash(n);
  if (2 * (index_count_ + 1) > index_.size()) grow_index();
  // Tentatively append, then look the new id up: an equal node found means
  // the expression exists already.
  nodes_.push_back(std::move(n));
  const auto id = static_cast<NodeId>(nodes_.size() - 1);
  const std::size_t mask = index_.size() - 1;
  std::size_t i = slot_of(nodes_.back().hash, index_.size());
  for (; index_[i] != kEmptySlot; i = (i + 1) & mask) {
    if (same_node(index_[i], id)) {
      const NodeId existing = index_[i];
      nodes_.pop_back();
      return existing;
    }
  }
  index_[i] = id;
  ++index_count_;
  return id;
}

NodeId GraphStore::add(const Op& op, std::vector<NodeId> inputs, Attrs attrs) {
  // Operands and attributes as the op declares them, before infer() sees them.
  op.check_arity(inputs.size());
  if (op.name() == "input" || op.name() == "constant")
    throw Error(op.name() + ": create inputs with Graph::input and constants with Graph::constant");
  op.check_attrs(attrs);
  std::vector<TensorType> types;
  types.reserve(inputs.size());
  for (NodeId i : inputs) {
    if (i >= nodes_.size()) throw Error(op.name() + ": input node " + std::to_string(i) + " does not exist");
    types.push_back(nodes_[i].type);
  }
  const TensorType& type = intern_type(op.infer(types, attrs));
  Node node(&op, inputs, std::move(attrs), type, no_name());
  node.shape_source = shape_source_of(node);
  return intern(std::move(node));
}

NodeId GraphStore::shape_source_of(const Node& n) const {
  const std::string& name = n.op->name();
  if (name == "sum_to" && n.inputs.size() == 2) return shape_source(n.inputs[1]);
  if (!n.op->elementwise() && name != "broadcast_to") return Node::kSelf;
  // The result is the operands' shapes broadcast together: operand k's
  // shape when every other operand shares k's source or fits into it.
  for (NodeId k : n.inputs) {
    const Shape& sk = nodes_[k].type.shape;
    if (sk != n.type.shape) continue;
    const bool all = std::all_of(n.inputs.begin(), n.inputs.end(), [&](NodeId j) {
      return shape_source(j) == shape_source(k) || fits_unchanged(nodes_[j].type.shape, sk);
    });
    if (all) return shape_source(k);
  }
  return Node::kSelf;
}

NodeId GraphStore::add_input(const std::string& name, TensorType type) {
  if (name.empty()) throw Error("input: a graph input needs a non-empty name");
  for (auto d : type.shape)
    if (d < 0 && d != kSymbolic)
      throw Error("input '" + name + "': dimension " + std::to_string(d) + " is negative");
  if (auto it = inputs_by_name_.find(name); it != inputs_by_name_.end()) {
    const Node& existing = nodes_[it->second];
    if (existing.type != type)
      throw Error("input '" + name + "' is already declared as " + type_str(existing.type) +
                  "; cannot redeclare it as " + type_str(type));
    return it->second;
  }
  // The name's entry first: the node refers to its key.
  const auto entry = inputs_by_name_.emplace(name, kEmptySlot).first;
  try {
    const NodeId id = intern(Node(&op_named("input"), {}, {}, intern_type(std::move(type)), entry->first));
    entry->second = id;
    return id;
  } catch (...) {
    inputs_by_name_.erase(entry);
    throw;
  }
}

bool same_runtime_shape(const Expr& a, const Expr& b) {
  if (a.graph() != b.graph() || a.shape() != b.shape()) return false;
  return is_concrete(a.shape()) || a.graph()->shape_source(a.id()) == a.graph()->shape_source(b.id());
}

NodeId GraphStore::add_constant(Tensor value) {
  canonicalize_nans(value);
  const TensorType& type = intern_type(value.type());
  Attrs attrs;
  attrs.set("value", std::move(value));
  return intern(Node(&op_named("constant"), {}, std::move(attrs), type, no_name()));
}

const NodeId* GraphStore::find_input(const std::string& name) const {
  auto it = inputs_by_name_.find(name);
  return it == inputs_by_name_.end() ? nullptr : &it->second;
}

const Node& Expr::node() const {
  if (!graph_) throw Error("Expr: use of an empty expression handle");
  return graph_->node(id_);
}

Expr Expr::input(std::size_t i) const {
  const Node& n = node();
  if (i >= n.inputs.size())
    throw Error(n.op->name() + ": has " + count_str(n.inputs.size(), "input") + ", asked for input " +
                std::to_string(i));
  return Expr(graph_, n.inputs[i]);
}

std::vector<Expr> Expr::inputs() const {
  std::vector<Expr> out;
  for (NodeId i : node().inputs) out.emplace_back(graph_, i);
  return out;
}

Graph::Graph() : store_(std::make_shared<GraphStore>()) {}

Expr Graph::input(const std::string& name, DType dtype, Shape shape) {
  return Expr(store_, store_->add_input(name, TensorType{dtype, std::move(shape)}));
}

Expr Graph::constant(const Tensor& value) { return Expr(store_, store_->add_constant(value.clone())); }

Expr Graph::constant(double value, DType dtype) { return Expr(store_, store_->add_constant(Tensor::scalar(value, dtype))); }

Expr apply(const Op& op, const std::vector<Expr>& inputs, Attrs attrs) {
  if (inputs.empty()) throw Error(op.name() + ": needs at least one input expression to know its graph");
  std::vector<NodeId> ids;
  ids.reserve(inputs.size());
  for (const Expr& e : inputs) {
    if (!e.valid()) throw Error(op.name() + ": an input expression is empty");
    if (e.graph() != inputs[0].graph())
      throw Error(op.name() + ": operands belong to different graphs (build them from one Graph)");
    ids.push_back(e.id());
  }
  return Expr(inputs[0].graph(), inputs[0].graph()->add(op, std::move(ids), std::move(attrs)));
}

std::vector<char> reachable(const std::vector<Expr>& outputs) {
  NodeId top = 0;
  for (const Expr& e : outputs) top = std::max(top, e.id());
  std::vector<char> live(outputs.empty() ? 0 : static_cast<std::size_t>(top) + 1, 0);
  for (const Expr& e : outputs) live[e.id()] = 1;
  for (std::size_t id = live.size(); id-- > 0;)
    if (live[id])
      for (NodeId in : outputs[0].graph()->node(static_cast<NodeId>(id)).inputs) live[in] = 1;
  return live;
}

Expr apply(std::string_view op_name, const std::vector<Expr>& inputs, Attrs attrs) {
  return apply(op_named(op_name), inputs, std::move(attrs));
}

}  // namespace symgraph
