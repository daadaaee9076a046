/*
 * snippet.c - where `render` and `include` find named snippets: a folder, or the store
 *
 * Two loaders with the cr_snippet_loader signature. The folder loader (the CLI's
 * --snippets DIR) reads DIR/NAME.liquid; the store loader reads the snippet table that
 * deliveries use. Names are checked so that no name can leave the folder.
 * Not here: compiling (parse.c loads each snippet once per program).
 */
#include "template/template_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "store/store.h"

int cr_snippet_name_ok(const char *name, size_t len)
{
    if (len == 0 || len > 200 || name[0] == '.')
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return 0;
    }
    return 1;
}

int cr_snippet_load_dir(void *dir, const char *name, struct cr_buf *out, struct cr_err *err)
{
    char path[4096];
    FILE *f;
    char chunk[8192];
    size_t n;
    if (!cr_snippet_name_ok(name, strlen(name)))
        return cr_err_set(err, CR_EINVAL, "invalid snippet name '%s'", name);
    if ((size_t)snprintf(path, sizeof path, "%s/%s.liquid", (const char *)dir, name) >=
        sizeof path)
        return cr_err_set(err, CR_EINVAL, "snippet path too long");
    f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT)
            return cr_err_set(err, CR_ENOTFOUND, "no file %s", path);
        return cr_err_set(err, CR_EIO, "cannot open %s: %s", path, strerror(errno));
    }
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (cr_buf_append(out, chunk, n)) {
            fclose(f);
            return out->err;
        }
    }
    if (ferror(f)) {
        fclose(f);
        return cr_err_set(err, CR_EIO, "cannot read %s", path);
    }
    fclose(f);
    return 0;
}

int cr_snippet_load_store(void *store, const char *name, struct cr_buf *out, struct cr_err *err)
{
    struct cr_stmt *st;
    int rc;
    if ((rc = cr_stmt_prepare(store, "SELECT content FROM snippet WHERE name = ?", &st, err)))
        return rc;
    cr_stmt_bind_str(st, 1, name);
    rc = cr_stmt_step(st, err);
    if (rc == 1) {
        const char *text = cr_stmt_text(st, 0);
        rc = text ? cr_buf_puts(out, text) : 0;
    } else if (rc == 0) {
        rc = CR_ENOTFOUND;
    }
    cr_stmt_free(st);
    return rc;
}
