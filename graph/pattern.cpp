#include "symgraph/graph/pattern.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <limits>

#include "symgraph/core/registry.hpp"

namespace symgraph {

/// The names of a pattern's holes (shared by the pattern and its matches,
/// so a Match stays usable after its pattern is gone).
struct Match::Holes {
  pattern::Pattern source;
  std::vector<std::string> vars;
  std::vector<std::string> nums;
};

namespace pattern {
namespace {

constexpr NodeId kUnbound = std::numeric_limits<NodeId>::max();

using Kind = PatternNode::Kind;

Pattern make(Kind kind, std::string name = {}, std::vector<Pattern> operands = {},
             std::vector<std::pair<std::string, AttrPattern>> attrs = {}, double value = 0.0) {
  auto n = std::make_shared<PatternNode>();
  n->kind = kind;
  n->name = std::move(name);
  n->operands = std::move(operands);
  n->attrs = std::move(attrs);
  n->value = value;
  return Pattern(std::move(n));
}

std::string number_str(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

/// Bit for bit, except that every NaN is one value (as in constants and
/// attributes, which store NaNs as the quiet NaN).
bool same_bits(double a, double b) {
  return std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b) || (std::isnan(a) && std::isnan(b));
}

/// `lit` rounded to `dtype` equals `v` (a value of that dtype) bit for bit.
bool equals_literal(double v, double lit, DType dtype) {
  if (std::isnan(v) || std::isnan(lit)) return std::isnan(v) && std::isnan(lit);
  if (dtype == DType::float32)
    return std::bit_cast<std::uint32_t>(static_cast<float>(v)) == std::bit_cast<std::uint32_t>(static_cast<float>(lit));
  return same_bits(v, lit);
}

}  // namespace

Pattern::Pattern(const Var& v) : Pattern(make(Kind::var, v.name())) {}
Pattern::Pattern(const Num& a) : Pattern(make(Kind::num, a.name())) {}

std::string Pattern::str() const {
  const PatternNode& n = *node_;
  auto list = [](const std::vector<Pattern>& ps, const char* sep) {
    std::string s;
    for (std::size_t i = 0; i < ps.size(); ++i) s += (i ? sep : "") + ps[i].str();
    return s;
  };
  switch (n.kind) {
    case Kind::var:
    case Kind::num: return n.name;
    case Kind::literal: return number_str(n.value);
    case Kind::zero: return "0";
    case Kind::any_of: return "any_of(" + list(n.operands, " | ") + ")";
    case Kind::constant_operands: return "op(constant, ...)";
    case Kind::commutative_pair: return "commutative(" + list(n.operands, ", ") + ")";
    case Kind::op: {
      std::string s = n.name + "(" + list(n.operands, ", ");
      for (const auto& [key, a] : n.attrs)
        s += (s.back() == '(' ? "" : ", ") + key + "=" + (a.literal ? number_str(*a.literal) : a.hole);
      return s + ")";
    }
  }
  return "?";
}

Pattern lit(double value) { return make(Kind::literal, {}, {}, {}, value); }
Pattern zero() { return make(Kind::zero); }
Pattern op(std::string name, std::vector<Pattern> operands, std::vector<std::pair<std::string, AttrPattern>> attrs) {
  return make(Kind::op, std::move(name), std::move(operands), std::move(attrs));
}
Pattern any_of(std::vector<Pattern> alternatives) {
  if (alternatives.empty()) throw Error("pattern any_of: needs at least one alternative");
  return make(Kind::any_of, {}, std::move(alternatives));
}
Pattern constant_operands() { return make(Kind::constant_operands); }
Pattern commutative(const Var& a, const Var& b) { return make(Kind::commutative_pair, {}, {a, b}); }

Pattern neg(const Pattern& x) { return op("neg", {x}); }
Pattern abs(const Pattern& x) { return op("abs", {x}); }
Pattern scale(const Pattern& x, AttrPattern factor) { return op("scale", {x}, {{"factor", std::move(factor)}}); }
Pattern add(const Pattern& a, const Pattern& b) { return op("add", {a, b}); }
Pattern sub(const Pattern& a, const Pattern& b) { return op("sub", {a, b}); }
Pattern mul(const Pattern& a, const Pattern& b) { return op("mul", {a, b}); }
Pattern div(const Pattern& a, const Pattern& b) { return op("div", {a, b}); }
Pattern maximum(const Pattern& a, const Pattern& b) { return op("maximum", {a, b}); }
Pattern minimum(const Pattern& a, const Pattern& b) { return op("minimum", {a, b}); }
Pattern gt(const Pattern& a, const Pattern& b) { return op("gt", {a, b}); }
Pattern ge(const Pattern& a, const Pattern& b) { return op("ge", {a, b}); }
Pattern lt(const Pattern& a, const Pattern& b) { return op("lt", {a, b}); }
Pattern le(const Pattern& a, const Pattern& b) { return op("le", {a, b}); }
Pattern eq(const Pattern& a, const Pattern& b) { return op("eq", {a, b}); }
Pattern where(const Pattern& cond, const Pattern& a, const Pattern& b) { return op("switch", {cond, a, b}); }
Pattern broadcast_to(const Pattern& x, const Pattern& like) { return op("broadcast_to", {x, like}); }
Pattern sum_to(const Pattern& g, const Pattern& like) { return op("sum_to", {g, like}); }
Pattern transpose(const Pattern& x) { return op("transpose", {x}); }
Pattern operator-(const Pattern& x) { return neg(x); }
Pattern operator+(const Pattern& a, const Pattern& b) { return add(a, b); }
Pattern operator-(const Pattern& a, const Pattern& b) { return sub(a, b); }
Pattern operator*(const Pattern& a, const Pattern& b) { return mul(a, b); }
Pattern operator/(const Pattern& a, const Pattern& b) { return div(a, b); }
Pattern operator>(const Pattern& a, const Pattern& b) { return gt(a, b); }
Pattern operator>=(const Pattern& a, const Pattern& b) { return ge(a, b); }
Pattern operator<(const Pattern& a, const Pattern& b) { return lt(a, b); }
Pattern operator<=(const Pattern& a, const Pattern& b) { return le(a, b); }

// ---------------------------------------------------------------------------

std::optional<double> SplatCache::value(const GraphStore& g, NodeId id) {
  if (id < state_.size() && state_[id] != 0) return state_[id] == 1 ? std::optional<double>(value_[id]) : std::nullopt;
  std::optional<double> result;
  const symgraph::Node& n = g.node(id);
  static const Op& constant_op = op_named("constant");
  if (n.op == &constant_op && is_float(n.type.dtype)) {
    const Tensor& t = n.attrs.get<Tensor>("value");
    if (t.size() > 0) {
      // Compare bit patterns, so that a constant holding +0 and -0 is not a splat.
      const auto* bytes = static_cast<const unsigned char*>(t.raw());
      const std::size_t width = dtype_size(t.dtype());
      bool splat = true;
      for (std::int64_t i = 1; i < t.size() && splat; ++i)
        splat = std::equal(bytes, bytes + width, bytes + static_cast<std::size_t>(i) * width);
      if (splat) result = t.at(0);
    }
  }
  if (id >= state_.size()) {
    state_.resize(std::max<std::size_t>(id + 1, g.size()), 0);
    value_.resize(state_.size(), 0.0);
  }
  state_[id] = result ? 1 : 2;
  if (result) value_[id] = *result;
  return result;
}

// ---------------------------------------------------------------------------

int CompiledPattern::slot_of(bool var, const std::string& name) {
  std::vector<std::string>& names = var ? holes_->vars : holes_->nums;
  const std::vector<std::string>& other = var ? holes_->nums : holes_->vars;
  if (std::find(other.begin(), other.end(), name) != other.end())
    throw Error("pattern " + holes_->source.str() + ": '" + name + "' is used both as a Var and as a Num");
  auto it = std::find(names.begin(), names.end(), name);
  if (it != names.end()) return static_cast<int>(it - names.begin());
  names.push_back(name);
  return static_cast<int>(names.size() - 1);
}

int CompiledPattern::compile(const Pattern& p) {
  const PatternNode& pn = p.node();
  PNode n;
  n.kind = pn.kind;
  n.value = pn.value;
  switch (pn.kind) {
    case Kind::var: n.slot = slot_of(true, pn.name); break;
    case Kind::num: n.slot = slot_of(false, pn.name); break;
    case Kind::op: {
      n.op = &op_named(pn.name);
      const int arity = static_cast<int>(pn.operands.size());
      if (arity < n.op->min_inputs() || (n.op->max_inputs() >= 0 && arity > n.op->max_inputs()))
        throw Error("pattern " + p.str() + ": op '" + pn.name + "' cannot have " + count_str(arity, "operand"));
      for (const auto& [key, a] : pn.attrs) {
        PNode::Attr attr{key, a.literal, -1};
        if (!a.literal) attr.slot = slot_of(false, a.hole);
        n.attrs.push_back(std::move(attr));
      }
      break;
    }
    default: break;
  }
  // Operands are compiled after the node's own holes, so holes are numbered
  // in the order they appear when the pattern is read left to right.
  std::vector<int> operands;
  for (const Pattern& o : pn.operands) operands.push_back(compile(o));
  n.operands = std::move(operands);
  nodes_.push_back(std::move(n));
  return static_cast<int>(nodes_.size() - 1);
}

CompiledPattern::CompiledPattern(const Pattern& p) : holes_(std::make_shared<Match::Holes>(Match::Holes{p, {}, {}})) {
  root_ = compile(p);
  // The ops a match can have at its root, so that an engine tries a rule
  // only on nodes that can match it.
  std::vector<int> stack{root_};
  bool any = false;
  while (!stack.empty() && !any) {
    const PNode& n = nodes_[static_cast<std::size_t>(stack.back())];
    stack.pop_back();
    if (n.kind == Kind::op) {
      if (std::find(root_ops_.begin(), root_ops_.end(), n.op) == root_ops_.end()) root_ops_.push_back(n.op);
    } else if (n.kind == Kind::any_of) {
      stack.insert(stack.end(), n.operands.begin(), n.operands.end());
    } else if (n.kind == Kind::num || n.kind == Kind::literal || n.kind == Kind::zero) {
      static const Op& constant_op = op_named("constant");
      if (std::find(root_ops_.begin(), root_ops_.end(), &constant_op) == root_ops_.end()) root_ops_.push_back(&constant_op);
    } else {
      any = true;
    }
  }
  if (any) root_ops_.clear();
}

/// One match attempt: a backtracking matcher in continuation-passing style.
/// match(p, n, k) matches pattern node p against graph node n and then
/// calls k, the rest of the match; it returns true only if k did, and
/// restores every binding it made when it returns false.
class CompiledPattern::Run {
 public:
  using Cont = FnRef<bool()>;

