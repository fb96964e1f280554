// The expression language: each expression is checked against the same
// expression built with the C++ builders in the same graph (hash-consing
// makes equal structure the same node), number dtypes follow the other
// operand, errors give the column and what was expected, and nothing
// recurses: 1,000,000-term chains and 1,000,000-deep nesting parse.
#include <functional>
#include <symgraph/graph/parse.hpp>

#include "harness.hpp"

using namespace sgtest;

namespace {

struct Fixture {
  Graph g;
  ExpressionInputs decl;
  Expr x, y, c;
  Fixture() {
    decl.declared["x"] = {DType::float64, {kSymbolic}};
    decl.declared["y"] = {DType::float64, {3}};
    decl.declared["c"] = {DType::boolean, {kSymbolic}};
    decl.declared["f"] = {DType::float32, {kSymbolic}};
    x = g.input("x", DType::float64, {kSymbolic});
    y = g.input("y", DType::float64, {3});
    c = g.input("c", DType::boolean, {kSymbolic});
  }
  Expr k(double v) { return g.constant(v); }
  std::vector<Expr> parse(const std::string& text) { return parse_expressions(g, text, decl); }
};

}  // namespace

TEST_CASE("expressions build the same nodes as the C++ builders") {
  Fixture t;
  const Expr x = t.x, y = t.y, c = t.c;
  const std::vector<std::pair<std::string, std::function<Expr()>>> cases = {
      {"x", [&] { return x; }},
      {"x + y * 2", [&] { return add(x, mul(y, t.k(2))); }},
      {"(x + y) * 2", [&] { return mul(add(x, y), t.k(2)); }},
      {"x - y - 1", [&] { return sub(sub(x, y), t.k(1)); }},
      {"x / y / 2", [&] { return div(div(x, y), t.k(2)); }},
      {"-x * y", [&] { return mul(neg(x), y); }},
      {"x * -y", [&] { return mul(x, neg(y)); }},
      {"--x", [&] { return neg(neg(x)); }},
      {"x - -1", [&] { return sub(x, t.k(-1)); }},
      {"-0.0 * x", [&] { return mul(t.k(-0.0), x); }},
      {"x + 1 > y * 2", [&] { return gt(add(x, t.k(1)), mul(y, t.k(2))); }},
      {"x >= 0", [&] { return ge(x, t.k(0)); }},
      {"0 < x", [&] { return lt(t.k(0), x); }},
      {"x <= y", [&] { return le(x, y); }},
      {"x == y", [&] { return eq(x, y); }},
      {"switch(x > 0, x, 0.1 * x)", [&] { return where(gt(x, t.k(0)), x, mul(t.k(0.1), x)); }},
      {"where(c, x, 0)", [&] { return where(c, x, t.k(0)); }},
      {"where(c, 1, x)", [&] { return where(c, t.k(1), x); }},
      {"abs(x) + sign(x) + exp(x) + log(x) + sqrt(x) + tanh(x)",
       [&] { return add(add(add(add(add(abs(x), sign(x)), exp(x)), log(x)), sqrt(x)), tanh(x)); }},
      {"maximum(x, 0.1 * x)", [&] { return maximum(x, mul(t.k(0.1), x)); }},
      {"minimum(0, x)", [&] { return minimum(t.k(0), x); }},
      {"scale(x, 0.5)", [&] { return scale(x, 0.5); }},
      {"scale(x, -1/4)", [&] { return scale(x, -0.25); }},
      {"sum(x * y)", [&] { return sum(mul(x, y)); }},
      {"relu(x)", [&] { return relu(x); }},
      {"relu(x, 0.1)", [&] { return relu(x, 0.1); }},
      {"relu(x, y)", [&] { return relu(x, y); }},
      {"2 * 3 + x", [&] { return add(t.k(6), x); }},
      {"x * (1 + 2) / 4", [&] { return div(mul(x, t.k(3)), t.k(4)); }},
      {"1e-3 * x", [&] { return mul(t.k(1e-3), x); }},
      {".5 * x", [&] { return mul(t.k(0.5), x); }},
      {"  x\t+\ny  ", [&] { return add(x, y); }},
      {"3", [&] { return t.k(3); }},
      {"exp(2)", [&] { return exp(t.k(2)); }},
  };
  for (const auto& [source, build] : cases) {
    const std::string& text = source;  // a variable, not a binding: CAPTURE's lambda refers to it
    CAPTURE(text);
    const std::vector<Expr> got = t.parse(text);
    REQUIRE(got.size() == 1);
    CHECK(got[0].is(build()));
  }
}

