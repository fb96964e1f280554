#include "symgraph/core/registry.hpp"

#include "symgraph/core/error.hpp"

namespace symgraph {
namespace detail {
// Defined in ops/: registers every built-in op. Called from the registry's
// constructor, so built-ins exist even when the library is linked statically.
void register_builtin_ops(OpRegistry& registry);
}  // namespace detail

OpRegistry::OpRegistry() = default;

OpRegistry& OpRegistry::instance() {
  static OpRegistry* registry = [] {
    auto* r = new OpRegistry();  // never destroyed: ops outlive every static graph
    detail::register_builtin_ops(*r);
    return r;
  }();
  return *registry;
}

const Op& OpRegistry::add(std::unique_ptr<Op> op) {
  if (!op) throw Error("register_op: null op");
  std::unique_lock lock(mutex_);
  const std::string& name = op->name();
  if (name.empty()) throw Error("register_op: an op needs a non-empty name");
  if (ops_.count(name)) throw Error("register_op: an op named '" + name + "' is already registered");
  const Op& ref = *op;
  ops_.emplace(name, std::move(op));
  return ref;
}

const Op* OpRegistry::find(std::string_view name) const {
  std::shared_lock lock(mutex_);
  auto it = ops_.find(name);
  return it == ops_.end() ? nullptr : it->second.get();
}

const Op& OpRegistry::get(std::string_view name) const {
  if (const Op* op = find(name)) return *op;
  throw Error("unknown op '" + std::string(name) +
              "' (not a built-in op; if it is an extension op, register it before use)");
}

std::vector<std::string> OpRegistry::names() const {
  std::shared_lock lock(mutex_);
  std::vector<std::string> out;
  for (const auto& [name, op] : ops_) out.push_back(name);
  return out;
}

const Op& register_op(std::unique_ptr<Op> op) { return OpRegistry::instance().add(std::move(op)); }

const Op& op_named(std::string_view name) { return OpRegistry::instance().get(name); }

}  // namespace symgraph
