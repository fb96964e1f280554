// The fused evaluator (compile) against the reference evaluator
// (compile_reference). Results must be equal bit for bit (NaN compared as
// NaN: payloads are not part of the contract) except where stated:
// full sums are added in chunks (another order than the reference's
// element-by-element loop): bounded by n * eps * sum|y|.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <symgraph/eval/kernels.hpp>
#include <symgraph/symgraph.hpp>

using namespace symgraph;

namespace {

// These suites test the evaluator against the reference, so they compile the
// graphs as written (no optimizer).
Function compile_fast(const std::vector<Expr>& inputs, const std::vector<Expr>& outputs, CompileOptions options = {}) {
  options.pipeline = Pipeline::none();
  return compile(inputs, outputs, options);
}


template <class T> std::vector<T> special_values() {
  using L = std::numeric_limits<T>;
  return {T(0), -T(0), T(1), T(-1), L::infinity(), -L::infinity(), L::quiet_NaN(), -L::quiet_NaN(),
          L::denorm_min(), -L::denorm_min(), L::min() / T(4), L::max(), -L::max(), L::min(), T(0.5), T(-2.5)};
}

/// Random values with special values mixed in (a quarter of the elements).
Tensor random_tensor(DType dtype, const Shape& shape, std::mt19937& rng) {
  Tensor t(dtype, shape);
  std::uniform_real_distribution<double> u(-3.0, 3.0);
  std::uniform_int_distribution<int> pick(0, 63);
  for (std::int64_t i = 0; i < t.size(); ++i) {
    const int k = pick(rng);
    if (dtype == DType::boolean) {
      t.data<bool>()[i] = k % 2;
    } else if (dtype == DType::float32) {
      const auto sv = special_values<float>();
      t.data<float>()[i] = k < 16 ? sv[static_cast<std::size_t>(k)] : static_cast<float>(u(rng));
    } else {
      const auto sv = special_values<double>();
      t.data<double>()[i] = k < 16 ? sv[static_cast<std::size_t>(k)] : u(rng);
    }
  }
  return t;
}

/// Equal bit for bit, except that any NaN equals any NaN.
bool same_values(const Tensor& a, const Tensor& b, std::string* why = nullptr) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) {
    if (why) *why = "type " + type_str(a.type()) + " vs " + type_str(b.type());
    return false;
  }
  for (std::int64_t i = 0; i < a.size(); ++i) {
    bool ok;
    if (a.dtype() == DType::float32) {
      const float x = a.data<float>()[i], y = b.data<float>()[i];
      ok = (std::isnan(x) && std::isnan(y)) || std::bit_cast<std::uint32_t>(x) == std::bit_cast<std::uint32_t>(y);
    } else if (a.dtype() == DType::float64) {
      const double x = a.data<double>()[i], y = b.data<double>()[i];
      ok = (std::isnan(x) && std::isnan(y)) || std::bit_cast<std::uint64_t>(x) == std::bit_cast<std::uint64_t>(y);
    } else {
      ok = a.data<bool>()[i] == b.data<bool>()[i];
    }
    if (!ok) {
      if (why) {
        char buf[128];
        std::snprintf(buf, sizeof buf, "element %lld: %a vs %a", static_cast<long long>(i), a.at(i), b.at(i));
        *why = buf;
      }
      return false;
    }
  }
  return true;
}

void check_same(const std::vector<Tensor>& fast, const std::vector<Tensor>& ref, const std::string& what) {
  REQUIRE(fast.size() == ref.size());
  for (std::size_t i = 0; i < ref.size(); ++i) {
    std::string why;
    INFO(what << " output " << i);
    CHECK_MESSAGE(same_values(fast[i], ref[i], &why), why);
  }
}

/// A random elementwise graph over inputs of broadcastable shapes.
struct RandomGraph {
  Graph g;
  std::vector<Expr> inputs, outputs;
  std::vector<Shape> run_shapes;
};

