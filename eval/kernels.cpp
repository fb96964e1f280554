// Chunk kernels of the fused evaluator; see kernels.hpp.
#include "symgraph/eval/kernels.hpp"

#include <Eigen/Core>
#include <cmath>
#include <algorithm>
#include <array>
#include <utility>
#include <cstring>
#include <string>
#include <type_traits>

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
#define SYMGRAPH_AVX512 1
#include <immintrin.h>
#elif defined(__AVX2__) && defined(__BMI2__)
#define SYMGRAPH_AVX2 1
#include <immintrin.h>
#endif
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace symgraph::detail {
namespace {

using I64 = std::int64_t;
template <class T> using In = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;
template <class T> using Out = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;

template <class T> const T* arg(const void* const* in, int k) { return static_cast<const T*>(in[k]); }

// ---------------------------------------------------------------------------
// Portable kernels: one scalar loop per op, each element computed exactly as
// the op's reference kernel (ops/math.cpp, ops/compare.cpp) computes it.

template <class T, class F> void unary(I64 n, const void* const* in, void* out, F f) {
  const T* x = arg<T>(in, 0);
  T* y = static_cast<T*>(out);
  for (I64 i = 0; i < n; ++i) y[i] = f(x[i]);
}
template <class R, class T, class F> void binary(I64 n, const void* const* in, void* out, F f) {
  const T* a = arg<T>(in, 0);
  const T* b = arg<T>(in, 1);
  R* y = static_cast<R*>(out);
  for (I64 i = 0; i < n; ++i) y[i] = f(a[i], b[i]);
}

template <class T> struct Portable {
  static void neg(I64 n, const void* const* in, void* out, const double*) { unary<T>(n, in, out, [](T v) { return -v; }); }
  static void abs(I64 n, const void* const* in, void* out, const double*) { unary<T>(n, in, out, [](T v) { return std::abs(v); }); }
  static void sign(I64 n, const void* const* in, void* out, const double*) {
    unary<T>(n, in, out, [](T v) { return v > T(0) ? T(1) : v < T(0) ? T(-1) : v == v ? T(0) : v; });
  }
  static void exp(I64 n, const void* const* in, void* out, const double*) { unary<T>(n, in, out, [](T v) { return std::exp(v); }); }
  static void log(I64 n, const void* const* in, void* out, const double*) { unary<T>(n, in, out, [](T v) { return std::log(v); }); }
  static void sqrt(I64 n, const void* const* in, void* out, const double*) { unary<T>(n, in, out, [](T v) { return std::sqrt(v); }); }
  static void tanh(I64 n, const void* const* in, void* out, const double*) { unary<T>(n, in, out, [](T v) { return std::tanh(v); }); }
  static void scale(I64 n, const void* const* in, void* out, const double* params) {
    const double f = params[0];
    const T factor = static_cast<T>(f);
    unary<T>(n, in, out, [factor](T v) { return v * factor; });
  }
  static void add(I64 n, const void* const* in, void* out, const double*) { binary<T, T>(n, in, out, [](T a, T b) { return a + b; }); }
  static void sub(I64 n, const void* const* in, void* out, const double*) { binary<T, T>(n, in, out, [](T a, T b) { return a - b; }); }
  static void mul(I64 n, const void* const* in, void* out, const double*) { binary<T, T>(n, in, out, [](T a, T b) { return a * b; }); }
  static void div(I64 n, const void* const* in, void* out, const double*) { binary<T, T>(n, in, out, [](T a, T b) { return a / b; }); }
  static void maximum(I64 n, const void* const* in, void* out, const double*) {
    binary<T, T>(n, in, out, [](T a, T b) { return (a >= b || a != a) ? a : b; });
  }
  static void minimum(I64 n, const void* const* in, void* out, const double*) {
    binary<T, T>(n, in, out, [](T a, T b) { return (a <= b || a != a) ? a : b; });
  }
  static void gt(I64 n, const void* const* in, void* out, const double*) { binary<bool, T>(n, in, out, [](T a, T b) { return a > b; }); }
  static void ge(I64 n, const void* const* in, void* out, const double*) { binary<bool, T>(n, in, out, [](T a, T b) { return a >= b; }); }
  static void lt(I64 n, const void* const* in, void* out, const double*) { binary<bool, T>(n, in, out, [](T a, T b) { return a < b; }); }
  static void le(I64 n, const void* const* in, void* out, const double*) { binary<bool, T>(n, in, out, [](T a, T b) { return a <= b; }); }
  static void eq(I64 n, const void* const* in, void* out, const double*) { binary<bool, T>(n, in, out, [](T a, T b) { return a == b; }); }
  static void select(I64 n, const void* const* in, void* out, const double*) {
    const bool* c = arg<bool>(in, 0);
    const T* a = arg<T>(in, 1);
    const T* b = arg<T>(in, 2);
    T* y = static_cast<T*>(out);
    for (I64 i = 0; i < n; ++i) y[i] = c[i] ? a[i] : b[i];
  }
};

// ---------------------------------------------------------------------------
// Vectorised kernels. Arithmetic whose Eigen packet code is exact IEEE
// arithmetic (add, sub, mul, div, abs, scale) goes through Eigen, like the
// reference kernels; exp, log and tanh use libm, like the reference.

template <class T> struct Vectorised : Portable<T> {
  static void abs(I64 n, const void* const* in, void* out, const double*) { Out<T>(static_cast<T*>(out), n) = In<T>(arg<T>(in, 0), n).abs(); }
  static void scale(I64 n, const void* const* in, void* out, const double* params) {
    const double f = params[0];
    Out<T>(static_cast<T*>(out), n) = In<T>(arg<T>(in, 0), n) * static_cast<T>(f);
  }
  static void add(I64 n, const void* const* in, void* out, const double*) {
    Out<T>(static_cast<T*>(out), n) = In<T>(arg<T>(in, 0), n) + In<T>(arg<T>(in, 1), n);
  }
  static void sub(I64 n, const void* const* in, void* out, const double*) {
    Out<T>(static_cast<T*>(out), n) = In<T>(arg<T>(in, 0), n) - In<T>(arg<T>(in, 1), n);
  }
  static void mul(I64 n, const void* const* in, void* out, const double*) {
    Out<T>(static_cast<T*>(out), n) = In<T>(arg<T>(in, 0), n) * In<T>(arg<T>(in, 1), n);
  }
  static void div(I64 n, const void* const* in, void* out, const double*) {
    Out<T>(static_cast<T*>(out), n) = In<T>(arg<T>(in, 0), n) / In<T>(arg<T>(in, 1), n);
  }

};

#if SYMGRAPH_AVX512
// AVX-512 kernels for the ops Eigen 3.4 does not vectorise. Every loop
// iteration handles one register with masked loads and stores, so the last
// partial register needs no scalar tail.
template <class T> struct Avx;
template <> struct Avx<float> {
  using R = __m512;
  using M = __mmask16;
  static constexpr I64 W = 16;
  static M tail(I64 k) { return k >= W ? M(0xFFFF) : M((1u << k) - 1u); }
  static R load(M m, const float* p) { return _mm512_maskz_loadu_ps(m, p); }
  static void store(float* p, M m, R v) { _mm512_mask_storeu_ps(p, m, v); }
  template <int C> static M cmp(R a, R b) { return _mm512_cmp_ps_mask(a, b, C); }
  /// m ? b : a
  static R blend(M m, R a, R b) { return _mm512_mask_blend_ps(m, a, b); }
  static R set1(float v) { return _mm512_set1_ps(v); }
  static R sqrt(R v) { return _mm512_sqrt_ps(v); }
  static R flip_sign(R v) { return _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(v), _mm512_set1_epi32(INT32_MIN))); }
  static M load_cond(M m, const bool* c) {
    const __m128i bytes = _mm_maskz_loadu_epi8(m, c);
    return _mm_test_epi8_mask(bytes, bytes);
  }
  static void store_bool(bool* o, M m, M value) { _mm_mask_storeu_epi8(o, m, _mm_maskz_set1_epi8(value, 1)); }
};
template <> struct Avx<double> {
  using R = __m512d;
  using M = __mmask8;
  static constexpr I64 W = 8;
  static M tail(I64 k) { return k >= W ? M(0xFF) : M((1u << k) - 1u); }
  static R load(M m, const double* p) { return _mm512_maskz_loadu_pd(m, p); }
  static void store(double* p, M m, R v) { _mm512_mask_storeu_pd(p, m, v); }
  template <int C> static M cmp(R a, R b) { return _mm512_cmp_pd_mask(a, b, C); }
  static R blend(M m, R a, R b) { return _mm512_mask_blend_pd(m, a, b); }
  static R set1(double v) { return _mm512_set1_pd(v); }
  static R sqrt(R v) { return _mm512_sqrt_pd(v); }
  static R flip_sign(R v) { return _mm512_castsi512_pd(_mm512_xor_si512(_mm512_castpd_si512(v), _mm512_set1_epi64(INT64_MIN))); }
  static M load_cond(M m, const bool* c) {
    const __m128i bytes = _mm_maskz_loadu_epi8(static_cast<__mmask16>(m), c);
    return static_cast<M>(_mm_test_epi8_mask(bytes, bytes));
  }
  static void store_bool(bool* o, M m, M value) {
    _mm_mask_storeu_epi8(o, static_cast<__mmask16>(m), _mm_maskz_set1_epi8(static_cast<__mmask16>(value), 1));
  }
};

