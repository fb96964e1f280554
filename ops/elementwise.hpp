#pragma once
/// Base class of elementwise ops: NumPy broadcasting of any number of
/// operands in type inference, and one VJP mechanism that (1) asks the op for
/// its partial cotangents at the output's shape, (2) keeps a cotangent that a
/// switch masked masked (see vjp below), and (3) sums each partial back to its
/// operand's shape. A new elementwise op writes only the math.
#include "symgraph/core/graph.hpp"
#include "symgraph/ops/kernels.hpp"

namespace symgraph {

class ElementwiseOp : public Op {
 public:
  using Op::Op;
  bool elementwise() const override { return true; }

  /// Broadcast shape of all operands; dtype from result_dtype().
  TensorType infer(std::span<const TensorType> inputs, const Attrs& attrs) const override;

  /// Partials at the output's shape, masked and summed to operand shapes.
  ///
  /// Masking (ops/mask.hpp): where the incoming cotangent is a switch mask,
  /// where(m, h, 0) (or where(m, 0, h)), as a switch produces for its
  /// branches, the partials are computed from h and masked again, instead of
  /// multiplying the masked cotangent by the local derivative: 0 * inf is NaN,
  /// so an unselected branch with an infinite or NaN derivative would
  /// otherwise poison the gradient. A partial summed back to a broadcast
  /// operand keeps its mask, reduced with "any" over the summed axes.
  std::vector<std::optional<Expr>> vjp(const Expr& y, const Expr& g) const final;

 protected:
  /// The output dtype, given operand types of which infer has checked the
  /// shapes. Default: every operand float and of one dtype, which is the result.
  virtual DType result_dtype(std::span<const TensorType> inputs) const;

  /// Cotangent contributions, each with the output's shape (or broadcastable
  /// to it), for output cotangent g; nullopt for no contribution.
  virtual std::vector<std::optional<Expr>> partials(const Expr& y, const Expr& g) const = 0;

  /// Throws unless all operands share one float dtype; returns it.
  DType same_float_dtype(std::span<const TensorType> inputs) const;
};

}  // namespace symgraph
