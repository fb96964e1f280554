#pragma once
// Helpers for the optimizer suites: structural equality across graphs,
// special and random values, and one checker per rule contract (the
// contracts of graph/rewrite.hpp, as docs/optimizer.md states them).
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <sstream>
#include <unordered_map>

#include <symgraph/graph/rules.hpp>

#include "harness.hpp"

namespace sgtest {

/// Same ops, attributes (bit for bit), types, input names and operand order,
/// node for node, between two expressions of any two graphs. Iterative.
inline bool structurally_equal(const Expr& a, const Expr& b) {
  std::unordered_map<NodeId, NodeId> paired;
  std::vector<std::pair<NodeId, NodeId>> stack{{a.id(), b.id()}};
  const GraphStore& ga = *a.graph();
  const GraphStore& gb = *b.graph();
  while (!stack.empty()) {
    const auto [p, q] = stack.back();
    stack.pop_back();
    if (auto it = paired.find(p); it != paired.end()) {
      if (it->second != q) return false;
      continue;
    }
    paired.emplace(p, q);
    const Node& n = ga.node(p);
    const Node& m = gb.node(q);
    if (n.op->name() != m.op->name() || n.type != m.type || n.name != m.name || !(n.attrs == m.attrs) ||
        n.inputs.size() != m.inputs.size())
      return false;
    for (std::size_t i = 0; i < n.inputs.size(); ++i) stack.emplace_back(n.inputs[i], m.inputs[i]);
  }
  return true;
}

template <class T> double round_to(double v) { return static_cast<double>(static_cast<T>(v)); }
inline double round_to(DType dt, double v) { return dt == DType::float32 ? round_to<float>(v) : v; }

struct Limits {
  double eps, u, max, min_normal, denorm;
};
inline Limits limits_of(DType dt) {
  if (dt == DType::float32) {
    using L = std::numeric_limits<float>;
    return {L::epsilon(), L::epsilon() / 2, L::max(), L::min(), L::denorm_min()};
  }
  using L = std::numeric_limits<double>;
  return {L::epsilon(), L::epsilon() / 2, L::max(), L::min(), L::denorm_min()};
}

/// ±0, ±inf, NaN, subnormals, the smallest normal, values near the max,
/// and a few ordinary numbers, all representable in `dt`.
inline std::vector<double> special_values(DType dt) {
  const Limits l = limits_of(dt);
  std::vector<double> v = {0.0, -0.0, inf, -inf, NaN, l.denorm, -l.denorm, 3 * l.denorm, -7 * l.denorm,
                           l.min_normal * 0.75, -l.min_normal * 0.375, l.min_normal, -l.min_normal, l.max, -l.max,
                           l.max / 2, -l.max / 2, l.max / 4, -l.max / 3, 1.0, -1.0, 0.5, -0.5, 1 + l.eps, -(1 - l.eps / 2),
                           0.1, -0.1, 3.0, -123.456, 1e-3, -2.5e-5};
  for (double& x : v) x = round_to(dt, x);
  return v;
}

/// Random values of `dt`: half of moderate size, half with a random
/// exponent over the whole range (subnormals included), random signs.
inline std::vector<double> random_values(DType dt, std::size_t n, std::mt19937_64& rng) {
  const int lo = dt == DType::float32 ? -149 : -1074;
  const int hi = dt == DType::float32 ? 127 : 1023;
  std::uniform_real_distribution<double> unit(-1.0, 1.0);
  std::uniform_int_distribution<int> exponent(lo, hi);
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double r = i % 2 ? unit(rng) * 10.0 : std::ldexp(unit(rng), exponent(rng));
    v[i] = round_to(dt, r);
  }
  return v;
}

/// Argument pairs (x, y): every pair of special values, then `n_random`
/// random pairs drawn with `seed`.
inline std::pair<std::vector<double>, std::vector<double>> special_pairs(DType dt, std::size_t n_random,
                                                                         std::uint64_t seed) {
  const std::vector<double> s = special_values(dt);
  std::vector<double> xs, ys;
  for (double a : s)
    for (double b : s) {
      xs.push_back(a);
      ys.push_back(b);
    }
  std::mt19937_64 rng(seed);
  const std::vector<double> rx = random_values(dt, n_random, rng), ry = random_values(dt, n_random, rng);
  xs.insert(xs.end(), rx.begin(), rx.end());
  ys.insert(ys.end(), ry.begin(), ry.end());
  return {xs, ys};
}

// ---------------------------------------------------------------------------
// Contract checkers. Each returns "" or a description of the first
// violation. before/after are the values of the replaced node and of its
// replacement on the same inputs.

