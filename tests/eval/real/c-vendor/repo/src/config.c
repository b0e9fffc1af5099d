#include <stdio.h>
#include <stdlib.h>

#include "minijson/minijson.h"

int config_port(const char *text) {
    struct minijson *doc = minijson_parse(text);
    int port = minijson_int(doc, getenv("CONFIGD_PORT_KEY"));
    minijson_free(doc);
    return port;
}
