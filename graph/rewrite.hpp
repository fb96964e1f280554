#pragma once
/// Rewrite rules and the one engine that applies them.
///
/// A rule is data: a name, a pattern (graph/pattern.hpp), a replacement built
/// with the normal builder API, a side condition, and its floating-point
/// contract. Rule tables live in graph/rules_*.cpp; docs/optimizer.md lists
/// every rule with its contract.
///
/// The engine (rewrite()) visits the nodes the outputs reach in id order,
/// which is a topological order, so a node is visited after its operands are
/// final. At each node it rebuilds the node on the final forms of its
/// operands (hash-consing makes that common-subexpression elimination: the
/// rebuilt node is the existing one if there is one), then applies the first
/// rule that matches, again and again, until none does. A replacement is
/// built from new nodes, whose ids are larger than every id seen so far, so
/// the nodes they affect (users of what changed) are always still ahead in
/// the worklist: nothing already final is visited again and a rule that
/// enables another costs no extra pass. Nodes are immutable: a rewrite adds
/// nodes to the store and forwards the old node to its replacement, so the
/// caller's expressions never change.
#include <functional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "symgraph/graph/pattern.hpp"

namespace symgraph {

/// How a rule's result may differ from the node it replaces. Every rule
/// states one; tests/test_rule_contracts.cpp checks each rule against its
/// contract on random and special values in float32 and float64.
enum class Contract {
  /// The same value on every input, ±0, ±inf and NaN included (NaN payloads
  /// aside, which IEEE arithmetic does not preserve).
  exact,
  /// The same value, except that a zero result may have the other sign.
  signed_zero,
  /// scale(x, a*b) for scale(scale(x, a), b): one rounding instead of two,
  /// so at most 2 eps |result| apart, where x*a is a normal number; see
  /// docs/optimizer.md for overflow and underflow of x*a.
  reassociation,
  /// relu-to-abs: the abs form of (leaky) relu; the documented error bound,
  /// signed zeros, and NaN at one infinity (docs/optimizer.md).
  relu_abs,
  /// Not exact, within bounds the rule's author documents and tests: for
  /// user rules (register_pass) such as log(1 + exp(x)) -> softplus(x),
  /// which is more accurate than what it replaces. Like every rule, it must
  /// not turn a NaN into a number. The strict pipeline leaves it out.
  approximate,
};

/// "exact", "signed zero", "reassociation", "relu-to-abs" or "approximate".
std::string_view contract_name(Contract c);

/// A rule's side condition on a match. The default holds always.
/// Conditions read the match; they must not build nodes (the engine checks).
class Condition {
 public:
  Condition() = default;
  template <class F>
    requires(std::is_invocable_r_v<bool, F, const Match&> && !std::is_same_v<std::decay_t<F>, Condition>)
  Condition(F f) : f_(std::move(f)) {}
  bool operator()(const Match& m) const { return !f_ || f_(m); }
  /// Both conditions (the second is only evaluated if the first holds).
  friend Condition operator&&(Condition a, Condition b);

 private:
  std::function<bool(const Match&)> f_;
};

/// A rule's replacement: one of the pattern's holes, or a function that
/// builds the result from the match with the builder API (ops/ops.hpp).
class Replacement {
 public:
  Replacement(const pattern::Var& hole);
  template <class F>
    requires(std::is_invocable_r_v<Expr, F, const Match&> && !std::is_same_v<std::decay_t<F>, Replacement>)
  Replacement(F f) : f_(std::move(f)) {}
  Expr operator()(const Match& m) const { return f_(m); }

 private:
  std::function<Expr(const Match&)> f_;
};

class Rule {
 public:
  /// Throws Error if the pattern names an unknown op.
  Rule(std::string name, pattern::Pattern before, Replacement after, Contract contract, Condition when = {});

  const std::string& name() const { return name_; }
  const pattern::CompiledPattern& pattern() const { return pattern_; }
  Contract contract() const { return contract_; }
  bool exact() const { return contract_ == Contract::exact; }
  /// Whether the side condition holds for a match of the pattern.
  bool accepts(const Match& m) const { return when_(m); }
  /// The replacement for an accepted match.
  Expr build(const Match& m) const { return after_(m); }
  /// The match of `e` that satisfies the condition, if any.
  std::optional<Match> match(const Expr& e) const;

 private:
  std::string name_;
  pattern::CompiledPattern pattern_;
  Replacement after_;
  Contract contract_;
  Condition when_;
};

/// One rewrite that fired: the rule, the pass it belongs to, the node it
/// replaced and the node that replaces it (both in the rewritten graph's store).
struct RewriteEvent {
  std::string pass;
  std::string rule;
  Expr before;
  Expr after;
};
using RewriteTrace = std::vector<RewriteEvent>;

/// A rule with the name of the pass it belongs to (named in the trace).
struct PassRule {
  std::string_view pass;
  const Rule* rule;
};

struct RewriteLimits {
  /// A run that performs more than rewrites_per_node rewrites per node it
  /// started with (plus 1024) is stopped with an Error: the rules cycle
  /// through ever new nodes or grow the graph without end.
  std::size_t rewrites_per_node = 16;
};

/// Rewrites the graph that `outputs` reach with `rules` (tried in order at
/// each node) to a fixed point, and returns the rewritten outputs, in the
/// outputs' store. Throws Error, and changes nothing the caller holds, if a
/// rule fails, changes a node's dtype or shape, returns the node it matched,
/// or the rules cycle (a node is rewritten back into one it was rewritten
/// from, or the limit above is reached).
std::vector<Expr> rewrite(const std::vector<Expr>& outputs, const std::vector<PassRule>& rules,
                          RewriteTrace* trace = nullptr, RewriteLimits limits = {});

/// Convenience: the rules of one table, traced under the pass name `pass`.
std::vector<Expr> rewrite(const std::vector<Expr>& outputs, const std::vector<Rule>& rules,
                          std::string_view pass = "rewrite", RewriteTrace* trace = nullptr);

}  // namespace symgraph
