// Linear algebra: 2-d matmul and transpose.
#include "symgraph/core/registry.hpp"
#include "symgraph/ops/kernels.hpp"
#include "symgraph/ops/mask.hpp"
#include "symgraph/ops/ops.hpp"

namespace symgraph {
namespace {

using Partials = std::vector<std::optional<Expr>>;

template <class T> using CMat = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;
template <class T> using Mat = Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;

/// y = a b for a [m, k] and b [k, n].  da = g b^T, db = a^T g.
/// A switch mask on g does not survive the contraction (ops/mask.hpp): the
/// products are exact IEEE sums, 0 * inf included.
struct MatMul final : Op {
  MatMul() : Op("matmul", 2, 2) {}
  TensorType infer(std::span<const TensorType> in, const Attrs&) const override {
    const TensorType &a = in[0], &b = in[1];
    if (a.shape.size() != 2 || b.shape.size() != 2)
      fail("needs two 2-d operands, got " + type_str(a) + " and " + type_str(b));
    if (!is_float(a.dtype) || a.dtype != b.dtype)
      fail("needs two float operands of one dtype, got " + type_str(a) + " and " + type_str(b));
    const std::int64_t ka = a.shape[1], kb = b.shape[0];
    if (ka != kb && ka != kSymbolic && kb != kSymbolic)
      fail("inner dimensions differ: " + type_str(a) + " x " + type_str(b) + " (axis 1 of the first has size " +
           std::to_string(ka) + ", axis 0 of the second " + std::to_string(kb) + ")");
    return {a.dtype, {a.shape[0], b.shape[1]}};
  }
  /// Reads and writes, plus m*k*n multiply-adds.
  std::uint64_t work(std::span<const TensorType> in, const TensorType& out, const Attrs& attrs) const override {
    const std::uint64_t madds = saturated_mul(saturated_elements(out.shape), saturated_elements({in[0].shape[1]}));
    return saturated_add(Op::work(in, out, attrs), madds);
  }
  void compute(std::span<const Tensor* const> in, const Attrs&, Tensor& out) const override {
    dispatch_float(out.dtype(), name(), [&]<class T>() {
      const Tensor &a = *in[0], &b = *in[1];
      Mat<T> y(out.data<T>(), a.shape()[0], b.shape()[1]);
      y.noalias() = CMat<T>(a.data<T>(), a.shape()[0], a.shape()[1]) * CMat<T>(b.data<T>(), b.shape()[0], b.shape()[1]);
    });
  }
  Partials vjp(const Expr& y, const Expr& g) const override {
    const Expr a = y.input(0), b = y.input(1);
    return {matmul(g, transpose(b)), matmul(transpose(a), g)};
  }
};

/// y = x^T for a 2-d x.  dx = g^T.
struct Transpose final : Op {
  Transpose() : Op("transpose", 1, 1) {}
  TensorType infer(std::span<const TensorType> in, const Attrs&) const override {
    if (in[0].shape.size() != 2) fail("needs a 2-d operand, got " + type_str(in[0]));
    return {in[0].dtype, {in[0].shape[1], in[0].shape[0]}};
  }
  void compute(std::span<const Tensor* const> in, const Attrs&, Tensor& out) const override {
    dispatch_any(out.dtype(), [&]<class T>() {
      const Tensor& x = *in[0];
      Mat<T>(out.data<T>(), x.shape()[1], x.shape()[0]) = CMat<T>(x.data<T>(), x.shape()[0], x.shape()[1]).transpose();
    });
  }
  Partials vjp(const Expr& y, const Expr& g) const override {
    if (!is_float(y.dtype())) return {std::nullopt};
    const auto transposed = [](const Expr& e) { return transpose(e); };
    return {keep_mask(y, g, transposed, transposed)};
  }
};

}  // namespace

namespace detail {
void register_linalg_ops(OpRegistry& r) {
  r.add(std::make_unique<MatMul>());
  r.add(std::make_unique<Transpose>());
}
}  // namespace detail

}  // namespace symgraph
