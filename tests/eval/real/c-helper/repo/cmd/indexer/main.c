#include <stdio.h>
#include <stddef.h>

size_t token_length(const char *word);

int main(void) {
    printf("%zu\n", token_length("internationalisation"));
    return 0;
}
