// The elu op: like softplus.cpp, one class, one registration and a builder,
// with an attribute, alpha, that the kernel and the gradient read.
#include "elu.hpp"

#include <cmath>

namespace example {
namespace {

using namespace symgraph;

/// y = elu(x, alpha) = x for x > 0, alpha * expm1(x) otherwise.
/// dy/dx = 1 for x > 0, alpha * exp(x) otherwise.
class Elu final : public ElementwiseOp {
 public:
  Elu() : ElementwiseOp("elu", 1, 1) {}

  // The attributes every elu node carries, checked when a node is built:
  // alpha, a number (AttrKind::real, a double).
  std::vector<AttrSpec> attr_specs() const override { return {{"alpha", AttrKind::real}}; }

  // The kernel gets the node's attributes.
  void compute(std::span<const Tensor* const> in, const Attrs& attrs, Tensor& out) const override {
    const double alpha = attrs.get<double>("alpha");
    dispatch_float(out.dtype(), name(), [&]<class T>() {
      const T a = static_cast<T>(alpha);
      elementwise_kernel<T, T>(out, {in[0]}, [a](auto& y, const auto& x) {
        y = x.unaryExpr([a](T v) { return v > T(0) ? v : a * std::expm1(v); });
      });
    });
  }

 protected:
  // The gradient reads them from the output node y.
  std::vector<std::optional<Expr>> partials(const Expr& y, const Expr& g) const override {
    const Expr x = y.input(0);
    const double alpha = y.attrs().get<double>("alpha");
    return {where(x > 0.0, g, alpha * exp(x) * g)};
  }
};

const RegisterOp<Elu> elu_registration;

}  // namespace

// The builder gives the attributes by name.
Expr elu(const Expr& x, double alpha) { return apply("elu", {x}, {{"alpha", alpha}}); }

}  // namespace example
