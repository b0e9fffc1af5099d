#include <iostream>
#include <vector>

#include "common/ring.hpp"

float mix(const Samples &samples);

int main() {
    std::vector<float> *buffer = new std::vector<float>{0.5f, 0.25f, 0.125f, 0.0625f};
    Samples samples(buffer->data(), buffer->size());
    std::cout << mix(samples) << std::endl;
    delete buffer;
    return 0;
}
