// JSON interchange: exact round trips (every op, a user op with every kind
// of attribute, random graphs, special float32/float64 constants), canonical
// and deterministic output, a table of malformed documents with the error
// each must give, limits, 1,000,000-node documents and deep nesting, and the
// produced documents checked against docs/symgraph.schema.json.
#include <bit>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <symgraph/graph/json.hpp>
#include <symgraph/graph/order.hpp>

#include "harness.hpp"

using namespace sgtest;

namespace {

/// A user op with one attribute of every kind, written outside the library:
/// its JSON comes from the generic attribute writer and reader.
/// y = x converted to `dtype` (the other attributes only ride along).
struct Tagged final : Op {
  Tagged() : Op("test_tagged", 1, 1) {}
  std::vector<AttrSpec> attr_specs() const override {
    return {{"count", AttrKind::integer}, {"weight", AttrKind::real},  {"axes", AttrKind::integers},
            {"label", AttrKind::string},  {"table", AttrKind::tensor}, {"dtype", AttrKind::dtype}};
  }
  TensorType infer(std::span<const TensorType> in, const Attrs& attrs) const override {
    if (attrs.get<std::int64_t>("count") < 0) fail("count must be non-negative");
    return {attrs.get<DType>("dtype"), in[0].shape};
  }
  void compute(std::span<const Tensor* const>, const Attrs&, Tensor&) const override {}
};
RegisterOp<Tagged> tagged_registration;

Expr tagged(const Expr& x) {
  return apply("test_tagged", {x},
               {{"count", std::int64_t{-7} + 10},
                {"weight", -0.0},
                {"axes", std::vector<std::int64_t>{0, -1, 5}},
                {"label", std::string("quote \" backslash \\ newline \n tab \t unicode \xc3\xa9 \xe2\x82\xac")},
                {"table", Tensor::from_list<float>({1.5f, -0.0f, std::numeric_limits<float>::infinity()}, {3, 1})},
                {"dtype", DType::float32}});
}

/// Checks that `outputs` survive from_json(to_json(...)) exactly: the
/// re-serialisation is byte-identical and every node has the same op,
/// attributes (bit for bit), type and operands.
LoadedGraph check_round_trip(const std::vector<Expr>& inputs, const std::vector<Expr>& outputs) {
  const std::string text = to_json(inputs, outputs);
  LoadedGraph loaded = from_json(text);
  REQUIRE(loaded.inputs.size() == inputs.size());
  REQUIRE(loaded.outputs.size() == outputs.size());
  CHECK(to_json(loaded.inputs, loaded.outputs) == text);
  const NodeOrder a = order_nodes("test", inputs, outputs);
  const NodeOrder b = order_nodes("test", loaded.inputs, loaded.outputs);
  REQUIRE(a.size() == b.size());
  for (std::size_t k = 0; k < a.size(); ++k) {
    const Node& x = a.store().node(a.nodes()[k]);
    const Node& y = b.store().node(b.nodes()[k]);
    CAPTURE(k);
    CAPTURE(x.op->name());
    CHECK(x.op == y.op);
    CHECK(x.attrs == y.attrs);
    CHECK(x.type == y.type);
    CHECK(x.name == y.name);
    REQUIRE(x.inputs.size() == y.inputs.size());
    for (std::size_t i = 0; i < x.inputs.size(); ++i) CHECK(a.number(x.inputs[i]) == b.number(y.inputs[i]));
  }
  return loaded;
}

template <class T> std::uint64_t bits(T v) {
  if constexpr (sizeof(T) == 4) {
    return std::bit_cast<std::uint32_t>(v);
  } else {
    return std::bit_cast<std::uint64_t>(v);
  }
}

std::string docs_path(const char* name) {
  return (std::filesystem::path(__FILE__).parent_path().parent_path() / "docs" / name).string();
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in, "cannot open " << path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("round trip of every op") {
  Graph g;
  const Expr a = g.input("a", DType::float64, {2, 3});
  const Expr b = g.input("b", DType::float64, {kSymbolic, 3});
  const Expr m = g.input("m", DType::float64, {3, 4});
  const Expr c = g.input("c", DType::boolean, {2, 1});
  const Expr f = g.input("f", DType::float32, {kSymbolic});
  const std::map<std::string, std::function<Expr()>> builders = {
      {"input", [&] { return a; }},
      {"constant", [&] { return g.constant(Tensor::from_list<double>({1, -2, 0.25}, {3})); }},
      {"neg", [&] { return neg(a); }},
      {"abs", [&] { return abs(b); }},
      {"sign", [&] { return sign(f); }},
      {"exp", [&] { return exp(a); }},
      {"log", [&] { return log(a); }},
      {"sqrt", [&] { return sqrt(f); }},
      {"tanh", [&] { return tanh(a); }},
      {"scale", [&] { return scale(f, 0.1); }},
      {"add", [&] { return add(a, b); }},
      {"sub", [&] { return sub(b, a); }},
      {"mul", [&] { return mul(a, 0.5 * b); }},
      {"div", [&] { return div(f, 3.0 + f); }},
      {"maximum", [&] { return maximum(a, b); }},
      {"minimum", [&] { return minimum(b, a); }},
      {"gt", [&] { return gt(a, b); }},
      {"ge", [&] { return ge(f, f * 2.0); }},
      {"lt", [&] { return a < 0.0; }},
      {"le", [&] { return le(a, b); }},
      {"eq", [&] { return eq(a, b); }},
      {"switch", [&] { return where(c, a, b); }},
      {"sum", [&] { return sum(b, {0}, true); }},
      {"max", [&] { return max(a, {1}); }},
      {"matmul", [&] { return matmul(a, m); }},
      {"transpose", [&] { return transpose(m); }},
      {"broadcast_to", [&] { return broadcast_to(f, a); }},
      {"sum_to", [&] { return sum_to(a, c); }},
      {"expand_dims", [&] { return expand_dims(a, {0, 3}); }},
      {"squeeze", [&] { return squeeze(c, {1}); }},
      {"reshape", [&] { return reshape(a, {3, 2}); }},
      {"cast", [&] { return cast(c, DType::float32); }},
      {"test_tagged", [&] { return tagged(b); }},
  };
  for (const std::string& name : OpRegistry::instance().names()) {
    CAPTURE(name);
    auto it = builders.find(name);
    REQUIRE_MESSAGE(it != builders.end(), "op '" << name << "' has no round-trip case: add one here");
    const Expr e = it->second();
    CHECK(e.op_name() == name);
    check_round_trip({a, b, m, c, f}, {e});
  }
  // All ops in one document, several outputs, one listed twice.
  std::vector<Expr> all;
  for (const auto& [name, build] : builders) all.push_back(build());
  all.push_back(all.front());
  const LoadedGraph loaded = check_round_trip({a, b, m, c, f}, all);
  CHECK(loaded.outputs.front().is(loaded.outputs.back()));
}

TEST_CASE("round trip keeps values: a loaded graph computes the same bits") {
  Graph g;
  const Expr x = g.input("x", DType::float32, {kSymbolic});
  const Expr y = relu(x, 0.1) + where(x > 0.0, x, 0.1 * x) - scale(tanh(x), 1.0 / 3.0);
  const LoadedGraph l = check_round_trip({x}, {y});
  const Tensor v = tensor({-3.0, -0.0, 0.0, 1e-40, 2.5, inf, -inf, NaN}, {}, DType::float32);
  check_same(run(l.inputs, l.outputs, {v})[0], run({x}, {y}, {v})[0]);
}

TEST_CASE("a user op round-trips with every kind of attribute") {
  Graph g;
  const Expr x = g.input("x", DType::float64, {2});
  const Expr y = tagged(x);
  const std::string text = to_json({y});
  CHECK(text.find("\"attrs\": {\"axes\": [0, -1, 5], \"count\": 3, \"dtype\": \"float32\", "
                  "\"label\": \"quote \\\" backslash \\\\ newline \\n tab \\t unicode \xc3\xa9 \xe2\x82\xac\", "
                  "\"table\": {\"dtype\": \"float32\", \"shape\": [3, 1], \"data\": [1.5, -0.0, \"inf\"]}, "
                  "\"weight\": -0.0}") != std::string::npos);
  const LoadedGraph l = check_round_trip({x}, {y});
  CHECK(std::signbit(l.outputs[0].attrs().get<double>("weight")));
  CHECK(l.outputs[0].attrs().get<std::string>("label") == y.attrs().get<std::string>("label"));
}

TEST_CASE("special constants round-trip bit for bit, float32 and float64") {
  auto check_type = [&]<class T>() {
    using L = std::numeric_limits<T>;
    const DType dt = dtype_of<T>();
    const std::vector<T> values = {T(0),           -T(0),          L::infinity(),         -L::infinity(),
                                   L::quiet_NaN(), L::denorm_min(), -L::denorm_min(),     L::min() - L::denorm_min(),
                                   L::min(),       L::max(),        L::lowest(),          L::epsilon(),
                                   T(0.1),         T(1) / T(3),     T(-2.5e-30),          T(1e30),
                                   T(16777217),    T(123456789)};
    CAPTURE(dtype_name(dt));
    Graph g;
    const Expr x = g.input("x", dt, {kSymbolic});
    std::vector<Expr> outs;
    for (T v : values) outs.push_back(x + g.constant(Tensor::from_vector(std::vector<T>{v}, Shape{})));
    const Expr vec = g.constant(Tensor::from_vector(values));
    outs.push_back(vec);
    const LoadedGraph l = check_round_trip({x}, outs);
    const Tensor& got = l.outputs.back().attrs().get<Tensor>("value");
    REQUIRE(got.dtype() == dt);
    for (std::size_t i = 0; i < values.size(); ++i) {
      CAPTURE(i);
      CHECK(bits(got.data<T>()[i]) == bits(vec.attrs().get<Tensor>("value").data<T>()[i]));
      if (!std::isnan(values[i])) CHECK(bits(got.data<T>()[i]) == bits(values[i]));
    }
    CHECK(std::isnan(got.data<T>()[4]));
    // Each 0-d constant keeps its dtype (a float32 graph stays float32).
    for (std::size_t i = 0; i < values.size(); ++i) {
      const Expr k = l.outputs[i].input(1);
      CHECK(k.dtype() == dt);
      CHECK(bits(k.attrs().get<Tensor>("value").template data<T>()[0]) ==
            bits(outs[i].input(1).attrs().get<Tensor>("value").template data<T>()[0]));
    }
  };
  check_type.operator()<float>();
  check_type.operator()<double>();

  // The spellings documented in docs/json-format.md.
  CHECK(json_number(-0.0) == "-0.0");
  CHECK(json_number(0.0f) == "0.0");
  CHECK(json_number(1.0) == "1.0");
  CHECK(json_number(0.1f) == "0.1");
  CHECK(json_number(static_cast<double>(0.1f)) == "0.10000000149011612");
  CHECK(json_number(std::numeric_limits<double>::denorm_min()) == "5e-324");
  CHECK(json_number(std::numeric_limits<float>::denorm_min()) == "1e-45");
  CHECK(json_number(std::numeric_limits<float>::max()) == "3.4028235e+38");
  CHECK(json_number(1e300) == "1e+300");
  CHECK(json_number(NaN) == "\"nan\"");
  CHECK(json_number(inf) == "\"inf\"");
  CHECK(json_number(-std::numeric_limits<float>::infinity()) == "\"-inf\"");
}

TEST_CASE("real attributes keep every bit (scale factors)") {
  Graph g;
  const Expr x = g.input("x", DType::float64, {});
  std::vector<Expr> outs;
  for (double v : {0.0, -0.0, inf, -inf, NaN, 5e-324, -1.7976931348623157e308, 0.1, 1.0 / 3.0})
    outs.push_back(scale(x, v));
  const LoadedGraph l = check_round_trip({x}, outs);
  for (std::size_t i = 0; i < outs.size(); ++i)
    CHECK(bits(l.outputs[i].attrs().get<double>("factor")) == bits(outs[i].attrs().get<double>("factor")));
}

TEST_CASE("float32 data is rounded once, from the decimal text") {
  // 1 + 2^-24 (a midpoint between floats) + 1e-28: as float32 it rounds up
  // to 1 + 2^-23; read as float64 first it would round to the midpoint and
  // then, ties to even, down to 1.
  const std::string doc = R"({"format": "symgraph", "version": 1, "inputs": [], "outputs": [0], "nodes": [
    {"id": 0, "op": "constant", "inputs": [], "dtype": "float32", "shape": [2], "attrs": {"value":
      {"dtype": "float32", "shape": [2], "data": [1.0000000596046447753906250001, 0.1000000000000000055511151231257827]}}}]})";
  const LoadedGraph l = from_json(doc);
  const Tensor& v = l.outputs[0].attrs().get<Tensor>("value");
  CHECK(bits(v.data<float>()[0]) == 0x3f800001u);
  CHECK(bits(v.data<float>()[1]) == bits(0.1f));
  // Underflow rounds to a signed zero; integers are accepted for floats.
  const Tensor t = value_from_json("[1e-50, -1e-50, 3, -0.0]", DType::float32);
  CHECK(bits(t.data<float>()[0]) == bits(0.0f));
  CHECK(bits(t.data<float>()[1]) == bits(-0.0f));
  CHECK(t.data<float>()[2] == 3.0f);
  CHECK(std::signbit(t.data<float>()[3]));
}

