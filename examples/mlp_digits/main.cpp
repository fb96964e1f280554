// Trains a 64 -> 64 -> 10 relu network on the 8x8 digits with symgraph's
// gradients. See README.md beside this file for the data, the fixed splits
// and the measured results.
//
//   mlp_digits [--epochs N] [--seed S] [--leaky ALPHA | --prelu] [--split stratified|last20]
//              [--lr LR] [--momentum M] [--batch B] [--label-smoothing S]
//              [--threads T] [--data PATH] [--dump-json FILE]
#include <CLI/CLI.hpp>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <string>

#include "model.hpp"

namespace {

// Option checks with messages that say what is wanted. CLI11's PositiveNumber
// and Range let NaN through and print the type's whole range.
double parse_double(const std::string& text) {
  double v = 0.0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nan("");
  return v;
}

CLI::Validator real_in(double low, double high, bool low_open, bool high_open, const std::string& what) {
  return CLI::Validator(
      [=](const std::string& text) -> std::string {
        const double v = parse_double(text);
        const bool ok = std::isfinite(v) && (low_open ? v > low : v >= low) && (high_open ? v < high : v <= high);
        return ok ? std::string() : "'" + text + "' is not " + what;
      },
      what);
}

CLI::Validator whole_in(long long low, long long high, const std::string& what) {
  return CLI::Validator(
      [=](const std::string& text) -> std::string {
        long long v = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        const bool ok = ec == std::errc() && end == text.data() + text.size() && v >= low && v <= high;
        return ok ? std::string() : "'" + text + "' is not " + what;
      },
      what);
}

const double kHuge = std::numeric_limits<double>::max();

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Train a small relu network on the digits data set with symgraph"};
  mlp::Config config;
  int epochs = 30;
  std::uint64_t seed = 1;
  double leaky = 0.0;
  bool prelu = false;
  mlp::Split split = mlp::Split::stratified;
  int threads = 1;
  std::string data = SYMGRAPH_DATA_DIR "/digits.csv.gz";
  std::string dump;
  app.add_option("--epochs", epochs, "Training epochs")
      ->check(whole_in(1, 1'000'000, "a whole number of epochs from 1 to 1000000"))
      ->capture_default_str();
  app.add_option("--seed", seed, "Seed of the initial weights and the batch order")
      ->check(whole_in(0, std::numeric_limits<long long>::max(), "a non-negative whole number"))
      ->capture_default_str();
  auto* leaky_opt = app.add_option("--leaky", leaky, "Leaky relu with this fixed slope")
                        ->check(real_in(-kHuge, kHuge, false, false, "a finite slope"));
  app.add_flag("--prelu", prelu, "PReLU: a learned slope per hidden unit (starting at 0.25)")->excludes(leaky_opt);
  const std::map<std::string, mlp::Split> splits = {{"stratified", mlp::Split::stratified},
                                                    {"last20", mlp::Split::last20}};
  app.add_option("--split", split,
                 "Test rows: stratified (every 5th row of each digit) or last20 (last 20% of the file)")
      ->transform(CLI::CheckedTransformer(splits, CLI::ignore_case))
      ->capture_default_str();
  app.add_option("--lr", config.lr, "Learning rate")
      ->check(real_in(0.0, kHuge, true, false, "a finite learning rate above 0"))
      ->capture_default_str();
  app.add_option("--momentum", config.momentum, "Momentum")
      ->check(real_in(0.0, 1.0, false, true, "a momentum in [0, 1)"))
      ->capture_default_str();
  app.add_option("--batch", config.batch_size, "Mini-batch size (larger than the training rows: one batch)")
      ->check(whole_in(1, 1'000'000'000, "a whole batch size from 1 on"))
      ->capture_default_str();
  app.add_option("--label-smoothing", config.label_smoothing, "Weight of the uniform target (0: one-hot)")
      ->check(real_in(0.0, 1.0, false, false, "a weight in [0, 1]"))
      ->capture_default_str();
  app.add_option("--threads", threads, "Threads per evaluation (0: all)")
      ->check(whole_in(0, 4096, "a thread count from 0 (all) to 4096"))
      ->capture_default_str();
  app.add_option("--data", data, "Path of digits.csv.gz")->capture_default_str();
  app.add_option("--dump-json", dump, "Write the optimized training graph (loss and gradients) as JSON");
  // Bad usage is like the symgraph command's (docs/cli.md): exit status 1,
  // nothing on standard output, one line "error: ..." on standard error.
  // --help prints usage on standard output, status 0.
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) {
      std::fputs(app.help().c_str(), stdout);
      return 0;
    }
    std::string message = e.what();
    for (char& c : message)
      if (c == '\n' || c == '\r') c = ' ';
    std::fprintf(stderr, "error: %s (see --help)\n", message.c_str());
    return 1;
  }

