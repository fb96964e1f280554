#include "symgraph/ops/mask.hpp"

#include "symgraph/ops/ops.hpp"

namespace symgraph {
namespace {

bool is_zero_constant(const Expr& e) {
  if (e.op_name() != "constant" || !is_float(e.dtype())) return false;
  const Tensor& v = e.attrs().get<Tensor>("value");
  for (std::int64_t i = 0; i < v.size(); ++i)
    if (v.at(i) != 0.0) return false;
  return true;
}

/// A 0-d bool constant holding `value`.
bool is_bool_constant(const Expr& e, bool value) {
  if (e.op_name() != "constant" || e.dtype() != DType::boolean || e.rank() != 0) return false;
  return (e.attrs().get<Tensor>("value").at(0) != 0.0) == value;
}

Expr bool_constant(const Expr& like, bool value) {
  return graph_of(like).constant(value ? 1.0 : 0.0, DType::boolean);
}

void check_mask(const Expr& m, const char* what) {
  if (!m.valid() || m.dtype() != DType::boolean)
    throw Error(std::string(what) + ": a mask must be a bool expression");
}

}  // namespace

MaskedCotangent peel_mask(const Expr& g) {
  MaskedCotangent out{g, std::nullopt};
  // Each step removes one where; the loop ends at the first node that is not
  // a mask (depth is the number of nested masks, not the graph's depth).
  while (out.value.op_name() == "switch") {
    const Expr& w = out.value;
    const Expr c = w.input(0), a = w.input(1), b = w.input(2);
    const auto fits = [&](const Expr& h) { return h.dtype() == w.dtype() && h.shape() == w.shape(); };
    Expr mask;
    if (is_zero_constant(b) && fits(a)) {
      mask = c;
      out.value = a;
    } else if (is_zero_constant(a) && fits(b)) {
      mask = mask_not(c);
      out.value = b;
    } else {
      break;
    }
    out.mask = out.mask ? mask_and(*out.mask, mask) : mask;
  }
  if (out.mask && is_full_mask(*out.mask)) out.mask.reset();
  return out;
}

Expr apply_mask(const Expr& p, const std::optional<Expr>& mask) {
  if (!mask || is_full_mask(*mask)) return p;
  return where(*mask, p, constant_like(p, 0.0));
}

namespace {
/// a is not b (as mask_not builds it).
bool is_not_of(const Expr& a, const Expr& b) {
  return a.op_name() == "switch" && a.input(0).is(b) && is_bool_constant(a.input(1), false) &&
         is_bool_constant(a.input(2), true);
}
bool complementary(const Expr& a, const Expr& b) { return is_not_of(a, b) || is_not_of(b, a); }
}  // namespace

bool is_full_mask(const Expr& m) { return is_bool_constant(m, true); }

Expr mask_not(const Expr& c) {
  check_mask(c, "mask_not");
  if (c.op_name() == "switch" && is_bool_constant(c.input(1), false) && is_bool_constant(c.input(2), true))
    return c.input(0);
  if (is_bool_constant(c, true)) return bool_constant(c, false);
  if (is_bool_constant(c, false)) return bool_constant(c, true);
  return where(c, bool_constant(c, false), bool_constant(c, true));
}

Expr mask_and(const Expr& a, const Expr& b) {
  check_mask(a, "mask_and");
  check_mask(b, "mask_and");
  if (a.is(b) || is_bool_constant(b, true) || is_bool_constant(a, false)) return a;
  if (is_bool_constant(a, true) || is_bool_constant(b, false)) return b;
  if (complementary(a, b)) return bool_constant(a, false);
  return where(a, b, bool_constant(a, false));
}

Expr mask_or(const Expr& a, const Expr& b) {
  check_mask(a, "mask_or");
  check_mask(b, "mask_or");
  if (a.is(b) || is_bool_constant(b, false) || is_bool_constant(a, true)) return a;
  if (is_bool_constant(a, false) || is_bool_constant(b, true)) return b;
  // c or not c covers everything: the union of a switch's two branches.
  if (complementary(a, b)) return bool_constant(a, true);
  return where(a, bool_constant(a, true), b);
}

Expr mask_broadcast_to(const Expr& mask, const Expr& like) {
  if (mask.shape() == like.shape()) return mask;
  return broadcast_to(mask, like);
}

Expr mask_any_to(const Expr& mask, const Expr& full, const Expr& like) {
  // The count of true elements summed into each target element, > 0.
  const Expr count = sum_to(cast(mask_broadcast_to(mask, full), like.dtype()), like);
  return gt(count, constant_like(count, 0.0));
}

Expr masked_sum_to(const Expr& p, const Expr& like) {
  const MaskedCotangent mp = peel_mask(p);
  const Expr summed = sum_to(p, like);
  if (!mp.mask) return summed;
  return apply_mask(summed, mask_any_to(*mp.mask, p, like));
}

}  // namespace symgraph
