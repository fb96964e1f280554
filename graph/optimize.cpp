#include "symgraph/graph/optimize.hpp"

#include <algorithm>

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

}  // namespace

const std::vector<Pass>& passes() {
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

const Pass& pass_named(std::string_view name) {
  for (const Pass& p : passes())
    if (p.name == name) return p;
  std::string known;
  for (const Pass& p : passes()) known += (known.empty() ? "" : ", ") + p.name;
  throw Error("optimize: unknown pass '" + std::string(name) + "' (the passes are " + known + ")");
}

Pipeline Pipeline::standard() {
  Pipeline p;
  p.stages_ = {{"constant-folding", "canonicalize", "relu-to-abs", "cse"}, {"dead-node-removal"}};
  return p;
}

Pipeline Pipeline::strict() {
  // relu-to-abs has no exact rule, so strict leaves it out altogether.
  Pipeline p;
  p.stages_ = {{"constant-folding", "canonicalize", "cse"}, {"dead-node-removal"}};
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
  std::vector<Expr> current = outputs;
  for (const Pipeline::Stage& stage : pipeline.stages()) {
    // The stage's rules, pass by pass in table order; a rule that two passes
    // share (order-operands is in canonicalize and cse) runs once.
    std::vector<PassRule> rules;
    for (const std::string& name : stage) {
      const Pass& pass = pass_named(name);
      for (const Rule& r : *pass.rules) {
        if (pipeline.is_exact_only() && !r.exact()) continue;
        const bool seen = std::any_of(rules.begin(), rules.end(), [&](const PassRule& p) { return p.rule->name() == r.name(); });
        if (!seen) rules.push_back({pass.name, &r});
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
