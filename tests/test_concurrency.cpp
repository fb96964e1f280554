// Concurrency: one compiled Function called from many threads at once gives
// the sequential results bit for bit, and graphs built, optimized,
// differentiated, printed and evaluated on different threads at once do not
// interfere, while other threads register ops and passes. The tsan preset
// runs this suite under ThreadSanitizer (CMakePresets.json, dev.sh test).
#include <doctest/doctest.h>

#include <atomic>
#include <barrier>
#include <cmath>
#include <random>
#include <string>
#include <symgraph/symgraph.hpp>
#include <thread>
#include <vector>

using namespace symgraph;

namespace {

constexpr int kThreads = 8;
constexpr int kCalls = 1000;

/// Random values with special values mixed in.
Tensor random_tensor(DType dtype, std::int64_t n, std::mt19937& rng) {
  Tensor t(dtype, {n});
  std::uniform_real_distribution<double> u(-3.0, 3.0);
  const double special[] = {0.0, -0.0, INFINITY, -INFINITY, NAN, 5e-324, 1e308};
  for (std::int64_t i = 0; i < n; ++i) {
    const std::uint32_t k = rng() % 32;
    const double v = k < 7 ? special[k] : u(rng);
    if (dtype == DType::float32) t.data<float>()[i] = static_cast<float>(v);
    else t.data<double>()[i] = v;
  }
  return t;
}

bool identical(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!a[i].bitwise_equal(b[i])) return false;
  return true;
}

/// Runs body(t) on kThreads threads that start together.
template <class Body> void on_threads(Body body) {
  std::barrier start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      body(t);
    });
  for (auto& th : threads) th.join();
}

}  // namespace