TEST_CASE("several outputs, and inputs declared or not") {
  Fixture t;
  const std::vector<Expr> outs = t.parse("x + 1, relu(x), (y)");
  REQUIRE(outs.size() == 3);
  CHECK(outs[0].is(add(t.x, t.k(1))));
  CHECK(outs[1].is(relu(t.x)));
  CHECK(outs[2].is(t.y));
  // Undeclared names get the fallback type, float64[?] by default.
  const Expr z = t.parse("z")[0];
  CHECK(z.op_name() == "input");
  CHECK(z.type() == TensorType{DType::float64, {kSymbolic}});
  t.decl.fallback = {DType::float32, {2, 2}};
  CHECK(t.parse("w")[0].type() == TensorType{DType::float32, {2, 2}});
}

TEST_CASE("numbers take the dtype of the other operand, as the C++ operators do") {
  Fixture t;
  const Expr f = t.g.input("f", DType::float32, {kSymbolic});
  const Expr e = t.parse("0.1 * f")[0];
  CHECK(e.dtype() == DType::float32);
  CHECK(e.is(0.1 * f));
  const Tensor& k = e.input(0).attrs().get<Tensor>("value");
  CHECK(k.dtype() == DType::float32);
  CHECK(*k.data<float>() == 0.1f);
  CHECK(t.parse("f > 0")[0].is(f > 0.0));
  CHECK(t.parse("switch(f > 0, f, 0)")[0].is(where(f > 0.0, f, constant_like(f, 0.0))));
  CHECK(t.parse("maximum(0.5, f)")[0].is(maximum(constant_like(f, 0.5), f)));
  CHECK(t.parse("scale(f, 0.1)")[0].attrs().get<double>("factor") == static_cast<double>(0.1f));
  CHECK(t.parse("relu(f, 0.1)")[0].is(relu(f, 0.1)));
  // Two numbers fold in float64 before meeting f: (1/3) rounded once to float32.
  const Expr third = t.parse("f * (1 / 3)")[0];
  CHECK(*third.input(1).attrs().get<Tensor>("value").data<float>() == static_cast<float>(1.0 / 3.0));
}

