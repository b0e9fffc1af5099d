#ifndef STRBUF_H
#define STRBUF_H
#include <stddef.h>

struct strbuf {
    char *data;
    size_t used;
    size_t capacity;
};

void strbuf_init(struct strbuf *buf, size_t capacity);
void strbuf_append(struct strbuf *buf, const char *text, size_t length);

#endif
