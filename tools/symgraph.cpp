// The symgraph command: reads a graph (a JSON document, or expressions given
// with -e), and prints it, optimizes it, differentiates it or evaluates it.
// See docs/cli.md for the contract scripts rely on: results on standard
// output, exit status 0; on bad input, exit status 1 and exactly one line
// "error: ..." on standard error. The command is cli_main() (tools/cli.hpp),
// so a user's own program can be the command with its extension ops linked in.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <new>
#include <optional>
#include <sstream>
#include <string>
#include <symgraph/graph/dot.hpp>
#include <symgraph/graph/json.hpp>
#include <symgraph/graph/parse.hpp>
#include <symgraph/symgraph.hpp>
#include <vector>

#include "symgraph/tools/cli.hpp"

namespace {

using namespace symgraph;

/// The command's caps on what `eval` computes (the library's EvalLimits
/// cap nothing by default): enough for 10,000,000-element values through a
/// chain of 20 ops, not for a matmul of 400,000,000 elements or of two
/// 4000 x 4000 inputs.
EvalLimits default_eval_limits() {
  EvalLimits l;
  l.max_value_elements = std::size_t{1} << 25;  // 33,554,432
  l.max_total_elements = std::size_t{1} << 28;  // 268,435,456
  l.max_work = std::size_t{1} << 32;            // 4,294,967,296
  return l;
}

/// Where the graph comes from, how -e inputs are declared, the extensions
/// to load first, and the caps on what the input may ask for and what
/// evaluating it may compute.
struct Source {
  std::string file;
  std::vector<std::string> exprs;
  std::vector<std::string> vars;
  std::vector<std::string> loads;
  LoadLimits load_limits;
  ParseLimits parse_limits;
  EvalLimits eval_limits = default_eval_limits();
};

/// A LimitError in the command's terms: the option that raises the cap
/// (LoadLimits::max_nodes is --max-nodes, EvalLimits::max_total_elements
/// --max-eval-elements).
Error limit_error(const std::string& prefix, const LimitError& e) {
  std::string option = "--" + e.limit().substr(e.limit().find("::") + 2);
  for (char& c : option)
    if (c == '_') c = '-';
  // --max-total-elements is LoadLimits'.
  if (e.limit() == "EvalLimits::max_total_elements") option = "--max-eval-elements";
  if (e.limit() == "EvalLimits::max_work") option = "--max-eval-work";
  return Error(prefix + e.problem() + " (" + option + " is " + std::to_string(e.value()) +
               "; raise it to accept larger input)");
}

/// The value of a --max-* option: a whole number from `least` to SIZE_MAX
/// (a negative number, one too large, or 0 where it would refuse every
/// graph is an error, never "no cap").
std::size_t parse_cap(const std::string& option, const std::string& text, std::size_t least) {
  const std::string range = std::to_string(least) + " to " + std::to_string(SIZE_MAX);
  std::size_t value = 0;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), value);
  const bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
  if (digits && r.ec == std::errc::result_out_of_range)
    throw Error(option + " " + text + ": too large (at most " + std::to_string(SIZE_MAX) + ")");
  if (!digits || r.ec != std::errc() || r.ptr != text.data() + text.size())
    throw Error(option + " '" + text + "': expected a whole number from " + range);
  if (value < least)
    throw Error(option + " " + text + ": must be at least " + std::to_string(least));
  return value;
}

/// A function: the graph's inputs (arguments, in order) and outputs.
struct Program {
  Graph graph;
  std::vector<Expr> inputs, outputs;
};

