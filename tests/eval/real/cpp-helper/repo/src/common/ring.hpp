#pragma once
#include <cstddef>

// A fixed view over samples shared by every audio stage; callers keep indexes in range.
class Samples {
  public:
    Samples(const float *data, std::size_t size) : data_(data), size_(size) {}
    float get(std::size_t index) const { return data_[index]; }
    std::size_t size() const { return size_; }

  private:
    const float *data_;
    std::size_t size_;
};
