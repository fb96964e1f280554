#include "symgraph/autodiff/grad.hpp"

#include <algorithm>
#include <limits>

#include "symgraph/ops/mask.hpp"
#include "symgraph/ops/ops.hpp"

namespace symgraph {
namespace {

constexpr NodeId kNone = std::numeric_limits<NodeId>::max();

/// "node 12 (log, float64[3])", or "input 'x' (float64[3])".
std::string describe(const Expr& e) {
  if (e.op_name() == "input") return "input '" + e.name() + "' (" + type_str(e.type()) + ")";
  return "node " + std::to_string(e.id()) + " (" + e.op_name() + ", " + type_str(e.type()) + ")";
}

/// Same dtype and rank, and every dimension equal where both are known: a
/// cotangent may know a dimension its node declared symbolic, or the reverse.
bool compatible(const TensorType& got, const TensorType& want) {
  if (got.dtype != want.dtype || got.shape.size() != want.shape.size()) return false;
  for (std::size_t d = 0; d < got.shape.size(); ++d)
    if (got.shape[d] != want.shape[d] && got.shape[d] != kSymbolic && want.shape[d] != kSymbolic) return false;
  return true;
}

/// The cotangents a node has received so far: their sum, and the union of
/// their switch masks while every one of them is masked (ops/mask.hpp). A
/// sum of masked terms is zero outside the union, so it is masked by it.
struct Accumulator {
  enum class State : std::uint8_t { empty, single, masked, unmasked };
  NodeId sum = kNone;
  NodeId mask = kNone;
  State state = State::empty;
};

class Sweep {
 public:
  Sweep(const std::vector<Expr>& outputs, const std::vector<Expr>& wrt, const std::vector<Expr>& cotangents);

  std::vector<std::optional<Expr>> result;
  /// Per wrt: some output depends on it (there is a path in the graph).
  std::vector<char> connected;

 private:
  void accumulate(NodeId id, const Expr& c);
  Expr finish(NodeId id);
  Expr at(NodeId id) const { return Expr(store_, id); }

  std::shared_ptr<GraphStore> store_;
  std::vector<Accumulator> acc_;
};

Sweep::Sweep(const std::vector<Expr>& outputs, const std::vector<Expr>& wrt, const std::vector<Expr>& cotangents) {
  if (outputs.size() != cotangents.size())
    throw Error("vjp: " + std::to_string(outputs.size()) + " output(s) but " + std::to_string(cotangents.size()) +
                " cotangent(s); give one cotangent per output");
  result.assign(wrt.size(), std::nullopt);
  connected.assign(wrt.size(), 0);
  if (outputs.empty()) return;
  store_ = outputs[0].graph();
  const auto check_graph = [&](const Expr& e, const std::string& what) {
    if (!e.valid()) throw Error("vjp: " + what + " is an empty expression");
    if (e.graph() != store_) throw Error("vjp: " + what + " belongs to another graph than the outputs");
  };
  std::vector<Expr> seeds;
  for (std::size_t k = 0; k < outputs.size(); ++k) {
    const std::string name = "output " + std::to_string(k);
    check_graph(outputs[k], name);
    check_graph(cotangents[k], "the cotangent of " + name);
    const Expr& y = outputs[k];
    Expr c = cotangents[k];
    if (!is_float(y.dtype())) throw Error("vjp: " + name + ", " + describe(y) + ", is not float; it has no gradient");
    const std::string mismatch = "vjp: the cotangent of " + name + " is " + type_str(c.type()) + " but the output is " +
                                 type_str(y.type()) + "; it needs the output's dtype and a shape that broadcasts to it";
    if (c.dtype() != y.dtype() || c.rank() > y.rank()) throw Error(mismatch);
    for (std::size_t d = 0; d < c.rank(); ++d) {
      const auto dc = c.shape()[d], dy = y.shape()[d + y.rank() - c.rank()];
      if (dc != dy && dc != 1 && dc != kSymbolic && dy != kSymbolic) throw Error(mismatch);
    }
    if (c.shape() != y.shape()) c = broadcast_to(c, y);
    seeds.push_back(c);
  }
  for (std::size_t i = 0; i < wrt.size(); ++i) check_graph(wrt[i], "wrt[" + std::to_string(i) + "]");

  NodeId top = 0;
  for (const Expr& y : outputs) top = std::max(top, y.id());
  const std::size_t n = static_cast<std::size_t>(top) + 1;

  // reach: some output depends on the node (one backward scan).
  std::vector<char> reach(n, 0);
  for (const Expr& y : outputs) reach[y.id()] = 1;
  for (std::size_t id = n; id-- > 0;)
    if (reach[id])
      for (NodeId in : store_->node(static_cast<NodeId>(id)).inputs) reach[in] = 1;

  // relevant: reached, float, and depending on some wrt (one forward scan
  // from the first wrt). Only relevant nodes carry cotangents.
  NodeId lo = top + 1;
  std::vector<char> relevant(n, 0);
  for (std::size_t i = 0; i < wrt.size(); ++i) {
    const NodeId id = wrt[i].id();
    if (id > top || !reach[id]) continue;
    connected[i] = 1;
    if (is_float(wrt[i].dtype())) relevant[id] = 1;
    lo = std::min(lo, id);
  }
  for (std::size_t id = lo; id < n; ++id) {
    if (!reach[id] || relevant[id]) continue;
    const Node& node = store_->node(static_cast<NodeId>(id));
    if (!is_float(node.type.dtype)) continue;
    for (NodeId in : node.inputs)
      if (relevant[in]) {
        relevant[id] = 1;
        break;
      }
  }

  acc_.resize(n);
  for (std::size_t k = 0; k < outputs.size(); ++k)
    if (relevant[outputs[k].id()]) accumulate(outputs[k].id(), seeds[k]);

  // The reverse sweep: every user of a node has a larger id, so a node's
  // cotangent is complete when the sweep reaches it.
  std::vector<NodeId> inputs;
  for (std::size_t id = n; id-- > lo;) {
    if (!relevant[id] || acc_[id].state == Accumulator::State::empty) continue;
    // Copy what is needed: the rules add nodes, which may move the store.
    inputs = store_->node(static_cast<NodeId>(id)).inputs;
    const bool any_relevant = std::any_of(inputs.begin(), inputs.end(), [&](NodeId in) { return relevant[in] != 0; });
    if (!any_relevant) continue;
    const Expr y = at(static_cast<NodeId>(id));
    const Expr g = finish(static_cast<NodeId>(id));
    std::vector<std::optional<Expr>> contributions;
    try {
      contributions = y.op().vjp(y, g);
    } catch (const Error& e) {
      throw Error("grad: while differentiating " + describe(y) + ": " + e.what());
    }
    if (contributions.size() != inputs.size())
      throw Error("grad: the vjp rule of '" + y.op_name() + "' returned " +
                  count_str(contributions.size(), "cotangent") + " for " + count_str(inputs.size(), "input") + " (" +
                  describe(y) + ")");
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      if (!relevant[inputs[i]] || !contributions[i]) continue;
      const Expr& c = *contributions[i];
      const Expr x = at(inputs[i]);
      if (!c.valid() || c.graph() != store_ || !compatible(c.type(), x.type()))
        throw Error("grad: the vjp rule of '" + y.op_name() + "' returned a cotangent of type " +
                    (c.valid() ? type_str(c.type()) : std::string("<empty>")) + " for input " + std::to_string(i) +
                    ", " + describe(x) + ", of " + describe(y) + "; it must have the input's type");
      accumulate(inputs[i], c);
    }
  }

