#pragma once
/// Compiling a graph into a callable function over Tensor values.
///
/// compile() plans once (schedule, fusion of elementwise ops into single-pass
/// vectorised kernels, buffer reuse; see docs/performance.md) and returns a
/// Function. compile_reference() evaluates one op at a time with each op's own
/// kernel: it is the oracle the fast evaluator is tested against.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "symgraph/core/graph.hpp"
#include "symgraph/graph/optimize.hpp"

namespace symgraph {

namespace detail {
class Program;
}

/// Caps on what one call of a compiled function computes, so that a graph
/// from an untrusted source runs in bounded memory and time (LoadLimits and
/// ParseLimits bound what a document or an expression may contain, not what
/// it computes: two empty constants of shapes [20000, 0] and [0, 20000] make
/// a matmul of 400,000,000 elements). A call checks them first, from the
/// concrete shapes of its arguments, before it allocates or computes
/// anything, and throws LimitError (graph/limits.hpp) naming the cap and the
/// node (its op and its id in the graph the function was compiled from):
///
///   matmul [id 2] would compute float64[20000, 20000]: 400000000 elements (EvalLimits::max_value_elements is 33554432; raise it to accept larger input)
///
/// Counted are the values a call computes: every node's result except the
/// inputs and constants (for compile(), after its optimizer and its own
/// constant folding); and, against max_total_elements, each output that is
/// a copy: an input or a constant returned, or an output listed again.
/// Values that are fused and never stored count like stored ones, so both
/// evaluators count the same graph the same way, but for a value needed
/// only for its shape (the `like` operand of broadcast_to and sum_to):
/// compile_reference computes and counts it, compile() does neither. The
/// defaults cap nothing.
struct EvalLimits {
  /// Elements of any one value computed.
  std::size_t max_value_elements = SIZE_MAX;
  /// Elements of all the values one call computes, together: a bound on
  /// the memory a call allocates for values (intermediates and outputs), and
  /// with max_work on its time.
  std::size_t max_total_elements = SIZE_MAX;
  /// Work of one call: Op::work (core/op.hpp) summed over the values
  /// computed. For the built-in ops, the elements each op reads and writes,
  /// plus m*k*n multiply-adds for a matmul of [m, k] and [k, n]: about the
  /// time a call takes, where the element counts alone miss a sum over
  /// a large input or a matmul of two 4000 x 4000 inputs (6.4e10
  /// multiply-adds, 16,000,000 elements).
  std::size_t max_work = SIZE_MAX;

  /// Whether any cap is set (then calls count).
  bool any() const { return max_value_elements != SIZE_MAX || max_total_elements != SIZE_MAX || max_work != SIZE_MAX; }
};

/// Settings of compile().
struct CompileOptions {
  /// Rewrites applied to the outputs before planning. The standard pipeline
  /// includes documented non-exact rules such as relu-to-abs
  /// (docs/optimizer.md); Pipeline::strict() keeps results bit-identical to
  /// the graph as written, Pipeline::none() compiles it as it is. Take
  /// gradients before compiling: differentiate first, then optimize.
  Pipeline pipeline = Pipeline::standard();
  /// Threads one call may use on large tensors, the calling thread included;
  /// 0 means every hardware thread. Small tensors always run on the caller.
  int num_threads = 0;
  /// Fuse connected elementwise ops into one kernel. false gives one
  /// (vectorised) kernel per op: the op-by-op baseline of the benchmark.
  bool fuse = true;
  /// Outputs of at least this many bytes are written with streaming
  /// (non-temporal) stores, which skip reading the destination into the
  /// cache first; use SIZE_MAX to never stream.
  std::size_t streaming_store_bytes = std::size_t{16} << 20;
  /// Caps on what each call computes (default: none). compile() itself
  /// evaluates constant subgraphs within them too (docs/performance.md).
  EvalLimits limits;
};

/// A compiled function. It holds no reference to the graph it came from and
/// is immutable: one Function may be called from several threads at once.
/// Copies share the compiled program.
class Function {
 public:
  /// Evaluates the outputs for `args` (one tensor per declared input, in
  /// order) into new tensors. Throws Error for a wrong number of arguments, a
  /// wrong dtype, or a shape that does not fit the declared one or the
  /// graph's broadcasting, and LimitError, before any work, for a call that
  /// would exceed the function's EvalLimits.
  std::vector<Tensor> operator()(const std::vector<Tensor>& args) const;

  /// Like operator(), writing into `outputs`: outputs[i] is reused when it
  /// already has output i's dtype and shape and shares storage with no
  /// argument and no other output; otherwise (or when `outputs` is shorter)
  /// it is replaced by a new tensor. Calling eval_into in a loop with the same
  /// vector therefore allocates nothing after the first call.
  void eval_into(const std::vector<Tensor>& args, std::vector<Tensor>& outputs) const;

  std::size_t num_inputs() const { return input_names_.size(); }
  std::size_t num_outputs() const { return num_outputs_; }
  const std::vector<std::string>& input_names() const { return input_names_; }
  const std::vector<TensorType>& input_types() const { return input_types_; }
  /// Kernel launches per call: op applications for compile_reference, fused
  /// kernels plus unfused ops for compile.
  std::size_t num_steps() const;
  /// Threads a call may use (resolved from CompileOptions::num_threads).
  int num_threads() const;
  /// The plan, one line per step, e.g. "fused[3 ops: abs add scale] -> 1 output".
  std::string describe() const;

 private:
  friend Function compile_reference(const std::vector<Expr>&, const std::vector<Expr>&, const EvalLimits&);
  friend Function compile(const std::vector<Expr>&, const std::vector<Expr>&, const CompileOptions&);
  void check_args(const std::vector<Tensor>& args) const;

  std::shared_ptr<const detail::Program> program_;
  std::vector<std::string> input_names_;
  std::vector<TensorType> input_types_;
  std::size_t num_outputs_ = 0;
};

/// Compiles `outputs` as a function of `inputs` (input nodes, in argument
/// order) with the reference evaluator: one op at a time, each op's own
/// kernel, no rewriting. Every input node the outputs depend on must be listed.
/// Each call checks `limits` first (every node of the graph as written counts).
Function compile_reference(const std::vector<Expr>& inputs, const std::vector<Expr>& outputs,
                           const EvalLimits& limits = {});

/// Compiles `outputs` as a function of `inputs`: optimizes them with
/// options.pipeline, then plans them for the fused evaluator. With
/// Pipeline::none(), results equal compile_reference's bit for bit, except full sums
/// (sum over every axis of a fused value), which are added chunk by chunk, in
/// another order than the reference's (see docs/performance.md).
Function compile(const std::vector<Expr>& inputs, const std::vector<Expr>& outputs,
                 const CompileOptions& options = {});

}  // namespace symgraph
