#include "symgraph/graph/rewrite.hpp"

#include <algorithm>
#include <limits>
#include <queue>
#include <unordered_map>
#include <utility>

namespace symgraph {

std::string_view contract_name(Contract c) {
  switch (c) {
    case Contract::exact: return "exact";
    case Contract::signed_zero: return "signed zero";
    case Contract::reassociation: return "reassociation";
    case Contract::relu_abs: return "relu-to-abs";
    case Contract::approximate: return "approximate";
  }
  return "?";
}

Condition operator&&(Condition a, Condition b) {
  return Condition([a = std::move(a), b = std::move(b)](const Match& m) { return a(m) && b(m); });
}

Replacement::Replacement(const pattern::Var& hole) : f_([hole](const Match& m) { return m[hole]; }) {}

Rule::Rule(std::string name, pattern::Pattern before, Replacement after, Contract contract, Condition when)
    : name_(std::move(name)), pattern_(before), after_(std::move(after)), contract_(contract), when_(std::move(when)) {}

std::optional<Match> Rule::match(const Expr& e) const {
  Match m;
  auto accept = [this](const Match& mm) { return accepts(mm); };
  if (pattern_.match(e, m, accept)) return m;
  return std::nullopt;
}

namespace {

/// "add #12 float64[?]": enough to find a node in a debugprint.
std::string brief(const GraphStore& g, NodeId id) {
  const Node& n = g.node(id);
  std::string s = n.op->name() + " #" + std::to_string(id);
  if (!n.name.empty()) s += " '" + n.name + "'";
  return s + " " + type_str(n.type);
}

class Engine {
 public:
  Engine(const std::vector<PassRule>& rules, RewriteTrace* trace, RewriteLimits limits)
      : rules_(rules), trace_(trace), limits_(limits), fired_(rules.size(), 0) {
    for (const PassRule& r : rules_)
      if (!r.rule) throw Error("rewrite: a rule pointer is null");
  }

  std::vector<Expr> run(const std::vector<Expr>& outputs) {
    if (outputs.empty()) return {};
    store_ = outputs[0].graph();
    for (const Expr& e : outputs)
      if (!e.valid() || e.graph() != store_) throw Error("rewrite: every output must be an expression of one graph");
    grow();
    seed(outputs);
    while (!queue_.empty()) {
      const auto [anchor, n] = queue_.top();
      queue_.pop();
      // Skip nodes already done and entries a deferral has superseded.
      if (state_[n] == kDone || anchor != anchor_[n]) continue;
      current_ = anchor;
      visit(n);
    }
    std::vector<Expr> out;
    for (const Expr& e : outputs) {
      const NodeId id = find(e.id());
      if (!is_final(id)) throw Error("rewrite: internal error: output " + brief(*store_, id) + " was left unvisited");
      out.emplace_back(store_, id);
    }
    return out;
  }

 private:
  enum : std::uint8_t { kUntouched, kQueued, kDone };

  /// Sizes the per-node tables to the store. A node that existed before the
  /// run is anchored at its own id; a node created while visiting a node
  /// anchored at A is anchored at A, so that a replacement is finished
  /// before the users of the node it replaces (whose anchors are larger).
  void grow() {
    const std::size_t old = fwd_.size(), now = store_->size();
    if (now <= old) return;
    fwd_.resize(now);
    anchor_.resize(now);
    for (std::size_t i = old; i < now; ++i) {
      fwd_[i] = static_cast<NodeId>(i);
      anchor_[i] = old == 0 ? static_cast<NodeId>(i) : current_;
    }
    state_.resize(now, kUntouched);
  }

  /// The node `id` is forwarded to, following forwards (with path compression).
  NodeId find(NodeId id) {
    NodeId root = id;
    while (fwd_[root] != root) root = fwd_[root];
    while (fwd_[id] != root) id = std::exchange(fwd_[id], root);
    return root;
  }

  /// Visited, no rule applies, not forwarded.
  bool is_final(NodeId id) const { return state_[id] == kDone && fwd_[id] == id; }

  bool inputs_final(NodeId id) const {
    for (NodeId in : store_->node(id).inputs)
      if (!is_final(in)) return false;
    return true;
  }

  void push(NodeId id) { queue_.push({anchor_[id], id}); }

  /// Queues the live nodes (what the outputs reach) in id order.
  void seed(const std::vector<Expr>& outputs) {
    const std::vector<char> live = reachable(outputs);
    std::size_t count = 0;
    for (std::size_t id = 0; id < live.size(); ++id) {
      if (!live[id]) continue;
      state_[id] = kQueued;
      push(static_cast<NodeId>(id));
      ++count;
    }
    budget_ = limits_.rewrites_per_node * count + 1024;
  }

