#pragma once
#include <string>

namespace tinyfmt {
std::string money(const int *cents, int count);
}
