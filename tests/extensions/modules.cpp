// Extension modules for tests/test_custom_op.cpp, one per EXT_CASE_*: each
// is built as a MODULE and loaded with load_extension(). All but one are
// broken on purpose; a load must report each failure (with the file and
// the registration's line) and take back what the module did register.
// The test finds the registrations' lines by the "line:" markers.
#include <stdexcept>
#include <symgraph/symgraph.hpp>

namespace {

using namespace symgraph;
using namespace symgraph::pattern;

/// y = |x|: a small valid elementwise op.  dy/dx = sign(x).
struct Magnitude : ElementwiseOp {
  explicit Magnitude(const char* name) : ElementwiseOp(name, 1, 1) {}
  void compute(std::span<const Tensor* const> in, const Attrs&, Tensor& out) const override {
    dispatch_float(out.dtype(), name(), [&]<class T>() {
      elementwise_kernel<T, T>(out, {in[0]}, [](auto& y, const auto& x) { y = x.abs(); });
    });
  }

 protected:
  std::vector<std::optional<Expr>> partials(const Expr& y, const Expr& g) const override {
    return {sign(y.input(0)) * g};
  }
};

const Var x{"x"};

#if defined(EXT_CASE_builtin_op_name)
// A valid op and pass first, then an op named like a built-in one: the load
// fails, and the valid op and pass are unregistered again.
struct First final : Magnitude {
  First() : Magnitude("ext_first") {}
};
struct Exp final : Magnitude {
  Exp() : Magnitude("exp") {}
};
const RegisterOp<First> first;
std::vector<Rule> first_rules() {
  return {{"ext-first-twice", op("ext_first", {op("ext_first", {x})}), [](const Match& m) {
             return apply("ext_first", {m[x]});
           },
           Contract::exact}};
}
const RegisterPass first_pass{"ext-first", "", first_rules, true};
const RegisterOp<Exp> exp_op;  // line: builtin_op_name RegisterOp<Exp>

#elif defined(EXT_CASE_rule_unknown_op)
// A pass whose rule names an op nobody registered.
struct Second final : Magnitude {
  Second() : Magnitude("ext_second") {}
};
const RegisterOp<Second> second;
std::vector<Rule> rules() { return {{"ext-bad-rule", op("no_such_op", {x}), Replacement(x), Contract::exact}}; }
const RegisterPass pass{"ext-bad", "", rules, true};  // line: rule_unknown_op RegisterPass

#elif defined(EXT_CASE_pass_before_op)
// The pass is declared before the op its rule names: it is registered after
// every static initialiser of the module, so the op exists by then.
// ext_magnitude(ext_magnitude(x)) -> ext_magnitude(x)   exact: ||x|| is |x|, bit for bit
std::vector<Rule> rules() {
  return {{"ext-magnitude-twice", op("ext_magnitude", {op("ext_magnitude", {x})}),
           [](const Match& m) { return apply("ext_magnitude", {m[x]}); }, Contract::exact}};
}
const RegisterPass pass{"ext-magnitude", "magnitude of a magnitude is the magnitude", rules, true};
struct Mag final : Magnitude {
  Mag() : Magnitude("ext_magnitude") {}
};
const RegisterOp<Mag> mag;

#elif defined(EXT_CASE_constructor_throws)
// Constructors that throw a std::exception that is not an Error, and
// something that is not a std::exception at all.
struct Throws final : Magnitude {
  Throws() : Magnitude("ext_throws") { throw std::runtime_error("constructor failed"); }
};
struct ThrowsInt final : Magnitude {
  ThrowsInt() : Magnitude("ext_throws_int") { throw 42; }
};
const RegisterOp<Throws> throws;         // line: constructor_throws RegisterOp<Throws>
const RegisterOp<ThrowsInt> throws_int;  // line: constructor_throws RegisterOp<ThrowsInt>

#elif defined(EXT_CASE_builtin_rule_name)
// A rule named like a built-in rule (canonicalize's order-operands).
struct Third final : Magnitude {
  Third() : Magnitude("ext_third") {}
};
const RegisterOp<Third> third;
std::vector<Rule> rules() { return {{"order-operands", op("ext_third", {x}), Replacement(x), Contract::exact}}; }
const RegisterPass pass{"ext-third", "", rules};  // line: builtin_rule_name RegisterPass

#elif defined(EXT_CASE_zero_arity)
// An elementwise op without operands: its type would be the broadcast of none.
struct Zero final : ElementwiseOp {
  Zero() : ElementwiseOp("ext_zero", 0, 0) {}
  void compute(std::span<const Tensor* const>, const Attrs&, Tensor&) const override {}

 protected:
  std::vector<std::optional<Expr>> partials(const Expr&, const Expr&) const override { return {}; }
};
const RegisterOp<Zero> zero_op;  // line: zero_arity RegisterOp<Zero>

#else
#error "define one EXT_CASE_*"
#endif

}  // namespace
