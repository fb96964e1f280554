// Programs with static registrations of their own, for
// tests/test_custom_op.cpp, one per EXT_CASE_*: a failed registration must
// not end the program before main; the first use of a registry reports it,
// naming the registration's line (found by the "line:" markers), and so
// does every use after it.
#include <cstdio>
#include <symgraph/symgraph.hpp>

namespace {

using namespace symgraph;
using namespace symgraph::pattern;

/// y = x.  dy/dx = 1.
struct Identity : ElementwiseOp {
  explicit Identity(const char* name) : ElementwiseOp(name, 1, 1) {}
  void compute(std::span<const Tensor* const> in, const Attrs&, Tensor& out) const override {
    dispatch_float(out.dtype(), name(), [&]<class T>() {
      elementwise_kernel<T, T>(out, {in[0]}, [](auto& y, const auto& x) { y = x; });
    });
  }

 protected:
  std::vector<std::optional<Expr>> partials(const Expr&, const Expr& g) const override { return {g}; }
};

const Var x{"x"};

#if defined(EXT_CASE_duplicate_op)
// Two registrations of one name in one program.
struct One final : Identity {
  One() : Identity("ext_dup") {}
};
struct Two final : Identity {
  Two() : Identity("ext_dup") {}
};
const RegisterOp<One> one;
const RegisterOp<Two> two;  // line: duplicate_op RegisterOp<Two>

#elif defined(EXT_CASE_failing_rules)
// A pass whose rule names an op nobody registered.
std::vector<Rule> rules() { return {{"ext-bad-rule", op("no_such_op", {x}), Replacement(x), Contract::exact}}; }
const RegisterPass pass{"ext-bad", "", rules, true};  // line: failing_rules RegisterPass

#elif defined(EXT_CASE_pass_before_op)
// The pass before the op its rule names, in one file.
// ext_id(ext_id(x)) -> ext_id(x)   exact
std::vector<Rule> rules() {
  return {{"ext-id-twice", op("ext_id", {op("ext_id", {x})}), [](const Match& m) { return apply("ext_id", {m[x]}); },
           Contract::exact}};
}
const RegisterPass pass{"ext-id", "", rules, true};
struct Id final : Identity {
  Id() : Identity("ext_id") {}
};
const RegisterOp<Id> id;

#else
#error "define one EXT_CASE_*"
#endif

/// Runs `f`, printing the Error it throws as "error: ..." (one line).
template <class F> void report(const char* what, F f) {
  try {
    f();
    std::printf("%s: ok\n", what);
  } catch (const Error& e) {
    std::printf("%s: error: %s\n", what, e.what());
  }
}

}  // namespace

int main() {
  std::printf("main reached\n");
  Graph g;
  report("input", [&] { g.input("x", DType::float64, {kSymbolic}); });
  report("optimize", [&] {
    const Expr in = g.input("z", DType::float64, {kSymbolic});
    const Expr twice = OpRegistry::instance().find("ext_id") ? apply("ext_id", {apply("ext_id", {in})}) : exp(in);
    std::printf("%s\n", expr_str(optimize({twice})[0]).c_str());
  });
  report("input again", [&] { g.input("y", DType::float64, {}); });
  return 0;
}