TEST_CASE("random graphs round-trip and compute the same bits") {
  std::mt19937 rng(20240611);
  auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };
  for (int trial = 0; trial < 60; ++trial) {
    CAPTURE(trial);
    const DType dt = trial % 2 ? DType::float32 : DType::float64;
    Graph g;
    const Expr x = g.input("x", dt, {kSymbolic});
    const Expr y = g.input("y", dt, {4});
    std::vector<Expr> pool = {x, y, constant_like(x, -0.0), constant_like(x, 0.75)};
    std::vector<Expr> bools;
    for (int step = 0; step < 25; ++step) {
      const Expr p = pool[pick(pool.size())], q = pool[pick(pool.size())];
      Expr e;
      switch (pick(14)) {
        case 0: e = neg(p); break;
        case 1: e = abs(p); break;
        case 2: e = exp(scale(p, 0.01 * static_cast<double>(pick(100)))); break;
        case 3: e = tanh(p); break;
        case 4: e = add(p, q); break;
        case 5: e = sub(p, q); break;
        case 6: e = mul(p, q); break;
        case 7: e = div(p, q); break;
        case 8: e = maximum(p, q); break;
        case 9: e = minimum(p, q); break;
        case 10: bools.push_back(pick(2) ? gt(p, q) : le(p, q)); continue;
        case 11:
          if (bools.empty()) continue;
          e = where(bools[pick(bools.size())], p, q);
          break;
        case 12: e = relu(p, 0.01 * static_cast<double>(pick(100))); break;
        default: e = p + g.constant(static_cast<double>(pick(7)) - 3.0, dt); break;
      }
      pool.push_back(e);
    }
    std::vector<Expr> outs = {pool.back(), pool[pool.size() - 3], pool[pick(pool.size())]};
    const std::vector<Expr> ins = {x, y};
    const LoadedGraph l = check_round_trip(ins, outs);
    const Tensor vx = tensor({-1.5, 0.0, 2.0, -0.0}, {}, dt), vy = tensor({3.0, -inf, 1e-3, NaN}, {}, dt);
    const auto want = run(ins, outs, {vx, vy}), got = run(l.inputs, l.outputs, {vx, vy});
    for (std::size_t i = 0; i < want.size(); ++i) check_same(got[i], want[i]);
  }
}