  try {
    std::string activation = "relu";
    if (prelu) {
      config.activation = mlp::Activation::prelu;
      config.alpha = 0.25;
      activation = "prelu (learned slope per unit, from 0.25)";
    } else if (leaky_opt->count()) {
      config.activation = mlp::Activation::leaky;
      config.alpha = leaky;
      char slope[32];
      std::snprintf(slope, sizeof slope, "%g", leaky);
      activation = std::string("leaky relu, slope ") + slope;
    }
    // Open the output before training, so a bad path fails at once.
    std::ofstream dump_file;
    if (!dump.empty()) {
      dump_file.open(dump);
      if (!dump_file) throw symgraph::Error("cannot write " + dump + " (--dump-json)");
    }
    const auto [train, test] = mlp::split(mlp::load_digits(data), split);
    std::printf("digits: %lld train, %lld test rows (%s); %s; lr %g, momentum %g, batch %lld, "
                "label smoothing %g, seed %llu\n",
                static_cast<long long>(train.size()), static_cast<long long>(test.size()),
                split == mlp::Split::stratified ? "stratified split: every 5th row of each digit"
                                                : "last20 split: the last 20% of the file",
                activation.c_str(), config.lr, config.momentum, static_cast<long long>(config.batch_size),
                config.label_smoothing, static_cast<unsigned long long>(seed));
    using Clock = std::chrono::steady_clock;
    const auto seconds_since = [](Clock::time_point t) {
      return std::chrono::duration<double>(Clock::now() - t).count();
    };
    const auto t0 = Clock::now();
    mlp::Trainer trainer(config, seed, threads);
    std::printf("built, differentiated, optimized and compiled in %.3f s\n", seconds_since(t0));
    double test_acc = 0.0;
    for (int e = 1; e <= epochs; ++e) {
      const auto start = Clock::now();
      const double loss = trainer.epoch(train);
      if (!std::isfinite(loss)) {
        std::fflush(stdout);
        std::fprintf(stderr, "error: training diverged in epoch %d (mean loss %g): lower --lr or --momentum\n", e,
                     loss);
        return 1;
      }
      const double train_acc = trainer.accuracy(train);
      test_acc = trainer.accuracy(test);
      std::printf("epoch %2d  loss %.4f  train acc %.4f  test acc %.4f  (%.3f s)\n", e, loss, train_acc, test_acc,
                  seconds_since(start));
    }
    std::printf("final test accuracy %.4f after %s, %.2f s in all\n", test_acc,
                symgraph::count_str(static_cast<std::uint64_t>(epochs), "epoch").c_str(), seconds_since(t0));
    std::printf("training graph (loss and %zu gradients): %zu nodes before optimization, %zu after\n",
                trainer.model().params.size(), trainer.nodes_before(), trainer.nodes_after());
    if (!dump.empty()) {
      dump_file << symgraph::to_json(trainer.model().inputs(), trainer.optimized_outputs());
      dump_file.close();
      if (!dump_file) throw symgraph::Error("cannot write " + dump + " (--dump-json)");
      std::printf("wrote the optimized training graph to %s\n", dump.c_str());
    }
  } catch (const symgraph::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
