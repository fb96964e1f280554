// The symgraph command, run as a subprocess: what it prints on standard
// output, the one "error: ..." line on standard error, and its exit status.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <symgraph/graph/dot.hpp>
#include <symgraph/graph/json.hpp>
#include <symgraph/graph/print.hpp>

#include "harness.hpp"
#include "subprocess.hpp"

#ifndef SYMGRAPH_CLI
#error "SYMGRAPH_CLI (the path of the symgraph program) must be defined by the build"
#endif

using namespace sgtest;

namespace {

using Result = ProgramResult;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

/// Runs the program with `args`, `input` on standard input.
Result run_cli(const std::vector<std::string>& args, const std::string& input = "") {
  return run_program(SYMGRAPH_CLI, args, input);
}

/// Checks a failure: status 1, nothing on standard output, exactly one line
/// "error: ..." on standard error containing `what`.
void check_error(const Result& r, const std::string& what) {
  CHECK(r.status == 1);
  CHECK(r.out.empty());
  CHECK(r.err.rfind("error: ", 0) == 0);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(r.err.back() == '\n');
  CHECK_MESSAGE(r.err.find(what) != std::string::npos, "stderr: " << r.err << "want: " << what);
}

void check_ok(const Result& r) {
  CHECK_MESSAGE(r.status == 0, "stderr: " << r.err);
  CHECK(r.err.empty());
}

struct TempFile {
  std::string path;
  explicit TempFile(const std::string& text) : path("test_cli_" + std::to_string(::getpid()) + ".json") {
    std::ofstream(path, std::ios::binary) << text;
  }
  ~TempFile() { std::remove(path.c_str()); }
};

}  // namespace

TEST_CASE("print: an expression as JSON, text and DOT") {
  Graph g;
  const Expr x = g.input("x", DType::float64, {kSymbolic});
  const Expr y = where(x > 0.0, x, 0.1 * x);

  Result r = run_cli({"print", "-e", "switch(x > 0, x, 0.1 * x)"});
  check_ok(r);
  CHECK(r.out == to_json({y}));
  r = run_cli({"print", "-e", "switch(x > 0, x, 0.1 * x)", "--format", "text"});
  check_ok(r);
  CHECK(r.out == debugprint({y}));
  r = run_cli({"print", "--format=dot", "-e", "switch(x > 0, x, 0.1 * x)"});
  check_ok(r);
  CHECK(r.out == to_dot({y}));
}

TEST_CASE("print: several outputs, declared inputs, unary minus as an -e value") {
  Graph g;
  const Expr x = g.input("x", DType::float32, {3, kSymbolic});
  const Expr y = g.input("y", DType::float64, {});
  const std::string want = to_json({x, y}, {relu(x, 0.5), -y, y * 2.0});
  Result r = run_cli({"print", "--var", "x:float32[3,?]", "--var", "y:float64[]", "-e", "relu(x, 0.5), -y", "-e", "y * 2"});
  check_ok(r);
  CHECK(r.out == want);
  r = run_cli({"print", "--var", "x:float32[3, ?]", "--var=y:float64[]", "-e", "relu(x, 0.5)", "-e", "-y", "-e", "y*2"});
  check_ok(r);
  CHECK(r.out == want);
}

TEST_CASE("print: a JSON graph from a file or standard input, re-serialised canonically") {
  Graph g;
  const Expr x = g.input("x", DType::float32, {kSymbolic});
  const std::string doc = to_json({relu(x, 0.1), exp(x)});
  const TempFile file(doc);
  Result r = run_cli({"print", file.path});
  check_ok(r);
  CHECK(r.out == doc);
  r = run_cli({"print", "-"}, doc);
  check_ok(r);
  CHECK(r.out == doc);
  r = run_cli({"print", "-", "--format", "text"}, doc);
  check_ok(r);
  CHECK(r.out == debugprint({relu(x, 0.1), exp(x)}));
}

