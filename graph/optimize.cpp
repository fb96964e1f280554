#include "symgraph/graph/optimize.hpp"

#include <algorithm>
#include <deque>
#include <memory>
#include <mutex>
#include <shared_mutex>

#include "symgraph/core/registry.hpp"
#include "symgraph/graph/rules.hpp"

namespace symgraph {
namespace {

const std::vector<Rule> kNoRules;

void check_outputs(const char* what, const std::vector<Expr>& outputs) {
  for (const Expr& e : outputs) {
    if (!e.valid()) throw Error(std::string(what) + ": an output expression is empty");
    if (e.graph() != outputs[0].graph())
      throw Error(std::string(what) + ": the outputs belong to different graphs (build them from one Graph)");
  }
}

/// The built-in passes, in the order the standard pipeline runs them.
const std::vector<Pass>& builtin_passes() {
  static const std::vector<Pass> all = {
      {"constant-folding", "evaluates nodes whose operands are all constants with the op's own kernel",
       &rules::constant_folding()},
      {"canonicalize",
       "neutral elements, multiplication by a constant as scale, scale merging, sign and comparison normal forms, "
       "no-op shape ops, one order of commutative operands",
       &rules::canonicalize()},
      {"relu-to-abs", "every spelling of (leaky) relu becomes the abs form relu(x, alpha)", &rules::relu_to_abs()},
      {"cse",
       "one order of commutative operands; every rebuilt node is looked up in the store (hash-consing), so equal "
       "nodes become one",
       &rules::commutative_order()},
      {"dead-node-removal",
       "the result is what the outputs reach: later passes and compilation never visit the rest; compact() frees it",
       &kNoRules},
  };
  return all;
}

/// A pass added with register_pass. A failed load_extension takes its
/// passes back: they stay in place, not live (a Pass reference never dangles).
struct UserPass {
  Pass pass;
  std::vector<Rule> rules;
  bool live = true;
};

/// Passes added with register_pass. A deque: a Pass (and its rules) never
/// moves, so pass_named's references stay valid while more are registered.
struct UserPasses {
  std::shared_mutex mutex;
  std::deque<UserPass> passes;
  std::vector<std::string> standard;  // names of the passes standard() runs
};

UserPasses& pass_store() {
  static UserPasses* p = new UserPasses();  // never destroyed, like the op registry
  return *p;
}

/// The registered passes, after the program's deferred registrations
/// (RegisterPass) have run; throws if one of them failed.
UserPasses& user_passes() {
  detail::check_static_registrations(true);
  return pass_store();
}

/// The rewrite stage of standard() and strict(): `builtin`, then the
/// registered passes that asked to join it.
Pipeline::Stage with_user_passes(Pipeline::Stage builtin) {
  UserPasses& u = user_passes();
  std::shared_lock lock(u.mutex);
  builtin.insert(builtin.end(), u.standard.begin(), u.standard.end());
  return builtin;
}

void unregister_pass(const std::string& name) {
  UserPasses& u = pass_store();
  std::unique_lock lock(u.mutex);
  for (UserPass& p : u.passes)
    if (p.live && p.pass.name == name) p.live = false;
  std::erase(u.standard, name);
}

}  // namespace

std::vector<Pass> passes() {
  std::vector<Pass> all = builtin_passes();
  UserPasses& u = user_passes();
  std::shared_lock lock(u.mutex);
  for (const UserPass& p : u.passes)
    if (p.live) all.push_back(p.pass);
  return all;
}

const Pass& pass_named(std::string_view name) {
  UserPasses& u = user_passes();
  for (const Pass& p : builtin_passes())
    if (p.name == name) return p;
  {
    std::shared_lock lock(u.mutex);
    for (const UserPass& p : u.passes)
      if (p.live && p.pass.name == name) return p.pass;
  }
  std::string known;
  for (const Pass& p : passes()) known += (known.empty() ? "" : ", ") + p.name;
  throw Error("optimize: unknown pass '" + std::string(name) + "' (the passes are " + known + ")");
}

void register_pass(std::string name, std::string summary, std::vector<Rule> rules, bool standard) {
  const std::string what = "register_pass '" + name + "': ";
  if (name.empty() || name.find_first_of("+, ") != std::string::npos || name == "none")
    throw Error(what + "a pass name must be non-empty, not 'none', and without '+', ',' or spaces");
  for (std::size_t i = 0; i < rules.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (rules[i].name() == rules[j].name()) throw Error(what + "two rules are named '" + rules[i].name() + "'");
  // A rule that shares a built-in rule's name would not run in a stage with
  // that pass, and the trace could not tell the two apart. (Registration
  // runs after static initialisation, when the built-in tables exist.)
  for (const Pass& p : builtin_passes()) {
    if (p.name == name) throw Error(what + "a built-in pass has that name");
    for (const Rule& old : *p.rules)
      for (const Rule& r : rules)
        if (r.name() == old.name())
          throw Error(what + "built-in pass " + p.name + " already has a rule named '" + r.name() +
                      "' (rule names are unique)");
  }
  UserPasses& u = user_passes();
  {
    std::unique_lock lock(u.mutex);
    for (const UserPass& p : u.passes) {
      if (!p.live) continue;
      if (p.pass.name == name) throw Error(what + "a pass of that name is registered already");
      for (const Rule& old : p.rules)
        for (const Rule& r : rules)
          if (r.name() == old.name())
            throw Error(what + "pass " + p.pass.name + " already has a rule named '" + r.name() +
                        "' (rule names are unique)");
    }
    UserPass& added = u.passes.emplace_back();
    added.rules = std::move(rules);
    added.pass = {name, std::move(summary), &added.rules};
    if (standard) u.standard.push_back(name);
  }
  detail::on_registered([name] { unregister_pass(name); });
}

RegisterPass::RegisterPass(std::string name, std::string summary, RuleBuilder rules, bool standard,
                           SourceLocation where) {
  detail::static_registration(
      "RegisterPass", where,
      [name = std::move(name), summary = std::move(summary), rules = std::move(rules), standard] {
        if (!rules) throw Error("register_pass '" + name + "': no function to build its rules");
        std::vector<Rule> built;
        try {
          built = rules();
        } catch (const std::exception& e) {
          throw Error("register_pass '" + name + "': its rules failed to build: " + e.what());
        }
        register_pass(name, summary, std::move(built), standard);
      },
      /*deferred=*/true);
}

Pipeline Pipeline::standard() {
  Pipeline p;
  p.stages_ = {with_user_passes({"constant-folding", "canonicalize", "relu-to-abs", "cse"}), {"dead-node-removal"}};
  return p;
}

Pipeline Pipeline::strict() {
  // relu-to-abs has no exact rule, so strict leaves it out altogether.
  Pipeline p;
  p.stages_ = {with_user_passes({"constant-folding", "canonicalize", "cse"}), {"dead-node-removal"}};
  p.exact_only_ = true;
  return p;
}

Pipeline Pipeline::none() { return Pipeline(); }

Pipeline Pipeline::from_names(const std::vector<std::string>& names) {
  Pipeline p;
  for (const std::string& spec : names) {
    Stage stage;
    std::size_t start = 0;
    while (true) {
      const std::size_t plus = spec.find('+', start);
      const std::string name = spec.substr(start, plus == std::string::npos ? std::string::npos : plus - start);
      if (name.empty())
        throw Error("optimize: an empty pass name in '" + spec + "' (passes run together are joined by '+')");
      stage.push_back(pass_named(name).name);
      if (plus == std::string::npos) break;
      start = plus + 1;
    }
    p.stages_.push_back(std::move(stage));
  }
  return p;
}

Pipeline Pipeline::exact_only() const {
  Pipeline p = *this;
  p.exact_only_ = true;
  return p;
}

Pipeline Pipeline::with(std::string_view name) const {
  Pipeline p = *this;
  const std::string& pass = pass_named(name).name;
  if (p.stages_.empty()) p.stages_.emplace_back();
  Stage& first = p.stages_.front();
  if (std::find(first.begin(), first.end(), pass) == first.end()) first.push_back(pass);
  return p;
}

std::string Pipeline::str() const {
  std::string s;
  for (const Stage& stage : stages_) {
    if (!s.empty()) s += ", ";
    for (std::size_t i = 0; i < stage.size(); ++i) s += (i ? "+" : "") + stage[i];
  }
  if (s.empty()) s = "(no passes)";
  return exact_only_ ? s + " (exact rules only)" : s;
}

std::vector<Expr> optimize(const std::vector<Expr>& outputs, const Pipeline& pipeline, RewriteTrace* trace) {
  if (outputs.empty()) return {};
  check_outputs("optimize", outputs);
  const rules::FoldBudget fold_budget;
  std::vector<Expr> current = outputs;
  for (const Pipeline::Stage& stage : pipeline.stages()) {
    // The stage's rules, pass by pass in table order; a rule that two passes
    // share (order-operands is in canonicalize and cse) runs once.
    std::vector<PassRule> rules;
    for (const std::string& name : stage) {
      const Pass& pass = pass_named(name);
      for (const Rule& r : *pass.rules) {
        if (pipeline.is_exact_only() && !r.exact()) continue;
        const auto seen =
            std::find_if(rules.begin(), rules.end(), [&](const PassRule& p) { return p.rule->name() == r.name(); });
        // Only built-in passes share rules (register_pass refuses a name
        // that is taken), and such a rule runs once.
        if (seen == rules.end()) rules.push_back({pass.name, &r});
      }
    }
    // A stage without rules (dead-node-removal) has nothing to rewrite: every
    // engine run starts from what the outputs reach, which is the removal.
    if (!rules.empty()) current = rewrite(current, rules, trace);
  }
  return current;
}

Compacted compact(const std::vector<Expr>& outputs) {
  Compacted out;
  if (outputs.empty()) return out;
  check_outputs("compact", outputs);
  const std::vector<char> live = reachable(outputs);
  const GraphStore& from = *outputs[0].graph();
  GraphStore& to = *out.graph.store();
  std::vector<NodeId> map(live.size(), 0);
  for (std::size_t id = 0; id < live.size(); ++id) {
    if (!live[id]) continue;
    const Node& n = from.node(static_cast<NodeId>(id));
    if (n.op->name() == "input") {
      map[id] = to.add_input(n.name, n.type);
      out.inputs.emplace_back(out.graph.store(), map[id]);
    } else if (n.op->name() == "constant") {
      map[id] = to.add_constant(n.attrs.get<Tensor>("value").clone());
    } else {
      std::vector<NodeId> inputs;
      for (NodeId in : n.inputs) inputs.push_back(map[in]);
      map[id] = to.add(*n.op, std::move(inputs), n.attrs);
    }
  }
  for (const Expr& e : outputs) out.outputs.emplace_back(out.graph.store(), map[e.id()]);
  return out;
}

}  // namespace symgraph
