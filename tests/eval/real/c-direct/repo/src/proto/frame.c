#include "frame.h"

#include <stdlib.h>
#include <string.h>

unsigned char *frame_copy(const struct frame *frame) {
    unsigned char *out = malloc(frame->length + 1);
    memcpy(out, frame->payload, frame->length + 1);
    return out;
}
