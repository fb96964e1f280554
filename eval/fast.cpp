// The planned evaluator behind compile(). See docs/performance.md.
//
// Compile time: the nodes the outputs need, constant subgraphs folded, then
// connected elementwise ops of one static shape grouped into fused kernels
// (with full sums of a member attached as reductions), a step schedule, and
// which values live in buffers and when each dies.
//
// Call time: concrete shapes (cached per argument shapes), then each step:
// a fused kernel walks its iteration space in small chunks, every member op
// computing one chunk into a cache-resident chunk buffer, so each input is
// read from memory once and each materialised value written once.
#include <algorithm>
#include <array>
#include <iterator>
#include <cmath>
#include <cstring>
#include <map>
#include <mutex>
#include <numeric>
#include <optional>
#include <queue>

#include "symgraph/core/registry.hpp"
#include "symgraph/eval/function.hpp"
#include "symgraph/eval/kernels.hpp"
#include "symgraph/eval/program.hpp"
#include "symgraph/eval/thread_pool.hpp"
#include "symgraph/graph/limits.hpp"
#include "symgraph/graph/rules.hpp"
#include "symgraph/ops/kernels.hpp"

namespace symgraph::detail {
namespace {

constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();
/// Elements per chunk: one chunk buffer is 8 KiB (8 bytes an element, bool
/// to float64), so a kernel's chunk buffers stay in L2 while its inputs stream.
constexpr std::int64_t kChunk = 1024;
/// A kernel with more chunk buffers than fit in this many bytes at kChunk
/// elements uses shorter chunks (halved down to kMinChunk), so that a
/// thread's scratch memory stays bounded whatever the kernel's size.
constexpr std::size_t kScratchBytes = std::size_t{2} << 20;
constexpr std::int64_t kMinChunk = 16;
/// Elements per parallel task (a multiple of kChunk). Fixed, not derived from
/// the thread count, so that sums come out the same with any thread count.
constexpr std::int64_t kTask = 64 * kChunk;
/// Below this many elements a kernel runs on the calling thread only.
constexpr std::int64_t kParallelMin = 4 * kTask;
/// Constant subgraphs up to this many elements are evaluated at compile time,
/// within a budget for the whole compile (elements folded, and Op::work),
/// and within the function's EvalLimits; the rest is computed by each call.
/// The budget is the optimizer's per-run folding budget (graph/rules.hpp).
constexpr std::int64_t kFoldMax = 1 << 16;
/// Work bound of one reachability search during planning (nodes visited);
/// past it the planner assumes a path exists and does not merge. Smaller for
/// huge graphs, so that planning stays about linear.
constexpr std::size_t kSearchBudget = 1 << 14;
constexpr std::size_t kSearchBudgetMin = 256;
constexpr std::size_t kPlanningWork = std::size_t{1} << 26;
/// Ops in one kernel at most. Each computed member may need a chunk buffer
/// of its own (written-out members keep theirs to the end of a chunk), so
/// this bounds a kernel's scratch memory per thread (32 MiB) whatever the
/// graph: a 1,000,000-op chain is 245 kernels, not one.
constexpr std::size_t kMaxKernelOps = 4096;
/// Kernels of its users a node joins or merges at most: a node used by
/// 1,000,000 others considers a few of their kernels, not all of them.
constexpr std::size_t kMaxCandidates = 8;

enum class Kind : std::uint8_t {
  input,     // an argument
  constant,  // a constant node or a folded constant subgraph
  fused,     // a member of a fused kernel
  sink,      // a full sum computed by a fused kernel
  opaque,    // runs with its op's compute()
  shape,     // only its shape is needed (an operand of broadcast_to/sum_to)
};

struct PNode {
  const Op* op = nullptr;
  Attrs attrs;
  std::vector<std::uint32_t> inputs;  // plan indices
  TensorType type;                    // declared
  Kind kind = Kind::opaque;
  std::uint32_t arg = kNone;     // input: argument index
  std::uint32_t value = kNone;   // constant: index into constants
  std::uint32_t group = kNone;   // fused or sink: its group
  std::uint32_t buffer = kNone;  // materialised: buffer index
  NodeId id = 0;                 // in the compiled graph, for messages
  KernelFn kernel = nullptr;     // fused: nullptr for an alias (broadcast_to, sum_to)
};

struct Instr {
  KernelFn fn;                      // a plain kernel, or
  AffineFn affine;                  // an affine one, or
  SelectFn select;                  // a select one (kernels.hpp)
  std::array<double, 3> params;     // fn's (scale's factor)
  AffineArgs args;                  // affine's
  SelectArgs sargs;                 // select's
  std::array<std::uint32_t, 4> in;  // refs (select: a, b, t, f)
  std::uint32_t out;                // ref; kNone for an affine kernel that only sums
  std::uint32_t sink;               // affine: the sum it adds to (index into sinks), or kNone
};

struct Group {
  std::vector<std::uint32_t> members;  // plan nodes, topological
  std::vector<std::uint32_t> leaves;   // plan nodes read from buffers (ref = position)
  std::vector<Instr> code;
  struct Out {
    std::uint32_t ref;
    std::uint32_t node;
    /// stores: the affine instruction computing the value, when it may
    /// write it to the destination with streaming stores itself.
    std::uint32_t instr = kNone;
  };
  std::vector<Out> stores;  // members written to their buffers
  std::vector<Out> sinks;   // full sums (node = the sum node); ref kNone: added by its instruction
  std::uint32_t num_scratch = 0;
  /// Elements per chunk (kChunk, or less for a kernel of many chunk
  /// buffers; a power of two, so it divides kTask).
  std::int64_t chunk = kChunk;
  std::vector<std::uint32_t> sum_to_members;  // need operand shape == own shape
};

struct Step {
  bool fused;
  std::uint32_t index;                 // group or plan node
  std::vector<std::uint32_t> release;  // intermediate buffers dead after it
};

/// Everything that depends on the concrete argument shapes.
struct Instance {
  std::vector<Shape> shapes;  // per plan node
  struct GroupRun {
    bool fused = true;
    std::int64_t size = 0;
    std::int64_t inner = 1;
    std::vector<std::int64_t> dims;                 // collapsed iteration dims
    std::vector<std::vector<std::int64_t>> strides; // per leaf, per dim
  };
  std::vector<GroupRun> groups;
  /// The EvalLimits cap these shapes exceed: calls throw it.
  std::optional<LimitError> over;
};

struct Scratch {
  std::vector<std::byte> bytes;
  std::byte* get(std::size_t n) {
    if (bytes.size() < n + 64) bytes.resize(n + 64);
    auto p = reinterpret_cast<std::uintptr_t>(bytes.data());
    return bytes.data() + ((64 - p % 64) % 64);
  }
};

class FastProgram final : public Program {
 public:
  void run(const std::vector<Tensor>& args, std::vector<Tensor>& outputs, bool reuse) const override;
  std::size_t num_steps() const override { return steps_.size(); }
  int num_threads() const override { return threads_; }
  std::string describe() const override;

  std::vector<PNode> nodes_;
  std::vector<Tensor> constants_;
  std::vector<Group> groups_;
  std::vector<Step> steps_;
  std::uint32_t num_buffers_ = 0;
  std::vector<char> buffer_is_output_;
  std::vector<std::uint32_t> outputs_;  // plan nodes
  int threads_ = 1;
  std::size_t stream_bytes_ = SIZE_MAX;
  std::vector<TensorType> arg_types_;
  EvalLimits limits_;
  std::shared_ptr<const Instance> static_instance_;  // when every shape is known

  std::shared_ptr<const Instance> instance_for(const std::vector<Tensor>& args) const;
  std::shared_ptr<const Instance> make_instance(const std::vector<Tensor>* args) const;

 private:
  void run_group(const Group& g, const Instance::GroupRun& gr, std::vector<const Tensor*>& view,
                 std::vector<Tensor>& owned, const std::vector<char>& fresh) const;
  void run_group_unfused(const Group& g, const Instance& inst, std::vector<const Tensor*>& view,
                         std::vector<Tensor>& owned) const;
  void run_opaque(std::uint32_t node, const Instance& inst, std::vector<const Tensor*>& view,
                  std::vector<Tensor>& owned) const;
  /// A buffer for an intermediate: from the pool, or new (then `fresh`).
  Tensor acquire(const TensorType& t, bool& fresh) const;
  void release(Tensor t) const;

