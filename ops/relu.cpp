#include "symgraph/ops/relu.hpp"

#include "symgraph/ops/ops.hpp"

namespace symgraph {

Expr relu(const Expr& x, double alpha) {
  if (alpha == 0.0) return scale(add(x, abs(x)), 0.5);
  // Built in this order so that the add's operands are in ascending id order.
  const Expr positive = scale(x, (1.0 + alpha) / 2.0);
  const Expr magnitude = scale(abs(x), (1.0 - alpha) / 2.0);
  return add(positive, magnitude);
}

Expr relu(const Expr& x, const Expr& alpha) {
  if (!alpha.valid() || !x.valid()) throw Error("relu: empty expression");
  if (alpha.dtype() != x.dtype())
    throw Error("relu: alpha is " + type_str(alpha.type()) + " but x is " + type_str(x.type()) +
                "; they need one dtype");
  const Expr one = constant_like(alpha, 1.0);
  const Expr f1 = scale(add(one, alpha), 0.5);
  const Expr f2 = scale(sub(one, alpha), 0.5);
  const Expr positive = mul(x, f1);
  const Expr magnitude = mul(abs(x), f2);
  return add(positive, magnitude);
}

}  // namespace symgraph
