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

using KernelFn = void (*)(std::int64_t n, const void* const* in, void* out, double param);

/// Which implementation: the best the compiler targets, or the portable
/// scalar loops (tests compare the two).
enum class KernelSet { best, portable };

/// The kernel of op `op` with operand dtypes `in` and result dtype `out`, or
/// nullptr when there is none (the op then runs with its own compute()).
/// `param` of the kernel is scale's factor; other kernels ignore it.
KernelFn find_kernel(std::string_view op, std::span<const DType> in, DType out, KernelSet set = KernelSet::best);

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
