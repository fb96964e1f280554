// The graph core: hash-consing, constants, types, errors at build and call
// time, and graphs deep enough to break anything recursive.
#include "harness.hpp"

using namespace sgtest;

TEST_CASE("building the same expression twice gives the same node") {
  Graph g;
  Expr x = g.input("x");
  Expr y = g.input("y");
  const std::size_t before = g.size();
  Expr a = (x + y) * abs(x);
  const std::size_t after = g.size();
  Expr b = (x + y) * abs(x);
  CHECK(a.is(b));
  CHECK(g.size() == after);
  CHECK(after == before + 3);
  CHECK(!(x + y).is(y + x));  // construction is faithful; the optimizer canonicalises
  CHECK(g.input("x").is(x));
  CHECK(error_of([&] { g.input("x", DType::float32); }).find("already declared as float64[]") != std::string::npos);
}

TEST_CASE("constants are identified by dtype and bit pattern") {
  Graph g;
  CHECK(g.constant(0.0).is(g.constant(0.0)));
  CHECK(!g.constant(0.0).is(g.constant(-0.0)));
  CHECK(g.constant(std::nan("1")).is(g.constant(-std::nan("2"))));  // every NaN is the one NaN
  CHECK(!g.constant(1.0, DType::float32).is(g.constant(1.0, DType::float64)));
  CHECK(g.constant(0.1, DType::float32).dtype() == DType::float32);
  Expr x = g.input("x", DType::float32, {3});
  CHECK((0.5 * x).dtype() == DType::float32);  // a C++ number takes the Expr's dtype
  CHECK((0.5 * x).input(0).is(g.constant(0.5, DType::float32)));
  CHECK(!scale(x, 0.0).is(scale(x, -0.0)));
  CHECK(scale(x, 0.1).attrs().get<double>("factor") == static_cast<double>(0.1f));
}

TEST_CASE("types are inferred at build time") {
  Graph g;
  Expr a = g.input("a", DType::float32, {3, 1});
  Expr b = g.input("b", DType::float32, {4});
  CHECK(type_str((a + b).type()) == "float32[3, 4]");
  CHECK(type_str((a > b).type()) == "bool[3, 4]");
  CHECK(type_str(sum(a + b, {0}).type()) == "float32[4]");
  Expr s = g.input("s", DType::float64, {kSymbolic, 5});
  CHECK(type_str((s + g.input("t", DType::float64, {1, 5})).type()) == "float64[?, 5]");
  CHECK(type_str((s + g.input("u", DType::float64, {7, 1})).type()) == "float64[7, 5]");
  CHECK(type_str(matmul(s, g.input("m", DType::float64, {5, 2})).type()) == "float64[?, 2]");
}

TEST_CASE("a type or shape mismatch throws at build time, naming the op, operands and axis") {
  Graph g;
  Expr a = g.input("a", DType::float64, {3});
  Expr b = g.input("b", DType::float64, {4});
  Expr f = g.input("f", DType::float32, {3});
  Expr c = g.input("c", DType::boolean, {3});
  struct Row {
    const char* what;
    std::function<void()> build;
    std::vector<std::string> parts;
  };
  const std::vector<Row> rows = {
      {"add shapes", [&] { add(a, b); }, {"add", "[3]", "[4]", "axis 0", "3 and 4"}},
      {"mul operator", [&] { (void)(a * b); }, {"mul", "[3]", "[4]"}},
      {"dtypes", [&] { add(a, f); }, {"add", "float64[3]", "float32[3]", "cast"}},
      {"bool arithmetic", [&] { abs(c); }, {"abs", "bool[3]", "float32 or float64"}},
      {"switch condition", [&] { where(a, a, a); }, {"switch", "condition must be bool", "float64[3]"}},
      {"switch branches", [&] { where(c, a, f); }, {"switch", "float64[3]", "float32[3]"}},
      {"switch shapes", [&] { where(c, a, b); }, {"switch", "[3]", "[4]"}},
      {"matmul rank", [&] { matmul(a, a); }, {"matmul", "2-d"}},
      {"matmul inner", [&] { matmul(g.input("m", DType::float64, {2, 3}), g.input("n", DType::float64, {2, 2})); },
       {"matmul", "inner dimensions", "float64[2, 3]", "float64[2, 2]"}},
      {"sum axis", [&] { sum(a, {1}); }, {"sum", "axis 1", "out of range"}},
      {"reshape size", [&] { reshape(a, {2, 2}); }, {"reshape", "3 elements", "4 elements"}},
      // Element counts that overflow 64 bits are not wrapped: 4 * (2^62 + 1) is not 4.
      {"reshape overflow", [&] { reshape(reshape(a, {3, 1}), {4, (std::int64_t{1} << 62) + 1}); },
       {"reshape", "3 elements", "at least 2^64 - 1 elements"}},
      {"reshape huge", [&] { reshape(g.input("e", DType::float64, {1 << 30, 1 << 30, 8}), {std::int64_t{1} << 33, 1 << 30}); },
       {"reshape", "[8589934592, 1073741824]", "more elements than a tensor can hold"}},
      {"squeeze", [&] { squeeze(a, {0}); }, {"squeeze", "size 3"}},
      {"graphs", [&] { Graph h; add(a, h.input("z")); }, {"add", "different graphs"}},
  };
  for (const Row& r : rows) {
    CAPTURE(r.what);
    const std::string msg = error_of(r.build);
    CAPTURE(msg);
    REQUIRE(!msg.empty());
    for (const auto& p : r.parts) CHECK(msg.find(p) != std::string::npos);
  }
}

