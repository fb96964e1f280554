#include "symgraph/graph/parse.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <optional>

#include "symgraph/core/registry.hpp"
#include "symgraph/ops/ops.hpp"
#include "symgraph/ops/relu.hpp"

namespace symgraph {
namespace {

enum class Tok { number, name, lparen, rparen, comma, op, end };

struct Token {
  Tok kind = Tok::end;
  std::string_view text;
  double value = 0;
  std::size_t col = 0;
};

[[noreturn]] void fail(std::size_t col, const std::string& message) {
  throw Error("column " + std::to_string(col) + ": " + message);
}

std::string describe(const Token& t) {
  switch (t.kind) {
    case Tok::number: return "the number " + std::string(t.text);
    case Tok::name: return "the name '" + std::string(t.text) + "'";
    case Tok::end: return "the end of the expression";
    default: return "'" + std::string(t.text) + "'";
  }
}

bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  Token next() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
    Token t;
    t.col = pos_ + 1;
    if (pos_ == text_.size()) return t;
    const std::size_t start = pos_;
    const char c = text_[pos_];
    auto take = [&](Tok kind, std::size_t n) {
      t.kind = kind;
      t.text = text_.substr(start, n);
      pos_ += n;
      return t;
    };
    if (is_digit(c) || (c == '.' && pos_ + 1 < text_.size() && is_digit(text_[pos_ + 1]))) {
      std::size_t end = pos_;
      while (end < text_.size() && is_digit(text_[end])) ++end;
      if (end < text_.size() && text_[end] == '.') {
        ++end;
        while (end < text_.size() && is_digit(text_[end])) ++end;
      }
      if (end < text_.size() && (text_[end] == 'e' || text_[end] == 'E')) {
        std::size_t e = end + 1;
        if (e < text_.size() && (text_[e] == '+' || text_[e] == '-')) ++e;
        if (e < text_.size() && is_digit(text_[e])) {
          while (e < text_.size() && is_digit(text_[e])) ++e;
          end = e;
        } else {
          fail(e + 1, "expected the digits of an exponent after '" + std::string(text_.substr(start, e - start)) + "'");
        }
      }
      t = take(Tok::number, end - start);
      const auto r = std::from_chars(t.text.data(), t.text.data() + t.text.size(), t.value);
      if (r.ec != std::errc() || r.ptr != t.text.data() + t.text.size())
        fail(t.col, "the number " + std::string(t.text) + " is out of the range of float64");
      return t;
    }
    if (is_name_start(c)) {
      std::size_t end = pos_;
      while (end < text_.size() && (is_name_start(text_[end]) || is_digit(text_[end]))) ++end;
      return take(Tok::name, end - start);
    }
    switch (c) {
      case '(': return take(Tok::lparen, 1);
      case ')': return take(Tok::rparen, 1);
      case ',': return take(Tok::comma, 1);
      case '+':
      case '-':
      case '*':
      case '/': return take(Tok::op, 1);
      case '>':
      case '<': return take(Tok::op, pos_ + 1 < text_.size() && text_[pos_ + 1] == '=' ? 2 : 1);
      case '=':
        if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '=') return take(Tok::op, 2);
        fail(t.col, "'=' is not an operator (did you mean '=='?)");
      default: break;
    }
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02x", u);
      fail(t.col, std::string("unexpected byte ") + hex + " (expected a number, a name, an operator or a parenthesis)");
    }
    fail(t.col, std::string("unexpected character '") + c + "' (expected a number, a name, an operator or a parenthesis)");
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

/// An operand: an expression, or a number whose dtype is not decided yet.
struct Operand {
  std::optional<Expr> expr;
  double number = 0;
  std::size_t col = 0;
};

enum class Kind { infix, negate, paren, call };

struct Pending {
  Kind kind;
  std::string_view text;  // operator or function name
  std::size_t col;
  int precedence = 0;
  std::size_t base = 0;  // call: operand stack size when its '(' opened
};

int precedence(std::string_view op) {
  if (op == "*" || op == "/") return 3;
  if (op == "+" || op == "-") return 2;
  return 1;  // comparisons
}

