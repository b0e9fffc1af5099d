#pragma once
#include <map>
#include <string>
#include <vector>

struct Tile {
    std::vector<int> pixels;
};

class TileCache {
  public:
    void put(const std::string &key, Tile *tile);
    int first_pixel(const std::string &key);

  private:
    void evict(const std::string &key);
    std::map<std::string, Tile *> tiles_;
};
