#include "symgraph/graph/json.hpp"

#include <charconv>
#include <cmath>
#include <exception>
#include <functional>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <variant>

#include "symgraph/core/registry.hpp"
#include "symgraph/graph/order.hpp"

namespace symgraph {
namespace {

// ---------------------------------------------------------------- writing

template <class T> void append_real(std::string& out, T v) {
  if (std::isnan(v)) {
    out += "\"nan\"";
  } else if (std::isinf(v)) {
    out += v > 0 ? "\"inf\"" : "\"-inf\"";
  } else {
    // Shortest decimal that reads back to the same T; a fraction or exponent
    // is added to integral values so that every reader sees a float and
    // -0.0 keeps its sign.
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    const std::string_view s(buf, static_cast<std::size_t>(r.ptr - buf));
    out += s;
    if (s.find_first_of(".e") == std::string_view::npos) out += ".0";
  }
}

/// Length of the UTF-8 sequence at s[i] (RFC 3629: no overlong forms, no
/// surrogates, nothing above U+10FFFF), or 0 if none starts there.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return 1;
  const std::size_t len = c > 0xf4 ? 0 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
  if (len == 0 || i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return 0;
  const auto c1 = static_cast<unsigned char>(s[i + 1]);
  if (c == 0xe0 && c1 < 0xa0) return 0;   // overlong
  if (c == 0xed && c1 >= 0xa0) return 0;  // surrogate
  if (c == 0xf0 && c1 < 0x90) return 0;   // overlong
  if (c == 0xf4 && c1 >= 0x90) return 0;  // above U+10FFFF
  return len;
}

void append_escape(std::string& out, unsigned char c, const char* prefix) {
  static const char* hex = "0123456789abcdef";
  out += prefix;
  out += hex[c >> 4];
  out += hex[c & 15];
}

/// Text from a document, as a message shows it: one printable line whatever
/// the text holds. Control characters are escaped as in JSON, bytes that are
/// not UTF-8 as \xNN; at most `max_bytes` of `s`, cut at a character, then
/// "...". With `quotes`, in quotes, with quotes and backslashes escaped.
std::string shown(std::string_view s, bool quotes = true, std::size_t max_bytes = 40) {
  std::string out;
  if (quotes) out += '"';
  for (std::size_t i = 0; i < s.size();) {
    if (i >= max_bytes) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t len = utf8_length(s, i);
    if (len == 0) {
      append_escape(out, c, "\\x");  // not UTF-8
      ++i;
      continue;
    }
    if (len > 1) {
      // C1 controls (U+0080..U+009F) are escaped like C0 ones.
      if (c == 0xc2 && static_cast<unsigned char>(s[i + 1]) < 0xa0) {
        append_escape(out, static_cast<unsigned char>(s[i + 1]), "\\u00");
      } else {
        out.append(s.substr(i, len));
      }
      i += len;
      continue;
    }
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case '"':
      case '\\':
        if (quotes) out += '\\';
        out += static_cast<char>(c);
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          append_escape(out, c, "\\u00");
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  if (quotes) out += '"';
  return out;
}

void append_string(std::string& out, std::string_view s) {
  static const char* hex = "0123456789abcdef";
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\r': out += "\\r"; break;
        default:
          if (c < 0x20) {
            out += "\\u00";
            out += hex[c >> 4];
            out += hex[c & 15];
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    // A multi-byte UTF-8 sequence, copied as is once checked.
    const std::size_t len = utf8_length(s, i);
    if (len == 0)
      throw Error("JSON: the string " + shown(s) + " is not valid UTF-8 (byte " + std::to_string(i) + ")");
    out.append(s.substr(i, len));
    i += len;
  }
  out += '"';
}

void append_int(std::string& out, std::int64_t v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void append_ints(std::string& out, const std::vector<std::int64_t>& v) {
  out += '[';
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) out += ", ";
    append_int(out, v[i]);
  }
  out += ']';
}

void append_shape(std::string& out, const Shape& s) {
  out += '[';
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i) out += ", ";
    if (s[i] == kSymbolic) {
      out += "null";
    } else {
      append_int(out, s[i]);
    }
  }
  out += ']';
}

void append_element(std::string& out, const Tensor& t, std::int64_t i) {
  switch (t.dtype()) {
    case DType::float32: append_real(out, t.data<float>()[i]); break;
    case DType::float64: append_real(out, t.data<double>()[i]); break;
    case DType::boolean: out += t.data<bool>()[i] ? "true" : "false"; break;
  }
}

/// Elements nested by axis: [[1.0, 2.0], [3.0, 4.0]]; a 0-d tensor is its
/// element; an empty tensor is nested empty lists up to its first 0 axis.
void append_nested(std::string& out, const Tensor& t) {
  const Shape& shape = t.shape();
  const std::size_t rank = shape.size();
  if (t.size() == 0) {
    // [2, 0, 3] -> [[], []]: the axes before the first empty one, expanded.
    std::size_t first_zero = 0;
    while (shape[first_zero] != 0) ++first_zero;
    std::string inner = "[]";
    for (std::size_t d = first_zero; d-- > 0;) {
      std::string next = "[";
      for (std::int64_t k = 0; k < shape[d]; ++k) next += (k ? ", " : "") + inner;
      inner = next + "]";
    }
    out += inner;
    return;
  }
  std::vector<std::int64_t> index(rank, 0);
  out.append(rank, '[');
  for (std::int64_t i = 0; i < t.size(); ++i) {
    append_element(out, t, i);
    // Advance the multi-index; each axis that wraps around closes a bracket
    // and, unless this was the last element, opens one again.
    std::size_t wrapped = 0;
    for (std::size_t d = rank; d-- > 0;) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
      ++wrapped;
    }
    out.append(wrapped, ']');
    if (i + 1 < t.size()) {
      out += ", ";
      out.append(wrapped, '[');
    }
  }
}

void append_value(std::string& out, const Tensor& t, bool nested) {
  out += "{\"dtype\": \"";
  out += dtype_name(t.dtype());
  out += "\", \"shape\": ";
  append_shape(out, t.shape());
  out += ", \"data\": ";
  if (nested) {
    append_nested(out, t);
  } else {
    out += '[';
    for (std::int64_t i = 0; i < t.size(); ++i) {
      if (i) out += ", ";
      append_element(out, t, i);
    }
    out += ']';
  }
  out += '}';
}