template <class T> struct Simd : Vectorised<T> {
  using A = Avx<T>;
  template <class Body> static void each(I64 n, Body body) {
    for (I64 i = 0; i < n; i += A::W) body(i, A::tail(n - i));
  }

  /// Correctly rounded (Eigen 3.4's packet sqrt is an approximation).
  static void sqrt(I64 n, const void* const* in, void* out, const double*) {
    const T* x = arg<T>(in, 0);
    T* y = static_cast<T*>(out);
    each(n, [&](I64 i, auto m) { A::store(y + i, m, A::sqrt(A::load(m, x + i))); });
  }
  /// Sign-bit flip (IEEE negation, also of 0 and NaN).
  static void neg(I64 n, const void* const* in, void* out, const double*) {
    const T* x = arg<T>(in, 0);
    T* y = static_cast<T*>(out);
    each(n, [&](I64 i, auto m) { A::store(y + i, m, A::flip_sign(A::load(m, x + i))); });
  }
  /// 1 where x > 0, -1 where x < 0, x itself where x is NaN, else +0.
  static void sign(I64 n, const void* const* in, void* out, const double*) {
    const T* x = arg<T>(in, 0);
    T* y = static_cast<T*>(out);
    const auto one = A::set1(T(1)), minus_one = A::set1(T(-1)), zero = A::set1(T(0));
    each(n, [&](I64 i, auto m) {
      const auto v = A::load(m, x + i);
      auto r = A::blend(A::template cmp<_CMP_LT_OQ>(v, zero), zero, minus_one);
      r = A::blend(A::template cmp<_CMP_GT_OQ>(v, zero), r, one);
      r = A::blend(A::template cmp<_CMP_UNORD_Q>(v, v), r, v);
      A::store(y + i, m, r);
    });
  }
  /// a where a >= b or a is NaN, else b (the reference's rule, so NaN from
  /// either side propagates and ties give the first operand).
  template <int C> static void pick_first(I64 n, const void* const* in, void* out) {
    const T* a = arg<T>(in, 0);
    const T* b = arg<T>(in, 1);
    T* y = static_cast<T*>(out);
    each(n, [&](I64 i, auto m) {
      const auto va = A::load(m, a + i), vb = A::load(m, b + i);
      const auto keep_a = A::template cmp<C>(va, vb) | A::template cmp<_CMP_UNORD_Q>(va, va);
      A::store(y + i, m, A::blend(keep_a, vb, va));
    });
  }
  static void maximum(I64 n, const void* const* in, void* out, const double*) { pick_first<_CMP_GE_OQ>(n, in, out); }
  static void minimum(I64 n, const void* const* in, void* out, const double*) { pick_first<_CMP_LE_OQ>(n, in, out); }
  /// Ordered, quiet predicates: false whenever an operand is NaN.
  template <int C> static void compare(I64 n, const void* const* in, void* out) {
    const T* a = arg<T>(in, 0);
    const T* b = arg<T>(in, 1);
    bool* y = static_cast<bool*>(out);
    each(n, [&](I64 i, auto m) { A::store_bool(y + i, m, A::template cmp<C>(A::load(m, a + i), A::load(m, b + i))); });
  }
  static void gt(I64 n, const void* const* in, void* out, const double*) { compare<_CMP_GT_OQ>(n, in, out); }
  static void ge(I64 n, const void* const* in, void* out, const double*) { compare<_CMP_GE_OQ>(n, in, out); }
  static void lt(I64 n, const void* const* in, void* out, const double*) { compare<_CMP_LT_OQ>(n, in, out); }
  static void le(I64 n, const void* const* in, void* out, const double*) { compare<_CMP_LE_OQ>(n, in, out); }
  static void eq(I64 n, const void* const* in, void* out, const double*) { compare<_CMP_EQ_OQ>(n, in, out); }
  static void select(I64 n, const void* const* in, void* out, const double*) {
    const bool* c = arg<bool>(in, 0);
    const T* a = arg<T>(in, 1);
    const T* b = arg<T>(in, 2);
    T* y = static_cast<T*>(out);
    each(n, [&](I64 i, auto m) { A::store(y + i, m, A::blend(A::load_cond(m, c + i), A::load(m, b + i), A::load(m, a + i))); });
  }
};

