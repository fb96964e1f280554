#include "symgraph/autodiff/check.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "symgraph/autodiff/grad.hpp"
#include "symgraph/eval/function.hpp"
#include "symgraph/ops/ops.hpp"

namespace symgraph {
namespace {

/// splitmix64: a small generator whose sequence is the same on every
/// platform (std distributions are not specified bit for bit).
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double uniform(double lo, double hi) { return lo + (hi - lo) * static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  std::uint64_t state_;
};

std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

void set_element(Tensor& t, std::int64_t i, double v) {
  switch (t.dtype()) {
    case DType::float32: t.data<float>()[i] = static_cast<float>(v); break;
    case DType::float64: t.data<double>()[i] = v; break;
    case DType::boolean: t.data<bool>()[i] = v != 0.0; break;
  }
}

/// v rounded to dtype.
double round_to(DType t, double v) { return t == DType::float32 ? static_cast<double>(static_cast<float>(v)) : v; }

Tensor random_tensor(DType dtype, const Shape& shape, Rng& rng, double lo, double hi) {
  Tensor t(dtype, shape);
  for (std::int64_t i = 0; i < t.size(); ++i)
    set_element(t, i, dtype == DType::boolean ? static_cast<double>(rng.next() >> 63) : rng.uniform(lo, hi));
  return t;
}

/// Equal selector values (NaN equals NaN: a selector that is NaN on both
/// sides has not moved).
bool same_values(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape()) return false;
  for (std::int64_t i = 0; i < a.size(); ++i) {
    const double x = a.at(i), y = b.at(i);
    if (!(x == y || (std::isnan(x) && std::isnan(y)))) return false;
  }
  return true;
}

std::string index_str(const Shape& shape, std::int64_t flat) {
  if (shape.empty()) return "[]";
  Shape idx(shape.size());
  for (std::size_t d = shape.size(); d-- > 0;) {
    idx[d] = flat % shape[d];
    flat /= shape[d];
  }
  return shape_str(idx);
}

std::string values_str(const Tensor& t) {
  constexpr std::int64_t kMax = 16;
  std::string s = "[";
  for (std::int64_t i = 0; i < std::min(t.size(), kMax); ++i) s += (i ? ", " : "") + num(t.at(i));
  if (t.size() > kMax) s += ", ... (" + count_str(static_cast<std::uint64_t>(t.size()), "element") + ")";
  return s + "]";
}

/// The expressions whose change within a step reveals a kink (see
/// check.hpp), for the nodes `output` depends on.
std::vector<Expr> selectors(const Expr& output) {
  const auto& store = output.graph();
  std::vector<char> reach(static_cast<std::size_t>(output.id()) + 1, 0);
  reach[output.id()] = 1;
  std::vector<Expr> out;
  for (std::size_t id = reach.size(); id-- > 0;) {
    if (!reach[id]) continue;
    const Expr e(store, static_cast<NodeId>(id));
    for (NodeId in : e.node().inputs) reach[in] = 1;
    const std::string& op = e.op_name();
    if (op == "input" || op == "constant") continue;
    if (e.dtype() == DType::boolean) {
      out.push_back(e);
    } else if (op == "abs" || op == "sign") {
      out.push_back(sign(e.input(0)));
    } else if ((op == "maximum" || op == "minimum") && e.input(0).dtype() == e.input(1).dtype()) {
      out.push_back(sign(sub(e.input(0), e.input(1))));
    } else if (op == "max") {
      const auto& axes = e.attrs().get<std::vector<std::int64_t>>("axes");
      const Expr y = e.attrs().get<std::int64_t>("keepdims") ? e : expand_dims(e, axes);
      out.push_back(eq(e.input(0), y));
    }
  }
  return out;
}

struct Coordinate {
  double score = -1.0;  // error / tolerance; > 1 fails
  std::size_t input = 0;
  std::int64_t element = 0;
  double symbolic = 0.0, numeric = 0.0;
};

struct PointOutcome {
  std::int64_t checked = 0, failed = 0, skipped = 0;
  double max_abs = 0.0, max_rel = 0.0;
  Coordinate worst;
  std::string problem;  // a failure that is not a coordinate (shape mismatch)
};

class Checker {
 public:
  Checker(const Expr& output, const std::vector<Expr>& inputs, const GradCheckOptions& options);
  GradCheckResult run();

