/*
 * campaign.c - campaigns: add, ensure, get, list, close; the workflows and deliveries in one
 *
 * Status rules and name rules are in campaign.h. Nothing here begins or commits a
 * transaction, so the workflow engine may call cr_campaign_ensure() inside its own.
 * Walks read every row before the first callback, so a failed read never calls one.
 */
#include "campaign/campaign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/parse.h"
#include "core/utf8.h"

#define CAMPAIGN_COLUMNS "id, name, label, status, start_at, end_at, created_at"

int cr_campaign_name_ok(const char *name)
{
    size_t n = strlen(name);
    int letters = 0;
    if (n == 0 || n > CR_CAMPAIGN_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        int digit = c >= '0' && c <= '9';
        if (!alpha && !digit && (i == 0 || (c != '.' && c != '_' && c != '-')))
            return 0;
        letters |= !digit;
    }
    return letters;
}

static int check_name(const char *name, struct cr_err *err)
{
    if (cr_campaign_name_ok(name))
        return 0;
    if (!*name)
        return cr_err_set(err, CR_EINVAL, "a campaign name cannot be empty");
    if (strlen(name) > CR_CAMPAIGN_NAME_MAX)
        return cr_err_set(err, CR_EINVAL, "campaign name too long (%zu characters, at most %d)",
                          strlen(name), CR_CAMPAIGN_NAME_MAX);
    return cr_err_set(err, CR_EINVAL,
                      "invalid campaign name '%s' (letters, digits, '.', '_' and '-', starting "
                      "with a letter or digit, not only digits)",
                      name);
}

const char *cr_campaign_status_at(const char *stored, cr_time_t start_at, cr_time_t end_at,
                                  cr_time_t now)
{
    if (stored && strcmp(stored, "closed") == 0)
        return "closed";
    if (start_at && now < start_at)
        return "planned";
    if (end_at && now >= end_at)
        return "finished";
    return "running";
}

/* A stored timestamp (NULL = unset) as an instant; 0 when unset. */
static int read_time(const char *text, const char *what, cr_time_t *out, struct cr_err *err)
{
    int rc;
    *out = 0;
    if (!text)
        return 0;
    if ((rc = cr_time_parse(text, strlen(text), out, err)))
        cr_err_prefix(err, "campaign %s: ", what);
    return rc;
}

/* Fills c from a row of CAMPAIGN_COLUMNS. On error c holds nothing to release. */
static int read_row(struct cr_stmt *st, cr_time_t now, struct cr_campaign *c, struct cr_err *err)
{
    const char *label = cr_stmt_text(st, 2);
    int rc;
    memset(c, 0, sizeof *c);
    if ((rc = read_time(cr_stmt_text(st, 4), "start_at", &c->start_at, err)) ||
        (rc = read_time(cr_stmt_text(st, 5), "end_at", &c->end_at, err)) ||
        (rc = read_time(cr_stmt_text(st, 6), "created_at", &c->created_at, err)))
        return rc;
    c->id = cr_stmt_int64(st, 0);
    c->name = cr_xstrdup(cr_stmt_text(st, 1));
    c->label = label ? cr_xstrdup(label) : NULL;
    snprintf(c->status, sizeof c->status, "%s",
             cr_campaign_status_at(cr_stmt_text(st, 3), c->start_at, c->end_at, now));
    return 0;
}

void cr_campaign_release(struct cr_campaign *c)
{
    free(c->name);
    free(c->label);
    memset(c, 0, sizeof *c);
}

