#pragma once
/// What the fuzz targets check on every input (fuzz/fuzz_*.cpp), shared with
/// the suite that replays the corpus (tests/test_fuzz_corpus.cpp), so that
/// every input ever kept, crashes found included, is checked in the normal
/// test runs too.
///
/// Untrusted input may be refused, but only with symgraph::Error, and its
/// message must be one printable line of valid UTF-8 (it is shown to a user;
/// document text quoted in it must not end the line or reach the terminal as
/// control codes). Input that is accepted must then work: a loaded or parsed
/// graph goes through to_json and back exactly (the same document byte for
/// byte, the same nodes, attributes bit for bit, types and names), through
/// both printers, through the optimizer, which must keep every output's
/// type, and through grad (the sum of the first output with respect to the
/// float inputs), each gradient of its input's type, then optimized too:
/// what the symgraph command's print, opt and grad do with it. Anything else
/// (another exception type, a crash, a sanitizer report, a hang) is a bug. A
/// failed property throws Violation.
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "symgraph/graph/dot.hpp"
#include "symgraph/graph/json.hpp"
#include "symgraph/graph/optimize.hpp"
#include "symgraph/graph/order.hpp"
#include "symgraph/graph/parse.hpp"
#include "symgraph/graph/print.hpp"
#include "symgraph/autodiff/grad.hpp"
#include "symgraph/core/registry.hpp"
#include "symgraph/ops/ops.hpp"

namespace symgraph::fuzz {

/// A property that does not hold: a bug, not bad input.
struct Violation : std::logic_error {
  using std::logic_error::logic_error;
};

/// An op with one attribute of every kind, so that documents reach every
/// attribute reader and writer (built-in ops have no string attribute).
/// y = x, as `dtype`.
struct Tagged final : Op {
  Tagged() : Op("fuzz_tagged", 1, 1) {}
  std::vector<AttrSpec> attr_specs() const override {
    return {{"count", AttrKind::integer}, {"weight", AttrKind::real},  {"axes", AttrKind::integers},
            {"label", AttrKind::string},  {"table", AttrKind::tensor}, {"dtype", AttrKind::dtype}};
  }
  TensorType infer(std::span<const TensorType> in, const Attrs& attrs) const override {
    return {attrs.get<DType>("dtype"), in[0].shape};
  }
  void compute(std::span<const Tensor* const>, const Attrs&, Tensor&) const override {}
};
inline const RegisterOp<Tagged> tagged_registration;

/// Length of the valid UTF-8 sequence (RFC 3629) at s[i], or 0.
inline std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return 1;
  const std::size_t len = c >= 0xf5 ? 0 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
  if (len == 0 || i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return 0;
  const auto c1 = static_cast<unsigned char>(s[i + 1]);
  if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 >= 0xa0) || (c == 0xf0 && c1 < 0x90) || (c == 0xf4 && c1 >= 0x90))
    return 0;
  return len;
}

/// Valid UTF-8 without control characters (C0, DEL, C1), except `allowed`.
inline bool printable(std::string_view s, std::string_view allowed = {}) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t len = utf8_length(s, i);
    if (len == 0) return false;
    const auto c = static_cast<unsigned char>(s[i]);
    if (len == 1 && (c < 0x20 || c == 0x7f) && allowed.find(s[i]) == std::string_view::npos) return false;
    if (len == 2 && c == 0xc2 && static_cast<unsigned char>(s[i + 1]) < 0xa0) return false;  // C1
    i += len;
  }
  return true;
}

/// Valid UTF-8 whose only C0 control character is the line feed: JSON
/// text as to_json writes it (RFC 8259 needs no escape for DEL and C1).
inline bool json_text(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t len = utf8_length(s, i);
    if (len == 0 || (static_cast<unsigned char>(s[i]) < 0x20 && s[i] != '\n')) return false;
    i += len;
  }
  return true;
}

/// The first bytes of `s`, escaped, for a violation's message.
inline std::string excerpt(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < 300; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return s.size() > 300 ? out + "..." : out;
}

/// A refusal must be a one-line, printable message.
inline void check_message(std::string_view who, const Error& e) {
  const std::string_view m = e.what();
  if (m.empty()) throw Violation(std::string(who) + ": an Error without a message");
  if (!printable(m))
    throw Violation(std::string(who) + ": the error message is not one printable line of UTF-8: " + excerpt(m));
}