 private:
  PointOutcome check_point(const std::vector<Tensor>& point) const;
  std::vector<Tensor> with_projection(std::vector<Tensor> point, Rng& rng) const;
  std::vector<Tensor> random_point(Rng& rng) const;
  std::string describe_point(const std::vector<Tensor>& point) const;

  Expr output_;
  std::vector<Expr> inputs_;
  const GradCheckOptions& options_;
  GradCheckTolerance tol_{};
  DType dtype_ = DType::float64;
  std::vector<std::size_t> float_inputs_;
  bool projected_ = false;
  std::vector<Expr> args_;  // inputs, then the projection if any
  Function eval_, grad_, shape_;
};

Checker::Checker(const Expr& output, const std::vector<Expr>& inputs, const GradCheckOptions& options)
    : output_(output), inputs_(inputs), options_(options) {
  if (!output.valid()) throw Error("check_grad: the output is an empty expression");
  if (!is_float(output.dtype()))
    throw Error("check_grad: the output must be float, got " + type_str(output.type()));
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].valid() || inputs[i].graph() != output.graph() || inputs[i].op_name() != "input")
      throw Error("check_grad: inputs[" + std::to_string(i) + "] must be an input node of the output's graph");
    if (is_float(inputs[i].dtype())) float_inputs_.push_back(i);
  }
  if (float_inputs_.empty()) throw Error("check_grad: no float input to differentiate with respect to");
  if (!(options.high > options.low)) throw Error("check_grad: options.high must be greater than options.low");
  dtype_ = output.dtype();
  for (auto i : float_inputs_)
    if (inputs[i].dtype() == DType::float32) dtype_ = DType::float32;
  tol_ = default_tolerance(dtype_);
  if (options.step > 0) tol_.step = options.step;
  if (options.rtol > 0) tol_.rtol = options.rtol;
  if (options.atol > 0) tol_.atol = options.atol;

  Expr cost = output;
  args_ = inputs;
  if (output.rank() != 0) {
    // A random projection of the output, an input of its own so that one
    // compiled function serves every point. Named after the output's node,
    // so checking several outputs of one graph does not clash.
    const Expr p = graph_of(output).input("gradcheck.projection." + std::to_string(output.id()), output.dtype(),
                                          output.shape());
    cost = sum(mul(output, p));
    args_.push_back(p);
    projected_ = true;
  }
  std::vector<Expr> wrt;
  for (auto i : float_inputs_) wrt.push_back(inputs[i]);
  const std::vector<Expr> grads = grad(cost, wrt);
  std::vector<Expr> evals{cost};
  for (const Expr& s : selectors(output)) evals.push_back(s);
  eval_ = compile_reference(args_, evals);
  grad_ = compile_reference(args_, grads);
  shape_ = compile_reference(inputs, {output});
}

std::vector<Tensor> Checker::with_projection(std::vector<Tensor> point, Rng& rng) const {
  if (point.size() != inputs_.size())
    throw Error("check_grad: a point has " + std::to_string(point.size()) + " tensor(s) for " +
                std::to_string(inputs_.size()) + " input(s)");
  if (projected_) {
    const Tensor y = shape_(point)[0];
    point.push_back(random_tensor(output_.dtype(), y.shape(), rng, 0.5, 1.5));
  }
  return point;
}

std::vector<Tensor> Checker::random_point(Rng& rng) const {
  if (!options_.shapes.empty() && options_.shapes.size() != inputs_.size())
    throw Error("check_grad: options.shapes has " + std::to_string(options_.shapes.size()) + " shape(s) for " +
                std::to_string(inputs_.size()) + " input(s)");
  std::vector<Tensor> point;
  for (std::size_t i = 0; i < inputs_.size(); ++i) {
    Shape shape = options_.shapes.empty() ? inputs_[i].shape() : options_.shapes[i];
    for (auto& d : shape)
      if (d == kSymbolic) d = options_.symbolic_size;
    point.push_back(random_tensor(inputs_[i].dtype(), shape, rng, options_.low, options_.high));
  }
  return point;
}

