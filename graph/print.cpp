#include "symgraph/graph/print.hpp"

#include "symgraph/graph/order.hpp"

namespace symgraph {

namespace {

/// A small constant by its elements, nested by axis: [1], [[1, 2], [3, 4]].
std::string small_value(const Tensor& t) {
  std::string out;
  std::vector<std::int64_t> index(t.rank(), 0);
  out.append(t.rank(), '[');
  for (std::int64_t i = 0; i < t.size(); ++i) {
    out += attr_str(Tensor::scalar(t.at(i), t.dtype()));
    std::size_t wrapped = 0;
    for (std::size_t d = t.rank(); d-- > 0;) {
      if (++index[d] < t.shape()[d]) break;
      index[d] = 0;
      ++wrapped;
    }
    out.append(wrapped, ']');
    if (i + 1 < t.size()) out += ", " + std::string(wrapped, '[');
  }
  return out;
}

/// `s` with control characters (C0, DEL, C1) written as escapes (\n, \t,
/// \u001b), so that a name or attribute from a document cannot break a line
/// of the output or reach a terminal as a control sequence.
bool c1_at(const std::string& s, std::size_t i) {
  return static_cast<unsigned char>(s[i]) == 0xc2 && i + 1 < s.size() &&
         (static_cast<unsigned char>(s[i + 1]) & 0xe0) == 0x80;  // U+0080..U+009F
}

std::string escaped(std::string s) {
  bool plain = true;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    plain &= c >= 0x20 && c != 0x7f && !c1_at(s, i);
  }
  if (plain) return s;
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    const bool c1 = c1_at(s, i);
    if (c1) c = static_cast<unsigned char>(s[++i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c == 0x7f || c1) {
      out += "\\u00";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace

std::string node_label(const Node& n) {
  if (n.op->name() == "input") return escaped(n.name);
  if (n.op->name() == "constant") {
    const Tensor& v = std::get<Tensor>(*n.attrs.find("value"));
    if (v.rank() > 0 && v.size() > 0 && v.size() <= 8) return small_value(v);
  }
  // The node alone: format() is only ever called with one string per operand.
  return escaped(n.op->label(n.attrs));
}

std::string expr_str(const Expr& e, std::size_t max_depth) {
  const GraphStore& store = *e.graph();
  // Post-order over (node, depth) with an explicit stack; each finished
  // frame hands its text to its parent's argument list.
  struct Frame {
    NodeId id;
    std::size_t depth;
    std::vector<std::string> args;
  };
  std::vector<Frame> stack;
  stack.push_back({e.id(), 0, {}});
  std::string result;
  while (!stack.empty()) {
    Frame& f = stack.back();
    const Node& n = store.node(f.id);
    std::string text;
    if (n.inputs.empty()) {
      text = node_label(n);
    } else if (f.depth >= max_depth) {
      text = node_label(n) + "[id " + std::to_string(f.id) + "]...";
    } else if (f.args.size() < n.inputs.size()) {
      const NodeId next = n.inputs[f.args.size()];
      const std::size_t depth = f.depth + 1;
      stack.push_back({next, depth, {}});
      continue;
    } else {
      text = escaped(n.op->format(f.args, n.attrs));  // f.args: one string per operand
    }
    stack.pop_back();
    if (stack.empty()) {
      result = std::move(text);
    } else {
      stack.back().args.push_back(std::move(text));
    }
  }
  return result;
}

std::string debugprint(const std::vector<Expr>& outputs, const PrintOptions& options) {
  const NodeOrder order = order_nodes("debugprint", outputs);
  if (order.size() == 0) return "";
  const GraphStore& store = order.store();
  const std::size_t max_indent = options.max_indent ? options.max_indent : 1;

  enum State : char { kNew, kExpanded, kDeferred };
  std::vector<State> state(order.size(), kNew);
  std::vector<NodeId> deferred;  // roots of blocks still to print

  struct Frame {
    NodeId id;
    std::string line_prefix, child_prefix;
    std::size_t depth;
  };
  std::string out;
  std::vector<Frame> stack;
  auto print_tree = [&](NodeId root) {
    stack.push_back({root, "", "", 0});
    while (!stack.empty()) {
      Frame f = std::move(stack.back());
      stack.pop_back();
      const Node& n = store.node(f.id);
      const std::uint32_t k = order.number(f.id);
      out += f.line_prefix + node_label(n) + " [id " + std::to_string(k) + "] " + type_str(n.type);
      if (n.inputs.empty()) {
        out += '\n';
        continue;
      }
      if (state[k] == kExpanded) {
        out += " (see above)\n";
        continue;
      }
      if (state[k] == kDeferred) {
        out += " (see below)\n";
        continue;
      }
      if (f.depth >= max_indent) {
        out += " (continued below)\n";
        state[k] = kDeferred;
        deferred.push_back(f.id);
        continue;
      }
      out += '\n';
      state[k] = kExpanded;
      // Pushed last-first so that operands print in order.
      for (std::size_t i = n.inputs.size(); i-- > 0;) {
        const bool last = i + 1 == n.inputs.size();
        stack.push_back({n.inputs[i], f.child_prefix + " |", f.child_prefix + (last ? "  " : " |"), f.depth + 1});
      }
    }
  };
  for (NodeId id : order.outputs()) print_tree(id);
  for (std::size_t i = 0; i < deferred.size(); ++i) {
    state[order.number(deferred[i])] = kNew;
    print_tree(deferred[i]);
  }
  return out;
}

}  // namespace symgraph