RandomGraph random_graph(std::mt19937& rng, DType t, bool symbolic, bool scalar_inputs = true) {
  RandomGraph r;
  // Declared shapes broadcast to [3, 37]; with `symbolic`, dims are ? and
  // the run-time sizes (some of them 1) come from run_shapes.
  std::vector<Shape> palette = {{3, 37}, {1, 37}, {3, 1}, {37}, {}, {3, 37}};
  if (!scalar_inputs) palette.erase(palette.begin() + 4);
  std::uniform_int_distribution<std::size_t> which(0, palette.size() - 1);
  const int n_inputs = 3;
  for (int i = 0; i < n_inputs; ++i) {
    Shape s = i == 0 ? Shape{3, 37} : palette[which(rng)];
    r.run_shapes.push_back(s);
    if (symbolic)
      for (auto& d : s) d = kSymbolic;
    r.inputs.push_back(r.g.input("x" + std::to_string(i), t, s));
  }
  std::vector<Expr> floats(r.inputs.begin(), r.inputs.end()), bools;
  auto pick = [&](std::vector<Expr>& pool) {
    // Favour recent nodes: long chains as well as wide sharing.
    std::uniform_int_distribution<std::size_t> d(0, pool.size() - 1);
    std::size_t a = d(rng), b = d(rng);
    return pool[std::max(a, b)];
  };
  std::uniform_int_distribution<int> op(0, 29);
  const auto specials = special_values<double>();
  std::uniform_int_distribution<std::size_t> sv(0, specials.size() - 1);
  // One-element constants the planner turns into instruction arguments: 0-d,
  // shape [1], and broadcast to another value's shape.
  std::uniform_int_distribution<int> constant_kind(0, 2);
  auto one_element = [&](const Expr& like) {
    const double v = specials[sv(rng)];
    switch (constant_kind(rng)) {
      case 0: return constant_like(like, v);
      case 1: {
        Tensor c(t, {1});
        if (t == DType::float32) c.data<float>()[0] = static_cast<float>(v);
        else c.data<double>()[0] = v;
        return r.g.constant(c);
      }
      default: return broadcast_to(constant_like(like, v), like);
    }
  };
  const std::vector<Expr (*)(const Expr&, const Expr&)> comparisons = {
      [](const Expr& x, const Expr& y) { return gt(x, y); }, [](const Expr& x, const Expr& y) { return ge(x, y); },
      [](const Expr& x, const Expr& y) { return lt(x, y); }, [](const Expr& x, const Expr& y) { return le(x, y); },
      [](const Expr& x, const Expr& y) { return eq(x, y); }};
  std::uniform_int_distribution<std::size_t> which_cmp(0, comparisons.size() - 1);
  std::uniform_int_distribution<int> coin(0, 1);
  for (int step = 0; step < 24; ++step) {
    const Expr a = pick(floats), b = pick(floats);
    switch (op(rng)) {
      case 0: floats.push_back(neg(a)); break;
      case 1: floats.push_back(abs(a)); break;
      case 2: floats.push_back(sign(a)); break;
      case 3: floats.push_back(sqrt(a)); break;
      case 4: floats.push_back(step % 2 ? tanh(a) : exp(a)); break;
      case 5: floats.push_back(scale(a, specials[sv(rng)])); break;
      case 6: floats.push_back(add(a, b)); break;
      case 7: floats.push_back(sub(a, b)); break;
      case 8: floats.push_back(mul(a, b)); break;
      case 9: floats.push_back(div(a, b)); break;
      case 10: floats.push_back(maximum(a, b)); break;
      case 11: floats.push_back(minimum(a, b)); break;
      case 12: bools.push_back(gt(a, b)); break;
      case 13: bools.push_back(ge(a, b)); break;
      case 14: bools.push_back(lt(a, b)); break;
      case 15: bools.push_back(le(a, b)); break;
      case 16: bools.push_back(eq(a, b)); break;
      case 17:
        if (!bools.empty()) floats.push_back(where(pick(bools), a, b));
        break;
      case 18:
        if (bools.size() >= 2) bools.push_back(where(pick(bools), pick(bools), pick(bools)));
        break;
      case 19: floats.push_back(add(a, constant_like(a, specials[sv(rng)]))); break;
      case 20: floats.push_back(broadcast_to(a, b)); break;
      case 21: floats.push_back(relu(a, 0.1)); break;
      // Non-elementwise ops between kernels. Not a sum over every axis of
      // a fused value: the kernel adds those in another order (tested below).
      case 22:  // over the last of at least two axes (over all is a full sum)
        if (a.rank() >= 2) floats.push_back(sum(a, {-1}, true));
        break;
      case 23:
        if (a.rank() >= 1) floats.push_back(max(a, {0}, true) - b);
        break;
      // A value minus a reduction of itself: the kernel must not swallow it.
      // max, not sum: a full sum of a fused value may be added up inside
      // another kernel, in another order (tested below, with its bound).
      case 24:
        if (a.rank() >= 1) floats.push_back(sub(a, max(a)));
        break;
      // Constants on the left: swapped into the affine kernel's constant
      // operand (mul), or not (sub).
      case 25: floats.push_back(mul(constant_like(a, specials[sv(rng)]), scale(sign(a), 0.75))); break;
      case 26: floats.push_back(sub(constant_like(a, specials[sv(rng)]), abs(a))); break;
      // One-element constants as values of their own, and in every place of
      // a switch of a comparison (select instructions): compared with,
      // chosen, scaled or multiplied when chosen.
      case 27: floats.push_back(one_element(a)); break;
      case 28: {
        const Expr c = comparisons[which_cmp(rng)](coin(rng) ? one_element(a) : a, coin(rng) ? one_element(b) : b);
        auto branch = [&](const Expr& v) {
          const Expr x = coin(rng) ? one_element(v) : v;
          switch (constant_kind(rng)) {
            case 0: return scale(x, specials[sv(rng)]);
            case 1: return coin(rng) ? mul(x, one_element(v)) : mul(one_element(v), x);
            default: return x;
          }
        };
        floats.push_back(where(c, branch(a), branch(b)));
        break;
      }
      case 29: floats.push_back(mul(one_element(a), coin(rng) ? scale(one_element(b), specials[sv(rng)]) : b)); break;
    }
  }
  r.outputs.push_back(floats.back());
  r.outputs.push_back(pick(floats));
  if (!bools.empty()) r.outputs.push_back(bools.back());
  return r;
}

}  // namespace

TEST_CASE("relu and leaky relu compile to one fused kernel and match the reference") {
  for (DType t : {DType::float32, DType::float64}) {
    Graph g;
    Expr x = g.input("x", t, {kSymbolic});
    const std::vector<Expr> outs = {relu(x), relu(x, 0.1), relu(x, 0.01)};
    Function fast = compile_fast({x}, outs);
    Function ref = compile_reference({x}, outs);
    CHECK(fast.num_steps() == 1);  // the three share their pass over x
    // Each relu is one affine pass over x and |x|: (x + |x|) * 0.5, f1 * x + f2 * |x|.
    CHECK(fast.describe().find("in 4 passes") != std::string::npos);  // |x| once, shared
    std::mt19937 rng(7);
    for (std::int64_t n : {0, 1, 15, 16, 17, 255, 256, 257, 1000, 70001}) {
      const std::vector<Tensor> args = {random_tensor(t, {n}, rng)};
      check_same(fast(args), ref(args), "relu n=" + std::to_string(n));
    }
  }
}

TEST_CASE("random elementwise graphs: fused equals reference bit for bit") {
  std::mt19937 rng(2024);
  for (int trial = 0; trial < 600; ++trial) {
    const DType t = trial % 2 ? DType::float32 : DType::float64;
    const bool symbolic = trial % 3 == 0;
    RandomGraph r = random_graph(rng, t, symbolic);
    // Symbolic inputs sometimes get size 1 where the graph broadcasts.
    std::vector<Tensor> args;
    for (std::size_t i = 0; i < r.inputs.size(); ++i) {
      Shape s = r.run_shapes[i];
      if (symbolic && i > 0 && trial % 2)
        for (auto& d : s) d = 1;
      args.push_back(random_tensor(t, s, rng));
    }
    Function ref = compile_reference(r.inputs, r.outputs);
    for (int threads : {1, 2}) {
      CompileOptions opt;
      opt.num_threads = threads;
      opt.fuse = threads == 1 || trial % 4 != 0;
      Function fast = compile_fast(r.inputs, r.outputs, opt);
      check_same(fast(args), ref(args), "trial " + std::to_string(trial) + "\n" + debugprint(r.outputs));
    }
  }
}

