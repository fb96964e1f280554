// Random composite graphs, generated here from a fixed seed, mixing every op
// of the first set, each checked against central differences (check_grad).
#include <doctest/doctest.h>

#include <functional>
#include <map>
#include <set>
#include <symgraph/symgraph.hpp>

using namespace symgraph;

namespace {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : s_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }
  double uniform(double lo, double hi) { return lo + (hi - lo) * static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  std::uint64_t s_;
};

bool broadcastable(const Shape& a, const Shape& b) {
  try {
    broadcast_shapes("test", a, b);
    return true;
  } catch (const Error&) {
    return false;
  }
}

/// Builds a random graph of `steps` ops over a pool that starts with the
/// inputs. Values stay bounded (exp of tanh, log and sqrt of squares plus one,
/// division by a square plus one), so the checker sees smooth, finite
/// functions away from kinks; kinks (abs, maximum, comparisons, max) are
/// everywhere, and the checker avoids them.
struct RandomGraph {
  Rng& rng;
  DType dtype;
  std::vector<Expr> pool;

  Expr pick() { return pool[rng.below(pool.size())]; }
  Expr pick_like(const Shape& s) {
    for (int tries = 0; tries < 20; ++tries) {
      Expr e = pick();
      if (broadcastable(e.shape(), s)) return e;
    }
    return pool[0];
  }
  Expr k(const Expr& like, double v) { return constant_like(like, v); }

  Expr step() {
    const Expr a = pick();
    switch (rng.below(26)) {
      case 0: return neg(a);
      case 1: return abs(a);
      case 2: return sign(a) * a;
      case 3: return exp(tanh(a));
      case 4: return log(a * a + 1.0);
      case 5: return sqrt(a * a + 0.5);
      case 6: return tanh(a);
      case 7: return scale(a, rng.uniform(-2, 2));
      case 8: return add(a, pick_like(a.shape()));
      case 9: return sub(a, pick_like(a.shape()));
      case 10: return mul(a, pick_like(a.shape()));
      case 11: {
        const Expr b = pick_like(a.shape());
        return div(a, b * b + 1.0);
      }
      case 12: return maximum(a, pick_like(a.shape()));
      case 13: return minimum(a, pick_like(a.shape()));
      case 14: {
        const Expr b = pick_like(a.shape());
        const Expr t = pick_like(broadcast_shapes("test", a.shape(), b.shape()));
        Expr cond;
        switch (rng.below(5)) {
          case 0: cond = gt(a, b); break;
          case 1: cond = ge(a, b); break;
          case 2: cond = lt(a, b); break;
          case 3: cond = le(a, b); break;
          default: cond = eq(a, b); break;
        }
        return where(cond, t, b * a);
      }
      case 15: {
        if (a.rank() == 0) return sum(a);
        const auto axis = static_cast<std::int64_t>(rng.below(a.rank()));
        return sum(a, {axis}, rng.below(2) == 0);
      }
      case 16: {
        if (a.rank() == 0) return max(a);
        const auto axis = static_cast<std::int64_t>(rng.below(a.rank()));
        return max(a, {axis}, rng.below(2) == 0);
      }
      case 17: {
        // pool[0] is x [2, 3].
        const Expr x = pool[0];
        if (a.rank() == 2 && a.shape()[1] == 3) return tanh(matmul(a, transpose(x)));
        if (a.rank() == 2 && a.shape()[1] == 2) return tanh(matmul(a, x));
        if (broadcastable(a.shape(), x.shape())) return tanh(matmul(transpose(x), broadcast_to(a, x)));
        return a * a;
      }
      case 18: return a.rank() == 2 ? transpose(a) : a * 1.5;
      case 19: return broadcast_to(a, pick_like(a.shape()));
      case 20: {
        const Expr b = pick_like(a.shape());
        const Expr big = broadcast_to(a, b);
        return sum_to(big * big, a);
      }
      case 21: return squeeze(expand_dims(a, {0}), {0}) * 1.25;
      case 22: {
        const Expr e = expand_dims(a, {0});
        return sum(e * e, {0});
      }
      case 23: {
        if (a.rank() == 0 || !is_concrete(a.shape())) return a * a;
        Shape flat{num_elements(a.shape())};
        return reshape(tanh(reshape(a, flat)), a.shape());
      }
      case 24:
        // float32 graphs go through float64 and back; float64 graphs stay
        // float64 (a float32 detour would put 1e-6 out of reach).
        return dtype == DType::float32 ? cast(cast(a, DType::float64) * 2.0, DType::float32) : cast(a, DType::float64);
      default: {
        const Expr b = pick_like(a.shape());
        return relu(a, rng.below(2) ? 0.0 : 0.2) + relu(b, b);
      }
    }
  }
};

