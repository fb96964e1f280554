// symgraph's compiled functions against hand-written Eigen, measured
// interleaved in one run (one call of each, alternately, repeated; medians).
//
//   bench_eval            every workload, float32 and float64, 1 and all threads,
//                         fresh outputs (new tensors per call) and reused outputs
//   bench_eval --quick    fewer repetitions, op-by-op evaluation single-threaded
//                         only (under a minute)
//   bench_eval --json     the same as one JSON object: a row per measurement with
//                         workload, dtype, threads, path, baseline (what ours is
//                         measured against: eigen, eigen_select, hand_loop,
//                         reference_evaluator, unfused_kernels, ...), ours_ms,
//                         eigen_ms (the baseline's time, whatever it is), ratio,
//                         and for relu_1e3 overhead_us (ours - baseline per call);
//                         numbers to 9 significant digits
//   bench_eval --only S   only the workloads whose name contains S
//
// Build it in the release preset: cmake --preset release && cmake --build
// --preset release --target bench_eval && ./build/release/bench/bench_eval
#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <symgraph/symgraph.hpp>
#include <thread>
#include <vector>

using namespace symgraph;

namespace {

using Clock = std::chrono::steady_clock;

/// --only: run the workloads whose name contains this.
std::string g_only;
bool selected(const std::string& name) { return name.find(g_only) != std::string::npos; }

template <class T> using Arr = Eigen::Array<T, Eigen::Dynamic, 1>;
template <class T> using Map = Eigen::Map<Arr<T>>;
template <class T> using CMap = Eigen::Map<const Arr<T>>;

constexpr double kAlpha = 0.1;

std::string loadavg() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return a + " " + b + " " + c;
}

/// Runs fn(begin, end) over [0, n) split into `threads` slices, one thread
/// each (the caller takes the first): how a hand-written loop is parallelised.
void slices(int threads, std::int64_t n, const std::function<void(std::int64_t, std::int64_t)>& fn) {
  if (threads <= 1) {
    fn(0, n);
    return;
  }
  std::vector<std::thread> helpers;
  const std::int64_t step = (n + threads - 1) / threads;
  for (int t = 1; t < threads; ++t)
    helpers.emplace_back([&, t] { fn(std::min(n, t * step), std::min(n, (t + 1) * step)); });
  fn(0, std::min(n, step));
  for (auto& h : helpers) h.join();
}

struct Result {
  std::string workload, dtype, path, baseline;
  int threads;
  double ours_ms, eigen_ms;
};

/// One call of `ours` and one of `eigen`, alternately, `reps` times after a
/// warm-up; each side's median. `batch` calls per sample for tiny workloads.
std::pair<double, double> interleaved(int reps, int batch, const std::function<void()>& ours,
                                      const std::function<void()>& eigen, bool warm_up = true) {
  if (warm_up) {
    ours();
    eigen();
  }
  std::vector<double> a, b;
  for (int r = 0; r < reps; ++r) {
    auto t0 = Clock::now();
    for (int k = 0; k < batch; ++k) ours();
    auto t1 = Clock::now();
    for (int k = 0; k < batch; ++k) eigen();
    auto t2 = Clock::now();
    a.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count() / batch);
    b.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count() / batch);
  }
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  return {a[a.size() / 2], b[b.size() / 2]};
}

/// Largest |a - b| / (1 + |b|): a sanity check that both sides compute the same.
template <class T> double max_rel_diff(const Tensor& ours, const T* eigen, std::int64_t n) {
  double worst = 0;
  const T* o = ours.data<T>();
  for (std::int64_t i = 0; i < n; i += 997) worst = std::max(worst, std::abs(double(o[i]) - double(eigen[i])) / (1 + std::abs(double(eigen[i]))));
  return worst;
}

