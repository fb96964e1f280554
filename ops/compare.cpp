// Comparisons and switch.
#include "symgraph/core/registry.hpp"
#include "symgraph/ops/elementwise.hpp"
#include "symgraph/ops/ops.hpp"

namespace symgraph {
namespace {

using Partials = std::vector<std::optional<Expr>>;

/// y = a OP b, a bool; false whenever a or b is NaN (IEEE comparisons).
/// No gradient flows through a comparison.
template <class D> class Compare : public ElementwiseOp {
 public:
  explicit Compare(std::string name, bool commutative = false)
      : ElementwiseOp(std::move(name), 2, 2), commutative_(commutative) {}
  bool commutative() const override { return commutative_; }
  void compute(std::span<const Tensor* const> in, const Attrs&, Tensor& out) const override {
    dispatch_float(in[0]->dtype(), name(), [&]<class T>() {
      elementwise_kernel<bool, T, T>(out, {in[0], in[1]},
                                     [](auto& o, const auto& a, const auto& b) { o = D::eval(a, b); });
    });
  }

 protected:
  DType result_dtype(std::span<const TensorType> in) const override {
    same_float_dtype(in);
    return DType::boolean;
  }
  Partials partials(const Expr&, const Expr&) const override { return {std::nullopt, std::nullopt}; }

 private:
  bool commutative_;
};

struct Gt final : Compare<Gt> {
  Gt() : Compare("gt") {}
  static auto eval(const auto& a, const auto& b) { return a > b; }
};
struct Ge final : Compare<Ge> {
  Ge() : Compare("ge") {}
  static auto eval(const auto& a, const auto& b) { return a >= b; }
};
struct Lt final : Compare<Lt> {
  Lt() : Compare("lt") {}
  static auto eval(const auto& a, const auto& b) { return a < b; }
};
struct Le final : Compare<Le> {
  Le() : Compare("le") {}
  static auto eval(const auto& a, const auto& b) { return a <= b; }
};
struct Eq final : Compare<Eq> {
  Eq() : Compare("eq", true) {}
  static auto eval(const auto& a, const auto& b) { return a == b; }
};

/// y = c ? a : b, elementwise with broadcasting; c is bool, a and b share a
/// dtype. The condition gets no gradient; each branch gets the cotangent
/// where it was selected and 0 elsewhere: where(c, g, 0) and where(c, 0, g),
/// masks that later VJPs keep (see ElementwiseOp::vjp).
struct Switch final : ElementwiseOp {
  Switch() : ElementwiseOp("switch", 3, 3) {}
  void compute(std::span<const Tensor* const> in, const Attrs&, Tensor& out) const override {
    dispatch_any(out.dtype(), [&]<class T>() {
      elementwise_kernel<T, bool, T, T>(out, {in[0], in[1], in[2]},
                                        [](auto& o, const auto& c, const auto& a, const auto& b) { o = c.select(a, b); });
    });
  }

 protected:
  DType result_dtype(std::span<const TensorType> in) const override {
    if (in[0].dtype != DType::boolean)
      fail("the condition must be bool, got " + type_str(in[0]) + " (compare with gt/lt/... first)");
    if (in[1].dtype != in[2].dtype)
      fail("branch dtypes differ: " + type_str(in[1]) + " and " + type_str(in[2]) + " (convert one with cast())");
    return in[1].dtype;
  }
  Partials partials(const Expr& y, const Expr& g) const override {
    if (!is_float(y.dtype())) return {std::nullopt, std::nullopt, std::nullopt};
    const Expr c = y.input(0);
    const Expr zero = constant_like(g, 0.0);
    return {std::nullopt, where(c, g, zero), where(c, zero, g)};
  }
};

}  // namespace

namespace detail {
void register_compare_ops(OpRegistry& r) {
  r.add(std::make_unique<Gt>());
  r.add(std::make_unique<Ge>());
  r.add(std::make_unique<Lt>());
  r.add(std::make_unique<Le>());
  r.add(std::make_unique<Eq>());
  r.add(std::make_unique<Switch>());
}
}  // namespace detail

}  // namespace symgraph
