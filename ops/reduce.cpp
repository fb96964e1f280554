// Reductions over axes: sum and max.
#include <Eigen/Core>
#include <algorithm>

#include "symgraph/core/registry.hpp"
#include "symgraph/ops/kernels.hpp"
#include "symgraph/ops/mask.hpp"
#include "symgraph/ops/ops.hpp"
#include "symgraph/ops/reduce.hpp"

namespace symgraph {
namespace {

using Partials = std::vector<std::optional<Expr>>;

// out[o, i] = fold_k in[o, k, i] for an [outer, r, inner] view.
template <class T, class Fold>
void reduce_axis(const T* in, T* out, std::int64_t outer, std::int64_t r, std::int64_t inner, T init, Fold fold) {
  using Row = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
  using CRow = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;
  for (std::int64_t o = 0; o < outer; ++o) {
    Row dst(out + o * inner, inner);
    dst.setConstant(init);
    for (std::int64_t k = 0; k < r; ++k) fold(dst, CRow(in + (o * r + k) * inner, inner));
  }
}

/// Reduces `x` over the sorted axes into `out` (whose element count must be
/// the product of the kept dimensions), one axis at a time, last axis first.
template <class T, class Fold>
void reduce_axes(const Tensor& x, const std::vector<std::int64_t>& axes, Tensor& out, T init, Fold fold) {
  Shape shape = x.shape();
  std::vector<T> cur(x.data<T>(), x.data<T>() + x.size()), next;
  for (auto it = axes.rbegin(); it != axes.rend(); ++it) {
    const auto axis = static_cast<std::size_t>(*it);
    std::int64_t outer = 1, inner = 1;
    for (std::size_t i = 0; i < axis; ++i) outer *= shape[i];
    for (std::size_t i = axis + 1; i < shape.size(); ++i) inner *= shape[i];
    next.assign(static_cast<std::size_t>(outer * inner), init);
    reduce_axis<T>(cur.data(), next.data(), outer, shape[axis], inner, init, fold);
    shape[axis] = 1;
    cur.swap(next);
  }
  std::copy(cur.begin(), cur.end(), out.data<T>());
}

/// Shared type rule: float operand; axes sorted, distinct, in [0, rank).
class Reduction : public Op {
 public:
  explicit Reduction(std::string name) : Op(std::move(name), 1, 1) {}
  std::vector<AttrSpec> attr_specs() const override {
    return {{"axes", AttrKind::integers}, {"keepdims", AttrKind::integer}};
  }
  TensorType infer(std::span<const TensorType> in, const Attrs& attrs) const override {
    const auto& axes = attrs.get<std::vector<std::int64_t>>("axes");
    const auto keepdims = attrs.get<std::int64_t>("keepdims");
    if (keepdims != 0 && keepdims != 1) fail("attribute keepdims must be 0 or 1, got " + std::to_string(keepdims));
    if (!is_float(in[0].dtype)) fail("needs a float operand, got " + type_str(in[0]));
    const auto rank = static_cast<std::int64_t>(in[0].shape.size());
    for (std::size_t i = 0; i < axes.size(); ++i) {
      if (axes[i] < 0 || axes[i] >= rank)
        fail("axis " + std::to_string(axes[i]) + " is out of range for operand " + type_str(in[0]));
      if (i && axes[i] <= axes[i - 1]) fail("axes " + shape_str(axes) + " must be sorted and distinct");
    }
    Shape out;
    for (std::int64_t d = 0; d < rank; ++d) {
      const bool reduced = std::binary_search(axes.begin(), axes.end(), d);
      if (!reduced) out.push_back(in[0].shape[static_cast<std::size_t>(d)]);
      else if (keepdims) out.push_back(1);
    }
    return {in[0].dtype, out};
  }
};

/// y = sum of x over axes.  dx = g broadcast back to x's shape.
struct Sum final : Reduction {
  Sum() : Reduction("sum") {}
  void compute(std::span<const Tensor* const> in, const Attrs& attrs, Tensor& out) const override {
    dispatch_float(out.dtype(), name(), [&]<class T>() {
      reduce_axes<T>(*in[0], attrs.get<std::vector<std::int64_t>>("axes"), out, T(0),
                     [](auto& acc, const auto& row) { acc += row; });
    });
  }
  Partials vjp(const Expr& y, const Expr& g) const override {
    const auto& axes = y.attrs().get<std::vector<std::int64_t>>("axes");
    const bool keep = y.attrs().get<std::int64_t>("keepdims") != 0;
    const Expr x = y.input(0);
    const auto spread = [&](const Expr& e) { return keep ? e : expand_dims(e, axes); };
    return {keep_mask(y, g, [&](const Expr& gg) { return broadcast_to(spread(gg), x); }, spread)};
  }
};

/// y = max of x over axes, NaN if any element is NaN.  dx = g at the
/// elements equal to the maximum, split evenly between ties, 0 elsewhere;
/// that 0 is a switch mask (ops/mask.hpp), so elements that are not the
/// maximum never poison the gradient (max(sqrt(x)) at a 0 element has slope 0
/// there, not 0 * inf). A slice holding a NaN gets no gradient.
struct Max final : Reduction {
  Max() : Reduction("max") {}
  void compute(std::span<const Tensor* const> in, const Attrs& attrs, Tensor& out) const override {
    const auto& axes = attrs.get<std::vector<std::int64_t>>("axes");
    for (auto a : axes)
      if (in[0]->shape()[static_cast<std::size_t>(a)] == 0)
        fail("cannot take the maximum over axis " + std::to_string(a) + " of size 0 (shape " + shape_str(in[0]->shape()) + ")");
    dispatch_float(out.dtype(), name(), [&]<class T>() {
      reduce_axes<T>(*in[0], axes, out, -std::numeric_limits<T>::infinity(), [](auto& acc, const auto& row) {
        acc = ((acc >= row) || (acc != acc)).select(acc, row);
      });
    });
  }
  Partials vjp(const Expr& y, const Expr& g) const override {
    const auto& axes = y.attrs().get<std::vector<std::int64_t>>("axes");
    const bool keep = y.attrs().get<std::int64_t>("keepdims") != 0;
    const Expr x = y.input(0);
    const auto spread = [&](const Expr& e) { return keep ? e : expand_dims(e, axes); };
    const auto rule = [&](const Expr& gg) {
      const Expr hit = eq(x, spread(y));
      const Expr count = sum(cast(hit, x.dtype()), axes, true);
      return where(hit, broadcast_to(spread(gg) / count, x), constant_like(x, 0.0));
    };
    return {keep_mask(y, g, rule, spread)};
  }
};

}  // namespace

void reduce_sum_to(const Tensor& g, Tensor& out) {
  const std::size_t lead = g.rank() - out.rank();
  std::vector<std::int64_t> axes;
  for (std::size_t i = 0; i < g.rank(); ++i)
    if (i < lead || (out.shape()[i - lead] == 1 && g.shape()[i] != 1)) axes.push_back(static_cast<std::int64_t>(i));
  dispatch_float(g.dtype(), "sum_to", [&]<class T>() {
    reduce_axes<T>(g, axes, out, T(0), [](auto& acc, const auto& row) { acc += row; });
  });
}

namespace detail {
void register_reduce_ops(OpRegistry& r) {
  r.add(std::make_unique<Sum>());
  r.add(std::make_unique<Max>());
}
}  // namespace detail

}  // namespace symgraph
