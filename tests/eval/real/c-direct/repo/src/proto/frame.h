#ifndef FRAME_H
#define FRAME_H
#include <stddef.h>

struct frame {
    size_t length;
    const unsigned char *payload;
};

unsigned char *frame_copy(const struct frame *frame);

#endif
