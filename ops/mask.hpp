#pragma once
/// Switch masks on cotangents: how the branch a switch did not select is kept
/// from poisoning a gradient.
///
/// The VJP of switch(c, a, b) gives branch a the cotangent where(c, g, 0) and
/// branch b where(c, 0, g). Where the mask is off, that cotangent is a
/// structural zero: the branch was not used, so whatever it computed there
/// must not matter. maximum, minimum and the max reduction select too, and
/// mask the operand (elements) they did not select the same way. Multiplying it by the local derivative of the branch would
/// break that, since 0 * inf and 0 * NaN are NaN (think of exp(x) overflowing
/// in the branch that was not taken). So a masked cotangent keeps its mask in
/// its form, where(mask, value, 0), and every rule that understands the form
/// computes its partials from `value` and masks them again:
///
///   - elementwise ops (ElementwiseOp::vjp), including switch itself;
///   - broadcasting (summing a partial back to a broadcast operand): the mask
///     is reduced with "any" over the summed axes;
///   - sums of cotangents (grad's accumulation): the union of the masks, when
///     every term is masked;
///   - sum, max, broadcast_to, sum_to, expand_dims, squeeze, reshape,
///     transpose and cast move the mask with the values.
///
/// Not covered: matmul (the contraction mixes masked and unmasked elements,
/// so its result is not masked), and user ops that are not elementwise (their
/// result is correct, but the form is not kept past them). See
/// docs/autodiff.md.
///
/// Masks are bool expressions; and/or/not are built from bool switches, so no
/// extra op is needed, and hash-consing makes a mask shared by a chain of
/// elementwise ops one node.
#include <optional>

#include "symgraph/core/graph.hpp"

namespace symgraph {

/// A cotangent split into a value and the mask around it: the cotangent is
/// `value` where `mask` holds and a structural zero elsewhere (`value` may be
/// anything there, inf and NaN included). No mask: `value` is the cotangent.
struct MaskedCotangent {
  Expr value;
  std::optional<Expr> mask;
};

/// Peels the masks off g: where(m, h, 0) gives mask m, where(m, 0, h) gives
/// not m, nested forms give the conjunction. A where is peeled only if h has
/// g's own dtype and shape (so the mask broadcasts into it) and the other
/// branch is a constant zero (+0 or -0).
MaskedCotangent peel_mask(const Expr& g);

/// where(mask, p, 0) (a constant +0 of p's dtype), or p when there is no mask.
Expr apply_mask(const Expr& p, const std::optional<Expr>& mask);

/// Bool algebra on masks, built from bool switches (one node each, shared by
/// hash-consing): not c = where(c, false, true), a and b = where(a, b, false),
/// a or b = where(a, true, b). They simplify x op x, not not c, the bool
/// constants, and c and/or not c (false / true): the union of the masks of
/// a switch's two branches is everything, and stops being a mask.
Expr mask_not(const Expr& c);
Expr mask_and(const Expr& a, const Expr& b);
Expr mask_or(const Expr& a, const Expr& b);
/// The constant true mask: no mask at all.
bool is_full_mask(const Expr& mask);

/// The mask broadcast to the shape of `like` (the mask itself if its declared
/// shape is already like's).
Expr mask_broadcast_to(const Expr& mask, const Expr& like);

/// A mask over `full`'s shape reduced to `like`'s shape as sum_to does with
/// values: true where any summed element was true. `like` must be float.
Expr mask_any_to(const Expr& mask, const Expr& full, const Expr& like);

/// sum_to(p, like) that keeps p's mask: where(any_to(mask), sum_to(p), 0).
Expr masked_sum_to(const Expr& p, const Expr& like);

/// The VJP of an op that moves elements without multiplying them (sum's
/// broadcast, reshapes, transposes, ...): dx = rule(g), and if g is masked,
/// dx is masked with move(mask), the mask (broadcast to y's shape) moved the
/// way rule moves values.
template <class Rule, class Move> Expr keep_mask(const Expr& y, const Expr& g, Rule&& rule, Move&& move) {
  Expr dx = rule(g);
  const MaskedCotangent mg = peel_mask(g);
  if (mg.mask) dx = apply_mask(dx, move(mask_broadcast_to(*mg.mask, y)));
  return dx;
}

}  // namespace symgraph
