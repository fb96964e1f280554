// Source nodes: graph inputs and constants, and the registration of every
// built-in op.
#include <cstring>

#include "symgraph/core/graph.hpp"
#include "symgraph/core/registry.hpp"

namespace symgraph {
namespace {

/// A graph input: a name and a declared type; its value is an argument of
/// the compiled function.
struct Input final : Op {
  Input() : Op("input", 0, 0) {}
  TensorType infer(std::span<const TensorType>, const Attrs&) const override {
    fail("an input's type is declared, not inferred (use Graph::input)");
  }
  void compute(std::span<const Tensor* const>, const Attrs&, Tensor&) const override {
    fail("an input has no kernel; its value is passed to the compiled function");
  }
};

/// A constant tensor, held in the attribute "value".
struct Constant final : Op {
  Constant() : Op("constant", 0, 0) {}
  std::vector<AttrSpec> attr_specs() const override { return {{"value", AttrKind::tensor}}; }
  TensorType infer(std::span<const TensorType>, const Attrs& attrs) const override {
    return attrs.get<Tensor>("value").type();
  }
  void compute(std::span<const Tensor* const>, const Attrs& attrs, Tensor& out) const override {
    const Tensor& v = attrs.get<Tensor>("value");
    std::memcpy(out.raw(), v.raw(), v.nbytes());
  }
  std::string format(std::span<const std::string>, const Attrs& attrs) const override { return label(attrs); }
  std::string label(const Attrs& attrs) const override { return attr_str(*attrs.find("value")); }
};

}  // namespace

namespace detail {
void register_math_ops(OpRegistry& r);
void register_compare_ops(OpRegistry& r);
void register_reduce_ops(OpRegistry& r);
void register_shape_ops(OpRegistry& r);
void register_linalg_ops(OpRegistry& r);

void register_builtin_ops(OpRegistry& r) {
  r.add(std::make_unique<Input>());
  r.add(std::make_unique<Constant>());
  register_math_ops(r);
  register_compare_ops(r);
  register_reduce_ops(r);
  register_shape_ops(r);
  register_linalg_ops(r);
}
}  // namespace detail

}  // namespace symgraph
