#include "symgraph/core/registry.hpp"

#include <dlfcn.h>

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
              "' (not a built-in op; if it is an extension op, register it before use: link the file with its "
              "RegisterOp, or load_extension() / symgraph --load the shared object that has it)");
}

std::vector<std::string> OpRegistry::names() const {
  std::shared_lock lock(mutex_);
  std::vector<std::string> out;
  for (const auto& [name, op] : ops_) out.push_back(name);
  return out;
}

const Op& register_op(std::unique_ptr<Op> op) { return OpRegistry::instance().add(std::move(op)); }

const Op& op_named(std::string_view name) { return OpRegistry::instance().get(name); }

namespace {
// The errors of the registrations an extension runs while load_extension()
// loads it (static initialisers run inside dlopen, on the calling thread).
thread_local std::vector<std::string>* t_load_errors = nullptr;
}  // namespace

void detail::static_registration(const std::function<void()>& add) {
  if (!t_load_errors) return add();
  try {
    add();
  } catch (const std::exception& e) {
    t_load_errors->push_back(e.what());
  }
}

void load_extension(const std::string& path) {
  // One load at a time: dlerror() and the registrations' order stay simple.
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  std::vector<std::string> errors;
  t_load_errors = &errors;
  // A file, never a name searched for in the library path.
  const std::string file = path.find('/') == std::string::npos ? "./" + path : path;
  // RTLD_NOW: a missing symbol is an error now, not a crash later.
  void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_GLOBAL);
  t_load_errors = nullptr;
  if (!handle) {
    const char* why = dlerror();
    throw Error("cannot load extension '" + path + "': " + (why ? why : "unknown error") +
                " (an extension is a shared object built against the same symgraph headers; it takes the library "
                "from the program that loads it, which must export it as the symgraph command does; see "
                "docs/adding-an-op.md)");
  }
  if (!errors.empty()) {
    std::string all;
    for (const std::string& e : errors) all += (all.empty() ? "" : "; ") + e;
    throw Error("extension '" + path + "': " + all);
  }
}

}  // namespace symgraph