TEST_CASE("malformed expressions: the column and what was expected") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "column 1: expected an expression (a number, a name, '(' or '-'), got the end of the expression"},
      {"x +", "column 4: expected an expression (a number, a name, '(' or '-'), got the end of the expression"},
      {"x + * y", "column 5: expected an expression (a number, a name, '(' or '-'), got '*'"},
      {"+x", "column 1: expected an expression (a number, a name, '(' or '-'), got '+'"},
      {"x y", "column 3: expected an operator, ',' or ')' after an operand, got the name 'y'"},
      {"2x", "column 2: expected an operator, ',' or ')' after an operand, got the name 'x'"},
      {"2 (y)", "column 3: expected an operator, ',' or ')' after an operand, got '('"},
      {"x (y)", "column 1: unknown function 'x' (functions: abs,"},
      {"(x + y", "column 1: '(' is never closed (expected ')')"},
      {"abs(x", "column 1: the call of abs is never closed (expected ')')"},
      {"x + y)", "column 6: ')' without a matching '('"},
      {"(x, y)", "column 3: ',' inside parentheses opened at column 1 (a comma separates the arguments of a call, or "
                 "outputs)"},
      {"x,", "column 3: expected an expression (a number, a name, '(' or '-'), got the end of the expression"},
      {",x", "column 1: expected an expression (a number, a name, '(' or '-'), got ','"},
      {"()", "column 2: expected an expression (a number, a name, '(' or '-'), got ')'"},
      {"x = y", "column 3: '=' is not an operator (did you mean '=='?)"},
      {"x $ y", "column 3: unexpected character '$' (expected a number, a name, an operator or a parenthesis)"},
      {"x + \x01", "column 5: unexpected byte 0x01 (expected a number, a name, an operator or a parenthesis)"},
      {"1e", "column 3: expected the digits of an exponent after '1e'"},
      {"1e+ * x", "column 4: expected the digits of an exponent after '1e+'"},
      {"1e999 * x", "column 1: the number 1e999 is out of the range of float64"},
      {"softplus(x)", "column 1: unknown function 'softplus' (functions: abs, exp, log, maximum, minimum, relu, "
                      "scale, sign, sqrt, sum, switch, tanh, where)"},
      {"abs()", "column 1: abs takes 1 argument, got 0"},
      {"abs(x, y)", "column 1: abs takes 1 argument, got 2"},
      {"maximum(x)", "column 1: maximum takes 2 arguments, got 1"},
      {"switch(x > 0, x)", "column 1: switch takes 3 arguments, got 2"},
      {"relu(x, 1, 2)", "column 1: relu takes 1 or 2 arguments, got 3"},
      {"scale(x, y)", "column 10: the factor of scale(x, c) must be a number, got an expression"},
      {"switch(x, x, x)", "column 1: switch: the condition must be bool, got float64[?] (compare with gt/lt/... first)"},
      {"x + f", "column 3: add: operand dtypes differ: float64[?] and float32[?] (convert one with cast())"},
      {"x + c", "column 3: add: operand 1 is bool[?]; this op needs float32 or float64"},
      {"x > 0 > 1", "column 7: gt: operand 0 is bool[?]; this op needs float32 or float64"},
      {"-c", "column 1: neg: operand 0 is bool[?]; this op needs float32 or float64"},
      {"y + ones", "column 3: add: cannot broadcast shapes [3] and [2]"},
  };
  for (const auto& c : cases) {
    const std::string& text = c.first;
    const std::string& want = c.second;
    CAPTURE(text);
    Graph g;
    ExpressionInputs decl;
    decl.declared["f"] = {DType::float32, {kSymbolic}};
    decl.declared["c"] = {DType::boolean, {kSymbolic}};
    decl.declared["y"] = {DType::float64, {3}};
    decl.declared["ones"] = {DType::float64, {2}};
    const std::string got = error_of([&] { parse_expressions(g, text, decl); });
    CHECK_MESSAGE(got.find(want) == 0, "got: " << got << "\nwant: " << want);
  }
}

TEST_CASE("long chains and deep nesting parse without recursion") {
  const int n = 1'000'000;
  Graph g;
  std::string chain = "x";
  chain.reserve(4 * n);
  for (int i = 0; i < n; ++i) chain += i % 2 ? " + x" : " * x";
  const Expr sum_chain = parse_expressions(g, chain)[0];
  CHECK(sum_chain.op_name() == "add");

  const std::string parens = std::string(n, '(') + "x" + std::string(n, ')');
  CHECK(parse_expressions(g, parens)[0].op_name() == "input");

  std::string calls;
  for (int i = 0; i < n; ++i) calls += "abs(";
  calls += "x" + std::string(n, ')');
  Expr e = parse_expressions(g, calls)[0];
  CHECK(e.op_name() == "abs");

  const std::string negs = std::string(n, '-') + "x";
  CHECK(parse_expressions(g, negs)[0].is(parse_expressions(g, "x")[0]) == false);
  CHECK(parse_expressions(g, std::string(n, '-') + "2")[0].attrs().get<Tensor>("value").at(0) == 2.0);

  // Unbalanced deep nesting is a clean error.
  CHECK(error_of([&] { parse_expressions(g, std::string(n, '(') + "x"); }) ==
        "column " + std::to_string(n) + ": '(' is never closed (expected ')')");
}