TEST_CASE("eval: values print so that they read back to the same bits") {
  // --passes none: the switch form as written (the default pipeline would
  // rewrite it to the abs form).
  Result r = run_cli({"eval", "-e", "switch(x > 0, x, 0.1 * x)", "--passes", "none", "--input",
                       "x=[-2, -0.0, 0.0, 3, \"nan\", \"-inf\", \"inf\", 5e-324]"});
  check_ok(r);
  CHECK(r.out ==
        "{\"outputs\": [{\"dtype\": \"float64\", \"shape\": [8], \"data\": [-0.2, -0.0, 0.0, 3.0, \"nan\", \"-inf\", "
        "\"inf\", 5e-324]}], \"grads\": {}}\n");

  // float32, declared with --var; a 2-d value; two outputs.
  r = run_cli({"eval", "--var", "x:float32", "-e", "x * 0.1, abs(x) > 1", "--input", "x=[[1, -0.0], [3, 1e-45]]"});
  check_ok(r);
  CHECK(r.out ==
        "{\"outputs\": [{\"dtype\": \"float32\", \"shape\": [2, 2], \"data\": [[0.1, -0.0], [0.3, 0.0]]}, "
        "{\"dtype\": \"bool\", \"shape\": [2, 2], \"data\": [[false, false], [true, false]]}], \"grads\": {}}\n");

  // 0-d values, a bare non-finite value, two inputs in order of appearance.
  r = run_cli({"eval", "-e", "maximum(y, x)", "--input", "x=-inf", "--input", "y=2.5"});
  check_ok(r);
  CHECK(r.out == "{\"outputs\": [{\"dtype\": \"float64\", \"shape\": [], \"data\": 2.5}], \"grads\": {}}\n");
}

TEST_CASE("eval: a JSON graph, and both relu forms give the same values here") {
  Graph g;
  const Expr x = g.input("x", DType::float64, {kSymbolic});
  // alpha = 0.5: f1 = 0.75 and f2 = 0.25 are exact, so on these inputs the
  // abs form rounds exactly like the switch form.
  const TempFile file(to_json({relu(x, 0.5)}));
  const std::string input = "x=[-3, -1, 0.5, 2]";
  const Result a = run_cli({"eval", file.path, "--input", input});
  const Result b = run_cli({"eval", "-e", "switch(x > 0, x, 0.5 * x)", "--input", input});
  check_ok(a);
  check_ok(b);
  CHECK(a.out == b.out);
  CHECK(a.out == "{\"outputs\": [{\"dtype\": \"float64\", \"shape\": [4], \"data\": [-1.5, -0.5, 0.5, 2.0]}], "
                 "\"grads\": {}}\n");
}

TEST_CASE("opt: the hand-written leaky relu becomes the abs form; --trace, --strict, --passes") {
  Graph g;
  const Expr x = g.input("x", DType::float32, {kSymbolic});
  Result r = run_cli({"opt", "--var", "x:float32", "-e", "switch(x > 0, x, 0.1 * x)"});
  check_ok(r);
  // input, abs, scale, scale, add: no switch.
  CHECK(r.out == to_json({relu(x, 0.1)}));
  const LoadedGraph l = from_json(r.out);
  std::vector<std::string> ops;
  for (std::size_t id = 0; id < l.graph.size(); ++id) ops.push_back(l.graph.store()->node(static_cast<NodeId>(id)).op->name());
  std::sort(ops.begin(), ops.end());
  CHECK(ops == std::vector<std::string>{"abs", "add", "input", "scale", "scale"});

  r = run_cli({"opt", "-e", "switch(x > 0, x, 0.1 * x)", "--trace", "--format", "text"});
  CHECK(r.status == 0);
  CHECK(r.err ==
        "rewrite canonicalize mul-constant: mul(0.1, x) -> scale(x, factor=0.1)\n"
        "rewrite relu-to-abs relu-switch: switch(gt(x, 0), x, scale(x, factor=0.1)) -> add(scale(x, factor=0.55), "
        "scale(abs(x), factor=0.45))\n");
  CHECK(r.out.rfind("add [id 4] float64[?]\n", 0) == 0);

  // Exact rules only: the switch stays (relu-to-abs is not exact).
  r = run_cli({"opt", "-e", "switch(x > 0, x, 0.1 * x)", "--strict", "--format", "text"});
  check_ok(r);
  CHECK(r.out.rfind("switch [id 4] float64[?]\n", 0) == 0);
  r = run_cli({"opt", "-e", "switch(x > 0, x, 0.1 * x)", "--passes", "none"});
  check_ok(r);
  CHECK(r.out == run_cli({"print", "-e", "switch(x > 0, x, 0.1 * x)"}).out);
  r = run_cli({"opt", "-e", "switch(x > 0, x, 0.1 * x)", "--passes", "canonicalize+relu-to-abs,dead-node-removal"});
  check_ok(r);
  CHECK(r.out.find("\"switch\"") == std::string::npos);
}