int cr_campaign_add(struct cr_store *s, struct cr_clock *clk, const char *name, const char *label,
                    cr_time_t start_at, cr_time_t end_at, int64_t *id, struct cr_err *err)
{
    struct cr_err e = CR_ERR_INIT;
    char now[CR_TIME_BUFSZ], start[CR_TIME_BUFSZ], end[CR_TIME_BUFSZ];
    size_t bad;
    int rc;
    if ((rc = check_name(name, err)))
        return rc;
    if (label && !*label)
        label = NULL;
    if (label && strlen(label) > CR_CAMPAIGN_LABEL_MAX)
        return cr_err_set(err, CR_EINVAL, "campaign label too long (%zu bytes, at most %d)",
                          strlen(label), CR_CAMPAIGN_LABEL_MAX);
    if (label && !cr_utf8_valid(label, strlen(label), &bad))
        return cr_err_set(err, CR_EINVAL, "campaign label is not valid UTF-8 (byte %zu)", bad + 1);
    if (start_at && end_at && end_at <= start_at) {
        char a[CR_TIME_BUFSZ], b[CR_TIME_BUFSZ];
        return cr_err_set(err, CR_EINVAL, "campaign end %s is not after its start %s",
                          cr_time_format_iso(end_at, b), cr_time_format_iso(start_at, a));
    }
    cr_time_format_sql(cr_clock_now(clk), now);
    rc = cr_store_query_int64(s, &e, id,
                              "INSERT INTO campaign (name, label, status, start_at, end_at, "
                              "created_at, updated_at) VALUES (?, ?, 'open', ?, ?, ?, ?) "
                              "RETURNING id",
                              "ssssss", name, label,
                              start_at ? cr_time_format_sql(start_at, start) : NULL,
                              end_at ? cr_time_format_sql(end_at, end) : NULL, now, now);
    if (rc == CR_EEXISTS)
        return cr_err_set(err, CR_EEXISTS, "a campaign named '%s' already exists", name);
    if (rc < 0)
        return cr_err_set(err, rc, "%s", cr_err_msg(&e));
    if (rc == 0)
        return cr_err_set(err, CR_ESTORE, "adding campaign '%s' returned no id", name);
    return 0;
}

int cr_campaign_ensure(struct cr_store *s, struct cr_clock *clk, const char *name, int64_t *id,
                       struct cr_err *err)
{
    char now[CR_TIME_BUFSZ];
    int rc;
    if ((rc = check_name(name, err)))
        return rc;
    /* Read first: the common case writes nothing. Then an insert that cannot fail on a
     * duplicate (a failed statement would abort the caller's PostgreSQL transaction), and a
     * read again if another process created it in between. */
    for (int attempt = 0; attempt < 2; attempt++) {
        rc = cr_store_query_int64(s, err, id, "SELECT id FROM campaign WHERE name = ?", "s", name);
        if (rc != 0)
            return rc < 0 ? rc : 0;
        if (attempt)
            break;
        cr_time_format_sql(cr_clock_now(clk), now);
        rc = cr_store_query_int64(s, err, id,
                                  "INSERT INTO campaign (name, status, created_at, updated_at) "
                                  "VALUES (?, 'open', ?, ?) ON CONFLICT (name) DO NOTHING "
                                  "RETURNING id",
                                  "sss", name, now, now);
        if (rc != 0)
            return rc < 0 ? rc : 0;
    }
    return cr_err_set(err, CR_ESTORE, "campaign '%s' was neither found nor created", name);
}

static int is_id(const char *s, int64_t *id)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return n > 0 && cr_parse_i64(s, n, id) == 0;
}

int cr_campaign_get(struct cr_store *s, struct cr_clock *clk, const char *name_or_id,
                    struct cr_campaign *out, struct cr_err *err)
{
    struct cr_stmt *st;
    int64_t id = 0;
    int by_id = is_id(name_or_id, &id), rc;
    memset(out, 0, sizeof *out);
    rc = cr_stmt_prepare(s,
                         by_id ? "SELECT " CAMPAIGN_COLUMNS " FROM campaign WHERE id = ?"
                               : "SELECT " CAMPAIGN_COLUMNS " FROM campaign WHERE name = ?",
                         &st, err);
    if (rc)
        return rc;
    if (by_id)
        cr_stmt_bind_int64(st, 1, id);
    else
        cr_stmt_bind_str(st, 1, name_or_id);
    rc = cr_stmt_step(st, err);
    if (rc == 1)
        rc = read_row(st, cr_clock_now(clk), out, err);
    else if (rc == 0 && by_id)
        rc = cr_err_set(err, CR_ENOTFOUND, "no campaign with id %s", name_or_id);
    else if (rc == 0)
        rc = cr_err_set(err, CR_ENOTFOUND, "no campaign named '%s'", name_or_id);
    cr_stmt_free(st);
    return rc;
}

