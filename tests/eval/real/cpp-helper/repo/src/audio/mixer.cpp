#include "common/ring.hpp"

float mix(const Samples &samples) {
    float out = 0;
    for (std::size_t channel = 0; channel < samples.size(); channel++) {
        out += samples.get(channel + 2);
    }
    return out;
}