  /// Queues `id` and every untouched node it depends on, so that a
  /// replacement's new nodes (and old nodes it reuses that this run has not
  /// seen) are visited, operands first.
  void enqueue(NodeId id) {
    std::vector<NodeId> stack{id};
    while (!stack.empty()) {
      const NodeId n = stack.back();
      stack.pop_back();
      if (state_[n] != kUntouched) continue;
      state_[n] = kQueued;
      // A node that existed before the run and that this run had not seen
      // (the result of an earlier rewrite, say) is finished with the
      // replacement that reuses it, like a node the replacement created:
      // anchored at its own, later id it would hold up every user of the
      // node replaced, and each of them would be rebuilt again and again.
      anchor_[n] = std::min(anchor_[n], current_);
      push(n);
      for (NodeId in : store_->node(n).inputs)
        if (state_[in] == kUntouched) stack.push_back(in);
    }
  }

  /// `id` waits for its operands that are not final yet: they are queued,
  /// and id is queued again behind the last of them.
  void defer(NodeId id) {
    NodeId anchor = anchor_[id];
    for (NodeId in : store_->node(id).inputs) {
      const NodeId j = find(in);
      if (is_final(j)) continue;
      enqueue(j);
      anchor = std::max(anchor, anchor_[j]);
    }
    anchor_[id] = anchor;
    state_[id] = kQueued;
    push(id);
  }

  /// Marks `from` as replaced by `to`.
  void forward(NodeId from, NodeId to) {
    if (from == to) return;
    fwd_[from] = to;
    state_[from] = kDone;
  }

  const std::vector<std::size_t>& candidates(const Op* op) {
    auto it = by_op_.find(op);
    if (it != by_op_.end()) return it->second;
    std::vector<std::size_t> list;
    for (std::size_t i = 0; i < rules_.size(); ++i) {
      const auto& ops = rules_[i].rule->pattern().root_ops();
      if (ops.empty() || std::find(ops.begin(), ops.end(), op) != ops.end()) list.push_back(i);
    }
    return by_op_.emplace(op, std::move(list)).first->second;
  }

  /// The first rule (in order) whose pattern and condition match `id`.
  std::optional<std::size_t> try_rules(NodeId id, Match& m) {
    const Expr e(store_, id);
    for (std::size_t i : candidates(store_->node(id).op)) {
      const Rule& rule = *rules_[i].rule;
      const std::size_t size = store_->size();
      auto accept = [&](const Match& mm) {
        const bool ok = rule.accepts(mm);
        if (store_->size() != size)
          throw Error("rewrite rule '" + rule.name() + "': its condition built nodes; conditions must only read the match");
        return ok;
      };
      if (rule.pattern().match(e, m, accept, &splats_)) return i;
    }
    return std::nullopt;
  }

  Expr build(std::size_t i, const Match& m, NodeId before) {
    const Rule& rule = *rules_[i].rule;
    const auto where = [&] {
      return "rewrite rule '" + rule.name() + "' (pass " + std::string(rules_[i].pass) + ") on " + brief(*store_, before);
    };
    Expr after;
    try {
      after = rule.build(m);
    } catch (const Error& e) {
      throw Error(where() + " failed: " + e.what());
    }
    grow();
    if (!after.valid()) throw Error(where() + " returned an empty expression (Expr()); a replacement builds one");
    if (after.graph() != store_) throw Error(where() + " returned an expression of another graph");
    const TensorType& was = store_->node(before).type;
    if (after.type() != was)
      throw Error(where() + " would change its type from " + type_str(was) + " to " + type_str(after.type()) +
                  " (a replacement must keep dtype and shape)");
    if (trace_) trace_->push_back({std::string(rules_[i].pass), rule.name(), Expr(store_, before), after});
    ++fired_[i];
    if (++rewrites_ > budget_) throw no_fixed_point();
    return after;
  }

  Error no_fixed_point() const {
    std::vector<std::size_t> order(rules_.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return fired_[a] > fired_[b]; });
    std::string most;
    for (std::size_t k = 0; k < std::min<std::size_t>(3, order.size()) && fired_[order[k]] > 0; ++k)
      most += (k ? ", " : "") + std::string("'") + rules_[order[k]].rule->name() + "' (" +
              count_str(fired_[order[k]], "time") + ")";
    return Error("rewrite: no fixed point after " + std::to_string(rewrites_) +
                 " rewrites (the limit for this graph); the rules that fired most: " + most +
                 ". Rules that undo each other, or that keep matching their own results, never stop.");
  }

  Error cycle(const std::vector<NodeId>& chain, const std::vector<std::size_t>& fired, NodeId back) const {
    std::string s = "rewrite: the rules cycle: " + brief(*store_, chain[0]);
    for (std::size_t k = 0; k < fired.size(); ++k)
      s += " -> [" + rules_[fired[k]].rule->name() + "] " + brief(*store_, k + 1 < chain.size() ? chain[k + 1] : back);
    return Error(s + ", a node this rewrite already passed through");
  }

