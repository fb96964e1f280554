// The text printer (debugprint) and the DOT printer: exact output for small
// graphs, shared nodes printed once, user ops' own printed form, long chains
// printed in linear size without recursion, and determinism.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <symgraph/graph/dot.hpp>
#include <symgraph/graph/json.hpp>
#include <symgraph/graph/print.hpp>

#include "harness.hpp"

using namespace sgtest;

namespace {

/// A user op that prints itself as "x ** p" instead of pow(x, p=...), and
/// as "_ ** p" alone. y = x^p (no kernel needed here).
struct Pow final : Op {
  Pow() : Op("test_pow", 1, 1) {}
  std::vector<AttrSpec> attr_specs() const override { return {{"p", AttrKind::real}}; }
  TensorType infer(std::span<const TensorType> in, const Attrs&) const override { return in[0]; }
  void compute(std::span<const Tensor* const>, const Attrs&, Tensor&) const override {}
  std::string format(std::span<const std::string> args, const Attrs& attrs) const override {
    return args[0] + " ** " + attr_str(*attrs.find("p"));  // args: one string per operand
  }
  std::string label(const Attrs& attrs) const override { return "_ ** " + attr_str(*attrs.find("p")); }
};
RegisterOp<Pow> pow_registration;

/// A user op with a string attribute and the default printed form. y = x.
struct Label final : Op {
  Label() : Op("test_label", 1, 1) {}
  std::vector<AttrSpec> attr_specs() const override { return {{"label", AttrKind::string}}; }
  TensorType infer(std::span<const TensorType> in, const Attrs&) const override { return in[0]; }
  void compute(std::span<const Tensor* const>, const Attrs&, Tensor&) const override {}
};
RegisterOp<Label> label_registration;

}  // namespace

TEST_CASE("debugprint: relu, one node a line, shared input referred to by id") {
  Graph g;
  const Expr x = g.input("x", DType::float64, {kSymbolic});
  CHECK(debugprint({relu(x, 0.1)}) ==
        "add [id 4] float64[?]\n"
        " |scale(factor=0.55) [id 1] float64[?]\n"
        " | |x [id 0] float64[?]\n"
        " |scale(factor=0.45) [id 3] float64[?]\n"
        "   |abs [id 2] float64[?]\n"
        "     |x [id 0] float64[?]\n");
}

TEST_CASE("debugprint: shared subexpressions expanded once, constants shown by value") {
  Graph g;
  const Expr x = g.input("x", DType::float32, {3});
  const Expr e = exp(x * 0.1);
  const Expr y = where(x > 0.0, e, e + e);
  CHECK(debugprint({y, e}) ==
        "switch [id 7] float32[3]\n"
        " |gt [id 2] bool[3]\n"
        " | |x [id 0] float32[3]\n"
        " | |0 [id 1] float32[]\n"
        " |exp [id 5] float32[3]\n"
        " | |mul [id 4] float32[3]\n"
        " |   |x [id 0] float32[3]\n"
        " |   |0.1 [id 3] float32[]\n"
        " |add [id 6] float32[3]\n"
        "   |exp [id 5] float32[3] (see above)\n"
        "   |exp [id 5] float32[3] (see above)\n"
        "exp [id 5] float32[3] (see above)\n");
}

TEST_CASE("debugprint: attributes and a user op's own printed form") {
  Graph g;
  const Expr x = g.input("x", DType::float64, {2, kSymbolic});
  const Expr y = apply("test_pow", {sum(x, {1}, true)}, {{"p", 3.0}});
  CHECK(debugprint({y, cast(x, DType::float32)}) ==
        "_ ** 3 [id 2] float64[2, 1]\n"
        " |sum(axes=[1], keepdims=1) [id 1] float64[2, 1]\n"
        "   |x [id 0] float64[2, ?]\n"
        "cast(dtype=float32) [id 3] float32[2, ?]\n"
        " |x [id 0] float64[2, ?]\n");
  CHECK(debugprint({}) == "");
}

TEST_CASE("debugprint: deep graphs continue in blocks below, in linear size") {
  Graph g;
  Expr e = g.input("x", DType::float64, {});
  for (int i = 0; i < 5; ++i) e = neg(e);
  PrintOptions narrow;
  narrow.max_indent = 2;
  CHECK(debugprint({e}, narrow) ==
        "neg [id 5] float64[]\n"
        " |neg [id 4] float64[]\n"
        "   |neg [id 3] float64[] (continued below)\n"
        "neg [id 3] float64[]\n"
        " |neg [id 2] float64[]\n"
        "   |neg [id 1] float64[] (continued below)\n"
        "neg [id 1] float64[]\n"
        " |x [id 0] float64[]\n");

  // 1,000,000 nodes: no recursion, and the text grows linearly.
  Expr chain = g.input("y", DType::float64, {});
  for (int i = 0; i < 1'000'000; ++i) chain = i % 2 ? abs(chain) : neg(chain);
  const std::string text = debugprint({chain});
  std::size_t lines = 0;
  for (char c : text) lines += c == '\n';
  // Every 32 levels a node with operands is repeated as the head of the
  // next block: levels 32, 64, ..., 999,968.
  CHECK(lines == 1'000'001 + (1'000'000 - 1) / 32);
  CHECK(text.size() < 100'000'000);
  const std::string last = " |y [id 0] float64[]\n";
  CHECK(text.compare(text.size() - last.size(), last.size(), last) == 0);
}