template <class T> struct Bench {
  std::int64_t n;
  int reps;
  std::vector<Result>& results;
  std::string dtype = sizeof(T) == 4 ? "float32" : "float64";
  DType dt = dtype_of<T>();
  Tensor x_tensor;
  const T f1 = static_cast<T>((1 + kAlpha) / 2), f2 = static_cast<T>((1 - kAlpha) / 2), alpha = static_cast<T>(kAlpha);

  Bench(std::int64_t size, int r, std::vector<Result>& out) : n(size), reps(r), results(out) {
    x_tensor = Tensor::uninitialized(dt, {n});
    std::mt19937 rng(1);
    std::uniform_real_distribution<double> u(-1, 1);  // random signs: branches mispredict
    for (std::int64_t i = 0; i < n; ++i) x_tensor.data<T>()[i] = static_cast<T>(u(rng));
  }
  CMap<T> x() const { return CMap<T>(x_tensor.data<T>(), n); }

  /// Times an elementwise workload with one output: `ours` compiled from
  /// `outputs`, `eigen(x, y, begin, end)` writing y[begin, end).
  void elementwise(const std::string& name, Graph& g, const Expr& in, const std::vector<Expr>& outputs,
                   const std::function<void(const T*, T*, std::int64_t, std::int64_t)>& eigen, int threads,
                   int batch = 1, const std::string& baseline = "eigen", const Pipeline& pipeline = Pipeline::standard()) {
    if (!selected(name)) return;
    CompileOptions opt;
    opt.num_threads = threads;
    opt.pipeline = pipeline;
    Function f = compile({in}, outputs, opt);
    (void)g;
    const std::vector<Tensor> args = {x_tensor};
    const T* xp = x_tensor.data<T>();
    {
      // Fresh outputs: a new tensor per call (first-touch page faults), and
      // a new Eigen array per call.
      auto [ours, eig] = interleaved(
          reps, batch, [&] { auto out = f(args); },
          [&] {
            Arr<T> y(n);
            slices(threads, n, [&](std::int64_t b, std::int64_t e) { eigen(xp, y.data(), b, e); });
            asm volatile("" : : "r"(y.data()) : "memory");
          });
      results.push_back({name, dtype, "fresh", baseline, threads, ours, eig});
    }
    {
      std::vector<Tensor> out;
      Arr<T> y(n);
      y.setZero();
      f.eval_into(args, out);
      auto [ours, eig] = interleaved(
          reps, batch, [&] { f.eval_into(args, out); },
          [&] { slices(threads, n, [&](std::int64_t b, std::int64_t e) { eigen(xp, y.data(), b, e); }); });
      const double diff = max_rel_diff<T>(out[0], y.data(), n);
      if (diff > (sizeof(T) == 4 ? 1e-5 : 1e-12))
        std::fprintf(stderr, "warning: %s %s: ours and Eigen differ by %g\n", name.c_str(), dtype.c_str(), diff);
      results.push_back({name, dtype, "reused", baseline, threads, ours, eig});
    }
  }

  void run(int threads, bool small_only) {
    Graph g;
    Expr xin = g.input("x", dt, {kSymbolic});
    if (!small_only) {
      // relu, abs form: 0.5 * (x + |x|).
      elementwise("relu", g, xin, {relu(xin)}, [](const T* x, T* y, std::int64_t b, std::int64_t e) {
        Map<T>(y + b, e - b) = T(0.5) * (CMap<T>(x + b, e - b) + CMap<T>(x + b, e - b).abs());
      }, threads);
      // leaky relu, abs form: f1 * x + f2 * |x|.
      elementwise("leaky_relu", g, xin, {relu(xin, kAlpha)}, [this](const T* x, T* y, std::int64_t b, std::int64_t e) {
        Map<T>(y + b, e - b) = f1 * CMap<T>(x + b, e - b) + f2 * CMap<T>(x + b, e - b).abs();
      }, threads);
      // switch(x > 0, x, alpha * x) after optimize() (relu-to-abs turns it
      // into the abs form). Baseline: the switch form hand-written in Eigen
      // (select).
      elementwise("switch_optimized", g, xin, optimize({where(xin > 0.0, xin, kAlpha * xin)}),
                  [this](const T* x, T* y, std::int64_t b, std::int64_t e) {
        const auto xs = CMap<T>(x + b, e - b);
        Map<T>(y + b, e - b) = (xs > T(0)).select(xs, alpha * xs);
      }, threads, 1, "eigen_select");
      forward_gradient(threads);
      chain(threads);
    }
  }

  /// cost = sum(leaky_relu(x)) and d cost/dx from grad() (= f1 + f2 * sign(x)),
  /// optimized, against one hand-written fused loop.
  void forward_gradient(int threads) {
    if (!selected("forward_gradient")) return;
    Graph g;
    Expr x = g.input("x", dt, {kSymbolic});
    Expr cost = sum(relu(x, kAlpha));
    // Differentiate, then optimize (the order docs/optimizer.md asks for).
    const std::vector<Expr> outs = optimize({cost, symgraph::grad(cost, {x})[0]});
    CompileOptions opt;
    opt.num_threads = threads;
    Function f = compile({x}, outs, opt);
    const std::vector<Tensor> args = {x_tensor};
    const T* xp = x_tensor.data<T>();
    // The hand-written loop: one pass, 16 partial sums so that it vectorises.
    auto fused = [this](const T* xs, T* gs, std::int64_t b, std::int64_t e) {
      T acc[16] = {};
      std::int64_t i = b;
      for (; i + 16 <= e; i += 16)
        for (int k = 0; k < 16; ++k) {
          const T v = xs[i + k];
          acc[k] += f1 * v + f2 * std::abs(v);
          gs[i + k] = f1 + f2 * (T(v > T(0)) - T(v < T(0)));
        }
      T s = 0;
      for (; i < e; ++i) {
        const T v = xs[i];
        s += f1 * v + f2 * std::abs(v);
        gs[i] = f1 + f2 * (T(v > T(0)) - T(v < T(0)));
      }
      for (T a : acc) s += a;
      return s;
    };
    auto eigen_run = [&](T* gs) {
      std::vector<T> partial(static_cast<std::size_t>(threads), T(0));
      const std::int64_t step = (n + threads - 1) / threads;
      slices(threads, n, [&](std::int64_t b, std::int64_t e) { partial[static_cast<std::size_t>(b / step)] = fused(xp, gs, b, e); });
      T s = 0;
      for (T p : partial) s += p;
      asm volatile("" : : "r"(gs) : "memory");
      return s;
    };
    {
      auto [ours, eig] = interleaved(
          reps, 1, [&] { auto out = f(args); },
          [&] {
            Arr<T> gs(n);
            eigen_run(gs.data());
          });
      results.push_back({"forward_gradient", dtype, "fresh", "hand_loop", threads, ours, eig});
    }
    {
      std::vector<Tensor> out;
      Arr<T> gs(n);
      gs.setZero();
      f.eval_into(args, out);
      auto [ours, eig] = interleaved(reps, 1, [&] { f.eval_into(args, out); }, [&] { eigen_run(gs.data()); });
      const double d = max_rel_diff<T>(out[1], gs.data(), n);
      const double s_ours = out[0].at(0), s_eig = eigen_run(gs.data());
      if (d > 0 || std::abs(s_ours - s_eig) > 1e-3 * std::abs(s_eig))
        std::fprintf(stderr, "warning: forward_gradient %s: gradient diff %g, sums %g vs %g\n", dtype.c_str(), d, s_ours, s_eig);
      results.push_back({"forward_gradient", dtype, "reused", "hand_loop", threads, ours, eig});
    }
  }

  /// 25 elementwise ops: five rounds of y = (|0.9 y + x| - 0.5) * x.
  void chain(int threads) {
    Graph g;
    Expr x = g.input("x", dt, {kSymbolic});
    Expr y = x;
    for (int r = 0; r < 5; ++r) y = mul(sub(abs(add(scale(y, 0.9), x)), constant_like(x, 0.5)), x);
    elementwise("chain25", g, x, {y}, [](const T* xs, T* ys, std::int64_t b, std::int64_t e) {
      const auto xv = CMap<T>(xs + b, e - b);
      auto round = [&](const auto& v) { return ((v * T(0.9) + xv).abs() - T(0.5)) * xv; };
      Map<T>(ys + b, e - b) = round(round(round(round(round(xv)))));
    }, threads);
    // --quick measures op-by-op evaluation (about a second per call for the
    // reference evaluator) single-threaded only.
    if (!selected("chain25_vs_op_by_op") || (reps < 21 && threads > 1)) return;
    // Against op-by-op evaluation: the reference evaluator, and this
    // evaluator with fusion off (one vectorised pass per op, pooled buffers).
    CompileOptions fused_opt, unfused_opt;
    fused_opt.num_threads = unfused_opt.num_threads = threads;
    unfused_opt.fuse = false;
    Function fused = compile({x}, {y}, fused_opt);
    Function unfused = compile({x}, {y}, unfused_opt);
    Function reference = compile_reference({x}, {y});
    const std::vector<Tensor> args = {x_tensor};
    std::vector<Tensor> a, b;
    // The reference evaluator takes about a second per call here: few runs,
    // and in --quick mode one, with only symgraph warmed up.
    fused.eval_into(args, a);
    auto [ours, ref] = interleaved(reps >= 21 ? 5 : 1, 1, [&] { fused.eval_into(args, a); }, [&] { auto out = reference(args); },
                                   reps >= 21);
    results.push_back({"chain25_vs_op_by_op", dtype, "reused", "reference_evaluator", threads, ours, ref});
    auto [ours2, unf] = interleaved(reps, 1, [&] { fused.eval_into(args, a); }, [&] { unfused.eval_into(args, b); });
    results.push_back({"chain25_vs_op_by_op", dtype, "reused", "unfused_kernels", threads, ours2, unf});
  }
};

