// Shape and type ops: broadcast_to, sum_to, expand_dims, squeeze, reshape, cast.
#include <algorithm>
#include <cstring>
#include <limits>

#include "symgraph/core/registry.hpp"
#include "symgraph/ops/kernels.hpp"
#include "symgraph/ops/mask.hpp"
#include "symgraph/ops/ops.hpp"
#include "symgraph/ops/reduce.hpp"

namespace symgraph {
namespace {

using Partials = std::vector<std::optional<Expr>>;

/// Work of broadcast_to and sum_to: `like` lends only its shape.
std::uint64_t work_without_like(std::span<const TensorType> in, const TensorType& out) {
  return saturated_add(saturated_elements(in[0].shape), saturated_elements(out.shape));
}

void copy_data(const Tensor& in, Tensor& out) { std::memcpy(out.raw(), in.raw(), in.nbytes()); }

/// y = x broadcast against like (only like's shape is used).
/// dx = sum_to(g, x); like gets no gradient.
struct BroadcastTo final : Op {
  BroadcastTo() : Op("broadcast_to", 2, 2) {}
  TensorType infer(std::span<const TensorType> in, const Attrs&) const override {
    return {in[0].dtype, broadcast_shapes(name(), in[0].shape, in[1].shape)};
  }
  std::uint64_t work(std::span<const TensorType> in, const TensorType& out, const Attrs&) const override {
    return work_without_like(in, out);
  }
  void compute(std::span<const Tensor* const> in, const Attrs&, Tensor& out) const override {
    dispatch_any(out.dtype(), [&]<class T>() {
      elementwise_kernel<T, T>(out, {in[0]}, [](auto& o, const auto& x) { o = x; });
    });
  }
  Partials vjp(const Expr& y, const Expr& g) const override {
    if (!is_float(y.dtype())) return {std::nullopt, std::nullopt};
    // Summing mixes elements: sum the masked g, then mask with "any".
    return {masked_sum_to(g, y.input(0)), std::nullopt};
  }
};

/// y = g summed over the axes along which like was broadcast to g's shape
/// (leading axes, and axes where like has size 1); y has like's shape.
/// dg = broadcast_to(gy, g); like gets no gradient.
struct SumTo final : Op {
  SumTo() : Op("sum_to", 2, 2) {}
  TensorType infer(std::span<const TensorType> in, const Attrs&) const override {
    const Shape& g = in[0].shape;
    const Shape& like = in[1].shape;
    if (!is_float(in[0].dtype)) fail("needs a float operand, got " + type_str(in[0]));
    if (like.size() > g.size())
      fail("cannot sum " + type_str(in[0]) + " down to the larger rank of " + shape_str(like));
    for (std::size_t i = 0; i < like.size(); ++i) {
      const std::int64_t dl = like[i], dg = g[i + g.size() - like.size()];
      if (dl == dg || dl == 1 || dl == kSymbolic || dg == kSymbolic) continue;
      fail("cannot sum " + shape_str(g) + " down to " + shape_str(like) + ": axis " +
           std::to_string(i + g.size() - like.size()) + " has size " + std::to_string(dg) + " but the target has " +
           std::to_string(dl));
    }
    return {in[0].dtype, like};
  }
  std::uint64_t work(std::span<const TensorType> in, const TensorType& out, const Attrs&) const override {
    return work_without_like(in, out);
  }
  void compute(std::span<const Tensor* const> in, const Attrs&, Tensor& out) const override {
    reduce_sum_to(*in[0], out);
  }
  Partials vjp(const Expr& y, const Expr& g) const override {
    const Expr target = y.input(0);
    // like's shape broadcasts into g's, so the mask does too, unmoved.
    return {keep_mask(y, g, [&](const Expr& gg) { return broadcast_to(gg, target); }, [](const Expr& m) { return m; }),
            std::nullopt};
  }
};

/// Axes attribute check shared by expand_dims and squeeze.
void check_axes(const Op& op, const std::vector<std::int64_t>& axes, std::int64_t rank) {
  for (std::size_t i = 0; i < axes.size(); ++i) {
    if (axes[i] < 0 || axes[i] >= rank)
      throw Error(op.name() + ": axis " + std::to_string(axes[i]) + " is out of range for rank " + std::to_string(rank));
    if (i && axes[i] <= axes[i - 1]) throw Error(op.name() + ": axes " + shape_str(axes) + " must be sorted and distinct");
  }
}

/// y = x with size-1 axes inserted at `axes` (positions in y).  dx = squeeze(g).
struct ExpandDims final : Op {
  ExpandDims() : Op("expand_dims", 1, 1) {}
  std::vector<AttrSpec> attr_specs() const override { return {{"axes", AttrKind::integers}}; }
  TensorType infer(std::span<const TensorType> in, const Attrs& attrs) const override {
    const auto& axes = attrs.get<std::vector<std::int64_t>>("axes");
    const auto rank = static_cast<std::int64_t>(in[0].shape.size() + axes.size());
    check_axes(*this, axes, rank);
    Shape out;
    std::size_t src = 0;
    for (std::int64_t d = 0; d < rank; ++d)
      out.push_back(std::binary_search(axes.begin(), axes.end(), d) ? 1 : in[0].shape[src++]);
    return {in[0].dtype, out};
  }
  void compute(std::span<const Tensor* const> in, const Attrs&, Tensor& out) const override { copy_data(*in[0], out); }
  Partials vjp(const Expr& y, const Expr& g) const override {
    if (!is_float(y.dtype())) return {std::nullopt};
    const auto squeezed = [&](const Expr& e) { return squeeze(e, y.attrs().get<std::vector<std::int64_t>>("axes")); };
    return {keep_mask(y, g, squeezed, squeezed)};
  }
};

/// y = x without the size-1 axes `axes`.  dx = expand_dims(g).
struct Squeeze final : Op {
  Squeeze() : Op("squeeze", 1, 1) {}
  std::vector<AttrSpec> attr_specs() const override { return {{"axes", AttrKind::integers}}; }
  TensorType infer(std::span<const TensorType> in, const Attrs& attrs) const override {
    const auto& axes = attrs.get<std::vector<std::int64_t>>("axes");
    check_axes(*this, axes, static_cast<std::int64_t>(in[0].shape.size()));
    Shape out;
    for (std::size_t d = 0; d < in[0].shape.size(); ++d) {
      if (!std::binary_search(axes.begin(), axes.end(), static_cast<std::int64_t>(d))) {
        out.push_back(in[0].shape[d]);
      } else if (in[0].shape[d] != 1 && in[0].shape[d] != kSymbolic) {
        fail("axis " + std::to_string(d) + " of " + type_str(in[0]) + " has size " + std::to_string(in[0].shape[d]) +
             ", only size-1 axes can be squeezed");
      }
    }
    return {in[0].dtype, out};
  }
  void compute(std::span<const Tensor* const> in, const Attrs&, Tensor& out) const override { copy_data(*in[0], out); }
  Partials vjp(const Expr& y, const Expr& g) const override {
    if (!is_float(y.dtype())) return {std::nullopt};
    const auto expanded = [&](const Expr& e) { return expand_dims(e, y.attrs().get<std::vector<std::int64_t>>("axes")); };
    return {keep_mask(y, g, expanded, expanded)};
  }
};

/// x's shape for the gradient of a reshape of x to `to`. A single symbolic
/// dimension of x is determined by the element count (the kernel checks the
/// count when the graph runs); more than one cannot be.
Shape operand_shape(const Shape& x, const Shape& to) {
  Shape out = x;
  std::int64_t known = 1;
  std::size_t symbolic = 0, at = 0;
  for (std::size_t d = 0; d < x.size(); ++d) {
    if (x[d] == kSymbolic) {
      ++symbolic;
      at = d;
    } else {
      known = static_cast<std::int64_t>(std::min<std::uint64_t>(
          saturated_mul(static_cast<std::uint64_t>(known), static_cast<std::uint64_t>(x[d])),
          static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())));
    }
  }
  if (symbolic == 0) return out;
  const std::int64_t n = num_elements(to);
  if (symbolic > 1 || known == 0 || n % known != 0)
    throw Error("reshape: the gradient needs the operand's shape, and " + shape_str(x) +
                " is not determined by reshaping it to " + shape_str(to) + " (declare the operand's shape)");
  out[at] = n / known;
  return out;
}

/// y = x with a new concrete shape, same elements in row-major order.
/// dx = reshape(g, shape of x); a single symbolic dimension of x is
/// determined by the element count.
struct Reshape final : Op {
  Reshape() : Op("reshape", 1, 1) {}
  std::vector<AttrSpec> attr_specs() const override { return {{"shape", AttrKind::integers}}; }
  TensorType infer(std::span<const TensorType> in, const Attrs& attrs) const override {
    const auto& shape = attrs.get<std::vector<std::int64_t>>("shape");
    for (auto d : shape)
      if (d < 0) fail("target shape " + shape_str(shape) + " must have known, non-negative sizes");
    // Counted without overflow: [4, 2^62 + 1] is not 4 elements.
    const std::uint64_t from = saturated_elements(in[0].shape), to = saturated_elements(shape);
    const auto count = [](std::uint64_t n) { return n == UINT64_MAX ? "at least 2^64 - 1 elements" : count_str(n, "element"); };
    if (is_concrete(in[0].shape) && from != to)
      fail("cannot reshape " + type_str(in[0]) + " (" + count(from) + ") to " + shape_str(shape) + " (" + count(to) + ")");
    if (to > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      fail("target shape " + shape_str(shape) + " has more elements than a tensor can hold (2^63 - 1)");
    return {in[0].dtype, shape};
  }
  void compute(std::span<const Tensor* const> in, const Attrs&, Tensor& out) const override { copy_data(*in[0], out); }
  Partials vjp(const Expr& y, const Expr& g) const override {
    const Expr x = y.input(0);
    if (!is_float(y.dtype())) return {std::nullopt};
    const Shape shape = operand_shape(x.shape(), y.shape());
    const auto reshaped = [&](const Expr& e) { return reshape(e, shape); };
    return {keep_mask(y, g, reshaped, reshaped)};
  }
};

/// y = x converted to dtype (bool -> 0 or 1; float -> bool is x != 0).
/// dx = cast(g, dtype of x) between float types; none from or to bool.
struct Cast final : Op {
  Cast() : Op("cast", 1, 1) {}
  std::vector<AttrSpec> attr_specs() const override { return {{"dtype", AttrKind::dtype}}; }
  TensorType infer(std::span<const TensorType> in, const Attrs& attrs) const override {
    return {attrs.get<DType>("dtype"), in[0].shape};
  }
  void compute(std::span<const Tensor* const> in, const Attrs&, Tensor& out) const override {
    dispatch_any(in[0]->dtype(), [&]<class From>() {
      dispatch_any(out.dtype(), [&]<class To>() {
        elementwise_kernel<To, From>(out, {in[0]}, [](auto& o, const auto& x) {
          if constexpr (std::is_same_v<To, bool>) {
            o = x != From(0);
          } else {
            o = x.template cast<To>();
          }
        });
      });
    });
  }
  Partials vjp(const Expr& y, const Expr& g) const override {
    const Expr x = y.input(0);
    if (!is_float(x.dtype()) || !is_float(y.dtype())) return {std::nullopt};
    return {keep_mask(y, g, [&](const Expr& gg) { return cast(gg, x.dtype()); }, [](const Expr& m) { return m; })};
  }
};

}  // namespace

namespace detail {
void register_shape_ops(OpRegistry& r) {
  r.add(std::make_unique<BroadcastTo>());
  r.add(std::make_unique<SumTo>());
  r.add(std::make_unique<ExpandDims>());
  r.add(std::make_unique<Squeeze>());
  r.add(std::make_unique<Reshape>());
  r.add(std::make_unique<Cast>());
}
}  // namespace detail

}  // namespace symgraph