/// switch on bool branches: 64 bytes per step.
void select_bool_simd(I64 n, const void* const* in, void* out, const double*) {
  const auto* c = static_cast<const char*>(in[0]);
  const auto* a = static_cast<const char*>(in[1]);
  const auto* b = static_cast<const char*>(in[2]);
  auto* y = static_cast<char*>(out);
  for (I64 i = 0; i < n; i += 64) {
    const __mmask64 m = n - i >= 64 ? ~__mmask64{0} : (__mmask64{1} << (n - i)) - 1;
    const __m512i vc = _mm512_maskz_loadu_epi8(m, c + i);
    const __m512i r = _mm512_mask_blend_epi8(_mm512_test_epi8_mask(vc, vc), _mm512_maskz_loadu_epi8(m, b + i),
                                             _mm512_maskz_loadu_epi8(m, a + i));
    _mm512_mask_storeu_epi8(y + i, m, r);
  }
}
#endif


#if SYMGRAPH_AVX2
// AVX2 kernels for the ops Eigen 3.4 does not vectorise: whole registers,
// then the portable loop (same per-element results) for the rest.
template <class T> struct Avx2;
template <> struct Avx2<float> {
  using R = __m256;
  static constexpr I64 W = 8;
  static R load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, R v) { _mm256_storeu_ps(p, v); }
  template <int C> static R cmp(R a, R b) { return _mm256_cmp_ps(a, b, C); }
  /// mask ? b : a
  static R blend(R mask, R a, R b) { return _mm256_blendv_ps(a, b, mask); }
  static R set1(float v) { return _mm256_set1_ps(v); }
  static R sqrt(R v) { return _mm256_sqrt_ps(v); }
  static R flip_sign(R v) { return _mm256_xor_ps(v, _mm256_set1_ps(-0.0f)); }
  static R or_(R a, R b) { return _mm256_or_ps(a, b); }
  /// 8 bool bytes -> lane masks.
  static R load_cond(const bool* c) {
    std::int64_t bytes;
    std::memcpy(&bytes, c, 8);
    const __m256i wide = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(bytes));
    return _mm256_castsi256_ps(_mm256_cmpgt_epi32(wide, _mm256_setzero_si256()));
  }
  /// Lane masks -> 8 bool bytes (0 or 1).
  static void store_bool(bool* o, R mask) {
    const std::uint64_t bytes = _pdep_u64(static_cast<std::uint32_t>(_mm256_movemask_ps(mask)), 0x0101010101010101ull);
    std::memcpy(o, &bytes, 8);
  }
};
template <> struct Avx2<double> {
  using R = __m256d;
  static constexpr I64 W = 4;
  static R load(const double* p) { return _mm256_loadu_pd(p); }
  static void store(double* p, R v) { _mm256_storeu_pd(p, v); }
  template <int C> static R cmp(R a, R b) { return _mm256_cmp_pd(a, b, C); }
  static R blend(R mask, R a, R b) { return _mm256_blendv_pd(a, b, mask); }
  static R set1(double v) { return _mm256_set1_pd(v); }
  static R sqrt(R v) { return _mm256_sqrt_pd(v); }
  static R flip_sign(R v) { return _mm256_xor_pd(v, _mm256_set1_pd(-0.0)); }
  static R or_(R a, R b) { return _mm256_or_pd(a, b); }
  static R load_cond(const bool* c) {
    std::int32_t bytes;
    std::memcpy(&bytes, c, 4);
    const __m256i wide = _mm256_cvtepu8_epi64(_mm_cvtsi32_si128(bytes));
    return _mm256_castsi256_pd(_mm256_cmpgt_epi64(wide, _mm256_setzero_si256()));
  }
  static void store_bool(bool* o, R mask) {
    const std::uint32_t bytes = _pdep_u32(static_cast<std::uint32_t>(_mm256_movemask_pd(mask)), 0x01010101u);
    std::memcpy(o, &bytes, 4);
  }
};