/// The file's text, or standard input's for "-"; no more than `max_bytes`
/// are read.
std::string read_file(const std::string& file, std::size_t max_bytes) {
  std::ifstream opened;
  if (file != "-") {
    opened.open(file, std::ios::binary);
    if (!opened) throw Error("cannot open '" + file + "' for reading");
  }
  std::istream& in = file == "-" ? std::cin : opened;
  const std::string name = file == "-" ? std::string("standard input") : "'" + file + "'";
  std::string text;
  char buf[65536];
  while (in && text.size() <= max_bytes) {
    in.read(buf, sizeof buf);
    text.append(buf, static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) throw Error("cannot read " + name);
  if (text.size() > max_bytes)
    throw LimitError("the document is longer than " + count_str(max_bytes, "byte"), "LoadLimits::max_bytes", max_bytes);
  return text;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream in(s);
  while (std::getline(in, part, sep)) parts.push_back(part);
  if (!s.empty() && s.back() == sep) parts.emplace_back();
  return parts;
}

/// NAME:DTYPE or NAME:DTYPE[d0,d1,...] with d a size or ? (symbolic).
/// `has_shape` tells whether dimensions were given.
std::pair<std::string, TensorType> parse_var(const std::string& spec, bool& has_shape) {
  const std::string where = "--var '" + spec + "'";
  const auto colon = spec.find(':');
  if (colon == std::string::npos || colon == 0)
    throw Error(where + ": expected NAME:DTYPE or NAME:DTYPE[d0,d1,...], e.g. x:float32[3,?]");
  const std::string name = spec.substr(0, colon);
  std::string rest = spec.substr(colon + 1);
  TensorType type;
  has_shape = false;
  if (const auto open = rest.find('['); open != std::string::npos) {
    if (rest.back() != ']') throw Error(where + ": the shape must end with ']'");
    const std::string dims = rest.substr(open + 1, rest.size() - open - 2);
    rest = rest.substr(0, open);
    has_shape = true;
    if (!dims.empty()) {
      for (const std::string& d : split(dims, ',')) {
        const auto b = d.find_first_not_of(' '), e = d.find_last_not_of(' ');
        const std::string dim = b == std::string::npos ? "" : d.substr(b, e - b + 1);
        if (dim == "?") {
          type.shape.push_back(kSymbolic);
          continue;
        }
        std::int64_t size = -1;
        const auto r = std::from_chars(dim.data(), dim.data() + dim.size(), size);
        if (r.ec == std::errc::result_out_of_range && r.ptr == dim.data() + dim.size() && dim[0] != '-')
          throw Error(where + ": dimension " + dim + " is out of range (at most 9223372036854775807)");
        if (dim.empty() || r.ec != std::errc() || r.ptr != dim.data() + dim.size() || size < 0)
          throw Error(where + ": dimension '" + dim + "' is neither a size nor ?");
        type.shape.push_back(size);
      }
    }
  }
  try {
    type.dtype = parse_dtype(rest);
  } catch (const Error& e) {
    throw Error(where + ": " + e.what());
  }
  return {name, type};
}

/// Input values of `eval`, by name, as the strings given.
using RawValues = std::vector<std::pair<std::string, std::string>>;

/// The --input NAME=VALUE options of `eval`: as given, split into names and
/// values once the graph's input names are known, and read.
struct InputValues {
  std::vector<std::string> specs;
  RawValues raw;
  std::map<std::string, Tensor> parsed;
};

/// Splits each NAME=VALUE. A value never holds '=', but a name may (a JSON
/// document's input "a=b"): the name is the longest part before an '=' that
/// names one of `inputs`; when none does, the part before the first '='.
RawValues split_inputs(const std::vector<std::string>& specs, const std::vector<std::string>& inputs) {
  RawValues raw;
  for (const std::string& spec : specs) {
    std::size_t eq = spec.find('=');
    for (std::size_t k = spec.rfind('='); k != std::string::npos && k > eq; k = spec.rfind('=', k - 1)) {
      if (std::find(inputs.begin(), inputs.end(), spec.substr(0, k)) != inputs.end()) {
        eq = k;
        break;
      }
    }
    const std::string name = spec.substr(0, eq);
    for (const auto& [other, v] : raw)
      if (other == name) throw Error("--input " + name + ": given twice");
    raw.emplace_back(name, spec.substr(eq + 1));
  }
  return raw;
}

/// A --input value: JSON, or a bare nan, inf, -inf.
Tensor read_value(const std::string& name, const std::string& text, DType dtype, const LoadLimits& limits) {
  std::string json = text;
  if (text == "nan" || text == "inf" || text == "-inf") json = "\"" + text + "\"";
  try {
    return value_from_json(json, dtype, "--input " + name, limits);
  } catch (const LimitError& e) {
    throw limit_error("", e);
  }
}

/// Reads the graph. For `eval` (values given), an -e input without declared
/// dimensions gets the rank of its value, every dimension symbolic.
Program load(const Source& src, InputValues* values) {
  if (!src.file.empty() && !src.exprs.empty())
    throw Error("give either a JSON file (or - for standard input) or -e expressions, not both");
  if (src.file.empty() && src.exprs.empty())
    throw Error("no graph given: pass a JSON file, - for standard input, or -e EXPRESSION");
  Program p;
  if (!src.file.empty()) {
    if (!src.vars.empty()) throw Error("--var declares the inputs of -e expressions; a JSON graph declares its own");
    const std::string where = (src.file == "-" ? std::string("<stdin>") : src.file) + ": ";
    std::string text;
    try {
      text = read_file(src.file, src.load_limits.max_bytes);
    } catch (const LimitError& e) {
      throw limit_error(where, e);
    }
    LoadedGraph g;
    try {
      g = from_json(text, src.load_limits);
    } catch (const LimitError& e) {
      throw limit_error(where, e);
    } catch (const Error& e) {
      throw Error(where + e.what());
    }
    p.graph = g.graph;
    p.inputs = g.inputs;
    p.outputs = g.outputs;
    if (values) {
      std::vector<std::string> names;
      for (const Expr& e : p.inputs) names.push_back(e.name());
      values->raw = split_inputs(values->specs, names);
      for (const auto& [name, text_value] : values->raw) {
        const Expr* input = nullptr;
        for (const Expr& e : p.inputs)
          if (e.name() == name) input = &e;
        if (input) values->parsed[name] = read_value(name, text_value, input->dtype(), src.load_limits);
      }
    }
    return p;
  }

  ExpressionInputs decl;
  std::map<std::string, bool> shaped;
  for (const std::string& spec : src.vars) {
    bool has_shape = false;
    auto [name, type] = parse_var(spec, has_shape);
    if (decl.declared.count(name)) throw Error("--var '" + spec + "': input '" + name + "' is declared twice");
    // Without dimensions: a vector of any length, like an undeclared input
    // (eval replaces it with the rank of the value given).
    if (!has_shape) type.shape = {kSymbolic};
    decl.declared[name] = type;
    shaped[name] = has_shape;
  }
  if (values) {
    std::vector<std::string> names;
    for (const auto& [name, type] : decl.declared) names.push_back(name);
    values->raw = split_inputs(values->specs, names);
    for (const auto& [name, text_value] : values->raw) {
      auto it = decl.declared.find(name);
      const DType dtype = it == decl.declared.end() ? DType::float64 : it->second.dtype;
      Tensor v = read_value(name, text_value, dtype, src.load_limits);
      if (!shaped[name]) decl.declared[name] = TensorType{dtype, Shape(v.rank(), kSymbolic)};
      values->parsed[name] = v;
    }
  }
  for (std::size_t i = 0; i < src.exprs.size(); ++i) {
    std::vector<Expr> outs;
    const std::string where = src.exprs.size() > 1 ? "-e #" + std::to_string(i + 1) + ": " : std::string();
    try {
      outs = parse_expressions(p.graph, src.exprs[i], decl, src.parse_limits);
    } catch (const LimitError& e) {
      throw limit_error(where, e);
    } catch (const Error& e) {
      throw Error(where + e.what());
    }
    p.outputs.insert(p.outputs.end(), outs.begin(), outs.end());
  }
  // Every input node was created by the expressions, in order of appearance.
  for (NodeId id = 0; id < p.graph.size(); ++id)
    if (p.graph.store()->node(id).op->name() == "input") p.inputs.push_back(p.graph.node(id));
  return p;
}

void print_graph(const std::vector<Expr>& inputs, const std::vector<Expr>& outputs, const std::string& format) {
  if (format == "text") {
    std::cout << debugprint(outputs);
  } else if (format == "dot") {
    std::cout << to_dot(outputs);
  } else {
    std::cout << to_json(inputs, outputs);
  }
}

const Expr& input_named(const Program& p, const std::string& name, const std::string& option) {
  for (const Expr& e : p.inputs)
    if (e.name() == name) return e;
  std::string names;
  for (const Expr& e : p.inputs) names += (names.empty() ? "" : ", ") + e.name();
  throw Error(option + " " + name + ": the graph has no input named '" + name + "' (its inputs: " +
              (names.empty() ? std::string("none") : names) + ")");
}

/// What to run after reading a graph: the optimizer pipeline and whether to
/// trace it.
struct Passes {
  std::optional<std::string> names;  // --passes as given
  bool strict = false;
  bool trace = false;
};

/// --passes a,b,c (each a pass, or a+b for passes run together to a fixed
/// point), none, or the default pipeline; --strict keeps exact rules only.
Pipeline pipeline_of(const Passes& passes) {
  if (!passes.names) return passes.strict ? Pipeline::strict() : Pipeline::standard();
  const std::string& given = *passes.names;
  if (given.find_first_not_of(' ') == std::string::npos)
    throw Error("--passes '" + given +
                "': no pass named (--passes none runs no passes; leave --passes out for the "
                "standard pipeline)");
  if (given == "none") return Pipeline::none();
  std::vector<std::string> names;
  for (const std::string& part : split(given, ',')) {
    const auto b = part.find_first_not_of(' '), e = part.find_last_not_of(' ');
    if (b == std::string::npos) throw Error("--passes '" + given + "': an empty pass name");
    names.push_back(part.substr(b, e - b + 1));
  }
  try {
    const Pipeline p = Pipeline::from_names(names);
    return passes.strict ? p.exact_only() : p;
  } catch (const Error& e) {
    throw Error("--passes '" + given + "': " + e.what());
  }
}

/// Optimizes `outputs`; with --trace, each rewrite that fired goes to
/// standard error, one line each.
std::vector<Expr> run_passes(const std::vector<Expr>& outputs, const Passes& passes) {
  const Pipeline pipeline = pipeline_of(passes);
  if (outputs.empty()) return outputs;
  RewriteTrace trace;
  std::vector<Expr> out = optimize(outputs, pipeline, passes.trace ? &trace : nullptr);
  for (const RewriteEvent& e : trace)
    std::cerr << "rewrite " << e.pass << " " << e.rule << ": " << expr_str(e.before, 3) << " -> "
              << expr_str(e.after, 3) << '\n';
  return out;
}

/// The input nodes named in a comma-separated list, each once. A name may
/// hold ',' itself (a JSON document's input "a,b"): each name is the longest
/// part up to a ',' (or the end) that names an input; when none does, the
/// part up to the next ','.
std::vector<Expr> inputs_named(const Program& p, const std::string& list, const std::string& option) {
  std::vector<std::string> names;
  for (std::size_t pos = 0; !list.empty();) {
    std::size_t end = std::min(list.find(',', pos), list.size());
    for (std::size_t k = list.size(); k > end; k = list.rfind(',', k - 1)) {
      const std::string candidate = list.substr(pos, k - pos);
      if (std::any_of(p.inputs.begin(), p.inputs.end(), [&](const Expr& e) { return e.name() == candidate; })) {
        end = k;
        break;
      }
    }
    names.push_back(list.substr(pos, end - pos));
    if (end == list.size()) break;
    pos = end + 1;
  }
  std::vector<Expr> out;
  for (const std::string& name : names) {
    const Expr& e = input_named(p, name, option);
    for (const Expr& seen : out)
      if (seen.is(e)) throw Error(option + " " + list + ": '" + name + "' is listed twice");
    out.push_back(e);
  }
  if (out.empty()) throw Error(option + ": name at least one input");
  return out;
}

/// Gradients of sum(first output) with respect to `wrt`.
std::vector<Expr> gradients(const Program& p, const std::vector<Expr>& wrt, const std::string& option) {
  if (p.outputs.empty()) throw Error(option + ": the graph has no output to differentiate");
  const Expr& y = p.outputs[0];
  if (!is_float(y.dtype()))
    throw Error(option + ": the first output is " + type_str(y.type()) + "; only a float output has a gradient");
  return grad(sum(y), wrt);
}

int run_print(const Source& src, const std::string& format) {
  const Program p = load(src, nullptr);
  print_graph(p.inputs, p.outputs, format);
  return 0;
}

int run_opt(const Source& src, const std::string& format, const Passes& passes) {
  const Program p = load(src, nullptr);
  print_graph(p.inputs, run_passes(p.outputs, passes), format);
  return 0;
}

int run_grad(const Source& src, const std::string& format, const Passes& passes, const std::string& wrt_list) {
  const Program p = load(src, nullptr);
  const std::vector<Expr> wrt = inputs_named(p, wrt_list, "--wrt");
  // Differentiate first, then optimize.
  print_graph(p.inputs, run_passes(gradients(p, wrt, "--wrt"), passes), format);
  return 0;
}

int run_eval(const Source& src, const std::vector<std::string>& input_specs, const Passes& passes,
             const std::string& grad_list) {
  for (const std::string& spec : input_specs) {
    const auto eq = spec.find('=');
    if (eq == std::string::npos || eq == 0)
      throw Error("--input '" + spec + "': expected NAME=VALUE, e.g. x=[1.0, -2.0, \"nan\"]");
  }
  InputValues values{input_specs, {}, {}};
  const Program p = load(src, &values);
  for (const auto& [name, v] : values.raw) input_named(p, name, "--input");
  std::vector<Tensor> args;
  for (const Expr& in : p.inputs) {
    auto it = values.parsed.find(in.name());
    if (it == values.parsed.end())
      throw Error("no value for input '" + in.name() + "' (pass --input " + in.name() + "=VALUE)");
    args.push_back(it->second);
  }
  if (p.outputs.empty()) throw Error("the graph has no outputs to evaluate");

  // Differentiate first, then optimize outputs and gradients together.
  std::vector<Expr> wrt, all = p.outputs;
  if (!grad_list.empty()) {
    wrt = inputs_named(p, grad_list, "--grad");
    const std::vector<Expr> grads = gradients(p, wrt, "--grad");
    all.insert(all.end(), grads.begin(), grads.end());
  }
  // The pipeline runs here (so that --passes, --strict and --trace apply);
  // compile() must not optimize again.
  CompileOptions options;
  options.pipeline = Pipeline::none();
  options.limits = src.eval_limits;
  const Function f = compile(p.inputs, run_passes(all, passes), options);
  std::vector<Tensor> results;
  try {
    results = f(args);
  } catch (const LimitError& e) {
    throw limit_error("", e);
  }
  std::string out = "{\"outputs\": [";
  for (std::size_t i = 0; i < p.outputs.size(); ++i) out += (i ? ", " : "") + value_to_json(results[i]);
  out += "], \"grads\": {";
  for (std::size_t i = 0; i < wrt.size(); ++i)
    out += (i ? ", " : "") + json_string(wrt[i].name()) + ": " + value_to_json(results[p.outputs.size() + i]);
  out += "}}\n";
  std::cout << out;
  return 0;
}

/// One line: the contract promises exactly one line on standard error.
std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

int fail(const std::string& message) {
  std::cout.flush();
  std::cerr << "error: " << one_line(message) << '\n';
  return 1;
}

}  // namespace

