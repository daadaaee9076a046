/*
 * apikey.c - API keys for scripts: created (shown once), revoked, listed, looked up by the
 * SHA-256 of the key (see user.h)
 */
#include "api/user.h"

#include <openssl/crypto.h>
#include <string.h>

#include "api/api_int.h"
#include "core/datetime.h"

#define PREFIX_LEN 12 /* "crk_" and 8 characters: enough to tell keys apart in a list */

int cr_apikey_create(struct cr_store *s, struct cr_clock *clock, int64_t user,
                     char key[CR_APIKEY_LEN + 1], int64_t *id, struct cr_err *err)
{
    char secret[48], hash[65], prefix[PREFIX_LEN + 1], now[CR_TIME_BUFSZ];
    if (cr_secret_new(32, secret))
        return cr_err_set(err, CR_EIO, "no random bytes for a key");
    memcpy(key, CR_APIKEY_PREFIX, 4);
    memcpy(key + 4, secret, 44); /* 43 characters and the NUL */
    OPENSSL_cleanse(secret, sizeof secret);
    memcpy(prefix, key, PREFIX_LEN);
    prefix[PREFIX_LEN] = 0;
    cr_secret_sha256_hex(key, hash);
    cr_time_format_sql(cr_clock_now(clock), now);
    int rc = cr_store_query_int64(s, err, id,
                                  "INSERT INTO api_key (user_id, prefix, key_hash, created_at) "
                                  "VALUES (?, ?, ?, ?) RETURNING id",
                                  "isss", user, prefix, hash, now);
    if (rc < 0)
        OPENSSL_cleanse(key, CR_APIKEY_LEN + 1);
    return rc < 0 ? rc : 0;
}

int cr_apikey_revoke(struct cr_store *s, struct cr_clock *clock, int64_t id, struct cr_err *err)
{
    char now[CR_TIME_BUFSZ];
    int64_t n = 0;
    int rc = cr_store_query_int64(s, err, &n, "SELECT count(*) FROM api_key WHERE id = ?", "i", id);
    if (rc < 0)
        return rc;
    if (!n)
        return cr_err_set(err, CR_ENOTFOUND, "no API key with id %lld", (long long)id);
    cr_time_format_sql(cr_clock_now(clock), now);
    return cr_store_run(s, err, "UPDATE api_key SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                        "si", now, id);
}

int cr_apikey_list(struct cr_store *s, json_t **out, struct cr_err *err)
{
    struct cr_stmt *st;
    int rc;
    *out = NULL;
    if ((rc = cr_stmt_prepare(s,
                              "SELECT k.id, u.name, k.prefix, k.created_at, k.last_used_at, "
                              "k.revoked_at FROM api_key k JOIN app_user u ON u.id = k.user_id "
                              "ORDER BY k.id",
                              &st, err)))
        return rc;
    json_t *arr = json_array();
    while ((rc = cr_stmt_step(st, err)) == 1)
        json_array_append_new(
            arr, json_pack("{sI ss ss so so so}", "id", (json_int_t)cr_stmt_int64(st, 0), "user",
                           cr_stmt_text(st, 1), "prefix", cr_stmt_text(st, 2), "created_at",
                           cr__api_time(cr_stmt_text(st, 3)), "last_used_at",
                           cr__api_time(cr_stmt_text(st, 4)), "revoked_at",
                           cr__api_time(cr_stmt_text(st, 5))));
    cr_stmt_free(st);
    if (rc < 0) {
        json_decref(arr);
        return rc;
    }
    *out = arr;
    return 0;
}

int cr_apikey_find(struct cr_store *s, cr_time_t now, const char *key, struct cr_user *out,
                   struct cr_err *err)
{
    char hash[65], ts[CR_TIME_BUFSZ], before[CR_TIME_BUFSZ];
    struct cr_stmt *st;
    int64_t kid = 0;
    int rc;
    if (strlen(key) != CR_APIKEY_LEN || strncmp(key, CR_APIKEY_PREFIX, 4))
        return cr_err_set(err, CR_EPERM, "unknown or revoked API key");
    cr_secret_sha256_hex(key, hash);
    if ((rc = cr_stmt_prepare(s,
                              "SELECT u.id, u.name, u.role, k.id FROM api_key k JOIN app_user u "
                              "ON u.id = k.user_id WHERE k.key_hash = ? AND k.revoked_at IS NULL "
                              "AND NOT u.disabled",
                              &st, err)))
        return rc;
    cr_stmt_bind_str(st, 1, hash);
    rc = cr_stmt_step(st, err);
    if (rc == 1) {
        out->id = cr_stmt_int64(st, 0);
        snprintf(out->name, sizeof out->name, "%s", cr_stmt_text(st, 1));
        if (cr_role_parse(cr_stmt_text(st, 2), &out->role))
            out->role = CR_ROLE_NONE;
        kid = cr_stmt_int64(st, 3);
    }
    cr_stmt_free(st);
    if (rc < 0)
        return rc;
    if (rc == 0 || out->role == CR_ROLE_NONE)
        return cr_err_set(err, CR_EPERM, "unknown or revoked API key");
    cr_time_format_sql(now, ts);
    cr_time_format_sql(now - 60 * CR_USEC_PER_SEC, before);
    return cr_store_run(s, err,
                        "UPDATE api_key SET last_used_at = ? WHERE id = ? AND "
                        "(last_used_at IS NULL OR last_used_at < ?)",
                        "sis", ts, kid, before);
}