template <class T> struct Simd : Vectorised<T> {
  using A = Avx2<T>;
  using P = Portable<T>;
  /// body(i) for every whole register; returns where the rest starts.
  template <class Body> static I64 each(I64 n, Body body) {
    I64 i = 0;
    for (; i + A::W <= n; i += A::W) body(i);
    return i;
  }
  /// The portable kernel on elements [i, n).
  static void rest(KernelFn portable, I64 i, I64 n, const void* const* in, void* out, std::size_t out_bytes,
                   std::initializer_list<std::size_t> in_bytes) {
    if (i == n) return;
    const void* shifted[3] = {};
    std::size_t k = 0;
    for (std::size_t b : in_bytes) {
      shifted[k] = static_cast<const char*>(in[k]) + static_cast<std::size_t>(i) * b;
      ++k;
    }
    portable(n - i, shifted, static_cast<char*>(out) + static_cast<std::size_t>(i) * out_bytes, nullptr);
  }

  static void sqrt(I64 n, const void* const* in, void* out, const double*) {
    const T* x = arg<T>(in, 0);
    T* y = static_cast<T*>(out);
    rest(P::sqrt, each(n, [&](I64 i) { A::store(y + i, A::sqrt(A::load(x + i))); }), n, in, out, sizeof(T), {sizeof(T)});
  }
  static void neg(I64 n, const void* const* in, void* out, const double*) {
    const T* x = arg<T>(in, 0);
    T* y = static_cast<T*>(out);
    rest(P::neg, each(n, [&](I64 i) { A::store(y + i, A::flip_sign(A::load(x + i))); }), n, in, out, sizeof(T), {sizeof(T)});
  }
  static void sign(I64 n, const void* const* in, void* out, const double*) {
    const T* x = arg<T>(in, 0);
    T* y = static_cast<T*>(out);
    const auto one = A::set1(T(1)), minus_one = A::set1(T(-1)), zero = A::set1(T(0));
    const I64 done = each(n, [&](I64 i) {
      const auto v = A::load(x + i);
      auto r = A::blend(A::template cmp<_CMP_LT_OQ>(v, zero), zero, minus_one);
      r = A::blend(A::template cmp<_CMP_GT_OQ>(v, zero), r, one);
      r = A::blend(A::template cmp<_CMP_UNORD_Q>(v, v), r, v);
      A::store(y + i, r);
    });
    rest(P::sign, done, n, in, out, sizeof(T), {sizeof(T)});
  }
  template <int C> static I64 pick_first(I64 n, const void* const* in, void* out) {
    const T* a = arg<T>(in, 0);
    const T* b = arg<T>(in, 1);
    T* y = static_cast<T*>(out);
    return each(n, [&](I64 i) {
      const auto va = A::load(a + i), vb = A::load(b + i);
      const auto keep_a = A::or_(A::template cmp<C>(va, vb), A::template cmp<_CMP_UNORD_Q>(va, va));
      A::store(y + i, A::blend(keep_a, vb, va));
    });
  }
  static void maximum(I64 n, const void* const* in, void* out, const double*) {
    rest(P::maximum, pick_first<_CMP_GE_OQ>(n, in, out), n, in, out, sizeof(T), {sizeof(T), sizeof(T)});
  }
  static void minimum(I64 n, const void* const* in, void* out, const double*) {
    rest(P::minimum, pick_first<_CMP_LE_OQ>(n, in, out), n, in, out, sizeof(T), {sizeof(T), sizeof(T)});
  }
  template <int C> static void compare(KernelFn portable, I64 n, const void* const* in, void* out) {
    const T* a = arg<T>(in, 0);
    const T* b = arg<T>(in, 1);
    bool* y = static_cast<bool*>(out);
    const I64 done = each(n, [&](I64 i) { A::store_bool(y + i, A::template cmp<C>(A::load(a + i), A::load(b + i))); });
    rest(portable, done, n, in, out, 1, {sizeof(T), sizeof(T)});
  }
  static void gt(I64 n, const void* const* in, void* out, const double*) { compare<_CMP_GT_OQ>(P::gt, n, in, out); }
  static void ge(I64 n, const void* const* in, void* out, const double*) { compare<_CMP_GE_OQ>(P::ge, n, in, out); }
  static void lt(I64 n, const void* const* in, void* out, const double*) { compare<_CMP_LT_OQ>(P::lt, n, in, out); }
  static void le(I64 n, const void* const* in, void* out, const double*) { compare<_CMP_LE_OQ>(P::le, n, in, out); }
  static void eq(I64 n, const void* const* in, void* out, const double*) { compare<_CMP_EQ_OQ>(P::eq, n, in, out); }
  static void select(I64 n, const void* const* in, void* out, const double*) {
    const bool* c = arg<bool>(in, 0);
    const T* a = arg<T>(in, 1);
    const T* b = arg<T>(in, 2);
    T* y = static_cast<T*>(out);
    const I64 done = each(n, [&](I64 i) { A::store(y + i, A::blend(A::load_cond(c + i), A::load(b + i), A::load(a + i))); });
    rest(P::select, done, n, in, out, sizeof(T), {1, sizeof(T), sizeof(T)});
  }
};

