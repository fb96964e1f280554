#pragma once
/// A small pattern language over expression graphs, for rewrite rules.
///
/// A pattern is spelled like the expression it matches, with holes in it:
///
///   Var x{"x"};       any expression; a Var used twice matches one node twice
///   Num a{"alpha"};   a number: a constant whose elements all have one value
///                     (a "splat" constant, of any shape), or a numeric
///                     attribute such as scale's factor
///   lit(-0.0)         a constant whose elements are all -0.0, bit for bit
///   zero()            a constant whose elements are all +0.0 or -0.0
///
///   where(x > zero(), x, scale(x, a))   matches switch(gt(x, 0), x, scale(x, 0.1))
///
/// Ops that declare themselves commutative (Op::commutative()) match in both
/// operand orders: a rule is never written twice for the two orders.
/// any_of({p, q, ...}) matches any alternative. Matching backtracks through
/// operand orders and alternatives until the whole pattern and the rule's
/// condition hold, so the bindings a condition sees are always consistent.
///
/// Patterns are matched against one node and the nodes below it; a pattern
/// is a small tree, and matching recurses only in the depth of the pattern,
/// never in the depth of the graph.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "symgraph/core/graph.hpp"

namespace symgraph {

namespace pattern {

struct PatternNode;

/// A hole that matches any expression.
class Var {
 public:
  explicit Var(std::string name) : name_(std::move(name)) {}
  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

/// A hole that matches a number: a splat constant operand (its value is the
/// number) or a numeric attribute (as in scale(x, a)).
class Num {
 public:
  explicit Num(std::string name) : name_(std::move(name)) {}
  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

/// An immutable pattern tree. Var and Num convert to patterns.
class Pattern {
 public:
  Pattern(const Var& v);
  Pattern(const Num& a);
  explicit Pattern(std::shared_ptr<const PatternNode> node) : node_(std::move(node)) {}

  const PatternNode& node() const { return *node_; }
  /// Printed form, e.g. "switch(gt(x, 0), x, scale(x, factor=alpha))".
  std::string str() const;

 private:
  std::shared_ptr<const PatternNode> node_;
};

/// An attribute in an op pattern: a literal number or a number hole.
struct AttrPattern {
  AttrPattern(double v) : literal(v) {}
  AttrPattern(const Num& n) : hole(n.name()) {}
  std::optional<double> literal;  ///< compared bit for bit (a NaN matches any NaN)
  std::string hole;               ///< binds a Num when literal is empty
};

struct PatternNode {
  enum class Kind {
    var,                ///< any expression (name)
    num,                ///< a splat constant or numeric attribute (name)
    literal,            ///< a splat constant equal to `value` bit for bit
    zero,               ///< a splat constant equal to +0 or -0
    op,                 ///< op `name` with `operands` and `attrs`
    any_of,             ///< one of `operands`
    constant_operands,  ///< any op with at least one operand, all of them constants
    commutative_pair,   ///< any commutative op with two operands, bound in stored order
  };
  Kind kind;
  std::string name;
  double value = 0.0;
  std::vector<Pattern> operands;
  std::vector<std::pair<std::string, AttrPattern>> attrs;
};

/// A constant whose elements all equal `value` bit for bit (so lit(-0.0)
/// does not match +0.0), after rounding `value` to the constant's dtype; a
/// NaN `value` matches NaN constants (every NaN is one value).
Pattern lit(double value);
/// A constant whose elements are all zero, of either sign.
Pattern zero();
/// The op named `name` with these operands and attribute patterns.
Pattern op(std::string name, std::vector<Pattern> operands,
           std::vector<std::pair<std::string, AttrPattern>> attrs = {});
/// Any of the alternatives (tried in order, with backtracking).
Pattern any_of(std::vector<Pattern> alternatives);
/// Any node whose operands are all constants (there is at least one): the
/// pattern of constant folding.
Pattern constant_operands();
/// Any commutative op with two operands, `a` bound to the first and `b` to
/// the second as stored (operands are not swapped): the pattern of the rule
/// that puts commutative operands into one order.
Pattern commutative(const Var& a, const Var& b);

// Spelled like the builders of ops/ops.hpp.
Pattern neg(const Pattern& x);
Pattern abs(const Pattern& x);
Pattern scale(const Pattern& x, AttrPattern factor);
Pattern add(const Pattern& a, const Pattern& b);
Pattern sub(const Pattern& a, const Pattern& b);
Pattern mul(const Pattern& a, const Pattern& b);
Pattern div(const Pattern& a, const Pattern& b);
Pattern maximum(const Pattern& a, const Pattern& b);
Pattern minimum(const Pattern& a, const Pattern& b);
Pattern gt(const Pattern& a, const Pattern& b);
Pattern ge(const Pattern& a, const Pattern& b);
Pattern lt(const Pattern& a, const Pattern& b);
Pattern le(const Pattern& a, const Pattern& b);
Pattern eq(const Pattern& a, const Pattern& b);
Pattern where(const Pattern& cond, const Pattern& a, const Pattern& b);
Pattern broadcast_to(const Pattern& x, const Pattern& like);
Pattern sum_to(const Pattern& g, const Pattern& like);
Pattern transpose(const Pattern& x);
Pattern operator-(const Pattern& x);
Pattern operator+(const Pattern& a, const Pattern& b);
Pattern operator-(const Pattern& a, const Pattern& b);
Pattern operator*(const Pattern& a, const Pattern& b);
Pattern operator/(const Pattern& a, const Pattern& b);
Pattern operator>(const Pattern& a, const Pattern& b);
Pattern operator>=(const Pattern& a, const Pattern& b);
Pattern operator<(const Pattern& a, const Pattern& b);
Pattern operator<=(const Pattern& a, const Pattern& b);

class CompiledPattern;

}  // namespace pattern

/// What a pattern bound, handed to a rule's condition and replacement.
class Match {
 public:
  /// The expression bound to `v`. Throws Error if the pattern has no such hole.
  Expr operator[](const pattern::Var& v) const;
  /// The number bound to `a`, exactly (a value of the graph's dtype).
  double operator[](const pattern::Num& a) const;
  /// The constant node `a` matched, or an empty Expr when `a` matched an
  /// attribute.
  Expr constant(const pattern::Num& a) const;
  /// The node the whole pattern matched.
  const Expr& root() const { return root_; }