/// An attribute by its kind, so that any op's attributes (user ops
/// included) are written without JSON code of their own.
void append_attr(std::string& out, const AttrValue& v) {
  std::visit(
      [&](const auto& x) {
        using V = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<V, std::int64_t>) {
          append_int(out, x);
        } else if constexpr (std::is_same_v<V, double>) {
          append_real(out, x);
        } else if constexpr (std::is_same_v<V, std::vector<std::int64_t>>) {
          append_ints(out, x);
        } else if constexpr (std::is_same_v<V, std::string>) {
          append_string(out, x);
        } else if constexpr (std::is_same_v<V, Tensor>) {
          append_value(out, x, false);
        } else {
          out += '"';
          out += dtype_name(x);
          out += '"';
        }
      },
      v);
}

std::string write_document(const NodeOrder& order) {
  std::string out;
  out.reserve(128 + 96 * order.size());
  out += "{\n  \"format\": \"symgraph\",\n  \"version\": ";
  append_int(out, kJsonFormatVersion);
  out += ",\n  \"inputs\": [";
  for (std::size_t i = 0; i < order.inputs().size(); ++i) {
    if (i) out += ", ";
    append_int(out, order.number(order.inputs()[i]));
  }
  out += "],\n  \"outputs\": [";
  for (std::size_t i = 0; i < order.outputs().size(); ++i) {
    if (i) out += ", ";
    append_int(out, order.number(order.outputs()[i]));
  }
  out += "],\n  \"nodes\": [";
  for (std::size_t k = 0; k < order.size(); ++k) {
    const Node& n = order.store().node(order.nodes()[k]);
    out += k ? ",\n    " : "\n    ";
    out += "{\"id\": ";
    append_int(out, static_cast<std::int64_t>(k));
    out += ", \"op\": ";
    append_string(out, n.op->name());
    if (n.op->name() == "input") {
      out += ", \"name\": ";
      append_string(out, n.name);
    }
    out += ", \"inputs\": [";
    for (std::size_t i = 0; i < n.inputs.size(); ++i) {
      if (i) out += ", ";
      append_int(out, order.number(n.inputs[i]));
    }
    out += "], \"dtype\": \"";
    out += dtype_name(n.type.dtype);
    out += "\", \"shape\": ";
    append_shape(out, n.type.shape);
    if (!n.attrs.empty()) {
      out += ", \"attrs\": {";
      bool first = true;
      for (const auto& [key, value] : n.attrs.items()) {
        if (!first) out += ", ";
        first = false;
        append_string(out, key);
        out += ": ";
        append_attr(out, value);
      }
      out += '}';
    }
    out += '}';
  }
  out += order.size() ? "\n  ]\n}\n" : "]\n}\n";
  return out;
}

// ---------------------------------------------------------------- reading

/// A JSON number as read: the integer when it was written as one, and the
/// correctly rounded float64 and float32 values of its text.
struct JNumber {
  std::int64_t i = 0;
  double d = 0;
  float f = 0;
  bool integer = false;     // an integer token that fits int64
  bool d_overflow = false;  // the text's magnitude is beyond the largest float64
  bool f_overflow = false;  // ... float32
  /// The text of an integer token beyond int64 (rare), so that messages
  /// quote it as written and say it is out of range; cut when long.
  std::unique_ptr<std::string> big;
};

struct JValue;
using JArray = std::vector<JValue>;
using JObject = std::vector<std::pair<std::string, JValue>>;

/// A small JSON value tree. Only bounded pieces of a document become trees
/// (one node, a header field, a value), and their depth is capped while
/// reading, so the recursion in its destructor is bounded too.
struct JValue {
  std::variant<std::nullptr_t, bool, JNumber, std::string, JArray, JObject> v;
};