void select_bool_portable(I64 n, const void* const* in, void* out, const double*);

/// switch on bool branches: 32 bytes per step.
void select_bool_simd(I64 n, const void* const* in, void* out, const double*) {
  const auto* c = static_cast<const char*>(in[0]);
  const auto* a = static_cast<const char*>(in[1]);
  const auto* b = static_cast<const char*>(in[2]);
  auto* y = static_cast<char*>(out);
  I64 i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256i vc = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c + i));
    const __m256i is_false = _mm256_cmpeq_epi8(vc, _mm256_setzero_si256());
    const __m256i r = _mm256_blendv_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + i)),
                                         _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + i)), is_false);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i), r);
  }
  const void* shifted[3] = {c + i, a + i, b + i};
  select_bool_portable(n - i, shifted, y + i, nullptr);
}
#endif

void select_bool_portable(I64 n, const void* const* in, void* out, const double*) {
  const bool* c = arg<bool>(in, 0);
  const bool* a = arg<bool>(in, 1);
  const bool* b = arg<bool>(in, 2);
  bool* y = static_cast<bool*>(out);
  for (I64 i = 0; i < n; ++i) y[i] = c[i] ? a[i] : b[i];
}


// ---------------------------------------------------------------------------
// Affine kernels: y = op(pre_a(a) * fa, pre_b(b) * fb) * post in one pass
// over the chunk, optionally summed as it goes (see find_affine_kernel).
// Written with Eigen's packet functions (SSE, AVX, AVX-512, NEON alike);
// each op rounds on its own, as the separate ops do (this file is compiled
// with -ffp-contract=off). A factor that is absent is 1, and v * 1 is v
// for every v (NaN stays NaN, -0 stays -0).

namespace pk = Eigen::internal;
template <class T> using Packet = typename pk::packet_traits<T>::type;

/// The reference's sign (ops/math.cpp): 1, -1, +0 for ±0, NaN for NaN.
template <class T> T sign_of(T v) { return v > T(0) ? T(1) : v < T(0) ? T(-1) : v == v ? T(0) : v; }

template <int P, class T> T pre_scalar(T v, T f) {
  if constexpr (P == static_cast<int>(Pre::abs)) return std::abs(v) * f;
  else if constexpr (P == static_cast<int>(Pre::sign)) return sign_of(v) * f;
  else return v * f;
}

template <class T> struct PacketConsts {
  using P = Packet<T>;
  P zero = pk::pset1<P>(T(0)), one = pk::pset1<P>(T(1)), minus_one = pk::pset1<P>(T(-1));
};

template <int P, class T> Packet<T> pre_packet(Packet<T> v, Packet<T> f, const PacketConsts<T>& k) {
  if constexpr (P == static_cast<int>(Pre::abs)) {
    return pk::pmul(pk::pabs(v), f);
  } else if constexpr (P == static_cast<int>(Pre::sign)) {
    // NaN -> v, else 0; then -1 below zero, 1 above (comparisons with NaN are false).
    Packet<T> r = pk::pselect(pk::pcmp_eq(v, v), k.zero, v);
    r = pk::pselect(pk::pcmp_lt(v, k.zero), k.minus_one, r);
    return pk::pmul(pk::pselect(pk::pcmp_lt(k.zero, v), k.one, r), f);
  } else {
    return pk::pmul(v, f);
  }
}

/// A non-temporal store of one packet to a packet-aligned address.
template <class T> void stream_packet(T* p, Packet<T> v) {
#if defined(EIGEN_VECTORIZE_AVX512)
  if constexpr (std::is_same_v<T, float>) _mm512_stream_ps(p, v);
  else _mm512_stream_pd(p, v);
#elif defined(EIGEN_VECTORIZE_AVX)
  if constexpr (std::is_same_v<T, float>) _mm256_stream_ps(p, v);
  else _mm256_stream_pd(p, v);
#elif defined(EIGEN_VECTORIZE_SSE2)
  if constexpr (std::is_same_v<T, float>) _mm_stream_ps(p, v);
  else _mm_stream_pd(p, v);
#else
  pk::pstoreu(p, v);
#endif
}

