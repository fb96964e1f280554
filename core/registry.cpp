#include "symgraph/core/registry.hpp"

#include <dlfcn.h>

#include <atomic>

#include "symgraph/core/error.hpp"

namespace symgraph {
namespace detail {
// Defined in ops/: registers every built-in op. Called from the registry's
// constructor, so built-ins exist even when the library is linked statically.
void register_builtin_ops(OpRegistry& registry);
}  // namespace detail

namespace {

/// A static registration waiting to run (deferred), with where it comes from.
struct Registration {
  const char* what;
  SourceLocation where;
  std::function<void()> add;
};

/// What one load_extension() call's module registers, while it loads.
struct LoadContext {
  std::vector<std::string> errors;
  std::vector<Registration> deferred;
  std::vector<std::function<void()>> undo;
  std::size_t ran = 0;  // registrations run
};

// The load in progress on this thread (static initialisers run inside
// dlopen, on the calling thread), or nullptr.
thread_local LoadContext* t_load = nullptr;
// True while a registration runs on this thread: the registries' first-use
// checks stay out of the way of the registrations themselves.
thread_local bool t_registering = false;

/// The program's own static registrations: the errors of those that failed
/// and the deferred ones not run yet.
struct ProgramRegistrations {
  std::mutex mutex;
  std::vector<std::string> errors;
  std::vector<Registration> deferred;
  std::atomic<bool> failed{false};
  std::atomic<bool> has_deferred{false};
  std::mutex run_mutex;  // held while the deferred ones run
};

ProgramRegistrations& program() {
  static ProgramRegistrations* p = new ProgramRegistrations();  // never destroyed: used until the end
  return *p;
}

std::string located(const std::string& message, const Registration& r) {
  std::string file = r.where.file_name();
  if (const auto slash = file.find_last_of('/'); slash != std::string::npos) file = file.substr(slash + 1);
  return message + " (" + r.what + " at " + file + ":" + std::to_string(r.where.line()) + ")";
}

/// Runs `r`; returns its error message (with its location), or an empty string.
std::string run(Registration& r) {
  const bool outer = t_registering;
  t_registering = true;
  std::string error;
  try {
    r.add();
  } catch (const std::exception& e) {
    error = located(e.what(), r);
  } catch (...) {
    error = located("an exception that is not a std::exception", r);
  }
  t_registering = outer;
  if (t_load) ++t_load->ran;
  return error;
}

void program_error(std::string error) {
  ProgramRegistrations& p = program();
  std::lock_guard lock(p.mutex);
  p.errors.push_back(std::move(error));
  p.failed = true;
}

std::string joined(const std::vector<std::string>& errors) {
  std::string all;
  for (const std::string& e : errors) all += (all.empty() ? "" : "; ") + e;
  return all;
}

}  // namespace

void detail::static_registration(const char* what, const SourceLocation& where, std::function<void()> add,
                                 bool deferred) {
  Registration r{what, where, std::move(add)};
  if (deferred) {
    if (t_load) {
      t_load->deferred.push_back(std::move(r));
    } else {
      ProgramRegistrations& p = program();
      std::lock_guard lock(p.mutex);
      p.deferred.push_back(std::move(r));
      p.has_deferred = true;
    }
    return;
  }
  std::string error = run(r);
  if (error.empty()) return;
  if (t_load) {
    t_load->errors.push_back(std::move(error));
  } else {
    program_error(std::move(error));
  }
}

void detail::on_registered(std::function<void()> undo) {
  if (t_load) t_load->undo.push_back(std::move(undo));
}

void detail::check_static_registrations(bool run_deferred) {
  if (t_registering) return;
  ProgramRegistrations& p = program();
  if (run_deferred && p.has_deferred) {
    // Another thread that gets here meanwhile waits for the registrations
    // to be done, so that it sees their passes.
    std::lock_guard running(p.run_mutex);
    for (;;) {
      std::vector<Registration> todo;
      {
        std::lock_guard lock(p.mutex);
        todo.swap(p.deferred);
        if (todo.empty()) {
          p.has_deferred = false;
          break;
        }
      }
      for (Registration& r : todo)
        if (std::string error = run(r); !error.empty()) program_error(std::move(error));
    }
  }
  if (!p.failed) return;
  std::lock_guard lock(p.mutex);
  throw Error("this program's static registrations failed (they ran before main): " + joined(p.errors));
}

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
  const std::string& name = op->name();
  if (name.empty()) throw Error("register_op: an op needs a non-empty name");
  const std::string what = "register_op: op '" + name + "' ";
  if (op->min_inputs() < 0)
    throw Error(what + "has min_inputs " + std::to_string(op->min_inputs()) + "; it must be 0 or more");
  if (op->max_inputs() >= 0 && op->max_inputs() < op->min_inputs())
    throw Error(what + "has max_inputs " + std::to_string(op->max_inputs()) + " below min_inputs " +
                std::to_string(op->min_inputs()) + " (a negative max_inputs means any number)");
  if (op->elementwise() && op->min_inputs() < 1)
    throw Error(what + "is elementwise and needs at least one operand (min_inputs is " +
                std::to_string(op->min_inputs()) + "): its type is the broadcast of its operands'");
  std::unique_lock lock(mutex_);
  if (ops_.count(name)) throw Error("register_op: an op named '" + name + "' is already registered");
  const Op& ref = *op;
  ops_.emplace(name, std::move(op));
  lock.unlock();
  detail::on_registered([this, key = ref.name()] { remove(key); });
  return ref;
}

