#include "tinyfmt/tinyfmt.h"

namespace tinyfmt {
std::string money(const int *cents, int count) {
    long total = 0;
    for (int i = 0; i < count; i++) {
        total += cents[i];
    }
    return std::to_string(total / 100) + "." + std::to_string(total % 100);
}
}  // namespace tinyfmt