TEST_CASE("output is canonical: independent of the store's other nodes and build order") {
  // relu's abs form, spelled out (relu() itself orders add's operands by
  // id, so in another store it may build a different expression).
  auto leaky = [](const Expr& x) { return add(scale(x, 0.625), scale(abs(x), 0.375)); };
  Graph fresh;
  const Expr x1 = fresh.input("x", DType::float64, {kSymbolic});
  const std::string want = to_json({leaky(x1)});

  Graph busy;
  const Expr junk = busy.input("junk", DType::float32, {3});
  (void)exp(junk);
  const Expr x2 = busy.input("x", DType::float64, {kSymbolic});
  (void)scale(abs(x2), 0.375);  // the abs part, built first
  (void)sqrt(x2);
  CHECK(to_json({leaky(x2)}) == want);
  CHECK(to_json({leaky(x2)}) == to_json({leaky(x2)}));
  CHECK(to_json({x2}, {leaky(x2)}) == want);
}

TEST_CASE("the documented example is what to_json writes") {
  Graph g;
  const Expr x = g.input("x", DType::float32, {kSymbolic});
  const std::string text = to_json({relu(x, 0.1)});
  CHECK(text ==
        "{\n"
        "  \"format\": \"symgraph\",\n"
        "  \"version\": 1,\n"
        "  \"inputs\": [0],\n"
        "  \"outputs\": [4],\n"
        "  \"nodes\": [\n"
        "    {\"id\": 0, \"op\": \"input\", \"name\": \"x\", \"inputs\": [], \"dtype\": \"float32\", \"shape\": [null]},\n"
        "    {\"id\": 1, \"op\": \"scale\", \"inputs\": [0], \"dtype\": \"float32\", \"shape\": [null], "
        "\"attrs\": {\"factor\": 0.550000011920929}},\n"
        "    {\"id\": 2, \"op\": \"abs\", \"inputs\": [0], \"dtype\": \"float32\", \"shape\": [null]},\n"
        "    {\"id\": 3, \"op\": \"scale\", \"inputs\": [2], \"dtype\": \"float32\", \"shape\": [null], "
        "\"attrs\": {\"factor\": 0.44999998807907104}},\n"
        "    {\"id\": 4, \"op\": \"add\", \"inputs\": [1, 3], \"dtype\": \"float32\", \"shape\": [null]}\n"
        "  ]\n"
        "}\n");
  // docs/json-format.md shows this document.
  CHECK(read_text(docs_path("json-format.md")).find(text) != std::string::npos);
}

TEST_CASE("explicit inputs: unused arguments kept, missing ones refused") {
  Graph g;
  const Expr x = g.input("x"), y = g.input("y"), z = g.input("z");
  const LoadedGraph l = check_round_trip({z, x, y}, {x * 2.0});
  CHECK(l.inputs[0].name() == "z");
  CHECK(l.inputs[2].name() == "y");
  CHECK(error_of([&] { to_json({x}, {x + y}); }) ==
        "to_json: the outputs depend on input 'y', which is not among the inputs given");
  CHECK(error_of([&] { to_json({x, x}, {x}); }) == "to_json: input 'x' is listed twice");
  CHECK(error_of([&] { to_json({x + y}, {x}); }) ==
        "to_json: input 0 is a 'add' node; the inputs of a function must be graph inputs");
  Graph other;
  CHECK(error_of([&] { to_json({x, other.input("w")}); }).find("belongs to another graph") != std::string::npos);
  CHECK(error_of([&] { to_json({Expr()}); }) == "to_json: output 0 is an empty expression");
  CHECK(error_of([&] { to_json({g.input("bad\xff")}); }).find("is not valid UTF-8") != std::string::npos);
}

namespace {

/// A document around `nodes`, with the given inputs and outputs.
std::string doc(const std::string& nodes, const std::string& inputs = "[0]", const std::string& outputs = "[1]") {
  return R"({"format": "symgraph", "version": 1, "inputs": )" + inputs + R"(, "outputs": )" + outputs +
         R"(, "nodes": [)" + nodes + "]}";
}

const std::string X = R"({"id": 0, "op": "input", "name": "x", "inputs": [], "dtype": "float64", "shape": [null]})";
/// An input node with this id.
std::string input_with_id(const std::string& id) {
  return R"({"id": )" + id + R"(, "op": "input", "name": "x", "inputs": [], "dtype": "float64", "shape": []})";
}

std::string node(const std::string& id, const std::string& op, const std::string& inputs,
                 const std::string& rest = R"("dtype": "float64", "shape": [null])") {
  return R"({"id": )" + id + R"(, "op": ")" + op + R"(", "inputs": )" + inputs + ", " + rest + "}";
}

std::string constant(const std::string& id, const std::string& value, const std::string& type = R"("dtype": "float64", "shape": [])") {
  return R"({"id": )" + id + R"(, "op": "constant", "inputs": [], )" + type + R"(, "attrs": {"value": )" + value + "}}";
}

}  // namespace

