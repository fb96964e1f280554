// Every op on hand-computed values: broadcasting, 0-d and empty tensors,
// signed zeros, infinities and NaN compared bit for bit. Each case runs
// twice: with the argument shapes declared, and with every dimension
// symbolic (so shapes are only known when the graph runs).
#include <functional>

#include "harness.hpp"

using namespace sgtest;

namespace {

using Build = std::function<Expr(const std::vector<Expr>&)>;

struct Case {
  const char* what;
  Build build;
  std::vector<Tensor> args;
  Tensor want;
};

Tensor evaluate(const Build& build, const std::vector<Tensor>& args, bool symbolic) {
  Graph g;
  std::vector<Expr> ins;
  for (std::size_t i = 0; i < args.size(); ++i) {
    Shape s = args[i].shape();
    if (symbolic) std::fill(s.begin(), s.end(), kSymbolic);
    ins.push_back(g.input("a" + std::to_string(i), args[i].dtype(), s));
  }
  return run(ins, {build(ins)}, args)[0];
}

void check_cases(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    for (bool symbolic : {false, true}) {
      CAPTURE(c.what);
      CAPTURE(symbolic);
      check_same(evaluate(c.build, c.args, symbolic), c.want);
    }
  }
}

Build un(Expr (*f)(const Expr&)) {
  return [f](const std::vector<Expr>& a) { return f(a[0]); };
}
Build bin(Expr (*f)(const Expr&, const Expr&)) {
  return [f](const std::vector<Expr>& a) { return f(a[0], a[1]); };
}

const double e1 = std::exp(1.0);

}  // namespace

TEST_CASE("unary ops on special values, float64 and float32") {
  for (DType dt : {DType::float64, DType::float32}) {
    CAPTURE(dtype_name(dt));
    auto t = [dt](std::vector<double> v) { return tensor(std::move(v), {}, dt); };
    // Expected values are computed in double and rounded to the dtype.
    auto f = [dt](double v) { return dt == DType::float32 ? static_cast<double>(static_cast<float>(v)) : v; };
    const auto x = t({-0.0, 0.0, -inf, inf, NaN, -2.5, 4.0});
    check_cases({
        {"neg", un(neg), {x}, t({0.0, -0.0, inf, -inf, NaN, 2.5, -4.0})},
        {"abs", un(abs), {x}, t({0.0, 0.0, inf, inf, NaN, 2.5, 4.0})},
        {"sign (±0 -> +0, NaN stays)", un(sign), {x}, t({0.0, 0.0, -1.0, 1.0, NaN, -1.0, 1.0})},
        {"exp", un(exp), {t({0.0, -0.0, -inf, inf, NaN, 1.0, -1000.0, 1000.0})},
         t({1.0, 1.0, 0.0, inf, NaN, f(e1), 0.0, inf})},
        {"log", un(log), {t({1.0, 0.0, -0.0, -1.0, inf, NaN, -inf})}, t({0.0, -inf, -inf, NaN, inf, NaN, NaN})},
        {"sqrt", un(sqrt), {t({4.0, 0.0, -0.0, -1.0, inf, NaN, 2.0})}, t({2.0, 0.0, -0.0, NaN, inf, NaN, f(std::sqrt(2.0))})},
        {"tanh", un(tanh), {t({0.0, -0.0, inf, -inf, NaN, 30.0, -30.0})}, t({0.0, -0.0, 1.0, -1.0, NaN, 1.0, -1.0})},
        {"scale 0.5", [](auto& a) { return scale(a[0], 0.5); }, {x}, t({-0.0, 0.0, -inf, inf, NaN, -1.25, 2.0})},
        {"scale -0.0", [](auto& a) { return scale(a[0], -0.0); }, {t({1.0, -1.0, inf})}, t({-0.0, 0.0, NaN})},
    });
  }
  check_cases({
      {"subnormal abs and neg", un(neg), {tensor({5e-324, -5e-324})}, tensor({-5e-324, 5e-324})},
      {"tanh of a small value is exact libm", un(tanh), {tensor({0.5})}, tensor({std::tanh(0.5)})},
      {"log of e", un(log), {tensor({e1})}, tensor({std::log(e1)})},
  });
}

TEST_CASE("float32 unary ops keep float32") {
  const DType f = DType::float32;
  check_cases({
      {"abs f32", un(abs), {tensor({-0.0, -1.5, NaN}, {}, f)}, tensor({0.0, 1.5, NaN}, {}, f)},
      {"sign f32", un(sign), {tensor({-0.0, -1e-45, inf, NaN}, {}, f)}, tensor({0.0, -1.0, 1.0, NaN}, {}, f)},
      {"scale f32 rounds the factor", [](auto& a) { return scale(a[0], 0.1); }, {tensor({1.0}, {}, f)},
       tensor({static_cast<double>(0.1f)}, {}, f)},
  });
}