  /// Whether the replacement `r` contains `n` or a node of the current
  /// rewrite chain (which all forward to r): a result such as f(x) for x,
  /// which would grow forever. Final nodes never do (their operands are
  /// final), so the search stays among the replacement's new nodes.
  bool contains_replaced(NodeId r, NodeId n, const std::vector<NodeId>& chain) const {
    NodeId lowest = n;
    for (NodeId c : chain) lowest = std::min(lowest, c);
    std::vector<NodeId> stack{r}, seen;
    while (!stack.empty()) {
      const NodeId id = stack.back();
      stack.pop_back();
      if (id < lowest || is_final(id) || std::find(seen.begin(), seen.end(), id) != seen.end()) continue;
      if (id == n || std::find(chain.begin(), chain.end(), id) != chain.end()) return true;
      seen.push_back(id);
      for (NodeId in : store_->node(id).inputs) stack.push_back(in);
    }
    return false;
  }

  void visit(NodeId n) {
    // Rebuild on the final forms of the operands (a rebuilt node may itself
    // be forwarded already, and so on: follow until the operands are as
    // they should be). Copies first: adding a node may reallocate the store.
    NodeId cur = n;
    for (int round = 0;; ++round) {
      const Node& node = store_->node(cur);
      std::vector<NodeId> inputs(node.inputs.size());
      bool changed = false;
      for (std::size_t i = 0; i < inputs.size(); ++i) {
        inputs[i] = find(node.inputs[i]);
        changed |= inputs[i] != node.inputs[i];
      }
      if (!changed || round == 8) break;
      const Op& op = *node.op;
      const TensorType type = node.type;
      const NodeId rebuilt = store_->add(op, std::move(inputs), Attrs(node.attrs));
      grow();
      if (store_->node(rebuilt).type != type)
        throw Error("rewrite: internal error: rebuilding " + brief(*store_, cur) + " changed its type to " +
                    type_str(store_->node(rebuilt).type));
      forward(cur, find(rebuilt));
      cur = find(rebuilt);
    }
    forward(n, cur);
    if (is_final(cur)) return;  // an existing final node: the rebuild merged n into it
    if (!inputs_final(cur)) {
      // An operand is a replacement still waiting for its own new operands.
      defer(cur);
      return;
    }

    // Apply rules at cur until none matches.
    std::vector<NodeId> chain{cur};
    std::vector<std::size_t> fired;
    Match m;
    while (auto i = try_rules(cur, m)) {
      const NodeId built = build(*i, m, cur).id();
      const NodeId r = find(built);
      fired.push_back(*i);
      if (std::find(chain.begin(), chain.end(), r) != chain.end()) throw cycle(chain, fired, r);
      if (contains_replaced(built, n, chain))
        throw Error("rewrite rule '" + rules_[*i].rule->name() + "' on " + brief(*store_, cur) +
                    " returned an expression that contains the node it replaces; rewriting it would never end");
      chain.push_back(r);
      if (is_final(r)) {
        cur = r;
        break;
      }
      if (!inputs_final(r)) {
        // The replacement has new operands: they are visited next (their
        // anchor is this node's), then r; everything here forwards to r.
        for (NodeId c : chain) forward(c, r);
        forward(n, r);
        enqueue(r);
        return;
      }
      cur = r;
    }
    state_[cur] = kDone;
    for (NodeId c : chain) forward(c, cur);
    forward(n, cur);
  }

  std::vector<PassRule> rules_;
  RewriteTrace* trace_;
  RewriteLimits limits_;
  std::vector<std::size_t> fired_;
  std::unordered_map<const Op*, std::vector<std::size_t>> by_op_;
  std::shared_ptr<GraphStore> store_;
  std::vector<NodeId> fwd_;
  std::vector<NodeId> anchor_;
  std::vector<std::uint8_t> state_;
  /// (anchor, id), smallest first: id order, except that a replacement's
  /// new nodes come right after the node they replace.
  std::priority_queue<std::pair<NodeId, NodeId>, std::vector<std::pair<NodeId, NodeId>>, std::greater<>> queue_;
  NodeId current_ = 0;
  pattern::SplatCache splats_;
  std::size_t rewrites_ = 0;
  std::size_t budget_ = 0;
};

}  // namespace

std::vector<Expr> rewrite(const std::vector<Expr>& outputs, const std::vector<PassRule>& rules, RewriteTrace* trace,
                          RewriteLimits limits) {
  return Engine(rules, trace, limits).run(outputs);
}

std::vector<Expr> rewrite(const std::vector<Expr>& outputs, const std::vector<Rule>& rules, std::string_view pass,
                          RewriteTrace* trace) {
  std::vector<PassRule> refs;
  for (const Rule& r : rules) refs.push_back({pass, &r});
  return rewrite(outputs, refs, trace);
}

}  // namespace symgraph