  mutable std::mutex cache_mutex_;
  mutable std::vector<std::pair<std::vector<Shape>, std::shared_ptr<const Instance>>> cache_;
  mutable std::mutex pool_mutex_;
  mutable std::multimap<std::pair<DType, Shape>, Tensor> pool_;
};

// ---------------------------------------------------------------------------
// Call time.

std::shared_ptr<const Instance> FastProgram::make_instance(const std::vector<Tensor>* args) const {
  auto inst = std::make_shared<Instance>();
  inst->shapes.resize(nodes_.size());
  std::vector<TensorType> types;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    const PNode& n = nodes_[i];
    if (n.kind == Kind::input) {
      inst->shapes[i] = args ? (*args)[n.arg].shape() : n.type.shape;
    } else if (n.kind == Kind::constant) {
      inst->shapes[i] = constants_[n.value].shape();
    } else if (n.kernel && std::all_of(n.inputs.begin(), n.inputs.end(),
                                       [&](std::uint32_t in) { return inst->shapes[in] == inst->shapes[n.inputs[0]]; })) {
      // A built-in elementwise op on operands of one shape: that shape (its
      // inference could only fail on broadcasting).
      inst->shapes[i] = inst->shapes[n.inputs[0]];
    } else {
      types.clear();
      for (auto in : n.inputs) types.push_back({nodes_[in].type.dtype, inst->shapes[in]});
      // The op's own inference with concrete shapes: the reference
      // evaluator's checks and messages.
      inst->shapes[i] = n.op->infer(types, n.attrs).shape;
    }
  }
  if (limits_.any()) {
    // What the call computes, in node order as the reference counts.
    LimitCounter counter(limits_);
    try {
      for (std::size_t i = 0; i < nodes_.size(); ++i) {
        const PNode& n = nodes_[i];
        if (n.kind == Kind::input || n.kind == Kind::constant || n.kind == Kind::shape) continue;
        types.clear();
        for (auto in : n.inputs) types.push_back({nodes_[in].type.dtype, inst->shapes[in]});
        counter.add(*n.op, n.id, types, {n.type.dtype, inst->shapes[i]}, n.attrs);
      }
      counter.add_copies(
          outputs_, nodes_.size(),
          [&](std::uint32_t o) { return nodes_[o].kind != Kind::input && nodes_[o].kind != Kind::constant; },
          [&](std::uint32_t o) { return TensorType{nodes_[o].type.dtype, inst->shapes[o]}; });
    } catch (const LimitError& e) {
      inst->over = e;
      return inst;
    }
  }
  inst->groups.resize(groups_.size());
  for (std::size_t gi = 0; gi < groups_.size(); ++gi) {
    const Group& g = groups_[gi];
    Instance::GroupRun& r = inst->groups[gi];
    const Shape& shape = inst->shapes[g.members.front()];
    for (auto m : g.members) r.fused = r.fused && inst->shapes[m] == shape;
    for (auto m : g.sum_to_members) r.fused = r.fused && inst->shapes[nodes_[m].inputs[0]] == shape;
    if (!r.fused) continue;
    std::vector<const Shape*> leaf_shapes;
    for (auto l : g.leaves) leaf_shapes.push_back(&inst->shapes[l]);
    BroadcastPlan plan = plan_broadcast(shape, leaf_shapes);
    r.size = num_elements(shape);
    r.dims = std::move(plan.dims);
    r.strides = std::move(plan.strides);
    r.inner = r.dims.empty() ? 1 : r.dims.back();
  }
  return inst;
}

std::shared_ptr<const Instance> FastProgram::instance_for(const std::vector<Tensor>& args) const {
  if (static_instance_) return static_instance_;
  {
    std::lock_guard lock(cache_mutex_);
    for (const auto& [shapes, inst] : cache_) {
      bool same = true;
      for (std::size_t i = 0; same && i < args.size(); ++i) same = shapes[i] == args[i].shape();
      if (same) return inst;
    }
  }
  auto inst = make_instance(&args);  // may throw the reference's shape errors
  std::vector<Shape> key;
  for (const Tensor& a : args) key.push_back(a.shape());
  std::lock_guard lock(cache_mutex_);
  // A few recent argument shapes; the oldest is dropped.
  if (cache_.size() >= 8) cache_.erase(cache_.begin());
  cache_.emplace_back(std::move(key), inst);
  return inst;
}

Tensor FastProgram::acquire(const TensorType& t, bool& fresh) const {
  fresh = false;
  {
    std::lock_guard lock(pool_mutex_);
    auto it = pool_.find({t.dtype, t.shape});
    if (it != pool_.end()) {
      Tensor out = std::move(it->second);
      pool_.erase(it);
      return out;
    }
  }
  fresh = true;
  return Tensor::uninitialized(t.dtype, t.shape);
}

void FastProgram::release(Tensor t) const {
  std::lock_guard lock(pool_mutex_);
  // Enough for a few concurrent calls; beyond that, memory goes back.
  if (pool_.size() < 64) pool_.emplace(std::pair{t.dtype(), t.shape()}, std::move(t));
}

thread_local Scratch tls_scratch;

void FastProgram::run_group(const Group& g, const Instance::GroupRun& gr, std::vector<const Tensor*>& view,
                            std::vector<Tensor>& owned, const std::vector<char>& fresh) const {
  const std::size_t num_leaves = g.leaves.size();
  const std::size_t num_refs = num_leaves + g.num_scratch;
  const std::int64_t total = gr.size;
  const std::size_t depth = gr.dims.size();

  // Destinations (allocated by the caller of run_group) and leaf sources.
  struct Dst {
    std::byte* base;
    std::size_t bytes;
    bool stream;
  };
  std::vector<Dst> dsts;
  for (const auto& s : g.stores) {
    const auto b = nodes_[s.node].buffer;
    Tensor& t = owned[b];
    // Streaming stores skip reading the destination into the cache, which
    // pays off on memory written before. On fresh pages the kernel has just
    // zeroed each page in the cache, and streaming past it costs more.
    dsts.push_back({static_cast<std::byte*>(t.raw()), dtype_size(t.dtype()), !fresh[b] && t.nbytes() >= stream_bytes_});
  }
  struct Leaf {
    const std::byte* base;
    std::size_t bytes;
    bool contiguous;  // else constant along the inner dimension
  };
  std::vector<Leaf> leaves(num_leaves);
  for (std::size_t k = 0; k < num_leaves; ++k) {
    const Tensor& t = *view[nodes_[g.leaves[k]].buffer];
    leaves[k] = {static_cast<const std::byte*>(t.raw()), dtype_size(t.dtype()), depth != 0 && gr.strides[k][depth - 1] != 0};
  }
  // A non-streaming store of a computed member writes the destination
  // directly: its chunk buffer (its own, see codegen) is pointed there.
  // A streamed store is computed into the chunk buffer and copied out with
  // store_chunk, unless its affine instruction can stream it itself.
  std::vector<char> direct(g.stores.size(), 0), stream_instr(g.code.size(), 0);
  for (std::size_t s = 0; s < g.stores.size(); ++s) {
    const auto r = g.stores[s].ref;
    bool first = true;
    for (std::size_t e = 0; e < s; ++e) first = first && g.stores[e].ref != r;
    direct[s] = (!dsts[s].stream || g.stores[s].instr != kNone) && r >= num_leaves && first;
    if (direct[s] && dsts[s].stream) stream_instr[g.stores[s].instr] = 1;
  }
  const std::int64_t num_tasks = (total + kTask - 1) / kTask;
  std::vector<double> partials(static_cast<std::size_t>(num_tasks) * g.sinks.size(), 0.0);
  bool any_stream = false;
  for (const Dst& d : dsts) any_stream |= d.stream;

  auto run_range = [&](std::int64_t task) {
    const std::int64_t begin = task * kTask, end = std::min(total, begin + kTask);
    // Chunk buffers: scratch refs, then one per leaf for broadcast fills.
    const std::int64_t chunk = g.chunk;
    const std::size_t chunk_bytes = static_cast<std::size_t>(chunk) * 8;
    std::byte* scratch = tls_scratch.get((g.num_scratch + num_leaves) * chunk_bytes);
    const void* ptrs[256];
    std::vector<const void*> big_ptrs;
    const void** ref = ptrs;
    if (num_refs > 256) {
      big_ptrs.resize(num_refs);
      ref = big_ptrs.data();
    }
    for (std::size_t s = 0; s < g.num_scratch; ++s) ref[num_leaves + s] = scratch + s * chunk_bytes;
    std::byte* fill_area = scratch + g.num_scratch * chunk_bytes;
    std::vector<const std::byte*> filled_src(num_leaves, nullptr);
    std::vector<std::int64_t> filled_n(num_leaves, 0);
    std::vector<std::int64_t> offset(num_leaves, 0);
    double* acc = g.sinks.empty() ? nullptr : &partials[static_cast<std::size_t>(task) * g.sinks.size()];
    const void* in_ptrs[3];
    // A chunk's sum, accumulated in the element type like the reference's sum.
    auto add_partial = [&](std::size_t s, double c) {
      acc[s] = nodes_[g.sinks[s].node].type.dtype == DType::float32
                   ? static_cast<double>(static_cast<float>(acc[s]) + static_cast<float>(c))
                   : acc[s] + c;
    };

    for (std::int64_t p = begin; p < end;) {
      const std::int64_t row = p / gr.inner, col = p % gr.inner;
      const std::int64_t n = std::min({chunk, gr.inner - col, end - p});
      std::fill(offset.begin(), offset.end(), 0);
      if (depth > 1) {
        for (std::int64_t rest = row, d = static_cast<std::int64_t>(depth) - 2; d >= 0; --d) {
          const auto du = static_cast<std::size_t>(d);
          const std::int64_t i = rest % gr.dims[du];
          rest /= gr.dims[du];
          for (std::size_t k = 0; k < num_leaves; ++k) offset[k] += i * gr.strides[k][du];
        }
      }
      for (std::size_t k = 0; k < num_leaves; ++k) {
        const Leaf& l = leaves[k];
        if (l.contiguous) {
          const std::byte* src = l.base + static_cast<std::size_t>(offset[k] + col) * l.bytes;
          // Read in place. No software prefetch: the hardware prefetchers
          // follow these sequential streams, and prefetching each line of the
          // next chunk measured slower (docs/performance.md).
          ref[k] = src;
        } else {
          const std::byte* src = l.base + static_cast<std::size_t>(offset[k]) * l.bytes;
          std::byte* buf = fill_area + k * chunk_bytes;
          if (src != filled_src[k] || n > filled_n[k]) {
            fill_chunk(buf, src, chunk, l.bytes);
            filled_src[k] = src;
            filled_n[k] = chunk;
          }
          ref[k] = buf;
        }
      }
      for (std::size_t s = 0; s < g.stores.size(); ++s)
        if (direct[s]) ref[g.stores[s].ref] = dsts[s].base + static_cast<std::size_t>(p) * dsts[s].bytes;
      for (std::size_t k = 0; k < g.code.size(); ++k) {
        const Instr& ins = g.code[k];
        in_ptrs[0] = ref[ins.in[0]];
        in_ptrs[1] = ins.in[1] != kNone ? ref[ins.in[1]] : nullptr;
        in_ptrs[2] = ins.in[2] != kNone ? ref[ins.in[2]] : nullptr;
        void* out = ins.out != kNone ? const_cast<void*>(ref[ins.out]) : nullptr;
        if (ins.select) {
          ins.select(n, in_ptrs[0], in_ptrs[1], in_ptrs[2], ins.in[3] != kNone ? ref[ins.in[3]] : nullptr, out, ins.sargs,
                     stream_instr[k] != 0);
          continue;
        }
        if (!ins.affine) {
          ins.fn(n, in_ptrs, out, ins.params.data());
          continue;
        }
        const double c = ins.affine(n, in_ptrs[0], in_ptrs[1], out, ins.args, stream_instr[k] != 0);
        if (ins.sink != kNone) add_partial(ins.sink, c);
      }
      for (std::size_t s = 0; s < g.stores.size(); ++s) {
        if (direct[s]) continue;
        const Dst& d = dsts[s];
        store_chunk(d.base + static_cast<std::size_t>(p) * d.bytes, ref[g.stores[s].ref], n, d.bytes, d.stream);
      }
      for (std::size_t s = 0; s < g.sinks.size(); ++s)
        if (g.sinks[s].ref != kNone) add_partial(s, sum_chunk(ref[g.sinks[s].ref], n, nodes_[g.sinks[s].node].type.dtype));
      p += n;
    }
    if (any_stream) store_fence();
  };

  const int participants =
      total >= kParallelMin ? static_cast<int>(std::min<std::int64_t>(threads_, total / kTask)) : 1;
  if (participants <= 1) {
    for (std::int64_t t = 0; t < num_tasks; ++t) run_range(t);
  } else {
    parallel_for(num_tasks, participants, run_range);
  }

  // Sums: task partials added in task order, so the result does not depend
  // on which thread ran which task.
  for (std::size_t s = 0; s < g.sinks.size(); ++s) {
    const PNode& sn = nodes_[g.sinks[s].node];
    Tensor& out = owned[sn.buffer];
    if (sn.type.dtype == DType::float32) {
      float a = 0.0f;
      for (std::int64_t t = 0; t < num_tasks; ++t) a += static_cast<float>(partials[static_cast<std::size_t>(t) * g.sinks.size() + s]);
      *out.data<float>() = a;
    } else {
      double a = 0.0;
      for (std::int64_t t = 0; t < num_tasks; ++t) a += partials[static_cast<std::size_t>(t) * g.sinks.size() + s];
      *out.data<double>() = a;
    }
  }
}

/// When run-time shapes break the fused kernel's assumption (a symbolic
/// dimension that is 1 on one member and n on another), the members run one
/// at a time with their own kernels: slower, same results.
void FastProgram::run_group_unfused(const Group& g, const Instance& inst, std::vector<const Tensor*>& view,
                                    std::vector<Tensor>& owned) const {
  std::map<std::uint32_t, Tensor> local;
  auto value_of = [&](std::uint32_t node) -> const Tensor& {
    auto it = local.find(node);
    if (it != local.end()) return it->second;
    return *view[nodes_[node].buffer];
  };
  Tensor placeholder;
  std::vector<const Tensor*> ins;
  auto compute = [&](std::uint32_t node) {
    const PNode& n = nodes_[node];
    ins.clear();
    for (std::size_t j = 0; j < n.inputs.size(); ++j) {
      const PNode& in = nodes_[n.inputs[j]];
      // broadcast_to / sum_to's `like` lends only its shape: it may have no
      // buffer, or one that a later step fills.
      const bool shape_only = j == 1 && n.kernel == nullptr;
      const bool absent = !local.count(n.inputs[j]) && (in.buffer == kNone || view[in.buffer] == nullptr);
      ins.push_back(shape_only && absent ? &placeholder : &value_of(n.inputs[j]));
    }
    Tensor out(n.type.dtype, inst.shapes[node]);
    n.op->compute(ins, n.attrs, out);
    return out;
  };
  for (auto m : g.members) local[m] = compute(m);
  for (const auto& s : g.stores) {
    Tensor& dst = owned[nodes_[s.node].buffer];
    std::memcpy(dst.raw(), local[s.node].raw(), dst.nbytes());
  }
  for (const auto& s : g.sinks) {
    Tensor v = compute(s.node);
    Tensor& dst = owned[nodes_[s.node].buffer];
    std::memcpy(dst.raw(), v.raw(), dst.nbytes());
  }
}

void FastProgram::run_opaque(std::uint32_t node, const Instance&, std::vector<const Tensor*>& view,
                             std::vector<Tensor>& owned) const {
  const PNode& n = nodes_[node];
  static const Tensor placeholder;
  std::vector<const Tensor*> ins;
  for (std::size_t j = 0; j < n.inputs.size(); ++j) {
    const PNode& in = nodes_[n.inputs[j]];
    const Tensor* v = in.buffer == kNone ? nullptr : view[in.buffer];
    // Only broadcast_to's and sum_to's `like` may be absent (it lends its
    // shape, and a later step may fill its buffer).
    if (!v && !(j == 1 && (n.op->name() == "broadcast_to" || n.op->name() == "sum_to")))
      throw Error("compile: internal error: operand " + std::to_string(j) + " of " + n.op->name() + " is not computed");
    ins.push_back(v ? v : &placeholder);
  }
  Tensor& out = owned[n.buffer];
  // compute() may accumulate into its output, which the reference zero-fills.
  std::memset(out.raw(), 0, out.nbytes());
  n.op->compute(ins, n.attrs, out);
}

void FastProgram::run(const std::vector<Tensor>& args, std::vector<Tensor>& outputs, bool reuse) const {
  const std::shared_ptr<const Instance> inst = instance_for(args);
  if (inst->over) throw *inst->over;
  std::vector<const Tensor*> view(num_buffers_, nullptr);
  std::vector<Tensor> owned(num_buffers_);
  std::vector<char> fresh(num_buffers_, 0);

  // Output buffers: the caller's tensors where they fit, else new ones.
  std::vector<Tensor> result(outputs_.size());
  std::vector<std::uint32_t> first_output_of_buffer(num_buffers_, kNone);
  for (std::size_t i = 0; i < outputs_.size(); ++i) {
    const PNode& n = nodes_[outputs_[i]];
    const TensorType t{n.type.dtype, inst->shapes[outputs_[i]]};
    const bool fits = reuse && i < outputs.size() && reusable_output(outputs[i], t, args, outputs, i);
    if (n.kind == Kind::input || n.kind == Kind::constant) {
      // Results never alias arguments or the program's constants: copied.
      const Tensor& src = n.kind == Kind::input ? args[n.arg] : constants_[n.value];
      result[i] = fits ? outputs[i] : Tensor::uninitialized(t.dtype, t.shape);
      std::memcpy(result[i].raw(), src.raw(), src.nbytes());
      continue;
    }
    if (first_output_of_buffer[n.buffer] != kNone) continue;  // the same node listed twice
    first_output_of_buffer[n.buffer] = static_cast<std::uint32_t>(i);
    owned[n.buffer] = fits ? outputs[i] : Tensor::uninitialized(t.dtype, t.shape);
    fresh[n.buffer] = !fits;
    view[n.buffer] = &owned[n.buffer];
  }
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    const PNode& n = nodes_[i];
    if (n.buffer == kNone) continue;
    if (n.kind == Kind::input) view[n.buffer] = &args[n.arg];
    if (n.kind == Kind::constant) view[n.buffer] = &constants_[n.value];
  }

