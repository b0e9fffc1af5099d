#include "minijson.h"

#include <stdlib.h>
#include <string.h>

struct minijson *minijson_parse(const char *text) {
    struct minijson *doc = malloc(sizeof *doc);
    doc->text = strdup(text);
    return doc;
}

int minijson_int(const struct minijson *doc, const char *key) {
    const char *at = strstr(doc->text, key);
    return at ? atoi(at + strlen(key) + 2) : 0;
}

void minijson_free(struct minijson *doc) {
    free(doc->text);
    free(doc);
}
