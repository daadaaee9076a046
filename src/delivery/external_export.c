/*
 * external_export.c - sending an external delivery: its file generated once into the spool,
 *                     then exported, retried with a back-off when the target fails
 *
 * States of delivery_export.status: generating -> ready (the file is in the spool) ->
 * exporting -> exported, or retrying (next_attempt_at) -> exporting..., or failed (a refused
 * login, a changed host key, or the validity spent: the delivery fails with the reason; the
 * file stays in the spool). generating and exporting are claims: one process does the work,
 * its lease in next_attempt_at; a claim whose lease ran out (its process died) is taken over.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "channel/external/export.h"
#include "core/datetime.h"
#include "core/log.h"
#include "core/mem.h"
#include "delivery/account.h"
#include "delivery/delivery_int.h"
#include "delivery/external.h"
#include "delivery/external_int.h"

#define DEFAULT_VALIDITY (INT64_C(5) * 86400 * CR_USEC_PER_SEC)
#define LEASE (INT64_C(600) * CR_USEC_PER_SEC) /* a generation or an export in progress */

struct dl {
    json_t *content, *options;
    char *label;
    int64_t account_id;
    cr_time_t started;
};

static void dl_release(struct dl *d)
{
    json_decref(d->content);
    json_decref(d->options);
    free(d->label);
}

static int dl_load(struct cr_store *s, int64_t id, struct dl *d, struct cr_err *err)
{
    struct cr_stmt *st = NULL;
    int rc = cr_stmt_prepare(s,
                             "SELECT content, options, label, account_id, started_at FROM "
                             "delivery WHERE id = ?",
                             &st, err);
    memset(d, 0, sizeof *d);
    if (rc)
        return rc;
    cr_stmt_bind_int64(st, 1, id);
    if ((rc = cr_stmt_step(st, err)) == 1) {
        d->content = json_loads(cr_stmt_text(st, 0) ? cr_stmt_text(st, 0) : "{}", 0, NULL);
        d->options = json_loads(cr_stmt_text(st, 1) ? cr_stmt_text(st, 1) : "{}", 0, NULL);
        d->label = cr_xstrdup(cr_stmt_text(st, 2) ? cr_stmt_text(st, 2) : "");
        d->account_id = cr_stmt_is_null(st, 3) ? 0 : cr_stmt_int64(st, 3);
        const char *t = cr_stmt_text(st, 4);
        struct cr_err e = CR_ERR_INIT;
        if (t && cr_time_parse(t, strlen(t), &d->started, &e))
            d->started = 0;
        rc = 0;
    } else if (rc == 0) {
        rc = cr_err_set(err, CR_ENOTFOUND, "no delivery %lld", (long long)id);
    }
    cr_stmt_free(st);
    return rc;
}

/* Writes the file into the spool and records it (status ready). */
static int generate(struct cr_store *s, struct cr_clock *clock, int64_t id, const struct dl *d,
                    const struct cr_account *a, struct cr_err *err)
{
    char *dir = NULL, ts[CR_TIME_BUFSZ];
    const char *pattern = json_string_value(json_object_get(a->settings, "file_name"));
    const char *target = json_string_value(json_object_get(a->settings, "export"));
    cr_time_t now = cr_clock_now(clock);
    int64_t rows, bytes, max;
    int rc = cr__external_spool(s, &dir, err);
    if (rc)
        return rc;
    char *name = cr__external_file_name(pattern, id, d->label, now, d->content);
    struct cr_buf path = CR_BUF_INIT(0);
    cr_buf_printf(&path, "%s/%lld-%s", dir, (long long)id, name);
    rc = cr__external_write(s, clock, id, d->content, d->label, "pending", 0, 0, path.data, &rows,
                            &bytes, &max, err);
    if (!rc)
        rc = cr_store_run(s, err,
                          "UPDATE delivery_export SET file = ?, name = ?, target = ?, rows = ?, "
                          "bytes = ?, max_log_id = ?, status = 'ready', created_at = ?, "
                          "next_attempt_at = NULL WHERE delivery_id = ? AND status = "
                          "'generating'",
                          "sssiiisi", path.data, name, target ? target : "", rows, bytes, max,
                          cr_time_format_sql(now, ts), id);
    if (!rc)
        cr_log_info("delivery %lld: %lld rows written to %s", (long long)id, (long long)rows,
                    path.data);
    else
        unlink(path.data);
    cr_buf_release(&path);
    free(name);
    free(dir);
    return rc;
}