void OpRegistry::remove(const std::string& name) {
  std::unique_lock lock(mutex_);
  auto it = ops_.find(name);
  if (it == ops_.end()) return;
  removed_.push_back(std::move(it->second));
  ops_.erase(it);
}

const Op* OpRegistry::find(std::string_view name) const {
  detail::check_static_registrations(false);
  std::shared_lock lock(mutex_);
  auto it = ops_.find(name);
  return it == ops_.end() ? nullptr : it->second.get();
}

const Op& OpRegistry::get(std::string_view name) const {
  if (const Op* op = find(name)) return *op;
  throw Error("unknown op '" + std::string(name) +
              "' (not a built-in op; if it is an extension op, register it before use: link the file with its "
              "RegisterOp, or load_extension() / symgraph --load the shared object that has it)");
}

std::vector<std::string> OpRegistry::names() const {
  detail::check_static_registrations(false);
  std::shared_lock lock(mutex_);
  std::vector<std::string> out;
  for (const auto& [name, op] : ops_) out.push_back(name);
  return out;
}

const Op& register_op(std::unique_ptr<Op> op) { return OpRegistry::instance().add(std::move(op)); }

const Op& op_named(std::string_view name) { return OpRegistry::instance().get(name); }

void load_extension(const std::string& path) {
  // One load at a time: dlerror(), the registrations' order and the undo
  // stay simple.
  static std::mutex mutex;
  // Modules whose load failed (dlopen handles): loading one again returns
  // the same handle without running its initialisers, and fails the same way.
  static std::map<void*, std::string>* failed = new std::map<void*, std::string>();
  std::lock_guard lock(mutex);
  // The program's own registrations first (a module's name clashes are the
  // module's), and the built-in ops, which no failed load takes back.
  detail::check_static_registrations(true);
  OpRegistry::instance();

  LoadContext load;
  t_load = &load;
  // A file, never a name searched for in the library path.
  const std::string file = path.find('/') == std::string::npos ? "./" + path : path;
  // RTLD_NOW: a missing symbol is an error now, not a crash later.
  void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_GLOBAL);
  const char* dl_error = handle ? nullptr : dlerror();
  const std::string why = dl_error ? dl_error : "unknown error";
  // Deferred registrations (RegisterPass) once all of the module's static
  // initialisers have run: its rules may name any of its ops.
  for (std::size_t i = 0; handle && i < load.deferred.size(); ++i)
    if (std::string error = run(load.deferred[i]); !error.empty()) load.errors.push_back(std::move(error));
  t_load = nullptr;
  const auto undo = [&] {
    for (std::size_t i = load.undo.size(); i-- > 0;) load.undo[i]();
  };
  if (!handle) {
    undo();
    throw Error("cannot load extension '" + path + "': " + why +
                " (an extension is a shared object built against the same symgraph headers; it takes the library "
                "from the program that loads it, which must export it as the symgraph command does; see "
                "docs/adding-an-op.md)");
  }
  if (!load.errors.empty()) {
    undo();
    (*failed)[handle] = joined(load.errors);
    throw Error("extension '" + path + "': " + (*failed)[handle]);
  }
  if (load.ran == 0)
    if (auto it = failed->find(handle); it != failed->end()) throw Error("extension '" + path + "': " + it->second);
}

}  // namespace symgraph
