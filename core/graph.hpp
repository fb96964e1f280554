#pragma once
/// The graph store and the Expr handle.
///
/// A graph is a flat sequence of immutable nodes in which inputs always come
/// before their users, so storage order is a topological order and memo tables
/// are vectors indexed by NodeId. A hash table from (op, attributes, inputs)
/// to id makes building the same expression twice return the same node
/// (hash-consing): common subexpressions are shared by construction. Nothing
/// here recurses in the depth of a graph; destroying a graph frees a vector.
///
/// A GraphStore is not synchronised: build each graph from one thread at a
/// time (different graphs on different threads are independent). Compiled
/// functions do not refer to the store and may be called concurrently.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <deque>
#include <limits>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "symgraph/core/op.hpp"

namespace symgraph {

using NodeId = std::uint32_t;

/// The operand ids of a node, read like a const std::vector<NodeId>: up to
/// three are stored inline (every built-in op has at most three operands),
/// more on the heap. 16 bytes, and no allocation for most nodes.
class NodeInputs {
 public:
  NodeInputs() = default;
  NodeInputs(const std::vector<NodeId>& ids);  // NOLINT: implicit, like the vector it replaces
  NodeInputs(const NodeInputs& other) : NodeInputs(std::vector<NodeId>(other)) {}
  NodeInputs(NodeInputs&& other) noexcept : size_(other.size_) {
    std::memcpy(data_, other.data_, sizeof data_);
    other.size_ = 0;
  }
  NodeInputs& operator=(NodeInputs other) noexcept {
    std::swap(size_, other.size_);
    std::swap(data_, other.data_);
    return *this;
  }
  ~NodeInputs() {
    if (size_ > kInline) delete[] heap();
  }

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const NodeId* begin() const { return size_ <= kInline ? data_ : heap(); }
  const NodeId* end() const { return begin() + size_; }
  const NodeId& operator[](std::size_t i) const { return begin()[i]; }
  operator std::vector<NodeId>() const { return {begin(), end()}; }  // NOLINT: implicit
  friend bool operator==(const NodeInputs& a, const NodeInputs& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }
  friend bool operator==(const NodeInputs& a, const std::vector<NodeId>& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }

 private:
  static constexpr std::uint32_t kInline = 3;
  // More than kInline operands: data_ holds a pointer to them (unaligned,
  // so it is copied in and out).
  NodeId* heap() const {
    NodeId* p;
    std::memcpy(&p, data_, sizeof p);
    return p;
  }
  std::uint32_t size_ = 0;
  NodeId data_[kInline] = {};
  static_assert(sizeof(NodeId*) <= sizeof(NodeId[kInline]));
};

/// A node of a graph store. `type` and `name` refer to values the store
/// keeps once (one TensorType per distinct type, names of input nodes), so
/// that a node is small: 72 bytes and, for most ops, nothing on the heap
/// but its attributes.
struct Node {
  Node(const Op* op_, NodeInputs inputs_, Attrs attrs_, const TensorType& type_, const std::string& name_)
      : op(op_), inputs(std::move(inputs_)), attrs(std::move(attrs_)), type(type_), name(name_) {}

  const Op* op = nullptr;
  NodeInputs inputs;
  Attrs attrs;
  const TensorType& type;
  /// Name of an input node (empty for other nodes).
  const std::string& name;
  std::uint32_t hash = 0;
  /// The node whose run-time shape this node's provably equals (kSelf: its
  /// own), derived from the inputs when the node is built; see
  /// same_runtime_shape.
  NodeId shape_source = kSelf;
  static constexpr NodeId kSelf = std::numeric_limits<NodeId>::max();
};

class GraphStore {
 public:
  GraphStore();
  GraphStore(const GraphStore&) = delete;
  GraphStore& operator=(const GraphStore&) = delete;

  /// The node op(inputs; attrs), built (type inferred, errors thrown) or
  /// found if it exists already. The number of operands and the attributes
  /// are checked against the op's declaration first (Op::check_arity,
  /// Op::check_attrs), so infer() never sees what the op does not declare.
  NodeId add(const Op& op, std::vector<NodeId> inputs, Attrs attrs);
  /// The graph input `name`: declaring the same name again with the same type
  /// returns the same node, with another type throws.
  NodeId add_input(const std::string& name, TensorType type);
  /// A constant node holding `value` (NaNs are canonicalised first, so all
  /// NaN constants of a dtype are one node; +0.0 and -0.0 stay distinct).
  NodeId add_constant(Tensor value);