/// Per-call overhead: relu on 10^3 elements.
template <class T> void small(int reps, std::vector<Result>& results) {
  Bench<T> b(1000, reps, results);
  Graph g;
  Expr x = g.input("x", b.dt, {kSymbolic});
  b.elementwise("relu_1e3", g, x, {relu(x)}, [](const T* xs, T* ys, std::int64_t lo, std::int64_t hi) {
    Map<T>(ys + lo, hi - lo) = T(0.5) * (CMap<T>(xs + lo, hi - lo) + CMap<T>(xs + lo, hi - lo).abs());
  }, 1, 2000);
}

/// switch(x > 0, x, alpha * x) with SIMD blends (Eigen's packet functions),
/// the vectorised select Eigen 3.4's select() is not.
template <class T> void simd_select(const T* xs, T* ys, std::int64_t lo, std::int64_t hi, T alpha) {
  namespace pk = Eigen::internal;
  using P = typename pk::packet_traits<T>::type;
  constexpr std::int64_t W = sizeof(P) / sizeof(T);
  const P a = pk::pset1<P>(alpha), zero = pk::pset1<P>(T(0));
  std::int64_t i = lo;
  for (; i + W <= hi; i += W) {
    const P v = pk::ploadu<P>(xs + i);
    pk::pstoreu(ys + i, pk::pselect(pk::pcmp_lt(zero, v), v, pk::pmul(a, v)));
  }
  for (; i < hi; ++i) ys[i] = xs[i] > T(0) ? xs[i] : alpha * xs[i];
}