struct Function {
  const char* name;
  int min_args, max_args;
};
constexpr Function kFunctions[] = {
    {"abs", 1, 1},     {"exp", 1, 1},     {"log", 1, 1},    {"maximum", 2, 2}, {"minimum", 2, 2},
    {"relu", 1, 2},    {"scale", 2, 2},   {"sign", 1, 1},   {"sqrt", 1, 1},    {"sum", 1, 1},
    {"switch", 3, 3},  {"tanh", 1, 1},    {"where", 3, 3},
};

const Function* find_function(std::string_view name) {
  for (const Function& f : kFunctions)
    if (name == f.name) return &f;
  return nullptr;
}

/// A registered op that an expression may call by its name with its
/// operands: any op without attributes but input and constant (matmul,
/// transpose, extension ops such as softplus once registered).
const Op* callable_op(std::string_view name) {
  const Op* op = OpRegistry::instance().find(name);
  if (!op || op->name() == "input" || op->name() == "constant" || !op->attr_specs().empty()) return nullptr;
  return op;
}

std::string function_names() {
  std::string s;
  for (const Function& f : kFunctions) s += (s.empty() ? "" : ", ") + std::string(f.name);
  return s;
}

class Parser {
 public:
  Parser(Graph& graph, std::string_view text, const ExpressionInputs& inputs, const ParseLimits& limits)
      : graph_(graph), lexer_(text), inputs_(inputs), limits_(limits), start_size_(graph.size()) {
    if (text.size() > limits.max_bytes)
      throw LimitError("column " + std::to_string(limits.max_bytes + 1) + ": the text is " +
                           count_str(text.size(), "byte") + ", more than " + std::to_string(limits.max_bytes),
                       "ParseLimits::max_bytes", limits.max_bytes);
  }

  std::vector<Expr> parse() {
    bool want_operand = true;
    Token t = lexer_.next();
    for (;;) {
      if (want_operand) {
        switch (t.kind) {
          case Tok::number:
            operands_.push_back({std::nullopt, t.value, t.col});
            want_operand = false;
            break;
          case Tok::name: {
            Token after = lexer_.next();
            if (after.kind == Tok::lparen) {
              if (!find_function(t.text) && !callable_op(t.text)) {
                if (const Op* op = OpRegistry::instance().find(t.text); op && !op->specs().empty()) {
                  std::string names;
                  for (const AttrSpec& a : op->specs()) names += (names.empty() ? "" : ", ") + a.name;
                  fail(t.col, "op '" + std::string(t.text) + "' needs attributes (" + names +
                                  "), which an expression cannot give; build it in C++ or load it from JSON");
                }
                fail(t.col, "unknown function '" + std::string(t.text) + "' (functions: " + function_names() +
                                "); other ops without attributes are called by their name, an extension op once "
                                "registered (symgraph --load, or RegisterOp)");
              }
              open(t.col);
              pending_.push_back({Kind::call, t.text, t.col, 0, operands_.size()});
              t = lexer_.next();
              continue;  // still wants an operand (or ')' for no arguments)
            }
            operands_.push_back({input(std::string(t.text)), 0, t.col});
            count_nodes(t.col);
            t = after;
            want_operand = false;
            continue;
          }
          case Tok::lparen:
            open(t.col);
            pending_.push_back({Kind::paren, t.text, t.col});
            break;
          case Tok::op:
            if (t.text != "-")
              fail(t.col, "expected an expression (a number, a name, '(' or '-'), got " + describe(t));
            open(t.col);
            pending_.push_back({Kind::negate, t.text, t.col, 4});
            break;
          case Tok::rparen:
            // f() has no arguments: let the arity check say so.
            if (!pending_.empty() && pending_.back().kind == Kind::call && operands_.size() == pending_.back().base) {
              finish_call();
              want_operand = false;
              break;
            }
            [[fallthrough]];
          default: fail(t.col, "expected an expression (a number, a name, '(' or '-'), got " + describe(t));
        }
        t = lexer_.next();
        continue;
      }
      switch (t.kind) {
        case Tok::op: {
          const int p = precedence(t.text);
          while (!pending_.empty() && (pending_.back().kind == Kind::infix || pending_.back().kind == Kind::negate) &&
                 pending_.back().precedence >= p)
            reduce();
          pending_.push_back({Kind::infix, t.text, t.col, p});
          want_operand = true;
          break;
        }
        case Tok::rparen:
          reduce_operators();
          if (pending_.empty()) fail(t.col, "')' without a matching '('");
          if (pending_.back().kind == Kind::paren) {
            pending_.pop_back();
            --depth_;
          } else {
            finish_call();
          }
          break;
        case Tok::comma:
          reduce_operators();
          if (pending_.empty()) {
            finish_output();
          } else if (pending_.back().kind == Kind::paren) {
            fail(t.col, "',' inside parentheses opened at column " + std::to_string(pending_.back().col) +
                            " (a comma separates the arguments of a call, or outputs)");
          }
          want_operand = true;
          break;
        case Tok::end:
          reduce_operators();
          if (!pending_.empty()) {
            const Pending& open = pending_.back();
            fail(open.col, open.kind == Kind::call
                               ? "the call of " + std::string(open.text) + " is never closed (expected ')')"
                               : std::string("'(' is never closed (expected ')')"));
          }
          finish_output();
          return std::move(outputs_);
        default:
          fail(t.col, "expected an operator, ',' or ')' after an operand, got " + describe(t));
      }
      t = lexer_.next();
    }
  }

