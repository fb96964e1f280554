#pragma once
/// The Op interface. An op is a stateless singleton registered by name; a
/// node refers to its op and carries the attributes. Everything the library
/// does with a node goes through this interface, so an op written outside the
/// library (see docs/adding-an-op.md) works everywhere a built-in op does.
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "symgraph/core/attrs.hpp"

namespace symgraph {

class Expr;

/// One attribute an op requires: JSON loading checks presence and kind.
struct AttrSpec {
  std::string name;
  AttrKind kind;
};

class Op {
 public:
  /// `max_inputs` < 0 means any number from `min_inputs` on.
  Op(std::string name, int min_inputs, int max_inputs);
  virtual ~Op();
  Op(const Op&) = delete;
  Op& operator=(const Op&) = delete;

  const std::string& name() const { return name_; }
  int min_inputs() const { return min_inputs_; }
  int max_inputs() const { return max_inputs_; }

  /// The attributes a node of this op must carry (exactly these).
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

  /// Printed form of a node given its printed arguments; the default is
  /// name(arg, ..., key=value, ...).
  virtual std::string format(std::span<const std::string> args, const Attrs& attrs) const;

  /// Elementwise ops (with broadcasting) can be fused by the fast evaluator.
  virtual bool elementwise() const { return false; }
  /// add, mul, maximum, ...: the rewrite engine matches both operand orders.
  virtual bool commutative() const { return false; }

 protected:
  /// Throws Error "<op>: <message>".
  [[noreturn]] void fail(const std::string& message) const;

 private:
  std::string name_;
  int min_inputs_;
  int max_inputs_;
};

}  // namespace symgraph
