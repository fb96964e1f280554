#pragma once
// A 64 -> hidden -> 10 relu network for the 8x8 digits, as a symgraph graph,
// trained with gradients from grad(). Shared by examples/mlp_digits and its
// test (tests/test_mlp.cpp); see examples/mlp_digits/README.md for the split,
// the training recipe and the measured results.
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <symgraph/symgraph.hpp>
#include <utility>
#include <vector>

namespace mlp {

using namespace symgraph;

/// Images (one row of 64 pixels, each scaled from 0..16 to [0, 1]) and labels 0..9.
struct Dataset {
  std::vector<float> pixels;
  std::vector<int> labels;
  std::int64_t size() const { return static_cast<std::int64_t>(labels.size()); }
  /// The rows `rows`, in that order.
  Dataset rows(const std::vector<std::int64_t>& rows) const {
    Dataset d;
    for (const std::int64_t r : rows) {
      d.labels.push_back(labels[static_cast<std::size_t>(r)]);
      const auto first = pixels.begin() + r * 64;
      d.pixels.insert(d.pixels.end(), first, first + 64);
    }
    return d;
  }
};

/// Reads digits.csv.gz: 64 pixel values 0..16 then the label, per line.
inline Dataset load_digits(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw Error("cannot open " + path);
  std::string text;
  std::array<char, 1 << 16> buf;
  int n;
  while ((n = gzread(f, buf.data(), static_cast<unsigned>(buf.size()))) > 0)
    text.append(buf.data(), static_cast<std::size_t>(n));
  gzclose(f);
  if (n < 0) throw Error("cannot read " + path + " (not gzip?)");
  Dataset all;
  std::istringstream lines(text);
  std::string line;
  int lineno = 0;
  while (std::getline(lines, line)) {
    ++lineno;
    if (line.empty()) continue;
    std::replace(line.begin(), line.end(), ',', ' ');
    std::istringstream fields(line);
    std::vector<double> v;
    double x;
    while (fields >> x) v.push_back(x);
    if (v.size() != 65 || v[64] < 0 || v[64] > 9 || v[64] != std::floor(v[64]))
      throw Error(path + ":" + std::to_string(lineno) + ": expected 64 pixels and a label 0..9");
    for (std::size_t i = 0; i < 64; ++i) {
      if (!(v[i] >= 0 && v[i] <= 16)) throw Error(path + ":" + std::to_string(lineno) + ": pixel out of 0..16");
      all.pixels.push_back(static_cast<float>(v[i] / 16.0));
    }
    all.labels.push_back(static_cast<int>(v[64]));
  }
  if (all.size() == 0) throw Error(path + ": no rows");
  return all;
}

/// The two fixed train/test splits (no randomness in either).
///  - stratified: the 5th, 10th, 15th, ... row of each digit (in file order)
///    is a test row, the others train: 20% of every class, all writers on
///    both sides. The default.
///  - last20: the last 20% of the file is the test set. The 1797 images come
///    from 13 writers; contiguous blocks of rows test much worse than
///    interleaved rows (README), as if rows came writer by writer, so this
///    split mostly tests on writers unseen in training and is harder.
enum class Split { stratified, last20 };

inline std::pair<Dataset, Dataset> split(const Dataset& all, Split how) {
  std::vector<std::int64_t> train, test;
  if (how == Split::stratified) {
    std::array<std::int64_t, 10> seen{};
    for (std::int64_t r = 0; r < all.size(); ++r)
      (++seen[static_cast<std::size_t>(all.labels[static_cast<std::size_t>(r)])] % 5 == 0 ? test : train).push_back(r);
  } else {
    const auto n_test = static_cast<std::int64_t>(std::llround(static_cast<double>(all.size()) * 0.2));
    for (std::int64_t r = 0; r < all.size(); ++r) (r < all.size() - n_test ? train : test).push_back(r);
  }
  return {all.rows(train), all.rows(test)};
}

enum class Activation { relu, leaky, prelu };

/// The network and how it is trained. The defaults are the recipe of the
/// README: chosen by cross-validation on the training rows only.
struct Config {
  Activation activation = Activation::relu;
  double alpha = 0.1;  ///< leaky slope, or the initial PReLU slope of every unit
  std::int64_t hidden = 64;
  DType dtype = DType::float32;
  std::int64_t batch_size = 32;
  double lr = 0.1;
  double momentum = 0.9;
  /// Targets (1 - s) * onehot + s / 10: keeps the logits from growing without
  /// bound once the training rows are all right, which is what made the
  /// network overfit (see the README).
  double label_smoothing = 0.2;
};

/// The graph: inputs x [?, 64], y (target distribution per row) [?, 10],
/// inv_batch (0-d: 1/rows), and the parameters. loss = mean softmax
/// cross-entropy in the stable form
///   z = logits - max(logits),  log p = z - log(sum(exp(z))),
///   loss = -(1/rows) * sum(y * log p),
/// where exp(z) <= 1 cannot overflow and the sum is >= 1, so the log is finite.
struct Model {
  Graph g;
  Expr x, y, inv_batch;
  std::vector<Expr> params;  ///< w1, b1, w2, b2 [, alpha]
  std::vector<std::string> param_names;
  Expr logits, loss;