TEST_CASE("limits: each cap lets an expression of its size through and refuses one more, by name") {
  // max_nodes: the nodes the same expression adds when built with the C++
  // builders in a new graph (shared subexpressions count once).
  struct NodesCase {
    std::string text;
    std::function<Expr(Graph&)> build;
    std::string error_column;  // where the node beyond the cap is built
  };
  // An undeclared name is a float64 vector of any length.
  auto in = [](Graph& g, const char* name) { return g.input(name, DType::float64, {kSymbolic}); };
  const std::vector<NodesCase> nodes_cases = {
      {"x", [&](Graph& g) { return in(g, "x"); }, "column 1"},
      {"x + y", [&](Graph& g) { return add(in(g, "x"), in(g, "y")); }, "column 3"},
      {"x + x * x", [&](Graph& g) { const Expr x = in(g, "x"); return add(x, mul(x, x)); }, "column 3"},
      {"relu(x, 0.1)", [&](Graph& g) { return relu(in(g, "x"), 0.1); }, "column 1"},
      {"abs(x) > 2", [&](Graph& g) { const Expr x = in(g, "x"); return gt(abs(x), constant_like(x, 2.0)); }, "column 8"},
      {"2 * 3", [](Graph& g) { return g.constant(6.0); }, "column 1"},
  };
  for (const NodesCase& c : nodes_cases) {
    CAPTURE(c.text);
    Graph oracle;
    c.build(oracle);
    const std::size_t needed = oracle.size();
    Graph g;
    ParseLimits limits;
    limits.max_nodes = needed;
    CHECK(parse_expressions(g, c.text, {}, limits)[0].is(c.build(g)));
    CHECK(g.size() == needed);
    Graph h;
    limits.max_nodes = needed - 1;
    CHECK(limit_error_of([&] { parse_expressions(h, c.text, {}, limits); }, "ParseLimits::max_nodes", needed - 1) ==
          c.error_column + ": more than " + std::to_string(needed - 1) + " nodes");
  }
  // Nodes the graph has already are not counted again.
  Graph g;
  const Expr x = in(g, "x");
  ParseLimits one;
  one.max_nodes = 1;
  CHECK(parse_expressions(g, "-x, x", {}, one)[0].is(neg(x)));

  // max_depth: parentheses, calls and unary minus signs open at one point.
  struct DepthCase {
    std::string text;
    std::size_t needed;
    std::string error;  // with max_depth = needed - 1
  };
  const std::vector<DepthCase> depth_cases = {
      {"(x)", 1, "column 1: nested deeper than 0 levels"},
      {"((x) + (y))", 2, "column 2: nested deeper than 1 level"},
      {"abs(-(x))", 3, "column 6: nested deeper than 2 levels"},
      {"--x * -y", 2, "column 2: nested deeper than 1 level"},
      {"maximum(x, abs(y)) + sum(relu(x))", 2, "column 12: nested deeper than 1 level"},
  };
  for (const DepthCase& c : depth_cases) {
    CAPTURE(c.text);
    Graph d;
    ParseLimits limits;
    limits.max_depth = c.needed;
    CHECK_NOTHROW(parse_expressions(d, c.text, {}, limits));
    limits.max_depth = c.needed - 1;
    CHECK(limit_error_of([&] { parse_expressions(d, c.text, {}, limits); }, "ParseLimits::max_depth", c.needed - 1) ==
          c.error);
  }
  Graph flat;
  ParseLimits zero;
  zero.max_depth = 0;
  CHECK_NOTHROW(parse_expressions(flat, "x + y * 2 - x / y, y > x", {}, zero));

  // max_bytes: the text's length; the column is the first byte beyond it.
  Graph b;
  ParseLimits limits;
  limits.max_bytes = 5;
  CHECK_NOTHROW(parse_expressions(b, "x + y", {}, limits));
  limits.max_bytes = 4;
  CHECK(limit_error_of([&] { parse_expressions(b, "x + y", {}, limits); }, "ParseLimits::max_bytes", 4) ==
        "column 5: the text is 5 bytes, more than 4");
}

TEST_CASE("limits: the defaults accept what the parser is documented to handle") {
  const ParseLimits d;
  // The 1,000,000-deep nesting of the test above, and a 1,000,000-term chain.
  CHECK(d.max_depth >= 1'000'000);
  CHECK(d.max_nodes >= 1'000'001);
  CHECK(d.max_bytes >= 4'000'001);
  Graph g;
  ParseLimits limits;
  limits.max_depth = 1'000'000;
  CHECK(error_of([&] { parse_expressions(g, std::string(1'000'001, '(') + "x" + std::string(1'000'001, ')'), {}, limits); })
            .rfind("column 1000001: nested deeper than 1000000 levels", 0) == 0);
}
