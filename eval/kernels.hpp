#pragma once
/// Chunk kernels of the fused evaluator (internal). A kernel computes one
/// elementwise op over n contiguous elements: out[i] = op(in0[i], in1[i], ...).
/// Operands are already broadcast (the evaluator fills a chunk buffer for an
/// operand that is constant along the chunk), so kernels are plain loops.
///
/// Every kernel computes exactly what the op's reference kernel computes for
/// each element (same IEEE operations, libm for exp, log and tanh), so fused
/// results are bit for bit those of compile_reference.
///
/// Eigen 3.4's select() and sign() run as branchy scalar loops, so switch,
/// the comparisons, maximum, minimum and sign have their own SIMD kernels
/// (AVX-512 or AVX2, whichever the compiler targets) next to portable scalar
/// ones.
#include <cstdint>
#include <span>
#include <string_view>

#include "symgraph/core/types.hpp"

namespace symgraph::detail {

/// params: scale's factor in params[0]; the affine kernels' (fa, fb, post).
using KernelFn = void (*)(std::int64_t n, const void* const* in, void* out, const double* params);

/// Which implementation: the best the compiler targets, or the portable
/// scalar loops (tests compare the two).
enum class KernelSet { best, portable };

/// The kernel of op `op` with operand dtypes `in` and result dtype `out`, or
/// nullptr when there is none (the op then runs with its own compute()).
KernelFn find_kernel(std::string_view op, std::span<const DType> in, DType out, KernelSet set = KernelSet::best);

/// The affine kernels: y = op(pre_a(a) * fa, pre_b(b) * fb) * post on float
/// or double, for op add, sub, mul, maximum, minimum or `first`
/// (y = pre_a(a) * fa * post),
/// pre(v) = v, |v| or sign(v), and for operand b also a constant c (then
/// pre_b(b) * fb is c). Several elementwise ops in one pass over the chunk,
/// rounding after each op exactly as the separate ops do (an absent factor
/// is 1, and v * 1 == v for every v). With mode sum or store_sum the kernel
/// returns the sum of the n results, accumulated in the element type (four
/// packet partial sums, then the rest); with mode sum nothing is stored.
enum class AffineOp : int { add, sub, mul, first, maximum, minimum };
enum class Pre : int { none, abs, sign, constant };
enum class AffineMode : int { store, sum, store_sum };
struct AffineArgs {
  double fa = 1.0, fb = 1.0, post = 1.0, c = 0.0;
};
/// `stream`: non-temporal stores where `out` is aligned to a SIMD register
/// (call store_fence() before another thread reads it).
using AffineFn = double (*)(std::int64_t n, const void* a, const void* b, void* out, const AffineArgs& args, bool stream);
/// nullptr for a dtype that is not float or double, or pre_a constant.
AffineFn find_affine_kernel(AffineOp op, DType dtype, Pre pre_a, Pre pre_b, AffineMode mode);

/// The select kernels: y = cmp(a, b) ? t * ft : f * ff on float or double
/// (a comparison, the scales of the branches and a switch in one pass; an
/// absent factor is 1), with b, t or f a constant (args.b, .t, .f) where
/// const_b, const_t, const_f say so (its pointer is then unused).
enum class SelectCmp : int { gt, ge, lt, le, eq };
struct SelectArgs {
  double b = 0.0, t = 0.0, f = 0.0, ft = 1.0, ff = 1.0;
};
using SelectFn = void (*)(std::int64_t n, const void* a, const void* b, const void* t, const void* f, void* out,
                          const SelectArgs& args, bool stream);
SelectFn find_select_kernel(SelectCmp cmp, DType dtype, bool const_b, bool const_t, bool const_f);

/// Writes n elements of `bytes` each from src to dst; with `stream`, uses
/// non-temporal stores where dst is suitably aligned (call store_fence()
/// before another thread reads dst).
void store_chunk(void* dst, const void* src, std::int64_t n, std::size_t bytes, bool stream);
void store_fence();
/// dst[0..n) = *value, elements of `bytes` each.
void fill_chunk(void* dst, const void* value, std::int64_t n, std::size_t bytes);
/// Sum of n elements, accumulated in the element type (float or double), in
/// the affine kernels' order.
double sum_chunk(const void* src, std::int64_t n, DType dtype);

}  // namespace symgraph::detail
