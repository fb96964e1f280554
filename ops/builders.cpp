// Builder functions and operators (see ops.hpp).
#include <algorithm>

#include "symgraph/core/registry.hpp"
#include "symgraph/ops/ops.hpp"

namespace symgraph {
namespace {

// Looks the op up once per builder.
#define SYMGRAPH_OP(name)                          \
  static const Op& op = op_named(name);            \
  (void)op

/// Negative axes count from the end; result sorted, each axis once.
std::vector<std::int64_t> normalize_axes(const char* op, std::vector<std::int64_t> axes, std::size_t rank) {
  const auto r = static_cast<std::int64_t>(rank);
  for (auto& a : axes) {
    if (a < -r || a >= r)
      throw Error(std::string(op) + ": axis " + std::to_string(a) + " is out of range for rank " + std::to_string(rank));
    if (a < 0) a += r;
  }
  std::sort(axes.begin(), axes.end());
  if (std::adjacent_find(axes.begin(), axes.end()) != axes.end())
    throw Error(std::string(op) + ": axes " + shape_str(axes) + " name an axis twice");
  return axes;
}

std::vector<std::int64_t> all_axes(std::size_t rank) {
  std::vector<std::int64_t> axes(rank);
  for (std::size_t i = 0; i < rank; ++i) axes[i] = static_cast<std::int64_t>(i);
  return axes;
}

double round_to(DType t, double v) { return t == DType::float32 ? static_cast<double>(static_cast<float>(v)) : v; }

}  // namespace

#define UNARY(fn, name)                   \
  Expr fn(const Expr& x) {                \
    SYMGRAPH_OP(name);                    \
    return apply(op, {x});                \
  }
UNARY(neg, "neg")
UNARY(abs, "abs")
UNARY(sign, "sign")
UNARY(exp, "exp")
UNARY(log, "log")
UNARY(sqrt, "sqrt")
UNARY(tanh, "tanh")
UNARY(transpose, "transpose")
#undef UNARY

#define BINARY(fn, name)                          \
  Expr fn(const Expr& a, const Expr& b) {         \
    SYMGRAPH_OP(name);                            \
    return apply(op, {a, b});                     \
  }
BINARY(add, "add")
BINARY(sub, "sub")
BINARY(mul, "mul")
BINARY(div, "div")
BINARY(maximum, "maximum")
BINARY(minimum, "minimum")
BINARY(gt, "gt")
BINARY(ge, "ge")
BINARY(lt, "lt")
BINARY(le, "le")
BINARY(eq, "eq")
BINARY(matmul, "matmul")
BINARY(broadcast_to, "broadcast_to")
BINARY(sum_to, "sum_to")
#undef BINARY

Expr scale(const Expr& x, double factor) {
  SYMGRAPH_OP("scale");
  if (!x.valid()) throw Error("scale: empty expression");
  return apply(op, {x}, {{"factor", round_to(x.dtype(), factor)}});
}

Expr where(const Expr& cond, const Expr& a, const Expr& b) {
  SYMGRAPH_OP("switch");
  return apply(op, {cond, a, b});
}

Expr sum(const Expr& x, std::vector<std::int64_t> axes, bool keepdims) {
  SYMGRAPH_OP("sum");
  return apply(op, {x}, {{"axes", normalize_axes("sum", std::move(axes), x.rank())}, {"keepdims", std::int64_t{keepdims}}});
}
Expr sum(const Expr& x) { return sum(x, all_axes(x.rank())); }

Expr max(const Expr& x, std::vector<std::int64_t> axes, bool keepdims) {
  SYMGRAPH_OP("max");
  return apply(op, {x}, {{"axes", normalize_axes("max", std::move(axes), x.rank())}, {"keepdims", std::int64_t{keepdims}}});
}
Expr max(const Expr& x) { return max(x, all_axes(x.rank())); }

Expr expand_dims(const Expr& x, std::vector<std::int64_t> axes) {
  SYMGRAPH_OP("expand_dims");
  const std::size_t rank = x.rank() + axes.size();
  return apply(op, {x}, {{"axes", normalize_axes("expand_dims", std::move(axes), rank)}});
}

Expr squeeze(const Expr& x, std::vector<std::int64_t> axes) {
  SYMGRAPH_OP("squeeze");
  return apply(op, {x}, {{"axes", normalize_axes("squeeze", std::move(axes), x.rank())}});
}

Expr reshape(const Expr& x, Shape shape) {
  SYMGRAPH_OP("reshape");
  return apply(op, {x}, {{"shape", std::move(shape)}});
}

Expr cast(const Expr& x, DType dtype) {
  SYMGRAPH_OP("cast");
  return apply(op, {x}, {{"dtype", dtype}});
}

Expr constant_like(const Expr& x, double value) {
  if (!x.valid()) throw Error("constant: empty expression");
  return graph_of(x).constant(value, x.dtype());
}

Expr zeros_like(const Expr& x) { return broadcast_to(constant_like(x, 0.0), x); }
Expr ones_like(const Expr& x) { return broadcast_to(constant_like(x, 1.0), x); }

Expr operator-(const Expr& x) { return neg(x); }
Expr operator+(const Expr& a, const Expr& b) { return add(a, b); }
Expr operator-(const Expr& a, const Expr& b) { return sub(a, b); }
Expr operator*(const Expr& a, const Expr& b) { return mul(a, b); }
Expr operator/(const Expr& a, const Expr& b) { return div(a, b); }
Expr operator>(const Expr& a, const Expr& b) { return gt(a, b); }
Expr operator>=(const Expr& a, const Expr& b) { return ge(a, b); }
Expr operator<(const Expr& a, const Expr& b) { return lt(a, b); }
Expr operator<=(const Expr& a, const Expr& b) { return le(a, b); }

#define WITH_SCALAR(sym, fn)                                                                 \
  Expr operator sym(const Expr& a, double b) { return fn(a, constant_like(a, b)); }          \
  Expr operator sym(double a, const Expr& b) { return fn(constant_like(b, a), b); }
WITH_SCALAR(+, add)
WITH_SCALAR(-, sub)
WITH_SCALAR(*, mul)
WITH_SCALAR(/, div)
WITH_SCALAR(>, gt)
WITH_SCALAR(>=, ge)
WITH_SCALAR(<, lt)
WITH_SCALAR(<=, le)
#undef WITH_SCALAR

}  // namespace symgraph
