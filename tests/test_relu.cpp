// relu and leaky relu built without a branch: structure and values.
#include <algorithm>

#include "harness.hpp"

using namespace sgtest;

namespace {
std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}
}  // namespace

TEST_CASE("relu(x) is scale(add(x, abs(x)), 0.5)") {
  Graph g;
  Expr x = g.input("x", DType::float64, {kSymbolic});
  Expr r = relu(x);
  CHECK(sorted(reachable_ops({r})) == sorted({"input", "abs", "add", "scale"}));
  CHECK(r.op_name() == "scale");
  CHECK(r.attrs().get<double>("factor") == 0.5);
  CHECK(r.input(0).op_name() == "add");
  CHECK(r.input(0).input(0).is(x));
  CHECK(r.input(0).input(1).is(abs(x)));
  CHECK(relu(x).is(r));  // hash-consing: built twice, one node
  CHECK(relu(x, 0.0).is(r));
}

TEST_CASE("leaky relu is add(scale(x, f1), scale(abs(x), f2))") {
  Graph g;
  Expr x = g.input("x", DType::float64, {kSymbolic});
  Expr l = relu(x, 0.1);
  CHECK(sorted(reachable_ops({l})) == sorted({"input", "abs", "scale", "scale", "add"}));
  CHECK(l.op_name() == "add");
  CHECK(l.input(0).op_name() == "scale");
  CHECK(l.input(0).input(0).is(x));
  CHECK(l.input(0).attrs().get<double>("factor") == (1.0 + 0.1) / 2.0);
  CHECK(l.input(1).op_name() == "scale");
  CHECK(l.input(1).input(0).is(abs(x)));
  CHECK(l.input(1).attrs().get<double>("factor") == (1.0 - 0.1) / 2.0);
  CHECK(relu(x, 0.1).is(l));
  CHECK(!relu(x, 0.2).is(l));
}

TEST_CASE("relu values") {
  Graph g;
  Expr x = g.input("x", DType::float64, {kSymbolic});
  auto out = run({x}, {relu(x), relu(x, 0.1)}, {tensor({-2, -0.5, -0.0, 0, 0.5, 3})});
  // The abs form turns -0 into +0: x + |x| = -0 + 0 = +0.
  check_same(out[0], tensor({0, 0, 0, 0, 0.5, 3}));
  const std::vector<double> want = {-0.2, -0.05, 0, 0, 0.5, 3};
  for (std::size_t i = 0; i < want.size(); ++i) {
    CAPTURE(i);
    CHECK(!std::signbit(out[1].at(static_cast<std::int64_t>(i))) == (want[i] >= 0));
    CHECK(ulp_distance(out[1].at(static_cast<std::int64_t>(i)), want[i]) <= 4);
  }
}

TEST_CASE("relu in float32 stays float32 and matches within 4 ulp") {
  Graph g;
  Expr x = g.input("x", DType::float32, {6});
  auto out = run({x}, {relu(x), relu(x, 0.1)}, {tensor({-2, -0.5, -0.0, 0, 0.5, 3}, {}, DType::float32)});
  CHECK(out[0].dtype() == DType::float32);
  check_same(out[0], tensor({0, 0, 0, 0, 0.5, 3}, {}, DType::float32));
  const std::vector<float> want = {-0.2f, -0.05f, 0, 0, 0.5f, 3};
  for (std::size_t i = 0; i < want.size(); ++i)
    CHECK(ulp_distance(out[1].data<float>()[i], want[i]) <= 4);
}

TEST_CASE("leaky relu with a tensor alpha broadcasts the slope per column") {
  Graph g;
  Expr x = g.input("x", DType::float64, {3, 2});
  Expr alpha = g.input("alpha", DType::float64, {2});
  Expr y = relu(x, alpha);
  CHECK(y.shape() == Shape{3, 2});
  CHECK(y.op_name() == "add");
  auto out = run({x, alpha}, {y}, {tensor({-1, -1, 2, 3, -4, -10}, {3, 2}), tensor({0.1, 0.5})});
  const std::vector<double> want = {-0.1, -0.5, 2, 3, -0.4, -5};
  for (std::size_t i = 0; i < want.size(); ++i) {
    CAPTURE(i);
    CHECK(ulp_distance(out[0].at(static_cast<std::int64_t>(i)), want[i]) <= 4);
  }
  CHECK(error_of([&] { relu(x, g.input("a32", DType::float32, {2})); }).find("one dtype") != std::string::npos);
}

// The abs form computes the negative side as f1*x - f2*|x|, a difference of
// two products of size ~|x| whose result is alpha*|x|: its error is a few ulp
// of |x|, that is about 1/alpha ulp of the result (docs/optimizer.md).
TEST_CASE("relu agrees with switch(x > 0, x, alpha * x) within 4 + 2/alpha ulp") {
  Graph g;
  Expr x = g.input("x", DType::float64, {kSymbolic});
  std::vector<double> xs;
  std::uint64_t s = 42;
  for (int i = 0; i < 1000; ++i) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    xs.push_back((static_cast<double>(s >> 11) / 9007199254740992.0 - 0.5) * 200.0);
  }
  for (double alpha : {0.0, 0.01, 0.1, 0.3, 0.9}) {
    CAPTURE(alpha);
    auto out = run({x}, {relu(x, alpha), where(x > 0.0, x, alpha * x)}, {tensor(xs)});
    const double bound = alpha == 0.0 ? 0.0 : 4.0 + 2.0 / alpha;
    std::int64_t worst = 0;
    for (std::int64_t i = 0; i < out[0].size(); ++i) {
      const std::int64_t d = ulp_distance(out[0].at(i), out[1].at(i));
      worst = std::max(worst, d);
      if (xs[static_cast<std::size_t>(i)] > 0) CHECK(d <= 4);
    }
    CAPTURE(worst);
    CHECK(static_cast<double>(worst) <= bound);
  }
}
