#pragma once
/// Kernel helpers shared by every elementwise op, built-in or user-defined:
/// dtype dispatch and one NumPy-broadcasting driver that hands Eigen array
/// maps of matching length to an op's kernel.
#include <Eigen/Core>
#include <array>
#include <vector>

#include "symgraph/core/tensor.hpp"

namespace symgraph {

/// Calls f.template operator()<T>() with T = float or double for a float
/// dtype; throws Error naming `op` for any other dtype.
template <class F> decltype(auto) dispatch_float(DType t, std::string_view op, F&& f) {
  switch (t) {
    case DType::float32: return f.template operator()<float>();
    case DType::float64: return f.template operator()<double>();
    default: break;
  }
  throw Error(std::string(op) + ": no kernel for dtype " + std::string(dtype_name(t)));
}

/// Like dispatch_float, and T = bool for boolean.
template <class F> decltype(auto) dispatch_any(DType t, F&& f) {
  switch (t) {
    case DType::float32: return f.template operator()<float>();
    case DType::float64: return f.template operator()<double>();
    case DType::boolean: break;
  }
  return f.template operator()<bool>();
}

template <class T> using ArrayOut = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
template <class T> using ArrayIn = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;

namespace detail {

/// A broadcast loop nest over the output: dimensions of size 1 dropped and
/// neighbours with the same broadcast pattern merged, so the innermost run is
/// as long as possible. strides[k][d] is input k's element stride (0 where
/// it is broadcast).
struct BroadcastPlan {
  std::vector<std::int64_t> dims;
  std::vector<std::vector<std::int64_t>> strides;
};
BroadcastPlan plan_broadcast(const Shape& out, const std::vector<const Shape*>& ins);

}  // namespace detail

/// Runs f(out, in...) over runs of the output, where `out` is an
/// ArrayOut<Out> and each `in` an ArrayIn<In_k> of the same length (a
/// broadcast input is expanded into a small buffer). The output shape must
/// be the broadcast of the input shapes.
template <class Out, class... In, class F>
void elementwise_kernel(Tensor& out, const std::array<const Tensor*, sizeof...(In)>& ins, F&& f) {
  constexpr std::size_t N = sizeof...(In);
  constexpr std::int64_t kChunk = 4096;
  std::vector<const Shape*> shapes;
  for (auto* t : ins) shapes.push_back(&t->shape());
  const detail::BroadcastPlan plan = detail::plan_broadcast(out.shape(), shapes);
  if (out.size() == 0) return;
  const std::size_t depth = plan.dims.size();
  const std::int64_t inner = depth ? plan.dims.back() : 1;
  std::array<const void*, N> base{};
  for (std::size_t k = 0; k < N; ++k) base[k] = ins[k]->raw();
  Out* o = out.data<Out>();

  // Buffers for inputs broadcast along the innermost run.
  std::tuple<Eigen::Array<In, Eigen::Dynamic, 1>...> bufs;
  std::array<std::int64_t, N> offset{};
  const std::int64_t rows = depth ? out.size() / inner : 1;
  std::int64_t out_pos = 0;
  for (std::int64_t row = 0; row < rows; ++row) {
    // Offsets of this row in each input, from the row's outer index.
    offset.fill(0);
    for (std::int64_t rest = row, d = static_cast<std::int64_t>(depth) - 2; d >= 0; --d) {
      const auto du = static_cast<std::size_t>(d);
      const std::int64_t i = rest % plan.dims[du];
      rest /= plan.dims[du];
      for (std::size_t k = 0; k < N; ++k) offset[k] += i * plan.strides[k][du];
    }
    for (std::int64_t start = 0; start < inner; start += kChunk) {
      const std::int64_t n = std::min(kChunk, inner - start);
      [&]<std::size_t... K>(std::index_sequence<K...>) {
        auto arg = [&]<std::size_t I>(std::integral_constant<std::size_t, I>) {
          using T = std::tuple_element_t<I, std::tuple<In...>>;
          const T* p = static_cast<const T*>(base[I]) + offset[I];
          const bool bcast = depth == 0 || plan.strides[I][depth - 1] == 0;
          if (!bcast) return ArrayIn<T>(p + start, n);
          auto& buf = std::get<I>(bufs);
          buf.setConstant(n, *p);
          return ArrayIn<T>(buf.data(), n);
        };
        ArrayOut<Out> dst(o + out_pos, n);
        f(dst, arg(std::integral_constant<std::size_t, K>{})...);
      }(std::make_index_sequence<N>{});
      out_pos += n;
    }
  }
}

}  // namespace symgraph