 private:
  /// A parenthesis, call or unary minus opens at `col`.
  void open(std::size_t col) {
    if (++depth_ > limits_.max_depth)
      throw LimitError(
          "column " + std::to_string(col) + ": nested deeper than " + count_str(limits_.max_depth, "level"),
          "ParseLimits::max_depth", limits_.max_depth);
  }

  /// After building nodes for the text at `col`.
  void count_nodes(std::size_t col) {
    if (graph_.size() - start_size_ > limits_.max_nodes)
      throw LimitError("column " + std::to_string(col) + ": more than " + count_str(limits_.max_nodes, "node"),
                       "ParseLimits::max_nodes", limits_.max_nodes);
  }

  Expr input(const std::string& name) {
    auto it = inputs_.declared.find(name);
    const TensorType& type = it == inputs_.declared.end() ? inputs_.fallback : it->second;
    return graph_.input(name, type.dtype, type.shape);
  }

  /// A number as a constant of `like`'s dtype, or float64 when nothing
  /// decides the dtype.
  Expr materialize(const Operand& o, const Expr* like = nullptr) {
    if (o.expr) return *o.expr;
    return like ? constant_like(*like, o.number) : graph_.constant(o.number, DType::float64);
  }

  /// Runs `build` and reports its Error at `col`.
  template <class F> Expr at(std::size_t col, F&& build) {
    Expr e;
    try {
      e = build();
    } catch (const Error& error) {
      fail(col, error.what());
    }
    count_nodes(col);
    return e;
  }

  void reduce_operators() {
    while (!pending_.empty() && (pending_.back().kind == Kind::infix || pending_.back().kind == Kind::negate)) reduce();
  }

  void reduce() {
    const Pending op = pending_.back();
    pending_.pop_back();
    if (op.kind == Kind::negate) {
      --depth_;
      Operand& a = operands_.back();
      if (a.expr) {
        a.expr = at(op.col, [&] { return neg(*a.expr); });
      } else {
        a.number = -a.number;
      }
      a.col = op.col;
      return;
    }
    Operand b = std::move(operands_.back());
    operands_.pop_back();
    Operand& a = operands_.back();
    const std::string_view s = op.text;
    if (!a.expr && !b.expr && (s == "+" || s == "-" || s == "*" || s == "/")) {
      // Two numbers: folded in float64, as C++ folds 0.5 * 2.
      a.number = s == "+" ? a.number + b.number : s == "-" ? a.number - b.number
                 : s == "*" ? a.number * b.number : a.number / b.number;
      return;
    }
    const Expr* like = a.expr ? &*a.expr : b.expr ? &*b.expr : nullptr;
    const Expr x = materialize(a, like), y = materialize(b, like);
    a.expr = at(op.col, [&] {
      if (s == "+") return add(x, y);
      if (s == "-") return sub(x, y);
      if (s == "*") return mul(x, y);
      if (s == "/") return div(x, y);
      if (s == ">") return gt(x, y);
      if (s == ">=") return ge(x, y);
      if (s == "<") return lt(x, y);
      if (s == "<=") return le(x, y);
      return eq(x, y);
    });
  }