 private:
  friend class pattern::CompiledPattern;
  struct NumBinding {
    double value = 0.0;
    NodeId constant = 0;
    bool from_constant = false;
    bool bound = false;
  };
  struct Holes;
  std::shared_ptr<const Holes> holes_;
  Expr root_;
  std::vector<NodeId> vars_;
  std::vector<NumBinding> nums_;
};

namespace pattern {

/// Per-run memo of which constant nodes are splats (every element the same
/// bits) and their value; constants are immutable, so the answer never changes.
class SplatCache {
 public:
  /// The common value of a splat float constant, or nullopt.
  std::optional<double> value(const GraphStore& g, NodeId id);

 private:
  std::vector<std::uint8_t> state_;  // 0 unknown, 1 splat, 2 not a splat
  std::vector<double> value_;
};

/// A non-owning reference to a callable; cheap to pass down a recursion.
template <class Sig> class FnRef;
template <class R, class... A> class FnRef<R(A...)> {
 public:
  template <class F>
  FnRef(F& f) : obj_(&f), call_([](void* o, A... a) -> R { return (*static_cast<F*>(o))(a...); }) {}
  R operator()(A... a) const { return call_(obj_, a...); }

 private:
  void* obj_;
  R (*call_)(void*, A...);
};

/// A pattern prepared for matching: op names resolved to ops, holes numbered.
class CompiledPattern {
 public:
  /// Throws Error for an unknown op name or a name used for both a Var and a Num.
  explicit CompiledPattern(const Pattern& p);

  /// The ops a matching node can have (the root of an op pattern, or of each
  /// alternative of an any_of); empty when the pattern may match any node.
  const std::vector<const Op*>& root_ops() const { return root_ops_; }

  /// Matches `root`; on success `out` holds the first bindings (in
  /// backtracking order) for which `accept(out)` returned true.
  template <class F> bool match(const Expr& root, Match& out, F&& accept, SplatCache* cache = nullptr) const {
    return match_impl(root, out, FnRef<bool(const Match&)>(accept), cache);
  }
  /// Matches `root` with no condition.
  std::optional<Match> match(const Expr& root) const;

  const std::vector<std::string>& var_names() const;
  const std::vector<std::string>& num_names() const;
  const Pattern& source() const;

 private:
  struct PNode {
    PatternNode::Kind kind;
    const Op* op = nullptr;     // op patterns
    int slot = -1;              // var and num holes
    double value = 0.0;         // literal
    std::vector<int> operands;  // indices into nodes_
    struct Attr {
      std::string key;
      std::optional<double> literal;
      int slot = -1;
    };
    std::vector<Attr> attrs;
  };
  class Run;
  bool match_impl(const Expr& root, Match& out, FnRef<bool(const Match&)> accept, SplatCache* cache) const;
  int compile(const Pattern& p);
  int slot_of(bool var, const std::string& name);

  std::shared_ptr<Match::Holes> holes_;  // shared with every Match of this pattern
  std::vector<PNode> nodes_;
  int root_ = 0;
  std::vector<const Op*> root_ops_;
};

}  // namespace pattern
}  // namespace symgraph