  Run(const CompiledPattern& p, const GraphStore& g, Match& m, SplatCache* cache)
      : p_(p), g_(g), m_(m), cache_(cache) {}

  bool match(int pi, NodeId n, Cont k) {
    const PNode& pn = p_.nodes_[static_cast<std::size_t>(pi)];
    switch (pn.kind) {
      case Kind::var: return bind_var(pn.slot, n, k);
      case Kind::num: {
        const std::optional<double> v = splat(n);
        return v && bind_num(pn.slot, *v, n, true, k);
      }
      case Kind::literal: {
        const std::optional<double> v = splat(n);
        return v && equals_literal(*v, pn.value, g_.node(n).type.dtype) && k();
      }
      case Kind::zero: {
        const std::optional<double> v = splat(n);
        return v && *v == 0.0 && k();
      }
      case Kind::any_of:
        for (int alt : pn.operands)
          if (match(alt, n, k)) return true;
        return false;
      case Kind::constant_operands: {
        static const Op& constant_op = op_named("constant");
        const symgraph::Node& node = g_.node(n);
        if (node.inputs.empty()) return false;
        for (NodeId in : node.inputs)
          if (g_.node(in).op != &constant_op) return false;
        return k();
      }
      case Kind::commutative_pair: {
        const symgraph::Node& node = g_.node(n);
        if (!node.op->commutative() || node.inputs.size() != 2) return false;
        const NodeId a = node.inputs[0], b = node.inputs[1];
        auto second = [&] { return bind_var(p_.nodes_[static_cast<std::size_t>(pn.operands[1])].slot, b, k); };
        return bind_var(p_.nodes_[static_cast<std::size_t>(pn.operands[0])].slot, a, Cont(second));
      }
      case Kind::op: return match_op(pn, n, k);
    }
    return false;
  }