PointOutcome Checker::check_point(const std::vector<Tensor>& point) const {
  PointOutcome out;
  const std::vector<Tensor> center = eval_(point);
  const std::vector<Tensor> grads = grad_(point);
  std::vector<Tensor> args = point;
  for (std::size_t k = 0; k < float_inputs_.size(); ++k) {
    const std::size_t in = float_inputs_[k];
    const Tensor& g = grads[k];
    if (g.shape() != point[in].shape()) {
      out.problem = "the symbolic gradient for input '" + inputs_[in].name() + "' has shape " + shape_str(g.shape()) +
                    " but the input has shape " + shape_str(point[in].shape());
      out.failed += 1;
      return out;
    }
    // Perturb a private copy: tensors share storage, the caller's must not move.
    Tensor x = point[in].clone();
    args[in] = x;
    const DType dt = x.dtype();
    for (std::int64_t j = 0; j < x.size(); ++j) {
      const double x0 = point[in].at(j);
      const double h = tol_.step * std::max(1.0, std::abs(x0));
      const double xp = round_to(dt, x0 + h), xm = round_to(dt, x0 - h);
      set_element(x, j, xp);
      const std::vector<Tensor> plus = eval_(args);
      set_element(x, j, xm);
      const std::vector<Tensor> minus = eval_(args);
      set_element(x, j, x0);
      bool kink = false;
      for (std::size_t s = 1; s < center.size() && !kink; ++s)
        kink = !same_values(center[s], plus[s]) || !same_values(center[s], minus[s]);
      if (kink) {
        ++out.skipped;
        continue;
      }
      // Divide by the step actually taken (xp - xm is exact after rounding).
      const double numeric = (plus[0].at(0) - minus[0].at(0)) / (xp - xm);
      const double symbolic = g.at(j);
      const double abs_err = std::abs(symbolic - numeric);
      const double scale = std::max(std::abs(symbolic), std::abs(numeric));
      double score, rel_err;
      if (std::isnan(symbolic) && std::isnan(numeric)) {
        score = rel_err = 0.0;
      } else if (!std::isfinite(abs_err)) {
        score = rel_err = std::numeric_limits<double>::infinity();
      } else {
        // Relative error is reported where it means something: values
        // within atol of 0 are compared absolutely.
        rel_err = scale > tol_.atol ? abs_err / scale : 0.0;
        score = abs_err / (tol_.atol + tol_.rtol * scale);
      }
      ++out.checked;
      if (score > 1.0) ++out.failed;
      if (std::isfinite(abs_err)) out.max_abs = std::max(out.max_abs, abs_err);
      else if (score > 0) out.max_abs = std::numeric_limits<double>::infinity();
      out.max_rel = std::max(out.max_rel, rel_err);
      if (score > out.worst.score) out.worst = {score, in, j, symbolic, numeric};
    }
    args[in] = point[in];
  }
  return out;
}

std::string Checker::describe_point(const std::vector<Tensor>& point) const {
  std::string s;
  for (std::size_t i = 0; i < inputs_.size(); ++i)
    s += "  " + inputs_[i].name() + " " + type_str(point[i].type()) + " = " + values_str(point[i]) + "\n";
  return s;
}