/// Store ids of the nodes `outputs` need, in the canonical order, compared
/// across two graphs: the same op, attributes (bit for bit), type, name and
/// operands at every position.
inline void check_same_graph(const std::string& who, const std::vector<Expr>& inputs_a,
                             const std::vector<Expr>& outputs_a, const std::vector<Expr>& inputs_b,
                             const std::vector<Expr>& outputs_b) {
  if (inputs_a.size() != inputs_b.size() || outputs_a.size() != outputs_b.size())
    throw Violation(who + ": a different number of inputs or outputs");
  const NodeOrder a = order_nodes(who, inputs_a, outputs_a);
  const NodeOrder b = order_nodes(who, inputs_b, outputs_b);
  if (a.size() != b.size())
    throw Violation(who + ": " + count_str(a.size(), "node") + " became " + std::to_string(b.size()));
  for (std::size_t k = 0; k < a.size(); ++k) {
    const Node& x = a.store().node(a.nodes()[k]);
    const Node& y = b.store().node(b.nodes()[k]);
    const std::string at = who + ": node " + std::to_string(k) + " (" + x.op->name() + ")";
    if (x.op != y.op) throw Violation(at + " became op " + y.op->name());
    if (!(x.attrs == y.attrs)) throw Violation(at + ": its attributes changed");
    if (x.type != y.type) throw Violation(at + ": type " + type_str(x.type) + " became " + type_str(y.type));
    if (x.name != y.name) throw Violation(at + ": name \"" + excerpt(x.name) + "\" became \"" + excerpt(y.name) + "\"");
    if (x.inputs.size() != y.inputs.size()) throw Violation(at + ": a different number of operands");
    for (std::size_t i = 0; i < x.inputs.size(); ++i)
      if (a.number(x.inputs[i]) != b.number(y.inputs[i])) throw Violation(at + ": operand " + std::to_string(i) + " changed");
  }
  for (std::size_t i = 0; i < outputs_a.size(); ++i)
    if (a.number(outputs_a[i].id()) != b.number(outputs_b[i].id()))
      throw Violation(who + ": output " + std::to_string(i) + " changed");
}

/// The input nodes `outputs` reach, in the order they were declared.
inline std::vector<Expr> used_inputs(const std::vector<Expr>& outputs) {
  std::vector<Expr> inputs;
  if (outputs.empty()) return inputs;
  const NodeOrder order = order_nodes("used_inputs", outputs);
  for (NodeId id : order.inputs()) inputs.push_back(Expr(outputs[0].graph(), id));
  return inputs;
}

/// The JSON round trip is exact and the printers work on the graph.
inline void check_graph(const std::vector<Expr>& inputs, const std::vector<Expr>& outputs) {
  const std::string text = to_json(inputs, outputs);
  if (!json_text(text)) throw Violation("to_json wrote a control character or text that is not UTF-8: " + excerpt(text));
  LoadedGraph again;
  try {
    again = from_json(text);
  } catch (const Error& e) {
    throw Violation(std::string("from_json refuses what to_json wrote: ") + e.what() + "\n" + excerpt(text));
  }
  check_same_graph("from_json(to_json(g))", inputs, outputs, again.inputs, again.outputs);
  if (to_json(again.inputs, again.outputs) != text)
    throw Violation("to_json(from_json(text)) differs from text:\n" + excerpt(text));
  if (outputs.empty()) return;

  const std::string printed = debugprint(outputs);
  if (!printable(printed, "\n")) throw Violation("debugprint wrote a control character: " + excerpt(printed));
  const std::string dot = to_dot(outputs);
  if (!printable(dot, "\n")) throw Violation("to_dot wrote a control character: " + excerpt(dot));
  for (const Expr& e : outputs)
    if (!printable(expr_str(e))) throw Violation("expr_str wrote a control character: " + excerpt(expr_str(e)));
}

/// optimize(outputs) keeps the number of outputs and each one's type, and
/// its result passes check_graph.
inline std::vector<Expr> check_optimized(const std::string& what, const std::vector<Expr>& outputs) {
  const std::vector<Expr> optimized = optimize(outputs);
  if (optimized.size() != outputs.size()) throw Violation("optimize changed the number of outputs of " + what);
  for (std::size_t i = 0; i < outputs.size(); ++i)
    if (optimized[i].type() != outputs[i].type())
      throw Violation("optimize changed output " + std::to_string(i) + " of " + what + " from " +
                      type_str(outputs[i].type()) + " to " + type_str(optimized[i].type()));
  check_graph(used_inputs(optimized), optimized);
  return optimized;
}

/// What the symgraph command does with a graph it read, each result checked
/// like the graph itself: optimize it (opt), and differentiate the sum of
/// its first output with respect to its float inputs, then optimize (grad).
/// Each gradient has its input's type. An Error is acceptable from grad only
/// (an op without a gradient rule).
inline void check_graph_and_uses(const std::vector<Expr>& inputs, const std::vector<Expr>& outputs) {
  check_graph(inputs, outputs);
  if (outputs.empty()) return;
  check_optimized("the graph", outputs);

  std::vector<Expr> wrt;
  for (const Expr& in : inputs)
    if (is_float(in.dtype())) wrt.push_back(in);
  if (wrt.empty() || !is_float(outputs[0].dtype())) return;
  std::vector<Expr> grads;
  try {
    grads = grad(sum(outputs[0]), wrt);
  } catch (const Error& e) {
    check_message("grad", e);
    return;
  }
  if (grads.size() != wrt.size()) throw Violation("grad returned " + count_str(grads.size(), "gradient"));
  for (std::size_t i = 0; i < wrt.size(); ++i)
    if (grads[i].type() != wrt[i].type())
      throw Violation("the gradient with respect to input " + std::to_string(i) + " (" + type_str(wrt[i].type()) +
                      ") is " + type_str(grads[i].type()));
  check_graph(used_inputs(grads), grads);
  check_optimized("the gradients", grads);
}

