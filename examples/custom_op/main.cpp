// A user-defined op used like a built-in one: softplus (softplus.cpp) and
// its rewrite rule. Builds log(1 + exp(x)) by hand, lets the optimizer find
// softplus in it, evaluates both forms, differentiates, evaluates elu
// (elu.cpp, an op with an attribute), saves and reloads the graph as JSON,
// and prints it as text and DOT.
#include <cstdio>
#include <symgraph/symgraph.hpp>

#include "elu.hpp"
#include "softplus.hpp"

using namespace symgraph;

int main() {
  Graph g;
  Expr x = g.input("x", DType::float64, {kSymbolic});

  // The hand-written form; the softplus pass (registered by softplus.cpp,
  // part of the standard pipeline) rewrites it.
  Expr hand = log(1.0 + exp(x));
  RewriteTrace trace;
  Expr y = optimize({hand}, Pipeline::standard(), &trace)[0];
  for (const RewriteEvent& e : trace)
    std::printf("rewrite %s %s: %s -> %s\n", e.pass.c_str(), e.rule.c_str(), expr_str(e.before).c_str(),
                expr_str(e.after).c_str());

  // The gradient of sum(softplus(x)) is sigmoid(x), from the op's VJP.
  Expr dy = optimize({grad(sum(y), {x})[0]})[0];

  // compile_reference runs the graph as written; compile() optimizes first.
  Tensor xs = Tensor::from_list<double>({-1000.0, -40.0, 0.0, 1.0, 1000.0});
  Tensor as_written = compile_reference({x}, {hand})({xs})[0];
  std::vector<Tensor> out = compile({x}, {y, dy})({xs});
  std::printf("\n%8s %22s %22s %12s\n", "x", "log(1 + exp(x))", "softplus(x)", "sigmoid(x)");
  for (std::int64_t i = 0; i < xs.size(); ++i)
    std::printf("%8g %22.17g %22.17g %12.6g\n", xs.at(i), as_written.at(i), out[0].at(i), out[1].at(i));

  // The gradient against central differences.
  std::printf("\ngradient check: %s\n", check_grad(y, {x}).passed ? "passed" : "FAILED");

  // An op with an attribute (elu.cpp): its kernel and its gradient read alpha.
  const Expr e = example::elu(x, 0.5);
  const std::vector<Tensor> elu_out =
      compile({x}, {e, grad(sum(e), {x})[0]})({Tensor::from_list<double>({-1.0, 0.0, 2.0})});
  std::printf("elu(x, 0.5) at -1, 0, 2: %g, %g, %g; gradient %g, %g, %g\n", elu_out[0].at(0), elu_out[0].at(1),
              elu_out[0].at(2), elu_out[1].at(0), elu_out[1].at(1), elu_out[1].at(2));

  // JSON names the op; loading it needs the op registered, as it is here.
  const std::string json = to_json({x}, {y, dy});
  const LoadedGraph back = from_json(json);
  std::printf("JSON round trip: %s\n\n%s", to_json(back.inputs, back.outputs) == json ? "identical" : "DIFFERENT",
              json.c_str());
  std::printf("\n%s\n%s", debugprint({y, dy}).c_str(), to_dot({y}).c_str());
  return 0;
}