TEST_CASE("gradients of random graphs: fused equals reference bit for bit") {
  // grad() builds switches of comparisons against broadcast constants (the
  // ties of maximum and minimum, sign, abs), scales of them and sum_to.
  // No 0-d inputs: their gradients are full sums, added in another order.
  std::mt19937 rng(4048);
  for (int trial = 0; trial < 300; ++trial) {
    const DType t = trial % 2 ? DType::float32 : DType::float64;
    const bool symbolic = trial % 3 == 0;
    RandomGraph r = random_graph(rng, t, symbolic, /*scalar_inputs=*/false);
    // A maximum or minimum of two inputs that tie: its gradient's switches
    // take the seed (a one-element constant) and half of it.
    const Expr& x0 = r.inputs[0];
    const Expr& x1 = r.inputs[1];
    const Expr tie = trial % 4 < 2 ? maximum(x0, x1) : minimum(x1, x0);
    std::vector<Expr> outs = grad(sum(r.outputs[0] + (trial % 3 ? tie : 0.0 * x0)), r.inputs);
    // Often one gradient alone, whose nodes have fewer users to share them.
    if (trial % 5 != 4) outs = {outs[static_cast<std::size_t>(trial % 5) % outs.size()]};
    std::vector<Tensor> args;
    for (std::size_t i = 0; i < r.inputs.size(); ++i) args.push_back(random_tensor(t, r.run_shapes[i], rng));
    // Ties: the second input equal to the first where their shapes allow.
    if (r.run_shapes[1] == r.run_shapes[0]) args[1] = args[0];
    const Function fast = compile_fast(r.inputs, outs), ref = compile_reference(r.inputs, outs);
    std::vector<Tensor> want;
    try {
      want = ref(args);
    } catch (const Error& e) {
      // Symbolic shapes that disagree at run time (a broadcast_to the
      // gradient undoes): the same error from both.
      CHECK_THROWS_WITH_AS(fast(args), e.what(), Error);
      continue;
    }
    check_same(fast(args), want, "trial " + std::to_string(trial) + "\n" + debugprint(outs));
  }
}

TEST_CASE("a scaled or multiplied one-element constant as a switch branch (select instruction)") {
  Graph g;
  Expr y = g.input("y", DType::float64, {kSymbolic});
  Expr three = broadcast_to(g.constant(3.0), y);
  const std::vector<Tensor> args = {Tensor::from_list<double>({1.0, -2.0})};
  const std::vector<std::pair<Expr, std::vector<double>>> cases = {
      {where(y > 0.0, 2.0 * three, y), {6.0, -2.0}},
      {where(y > 0.0, scale(three, 2.0), y), {6.0, -2.0}},
      {where(y > 0.0, y, scale(three, -0.5)), {1.0, -1.5}},
      {where(y > 0.0, three * 2.0, three * 4.0), {6.0, 12.0}},
  };
  for (const auto& [e, want] : cases) {
    const Tensor got = compile_fast({y}, {e})(args)[0];
    CHECK(got.at(0) == want[0]);
    CHECK(got.at(1) == want[1]);
  }
  // grad of maximum at a tie: half to each operand, so d/dy sum(maximum(y, y)) = 1.
  const Expr dy = grad(sum(maximum(y, y)), {y})[0];
  const Tensor got = compile_fast({y}, {dy})(args)[0];
  CHECK(got.at(0) == 1.0);
  CHECK(got.at(1) == 1.0);
}

TEST_CASE("large random graphs run multi-threaded and stay bit-identical") {
  std::mt19937 rng(99);
  for (int trial = 0; trial < 6; ++trial) {
    const DType t = trial % 2 ? DType::float32 : DType::float64;
    Graph g;
    Expr x = g.input("x", t, {kSymbolic, 1000});
    Expr y = g.input("y", t, {1000});
    Expr c = where(x > y, x * y, maximum(x, y) - sign(x)) / (abs(y) + 1.0);
    const std::vector<Expr> outs = {c, relu(c, 0.2), x < c};
    const std::vector<Tensor> args = {random_tensor(t, {600, 1000}, rng), random_tensor(t, {1000}, rng)};
    CompileOptions opt;
    opt.num_threads = 2;
    opt.streaming_store_bytes = 1 << 20;  // also the streaming-store path
    check_same(compile_fast({x, y}, outs, opt)(args), compile_reference({x, y}, outs)(args), "large");
  }
}

TEST_CASE("SIMD kernels equal the portable kernels on special values") {
  using detail::find_kernel;
  using detail::KernelSet;
  auto run = [](detail::KernelFn fn, std::int64_t n, std::vector<const void*> in, void* out, double param) {
    in.resize(3, nullptr);
    const double params[3] = {param, 0.0, 0.0};
    fn(n, in.data(), out, params);
  };
  for (DType t : {DType::float32, DType::float64}) {
    std::mt19937 rng(5);
    // Every pair of special values, in both orders.
    const std::int64_t k = 16, n = k * k;
    Tensor a(t, {n}), b(t, {n});
    for (std::int64_t i = 0; i < k; ++i)
      for (std::int64_t j = 0; j < k; ++j) {
        if (t == DType::float32) {
          a.data<float>()[i * k + j] = special_values<float>()[static_cast<std::size_t>(i)];
          b.data<float>()[i * k + j] = special_values<float>()[static_cast<std::size_t>(j)];
        } else {
          a.data<double>()[i * k + j] = special_values<double>()[static_cast<std::size_t>(i)];
          b.data<double>()[i * k + j] = special_values<double>()[static_cast<std::size_t>(j)];
        }
      }
    const Tensor c = random_tensor(DType::boolean, {n}, rng);
    for (const char* op : {"neg", "abs", "sign", "sqrt", "tanh", "scale", "add", "sub", "mul", "div", "maximum",
                           "minimum", "gt", "ge", "lt", "le", "eq", "switch"}) {
      const std::string name = op;
      const bool unary = name == "neg" || name == "abs" || name == "sign" || name == "sqrt" || name == "tanh" || name == "scale";
      const bool compare = name == "gt" || name == "ge" || name == "lt" || name == "le" || name == "eq";
      std::vector<DType> ins;
      std::vector<const void*> ptrs;
      if (name == "switch") {
        ins.push_back(DType::boolean);
        ptrs.push_back(c.raw());
      }
      ins.push_back(t);
      ptrs.push_back(a.raw());
      if (!unary) {
        ins.push_back(t);
        ptrs.push_back(b.raw());
      }
      const DType out = compare ? DType::boolean : t;
      auto best = find_kernel(op, ins, out, KernelSet::best);
      auto portable = find_kernel(op, ins, out, KernelSet::portable);
      REQUIRE((best != nullptr && portable != nullptr));
      // Odd lengths exercise the masked last register.
      for (std::int64_t len : {n, n - 3, std::int64_t{1}, std::int64_t{0}}) {
        Tensor y1(out, {n}), y2(out, {n});
        run(best, len, ptrs, y1.raw(), -0.5);
        run(portable, len, ptrs, y2.raw(), -0.5);
        std::string why;
        INFO(name << " " << dtype_name(t) << " len " << len);
        CHECK_MESSAGE(same_values(y1, y2, &why), why);
      }
    }
  }
}

