/*
 * export_driver.c - runs cr_export_file() (src/channel/external/export*.c) once, for
 *                   test_export.py
 *
 * Usage: export_driver SPEC.json, where the spec is
 *   {"url", "key_file"?, "password"?, "host_key_sha256"?, "timeout_secs"?, "path", "name"}
 * Prints one JSON line: {"rc": 0, "code": "OK", "err": "", "seen_host_key": "..." or null}.
 * It judges nothing: test_export.py does. Exit status: 0 when the spec could be run, 2 if not.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "channel/external/export.h"
#include "core/err.h"

static const char *str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: export_driver SPEC.json\n");
        return 2;
    }
    json_error_t jerr;
    json_t *spec = json_load_file(argv[1], 0, &jerr);
    if (!spec) {
        fprintf(stderr, "export_driver: %s: %s\n", argv[1], jerr.text);
        return 2;
    }
    struct cr_export_target t = {
        .url = str(spec, "url"),
        .key_file = str(spec, "key_file"),
        .password = str(spec, "password"),
        .host_key_sha256 = str(spec, "host_key_sha256"),
        .timeout_secs = (int)json_integer_value(json_object_get(spec, "timeout_secs")),
    };
    struct cr_err err = CR_ERR_INIT;
    char *seen = NULL;
    int rc = cr_export_file(&t, str(spec, "path"), str(spec, "name"), &seen, &err);
    json_t *out = json_pack("{s:i, s:s, s:s, s:s?}", "rc", rc, "code", cr_errname(rc), "err",
                            err.msg, "seen_host_key", seen);
    char *text = json_dumps(out, JSON_COMPACT);
    puts(text);
    free(text);
    free(seen);
    json_decref(out);
    json_decref(spec);
    return 0;
}
