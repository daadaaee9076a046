/*
 * urls.c - link ids of a delivery, kept in delivery_url
 */
#include "tracking/urls.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"
#include "core/strmap.h"

#define LABEL_MAX 200 /* bytes of a label kept (a link text can be a paragraph) */

struct cr_delivery_urls {
    struct cr_store *s;
    int64_t delivery_id;
    struct cr_strmap ids; /* url -> link id */
};

int cr_urls_open(struct cr_store *s, int64_t delivery_id, struct cr_delivery_urls **out,
                 struct cr_err *err)
{
    struct cr_delivery_urls *u = cr_xcalloc(1, sizeof *u);
    struct cr_stmt *st = NULL;
    int rc;
    u->s = s;
    u->delivery_id = delivery_id;
    cr_strmap_init(&u->ids);
    *out = NULL;
    if ((rc = cr_stmt_prepare(s, "SELECT url, link_id FROM delivery_url WHERE delivery_id = ?", &st,
                              err)))
        goto fail;
    cr_stmt_bind_int64(st, 1, delivery_id);
    while ((rc = cr_stmt_step(st, err)) == 1) {
        const char *url = cr_stmt_text(st, 0);
        cr_strmap_put(&u->ids, url, strlen(url), cr_stmt_int64(st, 1));
    }
    cr_stmt_free(st);
    if (rc < 0)
        goto fail;
    *out = u;
    return 0;
fail:
    cr_urls_close(u);
    return rc;
}

void cr_urls_close(struct cr_delivery_urls *u)
{
    if (!u)
        return;
    cr_strmap_release(&u->ids);
    free(u);
}

static int lookup(struct cr_delivery_urls *u, const char *url, int64_t *id, struct cr_err *err)
{
    return cr_store_query_int64(u->s, err, id,
                                "SELECT min(link_id) FROM delivery_url WHERE delivery_id = ? "
                                "AND url = ?",
                                "is", u->delivery_id, url);
}

int cr_urls_id(struct cr_delivery_urls *u, const char *url, const char *label, int64_t *link_id,
               struct cr_err *err)
{
    size_t n = strlen(url);
    char cut[LABEL_MAX + 1];
    int rc;
    if (cr_strmap_get(&u->ids, url, n, link_id))
        return 0;
    /* a label cut at a UTF-8 boundary */
    size_t ln = label ? strlen(label) : 0;
    if (ln > LABEL_MAX) {
        ln = LABEL_MAX;
        while (ln && ((unsigned char)label[ln] & 0xC0) == 0x80)
            ln--;
    }
    memcpy(cut, label ? label : "", ln);
    cut[ln] = 0;
    /* another process may have stored it meanwhile; else the next id. Losing a race on
     * the id (the unique key) inserts nothing, and the loop looks again. */
    for (int attempt = 0; attempt < 8; attempt++) {
        int64_t id = 0;
        if ((rc = lookup(u, url, &id, err)) < 0)
            return rc;
        if (rc == 1 && id > 0) {
            cr_strmap_put(&u->ids, url, n, id);
            *link_id = id;
            return 0;
        }
        if ((rc = cr_store_run(u->s, err,
                               "INSERT INTO delivery_url (delivery_id, link_id, url, label) "
                               "SELECT ?, coalesce(max(link_id), 0) + 1, ?, ? FROM delivery_url "
                               "WHERE delivery_id = ? ON CONFLICT DO NOTHING",
                               "issi", u->delivery_id, url, cut, u->delivery_id)))
            return rc;
    }
    return cr_err_set(err, CR_ESTATE, "delivery %lld: could not store the link %s",
                      (long long)u->delivery_id, url);
}

int cr_urls_find(struct cr_store *s, int64_t delivery_id, int64_t link_id, char **url,
                 struct cr_err *err)
{
    *url = NULL;
    int rc = cr_store_query_text(s, err, url,
                                 "SELECT url FROM delivery_url WHERE delivery_id = ? AND "
                                 "link_id = ?",
                                 "ii", delivery_id, link_id);
    if (rc == 1 && *url)
        return 0;
    free(*url);
    *url = NULL;
    return rc < 0 ? rc : CR_ENOTFOUND;
}

int cr_urls_click(struct cr_delivery_urls *u, const struct cr_token_keys *keys,
                  const char *public_url, int64_t delivery, int64_t log, const char *url,
                  const char *label, struct cr_buf *out)
{
    struct cr_err e = CR_ERR_INIT;
    char tok[CR_TOKEN_MAX];
    int64_t id;
    size_t pn = strlen(public_url);
    if (strncmp(url, public_url, pn) == 0 && url[pn] == '/')
        return 1;
    if (cr_urls_id(u, url, label, &id, &e)) {
        cr_log_warn("delivery %lld: %s", (long long)delivery, cr_err_msg(&e));
        return CR_EIO;
    }
    struct cr_token t = {CR_TOKEN_CLICK, delivery, log, id};
    cr_token_encode(keys, &t, tok);
    cr_buf_printf(out, "%s/c/%s", public_url, tok);
    return out->err;
}
