#pragma once
/// The op registry: every op, built-in or user-defined, by name.
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <map>
#include <vector>

#include "symgraph/core/op.hpp"

namespace symgraph {

class OpRegistry {
 public:
  /// The process-wide registry, with the built-in ops already registered.
  static OpRegistry& instance();

  /// Registers an op; throws Error if its name is taken. Returns the stored op.
  const Op& add(std::unique_ptr<Op> op);
  /// The op named `name`, or nullptr.
  const Op* find(std::string_view name) const;
  /// The op named `name`; throws Error saying it is unknown (and that an
  /// extension op must be registered before it is used).
  const Op& get(std::string_view name) const;
  /// All registered names, sorted.
  std::vector<std::string> names() const;

 private:
  OpRegistry();
  mutable std::shared_mutex mutex_;
  std::map<std::string, std::unique_ptr<Op>, std::less<>> ops_;
};

/// Registers `op` in the process-wide registry.
const Op& register_op(std::unique_ptr<Op> op);

/// Registers an op of class O at static-initialisation time:
///   static symgraph::RegisterOp<Softplus> reg;
template <class O> struct RegisterOp {
  RegisterOp() : op(register_op(std::make_unique<O>())) {}
  const Op& op;
};

/// The op named `name` (registry lookup; throws for unknown names).
const Op& op_named(std::string_view name);

}  // namespace symgraph
