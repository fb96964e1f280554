#include "symgraph/core/tensor.hpp"

#include <cstdlib>
#include <limits>

namespace symgraph {
namespace {

std::shared_ptr<std::byte[]> allocate(std::size_t bytes) {
  // 64-byte alignment for SIMD kernels; at least one line so empty tensors
  // still have a valid pointer. Not zero-filled here: the constructor fills,
  // Tensor::uninitialized leaves the pages untouched.
  const std::size_t rounded = ((bytes + 63) / 64) * 64 + 64;
  void* p = std::aligned_alloc(64, rounded);
  if (!p) throw Error("Tensor: cannot allocate " + count_str(bytes, "byte"));
  return std::shared_ptr<std::byte[]>(static_cast<std::byte*>(p), [](std::byte* q) { std::free(q); });
}

}  // namespace

Tensor::Tensor() : Tensor(DType::float64, {}) {}

Tensor::Tensor(DType dtype, Shape shape) : Tensor(dtype, std::move(shape), NoInit{}) {
  std::memset(raw(), 0, nbytes());
}

Tensor Tensor::uninitialized(DType dtype, Shape shape) { return Tensor(dtype, std::move(shape), NoInit{}); }

Tensor::Tensor(DType dtype, Shape shape, NoInit) : dtype_(dtype), shape_(std::move(shape)) {
  size_ = 1;
  for (auto d : shape_) {
    if (d < 0)
      throw Error("Tensor: shape " + shape_str(shape_) +
                  " has a symbolic or negative dimension; a value needs concrete sizes");
    if (d != 0 && size_ > std::numeric_limits<std::int64_t>::max() / 16 / d)
      throw Error("Tensor: shape " + shape_str(shape_) + " is too large");
    size_ *= d;
  }
  storage_ = allocate(nbytes());
}

Tensor Tensor::scalar(double value, DType dtype) {
  Tensor t(dtype, {});
  switch (dtype) {
    case DType::float32: *t.data<float>() = static_cast<float>(value); break;
    case DType::float64: *t.data<double>() = value; break;
    case DType::boolean: *t.data<bool>() = value != 0.0; break;
  }
  return t;
}

double Tensor::at(std::int64_t i) const {
  if (i < 0 || i >= size_)
    throw Error("Tensor::at: index " + std::to_string(i) + " out of range for shape " + shape_str(shape_));
  switch (dtype_) {
    case DType::float32: return data<float>()[i];
    case DType::float64: return data<double>()[i];
    case DType::boolean: return data<bool>()[i] ? 1.0 : 0.0;
  }
  return 0.0;
}

Tensor Tensor::clone() const {
  Tensor t(dtype_, shape_);
  std::memcpy(t.raw(), raw(), nbytes());
  return t;
}

bool Tensor::bitwise_equal(const Tensor& o) const {
  return dtype_ == o.dtype_ && shape_ == o.shape_ && std::memcmp(raw(), o.raw(), nbytes()) == 0;
}

void Tensor::throw_dtype_mismatch(DType requested) const {
  throw Error("Tensor: element type " + std::string(dtype_name(requested)) + " requested from a " +
              std::string(dtype_name(dtype_)) + " tensor");
}

std::pair<Eigen::Index, Eigen::Index> Tensor::matrix_dims() const {
  if (shape_.size() == 2) return {shape_[0], shape_[1]};
  if (shape_.size() == 1) return {1, shape_[0]};
  throw Error("Tensor::matrix: needs a 1-d or 2-d tensor, this one has shape " + shape_str(shape_));
}

}  // namespace symgraph