  explicit Model(const Config& c) {
    const DType t = c.dtype;
    x = g.input("x", t, {kSymbolic, 64});
    y = g.input("y", t, {kSymbolic, 10});
    inv_batch = g.input("inv_batch", t, {});
    Expr w1 = g.input("w1", t, {64, c.hidden});
    Expr b1 = g.input("b1", t, {c.hidden});
    Expr w2 = g.input("w2", t, {c.hidden, 10});
    Expr b2 = g.input("b2", t, {10});
    params = {w1, b1, w2, b2};
    param_names = {"w1", "b1", "w2", "b2"};
    Expr pre = matmul(x, w1) + b1;
    Expr h;
    switch (c.activation) {
      case Activation::relu: h = relu(pre); break;
      case Activation::leaky: h = relu(pre, c.alpha); break;
      case Activation::prelu: {
        Expr alpha = g.input("alpha", t, {c.hidden});
        params.push_back(alpha);
        param_names.push_back("alpha");
        h = relu(pre, alpha);
        break;
      }
    }
    logits = matmul(h, w2) + b2;
    Expr z = logits - max(logits, {1}, true);
    Expr logp = z - log(sum(exp(z), {1}, true));
    loss = -(sum(y * logp) * inv_batch);
  }

  /// Function arguments: x, y, inv_batch, then the parameters.
  std::vector<Expr> inputs() const {
    std::vector<Expr> in = {x, y, inv_batch};
    in.insert(in.end(), params.begin(), params.end());
    return in;
  }
};

/// He initialisation N(0, 2 / fan_in) for the weights (keeps the variance of
/// relu activations from layer to layer), zero biases, PReLU slopes at alpha.
inline std::vector<Tensor> init_params(const Model& m, const Config& c, std::uint64_t seed) {
  std::seed_seq seq{seed, std::uint64_t{1}};
  std::mt19937_64 rng(seq);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<Tensor> out;
  for (std::size_t i = 0; i < m.params.size(); ++i) {
    const Shape& s = m.params[i].shape();
    Tensor p(c.dtype, s);
    const std::string& name = m.param_names[i];
    const double stddev = std::sqrt(2.0 / static_cast<double>(s[0]));
    for (std::int64_t k = 0; k < p.size(); ++k) {
      const double v = name[0] == 'w' ? stddev * normal(rng) : name == "alpha" ? c.alpha : 0.0;
      if (c.dtype == DType::float32) p.data<float>()[k] = static_cast<float>(v);
      else p.data<double>()[k] = v;
    }
    out.push_back(p);
  }
  return out;
}

/// Rows `idx` of the data set as the arguments (x, y, 1/rows) of the model,
/// y the one-hot label smoothed by `smoothing`.
inline std::vector<Tensor> batch(const Dataset& d, const std::vector<std::int64_t>& idx, DType dtype,
                                 double smoothing = 0.0) {
  const auto rows = static_cast<std::int64_t>(idx.size());
  Tensor x(dtype, {rows, 64}), y(dtype, {rows, 10});
  auto set = [dtype](Tensor& t, std::int64_t k, double v) {
    if (dtype == DType::float32) t.data<float>()[k] = static_cast<float>(v);
    else t.data<double>()[k] = v;
  };
  for (std::int64_t r = 0; r < rows; ++r) {
    const std::int64_t i = idx[static_cast<std::size_t>(r)];
    for (std::int64_t k = 0; k < 64; ++k) set(x, r * 64 + k, d.pixels[static_cast<std::size_t>(i * 64 + k)]);
    const int label = d.labels[static_cast<std::size_t>(i)];
    for (int k = 0; k < 10; ++k) set(y, r * 10 + k, (k == label ? 1.0 - smoothing : 0.0) + smoothing / 10.0);
  }
  return {x, y, Tensor::scalar(1.0 / static_cast<double>(std::max<std::int64_t>(rows, 1)), dtype)};
}

/// Number of reachable nodes of a graph.
inline std::size_t graph_size(const std::vector<Expr>& outputs) { return compact(outputs).graph.size(); }

/// Training: the loss-and-gradient graph is optimized with the standard
/// pipeline and compiled once; SGD with momentum over shuffled mini-batches:
///   v <- momentum * v - lr * g,   p <- p + v.
/// Deterministic: the same seed gives the same bits (one thread per call).
class Trainer {
 public:
  Trainer(const Config& c, std::uint64_t seed, int threads = 1) : config_(c), model_(c) {
    std::seed_seq seq{seed, std::uint64_t{2}};  // the batch order: a stream apart from init_params'
    rng_.seed(seq);
    std::vector<Expr> outputs = {model_.loss};
    const std::vector<Expr> grads = grad(model_.loss, model_.params);
    outputs.insert(outputs.end(), grads.begin(), grads.end());
    nodes_before_ = graph_size(outputs);
    optimized_ = optimize(outputs);  // differentiate first, then optimize
    nodes_after_ = graph_size(optimized_);
    CompileOptions options;
    options.num_threads = threads;
    options.pipeline = Pipeline::none();  // optimized above
    step_ = compile(model_.inputs(), optimized_, options);
    std::vector<Expr> predict_inputs = {model_.x};
    predict_inputs.insert(predict_inputs.end(), model_.params.begin(), model_.params.end());
    options.pipeline = Pipeline::standard();
    predict_ = compile(predict_inputs, {model_.logits}, options);
    params_ = init_params(model_, c, seed);
    for (const Tensor& p : params_) velocity_.push_back(Tensor(p.dtype(), p.shape()));
  }

