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

/// Transforms of an affine kernel's operand (bit flags).
enum : int { kPreNone = 0, kPreAbs = 1, kPreScale = 2 };
/// y = op(pre_a(a), pre_b(b)) [* post] for op add, sub or mul on float or
/// double, with pre(v) = v, |v|, v * f or |v| * f (f = params[0] for a,
/// params[1] for b, post = params[2]): several elementwise ops in one pass
/// over the chunk, rounding after each op exactly as the separate ops do
/// (this file is compiled with -ffp-contract=off, so no FMA contraction).
KernelFn find_affine_kernel(std::string_view op, DType dtype, int pre_a, int pre_b, bool post);

/// Writes n elements of `bytes` each from src to dst; with `stream`, uses
/// non-temporal stores where dst is suitably aligned (call store_fence()
/// before another thread reads dst).
void store_chunk(void* dst, const void* src, std::int64_t n, std::size_t bytes, bool stream);
void store_fence();
/// dst[0..n) = *value, elements of `bytes` each.
void fill_chunk(void* dst, const void* value, std::int64_t n, std::size_t bytes);
/// Sum of n elements, accumulated in the element type (float or double).
double sum_chunk(const void* src, std::int64_t n, DType dtype);
/// Asks the cache for [p, p + bytes) ahead of use.
void prefetch_range(const void* p, std::size_t bytes);

}  // namespace symgraph::detail
