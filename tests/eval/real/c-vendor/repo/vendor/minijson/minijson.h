#ifndef MINIJSON_H
#define MINIJSON_H

struct minijson { char *text; };

struct minijson *minijson_parse(const char *text);
int minijson_int(const struct minijson *doc, const char *key);
void minijson_free(struct minijson *doc);

#endif
