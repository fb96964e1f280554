#pragma once
/// Element types, shapes with known or symbolic dimensions, and NumPy
/// broadcasting.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "symgraph/core/error.hpp"

namespace symgraph {

enum class DType : std::uint8_t { float32, float64, boolean };

/// "float32", "float64" or "bool": the spelling used in messages and JSON.
std::string_view dtype_name(DType t);
/// Inverse of dtype_name; throws Error naming the accepted spellings.
DType parse_dtype(std::string_view name);
bool is_float(DType t);
/// Bytes per element.
std::size_t dtype_size(DType t);

template <class T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::float32; }
template <> constexpr DType dtype_of<double>() { return DType::float64; }
template <> constexpr DType dtype_of<bool>() { return DType::boolean; }

/// A dimension whose size is only known when the graph runs.
inline constexpr std::int64_t kSymbolic = -1;

/// Dimensions of a tensor, outermost first. Rank is always known; a dimension
/// is a size >= 0 or kSymbolic.
using Shape = std::vector<std::int64_t>;

/// "[3, ?, 4]".
std::string shape_str(const Shape& s);
bool is_concrete(const Shape& s);
/// Number of elements of a concrete shape; throws Error when it exceeds
/// 2^63 - 1 (saturated_elements compares huge shapes without throwing).
std::int64_t num_elements(const Shape& s);
/// Number of elements of a concrete shape, or UINT64_MAX when that does not
/// fit in 64 bits (a shape such as [2^40, 2^40] is valid until something
/// allocates it): for comparing with caps without overflow. A symbolic
/// dimension counts as unbounded unless another dimension is 0.
std::uint64_t saturated_elements(const Shape& s);
/// a + b, or UINT64_MAX when the sum does not fit.
std::uint64_t saturated_add(std::uint64_t a, std::uint64_t b);
/// a * b, or UINT64_MAX when the product does not fit.
std::uint64_t saturated_mul(std::uint64_t a, std::uint64_t b);

/// NumPy broadcasting of two shapes. A symbolic dimension against 1 stays
/// symbolic; against n > 1 it becomes n (checked again when the graph runs).
/// Throws Error naming `op`, both shapes and the failing axis.
Shape broadcast_shapes(std::string_view op, const Shape& a, const Shape& b);
/// `small` broadcasts into `big` without changing it, whatever the run-time
/// sizes: each of its dimensions is 1 or a known size equal to big's.
bool fits_unchanged(const Shape& small, const Shape& big);

/// dtype and shape of a tensor expression.
struct TensorType {
  DType dtype = DType::float64;
  Shape shape;
  bool operator==(const TensorType&) const = default;
};

/// "float64[3, ?]".
std::string type_str(const TensorType& t);

/// A count and its noun for messages: "1 level", "3 levels". The plural is
/// the singular with an "s" unless given ("1 pass", "2 passes").
std::string count_str(std::uint64_t n, std::string_view singular, std::string_view plural = {});

}  // namespace symgraph