TEST_CASE("malformed documents: each error says what and where") {
  const std::string deep = std::string(100, '[') + std::string(100, ']');
  struct Case {
    std::string text;
    std::string error;  // the whole message, or a part of it
  };
  const std::vector<Case> cases = {
      {"",
       "not valid JSON: parse error at line 1, column 1: syntax error while parsing value - unexpected end of input"},
      {"{\"format\": \"symgraph\",", "not valid JSON: parse error at line 1, column 23: syntax error"},
      {doc(X) + " trailing", "not valid JSON: parse error at line 1, column"},
      {"[1, 2]", "the document must be a JSON object with \"format\": \"symgraph\", got an array"},
      {R"({"format": "onnx", "version": 1, "inputs": [], "outputs": [], "nodes": []})",
       "format: not a symgraph document: expected \"symgraph\", got the string \"onnx\""},
      {R"({"version": 1, "inputs": [], "outputs": [], "nodes": []})",
       "the document: missing field \"format\" (\"format\": \"symgraph\")"},
      {R"({"format": "symgraph", "version": 2, "inputs": [], "outputs": [], "nodes": []})",
       "version: unsupported format version 2 (this build reads version 1)"},
      {R"({"format": "symgraph", "version": "1", "inputs": [], "outputs": [], "nodes": []})",
       "version: expected an integer, got the string \"1\""},
      {R"({"format": "symgraph", "version": 1, "inputs": [], "outputs": [], "nodes": [], "comment": 1})",
       "comment: unknown field (a document has \"format\", \"version\", \"inputs\", \"outputs\" and \"nodes\")"},
      {R"({"format": "symgraph", "version": 1, "inputs": [], "outputs": []})",
       "the document: missing field \"nodes\" (the array of nodes)"},
      {R"({"format": "symgraph", "version": 1, "inputs": [], "outputs": [], "nodes": {}})",
       "nodes: expected an array, got an object"},
      {R"({"format": "symgraph", "version": 1, "inputs": [], "nodes": []})",
       "the document: missing field \"outputs\" (the ids of the output nodes)"},
      {doc("5"), "nodes[0]: expected an object, got the integer 5"},
      {doc(R"({"op": "input", "name": "x", "inputs": [], "dtype": "float64", "shape": []})"),
       "nodes[0]: missing field \"id\" (the node's id, a non-negative integer)"},
      {doc(R"({"id": -1, "op": "input", "name": "x", "inputs": [], "dtype": "float64", "shape": []})"),
       "nodes[0].id: expected a non-negative integer, got -1"},
      {doc(R"({"id": 1.5, "op": "input", "name": "x", "inputs": [], "dtype": "float64", "shape": []})"),
       "nodes[0].id: expected an integer, got the number 1.5"},
      {doc(R"({"id": 1.0, "op": "input", "name": "x", "inputs": [], "dtype": "float64", "shape": []})"),
       "nodes[0].id: expected an integer, got the number 1.0 (write integers without a fraction or exponent)"},
      // Integers beyond int64 are quoted as written, and out of range.
      {doc(input_with_id("18446744073709551615")),
       "nodes[0].id: the integer 18446744073709551615 is out of range (at most 9223372036854775807)"},
      {doc(input_with_id("9223372036854775808")),
       "nodes[0].id: the integer 9223372036854775808 is out of range (at most 9223372036854775807)"},
      {doc(input_with_id("123456789012345678901234567890")),
       "nodes[0].id: the integer 123456789012345678901234567890 is out of range (at most 9223372036854775807)"},
      {doc(input_with_id("-9223372036854775809")),
       "nodes[0].id: expected a non-negative integer, got the integer -9223372036854775809"},
      {doc(input_with_id("1000000000000000000000000000000000000000000000000000000000000")),
       "nodes[0].id: the integer 100000000000000000000000000000... (61 digits) is out of range"},
      {doc(X + ", " + node("1", "neg", "[0]", R"("dtype": "float64", "shape": [9223372036854775808])")),
       "nodes[1].shape[0]: the integer 9223372036854775808 is out of range (at most 9223372036854775807)"},
      {doc(X + ", " + node("1", "neg", "[18446744073709551616]")),
       "nodes[1].inputs[0]: the integer 18446744073709551616 is out of range (at most 9223372036854775807)"},
      {R"({"format": "symgraph", "version": 99999999999999999999, "inputs": [], "outputs": [], "nodes": []})",
       "version: the integer 99999999999999999999 is out of range (an integer here is from -9223372036854775808 to "
       "9223372036854775807)"},
      {doc(X + ", " +
           node("1", "sum", "[0]",
                R"("dtype": "float64", "shape": [], "attrs": {"axes": [-9223372036854775809], "keepdims": 0})")),
       "nodes[1].attrs.axes[0]: the integer -9223372036854775809 is out of range (an integer here is from "
       "-9223372036854775808 to 9223372036854775807)"},
      {doc(constant("0", R"({"dtype": "float32", "shape": [], "data": [1000000000000000000000000000000000000000]})"),
           "[]", "[0]"),
       "nodes[0].attrs.value.data[0]: the integer 1000000000000000000000000000000000000000 is too large for float32"},
      {doc(X + ", " + node("0", "neg", "[0]")), "nodes[1].id: duplicate id 0 (nodes[0] has it too)"},
      {doc(X + ", " + node("1", "softplus", "[0]")),
       "nodes[1].op: unknown op \"softplus\" in node 1 (not a built-in op; if it is an extension op, register it "
       "before loading: link the file with its RegisterOp, or load_extension() / symgraph --load the shared object "
       "that has it)"},
      {doc(X + R"(, {"id": 1, "op": 3, "inputs": [0], "dtype": "float64", "shape": [null]})"),
       "nodes[1].op: expected a string, got the integer 3"},
      {doc(X + ", " + node("1", "neg", "[7]")),
       "nodes[1].inputs[0] (node 1, op neg): refers to node 7, which no node defines"},
      {doc(X + ", " + node("1", "neg", "[2]") + ", " + node("2", "abs", "[0]")),
       "nodes[1].inputs[0] (node 1, op neg): refers to node 2, which comes later (nodes[2]); a node must come after "
       "its inputs (topological order)"},
      {doc(X + ", " + node("1", "add", "[0, 3]") + ", " + node("2", "neg", "[1]") + ", " + node("3", "abs", "[2]")),
       "nodes[1].inputs[1] (node 1, op add): the graph has a cycle: 1 -> 3 -> 2 -> 1 (each node uses the next as an "
       "input)"},
      {doc(X + ", " + node("1", "neg", "[1]")),
       "nodes[1].inputs[0] (node 1, op neg): node 1 lists itself as an input (a cycle)"},
      {doc(X + ", " + node("1", "neg", "[\"0\"]")), "nodes[1].inputs[0]: expected an integer, got the string \"0\""},
      {doc(X + ", " + node("1", "add", "[0]")), "nodes[1].inputs (node 1, op add): op add takes 2 input(s), got 1"},
      {doc(X + ", " + node("1", "neg", "[0, 0]")), "nodes[1].inputs (node 1, op neg): op neg takes 1 input(s), got 2"},
      {doc(X + ", " + node("1", "neg", "[0]", R"("shape": [null])")),
       "nodes[1] (node 1, op neg): missing field \"dtype\" (the element type)"},
      {doc(X + ", " + node("1", "neg", "[0]", R"("dtype": "float16", "shape": [null])")),
       "nodes[1].dtype: unknown dtype \"float16\" (expected \"float32\", \"float64\" or \"bool\")"},
      {doc(X + ", " + node("1", "neg", "[0]", R"("dtype": "float64", "shape": ["3"])")),
       "nodes[1].shape[0]: expected an integer, got the string \"3\""},
      {doc(X + ", " + node("1", "neg", "[0]", R"("dtype": "float64", "shape": [-2])")),
       "nodes[1].shape[0]: expected a non-negative integer, got -2"},
      {doc(X + ", " + node("1", "neg", "[0]", R"("dtype": "float32", "shape": [null])")),
       "nodes[1] (node 1, op neg): the document declares float32[?], but the node's type is float64[?] (inferred "
       "from its operands)"},
      {doc(X + ", " + node("1", "neg", "[0]", R"("dtype": "float64", "shape": [])")),
       "nodes[1] (node 1, op neg): the document declares float64[], but the node's type is float64[?]"},
      {doc(X + R"(, {"id": 1, "op": "input", "name": "y", "inputs": [], "dtype": "float32", "shape": [null]}, )" +
               node("2", "add", "[0, 1]"),
           "[0, 1]", "[2]"),
       "nodes[2] (node 2, op add): type error: add: operand dtypes differ: float64[?] and float32[?] (convert one "
       "with cast())"},
      {doc(R"({"id": 0, "op": "input", "inputs": [], "dtype": "float64", "shape": []})", "[0]", "[0]"),
       "nodes[0] (node 0, op input): missing field \"name\" (an input node needs its name)"},
      {doc(X + R"(, {"id": 1, "op": "neg", "name": "y", "inputs": [0], "dtype": "float64", "shape": [null]})"),
       "nodes[1].name (node 1, op neg): only input nodes have a name"},
      {doc(X + R"(, {"id": 1, "op": "input", "name": "x", "inputs": [], "dtype": "float64", "shape": [null]})",
           "[0, 1]"),
       "nodes[1].name (node 1, op input): input name \"x\" is already used by node 0"},
      {doc(X + ", " + node("1", "scale", "[0]")),
       "nodes[1].attrs (node 1, op scale): missing attribute \"factor\" (a number) of op scale"},
      {doc(X + ", " +
           node("1", "scale", "[0]", R"("dtype": "float64", "shape": [null], "attrs": {"factor": 2, "bias": 1})")),
       "nodes[1].attrs.bias (node 1, op scale): op scale has no attribute \"bias\" (its attributes: factor (number))"},
      {doc(X + ", " + node("1", "neg", "[0]", R"("dtype": "float64", "shape": [null], "attrs": {"factor": 2})")),
       "nodes[1].attrs.factor (node 1, op neg): op neg has no attribute \"factor\" (its attributes: none)"},
      {doc(X + ", " + node("1", "scale", "[0]", R"("dtype": "float64", "shape": [null], "attrs": {"factor": "half"})")),
       "nodes[1].attrs.factor: expected a number (or \"nan\", \"inf\", \"-inf\"), got the string \"half\""},
      {doc(X + ", " + node("1", "scale", "[0]", R"("dtype": "float64", "shape": [null], "attrs": {"factor": "NaN"})")),
       "nodes[1].attrs.factor: expected a number (or \"nan\", \"inf\", \"-inf\"), got the string \"NaN\""},
      {doc(X + ", " +
           node("1", "sum", "[0]", R"("dtype": "float64", "shape": [], "attrs": {"axes": [0.5], "keepdims": 0})")),
       "nodes[1].attrs.axes[0]: expected an integer, got the number 0.5"},
      {doc(X + ", " +
           node("1", "sum", "[0]", R"("dtype": "float64", "shape": [], "attrs": {"axes": [0], "keepdims": 2})")),
       "nodes[1] (node 1, op sum): type error: sum: attribute keepdims must be 0 or 1, got 2"},
      {doc(constant("0", R"({"dtype": "float64", "shape": [3], "data": [1.0, 2.0]})"), "[]", "[0]"),
       "nodes[0].attrs.value.data: has 2 elements, but shape [3] needs 3"},
      {doc(constant("0", R"({"dtype": "bool", "shape": [], "data": [1]})"), "[]", "[0]"),
       "nodes[0].attrs.value.data[0]: expected true or false, got the integer 1"},
      {doc(constant("0", R"({"dtype": "float32", "shape": [], "data": [1e39]})"), "[]", "[0]"),
       "nodes[0].attrs.value.data[0]: the number 1e+39 is too large for float32 (write \"inf\" or \"-inf\" for an "
       "infinity)"},
      {doc(constant("0", R"({"dtype": "float64", "shape": [null], "data": []})"), "[]", "[0]"),
       "nodes[0].attrs.value.shape[0]: a value needs known sizes, got null (symbolic)"},
      {doc(constant("0", R"({"dtype": "float64", "shape": [], "data": [1.0], "scale": 2})"), "[]", "[0]"),
       "nodes[0].attrs.value.scale: unknown field (a tensor value has \"dtype\", \"shape\" and \"data\")"},
      {doc(constant("0", R"({"dtype": "float32", "shape": [], "data": [1.0]})"), "[]", "[0]"),
       "nodes[0] (node 0, op constant): the document declares float64[], but the node's type is float32[] (from "
       "its value)"},
      {doc(R"({"id": 0, "op": "input", "name": "x", "inputs": [], "dtype": "float64", "shape": [], "attr": {}})"),
       "nodes[0].attr: unknown field (a node has \"id\", \"op\", \"inputs\", \"dtype\", \"shape\", and \"name\" or "
       "\"attrs\" where they apply)"},
      {doc(X + ", " + node("1", "neg", "[0]"), "[1]"),
       "inputs[0]: node 1 is a \"neg\" node; \"inputs\" lists input nodes only"},
      {doc(X + ", " + node("1", "neg", "[0]"), "[0, 0]"), "inputs[1]: node 0 is listed twice"},
      {doc(X + ", " + node("1", "neg", "[0]"), "[0]", "[9]"), "outputs[0]: no node has id 9"},
      {doc(X + ", " + node("1", "neg", "[0]"), "[]"),
       "inputs: the outputs use input node 0 (\"x\"), which \"inputs\" does not list"},
      {doc(X + ", " + R"({"id": 1, "op": "neg", "op": "abs", "inputs": [0], "dtype": "float64", "shape": [null]})"),
       "nodes[1].op: the key \"op\" appears twice"},
      {doc(deep),
       "[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]"
       "[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]: "
       "nested deeper than 64 levels (LoadLimits::max_depth is 64; raise it to accept larger input)"},
  };
  CHECK(cases.size() >= 30);
  for (const Case& c : cases) {
    CAPTURE(c.text);
    const std::string got = error_of([&] { from_json(c.text); });
    CHECK_MESSAGE(got.find(c.error) != std::string::npos, "got: " << got << "\nwant: " << c.error);
  }
  // An unknown op is reported even when it comes with a type error later.
  CHECK(error_of([&] { from_json(doc(X + ", " + node("1", "softplus", "[0]"))); }).find("register it before loading") !=
        std::string::npos);
}

