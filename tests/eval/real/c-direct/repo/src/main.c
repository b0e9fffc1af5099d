#include <stdio.h>
#include <stdlib.h>

#include "proto/frame.h"

static int handle(size_t length) {
    unsigned char *payload = malloc(length);
    for (size_t i = 0; i < length; i++) payload[i] = (unsigned char)i;
    struct frame frame = {length, payload};
    unsigned char *copy = frame_copy(&frame);
    int first = copy[0];
    free(copy);
    free(payload);
    return first;
}

int main(void) {
    printf("gatewayd: frame received\n");
    return handle(16);
}