/// An object key in a JSON path: as it is when it looks like a name,
/// otherwise quoted (nodes[0]."a b").
std::string path_key(std::string_view k) {
  bool plain = !k.empty() && !(k[0] >= '0' && k[0] <= '9');
  for (char c : k) plain &= (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  return plain ? std::string(k) : shown(k);
}

std::string describe(const JValue& v) {
  switch (v.v.index()) {
    case 0: return "null";
    case 1: return std::get<bool>(v.v) ? "true" : "false";
    case 2: {
      const JNumber& n = std::get<JNumber>(v.v);
      if (n.integer) return "the integer " + std::to_string(n.i);
      if (n.big) return "the integer " + *n.big;
      std::string s;
      append_real(s, n.d);
      return "the number " + s;
    }
    case 3: return "the string " + shown(std::get<std::string>(v.v));
    case 4: return "an array";
    default: return "an object";
  }
}

/// nlohmann SAX handler that builds JValues with the nesting depth and the
/// array lengths capped, and hands the elements of the top-level "nodes"
/// array to a callback one at a time instead of keeping them.
class TreeBuilder {
 public:
  using number_integer_t = nlohmann::json::number_integer_t;
  using number_unsigned_t = nlohmann::json::number_unsigned_t;
  using number_float_t = nlohmann::json::number_float_t;
  using string_t = nlohmann::json::string_t;
  using binary_t = nlohmann::json::binary_t;

  /// Called with each element of the top-level "nodes" array and its index.
  std::function<void(JValue&&, std::size_t)> on_node;
  /// Called with each member of the top-level object once it is complete.
  std::function<void(const std::string&, const JValue&)> on_member;

  explicit TreeBuilder(const LoadLimits& limits) : limits_(limits) {}

  bool null() { return scalar(JValue{nullptr}); }
  bool boolean(bool b) { return scalar(JValue{b}); }
  // nlohmann reads a number with a minus sign as number_integer, one
  // without as number_unsigned: number_integer(0) is "-0", which as a float
  // is -0.0 (an integer attribute reads it as 0).
  bool number_integer(number_integer_t i) { return integer(i, i == 0); }
  bool number_unsigned(number_unsigned_t u) {
    if (u <= static_cast<number_unsigned_t>(std::numeric_limits<std::int64_t>::max()))
      return integer(static_cast<std::int64_t>(u), false);
    JNumber n;  // an integer beyond int64: only usable as a float
    n.d = static_cast<double>(u);
    n.f = static_cast<float>(u);
    n.big = std::make_unique<std::string>(std::to_string(u));
    return scalar(JValue{std::move(n)});
  }
  bool number_float(number_float_t val, const string_t& text) {
    JNumber n;
    // An integer token beyond the 64-bit integers arrives here too.
    const std::size_t sign = !text.empty() && text[0] == '-' ? 1 : 0;
    if (text.size() > sign && text.find_first_not_of("0123456789", sign) == std::string::npos) {
      constexpr std::size_t kShown = 40;
      std::string shown_text = text;
      if (text.size() > kShown)
        shown_text = text.substr(0, kShown - 10) + "... (" + count_str(text.size() - sign, "digit") + ")";
      n.big = std::make_unique<std::string>(std::move(shown_text));
    }
    const char* first = text.data();
    const char* last = first + text.size();
    // From the text, so that float32 values are rounded once (reading a
    // float64 and narrowing it could round twice). A result out of range is
    // an overflow or an underflow to zero; the float64 `val` tells which.
    if (std::from_chars(first, last, n.d).ec != std::errc()) {
      if (std::isinf(val) || std::fabs(val) >= 1) {
        n.d_overflow = true;
      } else {
        n.d = std::copysign(0.0, val);
      }
    }
    if (std::from_chars(first, last, n.f).ec != std::errc()) {
      if (std::isinf(val) || std::fabs(val) >= 1) {
        n.f_overflow = true;
      } else {
        n.f = std::copysign(0.0f, static_cast<float>(val));
      }
    }
    return scalar(JValue{std::move(n)});
  }
  bool string(string_t& s) { return scalar(JValue{std::move(s)}); }
  bool binary(binary_t&) { return fail("binary values are not JSON"); }
  bool start_object(std::size_t) { return open(JValue{JObject{}}); }
  bool key(string_t& k) {
    Frame& f = stack_.back();
    auto& members = std::get<JObject>(f.value.v);
    // Duplicate keys are ambiguous (RFC 8259 leaves their meaning open).
    bool dup = false;
    if (f.keys) {
      dup = !f.keys->insert(k).second;
    } else {
      for (const auto& m : members) dup |= m.first == k;
      if (!dup && members.size() >= 16) {
        f.keys = std::make_unique<std::unordered_set<std::string>>();
        for (const auto& m : members) f.keys->insert(m.first);
        f.keys->insert(k);
      }
    }
    f.key = std::move(k);
    if (dup) return fail("the key " + shown(f.key) + " appears twice");
    return true;
  }
  bool end_object() { return close(); }
  bool start_array(std::size_t) { return open(JValue{JArray{}}); }
  bool end_array() { return close(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) {
    std::string what = e.what();
    // "[json.exception.parse_error.101] parse error at line 1, column 5: ..."
    if (auto p = what.find("] "); p != std::string::npos && what.rfind("[json.exception", 0) == 0)
      what = what.substr(p + 2);
    if (what.find("number overflow") != std::string::npos) what += " (write \"inf\" or \"-inf\" for an infinity)";
    error_ = "not valid JSON: " + shown(what, false, std::string::npos);
    return false;
  }

  const std::string& error() const { return error_; }
  /// The cap that stopped reading, if one did.
  const char* limit() const { return limit_; }
  std::size_t limit_value() const { return limit_value_; }
  std::optional<JValue>& root() { return root_; }

 private:
  struct Frame {
    JValue value;
    std::string key;  // the member being read, in an object
    bool streams_nodes = false;
    std::size_t count = 0;  // elements seen (also those handed to on_node)
    std::unique_ptr<std::unordered_set<std::string>> keys;  // for large objects
  };

  bool open(JValue v) {
    if (stack_.size() + 1 > limits_.max_depth)
      return fail_limit("nested deeper than " + count_str(limits_.max_depth, "level"), "LoadLimits::max_depth",
                        limits_.max_depth);
    if (!count_value()) return false;
    const bool nodes = on_node && stack_.size() == 1 && std::holds_alternative<JArray>(v.v) &&
                       std::holds_alternative<JObject>(stack_[0].value.v) && stack_[0].key == "nodes";
    stack_.push_back(Frame{std::move(v), {}, nodes, 0, nullptr});
    return true;
  }

  bool close() {
    JValue v = std::move(stack_.back().value);
    stack_.pop_back();
    return deliver(std::move(v));
  }

  bool scalar(JValue v) { return count_value() && deliver(std::move(v)); }

  /// Counts a value of the tree being built: one node, or the rest of the
  /// document (or the value), whose size the tree's memory follows.
  bool count_value() {
    const bool in_node = stack_.size() >= 2 && stack_[1].streams_nodes;
    std::size_t& n = in_node ? node_values_ : other_values_;
    if (++n <= limits_.max_node_values) return true;
    return fail_limit("more than " + count_str(limits_.max_node_values, "JSON value") + " in " +
                          (in_node ? "one node" : on_node ? "the document outside its nodes" : "the value"),
                      "LoadLimits::max_node_values", limits_.max_node_values);
  }

  bool integer(std::int64_t i, bool minus_zero) {
    JNumber n;
    n.integer = true;
    n.i = i;
    n.d = minus_zero ? -0.0 : static_cast<double>(i);
    n.f = minus_zero ? -0.0f : static_cast<float>(i);
    return scalar(JValue{std::move(n)});
  }

  bool deliver(JValue v) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return true;
    }
    Frame& f = stack_.back();
    if (auto* members = std::get_if<JObject>(&f.value.v)) {
      members->emplace_back(f.key, std::move(v));
      if (stack_.size() == 1 && on_member) on_member(members->back().first, members->back().second);
      return true;
    }
    auto& items = std::get<JArray>(f.value.v);
    if (f.streams_nodes) {
      if (f.count >= limits_.max_nodes)
        return fail_limit("more than " + count_str(limits_.max_nodes, "node"), "LoadLimits::max_nodes",
                          limits_.max_nodes);
      node_values_ = 0;
      on_node(std::move(v), f.count++);
      return true;
    }
    if (items.size() >= limits_.max_tensor_elements)
      return fail_limit("an array with more than " + count_str(limits_.max_tensor_elements, "element"),
                        "LoadLimits::max_tensor_elements", limits_.max_tensor_elements);
    items.push_back(std::move(v));
    ++f.count;
    return true;
  }

  bool fail(const std::string& message) {
    error_ = path() + ": " + message;
    return false;
  }

  bool fail_limit(const std::string& message, const char* limit, std::size_t value) {
    limit_ = limit;
    limit_value_ = value;
    return fail(message);
  }

  /// JSON path of the value being read: nodes[3].attrs.value.data[7].
  std::string path() const {
    std::string p;
    for (const Frame& f : stack_) {
      if (std::holds_alternative<JObject>(f.value.v)) {
        if (!p.empty()) p += '.';
        p += f.key.empty() ? std::string("(object)") : path_key(f.key);
      } else {
        p += "[" + std::to_string(f.count) + "]";
      }
    }
    return p.empty() ? "the document" : p;
  }

  const LoadLimits& limits_;
  std::vector<Frame> stack_;
  std::optional<JValue> root_;
  std::string error_;
  const char* limit_ = nullptr;
  std::size_t limit_value_ = 0;
  std::size_t node_values_ = 0, other_values_ = 0;
};