/* The key in a temporary file for libcurl, which reads keys from files only. */
static int key_file(const char *pem, const char *dir, struct cr_buf *path, struct cr_err *err)
{
    cr_buf_printf(path, "%s/.key-%ld", dir, (long)getpid());
    unlink(path->data); /* a leftover of a process that died with this pid */
    int fd = open(path->data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        if (fd >= 0)
            close(fd);
        return cr_err_set(err, CR_EIO, "%s: %s", path->data, strerror(errno));
    }
    int bad = fputs(pem, f) < 0;
    bad |= fclose(f) != 0;
    if (bad)
        unlink(path->data); /* the caller removes it too; a partial key is still a key */
    return bad ? cr_err_set(err, CR_EIO, "%s: %s", path->data, strerror(errno)) : 0;
}

static int64_t backoff(int64_t attempts)
{
    int64_t m = INT64_C(60) * CR_USEC_PER_SEC;
    for (int64_t i = 1; i < attempts && m < INT64_C(3600) * CR_USEC_PER_SEC; i++)
        m *= 2;
    return m > INT64_C(3600) * CR_USEC_PER_SEC ? INT64_C(3600) * CR_USEC_PER_SEC : m;
}

/* Ends the delivery: sent, or failed with the reason; its workflow learns it. */
static int finish(struct cr_store *s, struct cr_clock *clock, int64_t id, const char *error,
                  struct cr_err *err)
{
    char ts[CR_TIME_BUFSZ];
    cr_time_format_sql(cr_clock_now(clock), ts);
    int rc = error ? cr_store_run(s, err,
                                  "UPDATE delivery SET status = 'failed', error = ?, updated_at "
                                  "= ? WHERE id = ? AND status = 'sending'",
                                  "ssi", error, ts, id)
                   : cr_store_run(s, err,
                                  "UPDATE delivery SET status = 'sent', sent_at = ?, "
                                  "updated_at = ? WHERE id = ? AND status = 'sending'",
                                  "ssi", ts, ts, id);
    return rc ? rc : cr__delivery_finished(s, clock, id, err);
}

