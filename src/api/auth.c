/*
 * auth.c - who is asking: API keys, session cookies, CSRF, and the login, logout and me
 *          routes; failed logins are throttled per user name
 *
 * Decisions (docs/api.md says them to users):
 * - A session cookie is 32 random bytes, stored as its SHA-256, HttpOnly, SameSite=Strict,
 *   Path=/, Secure when public_url is https; it lasts 12 hours from login (real time).
 * - CSRF: the login answer carries a per-session token; a request with the cookie and an
 *   unsafe method (anything but GET and HEAD) must repeat it in X-CSRF-Token (compared in
 *   constant time). Bodies must be application/json, which a cross-site form cannot send.
 *   Bearer keys are not sent by browsers on their own, so they need no CSRF token.
 * - Throttle: in memory, per name, for this process: 5 failures free, then each further
 *   failure locks the name for 2^(n-5) seconds (at most 15 minutes), answered 429 with
 *   Retry-After without checking the password. A success clears it. Restarting crier serve
 *   forgets it; several serve processes each keep their own.
 */
#include "api/api_int.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/datetime.h"
#include "core/log.h"
#include "core/mem.h"
#include "store/config.h"

#define FREE_FAILURES 5
#define LOCK_MAX_SEC 900
#define THROTTLE_SLOTS 4096

/* ---------------------------------------------------------------- throttle --- */

struct slot {
    char name[101];
    int failures;
    cr_time_t until; /* real time; locked before it */
    cr_time_t last;
};

struct cr__api_throttle {
    pthread_mutex_t mu;
    struct slot *v; /* THROTTLE_SLOTS; name[0] == 0: free */
};

struct cr__api_throttle *cr__api_throttle_new(void)
{
    struct cr__api_throttle *t = cr_xcalloc(1, sizeof *t);
    pthread_mutex_init(&t->mu, NULL);
    t->v = cr_xcalloc(THROTTLE_SLOTS, sizeof *t->v);
    return t;
}

void cr__api_throttle_free(struct cr__api_throttle *t)
{
    if (!t)
        return;
    pthread_mutex_destroy(&t->mu);
    free(t->v);
    free(t);
}

/* The slot of name, or a free one (the least recently failed when all are taken). */
static struct slot *slot_of(struct cr__api_throttle *t, const char *name, int create)
{
    struct slot *oldest = &t->v[0];
    for (size_t i = 0; i < THROTTLE_SLOTS; i++) {
        struct slot *s = &t->v[i];
        if (s->name[0] && strcmp(s->name, name) == 0)
            return s;
        if (!s->name[0] || (oldest->name[0] && s->last < oldest->last))
            oldest = s;
    }
    if (!create)
        return NULL;
    memset(oldest, 0, sizeof *oldest);
    snprintf(oldest->name, sizeof oldest->name, "%s", name);
    return oldest;
}

/* Seconds name stays locked, 0 if it may try now. */
static int throttle_wait(struct cr__api_throttle *t, const char *name, cr_time_t now)
{
    pthread_mutex_lock(&t->mu);
    struct slot *s = slot_of(t, name, 0);
    int64_t left = s && s->until > now ? (s->until - now + CR_USEC_PER_SEC - 1) / CR_USEC_PER_SEC : 0;
    pthread_mutex_unlock(&t->mu);
    return (int)left;
}

static void throttle_result(struct cr__api_throttle *t, const char *name, int ok, cr_time_t now)
{
    pthread_mutex_lock(&t->mu);
    struct slot *s = slot_of(t, name, !ok);
    if (ok) {
        if (s)
            memset(s, 0, sizeof *s);
    } else {
        s->failures++;
        s->last = now;
        if (s->failures > FREE_FAILURES) {
            int n = s->failures - FREE_FAILURES;
            int64_t sec = n >= 10 ? LOCK_MAX_SEC : (int64_t)1 << (n - 1);
            if (sec > LOCK_MAX_SEC)
                sec = LOCK_MAX_SEC;
            s->until = now + sec * CR_USEC_PER_SEC;
        }
    }
    pthread_mutex_unlock(&t->mu);
}

/* ------------------------------------------------------------ authenticate --- */

static int is_safe(const char *method)
{
    return !strcmp(method, "GET") || !strcmp(method, "HEAD");
}