template <class T, int Op, int PA, int PB, int Mode> struct Affine {
  using P = Packet<T>;
  static constexpr I64 W = pk::unpacket_traits<P>::size;
  static constexpr bool kConstB = PB == static_cast<int>(Pre::constant);
  static constexpr bool kStore = Mode != static_cast<int>(AffineMode::sum);
  static constexpr bool kSum = Mode != static_cast<int>(AffineMode::store);

  // maximum and minimum as the reference computes them: the first operand
  // on a tie (so maximum(-0, +0) = -0) and when it is NaN, else the larger
  // (smaller); a NaN second operand is not larger, so it is taken too.
  static T op_scalar(T a, T b) {
    if constexpr (Op == static_cast<int>(AffineOp::add)) return a + b;
    else if constexpr (Op == static_cast<int>(AffineOp::sub)) return a - b;
    else if constexpr (Op == static_cast<int>(AffineOp::mul)) return a * b;
    else if constexpr (Op == static_cast<int>(AffineOp::maximum)) return (a >= b || a != a) ? a : b;
    else if constexpr (Op == static_cast<int>(AffineOp::minimum)) return (a <= b || a != a) ? a : b;
    else return a;
  }
  static P op_packet(P a, P b) {
    if constexpr (Op == static_cast<int>(AffineOp::add)) {
      return pk::padd(a, b);
    } else if constexpr (Op == static_cast<int>(AffineOp::sub)) {
      return pk::psub(a, b);
    } else if constexpr (Op == static_cast<int>(AffineOp::mul)) {
      return pk::pmul(a, b);
    } else if constexpr (Op == static_cast<int>(AffineOp::maximum)) {
      // b where !(a >= b) and a is not NaN.
      return pk::pselect(pk::pand(pk::pcmp_lt_or_nan(a, b), pk::pcmp_eq(a, a)), b, a);
    } else if constexpr (Op == static_cast<int>(AffineOp::minimum)) {
      return pk::pselect(pk::pand(pk::pcmp_lt_or_nan(b, a), pk::pcmp_eq(a, a)), b, a);
    } else {
      return a;
    }
  }

  template <bool Stream> static T loop(I64 n, const T* a, const T* b, T* y, const AffineArgs& args) {
    const T fa = static_cast<T>(args.fa), fb = static_cast<T>(args.fb), post = static_cast<T>(args.post),
            c = static_cast<T>(args.c);
    const PacketConsts<T> k;
    const P pfa = pk::pset1<P>(fa), pfb = pk::pset1<P>(fb), ppost = pk::pset1<P>(post), pc = pk::pset1<P>(c);
    auto value = [&](I64 i) {
      const P va = pre_packet<PA, T>(pk::ploadu<P>(a + i), pfa, k);
      P vb = pc;
      if constexpr (Op != static_cast<int>(AffineOp::first) && !kConstB) vb = pre_packet<PB, T>(pk::ploadu<P>(b + i), pfb, k);
      return pk::pmul(op_packet(va, vb), ppost);
    };
    auto put = [&](I64 i, P v) {
      if constexpr (!kStore) return;
      else if constexpr (Stream) stream_packet<T>(y + i, v);
      else pk::pstoreu(y + i, v);
    };
    P acc0 = k.zero, acc1 = k.zero, acc2 = k.zero, acc3 = k.zero;
    I64 i = 0;
    for (; i + 4 * W <= n; i += 4 * W) {
      const P r0 = value(i), r1 = value(i + W), r2 = value(i + 2 * W), r3 = value(i + 3 * W);
      put(i, r0);
      put(i + W, r1);
      put(i + 2 * W, r2);
      put(i + 3 * W, r3);
      if constexpr (kSum) {
        acc0 = pk::padd(acc0, r0);
        acc1 = pk::padd(acc1, r1);
        acc2 = pk::padd(acc2, r2);
        acc3 = pk::padd(acc3, r3);
      }
    }
    for (; i + W <= n; i += W) {
      const P r = value(i);
      put(i, r);
      if constexpr (kSum) acc0 = pk::padd(acc0, r);
    }
    T tail = T(0);
    for (; i < n; ++i) {
      T vb = c;
      if constexpr (Op != static_cast<int>(AffineOp::first) && !kConstB) vb = pre_scalar<PB>(b[i], fb);
      const T r = op_scalar(pre_scalar<PA>(a[i], fa), vb) * post;
      if constexpr (kStore) y[i] = r;
      if constexpr (kSum) tail += r;
    }
    if constexpr (kSum) return pk::predux(pk::padd(pk::padd(acc0, acc1), pk::padd(acc2, acc3))) + tail;
    return T(0);
  }

  static double run(I64 n, const void* a, const void* b, void* out, const AffineArgs& args, bool stream) {
    const auto* pa = static_cast<const T*>(a);
    const auto* pb = static_cast<const T*>(b);
    auto* y = static_cast<T*>(out);
    const bool aligned = reinterpret_cast<std::uintptr_t>(y) % sizeof(P) == 0;
    return static_cast<double>(stream && aligned ? loop<true>(n, pa, pb, y, args) : loop<false>(n, pa, pb, y, args));
  }
};