namespace {

/// JSON values in `v` (itself, its elements and members, recursively), as
/// nlohmann counts them: the oracle for LoadLimits::max_node_values.
std::size_t json_values(const nlohmann::json& v) {
  std::size_t n = 1;
  if (v.is_array() || v.is_object())
    for (const auto& x : v) n += json_values(x);
  return n;
}

}  // namespace

TEST_CASE("messages show document text escaped, so that they stay one printable line") {
  const std::string esc = "\x1b[31m";  // a terminal control sequence
  struct Case {
    std::string text;
    std::string error;
  };
  const std::vector<Case> cases = {
      {doc(X + ", " + node("1", "a\\u001b[31m\\nb", "[0]")), R"(nodes[1].op: unknown op "a\u001b[31m\nb" in node 1)"},
      {doc(X + ", " + R"({"id": 1, "op": "neg", "inputs": [0], "dtype": "float64", "shape": [null], "\u0007": 1})"),
       R"(nodes[1]."\u0007": unknown field)"},
      {doc(X + ", " + node("1", "neg", "[0]", R"("dtype": "float64\t", "shape": [null])")),
       R"(nodes[1].dtype: unknown dtype "float64\t" (expected)"},
      {R"({"format": "sym\u009bgraph"})", R"(format: not a symgraph document: expected "symgraph", got the string "sym\u009bgraph")"},
      // A NUL in a key once ended the message before it began (found by fuzz_json).
      {R"({"format": "symgraph", "version": 1, "\u0000s": [17]})", R"("\u0000s": unknown field (a document has)"},
      {R"({"a": 1, "a": 2})", R"(a: the key "a" appears twice)"},
      {R"({"a\r": 1, "a\r": 2})", R"("a\r": the key "a\r" appears twice)"},
      // Bytes that are not UTF-8, in the parser's own message.
      {"{\"format\": \"\xff\xfe\"}", R"(not valid JSON: parse error at line 1, column 13: syntax error while parsing value - invalid string: ill-formed UTF-8 byte; last read: '"\xff')"},
      // A long string is cut after 40 bytes, at a character (é is 2 bytes).
      {R"({"format": ")" + std::string(39, 'a') + "\xc3\xa9" + R"(tail"})",
       R"(got the string ")" + std::string(39, 'a') + "\xc3\xa9" + R"(...")"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    const std::string got = error_of([&] { from_json(c.text); });
    for (char ch : got) CHECK((static_cast<unsigned char>(ch) >= 0x20 && ch != 0x7f));
    CHECK_MESSAGE(got.find(c.error) != std::string::npos, "got: " << got << "\nwant: " << c.error);
  }
  // Input names in messages, from the document.
  const std::string twice = doc(R"({"id": 0, "op": "input", "name": "x\n", "inputs": [], "dtype": "float64", "shape": []},
      {"id": 1, "op": "input", "name": "x\n", "inputs": [], "dtype": "float64", "shape": []})",
                                "[0, 1]", "[0]");
  CHECK(error_of([&] { from_json(twice); }) ==
        R"(nodes[1].name (node 1, op input): input name "x\n" is already used by node 0)");
  CHECK(error_of([&] { value_from_json(R"([1, "\u001b"])", DType::float64, "v" + esc); }) ==
        R"(v\u001b[31m[1]: expected a number (or "nan", "inf", "-inf"), got the string "\u001b")");
}

TEST_CASE("limits: each cap lets input of its size through and refuses one more, by name") {
  const std::string three = doc(X + ", " + node("1", "neg", "[0]") + ", " + node("2", "abs", "[1]"), "[0]", "[2]");
  const std::string five = constant("0", R"({"dtype": "float64", "shape": [5], "data": [1, 2, 3, 4, 5]})",
                                    R"("dtype": "float64", "shape": [5])");
  const std::string two_values =
      doc(constant("0", R"({"dtype": "float64", "shape": [3], "data": [1, 2, 3]})", R"("dtype": "float64", "shape": [3])") +
              ", " +
              constant("1", R"({"dtype": "bool", "shape": [2, 1], "data": [true, false]})", R"("dtype": "bool", "shape": [2, 1])"),
          "[]", "[0, 1]");
  const std::string with_value = doc(constant("0", R"({"dtype": "float64", "shape": [], "data": [1]})"), "[]", "[0]");
  const std::string junk = R"({"format": "symgraph", "version": 1, "junk": [[1, 2], [3, 4]]})";
  struct Case {
    std::string limit;               // the cap
    std::size_t LoadLimits::*member;
    std::string text;
    std::size_t needed;              // the smallest value of the cap that accepts the text
    std::string error;               // problem() when the cap is needed - 1
  };
  const std::vector<Case> cases = {
      {"LoadLimits::max_bytes", &LoadLimits::max_bytes, three, three.size(),
       "the document is " + std::to_string(three.size()) + " bytes, more than " + std::to_string(three.size() - 1)},
      {"LoadLimits::max_nodes", &LoadLimits::max_nodes, three, 3, "nodes[2]: more than 2 nodes"},
      {"LoadLimits::max_tensor_elements", &LoadLimits::max_tensor_elements, doc(five, "[]", "[0]"), 5,
       "nodes[0].attrs.value.data[4]: an array with more than 4 elements"},
      // The second value's 2 elements bring the total from 3 to 5.
      {"LoadLimits::max_total_elements", &LoadLimits::max_total_elements, two_values, 5,
       "nodes[1].attrs.value: with this value's 2 elements, the tensor values have more than 4 elements together"},
      // A node of 18 JSON values (the oracle counts them below).
      {"LoadLimits::max_node_values", &LoadLimits::max_node_values, doc(five, "[]", "[0]"), 18,
       "nodes[0].attrs.value.data[4]: more than 17 JSON values in one node"},
      // The top-level object and its members: 10 JSON values.
      {"LoadLimits::max_node_values", &LoadLimits::max_node_values, junk, 10,
       "junk[1][1]: more than 9 JSON values in the document outside its nodes"},
      // A graph document needs 6 levels for a constant's value.
      {"LoadLimits::max_depth", &LoadLimits::max_depth, with_value, 6,
       "nodes[0].attrs.value.shape: nested deeper than 5 levels"},
  };
  CHECK(json_values(nlohmann::json::parse(five)) == 18);
  CHECK(json_values(nlohmann::json::parse(junk)) == 10);
  for (const Case& c : cases) {
    CAPTURE(c.limit);
    CAPTURE(c.text);
    LoadLimits limits;
    limits.*c.member = c.needed;
    // The junk document is refused, but for its unknown field.
    const std::string accepted = error_of([&] { from_json(c.text, limits); });
    CHECK((accepted.empty() || accepted.rfind("junk: unknown field", 0) == 0));
    limits.*c.member = c.needed - 1;
    CHECK(limit_error_of([&] { from_json(c.text, limits); }, c.limit, c.needed - 1) == c.error);
  }

  // A shape too large for the cap is refused before its data is read.
  const std::string huge_shape =
      doc(constant("0", R"({"dtype": "float64", "shape": [1000000, 1000000, 1000000, 1000000], "data": []})"), "[]", "[0]");
  CHECK(limit_error_of([&] { from_json(huge_shape); }, "LoadLimits::max_tensor_elements", 16'777'216) ==
        "nodes[0].attrs.value.shape: shape [1000000, 1000000, 1000000, 1000000] has more than 16777216 elements");
  // Sizes that overflow 64 bits when multiplied are refused too.
  const std::string overflow = doc(
      constant("0", R"({"dtype": "float64", "shape": [4294967296, 4294967296, 4294967296], "data": []})"), "[]", "[0]");
  CHECK(error_of([&] { from_json(overflow); }).find("has more than 16777216 elements") != std::string::npos);
}

TEST_CASE("limits of values: each cap lets a value of its size through and refuses one more") {
  const std::string text = "[[1, 2, 3], [4, 5, 6]]";  // 2 x 3, 9 JSON values, 2 levels
  struct Case {
    std::string limit;
    std::size_t LoadLimits::*member;
    std::size_t needed;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"LoadLimits::max_bytes", &LoadLimits::max_bytes, text.size(), "v: the value is 22 bytes, more than 21"},
      {"LoadLimits::max_tensor_elements", &LoadLimits::max_tensor_elements, 6,
       "v: shape [2, 3] has more than 5 elements"},
      {"LoadLimits::max_total_elements", &LoadLimits::max_total_elements, 6,
       "v: with this value's 6 elements, the tensor values have more than 5 elements together"},
      {"LoadLimits::max_node_values", &LoadLimits::max_node_values, 9,
       "v: [1][2]: more than 8 JSON values in the value"},
      {"LoadLimits::max_depth", &LoadLimits::max_depth, 2, "v: [0]: nested deeper than 1 level"},
  };
  CHECK(json_values(nlohmann::json::parse(text)) == 9);
  for (const Case& c : cases) {
    CAPTURE(c.limit);
    LoadLimits limits;
    limits.*c.member = c.needed;
    CHECK(value_from_json(text, DType::float64, "v", limits).shape() == Shape{2, 3});
    limits.*c.member = c.needed - 1;
    CHECK(limit_error_of([&] { value_from_json(text, DType::float64, "v", limits); }, c.limit, c.needed - 1) == c.error);
  }
}

TEST_CASE("limits: the defaults are those docs/json-format.md lists") {
  const std::map<std::string, std::size_t LoadLimits::*> members = {
      {"max_bytes", &LoadLimits::max_bytes},
      {"max_nodes", &LoadLimits::max_nodes},
      {"max_tensor_elements", &LoadLimits::max_tensor_elements},
      {"max_total_elements", &LoadLimits::max_total_elements},
      {"max_node_values", &LoadLimits::max_node_values},
      {"max_depth", &LoadLimits::max_depth}};
  std::ifstream in(docs_path("json-format.md"));
  REQUIRE(in);
  const LoadLimits defaults;
  std::set<std::string> listed;
  std::string line;
  // | `max_nodes`           | 10,000,000    | entries of `nodes` |
  while (std::getline(in, line)) {
    if (line.rfind("| `max_", 0) != 0) continue;
    const std::string name = line.substr(3, line.find('`', 3) - 3);
    std::string digits;
    for (char c : line.substr(line.find('|', 1) + 1, line.find('|', line.find('|', 1) + 1) - line.find('|', 1) - 1))
      if (c >= '0' && c <= '9') digits += c;
    CAPTURE(name);
    REQUIRE(members.count(name) == 1);
    CHECK(defaults.*members.at(name) == std::stoull(digits));
    listed.insert(name);
  }
  CHECK(listed.size() == members.size());
}

TEST_CASE("deeply nested input is rejected cleanly, never a stack overflow") {
  const std::size_t n = 1'000'000;
  const std::string arrays = std::string(n, '[') + std::string(n, ']');
  CHECK(error_of([&] { from_json(arrays); }).find("nested deeper than 64 levels") != std::string::npos);
  const std::string objects = [&] {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) s += "{\"a\":";
    s += "1";
    s += std::string(n, '}');
    return s;
  }();
  CHECK(error_of([&] { from_json(objects); }) ==
        "a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a."
        "a.a.a.a.a.a.a.a.a: nested deeper than 64 levels (LoadLimits::max_depth is 64; raise it to accept larger input)");
  CHECK(error_of([&] { value_from_json(arrays, DType::float64, "x"); }).find("x: [0][0]") == 0);
  // Unterminated nesting is a syntax error, not a hang.
  CHECK(error_of([&] { from_json(std::string(n, '[')); }).find("nested deeper") != std::string::npos);
}

