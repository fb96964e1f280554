#pragma once
/// Compiling a graph into a callable function over Tensor values.
#include <string>
#include <vector>

#include "symgraph/core/graph.hpp"

namespace symgraph {

/// A compiled function: a schedule of the nodes the outputs need, with
/// buffers released after their last use. It holds no reference to the
/// graph it came from and is immutable, so one Function may be called from
/// several threads at once.
class Function {
 public:
  /// Evaluates the outputs for `args` (one tensor per declared input, in
  /// order). Throws Error for a wrong number of arguments, a wrong dtype, or
  /// a shape that does not fit the declared one or the graph's broadcasting.
  std::vector<Tensor> operator()(const std::vector<Tensor>& args) const;

  std::size_t num_inputs() const { return input_slots_.size(); }
  std::size_t num_outputs() const { return output_slots_.size(); }
  const std::vector<std::string>& input_names() const { return input_names_; }
  const std::vector<TensorType>& input_types() const { return input_types_; }
  /// Number of op applications per call.
  std::size_t num_steps() const { return steps_.size(); }

 private:
  friend Function compile_reference(const std::vector<Expr>&, const std::vector<Expr>&);
  struct Step {
    const Op* op;
    Attrs attrs;
    std::vector<std::uint32_t> inputs;  // slots
    std::uint32_t output;               // slot
    std::vector<std::uint32_t> release; // slots dead after this step
  };
  void check_args(const std::vector<Tensor>& args) const;

  std::vector<Step> steps_;
  std::size_t num_slots_ = 0;
  std::vector<std::uint32_t> input_slots_;
  std::vector<std::string> input_names_;
  std::vector<TensorType> input_types_;
  std::vector<std::uint32_t> output_slots_;
};

/// Compiles `outputs` as a function of `inputs` (input nodes, in argument
/// order) with the reference evaluator: one op at a time, no rewriting.
/// Every input node the outputs depend on must be listed.
Function compile_reference(const std::vector<Expr>& inputs, const std::vector<Expr>& outputs);

/// Compiles `outputs` as a function of `inputs`.
Function compile(const std::vector<Expr>& inputs, const std::vector<Expr>& outputs);

}  // namespace symgraph
