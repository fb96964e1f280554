// Peak memory per node and time of each stage, for the three
// 1,000,000-node workloads of the scale suite (tests/scale_workloads.hpp:
// a chain, a fan-in, a fan-out) through build, grad, optimize, to_json,
// from_json, compile_reference with a call, compile() with a call, and
// destruction.
//
// Memory is the peak resident set size a stage reaches above the resident
// size at its start (free memory handed back first), divided by the nodes
// the workload was built with; "whole run" is the highest resident size of
// all stages above the size before the workload. Linux only.
//
//   memory_per_node [nodes]     (default 1,000,000; SYMGRAPH_SCALE_NODES too)
#include <cstdio>
#include <cstdlib>
#include <string>

#include "scale_workloads.hpp"

int main(int argc, char** argv) {
  std::size_t n = workloads::node_count();
  if (argc > 1) n = static_cast<std::size_t>(std::atoll(argv[1]));
  if (n < 64) {
    std::fprintf(stderr, "usage: memory_per_node [nodes >= 64]\n");
    return 2;
  }
  std::printf("peak resident memory above each stage's start, bytes per node; %zu nodes a workload\n", n);
  for (const char* shape : {"chain", "fan_in", "fan_out"}) {
    std::size_t nodes = 0, final_size = 0;
    const workloads::Report r = workloads::run_stages(shape, n, [&](workloads::Workload& w, const std::string& stage) {
      if (stage == "build") nodes = w.graph.size();
      final_size = w.graph.size();
    });
    std::printf("\n%s (%zu nodes built, %zu in the store at the end)\n", shape, nodes, final_size);
    std::printf("  %-18s %10s %14s\n", "stage", "seconds", "bytes/node");
    for (const auto& s : r.stages) {
      if (s.peak_bytes)
        std::printf("  %-18s %10.3f %14.1f\n", s.name.c_str(), s.seconds,
                    static_cast<double>(*s.peak_bytes) / static_cast<double>(nodes));
      else
        std::printf("  %-18s %10.3f %14s\n", s.name.c_str(), s.seconds, "n/a");
    }
    if (const auto p = r.peak_bytes())
      std::printf("  %-18s %10s %14.1f\n", "whole run", "", static_cast<double>(*p) / static_cast<double>(nodes));
    std::printf("  %-18s %10s %14.1f\n", "left after", "",
                static_cast<double>(r.stages.back().rss_after) / static_cast<double>(nodes) -
                    static_cast<double>(r.baseline_rss) / static_cast<double>(nodes));
  }
  return 0;
}