  auto allocate = [&](std::uint32_t node) {
    const PNode& n = nodes_[node];
    if (view[n.buffer]) return;  // an output buffer
    bool is_new = false;
    owned[n.buffer] = acquire({n.type.dtype, inst->shapes[node]}, is_new);
    fresh[n.buffer] = is_new;
    view[n.buffer] = &owned[n.buffer];
  };
  for (const Step& step : steps_) {
    if (step.fused) {
      const Group& g = groups_[step.index];
      for (const auto& s : g.stores) allocate(s.node);
      for (const auto& s : g.sinks) allocate(s.node);
      const auto& gr = inst->groups[step.index];
      if (gr.fused) {
        run_group(g, gr, view, owned, fresh);
      } else {
        run_group_unfused(g, *inst, view, owned);
      }
    } else {
      allocate(step.index);
      run_opaque(step.index, *inst, view, owned);
    }
    for (auto b : step.release) {
      if (buffer_is_output_[b]) continue;
      release(std::move(owned[b]));
      view[b] = nullptr;
    }
  }

  for (std::size_t i = 0; i < outputs_.size(); ++i) {
    const PNode& n = nodes_[outputs_[i]];
    if (n.kind == Kind::input || n.kind == Kind::constant) continue;
    const auto first = first_output_of_buffer[n.buffer];
    result[i] = first == i ? owned[n.buffer] : result[first];
  }
  outputs = std::move(result);
}

