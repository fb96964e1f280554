#pragma once
/// Tensor: a concrete value with a dtype, a concrete shape and contiguous
/// row-major storage. Copies are shallow (they share storage, like NumPy
/// arrays); clone() makes a deep copy. Eigen views are zero-copy.
#include <Eigen/Core>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <vector>

#include "symgraph/core/types.hpp"

namespace symgraph {

class Tensor {
 public:
  template <class T> using ArrayMap = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>, Eigen::Aligned64>;
  template <class T>
  using ConstArrayMap = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>, Eigen::Aligned64>;
  template <class T>
  using MatrixMap =
      Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>, Eigen::Aligned64>;
  template <class T>
  using ConstMatrixMap =
      Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>, Eigen::Aligned64>;

  /// A float64 scalar 0.
  Tensor();
  /// Zero-filled tensor. Throws Error for a symbolic or negative dimension.
  Tensor(DType dtype, Shape shape);

  /// A tensor whose elements are not initialised (no zero fill, so its pages
  /// are touched only when first written): for evaluators that overwrite
  /// every element. Throws like the constructor.
  static Tensor uninitialized(DType dtype, Shape shape);
  /// A 0-d tensor holding `value` converted to `dtype`.
  static Tensor scalar(double value, DType dtype = DType::float64);
  /// Copies `values` into a 1-d tensor of values.size() elements (also for
  /// one value: Tensor::scalar makes a 0-d tensor).
  template <class T> static Tensor from_vector(const std::vector<T>& values) {
    return from_vector(values, Shape{static_cast<std::int64_t>(values.size())});
  }
  /// Copies `values` into a tensor of exactly `shape` ({} is 0-d).
  template <class T> static Tensor from_vector(const std::vector<T>& values, Shape shape);
  template <class T> static Tensor from_list(std::initializer_list<T> values) {
    return from_vector(std::vector<T>(values));
  }
  template <class T> static Tensor from_list(std::initializer_list<T> values, Shape shape) {
    return from_vector(std::vector<T>(values), std::move(shape));
  }
  /// Copies an Eigen matrix or array: a compile-time vector becomes 1-d,
  /// anything else 2-d [rows, cols] in row-major order.
  template <class Derived> static Tensor from_eigen(const Eigen::DenseBase<Derived>& m);

  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  std::size_t rank() const { return shape_.size(); }
  std::int64_t size() const { return size_; }
  TensorType type() const { return {dtype_, shape_}; }
  std::size_t nbytes() const { return static_cast<std::size_t>(size_) * dtype_size(dtype_); }

  /// Typed pointer; throws Error if T does not match the dtype.
  template <class T> T* data() {
    check_dtype<T>();
    return static_cast<T*>(raw());
  }
  template <class T> const T* data() const {
    check_dtype<T>();
    return static_cast<const T*>(raw());
  }
  void* raw() { return storage_.get(); }
  const void* raw() const { return storage_.get(); }

  /// Flat zero-copy view of all elements.
  template <class T> ArrayMap<T> array() { return ArrayMap<T>(data<T>(), size_); }
  template <class T> ConstArrayMap<T> array() const { return ConstArrayMap<T>(data<T>(), size_); }
  /// Zero-copy row-major matrix view of a 2-d tensor (a 1-d tensor is one row).
  template <class T> MatrixMap<T> matrix() {
    auto [r, c] = matrix_dims();
    return MatrixMap<T>(data<T>(), r, c);
  }
  template <class T> ConstMatrixMap<T> matrix() const {
    auto [r, c] = matrix_dims();
    return ConstMatrixMap<T>(data<T>(), r, c);
  }

  /// Element by flat (row-major) index, converted to double.
  double at(std::int64_t flat_index) const;
  template <class T> std::vector<T> to_vector() const {
    const T* p = data<T>();
    return std::vector<T>(p, p + size_);
  }

  Tensor clone() const;
  /// Same dtype, shape and bits (NaN payloads and signed zeros included).
  bool bitwise_equal(const Tensor& other) const;
  /// Same storage, shape and dtype.
  bool shares_storage(const Tensor& other) const { return storage_ == other.storage_; }

 private:
  template <class T> void check_dtype() const {
    if (dtype_of<T>() != dtype_) throw_dtype_mismatch(dtype_of<T>());
  }
  [[noreturn]] void throw_dtype_mismatch(DType requested) const;
  std::pair<Eigen::Index, Eigen::Index> matrix_dims() const;
  struct NoInit {};
  Tensor(DType dtype, Shape shape, NoInit);

  DType dtype_ = DType::float64;
  Shape shape_;
  std::int64_t size_ = 1;
  std::shared_ptr<std::byte[]> storage_;
};

template <class T> Tensor Tensor::from_vector(const std::vector<T>& values, Shape shape) {
  Tensor t(dtype_of<T>(), std::move(shape));
  if (static_cast<std::int64_t>(values.size()) != t.size())
    throw Error("Tensor::from_vector: " + count_str(values.size(), "value") + " do not fill shape " +
                shape_str(t.shape()));
  for (std::size_t i = 0; i < values.size(); ++i) t.data<T>()[i] = values[i];
  return t;
}

template <class Derived> Tensor Tensor::from_eigen(const Eigen::DenseBase<Derived>& m) {
  using T = typename Derived::Scalar;
  const bool vec = Derived::IsVectorAtCompileTime;
  Shape shape = vec ? Shape{static_cast<std::int64_t>(m.size())}
                    : Shape{static_cast<std::int64_t>(m.rows()), static_cast<std::int64_t>(m.cols())};
  Tensor t(dtype_of<T>(), std::move(shape));
  T* p = t.data<T>();
  for (Eigen::Index r = 0; r < m.rows(); ++r)
    for (Eigen::Index c = 0; c < m.cols(); ++c) *p++ = m.derived().coeff(r, c);
  return t;
}

}  // namespace symgraph