/// y = cmp(a, b) ? t * ft : f * ff, each of b, t, f possibly a constant:
/// a comparison, the scales of the branches and the switch in one pass.
template <class T, int Cmp, bool CB, bool CT, bool CF> struct Select {
  using P = Packet<T>;
  static constexpr I64 W = pk::unpacket_traits<P>::size;

  static bool cmp_scalar(T a, T b) {
    if constexpr (Cmp == static_cast<int>(SelectCmp::gt)) return a > b;
    else if constexpr (Cmp == static_cast<int>(SelectCmp::ge)) return a >= b;
    else if constexpr (Cmp == static_cast<int>(SelectCmp::lt)) return a < b;
    else if constexpr (Cmp == static_cast<int>(SelectCmp::le)) return a <= b;
    else return a == b;
  }
  // Ordered comparisons: false when either side is NaN.
  static P cmp_packet(P a, P b) {
    if constexpr (Cmp == static_cast<int>(SelectCmp::gt)) return pk::pcmp_lt(b, a);
    else if constexpr (Cmp == static_cast<int>(SelectCmp::ge)) return pk::pcmp_le(b, a);
    else if constexpr (Cmp == static_cast<int>(SelectCmp::lt)) return pk::pcmp_lt(a, b);
    else if constexpr (Cmp == static_cast<int>(SelectCmp::le)) return pk::pcmp_le(a, b);
    else return pk::pcmp_eq(a, b);
  }

  template <bool Stream>
  static void loop(I64 n, const T* a, const T* b, const T* t, const T* f, T* y, const SelectArgs& args) {
    // A constant branch is scaled like a read one: t * ft rounds once, in T.
    const T ft = static_cast<T>(args.ft), ff = static_cast<T>(args.ff), cb = static_cast<T>(args.b),
            ct = static_cast<T>(args.t) * ft, cf = static_cast<T>(args.f) * ff;
    const P pcb = pk::pset1<P>(cb), pct = pk::pset1<P>(ct), pcf = pk::pset1<P>(cf), pft = pk::pset1<P>(ft),
            pff = pk::pset1<P>(ff);
    I64 i = 0;
    for (; i + W <= n; i += W) {
      const P vb = CB ? pcb : pk::ploadu<P>(b + i);
      const P vt = CT ? pct : pk::pmul(pk::ploadu<P>(t + i), pft);
      const P vf = CF ? pcf : pk::pmul(pk::ploadu<P>(f + i), pff);
      const P r = pk::pselect(cmp_packet(pk::ploadu<P>(a + i), vb), vt, vf);
      if constexpr (Stream) stream_packet<T>(y + i, r);
      else pk::pstoreu(y + i, r);
    }
    for (; i < n; ++i) {
      const T vt = CT ? ct : t[i] * ft, vf = CF ? cf : f[i] * ff;
      y[i] = cmp_scalar(a[i], CB ? cb : b[i]) ? vt : vf;
    }
  }

  static void run(I64 n, const void* a, const void* b, const void* t, const void* f, void* out, const SelectArgs& args,
                  bool stream) {
    auto* y = static_cast<T*>(out);
    const auto* pa = static_cast<const T*>(a);
    const auto* pb = static_cast<const T*>(b);
    const auto* pt = static_cast<const T*>(t);
    const auto* pf = static_cast<const T*>(f);
    if (stream && reinterpret_cast<std::uintptr_t>(y) % sizeof(P) == 0) loop<true>(n, pa, pb, pt, pf, y, args);
    else loop<false>(n, pa, pb, pt, pf, y, args);
  }
};

/// Index: cmp * 8 + const_b * 4 + const_t * 2 + const_f.
template <class T, std::size_t... I> constexpr std::array<SelectFn, sizeof...(I)> select_table(std::index_sequence<I...>) {
  return {&Select<T, static_cast<int>(I / 8), (I / 4) % 2 == 1, (I / 2) % 2 == 1, I % 2 == 1>::run...};
}

constexpr int kPreA = 3, kPreB = 4, kOps = 6, kModes = 3;
/// Index: ((op * kPreA + pre_a) * kPreB + pre_b) * kModes + mode.
template <class T, std::size_t I> constexpr AffineFn affine_entry() {
  constexpr int mode = static_cast<int>(I % kModes), pb = static_cast<int>(I / kModes % kPreB),
                pa = static_cast<int>(I / kModes / kPreB % kPreA), op = static_cast<int>(I / kModes / kPreB / kPreA);
  // first has no operand b: one instantiation for every pre_b.
  if constexpr (op == static_cast<int>(AffineOp::first)) return &Affine<T, op, pa, 0, mode>::run;
  else return &Affine<T, op, pa, pb, mode>::run;
}
template <class T, std::size_t... I> constexpr std::array<AffineFn, sizeof...(I)> affine_table(std::index_sequence<I...>) {
  return {affine_entry<T, I>()...};
}

template <class K> KernelFn lookup(std::string_view op) {
  struct Entry {
    std::string_view name;
    KernelFn fn;
  };
  static const Entry table[] = {
      {"neg", K::neg},         {"abs", K::abs},         {"sign", K::sign}, {"exp", K::exp}, {"log", K::log},
      {"sqrt", K::sqrt},       {"tanh", K::tanh},       {"scale", K::scale}, {"add", K::add}, {"sub", K::sub},
      {"mul", K::mul},         {"div", K::div},         {"maximum", K::maximum}, {"minimum", K::minimum},
      {"gt", K::gt},           {"ge", K::ge},           {"lt", K::lt},     {"le", K::le},   {"eq", K::eq},
      {"switch", K::select},
  };
  for (const Entry& e : table)
    if (e.name == op) return e.fn;
  return nullptr;
}

template <class T> KernelFn lookup_for(std::string_view op, KernelSet set) {
  if (set == KernelSet::portable) return lookup<Portable<T>>(op);
#if SYMGRAPH_AVX512 || SYMGRAPH_AVX2
  return lookup<Simd<T>>(op);
#else
  return lookup<Vectorised<T>>(op);
#endif
}

}  // namespace