TEST_CASE("element counts: exact, saturated, or an error, never wrapped") {
  CHECK(num_elements({}) == 1);
  CHECK(num_elements({3, 0, std::int64_t{1} << 62}) == 0);
  CHECK(num_elements({std::int64_t{1} << 31, std::int64_t{1} << 31}) == std::int64_t{1} << 62);
  CHECK_THROWS_WITH_AS(num_elements({std::int64_t{1} << 62, 4}),
                       "shape [4611686018427387904, 4] has more elements than a tensor can hold (2^63 - 1)", Error);
  CHECK(saturated_elements({std::int64_t{1} << 62, 2}) == std::uint64_t{1} << 63);
  CHECK(saturated_elements({std::int64_t{1} << 62, 4}) == UINT64_MAX);
  // A reshape of a 0-element value to a huge 0-element shape is fine.
  Graph g;
  CHECK(reshape(g.input("e", DType::float64, {0}), {0, std::int64_t{1} << 62, 4}).shape() ==
        Shape{0, std::int64_t{1} << 62, 4});
}

TEST_CASE("call-time checks: arity, dtype, declared shape, and run-time broadcasting") {
  Graph g;
  Expr x = g.input("x", DType::float64, {kSymbolic});
  Expr y = g.input("y", DType::float64, {kSymbolic});
  Expr m = g.input("m", DType::float64, {2, kSymbolic});
  Function f = compile({x, y}, {x + y});
  CHECK(error_of([&] { f({tensor({1.0})}); }) == "function expects 2 arguments (x, y), got 1");
  CHECK(error_of([&] {
          compile({x}, {-x})({tensor({1.0}), tensor({2.0})});
        }) == "function expects 1 argument (x), got 2");
  CHECK(error_of([&] { f({tensor({1.0}, {1}), tensor({1.0}, {1}, DType::float32)}); }) ==
        "argument 1 ('y'): expected float64[?], got float32[1] (wrong dtype)");
  CHECK(error_of([&] { f({tensor({1, 2}, {1, 2}), tensor({1.0})}); }).find("wrong rank") != std::string::npos);
  const std::string msg = error_of([&] { f({tensor({1, 2, 3}), tensor({1, 2, 3, 4})}); });
  CAPTURE(msg);
  CHECK(msg.find("add: cannot broadcast shapes [3] and [4]") == 0);
  CHECK(msg.find("axis 0") != std::string::npos);
  CHECK(error_of([&] { compile({m}, {m})({tensor({1, 2, 3}, {3, 1})}); }).find("axis 0 has size 3, declared 2") != std::string::npos);
  // Symbolic at build time, 1 at run time: broadcasts as NumPy does.
  check_same(f({tensor({10.0}, {1}), tensor({1, 2, 3})})[0], tensor({11, 12, 13}));
  check_same(f({tensor({1, 2, 3}), tensor({10.0}, {1})})[0], tensor({11, 12, 13}));
  CHECK(error_of([&] { compile({x}, {x + y}); }).find("depend on input 'y'") != std::string::npos);
  CHECK(error_of([&] { compile({x, x}, {x}); }).find("listed twice") != std::string::npos);
}

TEST_CASE("outputs never alias the arguments") {
  Graph g;
  Expr x = g.input("x", DType::float64, {2});
  Tensor arg = tensor({1, 2});
  auto out = compile({x}, {x, abs(x)})({arg});
  out[0].data<double>()[0] = 99;
  CHECK(arg.at(0) == 1);
}

TEST_CASE("Tensor: Eigen views are zero-copy and conversions keep layout") {
  Eigen::MatrixXd m(2, 3);
  m << 1, 2, 3, 4, 5, 6;
  Tensor t = Tensor::from_eigen(m);
  CHECK(t.shape() == Shape{2, 3});
  CHECK(t.to_vector<double>() == std::vector<double>{1, 2, 3, 4, 5, 6});  // row-major
  t.matrix<double>()(1, 2) = 60;
  CHECK(t.at(5) == 60);
  t.array<double>() *= 2;
  CHECK(t.at(0) == 2);
  Eigen::MatrixXd back = t.matrix<double>();
  CHECK(back(1, 2) == 120);
  Tensor v = Tensor::from_eigen(Eigen::VectorXf::LinSpaced(4, 0, 3));
  CHECK(v.shape() == Shape{4});
  CHECK(v.dtype() == DType::float32);
  CHECK(error_of([&] { t.data<float>(); }).find("float32 requested from a float64 tensor") != std::string::npos);
  CHECK(error_of([&] { Tensor(DType::float64, {kSymbolic}); }).find("symbolic") != std::string::npos);
  Tensor c = t.clone();
  CHECK(!c.shares_storage(t));
  CHECK(c.bitwise_equal(t));
}
