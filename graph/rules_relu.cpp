// relu-to-abs: every spelling of (leaky) relu becomes relu(x, alpha), the
// branch-free abs form of ops/relu.hpp, built by relu() itself so that the
// result is the very nodes relu() makes (and shares them with any relu
// already in the graph).
//
// Contract (relu_abs, docs/optimizer.md): the abs form is not the switch.
// alpha = 0: 0.5 * (x + |x|) is exact except that zeros may change sign, x =
// -inf gives NaN (-inf + inf) where the switch gives 0, and x > max/2
// overflows to +inf. alpha != 0: f1 * x + f2 * |x| is within
// 4u max(1, |alpha|) |x| (u = eps/2) of alpha * x, a relative error that
// grows like eps / alpha on the negative side; at the infinity where f1 * x
// and f2 * |x| have opposite signs (-inf for |alpha| < 1, +inf for
// |alpha| > 1) it is NaN, and it may overflow once max(1, |alpha|) |x| nears
// the dtype's max. A constant alpha is rewritten only when that relative
// error stays within sqrt(eps) (relu_abs_keeps_slope).
#include <cmath>
#include <limits>

#include "symgraph/graph/rules.hpp"
#include "symgraph/ops/ops.hpp"
#include "symgraph/ops/relu.hpp"