std::string FastProgram::describe() const {
  std::string out;
  for (const Step& s : steps_) {
    if (!s.fused) {
      out += "op " + nodes_[s.index].op->name() + "\n";
      continue;
    }
    const Group& g = groups_[s.index];
    std::string names;
    for (auto m : g.members) names += (names.empty() ? "" : " ") + nodes_[m].op->name();
    out += "fused[" + count_str(g.members.size(), "op") + " in " + count_str(g.code.size(), "pass", "passes") + ": " +
           names + "] reads " + std::to_string(g.leaves.size()) + ", writes " + std::to_string(g.stores.size());
    if (!g.sinks.empty()) out += ", sums " + std::to_string(g.sinks.size());
    out += "\n";
  }
  return out;
}

// ---------------------------------------------------------------------------
// Compile time.

struct Planner {
  Planner(const CompileOptions& o, FastProgram& program) : options(o), p(program) {}

  const CompileOptions& options;
  FastProgram& p;
  std::vector<std::vector<std::uint32_t>> users;  // data users, plan indices
  std::vector<std::uint32_t> gid;                 // per plan node: planning group
  std::vector<std::vector<std::uint32_t>> members;
  std::vector<std::vector<std::uint32_t>> sums;  // per planning group: attached full sums
  std::vector<char> dead_group;
  std::vector<std::uint32_t> mark;        // search marks, per node
  std::vector<std::uint32_t> group_mark;  // search marks, per planning group
  std::size_t budget = kSearchBudget;
  std::vector<std::uint32_t> member_slot, leaf_slot;  // codegen scratch, per plan node
  /// All searches of one compile together: past it, no more merges that
  /// need a search (a kernel still takes a node all of whose users it holds).
  std::size_t work_left = kPlanningWork;
  std::uint32_t epoch = 0;

  const Op* op_broadcast_to = OpRegistry::instance().find("broadcast_to");
  const Op* op_sum_to = OpRegistry::instance().find("sum_to");
  const Op* op_sum = OpRegistry::instance().find("sum");

  bool is_alias(const PNode& n) const { return n.op == op_broadcast_to || n.op == op_sum_to; }
  /// Operand j of n carries data (the `like` operand of broadcast_to and
  /// sum_to only gives a shape).
  bool data_operand(const PNode& n, std::size_t j) const { return !(is_alias(n) && j == 1); }

  /// The kernel (planning group) a node runs in, for members and sums.
  std::uint32_t group_of(std::uint32_t v) const {
    if (gid[v] != kNone) return gid[v];
    return p.nodes_[v].kind == Kind::sink ? p.nodes_[v].group : kNone;
  }

  /// Some node reachable from `starts` is in `target`, or the search ran out
  /// of budget. Reachability is that of the step graph, not only of the
  /// nodes: a kernel runs as one step, so reaching any of its nodes continues
  /// from all of them (two kernels can form a cycle without any node path
  /// leaving one and returning to it).
  template <class InTarget> bool reaches(const std::vector<std::uint32_t>& starts, InTarget in_target) {
    ++epoch;
    if (group_mark.size() < members.size()) group_mark.resize(members.size(), 0);
    std::vector<std::uint32_t> stack;
    std::size_t visited = 0;
    bool exhausted = false;
    auto push = [&](std::uint32_t u) {
      if (mark[u] == epoch) return;
      mark[u] = epoch;
      stack.push_back(u);
      exhausted = exhausted || ++visited > budget || work_left == 0;
      if (work_left) --work_left;
    };
    for (auto s : starts) push(s);
    while (!stack.empty()) {
      const auto v = stack.back();
      stack.pop_back();
      if (in_target(v) || exhausted) return true;
      for (auto u : users[v]) push(u);
      const auto g = group_of(v);
      if (g != kNone && group_mark[g] != epoch) {
        group_mark[g] = epoch;
        for (auto m : members[g]) push(m);
        for (auto m : sums[g]) push(m);
      }
    }
    return false;
  }

  /// Users outside groups a and b of the members and sums of group g: the
  /// ways out of g (a sum is a result of its kernel like a member); nullopt
  /// when there are more than the search budget (then a search from them
  /// would give up anyway).
  std::optional<std::vector<std::uint32_t>> external_users(std::uint32_t g, std::uint32_t a, std::uint32_t b) {
    std::vector<std::uint32_t> out;
    for (const auto* set : {&members[g], &sums[g]})
      for (auto v : *set)
        for (auto u : users[v])
          if (gid[u] != a && gid[u] != b) {
            if (out.size() >= budget) return std::nullopt;
            out.push_back(u);
          }
    return out;
  }
  /// a and b as one kernel keeps the step graph acyclic: no path from one
  /// to the other through anything else.
  bool can_merge(std::uint32_t a, std::uint32_t b) {
    if (members[a].size() + members[b].size() > kMaxKernelOps) return false;
    const auto in_a = [&](std::uint32_t v) { return gid[v] == a; };
    const auto in_b = [&](std::uint32_t v) { return gid[v] == b; };
    const auto out_a = external_users(a, a, b);
    if (!out_a || reaches(*out_a, in_b)) return false;
    const auto out_b = external_users(b, a, b);
    return out_b && !reaches(*out_b, in_a);
  }
  std::uint32_t merge(std::uint32_t a, std::uint32_t b) {
    if (members[a].size() < members[b].size()) std::swap(a, b);
    for (auto v : members[b]) gid[v] = a;
    members[a].insert(members[a].end(), members[b].begin(), members[b].end());
    members[b].clear();
    for (auto v : sums[b]) p.nodes_[v].group = a;
    sums[a].insert(sums[a].end(), sums[b].begin(), sums[b].end());
    sums[b].clear();
    dead_group[b] = 1;
    return a;
  }
  std::uint32_t new_group(std::uint32_t v) {
    const auto g = static_cast<std::uint32_t>(members.size());
    members.push_back({v});
    sums.emplace_back();
    dead_group.push_back(0);
    gid[v] = g;
    return g;
  }

  void plan_groups();
  void attach_sums();
  void merge_siblings();
  void emit();
  void codegen(Group& g);
};

void Planner::plan_groups() {
  auto& nodes = p.nodes_;
  gid.assign(nodes.size(), kNone);
  mark.assign(nodes.size(), 0);
  // Consumers first: a node joins the kernel of its same-shape elementwise
  // users when that keeps the step graph acyclic.
  for (std::size_t i = nodes.size(); i-- > 0;) {
    const auto v = static_cast<std::uint32_t>(i);
    if (nodes[v].kind != Kind::fused) continue;
    std::vector<std::uint32_t> candidates;
    if (options.fuse) {
      for (auto u : users[v]) {
        const PNode& un = nodes[u];
        if (un.kind != Kind::fused || un.type.shape != nodes[v].type.shape) continue;
        if (is_alias(un) && un.inputs[0] != v) continue;
        if (std::find(candidates.begin(), candidates.end(), gid[u]) == candidates.end()) candidates.push_back(gid[u]);
        if (candidates.size() == kMaxCandidates) break;
      }
    }
    std::uint32_t g = kNone;
    for (auto c : candidates) {
      if (dead_group[c]) continue;
      if (g == kNone) {
        if (members[c].size() >= kMaxKernelOps) continue;
        std::vector<std::uint32_t> outside;
        for (auto u : users[v])
          if (gid[u] != c && outside.size() <= budget) outside.push_back(u);
        // v's users outside c must not lead back into c. (Nothing can lead
        // from c to v: every kernel so far holds only nodes after v.) More
        // of them than a search may visit: assume one does.
        if (outside.empty() ||
            (outside.size() <= budget && !reaches(outside, [&](std::uint32_t x) { return gid[x] == c; }))) {
          members[c].push_back(v);
          gid[v] = c;
          g = c;
        }
      } else if (can_merge(g, c)) {
        g = merge(g, c);
      }
    }
    if (g == kNone) new_group(v);
  }
}