GradCheckResult Checker::run() {
  GradCheckResult r;
  r.tolerance = tol_;
  r.dtype = dtype_;
  Rng rng(options_.seed);
  std::vector<std::vector<Tensor>> points;
  std::vector<PointOutcome> outcomes;
  const auto add = [&](std::vector<Tensor> point, PointOutcome o) {
    points.push_back(std::move(point));
    outcomes.push_back(std::move(o));
  };
  for (const auto& p : options_.points) {
    auto point = with_projection(p, rng);
    add(point, check_point(point));
  }
  if (options_.points.empty()) {
    for (int n = 0; n < options_.random_points; ++n) {
      std::vector<Tensor> best;
      PointOutcome best_outcome;
      for (int attempt = 0; attempt <= options_.max_redraws; ++attempt) {
        auto point = with_projection(random_point(rng), rng);
        PointOutcome o = check_point(point);
        const bool better = best.empty() || o.skipped < best_outcome.skipped;
        if (better) {
          best = std::move(point);
          best_outcome = std::move(o);
        }
        if (best_outcome.skipped == 0) break;
      }
      add(std::move(best), std::move(best_outcome));
    }
  }

  std::string problems;
  double worst_score = -1.0;
  for (std::size_t p = 0; p < outcomes.size(); ++p) {
    const PointOutcome& o = outcomes[p];
    r.checked += o.checked;
    r.failed += o.failed;
    r.skipped += o.skipped;
    r.max_abs_error = std::max(r.max_abs_error, o.max_abs);
    r.max_rel_error = std::max(r.max_rel_error, o.max_rel);
    if (!o.problem.empty()) problems += "point " + std::to_string(p) + ": " + o.problem + "\n";
    if (o.worst.score > worst_score) {
      worst_score = o.worst.score;
      r.worst_point = p;
      r.worst_input = o.worst.input;
      r.worst_element = o.worst.element;
      r.worst_symbolic = o.worst.symbolic;
      r.worst_numeric = o.worst.numeric;
    }
  }
  r.points = points.size();
  // Every coordinate skipped at a kink proves nothing: that is no pass.
  const bool nothing_checked = r.checked == 0 && r.skipped > 0;
  if (nothing_checked)
    problems += "no coordinate could be checked: every step crossed a kink (a switch, abs, sign, maximum or "
                "comparison changed); check at points away from the kinks\n";
  r.passed = r.failed == 0 && !nothing_checked;

  std::string& s = r.report;
  s = std::string("gradient check ") + (r.passed ? "passed" : "FAILED") + ": " + std::to_string(r.failed) + " of " +
      count_str(r.checked, "coordinate") + " out of tolerance at " + count_str(r.points, "point") + ", " +
      std::to_string(r.skipped) + " skipped at kinks (" + std::string(dtype_name(dtype_)) + ": step " + num(tol_.step) +
      ", rtol " + num(tol_.rtol) + ", atol " + num(tol_.atol) + ")\n";
  s += "max abs error " + num(r.max_abs_error) + ", max rel error " + num(r.max_rel_error) + "\n";
  s += problems;
  if (worst_score >= 0) {
    const Tensor& x = points[r.worst_point][r.worst_input];
    s += "worst: d/d " + inputs_[r.worst_input].name() + index_str(x.shape(), r.worst_element) + " at point " +
         std::to_string(r.worst_point) + ": symbolic " + num(r.worst_symbolic) + ", numeric " +
         num(r.worst_numeric) + "\n";
    s += "point " + std::to_string(r.worst_point) + ":\n" + describe_point(points[r.worst_point]);
  }
  return r;
}

}  // namespace

GradCheckTolerance default_tolerance(DType dtype) {
  switch (dtype) {
    case DType::float64: return {std::cbrt(std::numeric_limits<double>::epsilon()), 1e-6, 1e-8};
    case DType::float32: return {std::cbrt(static_cast<double>(std::numeric_limits<float>::epsilon())), 1e-2, 1e-3};
    case DType::boolean: break;
  }
  throw Error("check_grad: bool values have no gradient to check");
}

GradCheckResult check_grad(const Expr& output, const std::vector<Expr>& inputs, const GradCheckOptions& options) {
  return Checker(output, inputs, options).run();
}

GradCheckResult check_grad(const std::function<Expr(const std::vector<Expr>&)>& build,
                           const std::vector<Tensor>& point, GradCheckOptions options) {
  Graph g;
  std::vector<Expr> inputs;
  for (std::size_t i = 0; i < point.size(); ++i)
    inputs.push_back(g.input("x" + std::to_string(i), point[i].dtype(), point[i].shape()));
  const Expr output = build(inputs);
  options.points.insert(options.points.begin(), point);
  return check_grad(output, inputs, options);
}

GradCheckResult verify_grad(const Expr& output, const std::vector<Expr>& inputs, const GradCheckOptions& options) {
  GradCheckResult r = check_grad(output, inputs, options);
  if (!r.passed) throw Error(r.report);
  return r;
}

GradCheckResult verify_grad(const std::function<Expr(const std::vector<Expr>&)>& build,
                            const std::vector<Tensor>& point, GradCheckOptions options) {
  GradCheckResult r = check_grad(build, point, std::move(options));
  if (!r.passed) throw Error(r.report);
  return r;
}

}  // namespace symgraph