 private:
  std::optional<double> splat(NodeId n) {
    if (cache_) return cache_->value(g_, n);
    SplatCache local;
    return local.value(g_, n);
  }

  bool bind_var(int slot, NodeId n, Cont k) {
    NodeId& b = m_.vars_[static_cast<std::size_t>(slot)];
    if (b != kUnbound) return b == n && k();
    b = n;
    if (k()) return true;
    b = kUnbound;
    return false;
  }

  bool bind_num(int slot, double v, NodeId constant, bool from_constant, Cont k) {
    Match::NumBinding& b = m_.nums_[static_cast<std::size_t>(slot)];
    if (b.bound) return same_bits(b.value, v) && k();
    b = {v, constant, from_constant, true};
    if (k()) return true;
    b = {};
    return false;
  }

  bool match_op(const PNode& p, NodeId n, Cont k) {
    const symgraph::Node& node = g_.node(n);
    if (node.op != p.op || node.inputs.size() != p.operands.size()) return false;
    std::vector<double> attr_values;
    for (const auto& a : p.attrs) {
      const AttrValue* v = node.attrs.find(a.key);
      if (!v || !std::holds_alternative<double>(*v)) return false;
      attr_values.push_back(std::get<double>(*v));
    }
    // A copy of the operand ids: conditions must not build nodes, but if one
    // did, a reference into the store would dangle.
    const std::vector<NodeId> inputs = node.inputs;
    auto operands = [&] {
      if (match_operands(p, inputs, 0, k)) return true;
      // A commutative op also matches with its operands swapped (unless both
      // are one node, which would try the same match twice).
      if (p.op->commutative() && inputs.size() == 2 && inputs[0] != inputs[1]) {
        const std::vector<NodeId> swapped{inputs[1], inputs[0]};
        return match_operands(p, swapped, 0, k);
      }
      return false;
    };
    return match_attrs(p, attr_values, 0, Cont(operands));
  }

