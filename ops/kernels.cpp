#include "symgraph/ops/kernels.hpp"

namespace symgraph::detail {

BroadcastPlan plan_broadcast(const Shape& out, const std::vector<const Shape*>& ins) {
  const std::size_t rank = out.size();
  // Per input, per output axis: contiguous strides, 0 where broadcast.
  std::vector<std::vector<std::int64_t>> full(ins.size(), std::vector<std::int64_t>(rank, 0));
  for (std::size_t k = 0; k < ins.size(); ++k) {
    const Shape& s = *ins[k];
    if (s.size() > rank) throw Error("elementwise kernel: input of rank " + std::to_string(s.size()) + " exceeds output rank");
    std::int64_t stride = 1;
    for (std::size_t i = s.size(); i-- > 0;) {
      const std::size_t axis = rank - s.size() + i;
      if (s[i] == out[axis]) {
        full[k][axis] = stride;
      } else if (s[i] != 1) {
        throw Error("elementwise kernel: input shape " + shape_str(s) + " does not broadcast to " + shape_str(out));
      }
      stride *= s[i];
    }
  }
  BroadcastPlan plan;
  plan.strides.assign(ins.size(), {});
  for (std::size_t axis = 0; axis < rank; ++axis) {
    if (out[axis] == 1) continue;
    const bool can_merge = !plan.dims.empty() && [&] {
      for (std::size_t k = 0; k < ins.size(); ++k) {
        const std::int64_t prev = plan.strides[k].back();
        const std::int64_t cur = full[k][axis];
        // Mergeable when both are broadcast, or the outer stride is exactly
        // the inner stride times the inner extent (contiguous).
        if ((prev == 0) != (cur == 0)) return false;
        if (prev != 0 && prev != cur * out[axis]) return false;
      }
      return true;
    }();
    if (can_merge) {
      plan.dims.back() *= out[axis];
      for (std::size_t k = 0; k < ins.size(); ++k) plan.strides[k].back() = full[k][axis];
    } else {
      plan.dims.push_back(out[axis]);
      for (std::size_t k = 0; k < ins.size(); ++k) plan.strides[k].push_back(full[k][axis]);
    }
  }
  return plan;
}

}  // namespace symgraph::detail
