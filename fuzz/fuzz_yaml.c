/*
 * fuzz_yaml.c - YAML into JSON on arbitrary bytes: no crash, leak or runaway alias; a result
 * has a position for every value that can have one, an error has a code and a message
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/yaml_json.h"
#include "fuzz.h"

/* Walks v; every node but the null/true/false singletons has a position, inside the text. */
static size_t check(const struct cr_yaml_pos *pos, json_t *v, int lines, int depth)
{
    size_t n = 1;
    int line, col;
    if (depth > CR_YAML_MAX_DEPTH + 1)
        __builtin_trap();
    if (!json_is_null(v) && !json_is_boolean(v)) {
        if (cr_yaml_pos_get(pos, v, &line, &col) != 0 || line < 1 || line > lines || col < 1)
            __builtin_trap();
    }
    if (json_is_object(v)) {
        const char *k;
        json_t *m;
        json_object_foreach(v, k, m) {
            if (cr_yaml_pos_get_key(pos, v, k, &line, &col) != 0 || line < 1 || line > lines)
                __builtin_trap();
            n += check(pos, m, lines, depth + 1);
        }
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++)
            n += check(pos, json_array_get(v, i), lines, depth + 1);
    } else if (json_is_string(v) && strlen(json_string_value(v)) != json_string_length(v)) {
        __builtin_trap(); /* no NUL inside strings */
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cr_err err = CR_ERR_INIT;
    struct cr_yaml_pos *pos = NULL;
    json_t *v = NULL;
    int lines = 2; /* libyaml may place a mark just past a last line without a newline */
    int rc;
    for (size_t i = 0; i < size; i++) /* an upper bound: also NEL, LS, PS (last bytes) */
        lines += data[i] == '\n' || data[i] == '\r' || data[i] == 0x85 || data[i] == 0xa8 ||
                 data[i] == 0xa9;
    rc = cr_yaml_to_json_pos((const char *)data, size, &v, &pos, &err);
    if (rc) {
        if (v || pos || rc != err.code || !err.msg[0] || err.line < 0 || err.col < 0 ||
            (rc != CR_ESYNTAX && rc != CR_EINVAL && rc != CR_ETOOBIG && rc != CR_ENOMEM))
            __builtin_trap();
        return 0;
    }
    if (!v || !pos || check(pos, v, lines, 0) > CR_YAML_MAX_NODES)
        __builtin_trap();
    {
        char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        free(s);
    }
    json_decref(v);
    cr_yaml_pos_free(pos);
    return 0;
}
