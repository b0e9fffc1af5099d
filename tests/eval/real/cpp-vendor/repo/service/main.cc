#include <iostream>
#include <string>

std::string order_total(int net, int shipping);

int main() {
    std::cout << "Your order: " << order_total(1999, 450) << std::endl;
    return 0;
}