TEST_CASE("affine kernels equal the portable kernels of the ops they replace") {
  using namespace detail;
  // The oracle: one portable kernel per op, in the order the graph runs them.
  auto portable = [](const char* op, DType t) {
    const std::string_view name = op;
    const bool unary = name == "abs" || name == "sign" || name == "scale";
    std::vector<DType> ins(unary ? 1 : 2, t);
    return find_kernel(op, ins, t, KernelSet::portable);
  };
  auto run1 = [](KernelFn fn, std::int64_t n, const void* a, const void* b, void* out, double param) {
    const void* in[3] = {a, b, nullptr};
    const double params[3] = {param, 0.0, 0.0};
    fn(n, in, out, params);
  };
  for (DType t : {DType::float32, DType::float64}) {
    // Every pair of special values, in both orders, then random values.
    const std::int64_t k = 16, n = k * k + 37;
    std::mt19937 rng(23);
    Tensor a = random_tensor(t, {n}, rng), b = random_tensor(t, {n}, rng);
    for (std::int64_t i = 0; i < k * k; ++i) {
      const auto sa = special_values<double>()[static_cast<std::size_t>(i / k)];
      const auto sb = special_values<double>()[static_cast<std::size_t>(i % k)];
      if (t == DType::float32) {
        a.data<float>()[i] = static_cast<float>(sa);
        b.data<float>()[i] = static_cast<float>(sb);
      } else {
        a.data<double>()[i] = sa;
        b.data<double>()[i] = sb;
      }
    }
    const char* op_names[] = {"add", "sub", "mul", nullptr, "maximum", "minimum"};
    const char* pre_names[] = {nullptr, "abs", "sign"};
    for (int op = 0; op < 6; ++op)
      for (int pa = 0; pa < 3; ++pa)
        for (int pb = 0; pb < 4; ++pb)
          for (int scaled = 0; scaled < 2; ++scaled) {
            if (op == 3 && pb > 0) continue;  // `first` has no operand b
            AffineArgs args;
            const double fa = -0.5, fb = 3.0, post = scaled ? 0.25 : 1.0, c = -1.5;
            args.fa = scaled ? fa : 1.0;
            args.fb = scaled ? fb : 1.0;
            args.post = post;
            args.c = c;
            for (std::int64_t len : {n, std::int64_t{33}, std::int64_t{31}, std::int64_t{1}, std::int64_t{0}}) {
              // Oracle.
              Tensor ta(t, {n}), tb(t, {n}), want(t, {n});
              auto pre = [&](const Tensor& src, int kind, double f, Tensor& dst) {
                if (kind == 0) std::memcpy(dst.raw(), src.raw(), src.nbytes());
                else run1(portable(pre_names[kind], t), len, src.raw(), nullptr, dst.raw(), 0.0);
                if (scaled) run1(portable("scale", t), len, dst.raw(), nullptr, dst.raw(), f);
              };
              pre(a, pa, fa, ta);
              if (pb == 3) {
                for (std::int64_t i = 0; i < n; ++i) {
                  if (t == DType::float32) tb.data<float>()[i] = static_cast<float>(c);
                  else tb.data<double>()[i] = c;
                }
              } else {
                pre(b, pb, fb, tb);
              }
              if (op == 3) std::memcpy(want.raw(), ta.raw(), ta.nbytes());
              else run1(portable(op_names[op], t), len, ta.raw(), tb.raw(), want.raw(), 0.0);
              if (scaled) run1(portable("scale", t), len, want.raw(), nullptr, want.raw(), post);
              INFO(dtype_name(t) << " op " << op << " pre_a " << pa << " pre_b " << pb << " scaled " << scaled << " len " << len);
              // Every mode, normal and streaming stores, aligned or not.
              double sums[2] = {0, 0};
              for (int mode = 0; mode < 3; ++mode)
                for (int stream = 0; stream < 2; ++stream)
                  for (int shift = 0; shift < 2; ++shift) {
                    const AffineFn fn = find_affine_kernel(static_cast<AffineOp>(op), t, static_cast<Pre>(pa),
                                                           static_cast<Pre>(pb), static_cast<AffineMode>(mode));
                    REQUIRE(static_cast<bool>(fn));
                    Tensor got(t, {n + 1});
                    std::byte* out = static_cast<std::byte*>(got.raw()) + shift * dtype_size(t);
                    const double sum = fn(len, a.raw(), pb == 3 ? nullptr : b.raw(), mode == 1 ? nullptr : out, args, stream);
                    detail::store_fence();
                    if (mode != 1) {
                      Tensor g2(t, {n});
                      std::memcpy(g2.raw(), out, static_cast<std::size_t>(n) * dtype_size(t));
                      std::string why;
                      Tensor w2(t, {len}), gl(t, {len});
                      std::memcpy(w2.raw(), want.raw(), w2.nbytes());
                      std::memcpy(gl.raw(), g2.raw(), gl.nbytes());
                      CHECK_MESSAGE(same_values(gl, w2, &why), why << " mode " << mode << " stream " << stream);
                    }
                    if (mode != 0) sums[mode - 1] = sum;
                  }
              // The same sum with or without the stores.
              CHECK(((std::isnan(sums[0]) && std::isnan(sums[1])) || sums[0] == sums[1]));
              // On the random (finite) tail the sum is that of the results.
              const std::int64_t lo = k * k;
              if (len == n) {
                const AffineFn fn = find_affine_kernel(static_cast<AffineOp>(op), t, static_cast<Pre>(pa),
                                                       static_cast<Pre>(pb), AffineMode::sum);
                const auto shift = static_cast<std::size_t>(lo) * dtype_size(t);
                const double got = fn(n - lo, static_cast<const std::byte*>(a.raw()) + shift,
                                      pb == 3 ? nullptr : static_cast<const std::byte*>(b.raw()) + shift, nullptr, args, false);
                double exact = 0, magnitude = 0;
                bool finite = true;
                for (std::int64_t i = lo; i < n; ++i) {
                  finite = finite && std::isfinite(want.at(i));
                  exact += want.at(i);
                  magnitude += std::abs(want.at(i));
                }
                const double eps = t == DType::float32 ? 0x1p-24 : 0x1p-53;
                if (finite) CHECK(std::abs(got - exact) <= 2.0 * static_cast<double>(n - lo) * eps * magnitude);
              }
            }
          }
  }
}

