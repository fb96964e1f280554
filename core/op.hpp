#pragma once
/// The Op interface. An op is a stateless singleton registered by name; a
/// node refers to its op and carries the attributes. Everything the library
/// does with a node goes through this interface, so an op written outside the
/// library (see docs/adding-an-op.md) works everywhere a built-in op does.
///
/// An op has exactly one output: a node is one tensor. A computation with
/// several results is several ops (or nodes) that share operands.
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "symgraph/core/attrs.hpp"

namespace symgraph {

class Expr;

/// One attribute an op requires: nodes are checked against these when they
/// are built (and so when JSON is loaded).
struct AttrSpec {
  std::string name;
  AttrKind kind;
};

/// What is wrong with a node's attributes for its op (Op::attr_problem).
struct AttrProblem {
  std::string key;       ///< the attribute concerned
  bool missing = false;  ///< absent; otherwise present but not the op's, or of another kind
  std::string message;   ///< names the op, the attribute and the expected kind
};

class Op {
 public:
  /// Operands: from `min_inputs` to `max_inputs`; `max_inputs` < 0 means any
  /// number from `min_inputs` on. The registry checks the numbers when the
  /// op is registered (min_inputs >= 0, max_inputs < 0 or >= min_inputs, at
  /// least one operand for an elementwise op), and a node is built only
  /// with a number of operands in range, so infer(), compute() and vjp()
  /// never see fewer (or more) operands than the op declares.
  Op(std::string name, int min_inputs, int max_inputs);
  virtual ~Op();
  Op(const Op&) = delete;
  Op& operator=(const Op&) = delete;

  const std::string& name() const { return name_; }
  int min_inputs() const { return min_inputs_; }
  int max_inputs() const { return max_inputs_; }

  /// The attributes a node of this op must carry: exactly these, each of its
  /// kind. Checked when a node is built (GraphStore::add, so apply() and
  /// the JSON loader), before infer() runs: infer(), compute() and vjp() may
  /// rely on them. Called once per op (the result is kept).
  virtual std::vector<AttrSpec> attr_specs() const { return {}; }

  /// Output type from the input types and attributes. Throws Error naming
  /// the op, the operand types and what is wrong. Called when a node is built
  /// (with declared, possibly symbolic shapes) and again when a graph runs
  /// (with concrete shapes), so shape errors surface as early as possible.
  virtual TensorType infer(std::span<const TensorType> inputs, const Attrs& attrs) const = 0;

  /// Reference kernel: `out` is allocated with the type infer() gave for the
  /// concrete inputs.
  virtual void compute(std::span<const Tensor* const> inputs, const Attrs& attrs, Tensor& out) const = 0;

  /// Vector-Jacobian product: given the node `y` and the cotangent `g` of its
  /// output, one cotangent per input, with that input's type; nullopt for an
  /// input that gets no gradient (a condition, an integer index) or whose
  /// contribution is zero. The default throws: the op is not differentiable.
  virtual std::vector<std::optional<Expr>> vjp(const Expr& y, const Expr& g) const;

  /// Printed form of a node with its operands (expr_str, rewrite traces):
  /// `args` holds the printed operands, exactly one string per operand of
  /// the node, in order. The default is name(arg, ..., key=value, ...).
  virtual std::string format(std::span<const std::string> args, const Attrs& attrs) const;

  /// Printed form of a node alone, where its operands are printed apart
  /// (debugprint and DOT lines, expr_str beyond its depth): the default is
  /// the name, followed by (key=value, ...) when there are attributes, as in
  /// "add" or "scale(factor=0.5)". format() is never called for this.
  virtual std::string label(const Attrs& attrs) const;

  /// Work of one application to operands of the (concrete) types `inputs`,
  /// giving `output`: about how many element operations compute() does,
  /// what EvalLimits::max_work (eval/function.hpp) and the optimizer's
  /// constant folding count. The default, right for an op that touches each
  /// element a bounded number of times, is the elements of every operand
  /// plus those of the result. An op that does more per element says so
  /// (matmul adds its m*k*n multiply-adds); one that only reads an
  /// operand's shape leaves that operand out. Use saturated_add and
  /// saturated_mul (core/types.hpp): shapes may be huge.
  virtual std::uint64_t work(std::span<const TensorType> inputs, const TensorType& output, const Attrs& attrs) const;

  /// Elementwise ops (with broadcasting) can be fused by the fast evaluator.
  virtual bool elementwise() const { return false; }
  /// add, mul, maximum, ...: the rewrite engine matches both operand orders.
  virtual bool commutative() const { return false; }

  /// attr_specs(), computed on first use and kept.
  const std::vector<AttrSpec>& specs() const;
  /// The spec of attribute `key`, or nullptr if the op has no such attribute.
  const AttrSpec* spec(std::string_view key) const;
  /// The first problem of `attrs` against specs() (an attribute the op does
  /// not have, one of another kind, one missing), or nullopt if they fit.
  std::optional<AttrProblem> attr_problem(const Attrs& attrs) const;
  /// The problem of an attribute named `key` that the op does not have.
  AttrProblem unknown_attr(std::string_view key) const;
  /// Throws Error with attr_problem's message unless `attrs` fit.
  void check_attrs(const Attrs& attrs) const;
  /// Throws Error unless `n` operands are in [min_inputs, max_inputs].
  void check_arity(std::size_t n) const;

 protected:
  /// Throws Error "<op>: <message>".
  [[noreturn]] void fail(const std::string& message) const;

 private:
  std::string name_;
  int min_inputs_;
  int max_inputs_;
  mutable std::once_flag specs_once_;
  mutable std::vector<AttrSpec> specs_;
};

}  // namespace symgraph
