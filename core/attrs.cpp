#include "symgraph/core/attrs.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <functional>
#include <limits>

namespace symgraph {
namespace {

std::size_t mix(std::size_t h, std::size_t v) {
  return h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
}

std::size_t hash_bytes(const void* p, std::size_t n) {
  return std::hash<std::string_view>{}(std::string_view(static_cast<const char*>(p), n));
}

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// A NaN other than the quiet NaN of its type.
template <class T> bool other_nan(T v) {
  using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
  return std::isnan(v) && std::bit_cast<Bits>(v) != std::bit_cast<Bits>(std::numeric_limits<T>::quiet_NaN());
}

/// Every NaN of `t` becomes the quiet NaN; `t` is copied first if it has
/// another one (tensors share storage: the caller's tensor never changes).
template <class T> void canonicalize_nans(Tensor& t) {
  const T* p = t.data<T>();
  if (std::none_of(p, p + t.size(), other_nan<T>)) return;
  t = t.clone();
  for (T& v : t.array<T>())
    if (std::isnan(v)) v = std::numeric_limits<T>::quiet_NaN();
}

std::size_t value_hash(const AttrValue& v) {
  std::size_t h = v.index();
  std::visit(
      [&](const auto& x) {
        using V = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<V, std::int64_t>) {
          h = mix(h, static_cast<std::size_t>(x));
        } else if constexpr (std::is_same_v<V, double>) {
          h = mix(h, std::bit_cast<std::uint64_t>(std::isnan(x) ? kNaN : x));
        } else if constexpr (std::is_same_v<V, std::vector<std::int64_t>>) {
          for (auto i : x) h = mix(h, static_cast<std::size_t>(i));
        } else if constexpr (std::is_same_v<V, std::string>) {
          h = mix(h, std::hash<std::string>{}(x));
        } else if constexpr (std::is_same_v<V, Tensor>) {
          h = mix(h, static_cast<std::size_t>(x.dtype()));
          for (auto d : x.shape()) h = mix(h, static_cast<std::size_t>(d));
          h = mix(h, hash_bytes(x.raw(), x.nbytes()));
        } else {
          h = mix(h, static_cast<std::size_t>(x));
        }
      },
      v);
  return h;
}

}  // namespace

std::string_view attr_kind_name(AttrKind k) {
  switch (k) {
    case AttrKind::integer: return "integer";
    case AttrKind::real: return "number";
    case AttrKind::integers: return "list of integers";
    case AttrKind::string: return "string";
    case AttrKind::tensor: return "tensor";
    case AttrKind::dtype: return "dtype";
  }
  return "?";
}

AttrKind attr_kind(const AttrValue& v) { return static_cast<AttrKind>(v.index()); }

bool attr_equal(const AttrValue& a, const AttrValue& b) {
  if (a.index() != b.index()) return false;
  if (auto* x = std::get_if<double>(&a)) {
    const double y = std::get<double>(b);
    return std::bit_cast<std::uint64_t>(*x) == std::bit_cast<std::uint64_t>(y) || (std::isnan(*x) && std::isnan(y));
  }
  if (auto* t = std::get_if<Tensor>(&a)) return t->bitwise_equal(std::get<Tensor>(b));
  if (auto* i = std::get_if<std::int64_t>(&a)) return *i == std::get<std::int64_t>(b);
  if (auto* v = std::get_if<std::vector<std::int64_t>>(&a)) return *v == std::get<std::vector<std::int64_t>>(b);
  if (auto* str = std::get_if<std::string>(&a)) return *str == std::get<std::string>(b);
  return std::get<DType>(a) == std::get<DType>(b);
}

std::string attr_str(const AttrValue& v) {
  return std::visit(
      [](const auto& x) -> std::string {
        using V = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<V, std::int64_t>) {
          return std::to_string(x);
        } else if constexpr (std::is_same_v<V, double>) {
          char buf[64];
          auto r = std::to_chars(buf, buf + sizeof buf, x);
          return std::string(buf, r.ptr);
        } else if constexpr (std::is_same_v<V, std::vector<std::int64_t>>) {
          // Plain integers: a shape's "?" for -1 would misprint an attribute.
          std::string s = "[";
          for (std::size_t i = 0; i < x.size(); ++i) s += (i ? ", " : "") + std::to_string(x[i]);
          return s + "]";
        } else if constexpr (std::is_same_v<V, std::string>) {
          return "\"" + x + "\"";
        } else if constexpr (std::is_same_v<V, Tensor>) {
          if (x.size() == 1 && x.rank() == 0) {
            if (x.dtype() == DType::boolean) return x.at(0) != 0 ? "true" : "false";
            // Shortest form in the tensor's own precision (0.1, not the
            // float64 expansion of float32's 0.1).
            char buf[64];
            auto r = x.dtype() == DType::float32 ? std::to_chars(buf, buf + sizeof buf, *x.template data<float>())
                                                 : std::to_chars(buf, buf + sizeof buf, *x.template data<double>());
            return std::string(buf, r.ptr);
          }
          return type_str(x.type());
        } else {
          return std::string(dtype_name(x));
        }
      },
      v);
}

Attrs::Attrs(std::initializer_list<Item> items) {
  for (const auto& it : items) set(it.first, it.second);
}

Attrs& Attrs::set(std::string key, AttrValue value) {
  // Every NaN is one value, as for constants: JSON writes all of them as
  // "nan", so two nodes that differ only in a NaN's bits would merge when
  // loaded back. +0.0 and -0.0 stay distinct.
  if (auto* d = std::get_if<double>(&value); d && std::isnan(*d)) *d = kNaN;
  if (auto* t = std::get_if<Tensor>(&value)) {
    if (t->dtype() == DType::float32) canonicalize_nans<float>(*t);
    if (t->dtype() == DType::float64) canonicalize_nans<double>(*t);
  }
  auto it = std::lower_bound(items_.begin(), items_.end(), key,
                             [](const Item& a, const std::string& k) { return a.first < k; });
  if (it != items_.end() && it->first == key) {
    it->second = std::move(value);
  } else {
    items_.insert(it, Item{std::move(key), std::move(value)});
  }
  return *this;
}

const AttrValue* Attrs::find(std::string_view key) const {
  for (const auto& it : items_)
    if (it.first == key) return &it.second;
  return nullptr;
}

bool Attrs::has(std::string_view key) const { return find(key) != nullptr; }

bool Attrs::operator==(const Attrs& o) const {
  if (items_.size() != o.items_.size()) return false;
  for (std::size_t i = 0; i < items_.size(); ++i)
    if (items_[i].first != o.items_[i].first || !attr_equal(items_[i].second, o.items_[i].second)) return false;
  return true;
}

std::size_t Attrs::hash() const {
  std::size_t h = items_.size();
  for (const auto& it : items_) h = mix(mix(h, std::hash<std::string>{}(it.first)), value_hash(it.second));
  return h;
}

void Attrs::throw_missing(std::string_view key) const {
  throw Error("missing attribute '" + std::string(key) + "'");
}

void Attrs::throw_kind(std::string_view key, AttrKind wanted) const {
  throw Error("attribute '" + std::string(key) + "' must be a " + std::string(attr_kind_name(wanted)) +
              ", got a " + std::string(attr_kind_name(attr_kind(*find(key)))));
}

}  // namespace symgraph