/// On a CPU, is the abs form faster than max / select? The three forms of
/// leaky relu, compiled as written (no optimizer: relu-to-abs would turn the
/// other two into the abs form), each fused and vectorised by symgraph, in
/// cache (10^4 elements) and streaming (10^7); the baselines are Eigen 3.4's
/// own version of the same form, and for select also a SIMD-blend loop.
template <class T> void forms(int reps, std::vector<Result>& results) {
  for (std::int64_t n : {std::int64_t{10000}, std::int64_t{10000000}}) {
    Bench<T> b(n, reps, results);
    Graph g;
    Expr x = g.input("x", b.dt, {kSymbolic});
    const T alpha = static_cast<T>(kAlpha), f1 = b.f1, f2 = b.f2;
    const std::string suffix = n == 10000 ? "_1e4" : "_1e7";
    const int batch = n == 10000 ? 200 : 1;
    const Pipeline as_written = Pipeline::none();
    b.elementwise("form_abs" + suffix, g, x, {relu(x, kAlpha)}, [f1, f2](const T* xs, T* ys, std::int64_t lo, std::int64_t hi) {
      Map<T>(ys + lo, hi - lo) = f1 * CMap<T>(xs + lo, hi - lo) + f2 * CMap<T>(xs + lo, hi - lo).abs();
    }, 1, batch, "eigen", as_written);
    const Expr select_form = where(x > 0.0, x, kAlpha * x);
    b.elementwise("form_select" + suffix, g, x, {select_form}, [alpha](const T* xs, T* ys, std::int64_t lo, std::int64_t hi) {
      const auto v = CMap<T>(xs + lo, hi - lo);
      Map<T>(ys + lo, hi - lo) = (v > T(0)).select(v, alpha * v);
    }, 1, batch, "eigen_select", as_written);
    b.elementwise("form_select" + suffix, g, x, {select_form}, [alpha](const T* xs, T* ys, std::int64_t lo, std::int64_t hi) {
      simd_select(xs, ys, lo, hi, alpha);
    }, 1, batch, "simd_select", as_written);
    b.elementwise("form_max" + suffix, g, x, {maximum(x, kAlpha * x)}, [alpha](const T* xs, T* ys, std::int64_t lo, std::int64_t hi) {
      const auto v = CMap<T>(xs + lo, hi - lo);
      Map<T>(ys + lo, hi - lo) = v.max(alpha * v);
    }, 1, batch, "eigen_max", as_written);
  }
}