/// sum over every axis of a kernel member becomes a reduction inside the
/// kernel: the member need not be written to memory for it.
void Planner::attach_sums() {
  auto& nodes = p.nodes_;
  for (std::uint32_t s = 0; s < nodes.size(); ++s) {
    PNode& n = nodes[s];
    if (n.kind != Kind::opaque || n.op != op_sum || !options.fuse) continue;
    const std::uint32_t v = n.inputs[0];
    if (nodes[v].kind != Kind::fused || !is_float(nodes[v].type.dtype)) continue;
    if (n.attrs.get<std::vector<std::int64_t>>("axes").size() != nodes[v].type.shape.size()) continue;
    const std::uint32_t g = gid[v];
    if (reaches(users[s], [&](std::uint32_t x) { return gid[x] == g; })) continue;
    n.kind = Kind::sink;
    n.group = g;
    sums[g].push_back(s);
  }
}

/// Kernels of one shape that read a common input and do not depend on each
/// other become one kernel, so the input is read once (the forward and
/// gradient kernels of an elementwise function, for example).
void Planner::merge_siblings() {
  if (!options.fuse) return;
  auto& nodes = p.nodes_;
  std::vector<std::uint32_t> live;
  for (std::uint32_t g = 0; g < members.size(); ++g)
    if (!dead_group[g]) live.push_back(g);
  // Per group: the nodes its members read from outside it, sorted; kept
  // for the groups compared, and updated when two merge.
  std::vector<std::vector<std::uint32_t>> leaves(members.size());
  std::vector<char> known(members.size(), 0);
  auto leaves_of = [&](std::uint32_t g) -> const std::vector<std::uint32_t>& {
    if (known[g]) return leaves[g];
    std::vector<std::uint32_t>& out = leaves[g];
    out.clear();
    for (auto m : members[g])
      for (std::size_t j = 0; j < nodes[m].inputs.size(); ++j)
        if (data_operand(nodes[m], j) && gid[nodes[m].inputs[j]] != g) out.push_back(nodes[m].inputs[j]);
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    known[g] = 1;
    return out;
  };
  for (std::size_t i = 0; i < live.size(); ++i) {
    const auto b = live[i];
    if (dead_group[b]) continue;
    for (std::size_t back = 1; back <= 8 && back <= i; ++back) {
      const auto a = live[i - back];
      if (dead_group[a] || nodes[members[a][0]].type.shape != nodes[members[b][0]].type.shape) continue;
      if (members[a].size() + members[b].size() > kMaxKernelOps) continue;
      const auto& la = leaves_of(a);
      const auto& lb = leaves_of(b);
      std::vector<std::uint32_t> common;
      std::set_intersection(la.begin(), la.end(), lb.begin(), lb.end(), std::back_inserter(common));
      if (common.empty() || !can_merge(a, b)) continue;
      std::vector<std::uint32_t> both;
      std::set_union(la.begin(), la.end(), lb.begin(), lb.end(), std::back_inserter(both));
      const auto m = merge(a, b);  // sums follow their group
      std::erase_if(both, [&](std::uint32_t x) { return gid[x] == m; });
      leaves[m] = std::move(both);
      known[a] = known[b] = 0;
      known[m] = 1;
      live[i] = m;
      break;
    }
  }
}

/// Final groups, buffers, schedule and per-kernel code.
void Planner::emit() {
  auto& nodes = p.nodes_;
  const auto n_nodes = static_cast<std::uint32_t>(nodes.size());
  // Renumber live groups.
  std::vector<std::uint32_t> final_id(members.size(), kNone);
  for (std::uint32_t g = 0; g < members.size(); ++g) {
    if (dead_group[g]) continue;
    final_id[g] = static_cast<std::uint32_t>(p.groups_.size());
    p.groups_.emplace_back();
    auto& m = p.groups_.back().members;
    m = members[g];
    std::sort(m.begin(), m.end());
  }
  for (auto& n : nodes) {
    if (n.kind == Kind::fused) n.group = final_id[gid[&n - nodes.data()]];
    if (n.kind == Kind::sink) n.group = final_id[n.group];
  }
  for (std::uint32_t v = 0; v < n_nodes; ++v)
    if (nodes[v].kind == Kind::sink) p.groups_[nodes[v].group].sinks.push_back({kNone, v});

  // Which values live in buffers: arguments and constants that something
  // reads, outputs, sums, opaque results, and members read outside their kernel.
  std::vector<char> needs(n_nodes, 0);
  for (auto o : p.outputs_) needs[o] = 1;
  for (std::uint32_t v = 0; v < n_nodes; ++v) {
    const PNode& n = nodes[v];
    if (n.kind == Kind::shape || n.kind == Kind::input || n.kind == Kind::constant) continue;
    if (n.kind == Kind::sink || n.kind == Kind::opaque) needs[v] = 1;
    for (std::size_t j = 0; j < n.inputs.size(); ++j) {
      const auto in = n.inputs[j];
      if (!data_operand(n, j)) continue;
      const bool same_kernel = (n.kind == Kind::fused || n.kind == Kind::sink) && nodes[in].kind == Kind::fused &&
                               nodes[in].group == n.group;
      if (!same_kernel) needs[in] = 1;
    }
  }
  for (std::uint32_t v = 0; v < n_nodes; ++v)
    if (needs[v]) nodes[v].buffer = p.num_buffers_++;
  p.buffer_is_output_.assign(p.num_buffers_, 0);
  for (auto o : p.outputs_) p.buffer_is_output_[nodes[o].buffer] = 1;

  // Steps: one per kernel and per opaque node, in a topological order of
  // the step graph (planning kept it acyclic; a cycle here is a bug).
  std::vector<std::uint32_t> step_of(n_nodes, kNone);
  std::vector<Step> steps;
  for (std::uint32_t g = 0; g < p.groups_.size(); ++g) steps.push_back({true, g, {}});
  for (std::uint32_t v = 0; v < n_nodes; ++v) {
    const PNode& n = nodes[v];
    if (n.kind == Kind::fused || n.kind == Kind::sink) step_of[v] = n.group;
    if (n.kind == Kind::opaque) {
      step_of[v] = static_cast<std::uint32_t>(steps.size());
      steps.push_back({false, v, {}});
    }
  }
  std::vector<std::vector<std::uint32_t>> succ(steps.size());
  std::vector<std::uint32_t> indeg(steps.size(), 0), first_node(steps.size(), kNone);
  for (std::uint32_t v = 0; v < n_nodes; ++v) {
    const PNode& n = nodes[v];
    const auto s = step_of[v];
    if (s == kNone) continue;
    first_node[s] = std::min(first_node[s], v);
    for (std::size_t j = 0; j < n.inputs.size(); ++j) {
      const auto t = step_of[n.inputs[j]];
      if (!data_operand(n, j) || t == kNone || t == s) continue;
      succ[t].push_back(s);
      ++indeg[s];
    }
  }
  std::priority_queue<std::pair<std::uint32_t, std::uint32_t>, std::vector<std::pair<std::uint32_t, std::uint32_t>>,
                      std::greater<>>
      ready;
  for (std::uint32_t s = 0; s < steps.size(); ++s)
    if (!indeg[s]) ready.push({first_node[s], s});
  std::vector<std::uint32_t> order_of_step(steps.size(), kNone);
  while (!ready.empty()) {
    const auto s = ready.top().second;
    ready.pop();
    order_of_step[s] = static_cast<std::uint32_t>(p.steps_.size());
    p.steps_.push_back(steps[s]);
    for (auto t : succ[s])
      if (--indeg[t] == 0) ready.push({first_node[t], t});
  }
  if (p.steps_.size() != steps.size()) {
    // Appended piece by piece: GCC 12 at -O3 warns (-Wrestrict, wrongly)
    // about "literal" + std::string here.
    std::string msg = "compile: internal error: the fused schedule has a cycle among:";
    for (std::uint32_t st = 0; st < steps.size(); ++st) {
      if (order_of_step[st] != kNone) continue;
      msg.append("\n step ").append(std::to_string(st)).append(steps[st].fused ? " kernel:" : " op:");
      for (std::uint32_t v = 0; v < n_nodes; ++v)
        if (step_of[v] == st) msg.append(" ").append(std::to_string(v)).append("=").append(nodes[v].op->name());
      msg.append(" -> steps");
      for (auto t : succ[st]) msg.append(" ").append(std::to_string(t));
    }
    throw Error(msg);
  }

  // A buffer that is no output dies after the last step reading it.
  std::vector<std::uint32_t> last_reader(p.num_buffers_, kNone);
  for (std::uint32_t v = 0; v < n_nodes; ++v) {
    const PNode& n = nodes[v];
    if (step_of[v] == kNone) continue;
    for (std::size_t j = 0; j < n.inputs.size(); ++j) {
      const auto b = nodes[n.inputs[j]].buffer;
      if (b == kNone || !data_operand(n, j)) continue;
      const auto pos = order_of_step[step_of[v]];
      if (last_reader[b] == kNone || last_reader[b] < pos) last_reader[b] = pos;
    }
  }
  for (std::uint32_t v = 0; v < n_nodes; ++v) {
    const auto b = nodes[v].buffer;
    if (b == kNone || p.buffer_is_output_[b]) continue;
    const Kind k = nodes[v].kind;
    if (k == Kind::input || k == Kind::constant) continue;
    // A value nobody reads (impossible for a non-output) still gets freed.
    const auto at = last_reader[b] != kNone ? last_reader[b] : order_of_step[step_of[v]];
    p.steps_[at].release.push_back(b);
  }

  // Kernel code: refs are leaves first, then chunk buffers allocated by
  // liveness within the kernel.
  for (auto& g : p.groups_) codegen(g);
}