/// Parses `text` with `builder`; throws Error with the builder's message
/// (LimitError when a cap stopped it).
void run_parser(std::string_view text, TreeBuilder& builder) {
  const bool ok = nlohmann::json::sax_parse(text.data(), text.data() + text.size(), &builder,
                                            nlohmann::json::input_format_t::json, true);
  if (ok) return;
  if (builder.limit()) throw LimitError(builder.error(), builder.limit(), builder.limit_value());
  throw Error(builder.error().empty() ? std::string("not valid JSON") : builder.error());
}

// Typed access with a JSON path in every message.

/// A JSON path such as nodes[3].inputs[1], put together only when an error
/// message needs it (building one per field would dominate reading time).
class At {
 public:
  static constexpr std::size_t kNoIndex = static_cast<std::size_t>(-1);
  At(const std::string& base) : base_(&base) {}        // NOLINT: implicit by design
  At(const char* base) : owned_(base), base_(&owned_) {}  // NOLINT
  At(const std::string& base, std::string_view field, std::size_t index = kNoIndex)
      : base_(&base), field_(field), index_(index) {}
  At(const std::string& base, std::string_view field, std::string_view key) : base_(&base), field_(field), key_(key) {}
  At(const At&) = delete;
  At& operator=(const At&) = delete;

  std::string str() const {
    std::string s = *base_;
    s += field_;
    if (!key_.empty()) {
      s += '.';
      s += path_key(key_);
    }
    if (index_ != kNoIndex) s += "[" + std::to_string(index_) + "]";
    return s;
  }

 private:
  std::string owned_;
  const std::string* base_;
  std::string_view field_, key_;
  std::size_t index_ = kNoIndex;
};

[[noreturn]] void fail_at(const At& at, const std::string& message) { throw Error(at.str() + ": " + message); }

const JObject& as_object(const JValue& v, const At& at) {
  if (auto* o = std::get_if<JObject>(&v.v)) return *o;
  fail_at(at, "expected an object, got " + describe(v));
}

const JArray& as_array(const JValue& v, const At& at) {
  if (auto* a = std::get_if<JArray>(&v.v)) return *a;
  fail_at(at, "expected an array, got " + describe(v));
}

const std::string& as_string(const JValue& v, const At& at) {
  if (auto* s = std::get_if<std::string>(&v.v)) return *s;
  fail_at(at, "expected a string, got " + describe(v));
}

constexpr const char* kInt64Range = "from -9223372036854775808 to 9223372036854775807";

std::int64_t as_integer(const JValue& v, const At& at) {
  if (auto* n = std::get_if<JNumber>(&v.v)) {
    if (n->integer) return n->i;
    if (n->big) fail_at(at, describe(v) + " is out of range (an integer here is " + kInt64Range + ")");
    if (!n->d_overflow && std::nearbyint(n->d) == n->d && std::fabs(n->d) < 9.2e18)
      fail_at(at, "expected an integer, got " + describe(v) + " (write integers without a fraction or exponent)");
  }
  fail_at(at, "expected an integer, got " + describe(v));
}

std::int64_t as_index(const JValue& v, const At& at) {
  if (auto* n = std::get_if<JNumber>(&v.v); n && n->big)
    fail_at(at, (*n->big)[0] == '-' ? "expected a non-negative integer, got " + describe(v)
                                    : describe(v) + " is out of range (at most 9223372036854775807)");
  const std::int64_t i = as_integer(v, at);
  if (i < 0) fail_at(at, "expected a non-negative integer, got " + std::to_string(i));
  return i;
}

DType as_dtype(const JValue& v, const At& at) {
  const std::string& s = as_string(v, at);
  if (s == "float32") return DType::float32;
  if (s == "float64") return DType::float64;
  if (s == "bool") return DType::boolean;
  fail_at(at, "unknown dtype " + shown(s) + " (expected \"float32\", \"float64\" or \"bool\")");
}

template <class T> T as_real(const JValue& v, const At& at) {
  constexpr bool f32 = std::is_same_v<T, float>;
  if (auto* n = std::get_if<JNumber>(&v.v)) {
    if (f32 ? n->f_overflow : n->d_overflow)
      fail_at(at, describe(v) + " is too large for " + std::string(f32 ? "float32" : "float64") +
                      " (write \"inf\" or \"-inf\" for an infinity)");
    if constexpr (f32) {
      return n->f;
    } else {
      return n->d;
    }
  }
  if (auto* s = std::get_if<std::string>(&v.v)) {
    if (*s == "nan") return std::numeric_limits<T>::quiet_NaN();
    if (*s == "inf") return std::numeric_limits<T>::infinity();
    if (*s == "-inf") return -std::numeric_limits<T>::infinity();
  }
  fail_at(at, "expected a number (or \"nan\", \"inf\", \"-inf\"), got " + describe(v));
}

bool as_bool(const JValue& v, const At& at) {
  if (auto* b = std::get_if<bool>(&v.v)) return *b;
  fail_at(at, "expected true or false, got " + describe(v));
}

void read_element(const JValue& v, Tensor& t, std::int64_t i, const At& at) {
  switch (t.dtype()) {
    case DType::float32: t.data<float>()[i] = as_real<float>(v, at); break;
    case DType::float64: t.data<double>()[i] = as_real<double>(v, at); break;
    case DType::boolean: t.data<bool>()[i] = as_bool(v, at); break;
  }
}

