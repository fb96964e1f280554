#pragma once
// A 64 -> hidden -> 10 relu network for the 8x8 digits, as a symgraph graph,
// trained with gradients from grad(). Shared by examples/mlp_digits and its
// test (tests/test_mlp.cpp).
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <symgraph/symgraph.hpp>
#include <vector>

namespace mlp {

using namespace symgraph;

/// Images (one row of 64 pixels scaled to [0, 1] each) and labels 0..9.
struct Dataset {
  std::vector<float> pixels;
  std::vector<int> labels;
  std::int64_t size() const { return static_cast<std::int64_t>(labels.size()); }
};

/// Reads digits.csv.gz: 64 pixel values 0..16 then the label, per line.
inline std::pair<Dataset, Dataset> load_digits(const std::string& path, double test_fraction = 0.2) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw Error("cannot open " + path);
  std::string text;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) text.append(buf, static_cast<std::size_t>(n));
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
    if (v.size() != 65 || v[64] < 0 || v[64] > 9)
      throw Error(path + ":" + std::to_string(lineno) + ": expected 64 pixels and a label 0..9");
    for (int i = 0; i < 64; ++i) all.pixels.push_back(static_cast<float>(v[static_cast<std::size_t>(i)] / 16.0));
    all.labels.push_back(static_cast<int>(v[64]));
  }
  // Fixed split: the last test_fraction of the rows is the test set.
  const auto n_test = static_cast<std::int64_t>(std::round(static_cast<double>(all.size()) * test_fraction));
  const std::int64_t n_train = all.size() - n_test;
  Dataset train, test;
  train.labels.assign(all.labels.begin(), all.labels.begin() + n_train);
  test.labels.assign(all.labels.begin() + n_train, all.labels.end());
  train.pixels.assign(all.pixels.begin(), all.pixels.begin() + n_train * 64);
  test.pixels.assign(all.pixels.begin() + n_train * 64, all.pixels.end());
  return {train, test};
}

enum class Activation { relu, leaky, prelu };

struct Config {
  Activation activation = Activation::relu;
  double alpha = 0.1;  ///< leaky slope, or the initial PReLU slope
  std::int64_t hidden = 64;
  DType dtype = DType::float32;
};

/// The graph: inputs x [?, 64], y (one-hot) [?, 10], inv_batch (0-d: 1/rows),
/// and the parameters. loss = mean softmax cross-entropy, stable form:
/// logp = z - log(sum(exp(z))), z = logits - max(logits).
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

/// He-initialised weights, zero biases, PReLU slopes at `alpha`.
inline std::vector<Tensor> init_params(const Model& m, const Config& c, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Tensor> out;
  for (std::size_t i = 0; i < m.params.size(); ++i) {
    const Shape& s = m.params[i].shape();
    Tensor p(c.dtype, s);
    const std::string& name = m.param_names[i];
    const double stddev = name[0] == 'w' ? std::sqrt(2.0 / static_cast<double>(s[0])) : 0.0;
    std::normal_distribution<double> normal(0.0, 1.0);
    for (std::int64_t k = 0; k < p.size(); ++k) {
      const double v = name == "alpha" ? c.alpha : stddev * normal(rng);
      if (c.dtype == DType::float32) p.data<float>()[k] = static_cast<float>(v);
      else p.data<double>()[k] = v;
    }
    out.push_back(p);
  }
  return out;
}

/// Rows `idx` of the data set as (x, one-hot y, 1/rows) tensors of `dtype`.
inline std::vector<Tensor> batch(const Dataset& d, const std::vector<std::int64_t>& idx, DType dtype) {
  const auto rows = static_cast<std::int64_t>(idx.size());
  Tensor x(dtype, {rows, 64}), y(dtype, {rows, 10});
  for (std::int64_t r = 0; r < rows; ++r) {
    const std::int64_t i = idx[static_cast<std::size_t>(r)];
    for (int k = 0; k < 64; ++k) {
      const float v = d.pixels[static_cast<std::size_t>(i * 64 + k)];
      if (dtype == DType::float32) x.data<float>()[r * 64 + k] = v;
      else x.data<double>()[r * 64 + k] = v;
    }
    const int label = d.labels[static_cast<std::size_t>(i)];
    if (dtype == DType::float32) y.data<float>()[r * 10 + label] = 1.0f;
    else y.data<double>()[r * 10 + label] = 1.0;
  }
  return {x, y, Tensor::scalar(1.0 / static_cast<double>(std::max<std::int64_t>(rows, 1)), dtype)};
}

/// Number of reachable nodes of a graph.
inline std::size_t graph_size(const std::vector<Expr>& outputs) { return compact(outputs).graph.size(); }

/// Training: the loss-and-gradient graph is optimized with the standard
/// pipeline and compiled once; SGD with momentum over shuffled mini-batches.
class Trainer {
 public:
  Trainer(const Config& c, std::uint64_t seed, int threads = 1) : config_(c), model_(c), rng_(seed) {
    std::vector<Expr> outputs = {model_.loss};
    const std::vector<Expr> grads = grad(model_.loss, model_.params);
    outputs.insert(outputs.end(), grads.begin(), grads.end());
    nodes_before_ = graph_size(outputs);
    optimized_ = optimize(outputs);  // differentiate first, then optimize
    nodes_after_ = graph_size(optimized_);
    CompileOptions options;
    options.num_threads = threads;
    step_ = compile(model_.inputs(), optimized_, options);
    std::vector<Expr> predict_inputs = {model_.x};
    predict_inputs.insert(predict_inputs.end(), model_.params.begin(), model_.params.end());
    predict_ = compile(predict_inputs, optimize({model_.logits}), options);
    params_ = init_params(model_, c, seed);
    for (const Tensor& p : params_) velocity_.push_back(Tensor(p.dtype(), p.shape()));
  }

  /// One epoch; returns the mean training loss over its batches.
  double epoch(const Dataset& train, std::int64_t batch_size, double lr, double momentum) {
    std::vector<std::int64_t> order(static_cast<std::size_t>(train.size()));
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng_);
    double total = 0.0;
    std::int64_t batches = 0;
    for (std::int64_t start = 0; start < train.size(); start += batch_size) {
      const std::int64_t end = std::min(train.size(), start + batch_size);
      std::vector<std::int64_t> idx(order.begin() + start, order.begin() + end);
      std::vector<Tensor> args = batch(train, idx, config_.dtype);
      args.insert(args.end(), params_.begin(), params_.end());
      std::vector<Tensor> out = step_(args);
      total += out[0].at(0);
      ++batches;
      for (std::size_t i = 0; i < params_.size(); ++i) update(params_[i], velocity_[i], out[i + 1], lr, momentum);
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

  const Model& model() const { return model_; }
  const std::vector<Tensor>& params() const { return params_; }
  const std::vector<Expr>& optimized_outputs() const { return optimized_; }
  std::size_t nodes_before() const { return nodes_before_; }
  std::size_t nodes_after() const { return nodes_after_; }

 private:
  template <class T> static void update_typed(Tensor& p, Tensor& v, const Tensor& g, double lr, double mu) {
    auto vp = v.array<T>();
    vp = static_cast<T>(mu) * vp - static_cast<T>(lr) * g.array<T>();
    p.array<T>() += vp;
  }
  static void update(Tensor& p, Tensor& v, const Tensor& g, double lr, double mu) {
    if (p.dtype() == DType::float32) update_typed<float>(p, v, g, lr, mu);
    else update_typed<double>(p, v, g, lr, mu);
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
