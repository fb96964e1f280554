// The softplus op: one class, one registration, a builder, and a pass with
// one rewrite rule that finds the hand-written form log(1 + exp(x)).
#include "softplus.hpp"

#include <algorithm>
#include <cmath>

namespace example {
namespace {

using namespace symgraph;

/// y = softplus(x) = log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)).
/// The second form never overflows (exp of a non-positive number) and
/// log1p keeps exp(x) where it is below the rounding of 1 + exp(x).
/// dy/dx = sigmoid(x) = 1 / (1 + exp(-x)) = exp(x) / (1 + exp(x)).
class Softplus final : public ElementwiseOp {
 public:
  // Name (also in JSON), and the number of operands: exactly one.
  Softplus() : ElementwiseOp("softplus", 1, 1) {}

  // ElementwiseOp infers the type (operands of one float dtype, broadcast)
  // and sums gradients back to operand shapes; the op gives the kernel...
  void compute(std::span<const Tensor* const> in, const Attrs&, Tensor& out) const override {
    dispatch_float(out.dtype(), name(), [&]<class T>() {
      elementwise_kernel<T, T>(out, {in[0]}, [](auto& y, const auto& x) {
        // libm's exp and log1p: exact at the infinities (softplus(-inf) = +0).
        y = x.unaryExpr([](T v) { return std::max(v, T(0)) + std::log1p(std::exp(-std::abs(v))); });
      });
    });
  }

 protected:
  // ...and the partial derivative, times the output cotangent g.
  std::vector<std::optional<Expr>> partials(const Expr& y, const Expr& g) const override {
    // Each form where its exp cannot overflow, so that every derivative of
    // this one is finite too (switch masks the branch it does not select).
    const Expr x = y.input(0);
    const Expr sigmoid = where(x >= 0.0, 1.0 / (1.0 + exp(-x)), exp(x) / (1.0 + exp(x)));
    return {sigmoid * g};
  }
};

const RegisterOp<Softplus> softplus_registration;

using namespace symgraph::pattern;
const Var x{"x"};

/// log(1 + exp(x)) -> softplus(x). Contract (approximate): the result is
/// softplus's, more accurate than the hand-written form, which rounds
/// 1 + exp(x) (0 instead of exp(x) below x = -37 in float64, -17 in
/// float32) and overflows to inf above x = 709 (float64) or 88 (float32).
/// NaN stays NaN; at -inf and +inf both give +0 and +inf.
std::vector<Rule> softplus_rules() {
  return {
      // log(1 + exp(x)) -> softplus(x)   also exp(x) + 1: add is commutative, the engine tries both orders
      {"log-1-plus-exp", op("log", {lit(1.0) + op("exp", {x})}), [](const Match& m) { return softplus(m[x]); },
       Contract::approximate,
       // softplus(x) has x's type: the constant 1 must not broadcast x to a larger shape.
       [](const Match& m) { return m[x].type() == m.root().type(); }},
  };
}

// The pass joins the standard pipeline: optimize(), compile() and the
// symgraph command apply it by default (Pipeline::strict() does not: the
// rule is not exact). RegisterPass takes the function that builds the rules
// and calls it after every static initialiser has run, so a failure is
// reported, never the end of the program.
const RegisterPass softplus_pass{"softplus", "log(1 + exp(x)) becomes softplus(x)", softplus_rules, true};

}  // namespace

Expr softplus(const Expr& x) { return apply("softplus", {x}); }

}  // namespace example