TEST_CASE("select kernels equal a comparison, scales and a switch run one by one") {
  using namespace detail;
  for (DType t : {DType::float32, DType::float64}) {
    const std::int64_t k = 16, n = k * k + 37;
    std::mt19937 rng(29);
    Tensor a = random_tensor(t, {n}, rng), b = random_tensor(t, {n}, rng), tv = random_tensor(t, {n}, rng),
           fv = random_tensor(t, {n}, rng);
    for (std::int64_t i = 0; i < k * k; ++i) {
      const auto sa = special_values<double>()[static_cast<std::size_t>(i / k)];
      const auto sb = special_values<double>()[static_cast<std::size_t>(i % k)];
      if (t == DType::float32) {
        a.data<float>()[i] = static_cast<float>(sa);
        b.data<float>()[i] = static_cast<float>(sb);
      } else {
        a.data<double>()[i] = sa;
        b.data<double>()[i] = sb;
      }
    }
    const char* cmps[] = {"gt", "ge", "lt", "le", "eq"};
    auto kernel = [&](const char* op, std::vector<DType> ins, DType out) {
      return find_kernel(op, ins, out, KernelSet::portable);
    };
    for (int cmp = 0; cmp < 5; ++cmp)
      for (int consts = 0; consts < 8; ++consts) {
        const bool cb = consts & 4, ct = consts & 2, cf = consts & 1;
        SelectArgs args;
        args.b = 0.0;  // constants: b = +0, t = -2, f = NaN
        args.t = -2.0;
        args.f = NAN;
        args.ft = 0.5;
        args.ff = consts % 3 == 0 ? 1.0 : -3.0;
        auto filled = [&](const Tensor& v, bool constant, double c) {
          Tensor out(t, {n});
          for (std::int64_t i = 0; i < n; ++i) {
            const double x = constant ? c : v.at(i);
            if (t == DType::float32) out.data<float>()[i] = static_cast<float>(x);
            else out.data<double>()[i] = x;
          }
          return out;
        };
        // Oracle: compare, scale each branch, switch.
        const Tensor bb = filled(b, cb, args.b), tt = filled(tv, ct, args.t), ff = filled(fv, cf, args.f);
        Tensor cond(DType::boolean, {n}), ts(t, {n}), fs(t, {n}), want(t, {n});
        const void* in2[3] = {a.raw(), bb.raw(), nullptr};
        kernel(cmps[cmp], {t, t}, DType::boolean)(n, in2, cond.raw(), nullptr);
        // A constant branch is scaled too: the planner folds
        // switch(c, scale(broadcast_to(k, x), f), ...) into t = k, ft = f.
        auto scaled = [&](const Tensor& v, double f, Tensor& out) {
          const double params[3] = {f, 0, 0};
          const void* in1[3] = {v.raw(), nullptr, nullptr};
          kernel("scale", {t}, t)(n, in1, out.raw(), params);
        };
        scaled(tt, args.ft, ts);
        scaled(ff, args.ff, fs);
        const void* in3[3] = {cond.raw(), ts.raw(), fs.raw()};
        kernel("switch", {DType::boolean, t, t}, t)(n, in3, want.raw(), nullptr);
        const SelectFn fn = find_select_kernel(static_cast<SelectCmp>(cmp), t, cb, ct, cf);
        REQUIRE(static_cast<bool>(fn));
        for (std::int64_t len : {n, std::int64_t{31}, std::int64_t{1}, std::int64_t{0}})
          for (int stream = 0; stream < 2; ++stream)
            for (int shift = 0; shift < 2; ++shift) {
              Tensor got(t, {n + 1});
              std::byte* out = static_cast<std::byte*>(got.raw()) + shift * dtype_size(t);
              fn(len, a.raw(), cb ? nullptr : b.raw(), ct ? nullptr : tv.raw(), cf ? nullptr : fv.raw(), out, args, stream);
              store_fence();
              Tensor gl(t, {len}), wl(t, {len});
              std::memcpy(gl.raw(), out, gl.nbytes());
              std::memcpy(wl.raw(), want.raw(), wl.nbytes());
              std::string why;
              INFO(dtype_name(t) << " " << cmps[cmp] << " consts " << consts << " len " << len << " stream " << stream);
              CHECK_MESSAGE(same_values(gl, wl, &why), why);
            }
      }
  }
}

TEST_CASE("switch forms fuse into one pass and equal the reference") {
  std::mt19937 rng(41);
  for (DType t : {DType::float32, DType::float64}) {
    Graph g;
    Expr x = g.input("x", t, {kSymbolic});
    Expr y = g.input("y", t, {kSymbolic});
    struct Case {
      Expr e;
      std::size_t passes;
    };
    const Case cases[] = {
        {where(x > 0.0, x, 0.1 * x), 1},           // leaky relu, select form
        {where(0.0 < x, x, scale(x, 0.1)), 1},     // the constant on the left
        {where(x <= y, scale(y, -2.0), constant_like(y, 1.5)), 1},  // a constant branch
        {where(x >= 0.0, y, constant_like(y, 0.0)), 1},
        {maximum(x, scale(x, 0.1)), 1},            // leaky relu, max form
        {maximum(x, 0.1 * x), 1},                  // the product with a constant, a scale
        {minimum(scale(abs(x), 3.0), y), 1},
        {maximum(constant_like(x, 0.0), x), 1},    // a constant first: not swapped (ties)
        {where(eq(x, y), x, y) + where(x > 0.0, x, y), 3},  // one comparison fused per switch, add separate
    };
    for (const Case& c : cases) {
      Function f = compile_fast({x, y}, {c.e});
      INFO(debugprint({c.e}) << f.describe());
      CHECK(f.num_steps() == 1);
      CHECK(f.describe().find("in " + std::to_string(c.passes) + " pass") != std::string::npos);
      Function ref = compile_reference({x, y}, {c.e});
      for (std::int64_t n : {0, 1, 33, 1000}) {
        const std::vector<Tensor> args = {random_tensor(t, {n}, rng), random_tensor(t, {n}, rng)};
        check_same(f(args), ref(args), "n=" + std::to_string(n));
      }
    }
  }
}