/// Element count of a concrete shape, or a LimitError past the limit.
std::int64_t checked_elements(const Shape& shape, const LoadLimits& limits, const At& at) {
  for (auto d : shape)
    if (d == 0) return 0;
  const auto max = static_cast<std::uint64_t>(limits.max_tensor_elements);
  std::uint64_t n = 1;
  for (auto d : shape) {
    const auto u = static_cast<std::uint64_t>(d);
    if (u > max || n > max / u)
      throw LimitError(at.str() + ": shape " + shape_str(shape) + " has more than " + count_str(max, "element"),
                       "LoadLimits::max_tensor_elements", limits.max_tensor_elements);
    n *= u;
  }
  return static_cast<std::int64_t>(n);
}

/// Adds a tensor value's `n` elements to the document's `total`, or throws
/// a LimitError past max_total_elements.
void add_elements(std::size_t& total, std::int64_t n, const LoadLimits& limits, const At& at) {
  const auto u = static_cast<std::size_t>(n);
  if (u > limits.max_total_elements || total > limits.max_total_elements - u)
    throw LimitError(at.str() + ": with this value's " + count_str(u, "element") +
                         ", the tensor values have more than " + count_str(limits.max_total_elements, "element") +
                         " together",
                     "LoadLimits::max_total_elements", limits.max_total_elements);
  total += u;
}

/// Looks up member `key`; nullptr when absent.
const JValue* member(const JObject& o, std::string_view key) {
  for (const auto& [k, v] : o)
    if (k == key) return &v;
  return nullptr;
}

const JValue& required(const JObject& o, std::string_view key, const At& at, std::string_view what) {
  if (const JValue* v = member(o, key)) return *v;
  fail_at(at, "missing field \"" + std::string(key) + "\" (" + std::string(what) + ")");
}

/// {"dtype": ..., "shape": [...], "data": [flat elements]}: a constant's value.
Tensor read_flat_value(const JValue& v, const At& at, const LoadLimits& limits, std::size_t& total) {
  const std::string path = at.str();
  const JObject& o = as_object(v, path);
  for (const auto& [k, x] : o)
    if (k != "dtype" && k != "shape" && k != "data")
      fail_at(At(path, "", k), "unknown field (a tensor value has \"dtype\", \"shape\" and \"data\")");
  const DType dtype = as_dtype(required(o, "dtype", path, "the element type"), At(path, ".dtype"));
  const JArray& dims = as_array(required(o, "shape", path, "a list of sizes"), At(path, ".shape"));
  Shape shape;
  for (std::size_t i = 0; i < dims.size(); ++i) {
    if (std::holds_alternative<std::nullptr_t>(dims[i].v))
      fail_at(At(path, ".shape", i), "a value needs known sizes, got null (symbolic)");
    shape.push_back(as_index(dims[i], At(path, ".shape", i)));
  }
  const std::int64_t n = checked_elements(shape, limits, At(path, ".shape"));
  add_elements(total, n, limits, path);
  const JArray& data = as_array(required(o, "data", path, "the elements in row-major order"), At(path, ".data"));
  if (static_cast<std::int64_t>(data.size()) != n)
    fail_at(At(path, ".data"), "has " + count_str(data.size(), "element") + ", but shape " + shape_str(shape) +
                                   " needs " + std::to_string(n));
  Tensor t(dtype, shape);
  for (std::int64_t i = 0; i < n; ++i)
    read_element(data[static_cast<std::size_t>(i)], t, i, At(path, ".data", static_cast<std::size_t>(i)));
  return t;
}

AttrValue read_attr(const JValue& v, AttrKind kind, const At& at, const LoadLimits& limits, std::size_t& total) {
  switch (kind) {
    case AttrKind::integer: return as_integer(v, at);
    case AttrKind::real: return as_real<double>(v, at);
    case AttrKind::integers: {
      const JArray& a = as_array(v, at);
      std::vector<std::int64_t> out;
      out.reserve(a.size());
      for (std::size_t i = 0; i < a.size(); ++i) {
        if (auto* n = std::get_if<JNumber>(&a[i].v); n && n->integer) {
          out.push_back(n->i);
        } else {
          const std::string path = at.str();
          as_integer(a[i], At(path, "", i));  // throws
        }
      }
      return out;
    }
    case AttrKind::string: return as_string(v, at);
    case AttrKind::tensor: return read_flat_value(v, at, limits, total);
    case AttrKind::dtype: return as_dtype(v, at);
  }
  fail_at(at, "unsupported attribute kind");
}

std::string kinds_list(const std::vector<AttrSpec>& specs) {
  std::string s;
  for (std::size_t i = 0; i < specs.size(); ++i)
    s += (i ? ", " : "") + specs[i].name + " (" + std::string(attr_kind_name(specs[i].kind)) + ")";
  return s.empty() ? std::string("none") : s;
}

/// Messages are cut after this many bytes (a shape of rank 1,000,000 in a
/// message would otherwise be megabytes of text).
constexpr std::size_t kMessageBytes = 1000;

/// Rethrows the Error being handled, with `prefix` before its message and
/// the message made one printable line of at most kMessageBytes (see
/// shown); a LimitError stays one.
[[noreturn]] void rethrow_with(const std::string& prefix) {
  try {
    throw;
  } catch (const LimitError& e) {
    throw LimitError(prefix + shown(e.problem(), false, kMessageBytes), e.limit(), e.value());
  } catch (const Error& e) {
    throw Error(prefix + shown(e.what(), false, kMessageBytes));
  }
}

void check_bytes(std::string_view text, const LoadLimits& limits, const char* what) {
  if (text.size() > limits.max_bytes)
    throw LimitError(
        std::string(what) + " is " + count_str(text.size(), "byte") + ", more than " + std::to_string(limits.max_bytes),
        "LoadLimits::max_bytes", limits.max_bytes);
}