TEST_CASE("binary arithmetic with broadcasting") {
  // [3, 1] against [4] -> [3, 4], as NumPy: out[i][j] = a[i] op b[j].
  const auto a = tensor({1.0, 2.0, 3.0}, {3, 1});
  const auto b = tensor({10.0, 20.0, 30.0, 40.0}, {4});
  check_cases({
      {"add [3,1]+[4]", bin(add), {a, b},
       tensor({11, 21, 31, 41, 12, 22, 32, 42, 13, 23, 33, 43}, {3, 4})},
      {"sub [3,1]-[4]", bin(sub), {a, b},
       tensor({-9, -19, -29, -39, -8, -18, -28, -38, -7, -17, -27, -37}, {3, 4})},
      {"mul [4]*[3,1]", bin(mul), {b, a},
       tensor({10, 20, 30, 40, 20, 40, 60, 80, 30, 60, 90, 120}, {3, 4})},
      {"div [3,1]/[4]", bin(div), {a, tensor({1.0, 2.0, 4.0, 8.0})},
       tensor({1, 0.5, 0.25, 0.125, 2, 1, 0.5, 0.25, 3, 1.5, 0.75, 0.375}, {3, 4})},
      {"add 0-d + 0-d", bin(add), {tensor({1.5}), tensor({2.0})}, tensor({3.5})},
      {"add 0-d + [2,2]", bin(add), {tensor({1.0}), tensor({1, 2, 3, 4}, {2, 2})}, tensor({2, 3, 4, 5}, {2, 2})},
      {"add [2,1,3] + [4,1]", bin(add), {tensor({0, 1, 2, 3, 4, 5}, {2, 1, 3}), tensor({0, 10, 20, 30}, {4, 1})},
       tensor({0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32, 3, 4, 5, 13, 14, 15, 23, 24, 25, 33, 34, 35}, {2, 4, 3})},
      {"add empty [0] + [0]", bin(add), {tensor({}, {0}), tensor({}, {0})}, tensor({}, {0})},
      {"add empty [0,3] + [3]", bin(add), {tensor({}, {0, 3}), tensor({1, 2, 3})}, tensor({}, {0, 3})},
      {"add [1] + [0] -> [0]", bin(add), {tensor({1.0}, {1}), tensor({}, {0})}, tensor({}, {0})},
  });
}

TEST_CASE("arithmetic on special values") {
  check_cases({
      {"add signed zeros", bin(add), {tensor({-0.0, -0.0, 0.0}), tensor({-0.0, 0.0, -0.0})}, tensor({-0.0, 0.0, 0.0})},
      {"add infinities", bin(add), {tensor({inf, inf, -inf, NaN}), tensor({inf, -inf, -inf, 1.0})},
       tensor({inf, NaN, -inf, NaN})},
      {"sub x - x is not 0 for inf", bin(sub), {tensor({inf, 1.0, 0.0}), tensor({inf, 1.0, -0.0})}, tensor({NaN, 0.0, 0.0})},
      {"mul 0 * inf", bin(mul), {tensor({0.0, -0.0, -2.0}), tensor({inf, 3.0, -0.0})}, tensor({NaN, -0.0, 0.0})},
      {"div by zeros", bin(div), {tensor({1.0, -1.0, 0.0, 1.0, inf}), tensor({0.0, 0.0, 0.0, -0.0, inf})},
       tensor({inf, -inf, NaN, -inf, NaN})},
      {"overflow to inf", bin(mul), {tensor({1e308}), tensor({10.0})}, tensor({inf})},
      {"subnormal products", bin(mul), {tensor({5e-324, 1e-310}), tensor({0.5, 2.0})}, tensor({0.0, 2e-310})},
  });
}

