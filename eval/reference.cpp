// The reference evaluator (one op at a time, each op's own kernel) and the
// Function methods shared by both evaluators.
#include <limits>
#include <optional>

#include "symgraph/eval/function.hpp"
#include "symgraph/eval/program.hpp"
#include "symgraph/graph/limits.hpp"

namespace symgraph {
namespace detail {
namespace {

constexpr std::uint32_t kNoSlot = std::numeric_limits<std::uint32_t>::max();

/// A schedule of the nodes the outputs need, with buffers released after
/// their last use.
class ReferenceProgram final : public Program {
 public:
  struct Step {
    const Op* op;
    Attrs attrs;
    std::vector<std::uint32_t> inputs;  // slots
    std::uint32_t output;               // slot
    NodeId id;                          // in the compiled graph, for messages
    std::vector<std::uint32_t> release; // slots dead after this step
  };

  void run(const std::vector<Tensor>& args, std::vector<Tensor>& outputs, bool) const override;
  std::size_t num_steps() const override { return steps_.size(); }
  std::string describe() const override {
    std::string out;
    for (const Step& s : steps_) out += s.op->name() + "\n";
    return out;
  }

  std::vector<Step> steps_;
  std::size_t num_slots_ = 0;
  std::vector<std::uint32_t> input_slots_;
  std::vector<std::uint32_t> output_slots_;
  EvalLimits limits_;

 private:
  void check_limits(const std::vector<Tensor>& args) const;
};

/// Every step's type from the arguments' shapes, counted against the
/// limits before anything is computed.
void ReferenceProgram::check_limits(const std::vector<Tensor>& args) const {
  std::vector<TensorType> slot_types(num_slots_);
  for (std::size_t i = 0; i < args.size(); ++i) slot_types[input_slots_[i]] = args[i].type();
  LimitCounter counter(limits_);
  std::vector<TensorType> types;
  // Slots of values the call computes (not arguments, not constants).
  std::vector<char> computed(num_slots_, 0);
  for (const Step& step : steps_) {
    types.clear();
    for (auto s : step.inputs) types.push_back(slot_types[s]);
    slot_types[step.output] = step.op->infer(types, step.attrs);
    if (step.op->name() == "constant") continue;
    computed[step.output] = 1;
    counter.add(*step.op, step.id, types, slot_types[step.output], step.attrs);
  }
  counter.add_copies(
      output_slots_, num_slots_, [&](std::uint32_t s) { return computed[s] != 0; },
      [&](std::uint32_t s) { return slot_types[s]; });
}

void ReferenceProgram::run(const std::vector<Tensor>& args, std::vector<Tensor>& outputs, bool) const {
  if (limits_.any()) check_limits(args);
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
  outputs.clear();
  outputs.reserve(output_slots_.size());
  for (auto s : output_slots_) {
    // An output that is an argument is copied: results never alias inputs.
    bool is_arg = false;
    for (auto in : input_slots_) is_arg |= in == s;
    outputs.push_back(is_arg ? slots[s]->clone() : *slots[s]);
  }
}

std::string count_str(std::uint64_t n) {
  return n == UINT64_MAX ? "18446744073709551615 or more" : std::to_string(n);
}

}  // namespace

void LimitCounter::add(const Op& op, NodeId id, std::span<const TensorType> inputs, const TensorType& output,
                       const Attrs& attrs) {
  auto node = [&] { return op.name() + " [id " + std::to_string(id) + "]"; };
  const std::uint64_t n = saturated_elements(output.shape);
  if (n > limits_.max_value_elements)
    throw LimitError(node() + " would compute " + type_str(output) + ": " + count_str(n) + " elements",
                     "EvalLimits::max_value_elements", limits_.max_value_elements);
  elements_ = saturated_add(elements_, n);
  if (elements_ > limits_.max_total_elements)
    throw LimitError(node() + " would bring the elements computed to " + count_str(elements_),
                     "EvalLimits::max_total_elements", limits_.max_total_elements);
  work_ = saturated_add(work_, op.work(inputs, output, attrs));
  if (work_ > limits_.max_work)
    throw LimitError(node() + " would bring the work done to " + count_str(work_) + " operations",
                     "EvalLimits::max_work", limits_.max_work);
}

void LimitCounter::add_copies(std::span<const std::uint32_t> outputs, std::size_t ids,
                              const std::function<bool(std::uint32_t)>& computed,
                              const std::function<TensorType(std::uint32_t)>& type_of) {
  std::vector<char> listed(ids, 0);
  for (std::size_t k = 0; k < outputs.size(); ++k) {
    const std::uint32_t o = outputs[k];
    if (!computed(o) || listed[o]) add_copy(k, type_of(o));
    listed[o] = 1;
  }
}

void LimitCounter::add_copy(std::size_t index, const TensorType& output) {
  elements_ = saturated_add(elements_, saturated_elements(output.shape));
  if (elements_ > limits_.max_total_elements)
    throw LimitError("output " + std::to_string(index) + " (a copy of " + type_str(output) +
                         ") would bring the elements computed to " + count_str(elements_),
                     "EvalLimits::max_total_elements", limits_.max_total_elements);
}

void check_compile_args(const std::vector<Expr>& inputs, const std::vector<Expr>& outputs) {
  if (outputs.empty()) throw Error("compile: no outputs given");
  const auto& store = outputs[0].graph();
  for (const Expr& e : outputs)
    if (!e.valid() || e.graph() != store) throw Error("compile: every output must be an expression of one graph");
  for (const Expr& e : inputs) {
    if (!e.valid() || e.graph() != store) throw Error("compile: every input must be an input node of the outputs' graph");
    if (e.op_name() != "input")
      throw Error("compile: inputs must be graph inputs, got a '" + e.op_name() + "' node");
  }
}

bool reusable_output(const Tensor& out, const TensorType& t, const std::vector<Tensor>& args,
                     const std::vector<Tensor>& outputs, std::size_t out_index) {
  if (out.dtype() != t.dtype || out.shape() != t.shape) return false;
  for (const Tensor& a : args)
    if (a.raw() == out.raw()) return false;
  for (std::size_t i = 0; i < out_index; ++i)
    if (outputs[i].raw() == out.raw()) return false;
  return true;
}

}  // namespace detail

namespace {
std::string describe_input(std::size_t i, const std::string& name) {
  return "argument " + std::to_string(i) + " ('" + name + "')";
}
}  // namespace

Function compile_reference(const std::vector<Expr>& inputs, const std::vector<Expr>& outputs, const EvalLimits& limits) {
  using detail::kNoSlot;
  detail::check_compile_args(inputs, outputs);
  const auto& store = outputs[0].graph();

  const std::vector<char> live = reachable(outputs);

  Function f;
  auto p = std::make_shared<detail::ReferenceProgram>();
  std::vector<std::uint32_t> slot(live.size(), kNoSlot);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const NodeId id = inputs[i].id();
    if (id < slot.size() && slot[id] != kNoSlot)
      throw Error("compile: input '" + inputs[i].name() + "' is listed twice");
    const auto s = static_cast<std::uint32_t>(p->num_slots_++);
    if (id < slot.size()) slot[id] = s;
    p->input_slots_.push_back(s);
    f.input_names_.push_back(inputs[i].name());
    f.input_types_.push_back(inputs[i].type());
  }
  for (std::size_t id = 0; id < live.size(); ++id) {
    if (!live[id]) continue;
    const Node& n = store->node(static_cast<NodeId>(id));
    if (n.op->name() == "input") {
      if (slot[id] == kNoSlot)
        throw Error("compile: the outputs depend on input '" + n.name + "', which is not among the inputs given");
      continue;
    }
    detail::ReferenceProgram::Step step{n.op, n.attrs, {}, 0, static_cast<NodeId>(id), {}};
    for (NodeId in : n.inputs) step.inputs.push_back(slot[in]);
    step.output = slot[id] = static_cast<std::uint32_t>(p->num_slots_++);
    p->steps_.push_back(std::move(step));
  }
  for (const Expr& e : outputs) p->output_slots_.push_back(slot[e.id()]);