int cr__api_authenticate(struct cr_api_ctx *x)
{
    struct cr_err err = CR_ERR_INIT;
    cr_time_t now = cr_time_real_now();
    const char *auth =
        MHD_lookup_connection_value(x->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    int rc;
    if (auth) {
        if (strncasecmp(auth, "Bearer ", 7) != 0) {
            cr__api_error(x, MHD_HTTP_UNAUTHORIZED, "unauthenticated", NULL,
                          "Authorization takes \"Bearer KEY\" (a key from crier apikey create)");
            return -1;
        }
        rc = cr_apikey_find(x->s, now, auth + 7, &x->user, &err);
        if (rc == CR_EPERM) {
            cr__api_error(x, MHD_HTTP_UNAUTHORIZED, "invalid_api_key", NULL, "%s",
                          cr_err_msg(&err));
            return -1;
        }
        if (rc) {
            cr__api_fail(x, rc, &err, NULL);
            return -1;
        }
        x->auth = CR_API_AUTH_KEY;
        return 0;
    }
    const char *cookie = MHD_lookup_connection_value(x->conn, MHD_COOKIE_KIND, CR_API_COOKIE);
    if (!cookie || !*cookie) {
        cr__api_error(x, MHD_HTTP_UNAUTHORIZED, "unauthenticated", NULL,
                      "log in first (POST " CR_API_BASE "/login) or send Authorization: Bearer KEY");
        return -1;
    }
    rc = cr_session_find(x->s, now, cookie, &x->user, x->csrf, &err);
    if (rc == CR_EPERM) {
        cr__api_error(x, MHD_HTTP_UNAUTHORIZED, "session_expired", NULL, "%s", cr_err_msg(&err));
        return -1;
    }
    if (rc) {
        cr__api_fail(x, rc, &err, NULL);
        return -1;
    }
    x->auth = CR_API_AUTH_SESSION;
    snprintf(x->session, sizeof x->session, "%s", cookie);
    if (!is_safe(x->method)) {
        const char *token = MHD_lookup_connection_value(x->conn, MHD_HEADER_KIND, "X-CSRF-Token");
        if (!token || !cr_secret_equal(token, x->csrf)) {
            cr__api_error(x, MHD_HTTP_FORBIDDEN, "csrf", NULL,
                          "%s with a session cookie needs the header X-CSRF-Token (the "
                          "csrf_token of the login answer)",
                          x->method);
            return -1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ routes --- */

static json_t *user_json(const struct cr_user *u)
{
    return json_pack("{sI ss ss}", "id", (json_int_t)u->id, "name", u->name, "role",
                     cr_role_name(u->role));
}

/* 1 when links point to https: the cookie is then Secure. */
static int secure_site(struct cr_api_ctx *x)
{
    char *url = NULL;
    struct cr_err err = CR_ERR_INIT;
    int secure = !cr_config_get(x->s, "public_url", &url, &err) && url &&
                 strncasecmp(url, "https://", 8) == 0;
    free(url);
    return secure;
}

void cr__api_login(struct cr_api_ctx *x)
{
    struct cr_err err = CR_ERR_INIT;
    struct cr_user u;
    char token[CR_SESSION_TOKEN_LEN + 1], csrf[CR_SESSION_TOKEN_LEN + 1];
    int bad, rc;
    json_t *body = cr__api_body(x, 0);
    if (!body)
        return;
    const char *name = cr__api_body_str(x, body, "name", 1, &bad);
    const char *password = bad ? NULL : cr__api_body_str(x, body, "password", 1, &bad);
    if (bad)
        goto out;
    if (!cr_user_name_ok(name)) {
        cr__api_error(x, MHD_HTTP_BAD_REQUEST, "invalid", "name", "not a user name");
        goto out;
    }
    cr_time_t now = cr_time_real_now();
    struct cr__api_throttle *t = cr__api_throttle_of(x->api);
    int wait = throttle_wait(t, name, now);
    if (wait) {
        x->retry_after = wait;
        cr__api_error(x, MHD_HTTP_TOO_MANY_REQUESTS, "too_many_attempts", NULL,
                      "too many failed logins for '%s'; try again in %d s", name, wait);
        goto out;
    }
    rc = cr_user_login(x->s, name, password, &u, &err);
    if (rc == CR_EPERM) {
        throttle_result(t, name, 0, cr_time_real_now());
        cr_log_warn("api: failed login for '%s'", name);
        cr__api_error(x, MHD_HTTP_UNAUTHORIZED, "login_failed", NULL, "%s", cr_err_msg(&err));
        goto out;
    }
    if (rc || (rc = cr_session_create(x->s, now, u.id, token, csrf, &err))) {
        cr__api_fail(x, rc, &err, NULL);
        goto out;
    }
    throttle_result(t, name, 1, now);
    snprintf(x->set_cookie, sizeof x->set_cookie,
             CR_API_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%lld%s", token,
             (long long)(CR_SESSION_LIFETIME / CR_USEC_PER_SEC), secure_site(x) ? "; Secure" : "");
    char exp[CR_TIME_BUFSZ];
    cr__api_reply(x, MHD_HTTP_OK,
                  json_pack("{so ss ss}", "user", user_json(&u), "csrf_token", csrf, "expires_at",
                            cr_time_format_iso(now + CR_SESSION_LIFETIME, exp)));
    OPENSSL_cleanse(token, sizeof token);
out:
    json_decref(body);
}

void cr__api_logout(struct cr_api_ctx *x)
{
    struct cr_err err = CR_ERR_INIT;
    int rc;
    if (x->auth == CR_API_AUTH_SESSION && (rc = cr_session_delete(x->s, x->session, &err))) {
        cr__api_fail(x, rc, &err, NULL);
        return;
    }
    snprintf(x->set_cookie, sizeof x->set_cookie,
             CR_API_COOKIE "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0%s",
             secure_site(x) ? "; Secure" : "");
    cr__api_reply(x, MHD_HTTP_OK, json_pack("{sb}", "logged_out", 1));
}

void cr__api_me(struct cr_api_ctx *x)
{
    json_t *j = user_json(&x->user);
    json_object_set_new(j, "auth", json_string(x->auth == CR_API_AUTH_KEY ? "api_key" : "session"));
    if (x->auth == CR_API_AUTH_SESSION)
        json_object_set_new(j, "csrf_token", json_string(x->csrf));
    cr__api_reply(x, MHD_HTTP_OK, j);
}

/* POST /me/password: the owner changes its password, proving it knows the old one. Wrong old
 * passwords count in the login throttle of the user's name (a stolen session must not become
 * a way to guess the password); the other sessions of the user end, this one stays. */
void cr__api_me_password(struct cr_api_ctx *x)
{
    struct cr_err err = CR_ERR_INIT;
    int bad, rc;
    json_t *body = cr__api_body(x, 0);
    if (!body)
        return;
    const char *old = cr__api_body_str(x, body, "old_password", 1, &bad);
    const char *new_ = bad ? NULL : cr__api_body_str(x, body, "new_password", 1, &bad);
    if (bad)
        goto out;
    struct cr__api_throttle *t = cr__api_throttle_of(x->api);
    int wait = throttle_wait(t, x->user.name, cr_time_real_now());
    if (wait) {
        x->retry_after = wait;
        cr__api_error(x, MHD_HTTP_TOO_MANY_REQUESTS, "too_many_attempts", NULL,
                      "too many wrong passwords for '%s'; try again in %d s", x->user.name,
                      wait);
        goto out;
    }
    rc = cr_user_set_password(x->s, &x->clock, x->user.id, old, new_,
                              x->auth == CR_API_AUTH_SESSION ? x->session : NULL, &err);
    if (rc == CR_EPERM) {
        throttle_result(t, x->user.name, 0, cr_time_real_now());
        cr_log_warn("api: wrong old password for '%s'", x->user.name);
        cr__api_error(x, MHD_HTTP_FORBIDDEN, "wrong_password", "old_password", "%s",
                      cr_err_msg(&err));
        goto out;
    }
    if (rc) {
        cr__api_fail(x, rc, &err, "new_password");
        goto out;
    }
    throttle_result(t, x->user.name, 1, cr_time_real_now());
    cr__api_reply(x, MHD_HTTP_OK, json_pack("{sb}", "changed", 1));
out:
    json_decref(body);
}
