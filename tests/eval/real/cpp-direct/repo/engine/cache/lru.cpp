#include "cache/lru.hpp"

void TileCache::put(const std::string &key, Tile *tile) { tiles_[key] = tile; }

void TileCache::evict(const std::string &key) {
    auto found = tiles_.find(key);
    delete found->second;
}

int TileCache::first_pixel(const std::string &key) {
    auto entry = tiles_.find(key);
    evict(key);
    return entry->second->pixels[0];
}
