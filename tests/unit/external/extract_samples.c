/* extract_samples.c - writes extraction files for check_extract.py
 *
 * Usage: extract_samples CASES.json OUTDIR
 * CASES.json is a list of {"name": ..., "format": {...}, "rows": [[string or null, ...], ...]};
 * each case becomes OUTDIR/<name>.out, and OUTDIR/<name>.counts holds "rows bytes".
 * A case the writer refuses is an error (exit 1): the Python side only checks good files.
 */
#include <stdio.h>
#include <stdlib.h>

#include "channel/external/extract.h"

static int write_case(const json_t *c, const char *dir)
{
    const char *name = json_string_value(json_object_get(c, "name"));
    const json_t *rows = json_object_get(c, "rows"), *row;
    struct cr_err err = CR_ERR_INIT;
    struct cr_extract *x;
    char path[4096];
    int64_t nrows, nbytes;
    size_t i;
    FILE *out;
    int rc;

    snprintf(path, sizeof path, "%s/%s.out", dir, name);
    out = fopen(path, "wb");
    if (!out) {
        perror(path);
        return 1;
    }
    rc = cr_extract_open(json_object_get(c, "format"), out, &x, &err);
    json_array_foreach(rows, i, row) {
        const char *vals[64];
        size_t n = json_array_size(row);
        if (rc)
            break;
        for (size_t k = 0; k < n && k < 64; k++)
            vals[k] = json_string_value(json_array_get(row, k)); /* null -> NULL */
        rc = cr_extract_row(x, vals, n, &err);
    }
    if (rc) {
        cr_extract_abort(x);
    } else {
        rc = cr_extract_close(x, &nrows, &nbytes, &err);
    }
    fclose(out);
    if (rc) {
        fprintf(stderr, "%s: %s\n", name, cr_err_msg(&err));
        return 1;
    }
    snprintf(path, sizeof path, "%s/%s.counts", dir, name);
    out = fopen(path, "w");
    if (!out) {
        perror(path);
        return 1;
    }
    fprintf(out, "%lld %lld\n", (long long)nrows, (long long)nbytes);
    fclose(out);
    return 0;
}

int main(int argc, char **argv)
{
    json_error_t je;
    json_t *cases, *c;
    size_t i;
    int failed = 0;
    if (argc != 3) {
        fprintf(stderr, "usage: %s CASES.json OUTDIR\n", argv[0]);
        return 2;
    }
    cases = json_load_file(argv[1], 0, &je);
    if (!cases) {
        fprintf(stderr, "%s: %s\n", argv[1], je.text);
        return 2;
    }
    json_array_foreach(cases, i, c) {
        failed |= write_case(c, argv[2]);
    }
    json_decref(cases);
    return failed;
}
