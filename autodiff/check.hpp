#pragma once
/// A numeric gradient checker in the manner of Theano's verify_grad: the
/// symbolic gradient (grad(), evaluated with compile_reference) is compared
/// with central differences, coordinate by coordinate, at random points or at
/// points the caller gives.
///
/// A non-scalar output is checked through a random projection, cost =
/// sum(output * P) with P uniform in [0.5, 1.5] (as verify_grad does), so
/// every element of the Jacobian takes part. Every float input is
/// differentiated; bool inputs are held at their values. The checker adds
/// nodes to the output's graph (the gradient, the selectors below, and the
/// projection as an input named "gradcheck.projection.<node id>").
///
/// Kinks. At a kink (abs or sign at 0, a comparison or maximum/minimum at a
/// tie, the argmax of a max reduction changing) central differences measure a
/// mix of the two one-sided slopes, not the convention grad() follows. The
/// checker therefore evaluates every "selector" of the graph (each bool node,
/// sign of each abs/sign argument and of each maximum/minimum difference, the
/// argmax pattern of each max reduction) at x - h, x and x + h; a coordinate
/// whose step changes a selector is skipped (counted in `skipped`), and a
/// random point with skipped coordinates is redrawn. User ops are not
/// inspected for kinks; give them points away from their kinks.
///
/// Step and tolerances, per dtype (the lowest precision among the output and
/// the float inputs), each overridable:
///
///   dtype    step h (times max(1, |x|))   rtol    atol
///   float64  6.06e-6  (eps^(1/3))          1e-6    1e-8
///   float32  4.92e-3  (eps^(1/3))          1e-2    1e-3
///
/// h = eps^(1/3) balances the truncation error of central differences
/// (h^2 f'''/6) against rounding in f (eps |f| / h). In float32 the rounding
/// term is ~6e-8 |f| / 1e-2 ~ 1e-5 |f| for the cost itself, larger for costs
/// summed from many terms, hence the looser bound. A coordinate passes when
/// |symbolic - numeric| <= atol + rtol * max(|symbolic|, |numeric|); two NaNs
/// agree, a NaN against a number does not.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "symgraph/core/graph.hpp"

namespace symgraph {

/// Step and tolerances of the checker for one dtype.
struct GradCheckTolerance {
  double step;  ///< central-difference step, relative to max(1, |x|)
  double rtol;
  double atol;
};

/// The defaults of the table above. Throws for bool.
GradCheckTolerance default_tolerance(DType dtype);

struct GradCheckOptions {
  /// Points to check at, each with one tensor per input (in the order of
  /// `inputs`). Empty: `random_points` points are drawn.
  std::vector<std::vector<Tensor>> points;
  int random_points = 2;
  std::uint64_t seed = 20240601;
  /// Random float coordinates are uniform in [low, high]; bools are fair coins.
  double low = -2.0;
  double high = 2.0;
  /// Run-time shapes of random points, one per input; empty: the declared
  /// shapes, with every symbolic dimension `symbolic_size`.
  std::vector<Shape> shapes;
  std::int64_t symbolic_size = 3;
  /// A random point whose steps cross a kink is redrawn up to this many
  /// times (the draw with the fewest skipped coordinates is kept).
  int max_redraws = 20;
  /// Overrides of the dtype's defaults (0: keep the default).
  double step = 0.0;
  double rtol = 0.0;
  double atol = 0.0;
};

struct GradCheckResult {
  bool passed = true;
  std::size_t points = 0;    ///< points checked
  std::int64_t checked = 0;  ///< coordinates compared
  std::int64_t failed = 0;   ///< coordinates out of tolerance
  std::int64_t skipped = 0;  ///< coordinates whose step crossed a kink
  double max_abs_error = 0.0;
  /// |symbolic - numeric| / max(|symbolic|, |numeric|), over the coordinates
  /// where that maximum exceeds atol (smaller values are compared absolutely).
  double max_rel_error = 0.0;
  /// The worst coordinate: largest error relative to its tolerance.
  std::size_t worst_point = 0;
  std::size_t worst_input = 0;
  std::int64_t worst_element = 0;  ///< flat (row-major) index
  double worst_symbolic = 0.0;
  double worst_numeric = 0.0;
  GradCheckTolerance tolerance{};
  DType dtype = DType::float64;
  /// A readable account: the verdict, the worst coordinate with both values
  /// and the point it was found at.
  std::string report;
};

/// Checks the gradient of `output` with respect to every float input among
/// `inputs` (the graph inputs `output` depends on, all of them, in argument
/// order).
GradCheckResult check_grad(const Expr& output, const std::vector<Expr>& inputs, const GradCheckOptions& options = {});

/// verify_grad's form: `build` makes the output from fresh inputs x0, x1, ...
/// of the point's types (a graph of its own), checked at `point` (and at
/// options.points, if any).
GradCheckResult check_grad(const std::function<Expr(const std::vector<Expr>&)>& build,
                           const std::vector<Tensor>& point, GradCheckOptions options = {});

/// check_grad, throwing Error with the report when the check fails.
GradCheckResult verify_grad(const Expr& output, const std::vector<Expr>& inputs,
                            const GradCheckOptions& options = {});
GradCheckResult verify_grad(const std::function<Expr(const std::vector<Expr>&)>& build,
                            const std::vector<Tensor>& point, GradCheckOptions options = {});

}  // namespace symgraph
