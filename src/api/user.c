/*
 * user.c - API users: add, list, find, log in, change (role, disabled, password; see user.h)
 */
#include "api/user.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "core/datetime.h"
#include "core/mem.h"

static const char *const role_names[] = {"none", "viewer", "operator", "admin"}; /* ORDER CR_ROLE */

const char *cr_role_name(enum cr_role r)
{
    return r >= CR_ROLE_NONE && r <= CR_ROLE_ADMIN ? role_names[r] : "none";
}

int cr_role_parse(const char *name, enum cr_role *out)
{
    for (int r = CR_ROLE_VIEWER; r <= CR_ROLE_ADMIN; r++)
        if (name && strcmp(name, role_names[r]) == 0) {
            *out = (enum cr_role)r;
            return 0;
        }
    return CR_EINVAL;
}

int cr_user_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 100)
        return 0;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-' || *p == '@'))
            return 0;
    return 1;
}

int cr_user_add(struct cr_store *s, struct cr_clock *clock, const char *name, enum cr_role role,
                const char *password, int64_t *id, struct cr_err *err)
{
    char now[CR_TIME_BUFSZ], *hash = NULL;
    int64_t n = 0;
    int rc;
    if (!cr_user_name_ok(name))
        return cr_err_set(err, CR_EINVAL,
                          "bad user name '%s' (1 to 100 letters, digits, '.', '_', '-', '@')",
                          name);
    if (role < CR_ROLE_VIEWER || role > CR_ROLE_ADMIN)
        return cr_err_set(err, CR_EINVAL, "a role is admin, operator or viewer");
    if ((rc = cr_store_query_int64(s, err, &n, "SELECT count(*) FROM app_user WHERE name = ?", "s",
                                   name)) < 0)
        return rc;
    if (n)
        return cr_err_set(err, CR_EEXISTS, "a user named '%s' exists already", name);
    if ((rc = cr_password_hash(password, &hash, err)))
        return rc;
    cr_time_format_sql(cr_clock_now(clock), now);
    rc = cr_store_query_int64(s, err, id,
                              "INSERT INTO app_user (name, role, password_hash, created_at, "
                              "updated_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
                              "sssss", name, cr_role_name(role), hash, now, now);
    free(hash);
    return rc < 0 ? rc : 0;
}

int cr_user_list(struct cr_store *s, json_t **out, struct cr_err *err)
{
    struct cr_stmt *st;
    int rc;
    *out = NULL;
    if ((rc = cr_stmt_prepare(s,
                              "SELECT u.id, u.name, u.role, u.disabled, u.created_at, "
                              "(SELECT count(*) FROM api_key k WHERE k.user_id = u.id AND "
                              "k.revoked_at IS NULL) FROM app_user u ORDER BY u.id",
                              &st, err)))
        return rc;
    json_t *arr = json_array();
    while ((rc = cr_stmt_step(st, err)) == 1)
        json_array_append_new(
            arr, json_pack("{sI ss ss sb so sI}", "id", (json_int_t)cr_stmt_int64(st, 0), "name",
                           cr_stmt_text(st, 1), "role", cr_stmt_text(st, 2), "disabled",
                           cr_stmt_bool(st, 3), "created_at", cr__api_time(cr_stmt_text(st, 4)),
                           "api_keys", (json_int_t)cr_stmt_int64(st, 5)));
    cr_stmt_free(st);
    if (rc < 0) {
        json_decref(arr);
        return rc;
    }
    *out = arr;
    return 0;
}

/* Reads a user row (id, name, role, disabled, password_hash) by name; 1 if found. */
static int find(struct cr_store *s, const char *name, struct cr_user *u, int *disabled,
                char **hash, struct cr_err *err)
{
    struct cr_stmt *st;
    int rc;
    if ((rc = cr_stmt_prepare(s,
                              "SELECT id, name, role, disabled, password_hash FROM app_user "
                              "WHERE name = ?",
                              &st, err)))
        return rc;
    cr_stmt_bind_str(st, 1, name);
    rc = cr_stmt_step(st, err);
    if (rc == 1) {
        u->id = cr_stmt_int64(st, 0);
        snprintf(u->name, sizeof u->name, "%s", cr_stmt_text(st, 1));
        if (cr_role_parse(cr_stmt_text(st, 2), &u->role))
            u->role = CR_ROLE_NONE;
        *disabled = cr_stmt_bool(st, 3);
        if (hash)
            *hash = cr_xstrdup(cr_stmt_text(st, 4));
    }
    cr_stmt_free(st);
    return rc;
}

int cr_user_get(struct cr_store *s, const char *name, struct cr_user *out, struct cr_err *err)
{
    int disabled, rc = find(s, name, out, &disabled, NULL, err);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return cr_err_set(err, CR_ENOTFOUND, "no user named '%s'", name);
    return 0;
}

