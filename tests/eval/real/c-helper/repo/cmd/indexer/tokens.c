#include <stdlib.h>
#include <string.h>

#include "strbuf/strbuf.h"

#define MAX_TOKEN 64

size_t token_length(const char *word) {
    struct strbuf buf;
    strbuf_init(&buf, MAX_TOKEN / 4);
    strbuf_append(&buf, word, strlen(word) + 1);
    size_t used = buf.used;
    free(buf.data);
    return used;
}