inline std::string describe(const char* what, std::size_t i, double before, double after) {
  std::ostringstream s;
  s.precision(17);
  s << what << " at element " << i << ": before " << before << " (signbit " << std::signbit(before) << "), after "
    << after << " (signbit " << std::signbit(after) << ")";
  return s.str();
}

inline std::string check_exact(const std::vector<double>& before, const std::vector<double>& after) {
  for (std::size_t i = 0; i < before.size(); ++i)
    if (!same_value(before[i], after[i])) return describe("exact contract broken", i, before[i], after[i]);
  return "";
}

inline std::string check_signed_zero(const std::vector<double>& before, const std::vector<double>& after) {
  for (std::size_t i = 0; i < before.size(); ++i) {
    const bool ok = std::isnan(before[i]) ? std::isnan(after[i]) : before[i] == after[i];
    if (!ok) return describe("signed-zero contract broken", i, before[i], after[i]);
  }
  return "";
}

/// scale(x, a*b) for scale(scale(x, a), b): never NaN where the other is
/// not; where x*a is a normal number (or 0 from x = 0), within 2 eps of each
/// other (plus a subnormal step); where x*a underflows, within
/// |b| * denorm_min more; where x*a overflows, the same sign and at least
/// max * |b| in size; results within 2 eps of overflow may be ±inf on one side.
inline std::string check_reassociation(DType dt, const std::vector<double>& x, double a, double b,
                                       const std::vector<double>& before, const std::vector<double>& after) {
  const Limits l = limits_of(dt);
  for (std::size_t i = 0; i < before.size(); ++i) {
    const double bv = before[i], av = after[i];
    if (std::isnan(bv) || std::isnan(av)) {
      if (std::isnan(bv) != std::isnan(av)) return describe("reassociation: NaN on one side only", i, bv, av);
      continue;
    }
    const double xa = round_to(dt, x[i] * a);
    bool ok;
    if (std::isinf(x[i])) {
      ok = same_value(bv, av);
    } else if (std::isinf(xa)) {
      ok = std::signbit(bv) == std::signbit(av) && (std::isinf(av) || std::abs(av) >= 0.99 * l.max * std::abs(b));
    } else if (std::isinf(bv) || std::isinf(av)) {
      const double finite = std::isinf(bv) ? av : bv;
      ok = std::signbit(bv) == std::signbit(av) && (std::isinf(finite) || std::abs(finite) >= l.max * (1 - 2 * l.eps));
    } else {
      double bound = 2 * l.eps * std::abs(bv) + l.denorm;
      if (std::abs(xa) < l.min_normal && x[i] != 0.0) bound += std::abs(b) * l.denorm;
      ok = std::abs(av - bv) <= bound;
    }
    if (!ok) return describe("reassociation contract broken", i, bv, av);
  }
  return "";
}

/// How relu-to-abs built its result: 0.5 * (x + |x|) (alpha = 0 as a
/// number), f1 * x + f2 * |x| with a constant alpha that passed the guard,
/// or with a tensor alpha (factors computed in the graph).
enum class ReluForm { zero, constant, tensor };

/// The relu-to-abs contract (docs/optimizer.md), element by element, for
/// slope alpha[i] at x[i] in dtype dt.
inline std::string check_relu_abs(DType dt, ReluForm form, const std::vector<double>& x, const std::vector<double>& alpha,
                                  const std::vector<double>& before, const std::vector<double>& after,
                                  double tolerance) {
  const Limits l = limits_of(dt);
  for (std::size_t i = 0; i < before.size(); ++i) {
    const double bv = before[i], av = after[i], xv = x[i], al = alpha[i];
    const double big = std::max(1.0, std::abs(al));
    std::string why;
    if (std::isnan(bv)) {
      if (!std::isnan(av)) why = "a NaN became a number";
    } else if (std::isnan(av)) {
      // The places a number may become NaN: inf - inf (or 0 * inf) at the
      // infinity where f1 * x and f2 * |x| have opposite signs, in the
      // overflow region of a large |alpha|, where a tensor alpha is not
      // finite, and at x = NaN where the switch selected a constant 0.
      const bool allowed = std::isnan(xv) || (xv == -inf && std::abs(al) <= 1) || (xv == inf && std::abs(al) >= 1) ||
                           (std::isfinite(xv) && big * std::abs(xv) > l.max / 4) || !std::isfinite(al);
      if (!allowed) why = "NaN outside the documented places";
    } else if (std::isinf(xv)) {
      if (!(bv == av)) why = "wrong value at an infinity";
    } else if (form == ReluForm::zero) {
      // Exact but for the sign of a zero; x > max/2 overflows x + |x|.
      const bool ok = bv == av || (xv > l.max / 2 && av == inf);
      if (!ok) why = "alpha = 0 form is not exact";
    } else if (big * std::abs(xv) > l.max / 4) {
      const double bound = 4 * l.u * big * std::abs(xv) * (1 + 8 * l.u) + 2 * l.denorm;
      if (!(std::isinf(av) || std::abs(av - bv) <= bound)) why = "wrong value in the overflow region";
    } else {
      const double bound = 4 * l.u * big * std::abs(xv) * (1 + 8 * l.u) + 2 * l.denorm;
      if (!(std::abs(av - bv) <= bound)) why = "outside 4u max(1,|alpha|) |x|";
      // The guard: a constant slope is reproduced within the tolerance.
      if (why.empty() && form == ReluForm::constant && xv < 0 &&
          !(std::abs(av - bv) <= (tolerance + 4 * l.u) * std::abs(bv) + 4 * l.denorm))
        why = "negative side outside the guard's tolerance";
    }
    if (!why.empty()) {
      std::ostringstream s;
      s.precision(17);
      s << "relu-to-abs (" << why << "), x = " << xv << ", alpha = " << al << ": ";
      return s.str() + describe("", i, bv, av);
    }
  }
  return "";
}