TEST_CASE("tensor values as JSON: nested, special values, errors") {
  CHECK(value_to_json(Tensor::from_list<double>({1, -0.0, NaN, -inf, 0.1, 2.5e-320}, {2, 3})) ==
        R"({"dtype": "float64", "shape": [2, 3], "data": [[1.0, -0.0, "nan"], ["-inf", 0.1, 2.5e-320]]})");
  CHECK(value_to_json(Tensor::scalar(0.1, DType::float32)) == R"({"dtype": "float32", "shape": [], "data": 0.1})");
  CHECK(value_to_json(booleans({1, 0})) == R"({"dtype": "bool", "shape": [2], "data": [true, false]})");
  CHECK(value_to_json(Tensor(DType::float64, {2, 0, 3})) == R"({"dtype": "float64", "shape": [2, 0, 3], "data": [[], []]})");
  CHECK(value_to_json(Tensor(DType::float64, {0, 2})) == R"({"dtype": "float64", "shape": [0, 2], "data": []})");
  CHECK(value_to_json(Tensor(DType::float32, {2, 1, 2})) ==
        R"({"dtype": "float32", "shape": [2, 1, 2], "data": [[[0.0, 0.0]], [[0.0, 0.0]]]})");

  const Tensor t = value_from_json(R"([[1, 2.5, "nan"], [-0.0, "-inf", 5e-324]])", DType::float64);
  CHECK(t.shape() == Shape{2, 3});
  check_same(t, tensor({1, 2.5, NaN, -0.0, -inf, 5e-324}, {2, 3}));
  CHECK(value_from_json("[[], []]", DType::float32).shape() == Shape{2, 0});
  CHECK(value_from_json("7", DType::float64).shape() == Shape{});
  CHECK(value_from_json("[true, false]", DType::boolean).to_vector<bool>() == std::vector<bool>{true, false});
  // Integers beyond int64 are numbers like any other in a value, rounded once.
  check_same(
      value_from_json("[18446744073709551615, -9223372036854775809, 123456789012345678901234567890]", DType::float64),
      tensor({18446744073709551615.0, -9223372036854775809.0, 123456789012345678901234567890.0}));
  check_same(value_from_json("[18446744073709551615, -36893488147419103232]", DType::float32),
             tensor({0x1p64, -0x1p65}, {}, DType::float32));
  // Values written by value_to_json read back to the same bits.
  const Tensor f = tensor({0.1, -0.0, 1e-40, 3.4028234663852886e38}, {2, 2}, DType::float32);
  const std::string text = value_to_json(f);
  const auto data = text.substr(text.find("\"data\": ") + 8);
  check_same(value_from_json(data.substr(0, data.size() - 1), DType::float32), f);

  const std::vector<std::pair<std::string, std::string>> errors = {
      {"[[1], [2, 3]]", "v[1]: ragged array: has 2 elements, expected 1 (shape [2, 1])"},
      {"[[1, 2], [3]]", "v[1]: ragged array: has 1 element, expected 2 (shape [2, 2])"},
      {"[1, [2]]", "v[1]: ragged array: expected a scalar at depth 1 (shape [2]), got an array"},
      {"[[1], 2]", "v[1]: ragged array: expected an array of 1 element (shape [2, 1]), got the integer 2"},
      {"[\"x\"]", "v[0]: expected a number (or \"nan\", \"inf\", \"-inf\"), got the string \"x\""},
      {"[true]", "v[0]: expected a number (or \"nan\", \"inf\", \"-inf\"), got true"},
      {"{}", "v: expected a number (or \"nan\", \"inf\", \"-inf\"), got an object"},
      {"[1,", "v: not valid JSON: parse error at line 1, column 4"},
      {"1e999", "v: not valid JSON: number overflow parsing '1e999' (write \"inf\" or \"-inf\" for an infinity)"},
  };
  for (const auto& [source, want] : errors) {
    const std::string& text_in = source;  // a variable, not a binding: the lambdas below refer to it
    CAPTURE(text_in);
    CHECK(error_of([&] { value_from_json(text_in, DType::float64, "v"); }).find(want) == 0);
  }
}