TEST_CASE("maximum, minimum, sign and comparisons on special values match the documented semantics") {
  for (DType t : {DType::float32, DType::float64}) {
    Graph g;
    Expr a = g.input("a", t, {kSymbolic});
    Expr b = g.input("b", t, {kSymbolic});
    const std::vector<Expr> outs = {maximum(a, b), minimum(a, b), sign(a), gt(a, b), le(a, b), eq(a, b), where(a > b, a, b)};
    const std::vector<double> va = {-0.0, 0.0, NAN, 1.0, NAN, 2.0, -1.0, INFINITY};
    const std::vector<double> vb = {0.0, -0.0, 1.0, NAN, NAN, 2.0, -INFINITY, INFINITY};
    auto tensor = [&](const std::vector<double>& v) {
      Tensor x(t, {static_cast<std::int64_t>(v.size())});
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (t == DType::float32) x.data<float>()[i] = static_cast<float>(v[i]);
        else x.data<double>()[i] = v[i];
      }
      return x;
    };
    const auto out = compile_fast({a, b}, outs)({tensor(va), tensor(vb)});
    // maximum: NaN from either side; a tie gives the first operand.
    CHECK(std::signbit(out[0].at(0)));   // maximum(-0, +0) = -0
    CHECK(!std::signbit(out[0].at(1)));  // maximum(+0, -0) = +0
    CHECK(std::isnan(out[0].at(2)));
    CHECK(std::isnan(out[0].at(3)));
    CHECK(std::isnan(out[1].at(2)));
    CHECK(std::isnan(out[1].at(3)));
    CHECK(std::signbit(out[1].at(0)));  // minimum(-0, +0) = -0
    // sign(±0) = +0, sign(NaN) = NaN.
    CHECK(out[2].at(0) == 0.0);
    CHECK(!std::signbit(out[2].at(0)));
    CHECK(!std::signbit(out[2].at(1)));
    CHECK(std::isnan(out[2].at(2)));
    CHECK(out[2].at(7) == 1.0);
    CHECK(out[2].at(6) == -1.0);
    // Comparisons with NaN are false.
    for (int i : {2, 3, 4}) {
      CHECK(out[3].at(i) == 0.0);
      CHECK(out[4].at(i) == 0.0);
      CHECK(out[5].at(i) == 0.0);
    }
    CHECK(out[5].at(0) == 1.0);  // -0 == +0
    check_same(out, compile_reference({a, b}, outs)({tensor(va), tensor(vb)}), "special");
  }
}

TEST_CASE("exp and log (libm in both evaluators) are bit-identical") {
  std::mt19937 rng(3);
  for (DType t : {DType::float32, DType::float64}) {
    Graph g;
    Expr x = g.input("x", t, {kSymbolic});
    const std::vector<Expr> outs = {exp(x), log(x), exp(log(abs(x)) * 0.5)};
    const std::vector<Tensor> args = {random_tensor(t, {1001}, rng)};
    check_same(compile_fast({x}, outs)(args), compile_reference({x}, outs)(args), "exp/log");
  }
}

TEST_CASE("empty and 0-d tensors") {
  for (DType t : {DType::float32, DType::float64}) {
    Graph g;
    Expr x = g.input("x", t, {kSymbolic, 4});
    Expr s = g.input("s", t, {});
    const std::vector<Expr> outs = {relu(x * s, 0.3), s * 2.0 - abs(s), sum(relu(x)), x > s};
    Function fast = compile_fast({x, s}, outs), ref = compile_reference({x, s}, outs);
    std::mt19937 rng(11);
    for (std::int64_t rows : {0, 1, 3}) {
      const std::vector<Tensor> args = {random_tensor(t, {rows, 4}, rng), Tensor::scalar(-1.5, t)};
      const auto a = fast(args), b = ref(args);
      check_same({a[0], a[1], a[3]}, {b[0], b[1], b[3]}, "rows " + std::to_string(rows));
      CHECK(a[2].shape() == Shape{});
      if (rows == 0) CHECK(a[2].at(0) == 0.0);
    }
  }
}

TEST_CASE("a symbolic dimension that is 1 at run time falls back to unfused kernels, same results") {
  Graph g;
  Expr x = g.input("x", DType::float64, {kSymbolic});
  Expr y = g.input("y", DType::float64, {kSymbolic});
  // e and f have one static shape [?] and would fuse; at run time e is [1].
  Expr e = tanh(y) + 1.0;
  Expr f = x * e;
  const std::vector<Expr> outs = {f, e};
  Function fast = compile_fast({x, y}, outs), ref = compile_reference({x, y}, outs);
  CHECK(fast.num_steps() == 1);
  const std::vector<Tensor> args = {Tensor::from_list<double>({1, 2, 3}), Tensor::from_vector<double>({0.5}, {1})};
  check_same(fast(args), ref(args), "fallback");
  const std::vector<Tensor> args2 = {Tensor::from_list<double>({1, 2, 3}), Tensor::from_list<double>({0.5, 1, 2})};
  check_same(fast(args2), ref(args2), "fused");
}

TEST_CASE("full sums are reduced inside the kernel: bounded difference, independent of thread count") {
  for (DType t : {DType::float32, DType::float64}) {
    Graph g;
    Expr x = g.input("x", t, {kSymbolic});
    const double alpha = 0.1;
    const double f1 = (1 + alpha) / 2, f2 = (1 - alpha) / 2;
    Expr cost = sum(relu(x, alpha));
    Expr grad = scale(sign(x), f2) + constant_like(x, f1);  // d cost / dx, by hand
    const std::vector<Expr> outs = {cost, grad};
    CompileOptions one, two;
    one.num_threads = 1;
    two.num_threads = 2;
    Function f_one = compile_fast({x}, outs, one), f_two = compile_fast({x}, outs, two);
    CHECK(f_one.num_steps() == 1);  // forward and gradient in one pass over x
    std::mt19937 rng(1);
    Tensor v(t, {1 << 20});
    std::uniform_real_distribution<double> u(-1, 1);
    double abs_sum = 0;
    for (std::int64_t i = 0; i < v.size(); ++i) {
      const double s = u(rng);
      if (t == DType::float32) v.data<float>()[i] = static_cast<float>(s);
      else v.data<double>()[i] = s;
      abs_sum += std::abs(s);
    }
    const auto a = f_one({v}), b = f_two({v}), r = compile_reference({x}, outs)({v});
    CHECK(a[0].bitwise_equal(b[0]));  // same chunks, same order, any thread count
    check_same({a[1]}, {r[1]}, "gradient");
    const double eps = t == DType::float32 ? 0x1p-24 : 0x1p-53;
    // Both are sums of the same rounded terms; each order's error is at most
    // (n - 1) * eps * sum|y| (|y| <= |x|).
    CHECK(std::abs(a[0].at(0) - r[0].at(0)) <= 2.0 * static_cast<double>(v.size()) * eps * abs_sum);
  }
}

