#pragma once
/// The rule tables of the optimizer's passes, one file each:
///   graph/rules_fold.cpp       constant-folding
///   graph/rules_canonical.cpp  canonicalize, and the operand order that cse uses
///   graph/rules_relu.cpp       relu-to-abs
/// docs/optimizer.md lists every rule with its floating-point contract.
#include <vector>

#include "symgraph/graph/rewrite.hpp"

namespace symgraph::rules {

/// op(c1, ..., cn) -> constant: evaluates nodes whose operands are all
/// constants with the op's own kernel.
const std::vector<Rule>& constant_folding();

/// Neutral elements, scale merging, sign and comparison normal forms, no-op
/// shape ops, and one order of commutative operands.
const std::vector<Rule>& canonicalize();

/// op(x, y) -> op(y, x) for commutative ops whose operands are out of id
/// order: with one order, x + y and y + x are one node (the cse pass).
const std::vector<Rule>& commutative_order();

/// switch(x > 0, x, alpha * x) and every other spelling of (leaky) relu ->
/// relu(x, alpha), the abs form of ops/relu.hpp.
const std::vector<Rule>& relu_to_abs();

/// Constant folding makes a constant of at most kFoldElements elements, or
/// of at most kFoldMaxElements and no more than its largest operand (it
/// never inflates the graph much), and only where computing it costs at most
/// kFoldWork (Op::work, core/op.hpp): fixed bounds on what one fold
/// allocates and computes, whatever the shapes in the graph.
inline constexpr std::uint64_t kFoldElements = 1024;
inline constexpr std::uint64_t kFoldMaxElements = 4096;
inline constexpr std::uint64_t kFoldWork = 65536;
/// And in all, within one optimize() run: at most kFoldBudgetElements
/// elements folded and kFoldBudgetWork spent, so that a chain of folds (each
/// one small, every result a new constant kept by the graph) cannot grow
/// the graph without bound. optimize() opens a FoldBudget for its run;
/// rewrite() run by hand is bounded per fold only.
inline constexpr std::uint64_t kFoldBudgetElements = std::uint64_t{1} << 22;
inline constexpr std::uint64_t kFoldBudgetWork = std::uint64_t{1} << 26;

/// The total budget of constant folding on this thread while it lives
/// (nested budgets: the innermost counts).
class FoldBudget {
 public:
  FoldBudget();
  ~FoldBudget();
  FoldBudget(const FoldBudget&) = delete;
  FoldBudget& operator=(const FoldBudget&) = delete;

  std::uint64_t elements = kFoldBudgetElements;
  std::uint64_t work = kFoldBudgetWork;

 private:
  FoldBudget* previous_;
};

/// relu-to-abs's tolerance in `dtype`: sqrt(eps), about 3.5e-4 for float32
/// and 1.5e-8 for float64. The rule fires only when the abs form's
/// predicted relative error on the negative side stays within it.
double relu_abs_tolerance(DType dtype);

/// Predicted worst relative error of f1*x + f2*|x| against alpha*x for x < 0
/// in `dtype`, to first order: |fl(f1 - f2) - alpha| / |alpha| (the slope the
/// abs form really has, computed in the dtype) plus 2 eps max(1, |alpha|) /
/// |alpha| (the rounding of the two products and their sum, which grows like
/// eps / alpha). Infinite for alpha = 0 or a non-finite alpha.
double relu_abs_error(double alpha, double f1, double f2, DType dtype);

/// Whether relu-to-abs may rewrite a constant slope `alpha` (a value of
/// `dtype`) into relu(x, alpha): alpha = 0 (the exact 0.5 * (x + |x|) form),
/// or f1 and f2 as relu() rounds them are nonzero (alpha != ±1, where
/// 0 * inf would turn an infinite x into NaN) and relu_abs_error is within
/// relu_abs_tolerance.
bool relu_abs_keeps_slope(double alpha, DType dtype);

}  // namespace symgraph::rules