/// Per-call overhead of a small workload: ours minus the baseline, in us.
double overhead_us(const Result& r) { return (r.ours_ms - r.eigen_ms) * 1000; }

}  // namespace

int main(int argc, char** argv) {
  bool json = false, quick = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--json") json = true;
    else if (a == "--quick") quick = true;
    else if (a == "--only" && i + 1 < argc) g_only = argv[++i];
    else {
      std::fprintf(stderr, "usage: %s [--quick] [--json] [--only WORKLOAD-SUBSTRING]\n", argv[0]);
      return 2;
    }
  }
  const int reps = quick ? 5 : 21;
  const std::int64_t n = 10000000;
  const int all = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const std::string load_before = loadavg();
  std::vector<Result> results;
  for (int threads : {1, all}) {
    {
      Bench<float> b(n, reps, results);
      b.run(threads, false);
    }
    {
      Bench<double> b(n, reps, results);
      b.run(threads, false);
    }
    if (threads == all && all == 1) break;
  }
  small<float>(reps, results);
  small<double>(reps, results);
  forms<float>(reps, results);
  forms<double>(reps, results);
  const std::string load_after = loadavg();

  if (json) {
    std::printf("{\"elements\": %lld, \"repetitions\": %d, \"hardware_threads\": %d, \"loadavg_before\": \"%s\", "
                "\"loadavg_after\": \"%s\", \"results\": [",
                static_cast<long long>(n), reps, all, load_before.c_str(), load_after.c_str());
    for (std::size_t i = 0; i < results.size(); ++i) {
      const Result& r = results[i];
      // Significant digits, not decimals: relu_1e3 takes well under a microsecond.
      std::printf(
          "%s\n  {\"workload\": \"%s\", \"dtype\": \"%s\", \"threads\": %d, \"path\": \"%s\", \"baseline\": \"%s\", "
          "\"ours_ms\": %.9g, \"eigen_ms\": %.9g, \"ratio\": %.9g",
          i ? "," : "", r.workload.c_str(), r.dtype.c_str(), r.threads, r.path.c_str(), r.baseline.c_str(), r.ours_ms,
          r.eigen_ms, r.ours_ms / r.eigen_ms);
      if (r.workload == "relu_1e3") std::printf(", \"overhead_us\": %.9g", overhead_us(r));
      std::printf("}");
    }
    std::printf("\n]}\n");
    return 0;
  }
  std::printf("symgraph vs hand-written Eigen, %lld elements (relu_1e3: 1000; form_*_1e4: 10000), median of %d "
              "interleaved runs\nloadavg before: %s, after: %s\n\n",
              static_cast<long long>(n), reps, load_before.c_str(), load_after.c_str());
  std::printf("%-22s %-8s %3s %-7s %-20s %11s %11s %7s\n", "workload", "dtype", "thr", "path", "baseline", "ours_ms",
              "base_ms", "ratio");
  for (const Result& r : results) {
    std::printf("%-22s %-8s %3d %-7s %-20s %11.4f %11.4f %7.3f", r.workload.c_str(), r.dtype.c_str(), r.threads,
                r.path.c_str(), r.baseline.c_str(), r.ours_ms, r.eigen_ms, r.ours_ms / r.eigen_ms);
    if (r.workload == "relu_1e3") std::printf("   overhead %.2f us/call", overhead_us(r));
    std::printf("\n");
  }
  std::printf("\nratio = ours / baseline (below 1: symgraph is faster). chain25_vs_op_by_op: baseline is op-by-op "
              "evaluation,\nso 1/ratio is the fused speed-up (see docs/performance.md).\n");
  return 0;
}