  for (std::size_t i = 0; i < wrt.size(); ++i) {
    const NodeId id = wrt[i].id();
    if (connected[i] && relevant[id] && acc_[id].state != Accumulator::State::empty) result[i] = finish(id);
  }
}

void Sweep::accumulate(NodeId id, const Expr& c) {
  using State = Accumulator::State;
  Accumulator& a = acc_[id];
  if (a.state == State::empty) {
    a.sum = c.id();
    a.state = State::single;
    return;
  }
  const std::optional<Expr> mask = peel_mask(c).mask;
  if (a.state == State::single) {
    const std::optional<Expr> first = peel_mask(at(a.sum)).mask;
    a.state = State::unmasked;
    if (first && mask) {
      a.mask = mask_or(*first, *mask).id();
      a.state = State::masked;
    }
  } else if (a.state == State::masked) {
    a.state = State::unmasked;
    if (mask) {
      a.mask = mask_or(at(a.mask), *mask).id();
      a.state = State::masked;
    }
  }
  // A union that covers everything (c or not c) is no mask.
  if (a.state == State::masked && is_full_mask(at(a.mask))) a.state = State::unmasked;
  a.sum = add(at(a.sum), c).id();
}

/// The node's total cotangent, kept as its only term so finishing twice
/// (a wrt node that is also an intermediate node) builds nothing new.
Expr Sweep::finish(NodeId id) {
  Accumulator& a = acc_[id];
  Expr g = at(a.sum);
  if (a.state == Accumulator::State::masked) g = apply_mask(g, at(a.mask));
  a = {g.id(), kNone, Accumulator::State::single};
  return g;
}

}  // namespace

std::vector<std::optional<Expr>> vjp(const std::vector<Expr>& outputs, const std::vector<Expr>& wrt,
                                     const std::vector<Expr>& cotangents) {
  return Sweep(outputs, wrt, cotangents).result;
}

std::vector<Expr> grad(const Expr& cost, const std::vector<Expr>& wrt) { return grad(cost, wrt, GradOptions{}); }

std::vector<Expr> grad(const Expr& cost, const std::vector<Expr>& wrt, const GradOptions& options) {
  if (!cost.valid()) throw Error("grad: the cost is an empty expression");
  if (!is_float(cost.dtype()) || cost.rank() != 0)
    throw Error("grad: the cost must be a 0-d float expression, got " + type_str(cost.type()) +
                " (reduce it with sum() first, or use vjp() with a cotangent)");
  for (std::size_t i = 0; i < wrt.size(); ++i) {
    if (!wrt[i].valid()) throw Error("grad: wrt[" + std::to_string(i) + "] is an empty expression");
    if (!is_float(wrt[i].dtype()))
      throw Error("grad: wrt[" + std::to_string(i) + "], " + describe(wrt[i]) +
                  ", is bool and has no gradient (vjp() returns nullopt for it)");
  }
  Sweep sweep({cost}, wrt, {constant_like(cost, 1.0)});
  std::vector<Expr> out;
  out.reserve(wrt.size());
  for (std::size_t i = 0; i < wrt.size(); ++i) {
    if (sweep.result[i]) {
      out.push_back(*sweep.result[i]);
      continue;
    }
    if (!sweep.connected[i] && options.disconnected == Disconnected::error)
      throw Error("grad: the cost does not depend on wrt[" + std::to_string(i) + "], " + describe(wrt[i]) +
                  " (pass GradOptions{Disconnected::zeros} to get zeros)");
    out.push_back(zeros_like(wrt[i]));
  }
  return out;
}

}  // namespace symgraph