/// One kernel's instructions. Members are evaluated in order, and chains of
/// add, sub, mul, scale, abs and sign collapse into affine instructions
/// y = op(pre_a(a) * fa, pre_b(b) * fb) * post (kernels.hpp), each one pass
/// over the chunk:
/// - an abs, sign, scale, or scale of abs or sign, that only feeds one
///   affine instruction becomes that instruction's operand transform;
/// - a scale of an add/sub/mul that only feeds it becomes its `post`;
/// - a one-element constant operand becomes the constant c (no chunk read);
/// - a full sum of an affine instruction's result is added up by the
///   instruction itself, which then stores nothing if nothing else reads it.
/// relu's 0.5 * (x + |x|), leaky relu's f1 * x + f2 * |x| and their gradient
/// f2 * sign(x) + f1 are one instruction each.
void Planner::codegen(Group& g) {
  auto& nodes = p.nodes_;
  const auto count = static_cast<std::uint32_t>(g.members.size());
  // Per plan node: its index in this kernel's members, its leaf ref (both
  // kNone when it is neither); reset for the next kernel at the end.
  member_slot.resize(nodes.size(), kNone);
  leaf_slot.resize(nodes.size(), kNone);
  for (std::uint32_t i = 0; i < count; ++i) member_slot[g.members[i]] = i;
  auto member_of = [&](std::uint32_t node) { return member_slot[node]; };
  // Leaves get refs only when an emitted instruction, store or sum reads
  // them (a constant folded into an instruction is not read).
  auto leaf = [&](std::uint32_t node) {
    if (leaf_slot[node] == kNone) {
      leaf_slot[node] = static_cast<std::uint32_t>(g.leaves.size());
      g.leaves.push_back(node);
    }
    return leaf_slot[node];
  };
  // What each member's chunk is: its own (kernel members), or an operand's
  // (aliases): a member index, or a leaf's plan node with the high bit set.
  constexpr std::uint32_t kLeafBit = 1u << 31;
  std::vector<std::uint32_t> source(count);
  // stored: written out (directly or through an alias); pinned: stored or
  // summed by sum_chunk, so its chunk lives to the end in a buffer of its own.
  std::vector<char> stored(count, 0), pinned(count, 0);
  for (std::uint32_t i = 0; i < count; ++i) {
    const PNode& n = nodes[g.members[i]];
    if (n.kernel) {
      source[i] = i;
    } else {
      const auto m = member_of(n.inputs[0]);
      source[i] = m != kNone ? source[m] : (n.inputs[0] | kLeafBit);
      if (n.op == op_sum_to) g.sum_to_members.push_back(g.members[i]);
    }
    if (n.buffer != kNone && !(source[i] & kLeafBit)) stored[source[i]] = pinned[source[i]] = 1;
  }
  auto operand = [&](std::uint32_t node) {
    const auto m = member_of(node);
    return m != kNone ? source[m] : (node | kLeafBit);
  };
  std::vector<std::uint32_t> sink_source(g.sinks.size());
  for (std::size_t k = 0; k < g.sinks.size(); ++k) {
    sink_source[k] = operand(nodes[g.sinks[k].node].inputs[0]);
    // Summed values are not folded into their users: they stay results.
    if (!(sink_source[k] & kLeafBit)) pinned[sink_source[k]] = 1;
  }

  // The instruction each kernel member would run, before folding.
  struct Plan {
    KernelFn fn = nullptr;
    bool affine = false;
    AffineOp aop = AffineOp::first;
    std::array<Pre, 2> pre{Pre::none, Pre::none};
    std::array<bool, 2> scaled{false, false};
    bool has_post = false;
    AffineArgs args;
    std::array<std::uint32_t, 4> in{kNone, kNone, kNone, kNone};  // sources
    std::array<double, 3> params{0.0, 0.0, 0.0};
    std::uint32_t sink = kNone;
    bool skip = false;
    std::string_view op;
    // A select instruction (a compare and a switch, fused).
    bool select = false;
    SelectCmp cmp = SelectCmp::gt;
    std::array<bool, 3> constant{false, false, false};  // b, t, f
    SelectArgs sargs;
  };
  std::vector<Plan> plan(count);
  std::vector<std::uint32_t> uses(count, 0);
  for (std::uint32_t i = 0; i < count; ++i) {
    const PNode& n = nodes[g.members[i]];
    if (!n.kernel) continue;
    Plan& pl = plan[i];
    pl.fn = n.kernel;
    const std::string& op = n.op->name();
    pl.op = op;
    if (op == "scale") pl.params[0] = n.attrs.get<double>("factor");
    for (std::size_t j = 0; j < n.inputs.size(); ++j) {
      pl.in[j] = operand(n.inputs[j]);
      if (!(pl.in[j] & kLeafBit)) ++uses[pl.in[j]];
    }
    // The ops with an affine form (kernels exist for float and double only).
    pl.affine = true;
    if (op == "add") pl.aop = AffineOp::add;
    else if (op == "sub") pl.aop = AffineOp::sub;
    else if (op == "mul") pl.aop = AffineOp::mul;
    else if (op == "maximum") pl.aop = AffineOp::maximum;
    else if (op == "minimum") pl.aop = AffineOp::minimum;
    else if (op == "abs") pl.pre[0] = Pre::abs;
    else if (op == "sign") pl.pre[0] = Pre::sign;
    else if (op == "scale") pl.has_post = true, pl.args.post = pl.params[0];
    else pl.affine = false;
  }
  auto dtype_of_member = [&](std::uint32_t i) { return nodes[g.members[i]].type.dtype; };
  // A use through an alias counts like a direct one (operands resolve to
  // sources), and a written or summed alias pins its source.
  auto foldable = [&](std::uint32_t s) { return !(s & kLeafBit) && uses[s] == 1 && !pinned[s] && !plan[s].skip; };
  auto binary = [](const Plan& pl) { return pl.affine && pl.aop != AffineOp::first; };
  // A one-element constant: its value (no chunk of it need be read).
  auto scalar_constant = [&](std::uint32_t s, DType t) {
    if (!(s & kLeafBit)) return false;
    const PNode& n = nodes[s & ~kLeafBit];
    return n.kind == Kind::constant && n.type.dtype == t && p.constants_[n.value].size() == 1;
  };
  auto constant_value = [&](std::uint32_t s) { return p.constants_[nodes[s & ~kLeafBit].value].at(0); };
  // Which operand of a plain product v * c or c * v is the one-element constant c.
  auto constant_factor = [&](const Plan& pl) -> std::optional<std::size_t> {
    if (!pl.affine || pl.aop != AffineOp::mul || pl.has_post || pl.pre[0] != Pre::none || pl.pre[1] != Pre::none ||
        pl.scaled[0] || pl.scaled[1])
      return std::nullopt;
    const DType t = pl.in[0] & kLeafBit ? nodes[pl.in[0] & ~kLeafBit].type.dtype : dtype_of_member(pl.in[0]);
    if (scalar_constant(pl.in[1], t)) return 1;
    if (scalar_constant(pl.in[0], t)) return 0;
    return std::nullopt;
  };
  // switch(cmp(a, b), t, f), the comparison read by the switch alone and on
  // operands of the switch's dtype: one select instruction, with a scale of
  // t or f that only the switch reads folded in, and one-element constants
  // as values (c > x is x < c: a constant goes to the right).
  auto fuse_select = [&](std::uint32_t i) {
    const DType t = dtype_of_member(i);
    const auto c = plan[i].in[0];
    if (!foldable(c) || nodes[nodes[g.members[c]].inputs[0]].type.dtype != t) return;
    struct Cmp {
      std::string_view op;
      SelectCmp cmp, mirrored;
    };
    static constexpr Cmp cmps[] = {{"gt", SelectCmp::gt, SelectCmp::lt}, {"ge", SelectCmp::ge, SelectCmp::le},
                                   {"lt", SelectCmp::lt, SelectCmp::gt}, {"le", SelectCmp::le, SelectCmp::ge},
                                   {"eq", SelectCmp::eq, SelectCmp::eq}};
    const Cmp* found = nullptr;
    for (const Cmp& e : cmps)
      if (e.op == plan[c].op) found = &e;
    if (!found) return;
    Plan sel = plan[i];
    sel.fn = nullptr;
    sel.select = true;
    sel.cmp = found->cmp;
    sel.in = {plan[c].in[0], plan[c].in[1], plan[i].in[1], plan[i].in[2]};
    if (scalar_constant(sel.in[0], t) && !scalar_constant(sel.in[1], t)) {
      std::swap(sel.in[0], sel.in[1]);
      sel.cmp = found->mirrored;
    }
    if (scalar_constant(sel.in[1], t)) {
      sel.constant[0] = true;
      sel.sargs.b = constant_value(sel.in[1]);
      sel.in[1] = kNone;
    }
    for (std::size_t j = 0; j < 2; ++j) {
      std::uint32_t& v = sel.in[2 + j];
      double& factor = j == 0 ? sel.sargs.ft : sel.sargs.ff;
      if (foldable(v) && plan[v].affine && plan[v].pre[0] == Pre::none && plan[v].pre[1] == Pre::none &&
          !plan[v].scaled[0] && !plan[v].scaled[1]) {
        Plan& src = plan[v];
        if (src.aop == AffineOp::first && src.has_post) {
          // scale(v, f)
          factor = src.args.post;
          src.skip = true;
          v = src.in[0];
        } else if (const auto kc = constant_factor(src)) {
          // v * c or c * v: the same product as a scale by c.
          factor = constant_value(src.in[*kc]);
          src.skip = true;
          v = src.in[1 - *kc];
        }
      }
      if (scalar_constant(v, t)) {
        sel.constant[1 + j] = true;
        (j == 0 ? sel.sargs.t : sel.sargs.f) = constant_value(v);
        v = kNone;
      }
    }
    plan[c].skip = true;
    plan[i] = sel;
  };
  for (std::uint32_t i = 0; i < count; ++i) {
    Plan& pl = plan[i];
    if (pl.op == "switch" && is_float(dtype_of_member(i))) {
      fuse_select(i);
      continue;
    }
    if (!pl.affine) continue;
    // A scale of an add/sub/mul: the scale's instruction does both.
    if (pl.aop == AffineOp::first && pl.pre[0] == Pre::none && !pl.scaled[0] && foldable(pl.in[0]) &&
        binary(plan[pl.in[0]]) && !plan[pl.in[0]].has_post) {
      Plan& src = plan[pl.in[0]];
      const double factor = pl.args.post;
      pl = src;
      pl.has_post = true;
      pl.args.post = factor;
      src.skip = true;
      continue;
    }
    // Operand transforms: an abs, sign or scale (or a scale of an abs or
    // sign) whose only user this is: y = pre(v) * f, with f = 1 if absent.
    const int arity = pl.aop == AffineOp::first ? 1 : 2;
    for (int j = 0; j < arity; ++j) {
      const auto ju = static_cast<std::size_t>(j);
      const auto s = pl.in[ju];
      if (!foldable(s) || pl.pre[ju] != Pre::none || pl.scaled[ju]) continue;
      Plan& src = plan[s];
      if (!src.affine || src.scaled[0]) continue;
      if (src.aop == AffineOp::first) {
        pl.pre[ju] = src.pre[0];
        pl.scaled[ju] = src.has_post;
        (ju == 0 ? pl.args.fa : pl.args.fb) = src.args.post;
        pl.in[ju] = src.in[0];
        src.skip = true;
      } else if (const auto kc = constant_factor(src)) {
        // v * c or c * v: the same product as a scale by c.
        pl.scaled[ju] = true;
        (ju == 0 ? pl.args.fa : pl.args.fb) = constant_value(src.in[*kc]);
        pl.in[ju] = src.in[1 - *kc];
        src.skip = true;
      }
    }
  }
  // A constant with one element as operand b (add and mul take it from
  // either side: a + b and b + a are the same bits; not maximum and
  // minimum, whose ties give the first operand): no chunk of it is read.
  for (std::uint32_t i = 0; i < count; ++i) {
    Plan& pl = plan[i];
    if (!binary(pl) || pl.skip) continue;
    const DType t = dtype_of_member(i);
    const bool commutes = pl.aop == AffineOp::add || pl.aop == AffineOp::mul;
    if (!scalar_constant(pl.in[1], t) && commutes && scalar_constant(pl.in[0], t)) {
      std::swap(pl.in[0], pl.in[1]);
      std::swap(pl.pre[0], pl.pre[1]);
      std::swap(pl.scaled[0], pl.scaled[1]);
      std::swap(pl.args.fa, pl.args.fb);
    }
    if (scalar_constant(pl.in[1], t) && pl.pre[1] == Pre::none && !pl.scaled[1]) {
      pl.pre[1] = Pre::constant;
      pl.args.c = constant_value(pl.in[1]);
      pl.in[1] = kNone;
    }
  }
  // A full sum of an affine result: the instruction adds it up (one sum per
  // instruction; a second sum of the same value uses sum_chunk).
  std::vector<char> sink_folded(g.sinks.size(), 0);
  for (std::size_t k = 0; k < g.sinks.size(); ++k) {
    const auto s = sink_source[k];
    if ((s & kLeafBit) || !plan[s].affine || plan[s].skip || plan[s].sink != kNone) continue;
    plan[s].sink = static_cast<std::uint32_t>(k);
    sink_folded[k] = 1;
  }
  std::vector<char> sum_chunk_reads(count, 0);
  for (std::size_t k = 0; k < g.sinks.size(); ++k)
    if (!sink_folded[k] && !(sink_source[k] & kLeafBit)) sum_chunk_reads[sink_source[k]] = 1;
  // Results nothing reads: a summing instruction that stores nothing.
  auto writes = [&](std::uint32_t i) { return stored[i] || uses[i] > 0 || sum_chunk_reads[i] || plan[i].sink == kNone; };
  for (std::uint32_t i = 0; i < count; ++i) {
    Plan& pl = plan[i];
    if (!pl.affine || pl.skip) continue;
    if (!writes(i)) pinned[i] = 0;
    const AffineMode mode = pl.sink == kNone ? AffineMode::store : writes(i) ? AffineMode::store_sum : AffineMode::sum;
    if (!pl.scaled[0]) pl.args.fa = 1.0;
    if (!pl.scaled[1]) pl.args.fb = 1.0;
    if (!pl.has_post) pl.args.post = 1.0;
    pl.fn = nullptr;
    pl.affine = find_affine_kernel(pl.aop, dtype_of_member(i), pl.pre[0], pl.pre[1], mode) != nullptr;
    if (!pl.affine) throw Error("compile: internal error: no affine kernel for a fused member");
  }

  auto is_instr = [](const Plan& pl) { return !pl.skip && (pl.fn || pl.affine || pl.select); };
  // Last use of each computed chunk, over the folded instructions; written,
  // summed and aliased chunks live to the end of the chunk.
  constexpr std::uint32_t kForever = kNone;
  std::vector<std::uint32_t> last(count, 0);
  for (std::uint32_t i = 0; i < count; ++i) {
    if (!is_instr(plan[i])) continue;
    for (auto s : plan[i].in)
      if (s != kNone && !(s & kLeafBit)) last[s] = std::max(last[s], i);
  }
  for (std::uint32_t i = 0; i < count; ++i)
    if (pinned[i]) last[i] = kForever;
  // Chunk buffers: an operand's buffer is free after its last use (not for
  // the using instruction's own result: a bool operand is narrower than a
  // float result, so in place is not safe).
  std::vector<std::uint32_t> slot(count, kNone), free_slots;
  std::vector<char> is_free;
  std::vector<std::uint32_t> emitted;
  for (std::uint32_t i = 0; i < count; ++i) {
    const Plan& pl = plan[i];
    if (!is_instr(pl)) continue;
    if (pl.affine && !writes(i)) {
      // Sums only: no chunk buffer.
    } else if (free_slots.empty() || pinned[i]) {
      // A written-out (or aliased, or summed) member gets a chunk buffer of
      // its own: at run time it may be pointed at the destination (run_group).
      slot[i] = g.num_scratch++;
      is_free.push_back(0);
    } else {
      slot[i] = free_slots.back();
      free_slots.pop_back();
      is_free[slot[i]] = 0;
    }
    for (auto s : pl.in)
      if (s != kNone && !(s & kLeafBit) && last[s] == i && !is_free[slot[s]]) {
        is_free[slot[s]] = 1;
        free_slots.push_back(slot[s]);
      }
    emitted.push_back(i);
  }
  // Leaves that something reads, then refs: leaves first, chunk buffers after.
  for (auto i : emitted)
    for (auto s : plan[i].in)
      if (s != kNone && (s & kLeafBit)) leaf(s & ~kLeafBit);
  for (std::uint32_t i = 0; i < count; ++i)
    if (nodes[g.members[i]].buffer != kNone && (source[i] & kLeafBit)) leaf(source[i] & ~kLeafBit);
  for (std::size_t k = 0; k < g.sinks.size(); ++k)
    if (!sink_folded[k] && (sink_source[k] & kLeafBit)) leaf(sink_source[k] & ~kLeafBit);
  const auto nl = static_cast<std::uint32_t>(g.leaves.size());
  const std::size_t buffers = g.num_scratch + g.leaves.size();
  while (g.chunk > kMinChunk && buffers * static_cast<std::size_t>(g.chunk) * 8 > kScratchBytes) g.chunk /= 2;
  auto ref_of = [&](std::uint32_t s) { return (s & kLeafBit) ? leaf_slot[s & ~kLeafBit] : nl + slot[s]; };
  std::vector<std::uint32_t> instr_of(count, kNone);
  for (auto i : emitted) {
    const Plan& pl = plan[i];
    Instr ins;
    ins.fn = pl.fn;
    ins.affine = nullptr;
    ins.select = pl.select ? find_select_kernel(pl.cmp, dtype_of_member(i), pl.constant[0], pl.constant[1], pl.constant[2])
                           : nullptr;
    ins.sargs = pl.sargs;
    if (pl.affine) {
      const AffineMode mode = pl.sink == kNone ? AffineMode::store : writes(i) ? AffineMode::store_sum : AffineMode::sum;
      ins.affine = find_affine_kernel(pl.aop, dtype_of_member(i), pl.pre[0], pl.pre[1], mode);
    }
    ins.params = pl.params;
    ins.args = pl.args;
    ins.in = {kNone, kNone, kNone, kNone};
    ins.out = slot[i] == kNone ? kNone : nl + slot[i];
    ins.sink = pl.sink;
    for (std::size_t j = 0; j < 4; ++j)
      if (pl.in[j] != kNone) ins.in[j] = ref_of(pl.in[j]);
    instr_of[i] = static_cast<std::uint32_t>(g.code.size());
    g.code.push_back(ins);
  }
  // A stored result may be streamed to its destination by the affine
  // instruction itself, unless the chunk is read again (by a later
  // instruction, sum_chunk, or a second store of it).
  std::vector<std::uint32_t> stores_of(count, 0);
  for (std::uint32_t i = 0; i < count; ++i)
    if (nodes[g.members[i]].buffer != kNone && !(source[i] & kLeafBit)) ++stores_of[source[i]];
  for (std::uint32_t i = 0; i < count; ++i) {
    if (nodes[g.members[i]].buffer == kNone) continue;
    const auto s = source[i];
    Group::Out out{ref_of(s), g.members[i], kNone};
    if (!(s & kLeafBit) && (plan[s].affine || plan[s].select) && uses[s] == 0 && !sum_chunk_reads[s] && stores_of[s] == 1)
      out.instr = instr_of[s];
    g.stores.push_back(out);
  }
  for (std::size_t k = 0; k < g.sinks.size(); ++k) g.sinks[k].ref = sink_folded[k] ? kNone : ref_of(sink_source[k]);
  for (auto m : g.members) member_slot[m] = kNone;
  for (auto l : g.leaves) leaf_slot[l] = kNone;
}

}  // namespace
}  // namespace symgraph::detail