int cr_user_login(struct cr_store *s, const char *name, const char *password,
                  struct cr_user *out, struct cr_err *err)
{
    char *hash = NULL;
    int disabled = 1, rc = find(s, name, out, &disabled, &hash, err);
    if (rc < 0)
        return rc;
    /* verify even when there is no such user, so that timing does not tell */
    int ok = cr_password_verify(password, rc == 1 ? hash : NULL);
    free(hash);
    if (!ok || disabled || out->role == CR_ROLE_NONE)
        return cr_err_set(err, CR_EPERM, "wrong user name or password");
    return 0;
}

/* The enabled admins other than id. */
static int other_admins(struct cr_store *s, int64_t id, int64_t *n, struct cr_err *err)
{
    int rc = cr_store_query_int64(s, err, n,
                                  "SELECT count(*) FROM app_user WHERE role = 'admin' AND NOT "
                                  "disabled AND id <> ?",
                                  "i", id);
    return rc < 0 ? rc : 0;
}

static int update(struct cr_store *s, struct cr_clock *clock, int64_t id, enum cr_role role,
                  int disabled, struct cr_err *err)
{
    struct cr_stmt *st;
    char now[CR_TIME_BUFSZ];
    enum cr_role old_role = CR_ROLE_NONE;
    int old_disabled = 0, rc;
    int64_t admins = 0;
    if ((rc = cr_stmt_prepare(s, "SELECT role, disabled FROM app_user WHERE id = ?", &st, err)))
        return rc;
    cr_stmt_bind_int64(st, 1, id);
    rc = cr_stmt_step(st, err);
    if (rc == 1) {
        if (cr_role_parse(cr_stmt_text(st, 0), &old_role))
            old_role = CR_ROLE_NONE;
        old_disabled = cr_stmt_bool(st, 1);
    }
    cr_stmt_free(st);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return cr_err_set(err, CR_ENOTFOUND, "no user with id %lld", (long long)id);
    if (role == CR_ROLE_NONE)
        role = old_role;
    if (disabled < 0)
        disabled = old_disabled;
    if (old_role == CR_ROLE_ADMIN && !old_disabled && (role != CR_ROLE_ADMIN || disabled)) {
        if ((rc = other_admins(s, id, &admins, err)))
            return rc;
        if (!admins)
            return cr_err_set(err, CR_ESTATE,
                              "this is the last enabled admin: make another admin first");
    }
    cr_time_format_sql(cr_clock_now(clock), now);
    if ((rc = cr_store_run(s, err,
                           "UPDATE app_user SET role = ?, disabled = ?, updated_at = ? "
                           "WHERE id = ?",
                           "sbsi", cr_role_name(role), disabled, now, id)))
        return rc;
    if (disabled && !old_disabled)
        rc = cr_store_run(s, err, "DELETE FROM app_session WHERE user_id = ?", "i", id);
    return rc;
}

int cr_user_update(struct cr_store *s, struct cr_clock *clock, int64_t id, enum cr_role role,
                   int disabled, struct cr_err *err)
{
    int rc = cr_store_begin(s, err);
    if (rc)
        return rc;
    if ((rc = update(s, clock, id, role, disabled, err))) {
        cr_store_rollback(s);
        return rc;
    }
    return cr_store_commit(s, err);
}

int cr_user_set_password(struct cr_store *s, struct cr_clock *clock, int64_t id,
                         const char *old_password, const char *new_password,
                         const char *keep_session, struct cr_err *err)
{
    char *stored = NULL, *hash = NULL, now[CR_TIME_BUFSZ], keep[65] = "";
    int rc = cr_store_query_text(s, err, &stored,
                                 "SELECT password_hash FROM app_user WHERE id = ?", "i", id);
    if (rc < 0)
        return rc;
    int ok = cr_password_verify(old_password, rc == 1 ? stored : NULL);
    free(stored);
    if (!ok)
        return cr_err_set(err, CR_EPERM, "the old password is wrong");
    if ((rc = cr_password_hash(new_password, &hash, err)))
        return rc;
    if (keep_session)
        cr_secret_sha256_hex(keep_session, keep);
    cr_time_format_sql(cr_clock_now(clock), now);
    if (!(rc = cr_store_begin(s, err))) {
        if ((rc = cr_store_run(s, err,
                               "UPDATE app_user SET password_hash = ?, updated_at = ? WHERE id = ?",
                               "ssi", hash, now, id)) ||
            (rc = cr_store_run(s, err,
                               "DELETE FROM app_session WHERE user_id = ? AND token_hash <> ?",
                               "is", id, keep)))
            cr_store_rollback(s);
        else
            rc = cr_store_commit(s, err);
    }
    free(hash);
    return rc;
}