TEST_CASE("gradient graphs from grad(): fused equals reference") {
  std::mt19937 rng(17);
  for (DType t : {DType::float32, DType::float64}) {
    Graph g;
    Expr x = g.input("x", t, {kSymbolic, 5});
    Expr w = g.input("w", t, {5});
    Expr h = relu(x * w, 0.1);
    Expr y = where(h > 0.5, exp(-h), maximum(h, w) / (abs(x) + 1.0)) + tanh(x) * sqrt(abs(w));
    // Not summed over every axis first: those sums are exact as well.
    Expr cost = sum(sum(y, {1}), {0});
    const std::vector<Expr> gr = grad(cost, {x, w});
    const std::vector<Expr> outs = {gr[0], gr[1]};
    for (std::int64_t rows : {1, 4, 300}) {
      const std::vector<Tensor> args = {random_tensor(t, {rows, 5}, rng), random_tensor(t, {5}, rng)};
      check_same(compile_fast({x, w}, outs)(args), compile_reference({x, w}, outs)(args), "grad rows " + std::to_string(rows));
    }
  }
  // The forward and gradient of sum(leaky_relu(x)): one kernel, one pass.
  Graph g;
  Expr x = g.input("x", DType::float32, {kSymbolic});
  Expr cost = sum(relu(x, 0.1));
  Function f = compile_fast({x}, {cost, grad(cost, {x})[0]});
  CHECK(f.num_steps() == 1);
  const std::vector<Tensor> args = {Tensor::from_list<float>({-2, -0.0f, 0, 3, NAN})};
  const auto a = f(args), b = compile_reference({x}, {cost, grad(cost, {x})[0]})(args);
  check_same({a[1]}, {b[1]}, "gradient");
}

TEST_CASE("forward and gradient of sum(leaky_relu(x)) after the standard pipeline: two passes") {
  for (DType t : {DType::float32, DType::float64}) {
    Graph g;
    Expr x = g.input("x", t, {kSymbolic});
    Expr cost = sum(relu(x, 0.1));
    // Differentiate, then optimize: f2 * sign(x) + [f1] for the gradient.
    const std::vector<Expr> outs = optimize({cost, grad(cost, {x})[0]});
    CompileOptions one, two;
    one.num_threads = 1;
    two.num_threads = 2;
    Function f = compile_fast({x}, outs, one), f2 = compile_fast({x}, outs, two);
    // One kernel: the forward affine instruction sums without storing, the
    // gradient's is f2 * sign(x) + f1 with the constant as an argument.
    CHECK(f.num_steps() == 1);
    INFO(f.describe());
    CHECK(f.describe().find("in 2 passes") != std::string::npos);
    CHECK(f.describe().find("reads 1,") != std::string::npos);
    Function ref = compile_reference({x}, outs);
    std::mt19937 rng(31);
    for (std::int64_t n : {0, 1, 31, 32, 33, 1000, 300001}) {
      const std::vector<Tensor> args = {random_tensor(t, {n}, rng)};
      const auto a = f(args), b = f2(args), r = ref(args);
      check_same({a[1]}, {r[1]}, "gradient n=" + std::to_string(n));
      CHECK(a[0].bitwise_equal(b[0]));
      // With special values in x the sum is NaN or inf in every order.
      const double want = r[0].at(0), got = a[0].at(0);
      if (std::isfinite(want)) {
        double magnitude = 0;
        for (std::int64_t i = 0; i < n; ++i) magnitude += std::abs(args[0].at(i));
        const double eps = t == DType::float32 ? 0x1p-24 : 0x1p-53;
        CHECK(std::abs(got - want) <= 2.0 * static_cast<double>(n) * eps * magnitude);
      } else {
        CHECK(((std::isnan(got) && std::isnan(want)) || got == want));
      }
    }
  }
}

TEST_CASE("full sums inside a kernel: stored and summed, summed twice, over rows") {
  std::mt19937 rng(37);
  for (DType t : {DType::float32, DType::float64}) {
    Graph g;
    Expr x = g.input("x", t, {kSymbolic, 37});
    Expr w = g.input("w", t, {37});
    Expr y = relu(x * w, 0.2);
    Expr z = scale(sign(x), 0.5) + 2.0;
    // y is written and summed (twice: keepdims or not), z summed and read by
    // another member, u only summed.
    Expr u = abs(x) - w;
    const std::vector<Expr> outs = {y, sum(y), sum(y, {0, 1}, true), sum(z), z * w, sum(u)};
    CompileOptions one, two;
    one.num_threads = 1;
    two.num_threads = 2;
    Function f = compile_fast({x, w}, outs, one), f2 = compile_fast({x, w}, outs, two);
    CHECK(f.num_steps() == 1);
    Function ref = compile_reference({x, w}, outs);
    Function magnitudes = compile_reference({x, w}, {y, z, u});
    for (std::int64_t rows : {1, 5, 3000}) {
      // Finite values: the sums are compared against a bound.
      Tensor xv(t, {rows, 37}), wv(t, {37});
      std::uniform_real_distribution<double> u01(-2, 2);
      for (std::int64_t i = 0; i < xv.size(); ++i) {
        if (t == DType::float32) xv.data<float>()[i] = static_cast<float>(u01(rng));
        else xv.data<double>()[i] = u01(rng);
      }
      for (std::int64_t i = 0; i < wv.size(); ++i) {
        if (t == DType::float32) wv.data<float>()[i] = static_cast<float>(u01(rng));
        else wv.data<double>()[i] = u01(rng);
      }
      const std::vector<Tensor> args = {xv, wv};
      const auto a = f(args), b = f2(args), r = ref(args);
      check_same({a[0], a[4]}, {r[0], r[4]}, "rows " + std::to_string(rows));
      // Each order's error is at most (n - 1) * eps * sum|v| for the summed v.
      const double eps = t == DType::float32 ? 0x1p-24 : 0x1p-53;
      const auto summed = magnitudes(args);
      auto bound = [&](std::size_t k) {
        double m = 0;
        for (std::int64_t i = 0; i < summed[k].size(); ++i) m += std::abs(summed[k].at(i));
        return 2.0 * static_cast<double>(xv.size()) * eps * m;
      };
      const std::pair<std::size_t, std::size_t> sums[] = {{1, 0}, {2, 0}, {3, 1}, {5, 2}};
      for (auto [o, k] : sums) {
        INFO("output " << o << " rows " << rows);
        CHECK(a[o].bitwise_equal(b[o]));
        CHECK(std::abs(a[o].at(0) - r[o].at(0)) <= bound(k));
      }
      // Added up by y's instruction and by sum_chunk: the same order.
      CHECK(a[1].at(0) == a[2].at(0));
    }
  }
}

