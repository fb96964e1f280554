#pragma once
#include "symgraph/core/tensor.hpp"

namespace symgraph {

/// Sums g down to out's shape (leading axes and axes where out has size 1).
/// out's shape must broadcast to g's.
void reduce_sum_to(const Tensor& g, Tensor& out);

}  // namespace symgraph
