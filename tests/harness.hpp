#pragma once
// Shared helpers for the test suites: building tensors, running a graph
// with the reference evaluator, and comparing values bit for bit.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <symgraph/symgraph.hpp>
#include <vector>

namespace sgtest {

using namespace symgraph;

inline constexpr double inf = std::numeric_limits<double>::infinity();
inline constexpr double NaN = std::numeric_limits<double>::quiet_NaN();

/// A float64 (or float32) tensor of `shape` from values given as doubles.
inline Tensor tensor(std::vector<double> values, Shape shape = {}, DType dtype = DType::float64) {
  if (shape.empty() && values.size() != 1) shape = {static_cast<std::int64_t>(values.size())};
  Tensor t(dtype, shape);
  REQUIRE(static_cast<std::int64_t>(values.size()) == t.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    switch (dtype) {
      case DType::float32: t.data<float>()[i] = static_cast<float>(values[i]); break;
      case DType::float64: t.data<double>()[i] = values[i]; break;
      case DType::boolean: t.data<bool>()[i] = values[i] != 0.0; break;
    }
  }
  return t;
}

inline Tensor booleans(std::vector<double> values, Shape shape = {}) {
  return tensor(std::move(values), std::move(shape), DType::boolean);
}

/// Same value: NaN matches NaN, and zeros must agree in sign.
inline bool same_value(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return a == b && std::signbit(a) == std::signbit(b);
}

inline std::string show(const Tensor& t) {
  std::string s = type_str(t.type()) + " {";
  for (std::int64_t i = 0; i < t.size(); ++i) s += (i ? ", " : "") + std::to_string(t.at(i));
  return s + "}";
}

/// Checks dtype, shape and every element with same_value.
inline void check_same(const Tensor& got, const Tensor& want) {
  INFO("got " << show(got) << ", want " << show(want));
  REQUIRE(got.dtype() == want.dtype());
  REQUIRE(got.shape() == want.shape());
  for (std::int64_t i = 0; i < got.size(); ++i) {
    INFO("element " << i << ": got " << got.at(i) << " (signbit " << std::signbit(got.at(i)) << "), want "
                    << want.at(i) << " (signbit " << std::signbit(want.at(i)) << ")");
    CHECK(same_value(got.at(i), want.at(i)));
  }
}

/// Distance in units in the last place between two finite floats of T.
template <class T> std::int64_t ulp_distance(T a, T b) {
  using I = std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t>;
  auto key = [](T v) {
    I i = std::bit_cast<I>(v);
    return i < 0 ? static_cast<std::int64_t>(std::numeric_limits<I>::min()) - i : static_cast<std::int64_t>(i);
  };
  const std::int64_t d = key(a) - key(b);
  return d < 0 ? -d : d;
}

/// Evaluates `outputs` with the reference evaluator on named arguments.
inline std::vector<Tensor> run(const std::vector<Expr>& inputs, const std::vector<Expr>& outputs,
                               const std::vector<Tensor>& args) {
  return compile_reference(inputs, outputs)(args);
}

/// The message of the Error that `f` throws ("" if it throws none).
template <class F> std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

/// Op names of every node reachable from `outputs`, in id order.
inline std::vector<std::string> reachable_ops(const std::vector<Expr>& outputs) {
  const auto& store = outputs[0].graph();
  const std::vector<char> live = reachable(outputs);
  std::vector<std::string> ops;
  for (std::size_t id = 0; id < live.size(); ++id)
    if (live[id]) ops.push_back(store->node(static_cast<NodeId>(id)).op->name());
  return ops;
}

/// The LimitError that `f` throws: checks its cap, value and full message
/// (the problem, then the cap and how to raise it) and returns the problem.
template <class F> std::string limit_error_of(F&& f, const std::string& limit, std::size_t value) {
  try {
    f();
  } catch (const LimitError& e) {
    CHECK(e.limit() == limit);
    CHECK(e.value() == value);
    CHECK(std::string(e.what()) == e.problem() + " (" + limit + " is " + std::to_string(value) +
                                       "; raise it to accept larger input)");
    return e.problem();
  } catch (const Error& e) {
    FAIL("an Error that is not a LimitError: " << e.what());
  }
  return "";
}

}  // namespace sgtest