TEST_CASE("grad and eval --grad: differentiate, then optimize") {
  // d/dx sum(x * y) = y, d/dy = x.
  Result r = run_cli({"eval", "-e", "x * y", "--input", "x=[1, 2]", "--input", "y=[3, -0.5]", "--grad", "y,x"});
  check_ok(r);
  CHECK(r.out ==
        "{\"outputs\": [{\"dtype\": \"float64\", \"shape\": [2], \"data\": [3.0, -1.0]}], \"grads\": {"
        "\"y\": {\"dtype\": \"float64\", \"shape\": [2], \"data\": [1.0, 2.0]}, "
        "\"x\": {\"dtype\": \"float64\", \"shape\": [2], \"data\": [3.0, -0.5]}}}\n");

  // Both forms of leaky relu print the same values under the default
  // pipeline (the switch form is rewritten to the abs form). The gradients
  // are taken before optimizing: the switch form's slope is alpha itself.
  const std::string input = "x=[-3, -1, 0.5, 2, \"-inf\"]";
  const Result a = run_cli({"eval", "-e", "switch(x > 0, x, 0.1 * x)", "--input", input, "--grad", "x"});
  const Result b = run_cli({"eval", "-e", "relu(x, 0.1)", "--input", input, "--grad", "x"});
  check_ok(a);
  check_ok(b);
  const std::string outputs = "{\"outputs\": [{\"dtype\": \"float64\", \"shape\": [5], \"data\": "
                              "[-0.30000000000000004, -0.10000000000000003, 0.5, 2.0, \"nan\"]}], ";
  CHECK(a.out == outputs + "\"grads\": {\"x\": {\"dtype\": \"float64\", \"shape\": [5], \"data\": "
                           "[0.1, 0.1, 1.0, 1.0, 0.1]}}}\n");
  CHECK(b.out == outputs + "\"grads\": {\"x\": {\"dtype\": \"float64\", \"shape\": [5], \"data\": "
                           "[0.10000000000000003, 0.10000000000000003, 1.0, 1.0, 0.10000000000000003]}}}\n");
  // Without optimization the switch form keeps its own values.
  r = run_cli({"eval", "-e", "switch(x > 0, x, 0.1 * x)", "--input", input, "--passes", "none"});
  check_ok(r);
  CHECK(r.out == "{\"outputs\": [{\"dtype\": \"float64\", \"shape\": [5], \"data\": "
                 "[-0.30000000000000004, -0.1, 0.5, 2.0, \"-inf\"]}], \"grads\": {}}\n");

  // grad prints a graph of the function's inputs: its gradient evaluates to
  // the same numbers as eval --grad.
  r = run_cli({"grad", "-e", "x * y", "--wrt", "x"});
  check_ok(r);
  const LoadedGraph l = from_json(r.out);
  REQUIRE(l.inputs.size() == 2);
  REQUIRE(l.outputs.size() == 1);
  check_same(run(l.inputs, l.outputs, {tensor({1, 2}), tensor({3, -0.5})})[0], tensor({3, -0.5}));
  r = run_cli({"grad", "-e", "x * y", "--wrt", "x", "--format", "text", "--passes", "none"});
  check_ok(r);
  CHECK(r.out.find("sum_to") != std::string::npos);
}

TEST_CASE("help exits 0 on standard output") {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--help"}, {"print", "--help"}, {"eval", "-h"}, {"--help-all"}, {"opt", "--help"},
        {"grad", "--help"}}) {
    const Result r = run_cli(args);
    CHECK(r.status == 0);
    CHECK(r.out.find("Usage") != std::string::npos);
    CHECK(r.err.empty());
  }
}