  // A slot dies after the last step that reads it, unless it is an output
  // or an argument (arguments belong to the caller).
  std::vector<std::size_t> last_use(p->num_slots_, std::numeric_limits<std::size_t>::max());
  for (std::size_t s = 0; s < p->steps_.size(); ++s)
    for (auto in : p->steps_[s].inputs) last_use[in] = s;
  std::vector<char> keep(p->num_slots_, 0);
  for (auto s : p->output_slots_) keep[s] = 1;
  for (auto s : p->input_slots_) keep[s] = 1;
  for (std::uint32_t s = 0; s < p->num_slots_; ++s)
    if (!keep[s] && last_use[s] != std::numeric_limits<std::size_t>::max()) p->steps_[last_use[s]].release.push_back(s);
  p->limits_ = limits;
  f.num_outputs_ = outputs.size();
  f.program_ = std::move(p);
  return f;
}

void Function::check_args(const std::vector<Tensor>& args) const {
  if (args.size() != input_names_.size()) {
    std::string names;
    for (std::size_t i = 0; i < input_names_.size(); ++i) names += (i ? ", " : "") + input_names_[i];
    throw Error("function expects " + count_str(input_names_.size(), "argument") + " (" + names + "), got " +
                std::to_string(args.size()));
  }
  for (std::size_t i = 0; i < args.size(); ++i) {
    const TensorType& want = input_types_[i];
    const Tensor& got = args[i];
    // Checked before any message is built: this runs on every call.
    bool fits = got.dtype() == want.dtype && got.rank() == want.shape.size();
    for (std::size_t d = 0; fits && d < want.shape.size(); ++d)
      fits = want.shape[d] == kSymbolic || want.shape[d] == got.shape()[d];
    if (fits) continue;
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
  if (!program_) throw Error("function: called before it was compiled");
  check_args(args);
  std::vector<Tensor> out;
  program_->run(args, out, false);
  return out;
}

void Function::eval_into(const std::vector<Tensor>& args, std::vector<Tensor>& outputs) const {
  if (!program_) throw Error("function: called before it was compiled");
  check_args(args);
  program_->run(args, outputs, true);
}

std::size_t Function::num_steps() const { return program_ ? program_->num_steps() : 0; }
int Function::num_threads() const { return program_ ? program_->num_threads() : 1; }
std::string Function::describe() const { return program_ ? program_->describe() : std::string(); }

}  // namespace symgraph
