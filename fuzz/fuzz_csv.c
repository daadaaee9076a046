/*
 * fuzz_csv.c - the RFC 4180 reader on arbitrary bytes; the first byte picks the separator
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/csv.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char seps[] = {',', ';', '\t', '|'};
    struct cr_csv_reader r;
    char sep;
    int rc, records = 0;
    if (size == 0)
        return 0;
    sep = seps[data[0] % 4];
    cr_csv_reader_init_mem(&r, (const char *)data + 1, size - 1, sep);
    r.max_field = 256; /* small limits so the fuzzer reaches them */
    r.max_fields = 16;
    while ((rc = cr_csv_next(&r, NULL)) != 0 && records < 100000) {
        if (rc == 1) {
            for (size_t i = 0; i < r.nfields; i++) {
                size_t n;
                const char *f = cr_csv_field(&r, i, &n);
                if (!f || strlen(f) != n) /* fields are NUL-free and NUL-terminated */
                    __builtin_trap();
            }
        }
        records++;
    }
    cr_csv_reader_release(&r);
    return 0;
}
