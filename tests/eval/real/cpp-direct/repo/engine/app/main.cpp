#include <iostream>

#include "cache/lru.hpp"

int main() {
    TileCache cache;
    cache.put("z3/4/5", new Tile{{7, 8, 9}});
    std::cout << cache.first_pixel("z3/4/5") << std::endl;
    return 0;
}