TEST_CASE("bad input: status 1 and one line on standard error, never a crash") {
  Graph g;
  const Expr x = g.input("x", DType::float64, {kSymbolic});
  const TempFile file(to_json({relu(x)}));
  const std::string deep = std::string(1'000'000, '[');
  struct Case {
    std::vector<std::string> args;
    std::string stdin_text;
    std::string error;
  };
  const std::vector<Case> cases = {
      {{}, "", "error: A subcommand is required"},
      {{"frobnicate"}, "", "unknown command 'frobnicate' (commands: print, opt, grad, eval)"},
      {{"opt", "-e", "x * 2", "--passes", "cse,frobnicate"}, "",
       "--passes 'cse,frobnicate': optimize: unknown pass 'frobnicate' (the passes are"},
      {{"opt", "-e", "x * 2", "--passes", "cse,,dead-node-removal"}, "", "--passes 'cse,,dead-node-removal': an empty pass name"},
      {{"opt", "-e", "x * 2", "--passes", "cse+"}, "",
       "--passes 'cse+': optimize: an empty pass name in 'cse+' (passes run together are joined by '+')"},
      {{"opt", "-e", "x * 2", "--passes", "+"}, "", "--passes '+': optimize: an empty pass name in '+'"},
      {{"grad", "-e", "x * y"}, "", "--wrt is required"},
      {{"grad", "-e", "x * y", "--wrt", "z"}, "", "--wrt z: the graph has no input named 'z' (its inputs: x, y)"},
      {{"grad", "-e", "x * y", "--wrt", "x,x"}, "", "--wrt x,x: 'x' is listed twice"},
      {{"grad", "-e", "x > y", "--wrt", "x"}, "", "--wrt: the first output is bool[?]; only a float output has a gradient"},
      {{"grad", "--var", "c:bool", "-e", "where(c, x, 0)", "--wrt", "c"}, "", "bool"},
      {{"eval", "-e", "x", "--input", "x=1", "--grad", "y"}, "", "--grad y: the graph has no input named 'y'"},
      {{"print"}, "", "no graph given: pass a JSON file, - for standard input, or -e EXPRESSION"},
      {{"print", file.path, "-e", "x"}, "", "give either a JSON file (or - for standard input) or -e expressions"},
      {{"print", "missing.json"}, "", "cannot open 'missing.json' for reading"},
      {{"print", "-"}, "", "<stdin>: not valid JSON: parse error at line 1, column 1"},
      {{"print", "-"}, "{\"format\": \"symgraph\", \"version\": 7}", "<stdin>: version: unsupported format version 7"},
      {{"print", "-"}, deep, "<stdin>: [0][0]"},
      {{"print", "-"}, "{\"format\": \"symgraph\",\n\"version\": 1,\n oops}", "<stdin>: not valid JSON: parse error at line 3"},
      {{"print", "-e", "x +"}, "", "error: column 4: expected an expression"},
      {{"print", "-e", "x", "-e", "abs(x, x)"}, "", "error: -e #2: column 1: abs takes 1 argument, got 2"},
      {{"print", "-e", "x", "--format", "svg"}, "", "--format: svg not in {json,text,dot}"},
      {{"print", "-e", "x", "--var", "x"}, "", "--var 'x': expected NAME:DTYPE or NAME:DTYPE[d0,d1,...]"},
      {{"print", "-e", "x", "--var", "x:float16"}, "", "--var 'x:float16': unknown dtype 'float16'"},
      {{"print", "-e", "x", "--var", "x:float32[3,-1]"}, "", "--var 'x:float32[3,-1]': dimension '-1' is neither"},
      {{"print", "-e", "x", "--var", "x:float32[3"}, "", "--var 'x:float32[3': the shape must end with ']'"},
      {{"print", "-e", "x", "--var", "x:float32", "--var", "x:float64"}, "", "input 'x' is declared twice"},
      {{"print", file.path, "--var", "x:float32"}, "", "--var declares the inputs of -e expressions"},
      {{"print", "-e", "x + y", "--var", "x:float32"}, "", "column 3: add: operand dtypes differ"},
      {{"eval", "-e", "x + y", "--input", "x=1"}, "", "no value for input 'y' (pass --input y=VALUE)"},
      {{"eval", "-e", "x", "--input", "x=1", "--input", "z=2"}, "", "--input z: the graph has no input named 'z'"},
      {{"eval", "-e", "x", "--input", "x"}, "", "--input 'x': expected NAME=VALUE"},
      {{"eval", "-e", "x", "--input", "x=1", "--input", "x=2"}, "", "--input x: given twice"},
      {{"eval", "-e", "x", "--input", "x=[1, [2]]"}, "", "--input x[1]: ragged array"},
      {{"eval", "-e", "x", "--input", "x=[1, \"one\"]"}, "", "--input x[1]: expected a number"},
      {{"eval", "-e", "x", "--input", "x=NaN"}, "", "--input x: not valid JSON"},
      {{"eval", "-e", "x", "--input", "x=" + deep.substr(0, 100'000)}, "", "nested deeper than 64 levels"},
      {{"eval", "-e", "x", "--input", "x=1e400"}, "", "number overflow"},
      {{"eval", "--var", "x:float32", "-e", "x", "--input", "x=1e39"}, "", "too large for float32"},
      {{"eval", "--var", "x:float32[3]", "-e", "x", "--input", "x=[1, 2]"}, "",
       "argument 0 ('x'): expected float32[3], got float32[2]"},
      {{"eval", "-e", "x + y", "--input", "x=[1, 2]", "--input", "y=[1, 2, 3]"}, "", "add: cannot broadcast shapes [2] and [3]"},
      {{"eval", file.path, "--input", "x=[true]"}, "", "--input x[0]: expected a number"},
      {{"eval", "-e", "x", "--input", "x=[1]", "--bogus"}, "", "--bogus"},
  };
  for (const Case& c : cases) {
    std::string shown;
    for (const auto& a : c.args) shown += (a.size() > 60 ? a.substr(0, 60) + "..." : a) + " ";
    CAPTURE(shown);
    check_error(run_cli(c.args, c.stdin_text), c.error);
  }
}

TEST_CASE("limits: the --max-* options cap what the input may ask for; errors name the option") {
  Graph g;
  const Expr x = g.input("x", DType::float64, {kSymbolic});
  const std::string text = to_json({relu(x)});  // 4 nodes
  const TempFile file(text);
  const std::string note = "; raise it to accept larger input)\n";
  check_ok(run_cli({"print", file.path, "--max-nodes", "4"}));
  check_error(run_cli({"print", file.path, "--max-nodes", "3"}),
              "error: " + file.path + ": nodes[3]: more than 3 nodes (--max-nodes is 3" + note);
  const std::string size = std::to_string(text.size()), less = std::to_string(text.size() - 1);
  check_ok(run_cli({"print", file.path, "--max-bytes", size}));
  check_error(run_cli({"print", file.path, "--max-bytes", less}),
              "error: " + file.path + ": the document is longer than " + less + " bytes (--max-bytes is " + less + note);
  check_ok(run_cli({"print", "-", "--max-bytes", size}, text));
  check_error(run_cli({"print", "-", "--max-bytes", less}, text), "error: <stdin>: the document is longer than " + less);
  check_error(run_cli({"print", file.path, "--max-depth", "2"}), "nested deeper than 2 levels (--max-depth is 2" + note);
  // The top level holds 8 JSON values outside "nodes", the scale node 10.
  check_ok(run_cli({"print", file.path, "--max-node-values", "10"}));
  check_error(run_cli({"print", file.path, "--max-node-values", "9"}),
              "error: " + file.path + ": nodes[3].attrs.factor: more than 9 JSON values in one node (--max-node-values is 9" +
                  note);
  check_error(run_cli({"print", file.path, "--max-node-values", "7"}),
              "error: " + file.path + ": nodes: more than 7 JSON values in the document outside its nodes");

  const Expr k = g.constant(Tensor::from_list<double>({1, 2, 3}));
  const TempFile constants(to_json({x}, {x + k}));
  check_ok(run_cli({"print", constants.path, "--max-total-elements", "3"}));
  check_error(run_cli({"print", constants.path, "--max-total-elements", "2"}),
              "nodes[1].attrs.value: with this value's 3 elements, the tensor values have more than 2 elements together "
              "(--max-total-elements is 2" + note);
  check_error(run_cli({"print", constants.path, "--max-tensor-elements", "2"}),
              "nodes[1].attrs.value.data[2]: an array with more than 2 elements (--max-tensor-elements is 2" + note);

  // Expressions: nodes each -e adds, nesting, length.
  check_ok(run_cli({"print", "-e", "x + y", "--max-nodes", "3"}));
  check_error(run_cli({"print", "-e", "x + y", "--max-nodes", "2"}),
              "error: column 3: more than 2 nodes (--max-nodes is 2" + note);
  check_error(run_cli({"print", "-e", "x", "-e", "x + y", "--max-nodes", "1"}),
              "error: -e #2: column 3: more than 1 node");
  check_ok(run_cli({"print", "-e", "abs(abs(x))", "--max-depth", "2"}));
  check_error(run_cli({"print", "-e", "abs(abs(x))", "--max-depth", "1"}),
              "error: column 5: nested deeper than 1 level (--max-depth is 1" + note);
  check_error(run_cli({"print", "-e", "x + y", "--max-bytes", "4"}),
              "error: column 5: the text is 5 bytes, more than 4 (--max-bytes is 4" + note);

  // Values given with --input.
  check_ok(run_cli({"eval", "-e", "x", "--input", "x=[1, 2, 3]", "--max-tensor-elements", "3"}));
  check_error(run_cli({"eval", "-e", "x", "--input", "x=[1, 2, 3]", "--max-tensor-elements", "2"}),
              "error: --input x: [2]: an array with more than 2 elements (--max-tensor-elements is 2" + note);
  check_error(run_cli({"eval", "-e", "x", "--input", "x=[[1]]", "--max-depth", "1"}),
              "error: --input x: [0]: nested deeper than 1 level (--max-depth is 1" + note);

  const Result help = run_cli({"print", "--help"});
  for (const char* option : {"--max-bytes", "--max-nodes", "--max-depth", "--max-tensor-elements", "--max-total-elements",
                             "--max-node-values"})
    CHECK_MESSAGE(help.out.find(option) != std::string::npos, option);
  check_error(run_cli({"print", "-e", "x", "--max-nodes", "many"}), "--max-nodes");
}

TEST_CASE("evaluation limits: eval refuses, before any work, a graph that would compute too much") {
  const std::string note = "; raise it to accept larger input)\n";
  // The reviewer's 528-byte document: empty constants whose matmul has
  // 400,000,000 elements. With the document caps as low as it allows, it
  // used to take 6 GB and 13 s.
  const TempFile empty_matmul(
      R"({"format":"symgraph","version":1,"inputs":[],"outputs":[4],"nodes":[
{"id":0,"op":"constant","inputs":[],"dtype":"float64","shape":[20000,0],"attrs":{"value":{"dtype":"float64","shape":[20000,0],"data":[]}}},
{"id":1,"op":"constant","inputs":[],"dtype":"float64","shape":[0,20000],"attrs":{"value":{"dtype":"float64","shape":[0,20000],"data":[]}}},
{"id":3,"op":"matmul","inputs":[0,1],"dtype":"float64","shape":[20000,20000]},
{"id":4,"op":"sum","inputs":[3],"dtype":"float64","shape":[],"attrs":{"axes":[0,1],"keepdims":0}}]}
)");
  const std::string refused = "error: matmul [id 2] would compute float64[20000, 20000]: 400000000 elements "
                              "(--max-value-elements is 33554432" + note;
  for (const char* passes : {"none", "constant-folding"}) {
    CAPTURE(passes);
    const Result r = run_cli({"eval", empty_matmul.path, "--max-bytes", "1000", "--max-nodes", "5", "--max-tensor-elements",
                              "2", "--max-total-elements", "1", "--max-node-values", "100", "--passes", passes});
    check_error(r, refused);
    CHECK(r.err == refused);
  }
  check_error(run_cli({"eval", empty_matmul.path, "--max-value-elements", "400000000", "--max-eval-elements", "1000"}),
              "error: matmul [id 2] would bring the elements computed to 400000000 (--max-eval-elements is 1000" + note);

  // matmul of two 4000 x 4000 values (of a document of 8,000 numbers):
  // 6.4e10 multiply-adds.
  Graph g;
  const Expr ones = g.constant(tensor(std::vector<double>(4000, 1.0)));
  const Expr column = reshape(ones, {4000, 1}), row = reshape(ones, {1, 4000});
  const Expr square = matmul(column, row);
  const Expr product = matmul(square, square);
  const TempFile big_matmul(to_json({sum(product)}));
  check_error(run_cli({"eval", big_matmul.path, "--passes", "none"}),
              "error: matmul [id " + std::to_string(product.id()) + "] would bring the work done to 64080008000 operations "
              "(--max-eval-work is 4294967296" + note);

  // sum(exp(x) + x) on 3 elements: values of 3 elements at most, 7 in all
  // (exp 3, add 3, sum 1), work 19 (exp 6, add 9, sum 4). Just enough passes,
  // one less is refused. (--passes none: the nodes keep the ids of the
  // expression, x 0, exp 1, add 2, sum 3.)
  const std::vector<std::string> base = {"eval", "-e", "sum(exp(x) + x)", "--input", "x=[0, 1, 2]", "--passes", "none"};
  auto with = [&](const char* option, const char* value) {
    std::vector<std::string> args = base;
    args.insert(args.end(), {option, value});
    return run_cli(args);
  };
  check_ok(with("--max-value-elements", "3"));
  check_error(with("--max-value-elements", "2"),
              "error: exp [id 1] would compute float64[3]: 3 elements (--max-value-elements is 2" + note);
  check_ok(with("--max-eval-elements", "7"));
  check_error(with("--max-eval-elements", "6"),
              "error: sum [id 3] would bring the elements computed to 7 (--max-eval-elements is 6" + note);
  check_ok(with("--max-eval-work", "19"));
  check_error(with("--max-eval-work", "18"),
              "error: sum [id 3] would bring the work done to 19 operations (--max-eval-work is 18" + note);

  const Result help = run_cli({"eval", "--help"});
  for (const char* option : {"--max-value-elements", "--max-eval-elements", "--max-eval-work"})
    CHECK_MESSAGE(help.out.find(option) != std::string::npos, option);
  // Only eval evaluates.
  check_error(run_cli({"print", "-e", "x", "--max-eval-work", "5"}), "--max-eval-work");
}

TEST_CASE("limits: every --max-* value is a whole number in range; negative, too large or 0 is an error, not \"no cap\"") {
  const std::string max = "18446744073709551615";
  for (const char* option : {"--max-bytes", "--max-nodes", "--max-depth", "--max-tensor-elements",
                             "--max-total-elements", "--max-node-values", "--max-value-elements",
                             "--max-eval-elements", "--max-eval-work"}) {
    INFO(option);
    const std::string o = option;
    const std::string least = o == "--max-total-elements" ? "0" : "1";
    auto eval_with = [&](const std::string& value) {
      return run_cli({"eval", "-e", "x+1+2+3+4+5+6", "--input", "x=1", option, value});
    };
    check_error(eval_with("-1"), "error: " + o + " '-1': expected a whole number from " + least + " to " + max + "\n");
    check_error(eval_with("-0"), "expected a whole number");
    check_error(eval_with("+5"), "expected a whole number");
    check_error(eval_with("1e3"), "expected a whole number");
    check_error(eval_with("0x10"), "expected a whole number");
    check_error(eval_with(""), "expected a whole number");
    check_error(eval_with("18446744073709551616"),
                "error: " + o + " 18446744073709551616: too large (at most " + max + ")\n");
    check_error(eval_with("99999999999999999999999999"), "too large");
    if (least == "1") {
      check_error(eval_with("0"), "error: " + o + " 0: must be at least 1\n");
    } else {
      // A document without tensor values.
      Graph g;
      const TempFile file(to_json({exp(g.input("x", DType::float64, {kSymbolic}))}));
      check_ok(run_cli({"print", file.path, option, "0"}));
    }
    check_ok(eval_with(max));
    check_ok(eval_with("00100"));
  }
  // The reviewer's case: --max-nodes -1 used to mean "no cap".
  check_error(run_cli({"print", "-e", "x+1+2+3+4+5+6", "--max-nodes", "-1"}),
              "error: --max-nodes '-1': expected a whole number from 1 to " + max + "\n");
}

namespace {

/// Words of a shell command line: blanks separate words, '...' quotes.
std::vector<std::string> shell_words(const std::string& line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false, quoted = false;
  for (char c : line) {
    if (quoted) {
      if (c == '\'') {
        quoted = false;
      } else {
        word += c;
      }
    } else if (c == '\'') {
      quoted = in_word = true;
    } else if (c == ' ') {
      if (in_word) words.push_back(word);
      word.clear();
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  REQUIRE_MESSAGE(!quoted, "unterminated quote in: " << line);
  if (in_word) words.push_back(word);
  return words;
}

}  // namespace

TEST_CASE("the walkthroughs in docs/cli.md and README.md run as written") {
  const auto root = std::filesystem::path(__FILE__).parent_path().parent_path();
  int examples = 0;
  for (const char* name : {"docs/cli.md", "README.md"}) {
    std::istringstream doc(slurp((root / name).string()));
    REQUIRE_MESSAGE(!doc.str().empty(), "cannot read " << name);
    std::string line;
    while (std::getline(doc, line)) {
      if (line.rfind("$ symgraph ", 0) != 0) continue;
      std::string command = line.substr(11);
      // "2>&1": standard error, then standard output.
      const bool merged = command.size() > 5 && command.compare(command.size() - 5, 5, " 2>&1") == 0;
      if (merged) command.resize(command.size() - 5);
      std::string want;
      while (std::getline(doc, line) && line != "```") want += line + "\n";
      CAPTURE(name);
      CAPTURE(command);
      const Result r = run_cli(shell_words(command));
      if (merged) {
        CHECK(r.status == 0);
        CHECK(r.err + r.out == want);
      } else if (want.rfind("error: ", 0) == 0) {
        CHECK(r.status == 1);
        CHECK(r.out.empty());
        CHECK(r.err == want);
      } else {
        CHECK(r.status == 0);
        CHECK(r.err.empty());
        CHECK(r.out == want);
      }
      ++examples;
    }
  }
  CHECK(examples >= 14);
}

TEST_CASE("--passes '' is an error that says how to run no passes") {
  for (const std::string cmd : {"opt", "grad", "eval"}) {
    CAPTURE(cmd);
    std::vector<std::string> args = {cmd, "-e", "x * 2"};
    if (cmd == "grad") args.insert(args.end(), {"--wrt", "x"});
    if (cmd == "eval") args.insert(args.end(), {"--input", "x=1"});
    for (const std::string empty : {"", " "}) {
      std::vector<std::string> with = args;
      with.insert(with.end(), {"--passes", empty});
      check_error(run_cli(with), "--passes '" + empty +
                                     "': no pass named (--passes none runs no passes; leave --passes out for the "
                                     "standard pipeline)");
    }
  }
  // What it points to: none runs nothing, the default runs the standard pipeline.
  Result r = run_cli({"opt", "-e", "x * 2", "--passes", "none", "--format", "text"});
  check_ok(r);
  CHECK(r.out.find("mul [id 2]") == 0);
  r = run_cli({"opt", "-e", "x * 2", "--format", "text"});
  check_ok(r);
  CHECK(r.out.find("scale(factor=2)") == 0);
}

TEST_CASE("eval --input and --grad: input names that contain '=' or ','") {
  // A JSON document may name its inputs anything; an expression cannot.
  Graph g;
  const Expr ab = g.input("a=b", DType::float64, {});
  const Expr a = g.input("a", DType::float64, {});
  const Expr xy = g.input("x,y", DType::float64, {});
  const Expr x = g.input("x", DType::float64, {});
  const TempFile file(to_json({ab, a, xy, x}, {(ab - a) * xy * x}));
  const auto eval = [&](std::vector<std::string> more) {
    std::vector<std::string> args = {"eval", file.path};
    args.insert(args.end(), more.begin(), more.end());
    return run_cli(args);
  };
  // The longest part before an '=' that names an input is the name:
  // (7 - 5) * 3 * 2 = 12; d/d(a=b) = 6, d/da = -6, d/d(x,y) = 4, d/dx = 6.
  Result r =
      eval({"--input", "a=b=7", "--input", "a=5", "--input", "x,y=3", "--input", "x=2", "--grad", "a=b,a,x,y,x"});
  check_ok(r);
  CHECK(r.out ==
        "{\"outputs\": [{\"dtype\": \"float64\", \"shape\": [], \"data\": 12.0}], \"grads\": {"
        "\"a=b\": {\"dtype\": \"float64\", \"shape\": [], \"data\": 6.0}, "
        "\"a\": {\"dtype\": \"float64\", \"shape\": [], \"data\": -6.0}, "
        "\"x,y\": {\"dtype\": \"float64\", \"shape\": [], \"data\": 4.0}, "
        "\"x\": {\"dtype\": \"float64\", \"shape\": [], \"data\": 6.0}}}\n");
  // Given in another order, the same.
  const Result again =
      eval({"--input", "x=2", "--input", "x,y=3", "--input", "a=5", "--input", "a=b=7", "--grad", "a=b,a,x,y,x"});
  check_ok(again);
  CHECK(again.out == r.out);
  // When no part names an input, the name ends at the first '=' (or ','),
  // and the error names it.
  check_error(eval({"--input", "c=d=1"}), "--input c: the graph has no input named 'c' (its inputs: a=b, a, x,y, x)");
  check_error(eval({"--input", "a=b=7", "--input", "a=5", "--input", "x,y=3", "--input", "x=2", "--grad", "z,w"}),
              "--grad z: the graph has no input named 'z'");
  check_error(eval({"--input", "a=[1=2]"}), "--input a: not valid JSON");
  check_error(eval({"--input", "a=b=7", "--input", "a=b=8"}), "--input a=b: given twice");
  // An expression's names have no '=': the first one ends the name.
  r = run_cli({"eval", "-e", "x * 2", "--input", "x=[1=2]"});
  check_error(r, "--input x: not valid JSON");
}

TEST_CASE("integers beyond 64 bits: quoted as written, out of range") {
  check_error(run_cli({"print", "-e", "x", "--var", "x:float64[99999999999999999999]"}),
              "--var 'x:float64[99999999999999999999]': dimension 99999999999999999999 is out of range (at most "
              "9223372036854775807)");
  const std::string doc =
      R"({"format": "symgraph", "version": 1, "inputs": [18446744073709551615], "outputs": [18446744073709551615], )"
      R"("nodes": [{"id": 18446744073709551615, "op": "input", "name": "x", "inputs": [], "dtype": "float64", )"
      R"("shape": [9223372036854775808]}]})";
  check_error(run_cli({"print", "-"}, doc),
              "error: <stdin>: nodes[0].id: the integer 18446744073709551615 is out of range (at most "
              "9223372036854775807)\n");
  // Within int64 the id is fine, the size is next.
  std::string fixed = doc;
  for (std::size_t at; (at = fixed.find("18446744073709551615")) != std::string::npos;) fixed.replace(at, 20, "0");
  check_error(run_cli({"print", "-"}, fixed),
              "error: <stdin>: nodes[0].shape[0]: the integer 9223372036854775808 is out of range (at most "
              "9223372036854775807)\n");
  // In a value, such an integer is a number like any other.
  const Result r = run_cli({"eval", "-e", "x", "--input", "x=18446744073709551615"});
  check_ok(r);
  CHECK(r.out ==
        "{\"outputs\": [{\"dtype\": \"float64\", \"shape\": [], \"data\": 18446744073709551616.0}], \"grads\": {}}\n");
}
