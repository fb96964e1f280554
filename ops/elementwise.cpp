#include "symgraph/ops/elementwise.hpp"

#include "symgraph/ops/mask.hpp"
#include "symgraph/ops/ops.hpp"

namespace symgraph {

DType ElementwiseOp::same_float_dtype(std::span<const TensorType> inputs) const {
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!is_float(inputs[i].dtype))
      fail("operand " + std::to_string(i) + " is " + type_str(inputs[i]) + "; this op needs float32 or float64");
    if (inputs[i].dtype != inputs[0].dtype)
      fail("operand dtypes differ: " + type_str(inputs[0]) + " and " + type_str(inputs[i]) +
           " (convert one with cast())");
  }
  return inputs[0].dtype;
}

DType ElementwiseOp::result_dtype(std::span<const TensorType> inputs) const { return same_float_dtype(inputs); }

TensorType ElementwiseOp::infer(std::span<const TensorType> inputs, const Attrs&) const {
  // The registry refuses an elementwise op without operands; this guards an
  // op used without registering it.
  if (inputs.empty()) fail("an elementwise op needs at least one operand");
  Shape shape = inputs[0].shape;
  for (std::size_t i = 1; i < inputs.size(); ++i) {
    if (inputs.size() == 2) {
      shape = broadcast_shapes(name(), inputs[0].shape, inputs[1].shape);
    } else {
      try {
        shape = broadcast_shapes(name(), shape, inputs[i].shape);
      } catch (const Error&) {
        std::string all;
        for (std::size_t k = 0; k < inputs.size(); ++k) all += (k ? ", " : "") + shape_str(inputs[k].shape);
        // Re-throw with every operand's shape named, then the failing pair.
        try {
          broadcast_shapes(name(), shape, inputs[i].shape);
        } catch (const Error& e) {
          fail("operand shapes " + all + " do not broadcast: " + std::string(e.what()).substr(name().size() + 2));
        }
      }
    }
  }
  return {result_dtype(inputs), std::move(shape)};
}

std::vector<std::optional<Expr>> ElementwiseOp::vjp(const Expr& y, const Expr& g) const {
  // Partials from the unmasked cotangent, masked again (see ops/mask.hpp):
  // where the mask is off they may be 0 * inf = NaN, and the mask drops them.
  const MaskedCotangent mg = peel_mask(g);
  std::vector<std::optional<Expr>> out = partials(y, mg.value);
  if (out.size() != y.num_inputs())
    fail("partials() returned " + count_str(out.size(), "cotangent") + " for " + count_str(y.num_inputs(), "operand"));
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (!out[i]) continue;
    Expr p = apply_mask(*out[i], mg.mask);
    const Expr operand = y.input(i);
    // A symbolic dimension may be 1 at run time and broadcast: sum_to then,
    // unless the shapes are proven equal (an operand of the shape the op's
    // result takes its own from, as in a chain of ops on one vector).
    if (!same_runtime_shape(p, operand)) p = masked_sum_to(p, operand);
    out[i] = p;
  }
  return out;
}

}  // namespace symgraph