namespace symgraph::rules {
namespace {

using namespace pattern;

const Var x{"x"}, t{"t"};
const Num a{"alpha"};

double eps(DType dtype) {
  return dtype == DType::float32 ? static_cast<double>(std::numeric_limits<float>::epsilon())
                                 : std::numeric_limits<double>::epsilon();
}

double round_to(DType dtype, double v) {
  return dtype == DType::float32 ? static_cast<double>(static_cast<float>(v)) : v;
}

// The spellings of "x is positive" (the switch selects x) and of "x is
// negative" (it selects alpha * x); the threshold is a zero constant of
// either sign, since x > -0 is x > +0.
const Pattern positive = any_of({x > zero(), zero() < x, x >= zero(), zero() <= x});
const Pattern negative = any_of({x < zero(), zero() > x, x <= zero(), zero() >= x});
// alpha * x with a constant alpha: scale(x, alpha), alpha * x or x * alpha
// (mul is commutative, so the engine tries both orders).
const Pattern alpha_x = any_of({scale(x, a), x * a});

/// The abs form has x's type: the dropped threshold and a constant alpha
/// leave the node's shape to x (constants have known shapes, so the static
/// type decides).
Condition same_type_as_x() {
  return [](const Match& m) { return m[x].type() == m.root().type(); };
}

/// The guard: alpha's abs form reproduces the slope within the tolerance.
Condition keeps_slope() {
  return [](const Match& m) { return relu_abs_keeps_slope(m[a], m[x].dtype()); };
}

/// maximum(x, alpha * x) is relu only for alpha <= 1 (above 1 it is
/// alpha * x for x > 0). alpha = 0 is excluded: maximum(+inf, 0 * inf) is NaN
/// while relu(+inf) is +inf, and no rule may hide a NaN.
Condition max_slope() {
  return [](const Match& m) { return m[a] <= 1.0 && m[a] != 0.0; };
}

/// `t` does not depend on `x`: no path leads from t down to x. Only nodes
/// with larger ids than x can depend on it, so the search stops there.
bool independent(const Expr& tv, const Expr& xv) {
  if (tv.id() <= xv.id()) return !tv.is(xv);
  const GraphStore& g = *tv.graph();
  std::vector<char> seen(tv.id() - xv.id() + 1, 0);
  std::vector<NodeId> stack{tv.id()};
  while (!stack.empty()) {
    const NodeId n = stack.back();
    stack.pop_back();
    if (n == xv.id()) return false;
    if (n < xv.id() || seen[n - xv.id()]) continue;
    seen[n - xv.id()] = 1;
    for (NodeId in : g.node(n).inputs) stack.push_back(in);
  }
  return true;
}

/// For a constant slope tensor: every element passes the guard the way
/// relu(x, t) computes its factors (f1 = 0.5 * (1 + alpha) and f2 =
/// 0.5 * (1 - alpha), each operation rounded to the dtype), and for the
/// maximum spelling every element is in [-inf, 1] and nonzero.
bool constant_slopes_ok(const Expr& tv, bool maximum_form) {
  const Tensor& v = tv.attrs().get<Tensor>("value");
  const DType dt = tv.dtype();
  for (std::int64_t i = 0; i < v.size(); ++i) {
    const double alpha = v.at(i);
    if (maximum_form && !(alpha <= 1.0 && alpha != 0.0)) return false;
    if (alpha == 0.0) continue;
    const double f1 = round_to(dt, 0.5 * round_to(dt, 1.0 + alpha));
    const double f2 = round_to(dt, 0.5 * round_to(dt, 1.0 - alpha));
    if (f1 == 0.0 || f2 == 0.0 || !(relu_abs_error(alpha, f1, f2, dt) <= relu_abs_tolerance(dt))) return false;
  }
  return true;
}

/// A tensor slope t: of x's dtype, not depending on x, giving the node's
/// shape together with x (the switch's shape is that of x and t*x once the
/// threshold is dropped); checked element by element when it is a constant.
/// The maximum spelling needs a constant t (to know that t <= 1).
Condition tensor_slope(bool maximum_form) {
  return [maximum_form](const Match& m) {
    const Expr xv = m[x], tv = m[t];
    if (tv.dtype() != xv.dtype() || !independent(tv, xv)) return false;
    if (broadcast_shapes("relu", xv.shape(), tv.shape()) != m.root().shape()) return false;
    if (tv.op_name() == "constant") return constant_slopes_ok(tv, maximum_form);
    return !maximum_form;
  };
}

Expr relu_alpha(const Match& m) { return relu(m[x], m[a]); }
Expr relu_zero(const Match& m) { return relu(m[x]); }
Expr relu_tensor(const Match& m) { return relu(m[x], m[t]); }

}  // namespace

double relu_abs_tolerance(DType dtype) { return std::sqrt(eps(dtype)); }

double relu_abs_error(double alpha, double f1, double f2, DType dtype) {
  if (alpha == 0.0 || !std::isfinite(alpha)) return std::numeric_limits<double>::infinity();
  const double slope = round_to(dtype, f1 - f2);
  const double size = std::abs(alpha);
  return std::abs(slope - alpha) / size + 2.0 * eps(dtype) * std::max(1.0, size) / size;
}

bool relu_abs_keeps_slope(double alpha, DType dtype) {
  if (alpha == 0.0) return true;
  // The factors exactly as relu(x, alpha) rounds them.
  const double f1 = round_to(dtype, (1.0 + alpha) / 2.0);
  const double f2 = round_to(dtype, (1.0 - alpha) / 2.0);
  if (f1 == 0.0 || f2 == 0.0) return false;
  return relu_abs_error(alpha, f1, f2, dtype) <= relu_abs_tolerance(dtype);
}

const std::vector<Rule>& relu_to_abs() {
  using enum Contract;
  static const std::vector<Rule> table = {
      // switch(x > 0, x, alpha*x) -> relu(x, alpha)      also 0 < x, x >= 0, 0 <= x; alpha*x, x*alpha, scale
      {"relu-switch", where(positive, x, alpha_x), relu_alpha, relu_abs, same_type_as_x() && keeps_slope()},
      // switch(x < 0, alpha*x, x) -> relu(x, alpha)      also 0 > x, x <= 0, 0 >= x
      {"relu-switch-inverted", where(negative, alpha_x, x), relu_alpha, relu_abs, same_type_as_x() && keeps_slope()},
      // switch(x > 0, x, 0) -> relu(x)
      {"relu-switch-zero", where(positive, x, zero()), relu_zero, relu_abs, same_type_as_x()},
      // switch(x < 0, 0, x) -> relu(x)
      {"relu-switch-zero-inverted", where(negative, zero(), x), relu_zero, relu_abs, same_type_as_x()},
      // maximum(x, alpha*x) -> relu(x, alpha)            alpha <= 1, alpha != 0
      {"relu-maximum", maximum(x, alpha_x), relu_alpha, relu_abs, same_type_as_x() && max_slope() && keeps_slope()},
      // maximum(x, 0) -> relu(x)
      {"relu-maximum-zero", maximum(x, zero()), relu_zero, relu_abs, same_type_as_x()},
      // switch(x > 0, x, t*x) -> relu(x, t)              t: a tensor that does not depend on x
      {"relu-switch-tensor", where(positive, x, t * x), relu_tensor, relu_abs, tensor_slope(false)},
      // switch(x < 0, t*x, x) -> relu(x, t)
      {"relu-switch-tensor-inverted", where(negative, t * x, x), relu_tensor, relu_abs, tensor_slope(false)},
      // maximum(x, t*x) -> relu(x, t)                    t: a constant tensor, every element <= 1 and != 0
      {"relu-maximum-tensor", maximum(x, t * x), relu_tensor, relu_abs, tensor_slope(true)},
  };
  return table;
}

}  // namespace symgraph::rules
