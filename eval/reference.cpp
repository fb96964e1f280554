#include <limits>
#include <optional>

#include "symgraph/eval/function.hpp"

namespace symgraph {
namespace {
constexpr std::uint32_t kNoSlot = std::numeric_limits<std::uint32_t>::max();

std::string describe_input(std::size_t i, const std::string& name) {
  return "argument " + std::to_string(i) + " ('" + name + "')";
}
}  // namespace

Function compile_reference(const std::vector<Expr>& inputs, const std::vector<Expr>& outputs) {
  if (outputs.empty()) throw Error("compile: no outputs given");
  const auto& store = outputs[0].graph();
  for (const Expr& e : outputs)
    if (!e.valid() || e.graph() != store) throw Error("compile: every output must be an expression of one graph");
  for (const Expr& e : inputs) {
    if (!e.valid() || e.graph() != store) throw Error("compile: every input must be an input node of the outputs' graph");
    if (e.op_name() != "input")
      throw Error("compile: inputs must be graph inputs, got a '" + e.op_name() + "' node");
  }

  // Reachability in one backward scan: ids are a topological order.
  NodeId top = 0;
  for (const Expr& e : outputs) top = std::max(top, e.id());
  std::vector<char> live(static_cast<std::size_t>(top) + 1, 0);
  for (const Expr& e : outputs) live[e.id()] = 1;
  for (std::size_t id = live.size(); id-- > 0;)
    if (live[id])
      for (NodeId in : store->node(static_cast<NodeId>(id)).inputs) live[in] = 1;

  Function f;
  std::vector<std::uint32_t> slot(live.size(), kNoSlot);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const NodeId id = inputs[i].id();
    if (id < slot.size() && slot[id] != kNoSlot)
      throw Error("compile: input '" + inputs[i].name() + "' is listed twice");
    const auto s = static_cast<std::uint32_t>(f.num_slots_++);
    if (id < slot.size()) slot[id] = s;
    f.input_slots_.push_back(s);
    f.input_names_.push_back(inputs[i].name());
    f.input_types_.push_back(inputs[i].type());
  }
  std::vector<std::size_t> last_use;
  for (std::size_t id = 0; id < live.size(); ++id) {
    if (!live[id]) continue;
    const Node& n = store->node(static_cast<NodeId>(id));
    if (n.op->name() == "input") {
      if (slot[id] == kNoSlot)
        throw Error("compile: the outputs depend on input '" + n.name + "', which is not among the inputs given");
      continue;
    }
    Function::Step step{n.op, n.attrs, {}, 0, {}};
    for (NodeId in : n.inputs) step.inputs.push_back(slot[in]);
    step.output = slot[id] = static_cast<std::uint32_t>(f.num_slots_++);
    f.steps_.push_back(std::move(step));
  }
  for (const Expr& e : outputs) f.output_slots_.push_back(slot[e.id()]);

  // A slot dies after the last step that reads it, unless it is an output
  // or an argument (arguments belong to the caller).
  last_use.assign(f.num_slots_, std::numeric_limits<std::size_t>::max());
  for (std::size_t s = 0; s < f.steps_.size(); ++s)
    for (auto in : f.steps_[s].inputs) last_use[in] = s;
  std::vector<char> keep(f.num_slots_, 0);
  for (auto s : f.output_slots_) keep[s] = 1;
  for (auto s : f.input_slots_) keep[s] = 1;
  for (std::uint32_t s = 0; s < f.num_slots_; ++s)
    if (!keep[s] && last_use[s] != std::numeric_limits<std::size_t>::max()) f.steps_[last_use[s]].release.push_back(s);
  return f;
}

Function compile(const std::vector<Expr>& inputs, const std::vector<Expr>& outputs) {
  return compile_reference(inputs, outputs);
}

void Function::check_args(const std::vector<Tensor>& args) const {
  if (args.size() != input_slots_.size()) {
    std::string names;
    for (std::size_t i = 0; i < input_names_.size(); ++i) names += (i ? ", " : "") + input_names_[i];
    throw Error("function expects " + std::to_string(input_slots_.size()) + " argument(s) (" + names + "), got " +
                std::to_string(args.size()));
  }
  for (std::size_t i = 0; i < args.size(); ++i) {
    const TensorType& want = input_types_[i];
    const Tensor& got = args[i];
    const std::string what = describe_input(i, input_names_[i]) + ": expected " + type_str(want) + ", got " +
                             type_str(got.type());
    if (got.dtype() != want.dtype) throw Error(what + " (wrong dtype)");
    if (got.rank() != want.shape.size()) throw Error(what + " (wrong rank)");
    for (std::size_t d = 0; d < want.shape.size(); ++d)
      if (want.shape[d] != kSymbolic && want.shape[d] != got.shape()[d])
        throw Error(what + " (axis " + std::to_string(d) + " has size " + std::to_string(got.shape()[d]) +
                    ", declared " + std::to_string(want.shape[d]) + ")");
  }
}

std::vector<Tensor> Function::operator()(const std::vector<Tensor>& args) const {
  check_args(args);
  std::vector<std::optional<Tensor>> slots(num_slots_);
  for (std::size_t i = 0; i < args.size(); ++i) slots[input_slots_[i]] = args[i];
  std::vector<TensorType> types;
  std::vector<const Tensor*> ins;
  for (const Step& step : steps_) {
    types.clear();
    ins.clear();
    for (auto s : step.inputs) {
      ins.push_back(&*slots[s]);
      types.push_back(slots[s]->type());
    }
    // Re-infer with concrete shapes: checks symbolic dimensions at run time.
    const TensorType t = step.op->infer(types, step.attrs);
    Tensor out(t.dtype, t.shape);
    step.op->compute(ins, step.attrs, out);
    slots[step.output] = std::move(out);
    for (auto s : step.release) slots[s].reset();
  }
  std::vector<Tensor> out;
  out.reserve(output_slots_.size());
  for (auto s : output_slots_) {
    // An output that is an argument is copied: results never alias inputs.
    bool is_arg = false;
    for (auto in : input_slots_) is_arg |= in == s;
    out.push_back(is_arg ? slots[s]->clone() : *slots[s]);
  }
  return out;
}

}  // namespace symgraph
