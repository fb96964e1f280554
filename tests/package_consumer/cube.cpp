// An op defined by the outside project against the installed headers:
// y = x^3, dy/dx = 3 x^2. Linked into the consumer programs, and built on
// its own as an extension module for the installed symgraph command.
#include <symgraph/symgraph.hpp>

namespace {

using namespace symgraph;

struct Cube final : ElementwiseOp {
  Cube() : ElementwiseOp("consumer_cube", 1, 1) {}
  void compute(std::span<const Tensor* const> in, const Attrs&, Tensor& out) const override {
    dispatch_float(out.dtype(), name(), [&]<class T>() {
      elementwise_kernel<T, T>(out, {in[0]}, [](auto& y, const auto& x) { y = x * x * x; });
    });
  }
  std::vector<std::optional<Expr>> partials(const Expr& y, const Expr& g) const override {
    const Expr x = y.input(0);
    return {g * scale(x * x, 3.0)};
  }
};

const RegisterOp<Cube> cube_registration;

}  // namespace
