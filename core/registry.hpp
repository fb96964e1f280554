#pragma once
/// The op registry: every op, built-in or user-defined, by name.
#include <functional>
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

namespace detail {
/// Runs one static registration (RegisterOp, RegisterPass). While
/// load_extension() runs, an Error it throws is kept for load_extension to
/// report (a static initialiser that throws would end the program);
/// otherwise the Error propagates.
void static_registration(const std::function<void()>& add);
}  // namespace detail

/// Registers an op of class O at static-initialisation time, in the user's
/// own source file (docs/adding-an-op.md):
///   const symgraph::RegisterOp<Softplus> softplus_registration;
template <class O> struct RegisterOp {
  RegisterOp() {
    detail::static_registration([this] { op = &register_op(std::make_unique<O>()); });
  }
  /// The registered op (nullptr if load_extension() caught its failure).
  const Op* op = nullptr;
};

/// The op named `name` (registry lookup; throws for unknown names).
const Op& op_named(std::string_view name);

/// Loads the shared object at `path` (dlopen; a name without '/' is a file
/// in the current directory, not searched for) whose static registrations
/// (RegisterOp, RegisterPass) add ops and rewrite passes to this process;
/// loading one twice loads it once. Throws Error naming the file when it cannot be
/// loaded or a registration fails (a name already taken). The extension
/// must be built against the same symgraph headers and find the library's
/// symbols in the host program, as the symgraph command's --load provides
/// (docs/adding-an-op.md); an extension is never unloaded.
void load_extension(const std::string& path);

}  // namespace symgraph