/// Caps for fuzzing: the defaults, except documents and expressions no
/// longer than the fuzzer's inputs can be.
inline LoadLimits load_limits() { return LoadLimits{}; }

/// A JSON graph document.
inline void check_document(std::string_view text) {
  LoadedGraph g;
  try {
    g = from_json(text, load_limits());
  } catch (const Error& e) {
    check_message("from_json", e);
    return;
  }
  for (const Expr& in : g.inputs)
    if (in.op_name() != "input") throw Violation("from_json: an input that is a " + in.op_name() + " node");
  check_graph_and_uses(g.inputs, g.outputs);
}

/// The inputs an expression may name: every dtype, ranks 0 to 2, known and
/// symbolic sizes (others are float64[?]).
inline ExpressionInputs expression_inputs() {
  ExpressionInputs decl;
  decl.declared["x"] = {DType::float64, {kSymbolic}};
  decl.declared["y"] = {DType::float64, {3}};
  decl.declared["s"] = {DType::float64, {}};
  decl.declared["m"] = {DType::float64, {2, 3}};
  decl.declared["f"] = {DType::float32, {kSymbolic}};
  decl.declared["g"] = {DType::float32, {3, kSymbolic}};
  decl.declared["c"] = {DType::boolean, {kSymbolic}};
  decl.declared["b"] = {DType::boolean, {2, 3}};
  return decl;
}

/// An expression (several outputs, separated by commas).
inline void check_expression(std::string_view text) {
  Graph graph;
  std::vector<Expr> outputs;
  try {
    outputs = parse_expressions(graph, text, expression_inputs());
  } catch (const Error& e) {
    check_message("parse_expressions", e);
    // "column N: ...", N a byte of the text or one past its end.
    const std::string m = e.what();
    std::size_t col = 0, i = 7;
    if (m.rfind("column ", 0) != 0) throw Violation("parse_expressions: an error without a column: " + excerpt(m));
    while (i < m.size() && m[i] >= '0' && m[i] <= '9' && col <= text.size() + 1) col = col * 10 + (m[i++] - '0');
    if (col < 1 || col > text.size() + 1 || m.compare(i, 2, ": ") != 0)
      throw Violation("parse_expressions: the column is not in the text (" + count_str(text.size(), "byte") +
                      "): " + excerpt(m));
    return;
  }
  if (outputs.empty()) throw Violation("parse_expressions: no output and no error");
  // Parsing is deterministic: the same text in a new graph gives the same
  // document.
  Graph other;
  const std::vector<Expr> again = parse_expressions(other, text, expression_inputs());
  std::vector<Expr> inputs;
  for (NodeId id = 0; id < graph.size(); ++id)
    if (graph.store()->node(id).op->name() == "input") inputs.push_back(graph.node(id));
  std::vector<Expr> inputs_again;
  for (NodeId id = 0; id < other.size(); ++id)
    if (other.store()->node(id).op->name() == "input") inputs_again.push_back(other.node(id));
  if (to_json(inputs, outputs) != to_json(inputs_again, again))
    throw Violation("parse_expressions gives different graphs for the same text");
  check_graph_and_uses(inputs, outputs);
}

/// The data of value_to_json's output: what value_from_json reads back.
inline std::string_view data_of(std::string_view value_json) {
  const std::size_t at = value_json.find("\"data\": ");
  if (at == std::string_view::npos || value_json.empty() || value_json.back() != '}')
    throw Violation("value_to_json wrote no data: " + excerpt(value_json));
  return value_json.substr(at + 8, value_json.size() - at - 9);
}

/// A tensor value (the symgraph command's --input), read in every dtype;
/// what is read is written back and read again to the same bits.
inline void check_value(std::string_view text) {
  for (DType dtype : {DType::float64, DType::float32, DType::boolean}) {
    Tensor t;
    try {
      t = value_from_json(text, dtype, "value", load_limits());
    } catch (const Error& e) {
      check_message("value_from_json", e);
      continue;
    }
    const std::string written = value_to_json(t);
    if (!json_text(written)) throw Violation("value_to_json wrote text that is not printable: " + excerpt(written));
    Tensor again;
    try {
      again = value_from_json(data_of(written), dtype, "value", load_limits());
    } catch (const Error& e) {
      throw Violation(std::string("value_from_json refuses what value_to_json wrote: ") + e.what());
    }
    if (again.dtype() != t.dtype() || again.shape() != t.shape())
      throw Violation("value round trip changed the type " + type_str(t.type()) + " to " + type_str(again.type()));
    if (t.nbytes() && std::memcmp(t.raw(), again.raw(), t.nbytes()) != 0) throw Violation("value round trip changed the bits");
  }
}

}  // namespace symgraph::fuzz
