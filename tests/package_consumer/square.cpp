// A second op of the outside project, built only as an extension module:
// the project's own copy of the command (consumer_command) loads it, which
// works because symgraph::cli exports the whole library to modules.
// y = x^2, dy/dx = 2x; and a pass that finds x * x, declared before the op
// its rule names (RegisterPass registers after every static initialiser).
#include <symgraph/symgraph.hpp>

namespace {

using namespace symgraph;
using namespace symgraph::pattern;

const Var x{"x"};

// x * x -> consumer_square(x)   exact: the kernel computes x * x
std::vector<Rule> square_rules() {
  return {{"mul-to-square", x * x, [](const Match& m) { return apply("consumer_square", {m[x]}); },
           Contract::exact}};
}
const RegisterPass square_pass{"consumer-square", "x * x becomes consumer_square(x)", square_rules, true};

struct Square final : ElementwiseOp {
  Square() : ElementwiseOp("consumer_square", 1, 1) {}
  void compute(std::span<const Tensor* const> in, const Attrs&, Tensor& out) const override {
    dispatch_float(out.dtype(), name(), [&]<class T>() {
      elementwise_kernel<T, T>(out, {in[0]}, [](auto& y, const auto& v) { y = v * v; });
    });
  }
  std::vector<std::optional<Expr>> partials(const Expr& y, const Expr& g) const override {
    return {g * scale(y.input(0), 2.0)};
  }
};

const RegisterOp<Square> square_registration;

}  // namespace
