#include "symgraph/core/op.hpp"

#include "symgraph/core/graph.hpp"

namespace symgraph {

Op::Op(std::string name, int min_inputs, int max_inputs)
    : name_(std::move(name)), min_inputs_(min_inputs), max_inputs_(max_inputs) {}

Op::~Op() = default;

std::vector<std::optional<Expr>> Op::vjp(const Expr&, const Expr&) const {
  fail("has no gradient rule (it is not differentiable)");
}

std::uint64_t Op::work(std::span<const TensorType> inputs, const TensorType& output, const Attrs&) const {
  std::uint64_t n = saturated_elements(output.shape);
  for (const TensorType& t : inputs) n = saturated_add(n, saturated_elements(t.shape));
  return n;
}

namespace {
/// name(arg, ..., key=value, ...)
std::string call_form(const std::string& name, std::span<const std::string> args, const Attrs& attrs) {
  std::string out = name + "(";
  bool first = true;
  for (const auto& a : args) {
    if (!first) out += ", ";
    out += a;
    first = false;
  }
  for (const auto& [key, value] : attrs.items()) {
    if (!first) out += ", ";
    out += key + "=" + attr_str(value);
    first = false;
  }
  return out + ")";
}
}  // namespace

std::string Op::format(std::span<const std::string> args, const Attrs& attrs) const {
  return call_form(name_, args, attrs);
}

std::string Op::label(const Attrs& attrs) const { return attrs.empty() ? name_ : call_form(name_, {}, attrs); }

const std::vector<AttrSpec>& Op::specs() const {
  std::call_once(specs_once_, [this] { specs_ = attr_specs(); });
  return specs_;
}

const AttrSpec* Op::spec(std::string_view key) const {
  for (const AttrSpec& s : specs())
    if (s.name == key) return &s;
  return nullptr;
}

namespace {
/// "a number", "an integer", ...
std::string a_kind(AttrKind k) {
  const std::string_view name = attr_kind_name(k);
  return (name.front() == 'i' ? "an " : "a ") + std::string(name);
}

std::string spec_list(const std::vector<AttrSpec>& specs) {
  std::string s;
  for (std::size_t i = 0; i < specs.size(); ++i)
    s += (i ? ", " : "") + specs[i].name + " (" + std::string(attr_kind_name(specs[i].kind)) + ")";
  return s.empty() ? std::string("none") : s;
}
}  // namespace

AttrProblem Op::unknown_attr(std::string_view key) const {
  return {std::string(key), false,
          "op " + name_ + " has no attribute \"" + std::string(key) + "\" (its attributes: " + spec_list(specs()) +
              ")"};
}

std::optional<AttrProblem> Op::attr_problem(const Attrs& attrs) const {
  const std::vector<AttrSpec>& all = specs();
  if (all.empty() && attrs.empty()) return std::nullopt;
  for (const auto& [key, value] : attrs.items()) {
    const AttrSpec* s = spec(key);
    if (!s) return unknown_attr(key);
    if (attr_kind(value) != s->kind)
      return AttrProblem{key, false,
                         "attribute \"" + key + "\" of op " + name_ + " must be " + a_kind(s->kind) + ", got " +
                             a_kind(attr_kind(value))};
  }
  for (const AttrSpec& s : all)
    if (!attrs.has(s.name))
      return AttrProblem{s.name, true,
                         "missing attribute \"" + s.name + "\" (" + a_kind(s.kind) + ") of op " + name_};
  return std::nullopt;
}

void Op::check_attrs(const Attrs& attrs) const {
  if (std::optional<AttrProblem> p = attr_problem(attrs)) throw Error(p->message);
}

void Op::check_arity(std::size_t count) const {
  const auto n = static_cast<long long>(count);
  if (n >= min_inputs_ && (max_inputs_ < 0 || n <= max_inputs_)) return;
  const std::string expected = max_inputs_ == min_inputs_ ? std::to_string(min_inputs_)
                               : max_inputs_ < 0 ? "at least " + std::to_string(min_inputs_)
                                                 : std::to_string(min_inputs_) + " to " + std::to_string(max_inputs_);
  throw Error(name_ + ": expects " + expected + " input(s), got " + std::to_string(n));
}

void Op::fail(const std::string& message) const { throw Error(name_ + ": " + message); }

}  // namespace symgraph