int symgraph::cli_main(int argc, char** argv) {
  CLI::App app{"symgraph: read, print, optimize, differentiate and evaluate symbolic tensor graphs.\n"
               "A graph is a JSON document (a file, or - for standard input) or expressions given with -e."};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "help for every command");

  Source src;
  std::string format = "json";
  std::vector<std::string> input_specs;

  auto add_source = [&](CLI::App* cmd, bool evaluates) {
    cmd->add_option("file", src.file, "JSON graph document, or - for standard input");
    cmd->add_option("-e,--expr", src.exprs,
                    "expression such as 'switch(x > 0, x, 0.1 * x)'; commas or repeated -e give several outputs")
        ->allow_extra_args(false);
    cmd->add_option("--var", src.vars,
                    "declare an -e input: NAME:DTYPE or NAME:DTYPE[d0,d1,...] (float32, float64, bool; a size or ?)")
        ->allow_extra_args(false);
    cmd->add_option("--load", src.loads,
                    "shared object of extension ops and passes to load first (docs/adding-an-op.md); repeatable")
        ->allow_extra_args(false);
    // Caps for untrusted input (docs/cli.md): each sets the LoadLimits and
    // ParseLimits member of its name; the defaults are the library's.
    CLI::App* limits = cmd->add_option_group("Limits", "caps on what the input may ask for (defaults: the library's)");
    // Each value is a whole number; 0 only where it refuses less than everything.
    auto cap = [&](const std::string& option, const std::string& help, auto set, std::size_t least = 1) {
      limits->add_option_function<std::string>(
                option, [option, set, least](const std::string& text) { set(parse_cap(option, text, least)); }, help)
          ->type_name("N");
    };
    cap("--max-bytes", "bytes of a JSON document (1073741824) or of an -e expression (67108864)", [&](std::size_t v) {
      src.load_limits.max_bytes = v;
      src.parse_limits.max_bytes = v;
    });
    cap("--max-nodes", "nodes of a JSON document, or nodes an -e expression adds (10000000)", [&](std::size_t v) {
      src.load_limits.max_nodes = v;
      src.parse_limits.max_nodes = v;
    });
    cap("--max-depth", "nesting of a JSON document (64) or of an -e expression (1000000)", [&](std::size_t v) {
      src.load_limits.max_depth = v;
      src.parse_limits.max_depth = v;
    });
    cap("--max-tensor-elements", "elements of one tensor value or JSON array (16777216)",
        [&](std::size_t v) { src.load_limits.max_tensor_elements = v; });
    cap(
        "--max-total-elements", "elements of a JSON document's tensor values together (67108864; 0: no tensor values)",
        [&](std::size_t v) { src.load_limits.max_total_elements = v; }, 0);
    cap("--max-node-values", "JSON values in one node of a document, or in one --input value (33554432)",
        [&](std::size_t v) { src.load_limits.max_node_values = v; });
    if (!evaluates) return;
    CLI::App* eval_limits = cmd->add_option_group("Evaluation limits", "caps on what evaluating the graph computes");
    auto eval_cap = [&](const std::string& option, const std::string& help, auto set) {
      eval_limits
          ->add_option_function<std::string>(
              option, [option, set](const std::string& text) { set(parse_cap(option, text, 1)); }, help)
          ->type_name("N");
    };
    eval_cap("--max-value-elements", "elements of any one value computed (33554432)",
             [&](std::size_t v) { src.eval_limits.max_value_elements = v; });
    eval_cap("--max-eval-elements", "elements of all values computed, together (268435456)",
             [&](std::size_t v) { src.eval_limits.max_total_elements = v; });
    eval_cap("--max-eval-work", "operations: elements each op reads and writes, plus matmul multiply-adds (4294967296)",
             [&](std::size_t v) { src.eval_limits.max_work = v; });
  };
  auto add_format = [&](CLI::App* cmd) {
    cmd->add_option("--format", format, "output form of the graph: json (default), text or dot")
        ->check(CLI::IsMember({"json", "text", "dot"}));
  };

  Passes passes;
  std::string wrt, grads;
  auto add_passes = [&](CLI::App* cmd) {
    cmd->add_option_function<std::string>(
        "--passes", [&](const std::string& names) { passes.names = names; },
        "optimizer passes to run, comma-separated (a+b: run together to a fixed point), or none; "
        "default: the standard pipeline");
    cmd->add_flag("--strict", passes.strict, "exact rewrite rules only (identical bits on every input)");
    cmd->add_flag("--trace", passes.trace, "print each rewrite that fired on standard error");
  };

  CLI::App* print = app.add_subcommand("print", "read a graph and print it");
  add_source(print, false);
  add_format(print);

  CLI::App* opt = app.add_subcommand("opt", "optimize a graph and print the result");
  add_source(opt, false);
  add_format(opt);
  add_passes(opt);

  CLI::App* gradcmd =
      app.add_subcommand("grad", "print the gradient graph of the sum of the first output (then optimized)");
  add_source(gradcmd, false);
  add_format(gradcmd);
  add_passes(gradcmd);
  gradcmd->add_option("--wrt", wrt, "inputs to differentiate with respect to: x or x,y")->required();

  CLI::App* eval = app.add_subcommand("eval", "evaluate a graph on input values and print the outputs as JSON");
  add_source(eval, true);
  eval->add_option("--input", input_specs,
                   "NAME=VALUE: a JSON number or nested array (shape from nesting), \"nan\", \"inf\", \"-inf\"")
      ->allow_extra_args(false);
  eval->add_option("--grad", grads, "also the gradients of the sum of the first output with respect to x or x,y");
  add_passes(eval);

  try {
    // A mistyped command would otherwise be reported as a stray argument.
    if (argc > 1 && argv[1][0] != '-') {
      bool known = false;
      std::string names;
      for (const CLI::App* cmd : app.get_subcommands({})) {
        known |= cmd->get_name() == argv[1];
        names += (names.empty() ? "" : ", ") + cmd->get_name();
      }
      if (!known) return fail("unknown command '" + std::string(argv[1]) + "' (commands: " + names + ")");
    }
    try {
      app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
      std::cout << app.help();
      return 0;
    } catch (const CLI::CallForAllHelp&) {
      std::cout << app.help("", CLI::AppFormatMode::All);
      return 0;
    } catch (const CLI::ParseError& e) {
      // A subcommand's --help arrives here too: show that command's help.
      if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) {
        for (CLI::App* cmd : app.get_subcommands()) std::cout << cmd->help();
        if (app.get_subcommands().empty()) std::cout << app.help();
        return 0;
      }
      return fail(e.what());
    }
    for (const std::string& path : src.loads) load_extension(path);
    if (print->parsed()) return run_print(src, format);
    if (opt->parsed()) return run_opt(src, format, passes);
    if (gradcmd->parsed()) return run_grad(src, format, passes, wrt);
    if (eval->parsed()) return run_eval(src, input_specs, passes, grads);
    return fail("no command given (try --help)");
  } catch (const Error& e) {
    return fail(e.what());
  } catch (const std::bad_alloc&) {
    return fail("out of memory");
  } catch (const std::exception& e) {
    return fail(e.what());
  }
}
