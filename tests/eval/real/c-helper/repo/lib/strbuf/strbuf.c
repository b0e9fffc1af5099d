#include "strbuf.h"

#include <stdlib.h>
#include <string.h>

void strbuf_init(struct strbuf *buf, size_t capacity) {
    buf->data = malloc(capacity);
    buf->used = 0;
    buf->capacity = capacity;
}

/* The caller guarantees the capacity, as for every buffer in the indexer. */
void strbuf_append(struct strbuf *buf, const char *text, size_t length) {
    memcpy(buf->data + buf->used, text, length);
    buf->used += length;
}