// ---------------------------------------------------------------------------
// Schema: produced documents are checked against docs/symgraph.schema.json by
// a small validator for the JSON Schema keywords that file uses.

namespace {

using nlohmann::json;

class SchemaChecker {
 public:
  explicit SchemaChecker(json root) : root_(std::move(root)) {}

  /// "" if `v` is valid, else the first problem with its location.
  std::string check(const json& v) const { return check(root_, v, "$"); }

 private:
  const json& resolve(const json& schema) const {
    const std::string ref = schema.at("$ref");
    REQUIRE(ref.rfind("#/$defs/", 0) == 0);
    return root_.at("$defs").at(ref.substr(8));
  }

  static bool has_type(const json& v, const std::string& t) {
    if (t == "object") return v.is_object();
    if (t == "array") return v.is_array();
    if (t == "string") return v.is_string();
    if (t == "integer") return v.is_number_integer();
    if (t == "number") return v.is_number();
    if (t == "boolean") return v.is_boolean();
    if (t == "null") return v.is_null();
    FAIL("schema uses unknown type " << t);
    return false;
  }

  std::string check(const json& s, const json& v, const std::string& at) const {
    if (s.is_boolean()) return s.get<bool>() ? "" : at + ": not allowed";
    if (s.contains("$ref")) {
      if (auto e = check(resolve(s), v, at); !e.empty()) return e;
    }
    for (const auto& item : s.items()) {
      const std::string& key = item.key();
      static const std::set<std::string> known = {"$schema", "$id", "title", "description", "$comment", "$ref", "$defs",
                                                  "type", "const", "enum", "required", "properties",
                                                  "additionalProperties", "items", "minimum", "minLength",
                                                  "uniqueItems", "anyOf", "oneOf", "not", "if", "then", "else",
                                                  "examples"};
      REQUIRE_MESSAGE(known.count(key), "the schema uses keyword " << key << ", which this checker does not know");
    }
    if (s.contains("type")) {
      bool ok = false;
      if (s["type"].is_array()) {
        for (const auto& t : s["type"]) ok |= has_type(v, t.get<std::string>());
      } else {
        ok = has_type(v, s["type"].get<std::string>());
      }
      if (!ok) return at + ": expected type " + s["type"].dump() + ", got " + v.dump().substr(0, 60);
    }
    if (s.contains("const") && s["const"] != v) return at + ": expected " + s["const"].dump();
    if (s.contains("enum")) {
      bool ok = false;
      for (const auto& e : s["enum"]) ok |= e == v;
      if (!ok) return at + ": " + v.dump() + " is not one of " + s["enum"].dump();
    }
    if (s.contains("minimum") && v.is_number() && v.get<double>() < s["minimum"].get<double>())
      return at + ": below the minimum";
    if (s.contains("minLength") && v.is_string() && v.get<std::string>().size() < s["minLength"].get<std::size_t>())
      return at + ": too short";
    if (v.is_object()) {
      if (s.contains("required"))
        for (const auto& r : s["required"])
          if (!v.contains(r.get<std::string>())) return at + ": missing " + r.get<std::string>();
      for (const auto& [key, value] : v.items()) {
        if (s.contains("properties") && s["properties"].contains(key)) {
          if (auto e = check(s["properties"][key], value, at + "." + key); !e.empty()) return e;
        } else if (s.contains("additionalProperties")) {
          if (auto e = check(s["additionalProperties"], value, at + "." + key); !e.empty()) return e;
        }
      }
    }
    if (v.is_array()) {
      if (s.contains("items"))
        for (std::size_t i = 0; i < v.size(); ++i)
          if (auto e = check(s["items"], v[i], at + "[" + std::to_string(i) + "]"); !e.empty()) return e;
      if (s.value("uniqueItems", false))
        for (std::size_t i = 0; i < v.size(); ++i)
          for (std::size_t j = i + 1; j < v.size(); ++j)
            if (v[i] == v[j]) return at + ": items are not unique";
    }
    if (s.contains("anyOf")) {
      bool ok = false;
      for (const auto& sub : s["anyOf"]) ok |= check(sub, v, at).empty();
      if (!ok) return at + ": matches none of anyOf";
    }
    if (s.contains("oneOf")) {
      int matches = 0;
      for (const auto& sub : s["oneOf"]) matches += check(sub, v, at).empty();
      if (matches != 1) return at + ": matches " + std::to_string(matches) + " of oneOf";
    }
    if (s.contains("not") && check(s["not"], v, at).empty()) return at + ": matches a 'not' schema";
    if (s.contains("if")) {
      const bool cond = check(s["if"], v, at).empty();
      if (cond && s.contains("then")) return check(s["then"], v, at);
      if (!cond && s.contains("else")) return check(s["else"], v, at);
    }
    return "";
  }

