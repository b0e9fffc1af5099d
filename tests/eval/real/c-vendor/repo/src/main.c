#include <stdio.h>

int config_port(const char *text);

int main(void) {
    printf("port %d\n", config_port("{\"port\": 8080}"));
    return 0;
}
