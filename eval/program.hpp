#pragma once
/// What a Function runs (internal): the reference program (one op at a time)
/// or the planned, fused program.
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "symgraph/core/graph.hpp"
#include "symgraph/eval/function.hpp"

namespace symgraph::detail {

class Program {
 public:
  virtual ~Program() = default;
  /// Evaluates into `outputs` (arguments already checked). With `reuse`,
  /// outputs[i] is written in place when it fits (see Function::eval_into);
  /// otherwise every output is a new tensor.
  virtual void run(const std::vector<Tensor>& args, std::vector<Tensor>& outputs, bool reuse) const = 0;
  virtual std::size_t num_steps() const = 0;
  virtual int num_threads() const { return 1; }
  virtual std::string describe() const = 0;
};

/// What a call computes, counted against EvalLimits: add() each value in
/// node id order; the first cap exceeded throws LimitError naming the node.
/// Both evaluators count with it, in the same order, so that on the same
/// graph their messages are the same.
class LimitCounter {
 public:
  explicit LimitCounter(const EvalLimits& limits) : limits_(limits) {}
  /// The value of node `id` (of `op`, with `attrs`), computed from operands
  /// of types `inputs` (concrete), of type `output`.
  void add(const Op& op, NodeId id, std::span<const TensorType> inputs, const TensorType& output, const Attrs& attrs);
  /// Output `index` of type `output`, a copy the call makes: an input or a
  /// constant returned, or an output listed again (each listing is a
  /// tensor of its own). Counts against max_total_elements.
  void add_copy(std::size_t index, const TensorType& output);
  /// add_copy() for each output (ids below `ids`) that the call does not
  /// compute, or that an earlier output already is.
  void add_copies(std::span<const std::uint32_t> outputs, std::size_t ids,
                  const std::function<bool(std::uint32_t)>& computed,
                  const std::function<TensorType(std::uint32_t)>& type_of);

 private:
  const EvalLimits& limits_;
  std::uint64_t elements_ = 0;
  std::uint64_t work_ = 0;
};

/// The checks both compilers make on their arguments, with the same
/// messages: outputs of one graph, inputs that are input nodes of it.
void check_compile_args(const std::vector<Expr>& inputs, const std::vector<Expr>& outputs);

/// Whether `out` can receive a result of type `t` in place: same dtype and
/// shape, and sharing storage with no argument and none of the earlier
/// outputs (out_index of them).
bool reusable_output(const Tensor& out, const TensorType& t, const std::vector<Tensor>& args,
                     const std::vector<Tensor>& outputs, std::size_t out_index);

}  // namespace symgraph::detail
