#include "symgraph/core/types.hpp"

#include <algorithm>
#include <limits>

namespace symgraph {

std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::float32: return "float32";
    case DType::float64: return "float64";
    case DType::boolean: return "bool";
  }
  return "invalid";
}

DType parse_dtype(std::string_view name) {
  if (name == "float32") return DType::float32;
  if (name == "float64") return DType::float64;
  if (name == "bool") return DType::boolean;
  throw Error("unknown dtype '" + std::string(name) + "' (expected float32, float64 or bool)");
}

bool is_float(DType t) { return t == DType::float32 || t == DType::float64; }

std::size_t dtype_size(DType t) {
  switch (t) {
    case DType::float32: return 4;
    case DType::float64: return 8;
    case DType::boolean: return 1;
  }
  return 1;
}

std::string count_str(std::uint64_t n, std::string_view singular, std::string_view plural) {
  std::string s = std::to_string(n) + " ";
  if (n == 1) {
    s += singular;
  } else if (plural.empty()) {
    s += singular;
    s += 's';
  } else {
    s += plural;
  }
  return s;
}

std::string shape_str(const Shape& s) {
  std::string out = "[";
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i) out += ", ";
    out += s[i] == kSymbolic ? std::string("?") : std::to_string(s[i]);
  }
  return out + "]";
}

bool is_concrete(const Shape& s) {
  return std::none_of(s.begin(), s.end(), [](std::int64_t d) { return d == kSymbolic; });
}

std::int64_t num_elements(const Shape& s) {
  const std::uint64_t n = saturated_elements(s);
  if (n > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    throw Error("shape " + shape_str(s) + " has more elements than a tensor can hold (2^63 - 1)");
  return static_cast<std::int64_t>(n);
}

std::uint64_t saturated_elements(const Shape& s) {
  if (std::find(s.begin(), s.end(), 0) != s.end()) return 0;
  std::uint64_t n = 1;
  for (auto d : s) n = d < 0 ? UINT64_MAX : saturated_mul(n, static_cast<std::uint64_t>(d));
  return n;
}

std::uint64_t saturated_add(std::uint64_t a, std::uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

std::uint64_t saturated_mul(std::uint64_t a, std::uint64_t b) {
  return b != 0 && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

bool fits_unchanged(const Shape& small, const Shape& big) {
  if (small.size() > big.size()) return false;
  for (std::size_t i = 0; i < small.size(); ++i) {
    const std::int64_t ds = small[i], db = big[i + big.size() - small.size()];
    if (ds != 1 && (ds != db || ds == kSymbolic)) return false;
  }
  return true;
}

Shape broadcast_shapes(std::string_view op, const Shape& a, const Shape& b) {
  const std::size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (std::size_t i = 0; i < rank; ++i) {
    // Align from the right, as NumPy does; missing leading dims are 1.
    const std::int64_t da = i + a.size() >= rank ? a[i + a.size() - rank] : 1;
    const std::int64_t db = i + b.size() >= rank ? b[i + b.size() - rank] : 1;
    if (da == db) {
      out[i] = da;
    } else if (da == 1) {
      out[i] = db;
    } else if (db == 1) {
      out[i] = da;
    } else if (da == kSymbolic) {
      out[i] = db;
    } else if (db == kSymbolic) {
      out[i] = da;
    } else {
      throw Error(std::string(op) + ": cannot broadcast shapes " + shape_str(a) + " and " +
                  shape_str(b) + ": axis " + std::to_string(i) + " of the result has sizes " +
                  std::to_string(da) + " and " + std::to_string(db) +
                  " (sizes must be equal or one of them 1)");
    }
  }
  return out;
}

std::string type_str(const TensorType& t) {
  return std::string(dtype_name(t.dtype)) + shape_str(t.shape);
}

}  // namespace symgraph