  bool match_attrs(const PNode& p, const std::vector<double>& values, std::size_t i, Cont rest) {
    if (i == p.attrs.size()) return rest();
    const auto& a = p.attrs[i];
    auto next = [&] { return match_attrs(p, values, i + 1, rest); };
    if (a.literal) return same_bits(*a.literal, values[i]) && next();
    return bind_num(a.slot, values[i], 0, false, Cont(next));
  }

  bool match_operands(const PNode& p, const std::vector<NodeId>& inputs, std::size_t i, Cont k) {
    if (i == inputs.size()) return k();
    auto next = [&] { return match_operands(p, inputs, i + 1, k); };
    return match(p.operands[i], inputs[i], Cont(next));
  }

  const CompiledPattern& p_;
  const GraphStore& g_;
  Match& m_;
  SplatCache* cache_;
};

bool CompiledPattern::match_impl(const Expr& root, Match& out, FnRef<bool(const Match&)> accept,
                                 SplatCache* cache) const {
  if (!root.valid()) throw Error("pattern match: empty expression");
  if (out.holes_ != holes_) out.holes_ = holes_;
  out.root_ = root;
  out.vars_.assign(holes_->vars.size(), kUnbound);
  out.nums_.assign(holes_->nums.size(), Match::NumBinding{});
  Run run(*this, *root.graph(), out, cache);
  auto done = [&] { return accept(out); };
  return run.match(root_, root.id(), FnRef<bool()>(done));
}

const std::vector<std::string>& CompiledPattern::var_names() const { return holes_->vars; }
const std::vector<std::string>& CompiledPattern::num_names() const { return holes_->nums; }
const Pattern& CompiledPattern::source() const { return holes_->source; }

std::optional<Match> CompiledPattern::match(const Expr& root) const {
  Match m;
  auto always = [](const Match&) { return true; };
  if (match(root, m, always)) return m;
  return std::nullopt;
}

}  // namespace pattern

// ---------------------------------------------------------------------------

namespace {
std::size_t hole_slot(const char* kind, const std::vector<std::string>& names, const std::string& name,
                      const pattern::Pattern& source) {
  auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end())
    throw Error("match: the pattern " + source.str() + " has no " + kind + " named '" + name + "'");
  return static_cast<std::size_t>(it - names.begin());
}
}  // namespace

Expr Match::operator[](const pattern::Var& v) const {
  const NodeId id = vars_[hole_slot("Var", holes_->vars, v.name(), holes_->source)];
  if (id == pattern::kUnbound)
    throw Error("match: hole '" + v.name() + "' of " + holes_->source.str() + " is not bound by this match");
  return Expr(root_.graph(), id);
}

double Match::operator[](const pattern::Num& a) const {
  const NumBinding& b = nums_[hole_slot("Num", holes_->nums, a.name(), holes_->source)];
  if (!b.bound)
    throw Error("match: hole '" + a.name() + "' of " + holes_->source.str() + " is not bound by this match");
  return b.value;
}

Expr Match::constant(const pattern::Num& a) const {
  const NumBinding& b = nums_[hole_slot("Num", holes_->nums, a.name(), holes_->source)];
  return b.bound && b.from_constant ? Expr(root_.graph(), b.constant) : Expr();
}

}  // namespace symgraph