/* One attempt to export the recorded file. */
static int attempt(struct cr_store *s, struct cr_clock *clock, int64_t id, const struct dl *d,
                   const struct cr_account *a, struct cr_err *err)
{
    char *file = NULL, *name = NULL, *seen = NULL, *dir = NULL, ts[CR_TIME_BUFSZ];
    int64_t attempts = 0, max = 0;
    struct cr_buf key = CR_BUF_INIT(0);
    struct cr_err e = CR_ERR_INIT;
    int rc;
    if ((rc = cr_store_query_text(s, err, &file,
                                  "SELECT file FROM delivery_export WHERE "
                                  "delivery_id = ?",
                                  "i", id)) < 0 ||
        (rc = cr_store_query_text(s, err, &name,
                                  "SELECT name FROM delivery_export WHERE "
                                  "delivery_id = ?",
                                  "i", id)) < 0 ||
        (rc = cr_store_query_int64(s, err, &attempts,
                                   "SELECT attempts FROM delivery_export "
                                   "WHERE delivery_id = ?",
                                   "i", id)) < 0 ||
        (rc = cr_store_query_int64(s, err, &max,
                                   "SELECT COALESCE(max_log_id, 0) FROM "
                                   "delivery_export WHERE delivery_id = ?",
                                   "i", id)) < 0)
        goto out;
    rc = 0;
    struct cr_export_target t = {0};
    t.url = json_string_value(json_object_get(a->settings, "export"));
    t.host_key_sha256 = json_string_value(json_object_get(a->settings, "host_key_sha256"));
    t.password = a->secrets ? json_string_value(json_object_get(a->secrets, "password")) : NULL;
    const char *pem = a->secrets ? json_string_value(json_object_get(a->secrets, "ssh_key")) : NULL;
    if (pem && !(rc = cr__external_spool(s, &dir, err)) && !(rc = key_file(pem, dir, &key, err)))
        t.key_file = key.data;
    if (rc)
        goto out;
    rc = cr_export_file(&t, file, name, &seen, &e);
    cr_time_t now = cr_clock_now(clock);
    cr_time_format_sql(now, ts);
    attempts++;
    if (rc == 0) {
        if ((rc = cr_store_begin(s, err)))
            goto out;
        rc = cr_store_run(s, err,
                          "UPDATE delivery_log SET status = 'sent', sent_at = ?, updated_at = ? "
                          "WHERE delivery_id = ? AND status = 'pending' AND NOT proof AND id <= "
                          "?",
                          "ssii", ts, ts, id, max);
        if (!rc)
            rc = cr_store_run(s, err,
                              "UPDATE delivery_export SET status = 'exported', attempts = ?, "
                              "error = NULL, exported_at = ?, next_attempt_at = NULL WHERE "
                              "delivery_id = ?",
                              "isi", attempts, ts, id);
        /* trust on first use: the key seen is pinned for the next exports */
        if (!rc && seen && !t.host_key_sha256) {
            json_t *st = json_deep_copy(a->settings);
            json_object_set_new(st, "host_key_sha256", json_string(seen));
            char *text = json_dumps(st, JSON_COMPACT | JSON_SORT_KEYS);
            rc = cr_store_run(s, err, "UPDATE account SET settings = ? WHERE id = ?", "si", text,
                              a->id);
            free(text);
            json_decref(st);
            cr_log_info("account '%s': host key SHA256:%s pinned", a->name, seen);
        }
        if (!rc)
            rc = finish(s, clock, id, NULL, err);
        if (rc) {
            cr_store_rollback(s);
            goto out;
        }
        if ((rc = cr_store_commit(s, err)))
            goto out;
        unlink(file);
        cr_log_info("delivery %lld: %s exported to %s", (long long)id, name, t.url);
        goto out;
    }
    /* retried while the delivery is valid, unless retrying cannot help */
    int64_t validity = DEFAULT_VALIDITY;
    const char *v = json_string_value(json_object_get(d->options, "validity"));
    struct cr_err e2 = CR_ERR_INIT;
    if (v && cr_duration_parse(v, strlen(v), &validity, &e2))
        validity = DEFAULT_VALIDITY;
    cr_time_t next = now + backoff(attempts);
    int give_up = rc != CR_EIO || next > (d->started ? d->started : now) + validity;
    char next_ts[CR_TIME_BUFSZ];
    cr_log_warn("delivery %lld: export of %s (attempt %lld): %s", (long long)id, name,
                (long long)attempts, cr_err_msg(&e));
    rc = cr_store_run(s, err,
                      "UPDATE delivery_export SET status = ?, attempts = ?, error = ?, "
                      "next_attempt_at = ? WHERE delivery_id = ?",
                      "sissi", give_up ? "failed" : "retrying", attempts, cr_err_msg(&e),
                      give_up ? NULL : cr_time_format_sql(next, next_ts), id);
    if (!rc && give_up) {
        struct cr_buf why = CR_BUF_INIT(0);
        cr_buf_printf(&why, "export failed after %lld attempts: %s (the file is kept at %s)",
                      (long long)attempts, cr_err_msg(&e), file);
        rc = finish(s, clock, id, why.data, err);
        cr_buf_release(&why);
    }
out:
    if (key.len) /* the key never stays on disk */
        unlink(key.data);
    cr_buf_release(&key);
    free(file);
    free(name);
    free(seen);
    free(dir);
    return rc;
}

/* Takes the export's next piece of work, if due and nobody else has it: 'g' to generate the
 * file, 'x' to export it, 's'/'f' to end a delivery whose export already ended (sent or
 * failed), 0 for nothing now. One statement each, so two processes cannot both win. */
static int claim(struct cr_store *s, cr_time_t now, int64_t id, int *what, struct cr_err *err)
{
    char ts[CR_TIME_BUFSZ], lease[CR_TIME_BUFSZ];
    int64_t got;
    char *status = NULL;
    int rc;
    *what = 0;
    cr_time_format_sql(now, ts);
    cr_time_format_sql(now + LEASE, lease);
    if ((rc = cr_store_query_int64(s, err, &got,
                                   "INSERT INTO delivery_export (delivery_id, file, name, "
                                   "target, status, created_at, next_attempt_at) VALUES (?, '', "
                                   "'', '', 'generating', ?, ?) ON CONFLICT (delivery_id) DO "
                                   "NOTHING RETURNING delivery_id",
                                   "iss", id, ts, lease)) < 0)
        return rc;
    if (rc == 1) {
        *what = 'g';
        return 0;
    }
    if ((rc = cr_store_query_int64(s, err, &got,
                                   "UPDATE delivery_export SET next_attempt_at = ? WHERE "
                                   "delivery_id = ? AND status = 'generating' AND "
                                   "next_attempt_at <= ? RETURNING delivery_id",
                                   "sis", lease, id, ts)) < 0)
        return rc;
    if (rc == 1) { /* its generator died: start again */
        *what = 'g';
        return 0;
    }
    if ((rc = cr_store_query_int64(s, err, &got,
                                   "UPDATE delivery_export SET status = 'exporting', "
                                   "next_attempt_at = ? WHERE delivery_id = ? AND (status = "
                                   "'ready' OR (status IN ('retrying', 'exporting') AND "
                                   "next_attempt_at <= ?)) RETURNING delivery_id",
                                   "sis", lease, id, ts)) < 0)
        return rc;
    if (rc == 1) {
        *what = 'x';
        return 0;
    }
    if ((rc = cr_store_query_text(s, err, &status,
                                  "SELECT status FROM delivery_export WHERE delivery_id = ?", "i",
                                  id)) < 0)
        return rc;
    if (status && strcmp(status, "exported") == 0)
        *what = 's';
    else if (status && strcmp(status, "failed") == 0)
        *what = 'f';
    free(status);
    return 0;
}