TEST_CASE("a full sum that feeds back into its own kernel stays a separate step") {
  Graph g;
  Expr x = g.input("x", DType::float64, {kSymbolic});
  Expr y = x * 2.0;
  Expr z = relu(y - sum(y), 0.5);  // y and z could fuse, but z needs all of sum(y)
  const std::vector<Tensor> args = {Tensor::from_list<double>({1, -2, 3.5, 0.25})};
  check_same(compile_fast({x}, {z, y})(args), compile_reference({x}, {z, y})(args), "feedback");
}

TEST_CASE("a long chain of elementwise nodes: kernels of at most 4096 ops, the reference's bits") {
  // A kernel holds at most 4096 ops (eval/fast.cpp kMaxKernelOps), so that
  // its chunk buffers stay bounded; a longer chain is split into several,
  // each writing its last value for the next. 1,000,000-node graphs are in
  // test_scale.cpp.
  constexpr int kOps = 20'000;
  Graph g;
  Expr x = g.input("x", DType::float32, {kSymbolic});
  Expr y = x;
  for (int i = 0; i < kOps; ++i) {
    switch (i % 4) {
      case 0: y = scale(y, 1.0001); break;
      case 1: y = abs(y); break;
      case 2: y = add(y, x); break;
      case 3: y = neg(y); break;
    }
  }
  Function fast = compile_fast({x}, {y});
  CHECK(fast.num_steps() == (kOps + 4095) / 4096);
  const std::vector<Tensor> args = {Tensor::from_list<float>({-1e-30f, 0.0f, -0.0f, 2.0f, NAN})};
  check_same(fast(args), compile_reference({x}, {y})(args), "chain");
}

TEST_CASE("eval_into writes into the caller's tensors when they fit") {
  Graph g;
  Expr x = g.input("x", DType::float32, {kSymbolic});
  const std::vector<Expr> outs = {relu(x), x, sum(x)};
  Function f = compile_fast({x}, outs);
  Tensor v = Tensor::from_list<float>({-1, 2, -3});
  std::vector<Tensor> out;
  f.eval_into({v}, out);
  REQUIRE(out.size() == 3);
  const void* p0 = out[0].raw();
  const void* p1 = out[1].raw();
  f.eval_into({v}, out);
  CHECK(out[0].raw() == p0);
  CHECK(out[1].raw() == p1);
  CHECK(out[0].to_vector<float>() == std::vector<float>{0, 2, 0});
  CHECK(!out[1].shares_storage(v));  // outputs never alias arguments
  // Another shape: replaced, not written out of bounds.
  f.eval_into({Tensor::from_list<float>({1, 2, 3, 4})}, out);
  CHECK(out[0].size() == 4);
  // A tensor sharing storage with an argument is not written.
  std::vector<Tensor> aliasing = {v, v, v};
  f.eval_into({v}, aliasing);
  CHECK(v.to_vector<float>() == std::vector<float>{-1, 2, -3});
  CHECK(!aliasing[0].shares_storage(v));
}

TEST_CASE("call-time errors are the reference's") {
  Graph g;
  Expr a = g.input("a", DType::float64, {kSymbolic, 3});
  Expr b = g.input("b", DType::float64, {kSymbolic, 3});
  const std::vector<Expr> outs = {relu(a + b)};
  Function fast = compile_fast({a, b}, outs), ref = compile_reference({a, b}, outs);
  auto message = [](const Function& f, const std::vector<Tensor>& args) {
    try {
      f(args);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::vector<std::vector<Tensor>> bad = {
      {Tensor(DType::float64, {2, 3})},                                    // arity
      {Tensor(DType::float32, {2, 3}), Tensor(DType::float64, {2, 3})},    // dtype
      {Tensor(DType::float64, {2, 4}), Tensor(DType::float64, {2, 3})},    // declared size
      {Tensor(DType::float64, {2, 3, 1}), Tensor(DType::float64, {2, 3})}, // rank
      {Tensor(DType::float64, {2, 3}), Tensor(DType::float64, {5, 3})},    // broadcasting at run time
  };
  for (const auto& args : bad) {
    const std::string m = message(fast, args);
    CHECK(m != "no error");
    CHECK(m == message(ref, args));
  }
  const std::string broadcast = message(fast, bad.back());
  CHECK(broadcast.find("add") != std::string::npos);
  CHECK(broadcast.find("axis 0") != std::string::npos);
}

namespace {
/// A user-defined elementwise op with no fused kernel: y = x^2 + 1.
struct SquarePlusOne final : ElementwiseOp {
  SquarePlusOne() : ElementwiseOp("test_square_plus_one", 1, 1) {}
  void compute(std::span<const Tensor* const> in, const Attrs&, Tensor& out) const override {
    dispatch_float(out.dtype(), name(), [&]<class T>() {
      elementwise_kernel<T, T>(out, {in[0]}, [](auto& o, const auto& x) { o = x * x + T(1); });
    });
  }
  std::vector<std::optional<Expr>> partials(const Expr& y, const Expr& g) const override {
    return {g * scale(y.input(0), 2.0)};
  }
};
const RegisterOp<SquarePlusOne> register_square;
}  // namespace

TEST_CASE("a user elementwise op without a fused kernel runs with its compute()") {
  Graph g;
  Expr x = g.input("x", DType::float64, {kSymbolic});
  Expr y = relu(apply("test_square_plus_one", {abs(x) - 2.0}), 0.5);
  Function fast = compile_fast({x}, {y});
  CHECK(fast.num_steps() == 3);  // fused, user op, fused
  const std::vector<Tensor> args = {Tensor::from_list<double>({-3, -1, 0, 1, 5})};
  check_same(fast(args), compile_reference({x}, {y})(args), "user op");
}

TEST_CASE("non-elementwise ops between fused kernels") {
  std::mt19937 rng(8);
  Graph g;
  Expr a = g.input("a", DType::float64, {4, 6});
  Expr b = g.input("b", DType::float64, {6, 5});
  Expr h = relu(matmul(relu(a, 0.1) * 2.0, b) - 1.0);
  Expr m = max(h, {1}, true);
  Expr out = h - m + sum(abs(h), {0}, true);
  const std::vector<Expr> outs = {out, transpose(out), sum(out)};
  const std::vector<Tensor> args = {random_tensor(DType::float64, {4, 6}, rng), random_tensor(DType::float64, {6, 5}, rng)};
  const auto fast = compile_fast({a, b}, outs)(args);
  const auto ref = compile_reference({a, b}, outs)(args);
  check_same({fast[0], fast[1]}, {ref[0], ref[1]}, "mixed");
  if (std::isfinite(ref[2].at(0))) CHECK(std::abs(fast[2].at(0) - ref[2].at(0)) <= 1e-12 * (1 + std::abs(ref[2].at(0))));
}