int cr_campaign_list(struct cr_store *s, struct cr_clock *clk,
                     int (*each)(void *data, const struct cr_campaign *c), void *data,
                     struct cr_err *err)
{
    struct cr_campaign *all = NULL;
    size_t n = 0, cap = 0;
    struct cr_stmt *st;
    cr_time_t now = cr_clock_now(clk);
    int rc = cr_stmt_prepare(s, "SELECT " CAMPAIGN_COLUMNS " FROM campaign ORDER BY id", &st, err);
    if (rc)
        return rc;
    while ((rc = cr_stmt_step(st, err)) == 1) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            all = cr_xrealloc(all, cap * sizeof *all);
        }
        if ((rc = read_row(st, now, &all[n], err)))
            break;
        n++;
    }
    cr_stmt_free(st);
    for (size_t i = 0; i < n; i++) {
        if (rc == 0)
            rc = each(data, &all[i]);
        cr_campaign_release(&all[i]);
    }
    free(all);
    return rc;
}

int cr_campaign_close(struct cr_store *s, struct cr_clock *clk, int64_t id, struct cr_err *err)
{
    char now[CR_TIME_BUFSZ];
    int64_t found;
    int rc;
    cr_time_format_sql(cr_clock_now(clk), now);
    rc = cr_store_query_int64(s, err, &found,
                              "UPDATE campaign SET status = 'closed', updated_at = "
                              "CASE WHEN status = 'closed' THEN updated_at ELSE ? END "
                              "WHERE id = ? RETURNING id",
                              "si", now, id);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return cr_err_set(err, CR_ENOTFOUND, "no campaign with id %lld", (long long)id);
    return 0;
}

/* Reads (id, name, channel, status) rows, then calls each. */
static int walk_members(struct cr_store *s, const char *sql, int64_t campaign_id,
                        int (*each)(void *data, const struct cr_campaign_member *m), void *data,
                        struct cr_err *err)
{
    struct row {
        int64_t id;
        char *name, *channel, *status;
    } *rows = NULL;
    size_t n = 0, cap = 0;
    struct cr_stmt *st;
    int rc = cr_stmt_prepare(s, sql, &st, err);
    if (rc)
        return rc;
    cr_stmt_bind_int64(st, 1, campaign_id);
    while ((rc = cr_stmt_step(st, err)) == 1) {
        const char *name = cr_stmt_text(st, 1), *channel = cr_stmt_text(st, 2);
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            rows = cr_xrealloc(rows, cap * sizeof *rows);
        }
        rows[n].id = cr_stmt_int64(st, 0);
        rows[n].name = name ? cr_xstrdup(name) : NULL;
        rows[n].channel = channel ? cr_xstrdup(channel) : NULL;
        rows[n].status = cr_xstrdup(cr_stmt_text(st, 3) ? cr_stmt_text(st, 3) : "");
        n++;
    }
    cr_stmt_free(st);
    for (size_t i = 0; i < n; i++) {
        if (rc == 0) {
            struct cr_campaign_member m = {rows[i].id, rows[i].name, rows[i].channel,
                                           rows[i].status};
            rc = each(data, &m);
        }
        free(rows[i].name);
        free(rows[i].channel);
        free(rows[i].status);
    }
    free(rows);
    return rc;
}

int cr_campaign_workflows(struct cr_store *s, int64_t campaign_id,
                          int (*each)(void *data, const struct cr_campaign_member *m), void *data,
                          struct cr_err *err)
{
    return walk_members(s,
                        "SELECT id, name, NULL, status FROM workflow WHERE campaign_id = ? "
                        "ORDER BY id",
                        campaign_id, each, data, err);
}

int cr_campaign_deliveries(struct cr_store *s, int64_t campaign_id,
                           int (*each)(void *data, const struct cr_campaign_member *m), void *data,
                           struct cr_err *err)
{
    return walk_members(s,
                        "SELECT id, label, channel, status FROM delivery WHERE campaign_id = ? "
                        "AND parent_id IS NULL ORDER BY id",
                        campaign_id, each, data, err);
}