/// Reads a tensor value (see value_from_json).
Tensor read_value(std::string_view text, DType dtype, std::string_view what, const LoadLimits& limits) {
  const std::string name(what);
  TreeBuilder builder(limits);
  try {
    check_bytes(text, limits, "the value");
    run_parser(text, builder);
  } catch (const Error&) {
    rethrow_with(name + ": ");
  }
  const JValue& root = *builder.root();

  // The shape is the nesting along the first elements; then every array at
  // depth d must have dims[d] elements and every leaf sit at depth rank.
  Shape shape;
  for (const JValue* v = &root; const JArray* a = std::get_if<JArray>(&v->v);) {
    shape.push_back(static_cast<std::int64_t>(a->size()));
    if (a->empty()) break;
    v = &a->front();
  }
  std::size_t total = 0;
  add_elements(total, checked_elements(shape, limits, name), limits, name);
  Tensor t(dtype, shape);
  struct Frame {
    const JArray* array;
    std::size_t next;
  };
  std::vector<Frame> stack;
  std::int64_t flat = 0;
  auto here = [&] {
    std::string p = name;
    for (const Frame& f : stack) p += "[" + std::to_string(f.next - 1) + "]";
    return p;
  };
  auto visit = [&](const JValue& v) {
    const std::size_t depth = stack.size();
    if (const JArray* a = std::get_if<JArray>(&v.v)) {
      if (depth >= shape.size())
        fail_at(here(), "ragged array: expected a scalar at depth " + std::to_string(depth) +
                                             " (shape " + shape_str(shape) + "), got an array");
      if (static_cast<std::int64_t>(a->size()) != shape[depth])
        fail_at(here(), "ragged array: has " + count_str(a->size(), "element") + ", expected " +
                            std::to_string(shape[depth]) + " (shape " + shape_str(shape) + ")");
      stack.push_back({a, 0});
    } else {
      if (depth != shape.size())
        fail_at(here(), "ragged array: expected an array of " +
                            count_str(static_cast<std::uint64_t>(shape[depth]), "element") + " (shape " +
                            shape_str(shape) + "), got " + describe(v));
      read_element(v, t, flat++, here());
    }
  };
  visit(root);
  while (!stack.empty()) {
    Frame& f = stack.back();
    if (f.next == f.array->size()) {
      stack.pop_back();
      continue;
    }
    const JValue& v = (*f.array)[f.next++];
    visit(v);
  }
  return t;
}

/// Reads a graph document (see from_json).
class GraphReader {
 public:
  explicit GraphReader(const LoadLimits& limits) : limits_(limits) {}

  LoadedGraph read(std::string_view text) {
    TreeBuilder builder(limits_);
    builder.on_node = [this](JValue&& v, std::size_t index) { on_node(std::move(v), index); };
    builder.on_member = [this](const std::string& key, const JValue& v) {
      // A wrong header seen before the nodes stops node processing early.
      if ((key == "format" || key == "version") && !header_error_) {
        try {
          check_header_field(key, v);
        } catch (const Error& e) {
          header_error_ = e.what();
        }
      }
    };
    run_parser(text, builder);
    const JValue& root = *builder.root();
    if (!std::holds_alternative<JObject>(root.v))
      throw Error("the document must be a JSON object with \"format\": \"symgraph\", got " + describe(root));
    const JObject& top = std::get<JObject>(root.v);

    check_header_field("format", required(top, "format", "the document", "\"format\": \"symgraph\""));
    check_header_field("version", required(top, "version", "the document", "the format version, 1"));
    for (const auto& [k, v] : top)
      if (k != "format" && k != "version" && k != "inputs" && k != "outputs" && k != "nodes")
        fail_at(path_key(k), "unknown field (a document has \"format\", \"version\", \"inputs\", \"outputs\" and \"nodes\")");
    as_array(required(top, "nodes", "the document", "the array of nodes"), "nodes");
    if (pending_) throw Error(explain_pending());
    if (node_error_) std::rethrow_exception(node_error_);

    LoadedGraph out{graph_, {}, {}};
    std::vector<char> is_input(graph_.size(), 0);
    const JArray& ins = as_array(required(top, "inputs", "the document", "the ids of the input nodes"), "inputs");
    for (std::size_t i = 0; i < ins.size(); ++i) {
      const std::string p = "inputs[" + std::to_string(i) + "]";
      const NodeId id = resolve(ins[i], p);
      const Node& n = graph_.store()->node(id);
      if (n.op->name() != "input")
        fail_at(p, "node " + std::to_string(as_integer(ins[i], p)) + " is a \"" + n.op->name() +
                       "\" node; \"inputs\" lists input nodes only");
      if (is_input[id]) fail_at(p, "node " + std::to_string(as_integer(ins[i], p)) + " is listed twice");
      is_input[id] = 1;
      out.inputs.push_back(graph_.node(id));
    }
    const JArray& outs = as_array(required(top, "outputs", "the document", "the ids of the output nodes"), "outputs");
    for (std::size_t i = 0; i < outs.size(); ++i)
      out.outputs.push_back(graph_.node(resolve(outs[i], "outputs[" + std::to_string(i) + "]")));

    // Every input node the outputs use must be an argument of the function.
    std::vector<char> live(graph_.size(), 0);
    for (const Expr& e : out.outputs) live[e.id()] = 1;
    for (std::size_t id = live.size(); id-- > 0;) {
      if (!live[id]) continue;
      const Node& n = graph_.store()->node(static_cast<NodeId>(id));
      for (NodeId in : n.inputs) live[in] = 1;
      if (n.op->name() == "input" && !is_input[id])
        fail_at("inputs", "the outputs use input node " + std::to_string(doc_id_[id]) + " (" + shown(n.name) +
                              "), which \"inputs\" does not list");
    }
    return out;
  }

 private:
  struct Known {
    NodeId store;
    std::size_t index;
  };

  void check_header_field(const std::string& key, const JValue& v) {
    if (key == "format") {
      const std::string* s = std::get_if<std::string>(&v.v);
      if (!s || *s != "symgraph")
        fail_at("format", "not a symgraph document: expected \"symgraph\", got " + describe(v));
    } else {
      const std::int64_t version = as_integer(v, "version");
      if (version != kJsonFormatVersion)
        fail_at("version", "unsupported format version " + std::to_string(version) + " (this build reads version " +
                               std::to_string(kJsonFormatVersion) + ")");
    }
  }

  NodeId resolve(const JValue& v, const std::string& path) {
    const std::int64_t id = as_index(v, path);
    const Known* known = find_id(id);
    if (!known) fail_at(path, "no node has id " + std::to_string(id));
    return known->store;
  }

  void on_node(JValue&& v, std::size_t index) {
    if (header_error_) return;
    if (pending_) {
      remember_later(v, index);
      return;
    }
    if (node_error_) return;
    try {
      build_node(v, index);
    } catch (const Error&) {
      if (!pending_) node_error_ = std::current_exception();
    }
  }

