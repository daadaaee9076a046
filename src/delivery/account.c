/*
 * account.c - storing and reading external accounts; secrets stay inside
 */
#include "delivery/account.h"

#include <stdlib.h>
#include <string.h>

#include "campaign/campaign.h"
#include "core/datetime.h"
#include "core/mem.h"

int cr_account_add(struct cr_store *s, struct cr_clock *clock, const char *name,
                   const char *kind, const char *channel, const char *mode, json_t *settings,
                   json_t *secrets, int64_t *id, struct cr_err *err)
{
    char ts[CR_TIME_BUFSZ];
    int64_t n;
    if (!cr_campaign_name_ok(name))
        return cr_err_set(err, CR_EINVAL, "bad account name '%s' (1 to 100 letters, digits, "
                          "'.', '_' or '-', starting with a letter or digit)", name);
    int rc = cr_store_query_int64(s, err, &n, "SELECT count(*) FROM account WHERE name = ?", "s",
                                  name);
    if (rc < 0)
        return rc;
    if (n > 0)
        return cr_err_set(err, CR_EEXISTS, "an account named '%s' already exists", name);
    char *st = json_dumps(settings, JSON_COMPACT | JSON_SORT_KEYS);
    char *sec = secrets && json_object_size(secrets)
                    ? json_dumps(secrets, JSON_COMPACT | JSON_SORT_KEYS)
                    : NULL;
    cr_time_format_sql(cr_clock_now(clock), ts);
    rc = cr_store_query_int64(s, err, id,
                              "INSERT INTO account (name, kind, channel, mode, settings, secrets, "
                              "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                              "RETURNING id",
                              "ssssssss", name, kind, channel, mode, st, sec, ts, ts);
    free(st);
    free(sec);
    return rc < 0 ? rc : 0;
}

static int load(struct cr_store *s, const char *where, const char *types, const char *name,
                int64_t id, int with_secrets, struct cr_account *out, struct cr_err *err)
{
    struct cr_stmt *st = NULL;
    char sql[256];
    int rc;
    memset(out, 0, sizeof *out);
    snprintf(sql, sizeof sql,
             "SELECT id, name, kind, channel, mode, settings, secrets, enabled FROM account "
             "WHERE %s",
             where);
    if ((rc = cr_stmt_prepare(s, sql, &st, err)))
        return rc;
    if (*types == 's')
        cr_stmt_bind_str(st, 1, name);
    else
        cr_stmt_bind_int64(st, 1, id);
    rc = cr_stmt_step(st, err);
    if (rc == 0) {
        rc = name ? cr_err_set(err, CR_ENOTFOUND, "no account named '%s'", name)
                  : cr_err_set(err, CR_ENOTFOUND, "no account with id %lld", (long long)id);
    } else if (rc == 1) {
        out->id = cr_stmt_int64(st, 0);
        out->name = cr_xstrdup(cr_stmt_text(st, 1));
        out->kind = cr_xstrdup(cr_stmt_text(st, 2));
        out->channel = cr_xstrdup(cr_stmt_text(st, 3));
        out->mode = cr_xstrdup(cr_stmt_text(st, 4));
        out->settings = json_loads(cr_stmt_text(st, 5) ? cr_stmt_text(st, 5) : "{}", 0, NULL);
        if (!json_is_object(out->settings)) {
            json_decref(out->settings);
            out->settings = json_object();
        }
        if (with_secrets) {
            out->secrets = json_loads(cr_stmt_text(st, 6) ? cr_stmt_text(st, 6) : "{}", 0, NULL);
            if (!json_is_object(out->secrets)) {
                json_decref(out->secrets);
                out->secrets = json_object();
            }
        }
        out->enabled = cr_stmt_bool(st, 7);
        rc = 0;
    }
    cr_stmt_free(st);
    return rc;
}

int cr_account_get(struct cr_store *s, const char *name, int with_secrets,
                   struct cr_account *out, struct cr_err *err)
{
    return load(s, "name = ?", "s", name, 0, with_secrets, out, err);
}

int cr_account_get_id(struct cr_store *s, int64_t id, int with_secrets, struct cr_account *out,
                      struct cr_err *err)
{
    return load(s, "id = ?", "i", NULL, id, with_secrets, out, err);
}

void cr_account_release(struct cr_account *a)
{
    free(a->name);
    free(a->kind);
    free(a->channel);
    free(a->mode);
    json_decref(a->settings);
    json_decref(a->secrets);
    memset(a, 0, sizeof *a);
}

int cr_account_list(struct cr_store *s, json_t **out, struct cr_err *err)
{
    struct cr_stmt *st = NULL;
    json_t *arr = json_array();
    int rc = cr_stmt_prepare(s,
                             "SELECT id, name, kind, channel, mode, settings, secrets IS NOT NULL, "
                             "enabled FROM account ORDER BY id",
                             &st, err);
    *out = NULL;
    if (rc) {
        json_decref(arr);
        return rc;
    }
    while ((rc = cr_stmt_step(st, err)) == 1) {
        json_t *settings = json_loads(cr_stmt_text(st, 5) ? cr_stmt_text(st, 5) : "{}", 0, NULL);
        json_array_append_new(arr, json_pack("{sI ss ss ss ss so sb sb}", "id",
                                             (json_int_t)cr_stmt_int64(st, 0), "name",
                                             cr_stmt_text(st, 1), "kind", cr_stmt_text(st, 2),
                                             "channel", cr_stmt_text(st, 3), "mode",
                                             cr_stmt_text(st, 4), "settings",
                                             settings ? settings : json_object(), "has_secrets",
                                             cr_stmt_bool(st, 6), "enabled",
                                             cr_stmt_bool(st, 7)));
    }
    cr_stmt_free(st);
    if (rc < 0) {
        json_decref(arr);
        return rc;
    }
    *out = arr;
    return 0;
}
