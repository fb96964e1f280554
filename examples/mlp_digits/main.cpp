// Trains a 64 -> 64 -> 10 relu network on the 8x8 digits with symgraph's
// gradients. See data/README.md for the data and the fixed split.
//
//   mlp_digits [--epochs N] [--seed S] [--leaky ALPHA | --prelu] [--lr LR]
//              [--batch B] [--threads T] [--data PATH] [--dump-json FILE]
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>

#include "model.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Train a small relu network on the digits data set with symgraph"};
  int epochs = 30;
  std::uint64_t seed = 1;
  double leaky = 0.0;
  bool prelu = false;
  double lr = 0.05;
  double momentum = 0.9;
  std::int64_t batch_size = 32;
  int threads = 1;
  std::string data = SYMGRAPH_DATA_DIR "/digits.csv.gz";
  std::string dump;
  app.add_option("--epochs", epochs, "Training epochs")->check(CLI::PositiveNumber);
  app.add_option("--seed", seed, "Seed of the initial weights and the batch order");
  auto* leaky_opt = app.add_option("--leaky", leaky, "Leaky relu with this fixed slope");
  app.add_flag("--prelu", prelu, "PReLU: a learned slope per hidden unit (starting at 0.25)")->excludes(leaky_opt);
  app.add_option("--lr", lr, "Learning rate")->check(CLI::PositiveNumber);
  app.add_option("--momentum", momentum, "Momentum")->check(CLI::Range(0.0, 1.0));
  app.add_option("--batch", batch_size, "Mini-batch size")->check(CLI::PositiveNumber);
  app.add_option("--threads", threads, "Threads per evaluation (0: all)")->check(CLI::NonNegativeNumber);
  app.add_option("--data", data, "Path of digits.csv.gz");
  app.add_option("--dump-json", dump, "Write the optimized training graph as JSON to this file");
  CLI11_PARSE(app, argc, argv);

  try {
    mlp::Config config;
    if (prelu) {
      config.activation = mlp::Activation::prelu;
      config.alpha = 0.25;
    } else if (leaky_opt->count()) {
      config.activation = mlp::Activation::leaky;
      config.alpha = leaky;
    }
    auto [train, test] = mlp::load_digits(data);
    std::printf("digits: %lld train, %lld test (last 20%% of the file); activation %s\n",
                static_cast<long long>(train.size()), static_cast<long long>(test.size()),
                prelu ? "prelu (learned slope)" : leaky_opt->count() ? ("leaky relu " + std::to_string(leaky)).c_str() : "relu");
    const auto t0 = std::chrono::steady_clock::now();
    mlp::Trainer trainer(config, seed, threads);
    for (int e = 1; e <= epochs; ++e) {
      const auto start = std::chrono::steady_clock::now();
      const double loss = trainer.epoch(train, batch_size, lr, momentum);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::printf("epoch %2d  loss %.4f  train acc %.4f  test acc %.4f  (%.3f s)\n", e, loss,
                  trainer.accuracy(train), trainer.accuracy(test), seconds);
    }
    const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("final test accuracy %.4f after %d epochs, %.2f s in all\n", trainer.accuracy(test), epochs, total);
    std::printf("training graph (loss and %zu gradients): %zu nodes before optimization, %zu after\n",
                trainer.model().params.size(), trainer.nodes_before(), trainer.nodes_after());
    if (!dump.empty()) {
      std::ofstream out(dump);
      out << symgraph::to_json(trainer.model().inputs(), trainer.optimized_outputs());
      if (!out) throw symgraph::Error("cannot write " + dump);
      std::printf("wrote the optimized training graph to %s\n", dump.c_str());
    }
  } catch (const symgraph::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