  /// After an unresolved reference: ids and operands of the later nodes, to
  /// tell a forward reference, a cycle and a dangling one apart.
  void remember_later(const JValue& v, std::size_t index) {
    const JObject* o = std::get_if<JObject>(&v.v);
    if (!o) return;
    const JValue* id = member(*o, "id");
    const JValue* ins = member(*o, "inputs");
    const JNumber* n = id ? std::get_if<JNumber>(&id->v) : nullptr;
    if (!n || !n->integer || later_.count(n->i)) return;
    std::vector<std::int64_t> refs;
    if (const JArray* a = ins ? std::get_if<JArray>(&ins->v) : nullptr)
      for (const JValue& r : *a)
        if (const JNumber* rn = std::get_if<JNumber>(&r.v); rn && rn->integer) refs.push_back(rn->i);
    later_.emplace(n->i, std::make_pair(index, std::move(refs)));
  }

  std::string explain_pending() const {
    const Pending& p = *pending_;
    const std::string head = p.path + " (node " + std::to_string(p.node) + ", op " + p.op + "): ";
    if (p.ref == p.node) return head + "node " + std::to_string(p.node) + " lists itself as an input (a cycle)";
    auto it = later_.find(p.ref);
    if (it == later_.end()) return head + "refers to node " + std::to_string(p.ref) + ", which no node defines";
    // Is there a path back from the referenced node to this one? Explicit
    // stack over the later nodes only: earlier ones cannot lead back.
    std::unordered_map<std::int64_t, std::int64_t> parent{{p.ref, p.ref}};
    std::vector<std::int64_t> stack{p.ref};
    while (!stack.empty()) {
      const std::int64_t at = stack.back();
      stack.pop_back();
      auto found = later_.find(at);
      if (found == later_.end()) continue;
      for (std::int64_t in : found->second.second) {
        if (in == p.node) {
          // node -> ref -> ... -> at -> node, each using the next.
          std::vector<std::int64_t> chain{at};
          while (chain.back() != p.ref) chain.push_back(parent.at(chain.back()));
          std::vector<std::int64_t> cycle{p.node};
          cycle.insert(cycle.end(), chain.rbegin(), chain.rend());
          cycle.push_back(p.node);
          std::string text;
          for (std::size_t k = 0; k < cycle.size(); ++k) {
            if (cycle.size() > 12 && k == 6) {
              text += " -> ...";
              k = cycle.size() - 5;
            }
            text += (k ? " -> " : "") + std::to_string(cycle[k]);
          }
          return head + "the graph has a cycle: " + text + " (each node uses the next as an input)";
        }
        if (parent.emplace(in, at).second) stack.push_back(in);
      }
    }
    return head + "refers to node " + std::to_string(p.ref) + ", which comes later (nodes[" +
           std::to_string(it->second.first) + "]); a node must come after its inputs (topological order)";
  }

  void build_node(const JValue& v, std::size_t index) {
    const std::string path = "nodes[" + std::to_string(index) + "]";
    const JObject& o = as_object(v, path);
    static constexpr std::string_view fields[] = {"id", "op", "name", "inputs", "dtype", "shape", "attrs"};
    for (const auto& [k, x] : o) {
      bool known = false;
      for (std::string_view f : fields) known |= k == f;
      if (!known)
        fail_at(At(path, "", k),
                "unknown field (a node has \"id\", \"op\", \"inputs\", \"dtype\", \"shape\", and \"name\" or "
                "\"attrs\" where they apply)");
    }
    const std::int64_t id =
        as_index(required(o, "id", path, "the node's id, a non-negative integer"), At(path, ".id"));
    if (const Known* known = find_id(id))
      fail_at(At(path, ".id"), "duplicate id " + std::to_string(id) + " (nodes[" + std::to_string(known->index) +
                                   "] has it too)");
    const std::string& op_name = as_string(required(o, "op", path, "the op's name"), At(path, ".op"));
    const Op* op = OpRegistry::instance().find(op_name);
    if (!op)
      fail_at(At(path, ".op"), "unknown op " + shown(op_name) + " in node " + std::to_string(id) +
                                   " (not a built-in op; if it is an extension op, register it before loading: "
                                   "link the file with its RegisterOp, or load_extension() / symgraph --load the "
                                   "shared object that has it)");
    // "nodes[3].inputs (node 7, op add)": the path, then which node it is.
    auto where = [&](std::string_view field = {}) {
      return path + std::string(field) + " (node " + std::to_string(id) + ", op " + op_name + ")";
    };
    auto fail_node = [&](std::string_view field, const std::string& message) { fail_at(where(field), message); };
    auto need = [&](std::string_view key, std::string_view what) -> const JValue& {
      if (const JValue* x = member(o, key)) return *x;
      fail_at(where(), "missing field \"" + std::string(key) + "\" (" + std::string(what) + ")");
    };

    // Operands: each an id defined by an earlier node.
    const JArray& refs = as_array(need("inputs", "the ids of the node's operands"), At(path, ".inputs"));
    std::vector<NodeId> operands;
    operands.reserve(refs.size());
    for (std::size_t i = 0; i < refs.size(); ++i) {
      const std::int64_t ref = as_index(refs[i], At(path, ".inputs", i));
      const Known* known = find_id(ref);
      if (!known) {
        pending_ = Pending{At(path, ".inputs", i).str(), id, ref, op_name};
        later_.emplace(id, std::make_pair(index, std::vector<std::int64_t>{}));
        throw Error("unresolved reference");
      }
      operands.push_back(known->store);
    }
    const int n = static_cast<int>(operands.size());
    if (n < op->min_inputs() || (op->max_inputs() >= 0 && n > op->max_inputs())) {
      const std::string expected = op->max_inputs() == op->min_inputs() ? std::to_string(op->min_inputs())
                                   : op->max_inputs() < 0
                                       ? "at least " + std::to_string(op->min_inputs())
                                       : std::to_string(op->min_inputs()) + " to " + std::to_string(op->max_inputs());
      fail_node(".inputs", "op " + op_name + " takes " + expected + " input(s), got " + std::to_string(n));
    }

    const DType dtype = as_dtype(need("dtype", "the element type"), At(path, ".dtype"));
    const JArray& dims = as_array(need("shape", "a list of sizes, null for symbolic"), At(path, ".shape"));
    TensorType declared{dtype, {}};
    declared.shape.reserve(dims.size());
    for (std::size_t i = 0; i < dims.size(); ++i) {
      if (std::holds_alternative<std::nullptr_t>(dims[i].v)) {
        declared.shape.push_back(kSymbolic);
      } else {
        declared.shape.push_back(as_index(dims[i], At(path, ".shape", i)));
      }
    }

    const JValue* name = member(o, "name");
    const bool is_input = op_name == "input";
    if (is_input && !name) fail_node("", "missing field \"name\" (an input node needs its name)");
    if (!is_input && name) fail_node(".name", "only input nodes have a name");

    // Attributes: exactly those of Op::attr_specs(), each read as its kind,
    // then checked as every node is (Op::attr_problem), with the place.
    Attrs attrs;
    if (const JValue* given = member(o, "attrs")) {
      for (const auto& [key, value] : as_object(*given, At(path, ".attrs"))) {
        const AttrSpec* spec = op->spec(key);
        if (!spec)
          fail_node(".attrs." + path_key(key), "op " + op_name + " has no attribute " + shown(key) +
                                                   " (its attributes: " + kinds_list(op->specs()) + ")");
        attrs.set(key, read_attr(value, spec->kind, At(path, ".attrs", key), limits_, total_elements_));
      }
    }
    if (const std::optional<AttrProblem> p = op->attr_problem(attrs))
      fail_node(p->missing ? std::string(".attrs") : ".attrs." + p->key, p->message);

    std::string input_name;
    if (is_input) {
      input_name = as_string(*name, At(path, ".name"));
      if (input_name.empty()) fail_node(".name", "an input needs a non-empty name");
      if (auto it = input_names_.find(input_name); it != input_names_.end())
        fail_node(".name", "input name " + shown(input_name) + " is already used by node " + std::to_string(it->second));
    }
    GraphStore& store = *graph_.store();
    NodeId built = 0;
    try {
      if (is_input) {
        built = store.add_input(input_name, declared);
        input_names_.emplace(input_name, id);
      } else if (op_name == "constant") {
        built = store.add_constant(attrs.get<Tensor>("value"));
      } else {
        built = store.add(*op, std::move(operands), std::move(attrs));
      }
    } catch (const Error& e) {
      fail_node("", std::string("type error: ") + e.what());
    } catch (const std::exception& e) {
      fail_node("", std::string("op failed: ") + e.what());
    }
    const TensorType& got = store.node(built).type;
    if (got != declared)
      fail_node("", "the document declares " + type_str(declared) + ", but the node's type is " + type_str(got) +
                        (is_input || op_name == "constant" ? std::string(" (from its value)")
                                                           : " (inferred from its operands)"));
    add_id(id, Known{built, index});
    if (doc_id_.size() <= built) doc_id_.resize(static_cast<std::size_t>(built) + 1, -1);
    if (doc_id_[built] < 0) doc_id_[built] = id;
  }