  const Node& node(NodeId id) const { return nodes_[id]; }
  /// Node::shape_source with kSelf resolved to `id`.
  NodeId shape_source(NodeId id) const {
    const NodeId s = nodes_[id].shape_source;
    return s == Node::kSelf ? id : s;
  }
  std::size_t size() const { return nodes_.size(); }
  /// Input node by name, or nullptr.
  const NodeId* find_input(const std::string& name) const;

 private:
  NodeId intern(Node n);
  /// The store's one copy of `t`.
  const TensorType& intern_type(TensorType t);
  NodeId shape_source_of(const Node& n) const;
  bool same_node(NodeId a, NodeId b) const;
  void grow_index();

  // A deque: adding nodes never moves existing ones, so references from
  // Expr::node() and attrs() stay valid while more nodes are built.
  std::deque<Node> nodes_;
  // Hash-consing index: open addressing with linear probing over node ids
  // (4 bytes a slot, at most half full), no allocation per node.
  std::vector<NodeId> index_;
  std::size_t index_count_ = 0;
  // Node::name refers to a key (unordered_map keys never move).
  std::unordered_map<std::string, NodeId> inputs_by_name_;
  struct TypeHash {
    std::size_t operator()(const TensorType& t) const;
  };
  // Node::type refers to an element (unordered_set elements never move).
  std::unordered_set<TensorType, TypeHash> types_;
};

/// A handle to one node of a graph. Cheap to copy; keeps the graph alive.
/// Arithmetic and comparison operators build nodes. `==` is deliberately not
/// overloaded (use eq(a, b) for the op and a.is(b) for node identity).
class Expr {
 public:
  Expr() = default;
  Expr(std::shared_ptr<GraphStore> graph, NodeId id) : graph_(std::move(graph)), id_(id) {}

  bool valid() const { return graph_ != nullptr; }
  NodeId id() const { return id_; }
  const std::shared_ptr<GraphStore>& graph() const { return graph_; }
  const Node& node() const;
  const Op& op() const { return *node().op; }
  const std::string& op_name() const { return node().op->name(); }
  const TensorType& type() const { return node().type; }
  DType dtype() const { return type().dtype; }
  const Shape& shape() const { return type().shape; }
  std::size_t rank() const { return shape().size(); }
  const Attrs& attrs() const { return node().attrs; }
  const std::string& name() const { return node().name; }
  std::size_t num_inputs() const { return node().inputs.size(); }
  Expr input(std::size_t i) const;
  std::vector<Expr> inputs() const;
  /// Same graph and same node.
  bool is(const Expr& other) const { return graph_ == other.graph_ && id_ == other.id_; }

 private:
  std::shared_ptr<GraphStore> graph_;
  NodeId id_ = 0;
};

/// A graph: a shared handle to a GraphStore, the place inputs and constants
/// are created. Expressions built from its inputs live in it.
class Graph {
 public:
  Graph();
  explicit Graph(std::shared_ptr<GraphStore> store) : store_(std::move(store)) {}

  /// A graph input. Shape dimensions may be kSymbolic.
  Expr input(const std::string& name, DType dtype = DType::float64, Shape shape = {});
  Expr constant(const Tensor& value);
  /// A 0-d constant `value` of `dtype`.
  Expr constant(double value, DType dtype = DType::float64);
  Expr node(NodeId id) const { return Expr(store_, id); }
  std::size_t size() const { return store_->size(); }
  const std::shared_ptr<GraphStore>& store() const { return store_; }

 private:
  std::shared_ptr<GraphStore> store_;
};

/// The node op(inputs; attrs) in the inputs' graph. All inputs must belong to
/// one graph. This is how every builder function (and user op) makes nodes.
Expr apply(const Op& op, const std::vector<Expr>& inputs, Attrs attrs = {});
Expr apply(std::string_view op_name, const std::vector<Expr>& inputs, Attrs attrs = {});

/// reachable(outputs)[id] is 1 for every node the outputs depend on (ids up
/// to the largest output id): one backward scan, as ids are a topological order.
std::vector<char> reachable(const std::vector<Expr>& outputs);

/// True when `a` and `b` are proven to have one shape whenever the graph
/// runs. Static types leave symbolic dimensions open (two float64[?] vectors
/// may differ), but x and 0.55 * |x| never do: every node records the node
/// its shape comes from. sum_to(x, like) has like's; an elementwise op or
/// broadcast_to has operand k's when every other operand has k's source or
/// broadcasts into k unchanged (fits_unchanged). False means "not proven".
bool same_runtime_shape(const Expr& a, const Expr& b);

/// The graph of an expression (shares the store).
inline Graph graph_of(const Expr& e) { return Graph(e.graph()); }

}  // namespace symgraph
