/*
 * user.h - the people who use the REST API, and their credentials
 *
 *   app_user     name, role (admin > operator > viewer), PBKDF2 password hash
 *   api_key      "crk_" + 43 base64url characters (32 random bytes); stored as its SHA-256
 *                with a public prefix (the first 12 characters) to recognise it in lists
 *   app_session  a login: the SHA-256 of its cookie, its CSRF token, its expiry
 *
 * Secrets (passwords, keys, session tokens) are never stored nor logged in clear: only their
 * hashes. Functions here use the store they are given and open no transaction unless said.
 * Returned char * belong to the caller (free()); json_t * too (json_decref()).
 */
#ifndef CR_API_USER_H
#define CR_API_USER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/clock.h"
#include "core/err.h"
#include "store/store.h"

enum cr_role { CR_ROLE_NONE = 0, CR_ROLE_VIEWER = 1, CR_ROLE_OPERATOR = 2, CR_ROLE_ADMIN = 3 };

/* "admin", "operator", "viewer" ("none" for CR_ROLE_NONE). */
const char *cr_role_name(enum cr_role r);
/* 0 and *out, or CR_EINVAL for any other word. */
int cr_role_parse(const char *name, enum cr_role *out);

/* ------------------------------------------------------------- password.c --- */

/* PBKDF2-HMAC-SHA256 parameters. 600,000 iterations is OWASP's 2023 figure for this KDF. */
#define CR_PASSWORD_ITERATIONS 600000
#define CR_PASSWORD_MIN 8    /* bytes */
#define CR_PASSWORD_MAX 1024 /* bytes: the KDF's cost must not grow with input */

/* Hashes password into "pbkdf2-sha256$ITER$SALT$HASH" (base64url, 16-byte salt, 32-byte
 * hash) in *out (malloc'd). CR_EINVAL if the password is shorter than CR_PASSWORD_MIN or
 * longer than CR_PASSWORD_MAX bytes; CR_EIO if the KDF fails. */
int cr_password_hash(const char *password, char **out, struct cr_err *err) CR_WARN_UNUSED;
/* 1 if password matches stored (compared in constant time), 0 if not or stored is
 * malformed. With stored NULL it spends the same time and answers 0, so that an unknown
 * user name cannot be told from a wrong password by timing. */
int cr_password_verify(const char *password, const char *stored);

/* --------------------------------------------------------------- secret.c --- */

/* base64url without padding of n bytes into out (4 * ceil(n / 3) + 1 bytes suffice). */
void cr_secret_b64url(const unsigned char *p, size_t n, char *out);
/* The SHA-256 of s as 64 lower-case hex digits and a NUL. */
void cr_secret_sha256_hex(const char *s, char out[65]);
/* A fresh random secret: n bytes (at most 64) as base64url in out (at least 4*ceil(n/3)+1
 * bytes). 0 or CR_EIO. */
int cr_secret_new(size_t n, char *out) CR_WARN_UNUSED;
/* 1 if a and b are equal strings, compared in time that depends only on their lengths. */
int cr_secret_equal(const char *a, const char *b);

/* ----------------------------------------------------------------- user.c --- */

struct cr_user {
    int64_t id;
    char name[101];
    enum cr_role role;
};

/* Names are 1 to 100 characters among letters, digits, '.', '_', '-' and '@'. */
int cr_user_name_ok(const char *name);
/* Creates a user. CR_EEXISTS if the name is taken, CR_EINVAL (err says why) for a bad name
 * or password. */
int cr_user_add(struct cr_store *s, struct cr_clock *clock, const char *name, enum cr_role role,
                const char *password, int64_t *id, struct cr_err *err) CR_WARN_UNUSED;
/* [{"id","name","role","disabled","created_at","api_keys"}] by id; api_keys counts the keys
 * not revoked. */
int cr_user_list(struct cr_store *s, json_t **out, struct cr_err *err) CR_WARN_UNUSED;
/* Finds a user by name. CR_ENOTFOUND ("no user named 'x'"). */
int cr_user_get(struct cr_store *s, const char *name, struct cr_user *out,
                struct cr_err *err) CR_WARN_UNUSED;