namespace symgraph {

Function compile(const std::vector<Expr>& inputs, const std::vector<Expr>& given, const CompileOptions& options) {
  using namespace detail;
  check_compile_args(inputs, given);
  const std::vector<Expr> outputs = optimize(given, options.pipeline);
  const GraphStore& store = *outputs[0].graph();

  // Reachable nodes; `value` marks those whose values are needed (the
  // `like` operand of broadcast_to and sum_to only lends its shape).
  const Op* op_broadcast_to = OpRegistry::instance().find("broadcast_to");
  const Op* op_sum_to = OpRegistry::instance().find("sum_to");
  auto shape_only = [&](const Node& n, std::size_t j) { return j == 1 && (n.op == op_broadcast_to || n.op == op_sum_to); };
  NodeId top = 0;
  for (const Expr& e : outputs) top = std::max(top, e.id());
  std::vector<char> live(static_cast<std::size_t>(top) + 1, 0), value(live.size(), 0);
  for (const Expr& e : outputs) live[e.id()] = value[e.id()] = 1;
  for (std::size_t id = live.size(); id-- > 0;) {
    if (!live[id]) continue;
    const Node& n = store.node(static_cast<NodeId>(id));
    for (std::size_t j = 0; j < n.inputs.size(); ++j) {
      live[n.inputs[j]] = 1;
      if (value[id] && !shape_only(n, j)) value[n.inputs[j]] = 1;
    }
  }

  Function f;
  auto p = std::make_shared<FastProgram>();
  p->threads_ = options.num_threads > 0 ? options.num_threads : hardware_threads();
  p->stream_bytes_ = options.streaming_store_bytes;
  p->limits_ = options.limits;
  // Compile-time folding stays within a fixed budget and the limits.
  const std::uint64_t fold_elements_max =
      std::min<std::uint64_t>(rules::kFoldBudgetElements, options.limits.max_total_elements);
  const std::uint64_t fold_work_max = std::min<std::uint64_t>(rules::kFoldBudgetWork, options.limits.max_work);
  std::uint64_t folded_elements = 0, folded_work = 0;
  std::vector<std::uint32_t> plan_of(live.size(), kNone);
  std::vector<std::uint32_t> arg_of(live.size(), kNone);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const NodeId id = inputs[i].id();
    for (std::size_t k = 0; k < i; ++k)
      if (inputs[k].id() == id) throw Error("compile: input '" + inputs[i].name() + "' is listed twice");
    if (id < arg_of.size()) arg_of[id] = static_cast<std::uint32_t>(i);
    f.input_names_.push_back(inputs[i].name());
    f.input_types_.push_back(inputs[i].type());
  }
  p->arg_types_ = f.input_types_;

