#pragma once
/// JSON interchange: a versioned, documented format (docs/json-format.md,
/// docs/symgraph.schema.json) for graphs and for tensor values.
///
/// Writing is deterministic: nodes are numbered 0..n-1 in the canonical
/// order of graph/order.hpp, so the same expression gives byte-identical
/// text whatever else its store holds. Numbers are the shortest decimal that
/// reads back to the same bits (float32 values as float32), written with a
/// fraction or an exponent so that any parser sees a float (-0.0 keeps its
/// sign); non-finite values are the strings "nan", "inf" and "-inf".
///
/// Reading checks everything and throws Error saying what is wrong and where
/// (a JSON path such as nodes[3].inputs[1], and the node's id and op). It
/// streams the document (one node at a time, nesting depth capped before
/// anything recurses), so 1,000,000-node documents load in bounded memory
/// and deeply nested input is rejected, never a stack overflow.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "symgraph/core/graph.hpp"
#include "symgraph/graph/limits.hpp"

namespace symgraph {

/// The format version this build writes and reads.
inline constexpr int kJsonFormatVersion = 1;

/// Caps on what a document (or a value) may ask for, so that untrusted input
/// is read in bounded memory and time. Exceeding one throws LimitError
/// (graph/limits.hpp), whose message names the cap:
///
///   nodes[2]: more than 2 nodes (LoadLimits::max_nodes is 2; raise it to accept larger input)
///
/// The defaults accept every document the library writes for graphs of up
/// to 10,000,000 nodes with constants of up to 16,777,216 elements; a program
/// that reads documents from untrusted sources should lower them to what it
/// needs.
struct LoadLimits {
  /// Length of the text, in bytes (a 1,000,000-node chain is about 100 MB).
  std::size_t max_bytes = 1'073'741'824;
  /// Entries of the "nodes" array.
  std::size_t max_nodes = 10'000'000;
  /// Elements of one tensor value (and of any array other than "nodes").
  std::size_t max_tensor_elements = 16'777'216;
  /// Elements of all tensor values of a document together (constants and
  /// tensor attributes): the memory the loaded graph's values take.
  std::size_t max_total_elements = 67'108'864;
  /// JSON values (numbers, strings, literals, arrays and objects) in one
  /// node, in the rest of the document outside "nodes", or in one value:
  /// what the reader holds at once, about 40 bytes each. The default fits a
  /// tensor value of max_tensor_elements elements twice over.
  std::size_t max_node_values = 33'554'432;
  /// Nesting of arrays and objects (a graph document needs 6 levels, a value
  /// of rank r needs r + 1).
  std::size_t max_depth = 64;
};

/// A graph read from JSON: a new graph, its inputs in argument order and its
/// outputs in order.
struct LoadedGraph {
  Graph graph;
  std::vector<Expr> inputs, outputs;
};

/// The document of the function inputs -> outputs. `inputs` are input nodes
/// in argument order (each once; also ones no output uses); every input node
/// the outputs reach must be among them.
std::string to_json(const std::vector<Expr>& inputs, const std::vector<Expr>& outputs);
/// Same, with the inputs the outputs reach, in the order they were declared.
std::string to_json(const std::vector<Expr>& outputs);

/// Reads a graph document into a new graph, checking syntax, format and
/// version, every field's presence and type, ops (registered, arity,
/// attributes against Op::attr_specs(), types by Op::infer() against the
/// document's dtype and shape), references (dangling, forward, cycles,
/// duplicates) and the limits. Error messages are one printable line: text
/// of the document quoted in them has its control characters and bytes that
/// are not UTF-8 escaped.
LoadedGraph from_json(std::string_view text, const LoadLimits& limits = {});

/// A tensor value as JSON: {"dtype": ..., "shape": [...], "data": D} where D
/// is the elements nested by axis (a bare number for a 0-d tensor).
std::string value_to_json(const Tensor& value);

/// Reads a JSON number, boolean, one of the strings "nan", "inf", "-inf", or
/// nested arrays of them into a tensor of `dtype` whose shape is the nesting
/// (arrays must be rectangular). `what` names the value in error messages.
Tensor value_from_json(std::string_view text, DType dtype, std::string_view what = "value",
                       const LoadLimits& limits = {});

/// The JSON token of a number: shortest round-trip decimal with a fraction
/// or exponent ("1.0", "-0.0", "1e+300"), or "\"nan\"", "\"inf\"", "\"-inf\"".
std::string json_number(double value);
std::string json_number(float value);

/// `text` as a JSON string literal (quotes and escapes added). Throws Error
/// if it is not valid UTF-8.
std::string json_string(std::string_view text);

}  // namespace symgraph