  void finish_call() {
    const Pending call = pending_.back();
    pending_.pop_back();
    --depth_;
    std::vector<Operand> args(std::make_move_iterator(operands_.begin() + static_cast<std::ptrdiff_t>(call.base)),
                              std::make_move_iterator(operands_.end()));
    operands_.resize(call.base);
    const int n = static_cast<int>(args.size());
    const Function* known = find_function(call.text);
    if (!known) return finish_op_call(call, args);
    const Function& f = *known;
    if (n < f.min_args || n > f.max_args) {
      const std::string want = f.min_args == f.max_args ? std::to_string(f.min_args)
                                                        : std::to_string(f.min_args) + " or " + std::to_string(f.max_args);
      fail(call.col, std::string(f.name) + " takes " + want + " argument" + (f.max_args == 1 ? "" : "s") + ", got " +
                         std::to_string(n));
    }
    const std::string_view name = call.text;
    if (name == "scale" && args[1].expr)
      fail(args[1].col, "the factor of scale(x, c) must be a number, got an expression");
    Expr result = at(call.col, [&]() -> Expr {
      if (name == "maximum" || name == "minimum") {
        const Expr* like = args[0].expr ? &*args[0].expr : args[1].expr ? &*args[1].expr : nullptr;
        const Expr a = materialize(args[0], like), b = materialize(args[1], like);
        return name == "maximum" ? maximum(a, b) : minimum(a, b);
      }
      if (name == "switch" || name == "where") {
        const Expr* like = args[1].expr ? &*args[1].expr : args[2].expr ? &*args[2].expr : nullptr;
        return where(materialize(args[0]), materialize(args[1], like), materialize(args[2], like));
      }
      if (name == "scale") return scale(materialize(args[0]), args[1].number);
      if (name == "relu") {
        const Expr x = materialize(args[0]);
        if (n == 1) return relu(x);
        return args[1].expr ? relu(x, *args[1].expr) : relu(x, args[1].number);
      }
      const Expr x = materialize(args[0]);
      if (name == "abs") return abs(x);
      if (name == "sign") return sign(x);
      if (name == "exp") return exp(x);
      if (name == "log") return log(x);
      if (name == "sqrt") return sqrt(x);
      if (name == "tanh") return tanh(x);
      return sum(x);
    });
    operands_.push_back({result, 0, call.col});
  }

  /// op(a, b, ...) for a registered op without attributes: numbers take the
  /// dtype of the first expression operand, as with the built-in calls.
  void finish_op_call(const Pending& call, const std::vector<Operand>& args) {
    const Op& op = *callable_op(call.text);
    const int n = static_cast<int>(args.size());
    if (n < op.min_inputs() || (op.max_inputs() >= 0 && n > op.max_inputs())) {
      const std::string want = op.max_inputs() < 0 ? "at least " + std::to_string(op.min_inputs())
                               : op.min_inputs() == op.max_inputs()
                                   ? std::to_string(op.min_inputs())
                                   : std::to_string(op.min_inputs()) + " to " + std::to_string(op.max_inputs());
      fail(call.col, op.name() + " takes " + want + " argument" + (want == "1" ? "" : "s") + ", got " +
                         std::to_string(n));
    }
    const Expr* like = nullptr;
    for (const Operand& a : args)
      if (!like && a.expr) like = &*a.expr;
    std::vector<Expr> operands;
    for (const Operand& a : args) operands.push_back(materialize(a, like));
    operands_.push_back({at(call.col, [&] { return symgraph::apply(op, operands); }), 0, call.col});
  }

  void finish_output() {
    outputs_.push_back(materialize(operands_.back()));
    count_nodes(operands_.back().col);
    operands_.clear();
  }

  Graph& graph_;
  Lexer lexer_;
  const ExpressionInputs& inputs_;
  const ParseLimits& limits_;
  const std::size_t start_size_;
  std::size_t depth_ = 0;  // parentheses, calls and negations in pending_
  std::vector<Operand> operands_;
  std::vector<Pending> pending_;
  std::vector<Expr> outputs_;
};

}  // namespace

std::vector<Expr> parse_expressions(Graph& graph, std::string_view text, const ExpressionInputs& inputs,
                                    const ParseLimits& limits) {
  return Parser(graph, text, inputs, limits).parse();
}

}  // namespace symgraph