  /// The loss and its gradients (one per parameter) at the current
  /// parameters, for `batch` = (x, y, inv_batch), by the compiled step.
  std::vector<Tensor> loss_and_grads(const std::vector<Tensor>& batch) const {
    std::vector<Tensor> args = batch;
    args.insert(args.end(), params_.begin(), params_.end());
    return step_(args);
  }

  /// One update on `batch`; returns the loss before it.
  double step(const std::vector<Tensor>& batch) {
    const std::vector<Tensor> out = loss_and_grads(batch);
    for (std::size_t i = 0; i < params_.size(); ++i) update(params_[i], velocity_[i], out[i + 1]);
    return out[0].at(0);
  }

  /// One epoch over `train` in a fresh random order; returns the mean
  /// training loss over its batches.
  double epoch(const Dataset& train) {
    std::vector<std::int64_t> order(static_cast<std::size_t>(train.size()));
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng_);
    double total = 0.0;
    std::int64_t batches = 0;
    for (std::int64_t start = 0; start < train.size(); start += config_.batch_size) {
      const std::int64_t end = std::min(train.size(), start + config_.batch_size);
      const std::vector<std::int64_t> idx(order.begin() + start, order.begin() + end);
      total += step(batch(train, idx, config_.dtype, config_.label_smoothing));
      ++batches;
    }
    return total / static_cast<double>(batches);
  }

  /// Fraction of rows whose largest logit is the label.
  double accuracy(const Dataset& d) const {
    std::vector<std::int64_t> idx(static_cast<std::size_t>(d.size()));
    std::iota(idx.begin(), idx.end(), 0);
    std::vector<Tensor> args = {batch(d, idx, config_.dtype)[0]};
    args.insert(args.end(), params_.begin(), params_.end());
    const Tensor logits = predict_(args)[0];
    std::int64_t right = 0;
    for (std::int64_t r = 0; r < d.size(); ++r) {
      std::int64_t best = 0;
      for (std::int64_t k = 1; k < 10; ++k)
        if (logits.at(r * 10 + k) > logits.at(r * 10 + best)) best = k;
      right += best == d.labels[static_cast<std::size_t>(r)];
    }
    return static_cast<double>(right) / static_cast<double>(d.size());
  }

  const Config& config() const { return config_; }
  const Model& model() const { return model_; }
  const std::vector<Tensor>& params() const { return params_; }
  const std::vector<Expr>& optimized_outputs() const { return optimized_; }
  std::size_t nodes_before() const { return nodes_before_; }
  std::size_t nodes_after() const { return nodes_after_; }

 private:
  template <class T> void update_typed(Tensor& p, Tensor& v, const Tensor& g) const {
    auto vp = v.array<T>();
    vp = static_cast<T>(config_.momentum) * vp - static_cast<T>(config_.lr) * g.array<T>();
    p.array<T>() += vp;
  }
  void update(Tensor& p, Tensor& v, const Tensor& g) const {
    if (p.dtype() == DType::float32) update_typed<float>(p, v, g);
    else update_typed<double>(p, v, g);
  }

  Config config_;
  Model model_;
  std::mt19937_64 rng_;
  std::vector<Expr> optimized_;
  std::size_t nodes_before_ = 0, nodes_after_ = 0;
  Function step_, predict_;
  std::vector<Tensor> params_, velocity_;
};

}  // namespace mlp
