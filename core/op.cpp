#include "symgraph/core/op.hpp"

#include "symgraph/core/graph.hpp"

namespace symgraph {

Op::Op(std::string name, int min_inputs, int max_inputs)
    : name_(std::move(name)), min_inputs_(min_inputs), max_inputs_(max_inputs) {}

Op::~Op() = default;

std::vector<std::optional<Expr>> Op::vjp(const Expr&, const Expr&) const {
  fail("has no gradient rule (it is not differentiable)");
}

std::string Op::format(std::span<const std::string> args, const Attrs& attrs) const {
  std::string out = name_ + "(";
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

void Op::fail(const std::string& message) const { throw Error(name_ + ": " + message); }

}  // namespace symgraph