/// Evaluates exprs (each broadcast to `like`'s shape) on `args` and
/// returns their values as doubles.
inline std::vector<std::vector<double>> values_of(const std::vector<Expr>& inputs, const std::vector<Expr>& exprs,
                                                  const std::vector<Tensor>& args) {
  std::vector<Tensor> out = compile_reference(inputs, exprs)(args);
  std::vector<std::vector<double>> v;
  for (const Tensor& t : out) {
    std::vector<double> d(static_cast<std::size_t>(t.size()));
    for (std::int64_t i = 0; i < t.size(); ++i) d[static_cast<std::size_t>(i)] = t.at(i);
    v.push_back(std::move(d));
  }
  return v;
}

/// Checks one rewrite: `after` replaced `before` by `rule`. Evaluates both
/// (and the rule's holes the contract talks about) on `args` and checks the
/// rule's contract. Returns "" or the violation.
inline std::string check_rewrite(const Rule& rule, const Expr& before, const Expr& after, const std::vector<Expr>& inputs,
                                 const std::vector<Tensor>& args) {
  using pattern::Num;
  using pattern::Var;
  const std::optional<Match> m = rule.match(before);
  if (!m) return "rule " + rule.name() + " does not match the node it replaced";
  const DType dt = before.dtype();
  const auto has = [](const std::vector<std::string>& names, const char* n) {
    return std::find(names.begin(), names.end(), n) != names.end();
  };
  std::vector<Expr> exprs{before, after};
  switch (rule.contract()) {
    case Contract::exact: {
      auto v = values_of(inputs, exprs, args);
      return check_exact(v[0], v[1]);
    }
    case Contract::signed_zero: {
      auto v = values_of(inputs, exprs, args);
      return check_signed_zero(v[0], v[1]);
    }
    case Contract::reassociation: {
      exprs.push_back(broadcast_to((*m)[Var("x")], before));
      auto v = values_of(inputs, exprs, args);
      return check_reassociation(dt, v[2], (*m)[Num("a")], (*m)[Num("b")], v[0], v[1]);
    }
    case Contract::relu_abs: {
      exprs.push_back(broadcast_to((*m)[Var("x")], before));
      ReluForm form = ReluForm::zero;
      double alpha = 0.0;
      if (has(rule.pattern().var_names(), "t")) {
        form = ReluForm::tensor;
        exprs.push_back(broadcast_to((*m)[Var("t")], before));
      } else if (has(rule.pattern().num_names(), "alpha")) {
        alpha = (*m)[Num("alpha")];
        form = alpha == 0.0 ? ReluForm::zero : ReluForm::constant;
      }
      auto v = values_of(inputs, exprs, args);
      const std::vector<double> alphas = form == ReluForm::tensor ? v[3] : std::vector<double>(v[0].size(), alpha);
      // The documented tolerance, sqrt(eps), not the library's function: an
      // independent statement of what the guard must ensure.
      return check_relu_abs(dt, form, v[2], alphas, v[0], v[1], std::sqrt(limits_of(dt).eps));
    }
    case Contract::approximate:  // user rules only: their own tests check their bounds
      return "no built-in rule is approximate";
  }
  return "unknown contract";
}

/// The rule named `name` in any pass.
inline const Rule& rule_named(const std::string& name) {
  for (const Pass& p : passes())
    for (const Rule& r : *p.rules)
      if (r.name() == name) return r;
  throw Error("no rule named " + name);
}

}  // namespace sgtest