TEST_CASE("maximum and minimum propagate NaN from either operand, first operand on ties") {
  // NumPy: maximum(a, b) = a if a >= b or a is NaN, else b.
  const auto a = tensor({NaN, 1.0, NaN, 1.0, 3.0, -0.0, 0.0, -inf});
  const auto b = tensor({1.0, NaN, NaN, 2.0, 2.0, 0.0, -0.0, inf});
  check_cases({
      {"maximum", bin(maximum), {a, b}, tensor({NaN, NaN, NaN, 2.0, 3.0, -0.0, 0.0, inf})},
      {"maximum swapped", bin(maximum), {b, a}, tensor({NaN, NaN, NaN, 2.0, 3.0, 0.0, -0.0, inf})},
      {"minimum", bin(minimum), {a, b}, tensor({NaN, NaN, NaN, 1.0, 2.0, -0.0, 0.0, -inf})},
      {"minimum swapped", bin(minimum), {b, a}, tensor({NaN, NaN, NaN, 1.0, 2.0, 0.0, -0.0, -inf})},
      {"maximum broadcast NaN scalar", bin(maximum), {tensor({1.0, 2.0}), tensor({NaN})}, tensor({NaN, NaN})},
      {"maximum broadcast NaN scalar first", bin(maximum), {tensor({NaN}), tensor({1.0, 2.0})}, tensor({NaN, NaN})},
      {"maximum f32", bin(maximum), {tensor({NaN, 1.0}, {}, DType::float32), tensor({1.0, NaN}, {}, DType::float32)},
       tensor({NaN, NaN}, {}, DType::float32)},
  });
}

TEST_CASE("comparisons are false with NaN and treat -0 == +0") {
  const auto a = tensor({1.0, 2.0, 3.0, NaN, -0.0, inf});
  const auto b = tensor({2.0, 2.0, 2.0, NaN, 0.0, inf});
  check_cases({
      {"gt", bin(gt), {a, b}, booleans({0, 0, 1, 0, 0, 0})},
      {"ge", bin(ge), {a, b}, booleans({0, 1, 1, 0, 1, 1})},
      {"lt", bin(lt), {a, b}, booleans({1, 0, 0, 0, 0, 0})},
      {"le", bin(le), {a, b}, booleans({1, 1, 0, 0, 1, 1})},
      {"eq", bin(eq), {a, b}, booleans({0, 1, 0, 0, 1, 1})},
      {"gt broadcast [2,1] > [3]", bin(gt), {tensor({1.0, 5.0}, {2, 1}), tensor({0.0, 1.0, 6.0})},
       booleans({1, 0, 0, 1, 1, 0}, {2, 3})},
      {"x > 0 via operator", [](auto& v) { return v[0] > 0.0; }, {tensor({-1.0, 0.0, -0.0, 1e-320, NaN})},
       booleans({0, 0, 0, 1, 0})},
  });
}

TEST_CASE("switch selects elementwise with broadcasting") {
  check_cases({
      {"switch", [](auto& v) { return where(v[0], v[1], v[2]); },
       {booleans({1, 0, 1}), tensor({1.0, 2.0, 3.0}), tensor({-1.0, -2.0, -3.0})}, tensor({1.0, -2.0, 3.0})},
      {"switch keeps NaN and -0 of the chosen branch", [](auto& v) { return where(v[0], v[1], v[2]); },
       {booleans({1, 0}), tensor({NaN, NaN}), tensor({-0.0, -0.0})}, tensor({NaN, -0.0})},
      {"switch [3,1] cond, [4] a, 0-d b", [](auto& v) { return where(v[0], v[1], v[2]); },
       {booleans({1, 0, 1}, {3, 1}), tensor({1, 2, 3, 4}), tensor({0.0})},
       tensor({1, 2, 3, 4, 0, 0, 0, 0, 1, 2, 3, 4}, {3, 4})},
      {"switch on bools", [](auto& v) { return where(v[0], v[1], v[2]); },
       {booleans({1, 0}), booleans({0, 0}), booleans({1, 1})}, booleans({0, 1})},
      {"relu by hand", [](auto& v) { return where(v[0] > 0.0, v[0], 0.1 * v[0]); }, {tensor({-2.0, 3.0, -0.0})},
       tensor({-0.2, 3.0, -0.0})},
  });
}