/// Ops used anywhere in the graph of `e`.
void collect_ops(const Expr& e, std::set<std::string>& ops) {
  std::vector<char> seen(e.id() + 1, 0);
  seen[e.id()] = 1;
  for (std::size_t id = seen.size(); id-- > 0;) {
    if (!seen[id]) continue;
    const Expr n(e.graph(), static_cast<NodeId>(id));
    ops.insert(n.op_name());
    for (NodeId in : n.node().inputs) seen[in] = 1;
  }
}

}  // namespace

TEST_CASE("random composite graphs pass the numeric checker") {
  constexpr int kGraphs = 60;
  constexpr int kSteps = 14;
  std::set<std::string> used;
  int checked_graphs = 0;
  for (DType dtype : {DType::float64, DType::float32}) {
    Rng rng(dtype == DType::float64 ? 7 : 8);
    const int graphs = dtype == DType::float64 ? kGraphs : kGraphs / 2;
    for (int n = 0; n < graphs; ++n) {
      Graph g;
      // x [2, 3]; y [3] broadcasts over rows; s is a scalar; v is [?, 3]
      // and has one row when the graph runs (a symbolic dimension of 1).
      const Expr x = g.input("x", dtype, {2, 3});
      const Expr y = g.input("y", dtype, {3});
      const Expr s = g.input("s", dtype, {});
      const Expr v = g.input("v", dtype, {kSymbolic, 3});
      RandomGraph rg{rng, dtype, {x, y, s, v}};
      for (int i = 0; i < kSteps; ++i) rg.pool.push_back(rg.step());
      // The output mixes the last few results, so most of the graph matters.
      Expr out = rg.pool.back();
      for (std::size_t i = rg.pool.size() - 4; i + 1 < rg.pool.size(); ++i)
        out = out + sum(tanh(rg.pool[i]));
      collect_ops(out, used);
      // The gradient adds at most a small constant times the forward graph's
      // nodes (measured: under 3.6x on these graphs; see also test_grad_chain).
      const std::size_t forward = g.size();
      (void)grad(sum(out), {x, y, s, v});
      CHECK(g.size() - forward <= 6 * forward);
      GradCheckOptions opt;
      opt.shapes = {{2, 3}, {3}, {}, {1, 3}};
      opt.seed = static_cast<std::uint64_t>(n) + 1;
      const GradCheckResult r = check_grad(out, {x, y, s, v}, opt);
      INFO("graph " << n << " (" << dtype_name(dtype) << "):\n" << debugprint({out}) << r.report);
      CHECK(r.passed);
      CHECK(r.checked >= 2 * (6 + 3 + 1 + 3) - r.skipped);
      ++checked_graphs;
    }
  }
  CHECK(checked_graphs >= 50);
  // Every op of the first set took part.
  for (const char* op : {"neg", "abs", "sign", "exp", "log", "sqrt", "tanh", "scale", "add", "sub", "mul", "div",
                         "maximum", "minimum", "gt", "ge", "lt", "le", "eq", "switch", "sum", "max", "matmul",
                         "transpose", "broadcast_to", "sum_to", "expand_dims", "squeeze", "reshape", "cast"}) {
    INFO(op);
    CHECK(used.count(op) == 1);
  }
}
