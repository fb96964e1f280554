#include "symgraph/ops/relu.hpp"

#include "symgraph/ops/ops.hpp"

namespace symgraph {
namespace {

/// a OP b for a commutative OP, operands in ascending id order: the one
/// order the optimizer gives commutative operands (graph/rules_canonical.cpp,
/// "order-operands"), so that optimizing leaves relu's nodes as they are and
/// relu-to-abs, which calls relu(), produces exactly these nodes.
Expr ordered(Expr (*op)(const Expr&, const Expr&), const Expr& a, const Expr& b) {
  return a.id() <= b.id() ? op(a, b) : op(b, a);
}

}  // namespace

Expr relu(const Expr& x, double alpha) {
  if (alpha == 0.0) return scale(ordered(add, x, abs(x)), 0.5);
  const Expr positive = scale(x, (1.0 + alpha) / 2.0);
  const Expr magnitude = scale(abs(x), (1.0 - alpha) / 2.0);
  return ordered(add, positive, magnitude);
}

Expr relu(const Expr& x, const Expr& alpha) {
  if (!alpha.valid() || !x.valid()) throw Error("relu: empty expression");
  if (alpha.dtype() != x.dtype())
    throw Error("relu: alpha is " + type_str(alpha.type()) + " but x is " + type_str(x.type()) +
                "; they need one dtype");
  const Expr one = constant_like(alpha, 1.0);
  const Expr f1 = scale(ordered(add, one, alpha), 0.5);
  const Expr f2 = scale(sub(one, alpha), 0.5);
  const Expr positive = ordered(mul, x, f1);
  const Expr magnitude = ordered(mul, abs(x), f2);
  return ordered(add, positive, magnitude);
}

}  // namespace symgraph
