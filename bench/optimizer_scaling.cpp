// Optimizer time per node at 10^4, 10^5 and 10^6 nodes (near-linear growth
// expected: the engine visits each node once, plus the nodes it creates).
//
// The graph is a chain of levels, each a leaky relu written as a switch and
// some canonicalization bait, so that every level is rewritten and every
// rewrite changes the operand of the level above:
//
//   y = switch(y > 0, y, 0.1 * y)        -> relu(y, 0.1)   (mul-constant, relu-switch)
//   y = (y * 1.0) + (-0.0)               -> y              (mul-one, add-neg-zero)
//   y = tanh(-(-y))                      -> tanh(y)        (neg-neg)
//
// Also timed: the same sizes with nothing to rewrite (a chain of tanh), the
// cost of visiting alone. Each size is built and optimized in a fresh graph;
// the best of three runs is reported.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <symgraph/symgraph.hpp>

using namespace symgraph;

namespace {

struct Result {
  std::size_t nodes = 0;
  std::size_t added = 0;
  double seconds = 0.0;
};

template <class Level> Result measure(std::size_t target, Level level) {
  Result best;
  for (int run = 0; run < 3; ++run) {
    Graph g;
    Expr y = g.input("x", DType::float32, {kSymbolic});
    while (g.size() < target) y = level(y);
    const std::size_t nodes = g.size();
    const auto start = std::chrono::steady_clock::now();
    const std::vector<Expr> out = optimize({y});
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (run == 0 || seconds < best.seconds) best = {nodes, g.size() - nodes, seconds};
  }
  return best;
}

void report(const char* what, const Result& r) {
  std::printf("%-10s %9zu nodes  %8.3f s  %7.2f us/node  (+%zu nodes)\n", what, r.nodes, r.seconds,
              r.seconds / static_cast<double>(r.nodes) * 1e6, r.added);
}

}  // namespace

int main() {
  std::printf("optimize(), Pipeline::standard(), float32 chains; best of 3\n");
  for (std::size_t n : {10'000u, 100'000u, 1'000'000u}) {
    report("rewritten", measure(n, [](const Expr& y) {
             Expr r = where(y > 0.0, y, 0.1 * y);
             r = (r * 1.0) + constant_like(r, -0.0);
             return tanh(-(-r));
           }));
    report("unchanged", measure(n, [](const Expr& y) { return tanh(y); }));
  }
  return 0;
}
