// constant-folding: nodes whose operands are all constants become constants,
// computed by the op's own kernel, so the folded value is bit for bit what
// the reference evaluator would compute when the graph runs.
#include <algorithm>

#include "symgraph/graph/rules.hpp"

namespace symgraph::rules {
namespace {

using namespace pattern;

thread_local FoldBudget* t_budget = nullptr;

std::vector<const Tensor*> operand_values(const Expr& e) {
  std::vector<const Tensor*> values;
  for (NodeId in : e.node().inputs) values.push_back(&e.graph()->node(in).attrs.get<Tensor>("value"));
  return values;
}

/// The folded constant has at most kFoldElements elements, or at most
/// kFoldMaxElements and no more than its largest operand (broadcast_to(0,
/// big) would otherwise copy a large constant), and computing it costs at
/// most kFoldWork (Op::work): a fold never inflates the graph much, and
/// optimize() never allocates or computes much for one node, however large
/// the shapes a document declares.
bool small_enough(const Match& m) {
  const Expr& e = m.root();
  if (!is_concrete(e.shape())) return false;
  const std::uint64_t elements = saturated_elements(e.shape());
  std::uint64_t largest = kFoldElements;
  std::vector<TensorType> types;
  for (const Tensor* t : operand_values(e)) {
    largest = std::max(largest, saturated_elements(t->shape()));
    types.push_back(t->type());
  }
  if (elements > std::min<std::uint64_t>(largest, kFoldMaxElements)) return false;
  const std::uint64_t work = e.op().work(types, e.type(), e.attrs());
  if (work > kFoldWork) return false;
  return !t_budget || (elements <= t_budget->elements && work <= t_budget->work);
}

Expr fold(const Match& m) {
  const Expr& e = m.root();
  const std::vector<const Tensor*> values = operand_values(e);
  std::vector<TensorType> types;
  for (const Tensor* t : values) types.push_back(t->type());
  const TensorType type = e.op().infer(types, e.attrs());
  if (t_budget) {  // small_enough() checked that it fits
    t_budget->elements -= saturated_elements(type.shape);
    t_budget->work -= e.op().work(types, type, e.attrs());
  }
  Tensor out(type.dtype, type.shape);
  e.op().compute(values, e.attrs(), out);
  return Expr(e.graph(), e.graph()->add_constant(std::move(out)));
}

}  // namespace

FoldBudget::FoldBudget() : previous_(t_budget) { t_budget = this; }
FoldBudget::~FoldBudget() { t_budget = previous_; }

const std::vector<Rule>& constant_folding() {
  using enum Contract;
  static const std::vector<Rule> table = {
      // op(c1, ..., cn) -> constant(op(c1, ..., cn))    the op's kernel on the same values
      {"fold", constant_operands(), fold, exact, small_enough},
  };
  return table;
}

}  // namespace symgraph::rules