  json root_;
};

}  // namespace

TEST_CASE("produced documents follow docs/symgraph.schema.json") {
  const SchemaChecker schema(json::parse(read_text(docs_path("symgraph.schema.json"))));
  Graph g;
  const Expr x = g.input("x", DType::float32, {kSymbolic, 3});
  const Expr c = g.input("c", DType::boolean, {3});
  const std::vector<Expr> outs = {relu(x, 0.1), where(c, x, 0.1 * x), sum(exp(x), {1}, true), tagged(x),
                                  g.constant(tensor({NaN, -inf, -0.0}, {3}, DType::float32)),
                                  g.constant(booleans({1, 0, 1}, {3, 1})), cast(x, DType::float64)};
  for (const std::string& text : {to_json({x, c}, outs), to_json({relu(x)}), to_json({}, {})}) {
    const json parsed = json::parse(text);  // strict RFC 8259: any parser reads it
    CHECK(schema.check(parsed) == "");
  }
  // The checker does reject what the schema forbids.
  json bad = json::parse(to_json({relu(x)}));
  bad["nodes"][1].erase("dtype");
  CHECK(schema.check(bad) == "$.nodes[1]: missing dtype");
  bad = json::parse(to_json({relu(x)}));
  bad["nodes"][1]["name"] = "y";
  CHECK(schema.check(bad).find("$.nodes[1]") == 0);
  bad = json::parse(to_json({relu(x)}));
  bad["nodes"][0]["shape"][0] = -1;
  CHECK(schema.check(bad).find("$.nodes[0].shape[0]") == 0);
}
