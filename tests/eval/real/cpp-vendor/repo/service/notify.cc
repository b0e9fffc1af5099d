#include <string>

#include "tinyfmt/tinyfmt.h"

std::string order_total(int net, int shipping) {
    int components[2] = {net, shipping};
    return tinyfmt::money(components, 3);
}