  // Ids: a vector for the usual dense ids 0..n-1, a hash map for the rest.
  // The vector grows only to about twice the nodes read, so a document
  // cannot make it large with one big id.
  const Known* find_id(std::int64_t id) const {
    if (static_cast<std::uint64_t>(id) < dense_.size())
      return dense_[static_cast<std::size_t>(id)].index == kUnused ? nullptr : &dense_[static_cast<std::size_t>(id)];
    auto it = sparse_.find(id);
    return it == sparse_.end() ? nullptr : &it->second;
  }

  void add_id(std::int64_t id, Known k) {
    const auto u = static_cast<std::uint64_t>(id);
    if (u >= dense_.size() && u < 2 * (sparse_.size() + dense_.size()) + 1024) {
      dense_.resize(static_cast<std::size_t>(u) + 1 + dense_.size() / 2, Known{0, kUnused});
      // Ids now covered by the vector move there.
      for (auto it = sparse_.begin(); it != sparse_.end();) {
        if (static_cast<std::uint64_t>(it->first) < dense_.size()) {
          dense_[static_cast<std::size_t>(it->first)] = it->second;
          it = sparse_.erase(it);
        } else {
          ++it;
        }
      }
    }
    if (u < dense_.size()) {
      dense_[static_cast<std::size_t>(u)] = k;
    } else {
      sparse_.emplace(id, k);
    }
  }

  struct Pending {
    std::string path;
    std::int64_t node, ref;
    std::string op;
  };

  const LoadLimits& limits_;
  std::size_t total_elements_ = 0;  // of the tensor values read
  Graph graph_;
  static constexpr std::size_t kUnused = static_cast<std::size_t>(-1);
  std::vector<Known> dense_;
  std::unordered_map<std::int64_t, Known> sparse_;
  std::vector<std::int64_t> doc_id_;  // store id -> document id
  std::unordered_map<std::string, std::int64_t> input_names_;
  std::optional<std::string> header_error_;
  std::exception_ptr node_error_;  // the first node's Error (a LimitError stays one)
  std::optional<Pending> pending_;
  std::unordered_map<std::int64_t, std::pair<std::size_t, std::vector<std::int64_t>>> later_;
};

}  // namespace

std::string json_number(double value) {
  std::string s;
  append_real(s, value);
  return s;
}

std::string json_number(float value) {
  std::string s;
  append_real(s, value);
  return s;
}

std::string json_string(std::string_view text) {
  std::string s;
  append_string(s, text);
  return s;
}

std::string to_json(const std::vector<Expr>& inputs, const std::vector<Expr>& outputs) {
  return write_document(order_nodes("to_json", inputs, outputs));
}

std::string to_json(const std::vector<Expr>& outputs) { return write_document(order_nodes("to_json", outputs)); }

LoadedGraph from_json(std::string_view text, const LoadLimits& limits) {
  try {
    check_bytes(text, limits, "the document");
    return GraphReader(limits).read(text);
  } catch (const Error&) {
    rethrow_with("");
  }
}

std::string value_to_json(const Tensor& value) {
  std::string s;
  append_value(s, value, true);
  return s;
}

Tensor value_from_json(std::string_view text, DType dtype, std::string_view what, const LoadLimits& limits) {
  try {
    return read_value(text, dtype, what, limits);
  } catch (const Error&) {
    rethrow_with("");
  }
}

}  // namespace symgraph
