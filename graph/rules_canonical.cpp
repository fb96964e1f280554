// canonicalize: one normal form for expressions that compute the same thing,
// so that hash-consing shares them and later rules see one spelling.
//
// Each rule states its contract (graph/rewrite.hpp). None turns a NaN into a
// number: x * 0 -> 0 and x - x -> 0 are deliberately absent (0 * inf and
// inf - inf are NaN).
#include <cmath>

#include "symgraph/core/registry.hpp"
#include "symgraph/graph/rules.hpp"
#include "symgraph/ops/ops.hpp"

namespace symgraph::rules {
namespace {

using namespace pattern;

const Var x{"x"}, y{"y"}, c{"c"}, k{"k"};
const Num a{"a"}, b{"b"};

double round_to(DType t, double v) { return t == DType::float32 ? static_cast<double>(static_cast<float>(v)) : v; }

/// Hole `v` has the type of the matched node. A rule that drops constant
/// operands and returns `v` keeps the result's shape exactly when this holds,
/// also at run time: a constant's dimensions are known, so a constant that
/// would change a dimension changes the static type too.
Condition same_type(const Var& v) {
  return [v](const Match& m) { return m[v].type() == m.root().type(); };
}

/// `small`'s shape broadcasts into `big`'s without changing it, whatever the
/// run-time sizes.
Condition fits_into(const Var& small, const Var& big) {
  return [small, big](const Match& m) { return fits_unchanged(m[small].shape(), m[big].shape()); };
}

/// scale(scale(x, a), b) is exactly scale(x, a*b) when a = ±2^k with k >= 0
/// and |b| >= 1: x*a is then exact (no rounding, no underflow), and it
/// overflows only if x*(a*b) does too.
Condition exact_scale_product(const Num& inner, const Num& outer) {
  return [inner, outer](const Match& m) {
    const double p = m[inner], q = m[outer];
    int exp = 0;
    const double mant = std::frexp(p, &exp);
    const double prod = round_to(m.root().dtype(), p * q);
    return std::isfinite(p) && std::abs(mant) == 0.5 && std::abs(p) >= 1.0 && std::isfinite(q) &&
           std::abs(q) >= 1.0 && std::isfinite(prod) && prod == p * q;
  };
}

/// Both factors and their product (in the dtype) are finite and nonzero, so
/// merging neither makes nor hides a NaN (0 * inf).
Condition finite_nonzero_product(const Num& p, const Num& q) {
  return [p, q](const Match& m) {
    const double prod = round_to(m.root().dtype(), m[p] * m[q]);
    return std::isfinite(m[p]) && m[p] != 0.0 && std::isfinite(m[q]) && m[q] != 0.0 && std::isfinite(prod) &&
           prod != 0.0;
  };
}

/// 1/a is exact in the dtype (a = ±2^k and 2^-k representable), so x / a and
/// x * (1/a) are the same correctly rounded quotient.
Condition exact_reciprocal(const Num& d) {
  return [d](const Match& m) {
    const double v = m[d];
    int exp = 0;
    if (!std::isfinite(v) || std::abs(std::frexp(v, &exp)) != 0.5) return false;
    const double r = 1.0 / v;
    return std::isfinite(round_to(m.root().dtype(), r)) && round_to(m.root().dtype(), r) == r;
  };
}

Condition attr_is(std::string key, auto value) {
  return [key = std::move(key), value](const Match& m) { return m.root().attrs().get<decltype(value)>(key) == value; };
}

bool is_minmax(const Op& op) { return op.name() == "maximum" || op.name() == "minimum"; }

/// op(x, y) with y's id smaller than x's: the operands are out of order.
Condition out_of_order(bool minmax) {
  return [minmax](const Match& m) { return m[x].id() > m[y].id() && is_minmax(m.root().op()) == minmax; };
}

Expr swapped(const Match& m) { return apply(m.root().op(), {m[y], m[x]}, m.root().attrs()); }

/// x and y have one shape at run time, or y's broadcasts into x's unchanged.
Condition y_fits_x() {
  const Condition fits = fits_into(y, x);
  return [fits](const Match& m) { return fits(m) || same_runtime_shape(m[x], m[y]); };
}

/// An elementwise op with one operand broadcast_to(k, y) and the other x,
/// in either position (for switch: the two branches; the condition c only
/// widens the result further).
Pattern with_broadcast_operand() {
  const Pattern bc = broadcast_to(k, y);
  return any_of({x + bc, x * bc, maximum(x, bc), minimum(x, bc), eq(x, bc), x - bc, bc - x, x / bc, bc / x, x > bc,
                 bc > x, x >= bc, bc >= x, where(c, x, bc), where(c, bc, x)});
}

/// The matched op with its broadcast_to(k, y) operand replaced by k.
Expr drop_broadcast(const Match& m) {
  const Expr& r = m.root();
  std::vector<Expr> operands;
  bool replaced = false;
  for (std::size_t i = 0; i < r.num_inputs(); ++i) {
    const Expr in = r.input(i);
    const bool is_bc = in.op_name() == "broadcast_to" && in.input(0).is(m[k]) && in.input(1).is(m[y]);
    operands.push_back(is_bc && !replaced ? m[k] : in);
    replaced = replaced || is_bc;
  }
  return apply(r.op(), operands, r.attrs());
}

/// A unary elementwise op applied to broadcast_to(k, y).
Pattern unary_of_broadcast() {
  const Pattern bc = broadcast_to(k, y);
  return any_of({-bc, abs(bc), scale(bc, a), op("sign", {bc}), op("exp", {bc}), op("log", {bc}), op("sqrt", {bc}),
                 op("tanh", {bc}), op("cast", {bc})});
}

}  // namespace

const std::vector<Rule>& canonicalize() {
  using enum Contract;
  static const std::vector<Rule> table = {
      // Neutral elements.
      // x + (-0.0) -> x                 x + (-0) is x for every x, +0 included
      {"add-neg-zero", x + lit(-0.0), x, exact, same_type(x)},
      // x + 0.0 -> x                    at x = -0: -0 + 0 is +0
      {"add-zero", x + lit(0.0), x, signed_zero, same_type(x)},
      // x - 0.0 -> x
      {"sub-zero", x - lit(0.0), x, exact, same_type(x)},
      // x - (-0.0) -> x                 it is x + 0: at x = -0, +0
      {"sub-neg-zero", x - lit(-0.0), x, signed_zero, same_type(x)},
      // x * 1 -> x
      {"mul-one", x * lit(1.0), x, exact, same_type(x)},
      // x / 1 -> x
      {"div-one", x / lit(1.0), x, exact, same_type(x)},
      // scale(x, 1) -> x
      {"scale-one", scale(x, 1.0), x, exact},

      // Multiplication by a constant is a scale.
      // x * a -> scale(x, a)            a: a constant holding one value
      {"mul-constant", x * a, [](const Match& m) { return scale(m[x], m[a]); }, exact, same_type(x)},
      // x / a -> scale(x, 1/a)          a = ±2^k: the same correctly rounded quotient
      {"div-power-of-two", x / a, [](const Match& m) { return scale(m[x], 1.0 / m[a]); }, exact,
       same_type(x) && exact_reciprocal(a)},
      // scale(scale(x, a), b) -> scale(x, a*b)   a = ±2^k >= 1, |b| >= 1: x*a is exact
      {"scale-scale-exact", scale(scale(x, a), b), [](const Match& m) { return scale(m[x], m[a] * m[b]); }, exact,
       exact_scale_product(a, b)},
      // scale(scale(x, a), b) -> scale(x, a*b)   one rounding instead of two
      {"scale-scale", scale(scale(x, a), b), [](const Match& m) { return scale(m[x], m[a] * m[b]); }, reassociation,
       finite_nonzero_product(a, b)},

      // Signs: negation is exact and rounding is symmetric in sign.
      // -(-x) -> x
      {"neg-neg", -(-x), x, exact},
      // -scale(x, a) -> scale(x, -a)
      {"neg-scale", -scale(x, a), [](const Match& m) { return scale(m[x], -m[a]); }, exact},
      // scale(-x, a) -> scale(x, -a)
      {"scale-neg", scale(-x, a), [](const Match& m) { return scale(m[x], -m[a]); }, exact},
      // x + (-y) -> x - y               IEEE defines x - y as x + (-y)
      {"add-neg", x + (-y), [](const Match& m) { return m[x] - m[y]; }, exact},
      // x - (-y) -> x + y
      {"sub-neg", x - (-y), [](const Match& m) { return m[x] + m[y]; }, exact},
      // |-x| -> |x|
      {"abs-neg", abs(-x), [](const Match& m) { return abs(m[x]); }, exact},
      // ||x|| -> |x|
      {"abs-abs", abs(abs(x)), [](const Match& m) { return abs(m[x]); }, exact},

      // Comparisons face one way: x < y is y > x, also for NaN (both false).
      // x < y -> y > x
      {"lt-to-gt", x < y, [](const Match& m) { return m[y] > m[x]; }, exact},
      // x <= y -> y >= x
      {"le-to-ge", x <= y, [](const Match& m) { return m[y] >= m[x]; }, exact},

      // Selections.
      // maximum(x, x) -> x
      {"maximum-same", maximum(x, x), x, exact},
      // minimum(x, x) -> x
      {"minimum-same", minimum(x, x), x, exact},
      // switch(c, x, x) -> broadcast_to(x, c)   the result keeps the shape c gives it
      {"switch-same", where(c, x, x), [](const Match& m) { return broadcast_to(m[x], m[c]); }, exact},

      // Shape ops that do nothing.
      // broadcast_to(x, y) -> x         y's shape broadcasts into x's
      // broadcast_to(x, y) -> x         y's shape broadcasts into x's, or is x's at run time
      {"broadcast-noop", broadcast_to(x, y), x, exact, y_fits_x()},
      // sum_to(x, y) -> x               x has y's shape at run time
      {"sum-to-noop", sum_to(x, y), x, exact, [](const Match& m) { return same_runtime_shape(m[x], m[y]); }},
      // op(x, broadcast_to(k, y)) -> op(x, k)   y fits into x: the op broadcasts k itself
      {"broadcast-operand", with_broadcast_operand(), drop_broadcast, exact, y_fits_x()},
      // u(broadcast_to(k, y)) -> broadcast_to(u(k), y)   u unary elementwise: u runs on k's elements only
      {"unary-broadcast", unary_of_broadcast(),
       [](const Match& m) { return broadcast_to(apply(m.root().op(), {m[k]}, m.root().attrs()), m[y]); }, exact},
      // sum(x, axes=[]) -> x
      {"sum-no-axes", op("sum", {x}), x, exact, attr_is("axes", std::vector<std::int64_t>{})},
      // cast(x, dtype of x) -> x
      {"cast-same", op("cast", {x}), x, exact, [](const Match& m) { return m.root().dtype() == m[x].dtype(); }},
      // reshape(x, shape of x) -> x
      {"reshape-same", op("reshape", {x}), x, exact,
       [](const Match& m) { return is_concrete(m[x].shape()) && m[x].shape() == m.root().shape(); }},
      // transpose(transpose(x)) -> x
      {"transpose-transpose", transpose(transpose(x)), x, exact},
  };
  static const std::vector<Rule> all = [] {
    std::vector<Rule> rules = table;
    for (const Rule& r : commutative_order()) rules.push_back(r);
    return rules;
  }();
  return all;
}

const std::vector<Rule>& commutative_order() {
  using enum Contract;
  static const std::vector<Rule> table = {
      // op(x, y) -> op(y, x)            y's id is smaller: one order for x + y and y + x
      {"order-operands", commutative(x, y), swapped, exact, out_of_order(false)},
      // maximum(x, y) -> maximum(y, x)  on a tie the first operand wins: maximum(-0, +0) is -0
      {"order-operands-minmax", commutative(x, y), swapped, signed_zero, out_of_order(true)},
  };
  return table;
}

}  // namespace symgraph::rules
