#pragma once
/// Builder functions, one per op, named like the op's JSON name (`switch` is
/// a C++ keyword, so its builder is `where`), and the C++ operators on Expr.
///
/// Binary ops need operands of one dtype; a C++ number next to an Expr
/// becomes a 0-d constant of the Expr's dtype, so `0.5 * x` on a float32 x
/// stays float32. Operators build exactly what they say (`0.5 * x` is
/// mul(0.5, x)); the optimizer canonicalises (mul by a constant -> scale).
#include <vector>

#include "symgraph/core/graph.hpp"

namespace symgraph {

// Elementwise, one operand.
Expr neg(const Expr& x);   ///< -x
Expr abs(const Expr& x);   ///< |x|
Expr sign(const Expr& x);  ///< -1, 0 or 1; NaN stays NaN; sign(±0) = +0
Expr exp(const Expr& x);
Expr log(const Expr& x);
Expr sqrt(const Expr& x);
Expr tanh(const Expr& x);
/// factor * x, with factor rounded to x's dtype.
Expr scale(const Expr& x, double factor);

// Elementwise, two operands, NumPy broadcasting.
Expr add(const Expr& a, const Expr& b);
Expr sub(const Expr& a, const Expr& b);
Expr mul(const Expr& a, const Expr& b);
Expr div(const Expr& a, const Expr& b);
/// NaN if either operand is NaN (NumPy's maximum, not fmax).
Expr maximum(const Expr& a, const Expr& b);
Expr minimum(const Expr& a, const Expr& b);

// Comparisons: bool results, false whenever an operand is NaN.
Expr gt(const Expr& a, const Expr& b);
Expr ge(const Expr& a, const Expr& b);
Expr lt(const Expr& a, const Expr& b);
Expr le(const Expr& a, const Expr& b);
Expr eq(const Expr& a, const Expr& b);

/// cond ? a : b elementwise (JSON op "switch"); cond is bool, all three
/// broadcast together.
Expr where(const Expr& cond, const Expr& a, const Expr& b);

// Reductions. `axes` may be negative (counted from the end); none given
// means all axes.
Expr sum(const Expr& x, std::vector<std::int64_t> axes, bool keepdims = false);
Expr sum(const Expr& x);
/// Maximum over axes (NaN propagates); an empty reduced axis is an error
/// when the graph runs.
Expr max(const Expr& x, std::vector<std::int64_t> axes, bool keepdims = false);
Expr max(const Expr& x);

// Linear algebra.
/// 2-d matrix product [m, k] x [k, n] -> [m, n].
Expr matmul(const Expr& a, const Expr& b);
/// 2-d transpose.
Expr transpose(const Expr& x);

// Shapes and types.
/// x broadcast against `like` (result shape: the broadcast of both shapes,
/// dtype of x). Only `like`'s shape is used, also when known only at run time.
Expr broadcast_to(const Expr& x, const Expr& like);
/// g summed down to the shape of `like` (undoes broadcasting; used by
/// gradients). g's shape must be a broadcast of like's.
Expr sum_to(const Expr& g, const Expr& like);
/// Inserts size-1 axes at `axes` (positions in the result).
Expr expand_dims(const Expr& x, std::vector<std::int64_t> axes);
/// Removes the size-1 axes `axes`.
Expr squeeze(const Expr& x, std::vector<std::int64_t> axes);
/// Same elements, new concrete shape.
Expr reshape(const Expr& x, Shape shape);
/// Converts to another dtype (bool -> 0/1).
Expr cast(const Expr& x, DType dtype);

/// A 0-d constant of x's dtype in x's graph.
Expr constant_like(const Expr& x, double value);
/// Zeros with x's dtype and (run-time) shape.
Expr zeros_like(const Expr& x);
/// Ones with x's dtype and (run-time) shape.
Expr ones_like(const Expr& x);

// Operators.
Expr operator-(const Expr& x);
Expr operator+(const Expr& a, const Expr& b);
Expr operator-(const Expr& a, const Expr& b);
Expr operator*(const Expr& a, const Expr& b);
Expr operator/(const Expr& a, const Expr& b);
Expr operator>(const Expr& a, const Expr& b);
Expr operator>=(const Expr& a, const Expr& b);
Expr operator<(const Expr& a, const Expr& b);
Expr operator<=(const Expr& a, const Expr& b);
Expr operator+(const Expr& a, double b);
Expr operator+(double a, const Expr& b);
Expr operator-(const Expr& a, double b);
Expr operator-(double a, const Expr& b);
Expr operator*(const Expr& a, double b);
Expr operator*(double a, const Expr& b);
Expr operator/(const Expr& a, double b);
Expr operator/(double a, const Expr& b);
Expr operator>(const Expr& a, double b);
Expr operator>=(const Expr& a, double b);
Expr operator<(const Expr& a, double b);
Expr operator<=(const Expr& a, double b);
Expr operator>(double a, const Expr& b);
Expr operator>=(double a, const Expr& b);
Expr operator<(double a, const Expr& b);
Expr operator<=(double a, const Expr& b);

}  // namespace symgraph
