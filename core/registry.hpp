#pragma once
/// The op registry: every op, built-in or user-defined, by name.
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "symgraph/core/op.hpp"
#include "symgraph/core/source_location.hpp"

namespace symgraph {

class OpRegistry {
 public:
  /// The process-wide registry, with the built-in ops already registered.
  static OpRegistry& instance();

  /// Registers an op; throws Error if its name is empty or taken, or its
  /// numbers of operands make no sense (min_inputs < 0, max_inputs >= 0
  /// but below min_inputs, an elementwise op without operands). Returns the
  /// stored op.
  const Op& add(std::unique_ptr<Op> op);
  /// The op named `name`, or nullptr.
  const Op* find(std::string_view name) const;
  /// The op named `name`; throws Error saying it is unknown (and that an
  /// extension op must be registered before it is used).
  const Op& get(std::string_view name) const;
  /// All registered names, sorted.
  std::vector<std::string> names() const;

  /// find(), get() and names() first throw Error if one of this program's
  /// static registrations (RegisterOp, RegisterPass) failed: see
  /// detail::static_registration.

 private:
  OpRegistry();
  void remove(const std::string& name);
  mutable std::shared_mutex mutex_;
  std::map<std::string, std::unique_ptr<Op>, std::less<>> ops_;
  // Ops of a failed load_extension: unregistered, never destroyed (the
  // module that holds their code stays loaded, and its RegisterOp points here).
  std::vector<std::unique_ptr<Op>> removed_;
};

/// Registers `op` in the process-wide registry.
const Op& register_op(std::unique_ptr<Op> op);

namespace detail {
/// Runs one static registration (RegisterOp, RegisterPass; `what` names it,
/// `where` is its declaration). A static registration never ends the
/// program, whatever `add` throws:
/// - inside load_extension(), the errors are collected, what the module
///   registered is undone, and load_extension throws one Error naming the
///   file and every failure;
/// - in the program itself (before main), the errors are kept, and the
///   first use of the op registry or the pass registry throws them (with
///   `what` and `where`), as does every use after it.
/// A `deferred` registration runs once every static initialiser of its
/// module (at the end of load_extension) or program (at the first use of
/// the pass registry) has run: a RegisterPass builds its rules then, so
/// their patterns may name ops registered anywhere in the module or program.
void static_registration(const char* what, const SourceLocation& where, std::function<void()> add,
                         bool deferred = false);
/// Called by a registration that succeeded, with the way to take it back:
/// `undo` runs if the registration belongs to a load_extension() that fails.
void on_registered(std::function<void()> undo);
/// Throws Error if one of this program's static registrations failed; with
/// `run_deferred`, first runs the program's deferred ones (once). A no-op
/// while a registration runs.
void check_static_registrations(bool run_deferred);
}  // namespace detail

/// Registers an op of class O at static-initialisation time, in the user's
/// own source file (docs/adding-an-op.md):
///   const symgraph::RegisterOp<Softplus> softplus_registration;
/// A failure (a name taken, an invalid op, O's constructor throwing) never
/// ends the program: see detail::static_registration.
template <class O> struct RegisterOp {
  RegisterOp(SourceLocation where = SourceLocation::current()) {
    detail::static_registration("RegisterOp", where, [this] { op = &register_op(std::make_unique<O>()); });
  }
  /// The registered op (nullptr if the registration failed).
  const Op* op = nullptr;
};

/// The op named `name` (registry lookup; throws for unknown names).
const Op& op_named(std::string_view name);

/// Loads the shared object at `path` (dlopen; a name without '/' is a file
/// in the current directory, not searched for) whose static registrations
/// (RegisterOp, RegisterPass) add ops and rewrite passes to this process;
/// loading one twice loads it once. Throws Error naming the file and the
/// reasons when it cannot be loaded or a registration fails (a name already
/// taken, a rule that does not build, ...). A load is all or nothing: when a
/// registration fails, the ops and passes the module did register are
/// unregistered again, and loading the same module again fails with the
/// same error. The extension must be built against the same symgraph
/// headers and find the library's symbols in the host program, as the
/// symgraph command and any program linking symgraph::cli provide
/// (docs/adding-an-op.md); an extension is never unloaded.
void load_extension(const std::string& path);

}  // namespace symgraph
