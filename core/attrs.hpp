#pragma once
/// Op attributes: a small sorted map from name to value. Attributes are part
/// of a node's identity: they are compared and hashed bit for bit (so scale by
/// -0.0 and by +0.0 are different nodes) and written to JSON. As for
/// constants, every NaN is one value: a NaN (of a number or in a tensor) is
/// stored as the quiet NaN, so NaNs that differ in sign or payload make one
/// node, as they do after a JSON round trip (JSON writes each as "nan").
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "symgraph/core/tensor.hpp"

namespace symgraph {

using AttrValue = std::variant<std::int64_t, double, std::vector<std::int64_t>, std::string, Tensor, DType>;

/// The kind of an attribute value, in the order of AttrValue's alternatives.
enum class AttrKind { integer, real, integers, string, tensor, dtype };
std::string_view attr_kind_name(AttrKind k);

class Attrs {
 public:
  using Item = std::pair<std::string, AttrValue>;

  Attrs() = default;
  Attrs(std::initializer_list<Item> items);

  /// Sets (or replaces) an attribute; keys stay sorted so that printing,
  /// hashing and JSON are deterministic. NaNs are stored as the quiet NaN.
  Attrs& set(std::string key, AttrValue value);
  bool has(std::string_view key) const;
  const AttrValue* find(std::string_view key) const;
  /// The value of `key` as T; throws Error if missing or of another kind.
  template <class T> const T& get(std::string_view key) const {
    const AttrValue* v = find(key);
    if (!v) throw_missing(key);
    if (!std::holds_alternative<T>(*v)) throw_kind(key, static_cast<AttrKind>(AttrValue(T{}).index()));
    return std::get<T>(*v);
  }
  const std::vector<Item>& items() const { return items_; }
  bool empty() const { return items_.empty(); }

  /// Bitwise equality (doubles and tensors compare by bit pattern; every NaN
  /// is one value).
  bool operator==(const Attrs& other) const;
  std::size_t hash() const;

 private:
  [[noreturn]] void throw_missing(std::string_view key) const;
  [[noreturn]] void throw_kind(std::string_view key, AttrKind wanted) const;
  std::vector<Item> items_;
};

AttrKind attr_kind(const AttrValue& v);
/// Bitwise equality of two attribute values (two NaN numbers are equal).
bool attr_equal(const AttrValue& a, const AttrValue& b);
/// A short readable form: 0.5, [0, 1], "name", float32, or a tensor summary.
std::string attr_str(const AttrValue& v);

}  // namespace symgraph