KernelFn find_kernel(std::string_view op, std::span<const DType> in, DType out, KernelSet set) {
  if (in.empty()) return nullptr;
  if (op == "switch") {
    if (in.size() != 3 || in[0] != DType::boolean || in[1] != out || in[2] != out) return nullptr;
    switch (out) {
      case DType::float32: return lookup_for<float>(op, set);
      case DType::float64: return lookup_for<double>(op, set);
      case DType::boolean:
#if SYMGRAPH_AVX512 || SYMGRAPH_AVX2
        return set == KernelSet::best ? select_bool_simd : select_bool_portable;
#else
        return select_bool_portable;
#endif
    }
    return nullptr;
  }
  // Every other op: float operands of one dtype.
  for (DType t : in)
    if (t != in[0] || !is_float(t)) return nullptr;
  const bool compare = op == "gt" || op == "ge" || op == "lt" || op == "le" || op == "eq";
  if (out != (compare ? DType::boolean : in[0])) return nullptr;
  return in[0] == DType::float32 ? lookup_for<float>(op, set) : lookup_for<double>(op, set);
}

AffineFn find_affine_kernel(AffineOp op, DType dtype, Pre pre_a, Pre pre_b, AffineMode mode) {
  if (!is_float(dtype) || pre_a == Pre::constant) return nullptr;
  constexpr std::size_t size = kOps * kPreA * kPreB * kModes;
  static constexpr auto f32 = affine_table<float>(std::make_index_sequence<size>{});
  static constexpr auto f64 = affine_table<double>(std::make_index_sequence<size>{});
  const auto i = static_cast<std::size_t>(((static_cast<int>(op) * kPreA + static_cast<int>(pre_a)) * kPreB +
                                           static_cast<int>(pre_b)) * kModes + static_cast<int>(mode));
  return dtype == DType::float32 ? f32[i] : f64[i];
}

SelectFn find_select_kernel(SelectCmp cmp, DType dtype, bool const_b, bool const_t, bool const_f) {
  if (!is_float(dtype)) return nullptr;
  static constexpr auto f32 = select_table<float>(std::make_index_sequence<40>{});
  static constexpr auto f64 = select_table<double>(std::make_index_sequence<40>{});
  const auto i = static_cast<std::size_t>(static_cast<int>(cmp) * 8 + (const_b ? 4 : 0) + (const_t ? 2 : 0) + (const_f ? 1 : 0));
  return dtype == DType::float32 ? f32[i] : f64[i];
}

void store_chunk(void* dst, const void* src, std::int64_t n, std::size_t bytes, bool stream) {
  std::size_t total = static_cast<std::size_t>(n) * bytes;
#if SYMGRAPH_AVX512
  if (stream && reinterpret_cast<std::uintptr_t>(dst) % 64 == 0) {
    auto* d = static_cast<char*>(dst);
    const auto* s = static_cast<const char*>(src);
    std::size_t i = 0;
    for (; i + 64 <= total; i += 64)
      _mm512_stream_si512(reinterpret_cast<__m512i*>(d + i), _mm512_loadu_si512(s + i));
    std::memcpy(d + i, s + i, total - i);
    return;
  }
#elif SYMGRAPH_AVX2
  if (stream && reinterpret_cast<std::uintptr_t>(dst) % 32 == 0) {
    auto* d = static_cast<char*>(dst);
    const auto* s = static_cast<const char*>(src);
    std::size_t i = 0;
    for (; i + 32 <= total; i += 32)
      _mm256_stream_si256(reinterpret_cast<__m256i*>(d + i), _mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + i)));
    std::memcpy(d + i, s + i, total - i);
    return;
  }
#else
  (void)stream;
#endif
  std::memcpy(dst, src, total);
}

void store_fence() {
#if defined(__SSE2__)
  _mm_sfence();
#endif
}

void fill_chunk(void* dst, const void* value, std::int64_t n, std::size_t bytes) {
  switch (bytes) {
    case 1: std::memset(dst, *static_cast<const unsigned char*>(value), static_cast<std::size_t>(n)); return;
    // Integer copies: bit patterns (NaN payloads included) move unchanged.
    case 4: {
      std::uint32_t v;
      std::memcpy(&v, value, 4);
      std::fill_n(static_cast<std::uint32_t*>(dst), n, v);
      return;
    }
    case 8: {
      std::uint64_t v;
      std::memcpy(&v, value, 8);
      std::fill_n(static_cast<std::uint64_t*>(dst), n, v);
      return;
    }
    default:
      for (std::int64_t i = 0; i < n; ++i) std::memcpy(static_cast<char*>(dst) + i * static_cast<std::int64_t>(bytes), value, bytes);
  }
}

double sum_chunk(const void* src, std::int64_t n, DType dtype) {
  // The affine kernels' order of addition, so that every full sum in a
  // kernel adds its chunk the same way (v * 1 is v).
  constexpr int first = static_cast<int>(AffineOp::first), sum = static_cast<int>(AffineMode::sum);
  const AffineArgs one;
  if (dtype == DType::float32) return Affine<float, first, 0, 0, sum>::run(n, src, nullptr, nullptr, one, false);
  return Affine<double, first, 0, 0, sum>::run(n, src, nullptr, nullptr, one, false);
}


}  // namespace symgraph::detail