  auto& nodes = p->nodes_;
  for (std::size_t id = 0; id < live.size(); ++id) {
    if (!live[id]) continue;
    const Node& n = store.node(static_cast<NodeId>(id));
    PNode pn;
    pn.id = static_cast<NodeId>(id);
    pn.op = n.op;
    pn.attrs = n.attrs;
    pn.type = n.type;
    for (NodeId in : n.inputs) pn.inputs.push_back(plan_of[in]);
    const std::string& name = n.op->name();
    if (name == "input") {
      if (arg_of[id] == kNone)
        throw Error("compile: the outputs depend on input '" + n.name + "', which is not among the inputs given");
      pn.kind = Kind::input;
      pn.arg = arg_of[id];
    } else if (name == "constant") {
      pn.kind = Kind::constant;
      pn.value = static_cast<std::uint32_t>(p->constants_.size());
      p->constants_.push_back(n.attrs.get<Tensor>("value"));
    } else if (!value[id]) {
      pn.kind = Kind::shape;
    } else {
      // Fold a small subgraph of constants now, with the op's own kernel.
      bool all_constant = !n.inputs.empty();
      for (auto in : pn.inputs) all_constant = all_constant && nodes[in].kind == Kind::constant;
      if (all_constant && is_concrete(n.type.shape) &&
          saturated_elements(n.type.shape) <= static_cast<std::uint64_t>(kFoldMax)) {
        try {
          std::vector<const Tensor*> ins;
          std::vector<TensorType> types;
          for (auto in : pn.inputs) {
            ins.push_back(&p->constants_[nodes[in].value]);
            types.push_back(ins.back()->type());
          }
          const TensorType t = n.op->infer(types, n.attrs);
          const std::uint64_t elements = saturated_elements(t.shape);
          const std::uint64_t work = n.op->work(types, t, n.attrs);
          // Over budget: left to the call, which counts it.
          if (elements <= options.limits.max_value_elements &&
              saturated_add(folded_elements, elements) <= fold_elements_max &&
              saturated_add(folded_work, work) <= fold_work_max) {
            folded_elements += elements;
            folded_work += work;
            Tensor v(t.dtype, t.shape);
            n.op->compute(ins, n.attrs, v);
            pn.kind = Kind::constant;
            pn.value = static_cast<std::uint32_t>(p->constants_.size());
            p->constants_.push_back(std::move(v));
          }
        } catch (const Error&) {
          // Left to fail when called, with the reference's message.
        }
      }
      if (pn.kind != Kind::constant) {
        std::vector<DType> in_types;
        for (auto in : pn.inputs) in_types.push_back(nodes[in].type.dtype);
        const bool builtin = OpRegistry::instance().find(name) == n.op;
        pn.kernel = builtin && n.op->elementwise() ? find_kernel(name, in_types, n.type.dtype) : nullptr;
        const bool alias = n.op == op_broadcast_to ||
                           (n.op == op_sum_to && nodes[pn.inputs[0]].type.shape == n.type.shape);
        pn.kind = pn.kernel || alias ? Kind::fused : Kind::opaque;
      }
    }
    plan_of[id] = static_cast<std::uint32_t>(nodes.size());
    nodes.push_back(std::move(pn));
  }
  for (const Expr& e : outputs) p->outputs_.push_back(plan_of[e.id()]);

  Planner planner(options, *p);
  planner.budget = std::clamp(kPlanningWork / std::max<std::size_t>(1, nodes.size()), kSearchBudgetMin, kSearchBudget);
  planner.users.resize(nodes.size());
  for (std::uint32_t v = 0; v < nodes.size(); ++v) {
    const PNode& n = nodes[v];
    if (n.kind == Kind::shape || n.kind == Kind::constant || n.kind == Kind::input) continue;
    for (std::size_t j = 0; j < n.inputs.size(); ++j)
      if (planner.data_operand(n, j)) planner.users[n.inputs[j]].push_back(v);
  }
  planner.plan_groups();
  planner.attach_sums();
  planner.merge_siblings();
  planner.emit();

  bool all_known = true;
  for (const auto& t : f.input_types_) all_known = all_known && is_concrete(t.shape);
  if (all_known) p->static_instance_ = p->make_instance(nullptr);

  f.num_outputs_ = outputs.size();
  f.program_ = std::move(p);
  return f;
}

}  // namespace symgraph