TEST_CASE("one Function called from 8 threads, 1000 calls each, gives the sequential results bit for bit") {
  Graph g;
  const Expr x = g.input("x", DType::float64, {kSymbolic});
  const Expr w = g.input("w", DType::float64, {kSymbolic});
  const Expr cost = sum(relu(x * w, 0.1) + tanh(x) * w);
  const std::vector<Expr> dcost = grad(cost, {x, w});
  // Fused kernels, full sums inside a kernel, a switch, the gradient, and
  // an output that is an argument.
  const std::vector<Expr> outs = {relu(x * w, 0.1), cost, where(x > 0.0, exp(-x), w), dcost[0], dcost[1], x};
  const Function fast = compile({x, w}, outs);  // every hardware thread on large tensors
  const Function ref = compile_reference({x, w}, outs);
  REQUIRE(fast.num_threads() >= 1);

  // Argument lengths: more than the 8 the compiled function keeps call plans
  // for (so threads evict each other's), and one above the length where a
  // call runs its kernels on the thread pool (4 * 64 * 1024 elements).
  std::mt19937 rng(9);
  std::vector<std::vector<Tensor>> args;
  for (std::int64_t n : {1, 2, 7, 64, 1000, 1023, 1025, 4099, 12, 3, 5000, 270'000})
    args.push_back({random_tensor(DType::float64, n, rng), random_tensor(DType::float64, n, rng)});
  std::vector<std::vector<Tensor>> want_fast, want_ref;
  for (const auto& a : args) {
    want_fast.push_back(fast(a));
    want_ref.push_back(ref(a));
  }
  // The large set runs one call in 200 (five a thread: it is slow under
  // ThreadSanitizer); the rest cycle through the others.
  auto pick = [&](int t, int call) -> std::size_t {
    if (call % 200 == 100 + t) return args.size() - 1;
    return static_cast<std::size_t>(t * 7 + call) % (args.size() - 1);
  };

  for (const bool reference : {false, true}) {
    CAPTURE(reference);
    const Function& f = reference ? ref : fast;
    const auto& want = reference ? want_ref : want_fast;
    std::atomic<int> wrong{0}, calls{0};
    std::vector<std::vector<Tensor>> first(kThreads);
    on_threads([&](int t) {
      std::vector<Tensor> into;  // eval_into reuses these buffers
      for (int call = 0; call < kCalls; ++call) {
        const std::size_t k = pick(t, call);
        std::vector<Tensor> got;
        if (call % 2) {
          f.eval_into(args[k], into);
          got = into;
        } else {
          got = f(args[k]);
        }
        if (!identical(got, want[k])) ++wrong;
        if (call == 0) first[static_cast<std::size_t>(t)] = got;
        ++calls;
      }
    });
    CHECK(calls.load() == kThreads * kCalls);
    CHECK(wrong.load() == 0);
    // A result handed out by operator() is the caller's: later calls on
    // other threads never write into it.
    for (int t = 0; t < kThreads; ++t) CHECK(identical(first[static_cast<std::size_t>(t)], want[pick(t, 0)]));
    // Nor into the arguments.
    std::mt19937 again(9);
    for (std::size_t k = 0; k < args.size(); ++k) {
      const std::int64_t n = args[k][0].size();
      CHECK(args[k][0].bitwise_equal(random_tensor(DType::float64, n, again)));
      CHECK(args[k][1].bitwise_equal(random_tensor(DType::float64, n, again)));
    }
  }
}

namespace {

/// What one independent session produces: a graph of its own (from
/// builders and from the expression parser), its gradient, the optimized
/// graph and its trace, JSON, text, a round trip, and values from both
/// evaluators.
struct Session {
  std::string json, text, round_trip;
  std::size_t fired = 0;
  std::vector<Tensor> values, reference_values;
};

Session session(int seed) {
  Session s;
  Graph g;
  const Expr x = g.input("x", DType::float32, {kSymbolic});
  const Expr a = g.input("alpha", DType::float32, {});
  const double c = 0.125 * (seed + 1);
  const Expr hand = where(x > 0.0, x, a * x) + scale(abs(x), c);
  ExpressionInputs declared;
  declared.declared["x"] = x.type();
  const Expr parsed = parse_expressions(g, "maximum(x, 0.5 * x) - tanh(x) * " + std::to_string(seed), declared)[0];
  const Expr cost = sum(hand * parsed);
  std::vector<Expr> outs = grad(cost, {x, a});
  outs.insert(outs.begin(), cost);
  RewriteTrace trace;
  const std::vector<Expr> opt = optimize(outs, Pipeline::standard(), &trace);
  s.fired = trace.size();
  s.json = to_json({x, a}, opt);
  s.text = debugprint(opt);
  const LoadedGraph loaded = from_json(s.json);
  s.round_trip = to_json(loaded.inputs, loaded.outputs);
  std::mt19937 rng(static_cast<unsigned>(seed));
  const std::vector<Tensor> args = {random_tensor(DType::float32, 513 + seed, rng), Tensor::scalar(0.01 * seed, DType::float32)};
  s.values = compile(loaded.inputs, loaded.outputs)(args);
  s.reference_values = compile_reference({x, a}, outs)(args);
  return s;
}

/// An op of the test's own, registered while other threads build graphs.
struct Twice final : Op {
  explicit Twice(std::string name) : Op(std::move(name), 1, 1) {}
  TensorType infer(std::span<const TensorType> in, const Attrs&) const override { return in[0]; }
  void compute(std::span<const Tensor* const> in, const Attrs&, Tensor& out) const override {
    for (std::int64_t i = 0; i < out.size(); ++i) out.data<double>()[i] = 2.0 * in[0]->data<double>()[i];
  }
};

}  // namespace

TEST_CASE("graphs built, optimized, differentiated and evaluated on 8 threads at once do not interfere") {
  std::vector<Session> want;
  for (int seed = 0; seed < kThreads; ++seed) want.push_back(session(seed));
  CHECK(want[0].json != want[1].json);
  CHECK(want[0].fired > 0);  // relu-to-abs and friends ran

  constexpr int kRounds = 6;
  std::atomic<int> wrong{0};
  std::atomic<bool> done{false};
  // Meanwhile: ops and passes registered, and the registries read.
  std::thread registrar([&] {
    for (int i = 0; i < 500 && !done.load(); ++i) {
      const std::string name = "concurrency_twice_" + std::to_string(i);
      const Op& op = register_op(std::make_unique<Twice>(name));
      if (&op_named(name) != &op) ++wrong;
      register_pass("concurrency-pass-" + std::to_string(i), "registered while others optimize", {});
      if (OpRegistry::instance().names().empty() || passes().empty()) ++wrong;
      std::this_thread::yield();
    }
  });
  on_threads([&](int t) {
    for (int round = 0; round < kRounds; ++round) {
      const int seed = (t + round) % kThreads;
      const Session s = session(seed);
      const Session& w = want[static_cast<std::size_t>(seed)];
      if (s.json != w.json || s.text != w.text || s.round_trip != w.json || s.fired != w.fired ||
          !identical(s.values, w.values) || !identical(s.reference_values, w.reference_values))
        ++wrong;
    }
  });
  done = true;
  registrar.join();
  CHECK(wrong.load() == 0);
}

TEST_CASE("functions compiled on different threads from graphs of their own, called across threads") {
  // Each thread compiles its own function; every thread then calls all of
  // them, so programs compiled on one thread run on all.
  std::vector<Function> functions(kThreads);
  std::vector<std::vector<Tensor>> args(kThreads), want(kThreads);
  on_threads([&](int t) {
    Graph g;
    const Expr x = g.input("x", DType::float64, {kSymbolic});
    const Expr y = relu(x, 0.01 * t) * exp(-abs(x)) + sum(x * x);
    std::mt19937 rng(static_cast<unsigned>(100 + t));
    const auto k = static_cast<std::size_t>(t);
    args[k] = {random_tensor(DType::float64, 100 + 37 * t, rng)};
    functions[k] = compile({x}, {y, grad(sum(y), {x})[0]});
    want[k] = compile_reference({x}, {y})(args[k]);
  });
  for (int t = 0; t < kThreads; ++t) {
    const auto k = static_cast<std::size_t>(t);
    const auto got = functions[k](args[k]);
    // The optimized graph may round differently (relu-to-abs): equal
    // within its contract, checked loosely here; bit-exactness across
    // threads is checked below.
    for (std::int64_t i = 0; i < got[0].size(); ++i) {
      const double a = got[0].at(i), b = want[k][0].at(i);
      CHECK((std::isnan(a) == std::isnan(b)));
      if (!std::isnan(a)) CHECK(a == doctest::Approx(b).epsilon(1e-12));
    }
    want[k] = got;
  }
  std::atomic<int> wrong{0};
  on_threads([&](int t) {
    for (int call = 0; call < 200; ++call) {
      const auto k = static_cast<std::size_t>((t + call) % kThreads);
      if (!identical(functions[k](args[k]), want[k])) ++wrong;
    }
  });
  CHECK(wrong.load() == 0);
}
