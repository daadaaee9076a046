/*
 * session.c - browser sessions: a random cookie value, stored as its SHA-256, with a CSRF
 * token and an absolute expiry (see user.h)
 *
 * Sessions expire CR_SESSION_LIFETIME after login whatever happens in between, and are read
 * against the real time, not crier's virtual clock: moving a campaign's clock must not log
 * people out or extend their sessions.
 */
#include "api/user.h"

#include <openssl/crypto.h>
#include <string.h>

#include "core/datetime.h"

int cr_session_create(struct cr_store *s, cr_time_t now, int64_t user,
                      char token[CR_SESSION_TOKEN_LEN + 1], char csrf[CR_SESSION_TOKEN_LEN + 1],
                      struct cr_err *err)
{
    char hash[65], ts[CR_TIME_BUFSZ], exp[CR_TIME_BUFSZ];
    int rc;
    if (cr_secret_new(32, token) || cr_secret_new(32, csrf))
        return cr_err_set(err, CR_EIO, "no random bytes for a session");
    cr_secret_sha256_hex(token, hash);
    cr_time_format_sql(now, ts);
    cr_time_format_sql(now + CR_SESSION_LIFETIME, exp);
    if ((rc = cr_store_run(s, err, "DELETE FROM app_session WHERE expires_at <= ?", "s", ts)) ||
        (rc = cr_store_run(s, err,
                           "INSERT INTO app_session (user_id, token_hash, csrf_token, created_at, "
                           "expires_at) VALUES (?, ?, ?, ?, ?)",
                           "issss", user, hash, csrf, ts, exp))) {
        OPENSSL_cleanse(token, CR_SESSION_TOKEN_LEN + 1);
        return rc;
    }
    return 0;
}

int cr_session_find(struct cr_store *s, cr_time_t now, const char *token, struct cr_user *out,
                    char csrf[CR_SESSION_TOKEN_LEN + 1], struct cr_err *err)
{
    char hash[65], ts[CR_TIME_BUFSZ];
    struct cr_stmt *st;
    int rc;
    if (strlen(token) != CR_SESSION_TOKEN_LEN)
        return cr_err_set(err, CR_EPERM, "no session (log in again)");
    cr_secret_sha256_hex(token, hash);
    cr_time_format_sql(now, ts);
    if ((rc = cr_stmt_prepare(s,
                              "SELECT u.id, u.name, u.role, s.csrf_token FROM app_session s "
                              "JOIN app_user u ON u.id = s.user_id WHERE s.token_hash = ? AND "
                              "s.expires_at > ? AND NOT u.disabled",
                              &st, err)))
        return rc;
    cr_stmt_bind_str(st, 1, hash);
    cr_stmt_bind_str(st, 2, ts);
    rc = cr_stmt_step(st, err);
    if (rc == 1) {
        out->id = cr_stmt_int64(st, 0);
        snprintf(out->name, sizeof out->name, "%s", cr_stmt_text(st, 1));
        if (cr_role_parse(cr_stmt_text(st, 2), &out->role))
            out->role = CR_ROLE_NONE;
        snprintf(csrf, CR_SESSION_TOKEN_LEN + 1, "%s", cr_stmt_text(st, 3));
    }
    cr_stmt_free(st);
    if (rc < 0)
        return rc;
    if (rc == 0 || out->role == CR_ROLE_NONE)
        return cr_err_set(err, CR_EPERM, "no session (log in again)");
    return 0;
}

int cr_session_delete(struct cr_store *s, const char *token, struct cr_err *err)
{
    char hash[65];
    cr_secret_sha256_hex(token, hash);
    return cr_store_run(s, err, "DELETE FROM app_session WHERE token_hash = ?", "s", hash);
}