TEST_CASE("to_dot: deterministic Graphviz text with positional edge labels") {
  Graph g;
  const Expr x = g.input("x", DType::float64, {kSymbolic});
  const Expr y = where(x > 0.0, x, 0.1 * x);
  const std::string dot = to_dot({y});
  CHECK(dot ==
        "digraph symgraph {\n"
        "  node [shape=box, style=rounded, fontname=\"Helvetica\", fontsize=11];\n"
        "  edge [fontname=\"Helvetica\", fontsize=9];\n"
        "  n0 [label=\"x\\n[id 0] float64[?]\", shape=ellipse, style=\"\"];\n"
        "  n1 [label=\"0\\n[id 1] float64[]\", shape=box, style=\"rounded,dashed\"];\n"
        "  n2 [label=\"gt\\n[id 2] bool[?]\"];\n"
        "  n3 [label=\"0.1\\n[id 3] float64[]\", shape=box, style=\"rounded,dashed\"];\n"
        "  n4 [label=\"mul\\n[id 4] float64[?]\"];\n"
        "  n5 [label=\"switch\\n[id 5] float64[?]\"];\n"
        "  n0 -> n2 [label=\"0\"];\n"
        "  n1 -> n2 [label=\"1\"];\n"
        "  n3 -> n4;\n"
        "  n0 -> n4;\n"
        "  n2 -> n5 [label=\"0\"];\n"
        "  n0 -> n5 [label=\"1\"];\n"
        "  n4 -> n5 [label=\"2\"];\n"
        "  out0 [label=\"output 0\", shape=plaintext];\n"
        "  n5 -> out0;\n"
        "}\n");
  CHECK(to_dot({y}) == dot);
  // Quotes and backslashes in names are escaped.
  CHECK(to_dot({g.input("a\"b\\c")}).find("label=\"a\\\"b\\\\c\\n[id 0] float64[]\"") != std::string::npos);
}

TEST_CASE("to_dot: Graphviz accepts the output (when dot is installed)") {
  if (std::system("command -v dot > /dev/null 2>&1") != 0) {
    MESSAGE("dot is not installed; skipping the Graphviz check");
    return;
  }
  Graph g;
  const Expr x = g.input("x\"quoted\"", DType::float32, {kSymbolic});
  const std::string path = "test_print_graph.dot";
  std::ofstream(path) << to_dot({relu(x, 0.1), where(x > 0.0, x, 0.1 * x)});
  CHECK(std::system(("dot -Tsvg " + path + " -o /dev/null").c_str()) == 0);
  std::remove(path.c_str());
}

TEST_CASE("printers and JSON agree on node numbers") {
  Graph g;
  const Expr x = g.input("x", DType::float64, {kSymbolic});
  const Expr y = relu(x, 0.3) * tanh(x);
  const std::string text = debugprint({y}), json = to_json({y}), dot = to_dot({y});
  const LoadedGraph l = from_json(json);
  CHECK(debugprint(l.outputs) == text);
  CHECK(to_dot(l.outputs) == dot);
  CHECK(json.find("{\"id\": 5, \"op\": \"tanh\"") != std::string::npos);
  CHECK(text.find("tanh [id 5] float64[?]") != std::string::npos);
  CHECK(dot.find("n5 [label=\"tanh\\n[id 5] float64[?]\"]") != std::string::npos);
}

TEST_CASE("expr_str: one line from each op's printed form, depth-capped") {
  Graph g;
  const Expr x = g.input("x", DType::float64, {kSymbolic});
  CHECK(expr_str(where(x > 0.0, x, 0.1 * x)) == "switch(gt(x, 0), x, mul(0.1, x))");
  CHECK(expr_str(relu(x, 0.1)) == "add(scale(x, factor=0.55), scale(abs(x), factor=0.45))");
  CHECK(expr_str(apply("test_pow", {exp(x)}, {{"p", 2.0}})) == "exp(x) ** 2");
  CHECK(expr_str(x) == "x");
  Expr e = x;
  for (int i = 0; i < 1'000'000; ++i) e = neg(e);
  CHECK(expr_str(e, 2) == "neg(neg(neg[id " + std::to_string(e.input(0).input(0).id()) + "]...))");
}

TEST_CASE("printers escape control characters in names and attributes: one node a line") {
  // A name that would otherwise forge a line of its own and clear the
  // terminal; an attribute with a tab and U+0085 (NEL, a C1 control).
  Graph g;
  const Expr x = g.input("x\n |y [id 9]\x1b[2J", DType::float64, {});
  const Expr y = apply("test_label", {x}, {{"label", std::string("a\tb\xc2\x85 \xc3\xa9")}});
  CHECK(debugprint({y}) ==
        "test_label(label=\"a\\tb\\u0085 \xc3\xa9\") [id 1] float64[]\n"
        " |x\\n |y [id 9]\\u001b[2J [id 0] float64[]\n");
  CHECK(expr_str(y) == "test_label(x\\n |y [id 9]\\u001b[2J, label=\"a\\tb\\u0085 \xc3\xa9\")");
  const std::string dot = to_dot({y});
  CHECK(dot.find("n0 [label=\"x\\\\n |y [id 9]\\\\u001b[2J\\n[id 0] float64[]\", shape=ellipse") != std::string::npos);
  for (const std::string& text : {debugprint({y}), dot})
    for (char c : text) CHECK((static_cast<unsigned char>(c) >= 0x20 || c == '\n'));
}
