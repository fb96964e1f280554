#include "symgraph/ops/elementwise.hpp"

#include "symgraph/ops/ops.hpp"

namespace symgraph {
namespace {

bool is_zero_constant(const Expr& e) {
  if (e.op_name() != "constant") return false;
  const Tensor& v = e.attrs().get<Tensor>("value");
  for (std::int64_t i = 0; i < v.size(); ++i)
    if (v.at(i) != 0.0) return false;
  return true;
}

struct Mask {
  Expr cond;
  bool keep_when_true;
};

}  // namespace

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
  // Peel switch masks whose kept branch has the output's own shape.
  std::vector<Mask> masks;
  Expr h = g;
  while (h.op_name() == "switch") {
    const Expr c = h.input(0), a = h.input(1), b = h.input(2);
    if (is_zero_constant(b) && a.shape() == y.shape() && a.dtype() == y.dtype()) {
      masks.push_back({c, true});
      h = a;
    } else if (is_zero_constant(a) && b.shape() == y.shape() && b.dtype() == y.dtype()) {
      masks.push_back({c, false});
      h = b;
    } else {
      break;
    }
  }
  std::vector<std::optional<Expr>> out = partials(y, h);
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (!out[i]) continue;
    Expr p = *out[i];
    for (auto m = masks.rbegin(); m != masks.rend(); ++m) {
      const Expr zero = constant_like(p, 0.0);
      p = m->keep_when_true ? where(m->cond, p, zero) : where(m->cond, zero, p);
    }
    const Expr operand = y.input(i);
    if (!(is_concrete(operand.shape()) && operand.shape() == p.shape())) p = sum_to(p, operand);
    out[i] = p;
  }
  return out;
}

}  // namespace symgraph