TEST_CASE("reductions") {
  const auto m = tensor({1, 2, 3, 4, 5, 6}, {2, 3});
  check_cases({
      {"sum all", [](auto& v) { return sum(v[0]); }, {m}, tensor({21.0})},
      {"sum axis 0", [](auto& v) { return sum(v[0], {0}); }, {m}, tensor({5, 7, 9})},
      {"sum axis -1", [](auto& v) { return sum(v[0], {-1}); }, {m}, tensor({6, 15})},
      {"sum axis 1 keepdims", [](auto& v) { return sum(v[0], {1}, true); }, {m}, tensor({6, 15}, {2, 1})},
      {"sum no axes is a copy", [](auto& v) { return sum(v[0], std::vector<std::int64_t>{}); }, {m}, m},
      {"sum of empty is 0", [](auto& v) { return sum(v[0]); }, {tensor({}, {0, 3})}, tensor({0.0})},
      {"sum over empty axis", [](auto& v) { return sum(v[0], {0}); }, {tensor({}, {0, 3})}, tensor({0, 0, 0})},
      {"sum [2,3,2] over axes 0,2", [](auto& v) { return sum(v[0], {0, 2}); },
       {tensor({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, {2, 3, 2})}, tensor({1 + 2 + 7 + 8, 3 + 4 + 9 + 10, 5 + 6 + 11 + 12})},
      {"sum with inf and NaN", [](auto& v) { return sum(v[0], {1}); }, {tensor({inf, 1, -inf, 2, NaN, 3}, {3, 2})},
       tensor({inf, -inf, NaN})},
      {"max axis 1", [](auto& v) { return max(v[0], {1}); }, {tensor({1, 5, 3, -1, -0.5, -7}, {2, 3})}, tensor({5, -0.5})},
      {"max propagates NaN", [](auto& v) { return max(v[0], {1}); }, {tensor({1, NaN, 3, NaN, 1, 2}, {2, 3})},
       tensor({NaN, NaN})},
      {"max all, -inf only", [](auto& v) { return max(v[0]); }, {tensor({-inf, -inf})}, tensor({-inf})},
  });
  Graph g;
  Expr x = g.input("x", DType::float64, {kSymbolic});
  CHECK(error_of([&] { run({x}, {max(x)}, {tensor({}, {0})}); }).find("size 0") != std::string::npos);
}

TEST_CASE("matmul, transpose, shape and type ops") {
  const auto a = tensor({1, 2, 3, 4, 5, 6}, {2, 3});
  const auto b = tensor({7, 8, 9, 10, 11, 12}, {3, 2});
  check_cases({
      {"matmul", bin(matmul), {a, b}, tensor({58, 64, 139, 154}, {2, 2})},
      {"matmul with empty inner", bin(matmul), {tensor({}, {2, 0}), tensor({}, {0, 3})}, tensor({0, 0, 0, 0, 0, 0}, {2, 3})},
      {"transpose", un(transpose), {a}, tensor({1, 4, 2, 5, 3, 6}, {3, 2})},
      {"broadcast_to", bin(broadcast_to), {tensor({1, 2}, {2, 1}), tensor({0, 0, 0}, {3})},
       tensor({1, 1, 1, 2, 2, 2}, {2, 3})},
      {"sum_to leading and size-1 axes", bin(sum_to), {tensor({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, {2, 2, 3}),
                                                         tensor({0, 0}, {2, 1})},
       tensor({1 + 2 + 3 + 7 + 8 + 9, 4 + 5 + 6 + 10 + 11 + 12}, {2, 1})},
      {"sum_to same shape is identity", bin(sum_to), {a, a}, a},
      {"expand_dims", [](auto& v) { return expand_dims(v[0], {0, 2}); }, {tensor({1, 2})}, tensor({1, 2}, {1, 2, 1})},
      {"squeeze", [](auto& v) { return squeeze(v[0], {0, 2}); }, {tensor({1, 2}, {1, 2, 1})}, tensor({1, 2})},
      {"reshape", [](auto& v) { return reshape(v[0], {3, 2}); }, {a}, tensor({1, 2, 3, 4, 5, 6}, {3, 2})},
      {"cast bool -> float64", [](auto& v) { return cast(v[0], DType::float64); }, {booleans({1, 0})}, tensor({1, 0})},
      {"cast float64 -> float32 rounds", [](auto& v) { return cast(v[0], DType::float32); }, {tensor({0.1, -0.0, NaN})},
       tensor({static_cast<double>(0.1f), -0.0, NaN}, {}, DType::float32)},
      {"cast float -> bool is x != 0", [](auto& v) { return cast(v[0], DType::boolean); }, {tensor({0.0, -0.0, 2.0, NaN})},
       booleans({0, 0, 1, 1})},
  });
}

TEST_CASE("every registered op is covered by a builder test above") {
  // A new built-in op must be added to this suite.
  const std::vector<std::string> expected = {
      "abs", "add", "broadcast_to", "cast", "constant", "div", "eq", "exp", "expand_dims", "ge", "gt",
      "input", "le", "log", "lt", "matmul", "max", "maximum", "minimum", "mul", "neg", "reshape", "scale",
      "sign", "sqrt", "squeeze", "sub", "sum", "sum_to", "switch", "tanh", "transpose"};
  std::vector<std::string> names;
  for (const auto& n : OpRegistry::instance().names())
    if (std::find(expected.begin(), expected.end(), n) != expected.end()) names.push_back(n);
  CHECK(names == expected);
}
