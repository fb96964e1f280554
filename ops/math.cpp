// Arithmetic elementwise ops. Each comment states the math and the
// derivative the VJP implements.
#include <cmath>

#include "symgraph/core/registry.hpp"
#include "symgraph/ops/elementwise.hpp"
#include "symgraph/ops/ops.hpp"

namespace symgraph {
namespace {

using Partials = std::vector<std::optional<Expr>>;

/// Elementwise with a scalar function: the reference kernels use libm and
/// plain IEEE arithmetic, because Eigen 3.4's packet versions differ on
/// special values on AVX2 (its pnegate computes 0 - x, so -(+0) is +0; its
/// pexp returns a subnormal instead of 0 at -inf).
template <class T, class F> auto scalar_map(const Eigen::ArrayBase<T>& x, F f) {
  return x.unaryExpr([f](typename T::Scalar v) { return f(v); });
}

/// One float operand; D::eval maps an Eigen array expression to the result.
template <class D> class UnaryFloat : public ElementwiseOp {
 public:
  explicit UnaryFloat(std::string name) : ElementwiseOp(std::move(name), 1, 1) {}
  void compute(std::span<const Tensor* const> in, const Attrs&, Tensor& out) const override {
    dispatch_float(out.dtype(), name(), [&]<class T>() {
      elementwise_kernel<T, T>(out, {in[0]}, [](auto& o, const auto& x) { o = D::eval(x); });
    });
  }
};

/// Two float operands of one dtype, broadcast.
template <class D> class BinaryFloat : public ElementwiseOp {
 public:
  BinaryFloat(std::string name, bool commutative) : ElementwiseOp(std::move(name), 2, 2), commutative_(commutative) {}
  bool commutative() const override { return commutative_; }
  void compute(std::span<const Tensor* const> in, const Attrs&, Tensor& out) const override {
    dispatch_float(out.dtype(), name(), [&]<class T>() {
      elementwise_kernel<T, T, T>(out, {in[0], in[1]}, [](auto& o, const auto& a, const auto& b) { o = D::eval(a, b); });
    });
  }

 private:
  bool commutative_;
};

/// y = -x.  dy/dx = -1.
struct Neg final : UnaryFloat<Neg> {
  Neg() : UnaryFloat("neg") {}
  static auto eval(const auto& x) { return scalar_map(x, [](auto v) { return -v; }); }
  Partials partials(const Expr&, const Expr& g) const override { return {neg(g)}; }
};

/// y = |x|.  dy/dx = sign(x), with sign(0) = 0 by convention.
struct Abs final : UnaryFloat<Abs> {
  Abs() : UnaryFloat("abs") {}
  static auto eval(const auto& x) { return x.abs(); }
  Partials partials(const Expr& y, const Expr& g) const override { return {g * sign(y.input(0))}; }
};

/// y = 1 if x > 0, -1 if x < 0, +0 if x is ±0, NaN if x is NaN.  dy/dx = 0.
struct Sign final : UnaryFloat<Sign> {
  Sign() : UnaryFloat("sign") {}
  static auto eval(const auto& x) {
    using T = typename std::decay_t<decltype(x)>::Scalar;
    // x == x is false only for NaN, which x + 0 keeps.
    return (x > T(0)).select(T(1), (x < T(0)).select(T(-1), (x == x).select(T(0), x)));
  }
  Partials partials(const Expr&, const Expr&) const override { return {std::nullopt}; }
};

/// y = e^x.  dy/dx = y.
struct Exp final : UnaryFloat<Exp> {
  Exp() : UnaryFloat("exp") {}
  static auto eval(const auto& x) { return scalar_map(x, [](auto v) { return std::exp(v); }); }
  Partials partials(const Expr& y, const Expr& g) const override { return {g * y}; }
};

/// y = ln x.  dy/dx = 1 / x (inf at 0).
struct Log final : UnaryFloat<Log> {
  Log() : UnaryFloat("log") {}
  static auto eval(const auto& x) { return scalar_map(x, [](auto v) { return std::log(v); }); }
  Partials partials(const Expr& y, const Expr& g) const override { return {g / y.input(0)}; }
};

/// y = sqrt(x).  dy/dx = 1 / (2 y) (inf at 0).
struct Sqrt final : UnaryFloat<Sqrt> {
  Sqrt() : UnaryFloat("sqrt") {}
  static auto eval(const auto& x) { return x.sqrt(); }
  Partials partials(const Expr& y, const Expr& g) const override { return {g / scale(y, 2.0)}; }
};

/// y = tanh x.  dy/dx = 1 - y^2.
struct Tanh final : UnaryFloat<Tanh> {
  Tanh() : UnaryFloat("tanh") {}
  static auto eval(const auto& x) { return scalar_map(x, [](auto v) { return std::tanh(v); }); }
  Partials partials(const Expr& y, const Expr& g) const override { return {g * (1.0 - y * y)}; }
};

/// y = factor * x, factor an attribute in x's dtype.  dy/dx = factor.
struct Scale final : ElementwiseOp {
  Scale() : ElementwiseOp("scale", 1, 1) {}
  std::vector<AttrSpec> attr_specs() const override { return {{"factor", AttrKind::real}}; }
  TensorType infer(std::span<const TensorType> in, const Attrs& attrs) const override {
    attrs.get<double>("factor");
    return ElementwiseOp::infer(in, attrs);
  }
  void compute(std::span<const Tensor* const> in, const Attrs& attrs, Tensor& out) const override {
    const double f = attrs.get<double>("factor");
    dispatch_float(out.dtype(), name(), [&]<class T>() {
      const T factor = static_cast<T>(f);
      elementwise_kernel<T, T>(out, {in[0]}, [&](auto& o, const auto& x) { o = x * factor; });
    });
  }
  Partials partials(const Expr& y, const Expr& g) const override {
    return {scale(g, y.attrs().get<double>("factor"))};
  }
};

/// y = a + b.  dy/da = dy/db = 1.
struct Add final : BinaryFloat<Add> {
  Add() : BinaryFloat("add", true) {}
  static auto eval(const auto& a, const auto& b) { return a + b; }
  Partials partials(const Expr&, const Expr& g) const override { return {g, g}; }
};

/// y = a - b.  dy/da = 1, dy/db = -1.
struct Sub final : BinaryFloat<Sub> {
  Sub() : BinaryFloat("sub", false) {}
  static auto eval(const auto& a, const auto& b) { return a - b; }
  Partials partials(const Expr&, const Expr& g) const override { return {g, neg(g)}; }
};

/// y = a * b.  dy/da = b, dy/db = a.
struct Mul final : BinaryFloat<Mul> {
  Mul() : BinaryFloat("mul", true) {}
  static auto eval(const auto& a, const auto& b) { return a * b; }
  Partials partials(const Expr& y, const Expr& g) const override { return {g * y.input(1), g * y.input(0)}; }
};

/// y = a / b.  dy/da = 1 / b, dy/db = -a / b^2 = -y / b.
struct Div final : BinaryFloat<Div> {
  Div() : BinaryFloat("div", false) {}
  static auto eval(const auto& a, const auto& b) { return a / b; }
  Partials partials(const Expr& y, const Expr& g) const override {
    return {g / y.input(1), neg(g * y) / y.input(1)};
  }
};

/// The cotangent of an operand of maximum/minimum: g where it won
/// (`wins`), g/2 at a tie (`wins_or_ties` but not `wins`), and elsewhere a
/// switch mask (ops/mask.hpp), not a plain 0: a selection, like switch, so the
/// operand that lost never poisons the gradient (maximum(0, log(x)) at x = 0
/// has slope 0, not 0 * inf). With a NaN operand both comparisons are false:
/// no gradient to either operand (as JAX).
Expr selected_cotangent(const Expr& g, const Expr& wins, const Expr& wins_or_ties) {
  return where(wins_or_ties, where(wins, g, scale(g, 0.5)), constant_like(g, 0.0));
}

/// y = a if a >= b or a is NaN, else b (NumPy's maximum: NaN from either
/// operand propagates; on a tie the first operand, so maximum(-0, +0) = -0).
/// dy/da = 1 where a > b, 1/2 where a == b, else 0 (ties split evenly).
struct Maximum final : BinaryFloat<Maximum> {
  Maximum() : BinaryFloat("maximum", true) {}
  static auto eval(const auto& a, const auto& b) { return ((a >= b) || (a != a)).select(a, b); }
  Partials partials(const Expr& y, const Expr& g) const override {
    const Expr a = y.input(0), b = y.input(1);
    return {selected_cotangent(g, gt(a, b), ge(a, b)), selected_cotangent(g, gt(b, a), ge(b, a))};
  }
};

/// y = a if a <= b or a is NaN, else b.  Derivatives mirror maximum.
struct Minimum final : BinaryFloat<Minimum> {
  Minimum() : BinaryFloat("minimum", true) {}
  static auto eval(const auto& a, const auto& b) { return ((a <= b) || (a != a)).select(a, b); }
  Partials partials(const Expr& y, const Expr& g) const override {
    const Expr a = y.input(0), b = y.input(1);
    return {selected_cotangent(g, lt(a, b), le(a, b)), selected_cotangent(g, lt(b, a), le(b, a))};
  }
};

}  // namespace

namespace detail {
void register_math_ops(OpRegistry& r) {
  r.add(std::make_unique<Neg>());
  r.add(std::make_unique<Abs>());
  r.add(std::make_unique<Sign>());
  r.add(std::make_unique<Exp>());
  r.add(std::make_unique<Log>());
  r.add(std::make_unique<Sqrt>());
  r.add(std::make_unique<Tanh>());
  r.add(std::make_unique<Scale>());
  r.add(std::make_unique<Add>());
  r.add(std::make_unique<Sub>());
  r.add(std::make_unique<Mul>());
  r.add(std::make_unique<Div>());
  r.add(std::make_unique<Maximum>());
  r.add(std::make_unique<Minimum>());
}
}  // namespace detail

}  // namespace symgraph