int cr_external_step(struct cr_store *s, struct cr_clock *clock, int64_t id, int *did,
                     struct cr_err *err)
{
    struct dl d;
    struct cr_account a;
    char *error = NULL;
    int what, rc = dl_load(s, id, &d, err);
    *did = 0;
    if (rc)
        return rc;
    if ((rc = cr_account_get_id(s, d.account_id, 1, &a, err))) {
        dl_release(&d);
        return rc;
    }
    if ((rc = claim(s, cr_clock_now(clock), id, &what, err)))
        goto out;
    *did = what != 0;
    if (what == 'g' && (rc = generate(s, clock, id, &d, &a, err))) {
        /* the file cannot be written (an encoding error, the spool full): the delivery fails
         * with the reason */
        struct cr_err e2 = CR_ERR_INIT;
        cr_log_warn("delivery %lld: %s", (long long)id, cr_err_msg(err));
        if (cr_store_run(s, &e2, "DELETE FROM delivery_export WHERE delivery_id = ?", "i", id) ||
            finish(s, clock, id, cr_err_msg(err), &e2))
            cr_log_warn("delivery %lld: %s", (long long)id, cr_err_msg(&e2));
        rc = 0;
    } else if (what == 'x') {
        rc = attempt(s, clock, id, &d, &a, err);
    } else if (what == 's') { /* exported, the delivery not ended (a crash in between) */
        rc = finish(s, clock, id, NULL, err);
    } else if (what == 'f' &&
               (rc = cr_store_query_text(s, err, &error,
                                         "SELECT error FROM delivery_export WHERE delivery_id = "
                                         "?",
                                         "i", id)) >= 0) {
        rc = finish(s, clock, id, error ? error : "export failed", err);
    }
out:
    free(error);
    cr_account_release(&a);
    dl_release(&d);
    return rc < 0 ? rc : 0;
}

int cr_external_export_json(struct cr_store *s, int64_t id, json_t **out, struct cr_err *err)
{
    struct cr_stmt *st = NULL;
    int rc = cr_stmt_prepare(s,
                             "SELECT file, name, target, rows, bytes, status, attempts, "
                             "error, exported_at, next_attempt_at FROM delivery_export WHERE "
                             "delivery_id = ?",
                             &st, err);
    *out = NULL;
    if (rc)
        return rc;
    cr_stmt_bind_int64(st, 1, id);
    if ((rc = cr_stmt_step(st, err)) == 1) {
        json_t *j = json_object();
        static const char *const keys[] = {"file",        "name",           "target",   "rows",
                                           "bytes",       "status",         "attempts", "error",
                                           "exported_at", "next_attempt_at"};
        for (int i = 0; i < 10; i++) {
            const char *v = cr_stmt_text(st, i);
            if (i == 3 || i == 4 || i == 6)
                json_object_set_new(j, keys[i], json_integer(cr_stmt_int64(st, i)));
            else if (i >= 8 && v) {
                cr_time_t t;
                char buf[CR_TIME_BUFSZ];
                struct cr_err e = CR_ERR_INIT;
                json_object_set_new(j, keys[i],
                                    cr_time_parse(v, strlen(v), &t, &e)
                                        ? json_string(v)
                                        : json_string(cr_time_format_iso(t, buf)));
            } else
                json_object_set_new(j, keys[i], v ? json_string(v) : json_null());
        }
        *out = j;
        rc = 0;
    }
    cr_stmt_free(st);
    return rc < 0 ? rc : 0;
}
