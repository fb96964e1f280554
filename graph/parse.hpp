#pragma once
/// The expression language of the symgraph command (-e), usable from C++:
///
///   switch(x > 0, x, 0.1 * x), relu(y, 0.2) + 1
///
/// - names are graph inputs; numbers are constants that take the dtype of the
///   other operand, as the C++ operators do (0.1 * x is float32 when x is);
///   arithmetic between two numbers is folded in float64
/// - binary + - * / and comparisons > >= < <= ==, unary minus; usual
///   precedence (unary minus, then * /, then + -, then comparisons), left
///   associative; parentheses
/// - calls: abs sign exp log sqrt tanh (one operand), maximum minimum (two),
///   switch(cond, a, b) (alias where), scale(x, c) with a number c, sum(x)
///   (over all axes), relu(x), relu(x, alpha) with a number or an expression;
///   any other registered op without attributes by its name, with its
///   operands: matmul(a, b), transpose(a), or an extension op such as
///   softplus(x) once it is registered (docs/adding-an-op.md)
/// - several outputs separated by commas at the top level
///
/// The parser is iterative (an operator stack, no recursion), so a chain of
/// 1,000,000 terms or parentheses nested 1,000,000 deep parses. Errors are
/// Error("column N: what was expected, what was found"), columns counted
/// from 1 in bytes; type errors of the ops built are reported at the column
/// of their operator or call. ParseLimits caps what untrusted text may ask
/// for; exceeding a cap throws LimitError (graph/limits.hpp), with a column
/// too.
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "symgraph/core/graph.hpp"
#include "symgraph/graph/limits.hpp"

namespace symgraph {

/// Types of the inputs an expression names.
struct ExpressionInputs {
  /// Inputs with a declared type.
  std::map<std::string, TensorType> declared;
  /// The type of any other name: by default a float64 vector of any length.
  TensorType fallback{DType::float64, {kSymbolic}};
};

/// Caps on what an expression may ask for (LoadLimits of graph/json.hpp is
/// the same for documents). Exceeding one throws LimitError naming it:
///
///   column 9: more than 4 nodes (ParseLimits::max_nodes is 4; raise it to accept larger input)
///
/// The defaults accept everything the parser is documented to handle.
struct ParseLimits {
  /// Length of the text, in bytes.
  std::size_t max_bytes = 67'108'864;
  /// Nodes the expressions add to the graph (nodes the graph already has,
  /// and subexpressions shared by hash-consing, count once or not at all).
  std::size_t max_nodes = 10'000'000;
  /// Parentheses, calls and unary minus signs open at one point: the
  /// nesting of the text.
  std::size_t max_depth = 1'000'000;
};

/// Parses `text` and builds its outputs in `graph` (inputs are created, or
/// reused when `graph` already has them).
std::vector<Expr> parse_expressions(Graph& graph, std::string_view text, const ExpressionInputs& inputs = {},
                                    const ParseLimits& limits = {});

}  // namespace symgraph