/* Checks a name and password: 0 and *out when they match an enabled user, CR_EPERM when
 * they do not (the message does not say which part was wrong). Slow on purpose (the KDF). */
int cr_user_login(struct cr_store *s, const char *name, const char *password,
                  struct cr_user *out, struct cr_err *err) CR_WARN_UNUSED;

/* Changes a user's role (CR_ROLE_NONE: unchanged) and whether it is disabled (-1:
 * unchanged), in its own transaction. Disabling also ends the user's sessions; its API keys
 * are refused while it is disabled. CR_ENOTFOUND; CR_ESTATE when it would leave no enabled
 * admin. */
int cr_user_update(struct cr_store *s, struct cr_clock *clock, int64_t id, enum cr_role role,
                   int disabled, struct cr_err *err) CR_WARN_UNUSED;
/* Changes user id's password after checking the old one (CR_EPERM when it is wrong; slow on
 * purpose: the KDF), in its own transaction. Every session of the user ends except the one
 * whose cookie value is keep_session (may be NULL: all end). CR_EINVAL for a new password
 * the rules refuse. */
int cr_user_set_password(struct cr_store *s, struct cr_clock *clock, int64_t id,
                         const char *old_password, const char *new_password,
                         const char *keep_session, struct cr_err *err) CR_WARN_UNUSED;

/* --------------------------------------------------------------- apikey.c --- */

#define CR_APIKEY_PREFIX "crk_"
#define CR_APIKEY_LEN (4 + 43)

/* Creates a key for user: *key (CR_APIKEY_LEN + 1 bytes) receives it, the only time it is
 * ever visible; *id its id. */
int cr_apikey_create(struct cr_store *s, struct cr_clock *clock, int64_t user,
                     char key[CR_APIKEY_LEN + 1], int64_t *id, struct cr_err *err) CR_WARN_UNUSED;
/* Revokes key id (revoking a revoked key changes nothing). CR_ENOTFOUND. */
int cr_apikey_revoke(struct cr_store *s, struct cr_clock *clock, int64_t id,
                     struct cr_err *err) CR_WARN_UNUSED;
/* [{"id","user","prefix","created_at","last_used_at","revoked_at"}] by id. */
int cr_apikey_list(struct cr_store *s, json_t **out, struct cr_err *err) CR_WARN_UNUSED;
/* The user of a key that is not revoked and whose user is enabled: 0 and *out, else
 * CR_EPERM. Records the key's last use (at most once a minute). */
int cr_apikey_find(struct cr_store *s, cr_time_t now, const char *key, struct cr_user *out,
                   struct cr_err *err) CR_WARN_UNUSED;

/* -------------------------------------------------------------- session.c --- */

#define CR_SESSION_TOKEN_LEN 43 /* 32 random bytes, base64url */
#define CR_SESSION_LIFETIME (12 * 3600 * CR_USEC_PER_SEC)

/* Opens a session for user until now + CR_SESSION_LIFETIME: *token is the cookie value,
 * *csrf the token unsafe requests must repeat in X-CSRF-Token. Expired sessions of every
 * user are deleted on the way. */
int cr_session_create(struct cr_store *s, cr_time_t now, int64_t user,
                      char token[CR_SESSION_TOKEN_LEN + 1], char csrf[CR_SESSION_TOKEN_LEN + 1],
                      struct cr_err *err) CR_WARN_UNUSED;
/* The session of a cookie value: 0 with *out and *csrf when it exists, has not expired and
 * its user is enabled; CR_EPERM otherwise. */
int cr_session_find(struct cr_store *s, cr_time_t now, const char *token, struct cr_user *out,
                    char csrf[CR_SESSION_TOKEN_LEN + 1], struct cr_err *err) CR_WARN_UNUSED;
/* Ends the session of a cookie value (nothing if there is none). */
int cr_session_delete(struct cr_store *s, const char *token, struct cr_err *err) CR_WARN_UNUSED;

#endif
