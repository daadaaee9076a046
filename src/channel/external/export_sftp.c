/*
 * export_sftp.c - cr_export_file() for sftp:// targets: one libcurl easy handle (libssh2
 *                 backend) uploads NAME.part, then renames it on the server
 *
 * Steps, in one SSH session:
 *   1. connect; libcurl hands the server's host key to host_key_check()
 *      (CURLOPT_SSH_HOSTKEYFUNCTION, libcurl >= 7.84), which hashes it (SHA-256, base64
 *      without padding: the fingerprint `ssh-keygen -l -E sha256` prints) and compares it
 *      with the pinned one, or accepts and records it (trust on first use);
 *   2. log in with the key file or the password (only the methods given are tried, never
 *      ~/.ssh);
 *   3. upload DIR/NAME.part (created or truncated, so one left by a crash is reused);
 *   4. post-quote `*rm "DIR/NAME"` (a failure is ignored), then
 *      `rename "DIR/NAME.part" "DIR/NAME"`. OpenSSH's SFTP rename (protocol version 3, what
 *      libssh2 speaks) refuses to replace a file, hence the rm first: between the two, a
 *      consumer sees no file, never half of one.
 * If the upload started and anything after it failed, a second request removes NAME.part.
 *
 * A pinned key is checked in host_key_check() too, not with CURLOPT_SSH_HOST_PUBLIC_KEY_SHA256:
 * with that option set, libcurl never calls the callback, and the key the server showed would
 * be missing from the "host key changed" message and from *seen_host_key. libcurl calls it
 * only with its libssh2 backend, so another backend is refused (CR_EUNSUPPORTED) up front.
 *
 * Keys (libssh2 1.10 with OpenSSL 3, as in Debian 12), checked by tests/integration/export:
 * ed25519 (OpenSSH format) and ECDSA (OpenSSH or PEM format) keys log in without a public key
 * file (libssh2 derives the public key). RSA keys (either format) make only ssh-rsa (SHA-1)
 * signatures, which OpenSSH >= 8.8 refuses unless the server adds ssh-rsa to
 * PubkeyAcceptedAlgorithms: against a default server they are a refused login (CR_EPERM).
 * libssh2 1.10 leaks 112 bytes each time it loads an ECDSA key in OpenSSH format (fixed in
 * 1.11): prefer ed25519. Passphrase-protected keys are not supported (no field for one).
 */
#include "channel/external/export_int.h"

#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/mem.h"

#if LIBCURL_VERSION_NUM < 0x075500
#error "sftp export needs libcurl >= 7.85 (CURLOPT_SSH_HOSTKEYFUNCTION, CURLOPT_PROTOCOLS_STR)"
#endif

#define DEFAULT_TIMEOUT_SECS 60
#define FP_LEN 43 /* base64 of a SHA-256 digest, without the '=' */
#define PATH_MAXLEN 4096

struct sftp {
    CURL *c;
    const char *target;      /* the URL as given (it holds no password), for messages */
    const char *name;        /* the final file name */
    const char *key_file;    /* or NULL, for messages */
    char hostport[300];      /* "127.0.0.1:2222", for the host key message */
    char pinned[FP_LEN + 1]; /* normalised, "" when none */
    char seen[FP_LEN + 1];   /* the server's, "" until host_key_check() ran */
    int mismatch;            /* host_key_check() refused the key */
    FILE *in;
    int read_started, read_errno;
    char errbuf[CURL_ERROR_SIZE];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init_once(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ssh-keygen's SHA-256 fingerprint of a raw public key blob; "" if hashing failed. */
static void fingerprint(const char *key, size_t len, char out[FP_LEN + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    unsigned char b64[48];
    out[0] = 0;
    if (!EVP_Digest(key, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
        return;
    int n = EVP_EncodeBlock(b64, md, 32);
    while (n > 0 && b64[n - 1] == '=')
        n--;
    if (n != FP_LEN)
        return;
    memcpy(out, b64, FP_LEN);
    out[FP_LEN] = 0;
}

/* Accepts "SHA256:xxx", "xxx" and "xxx=" (43 base64 characters). */
static int normalise_pin(const char *pin, char out[FP_LEN + 1], struct cr_err *err)
{
    const char *p = !strncmp(pin, "SHA256:", 7) ? pin + 7 : pin;
    size_t n = strlen(p);
    while (n > 0 && p[n - 1] == '=')
        n--;
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (n != FP_LEN || strspn(p, b64) < n)
        return cr_err_set(err, CR_EINVAL,
                          "pinned host key '%s' is not a SHA-256 fingerprint (43 base64 "
                          "characters, as `ssh-keygen -l -E sha256` prints)",
                          pin);
    memcpy(out, p, FP_LEN);
    out[FP_LEN] = 0;
    return 0;
}

static int host_key_check(void *data, int keytype, const char *key, size_t len)
{
    struct sftp *s = data;
    (void)keytype;
    fingerprint(key, len, s->seen);
    if (!s->seen[0])
        return CURLKHMATCH_MISMATCH;
    if (s->pinned[0] && strcmp(s->seen, s->pinned)) {
        s->mismatch = 1;
        return CURLKHMATCH_MISMATCH;
    }
    return CURLKHMATCH_OK;
}

static size_t read_source(char *buf, size_t size, size_t n, void *data)
{
    struct sftp *s = data;
    s->read_started = 1;
    size_t got = fread(buf, 1, size * n, s->in);
    if (got == 0 && ferror(s->in)) {
        s->read_errno = errno ? errno : EIO;
        return CURL_READFUNC_ABORT;
    }
    return got;
}

static size_t discard(char *p, size_t size, size_t n, void *data)
{
    (void)p;
    (void)data;
    return size * n;
}

/* A path for an SFTP quote command: in double quotes, '"' and '\' escaped (libcurl's
 * Curl_get_pathname() undoes exactly these). */
static void put_quoted(struct cr_buf *b, const char *dir, const char *file, const char *suffix)
{
    cr_buf_putc(b, '"');
    const char *parts[3] = {dir, file, suffix};
    for (int i = 0; i < 3; i++) {
        if (i == 1 && *dir && strcmp(dir, "/"))
            cr_buf_putc(b, '/');
        for (const char *p = parts[i]; *p; p++) {
            if (*p == '"' || *p == '\\')
                cr_buf_putc(b, '\\');
            cr_buf_putc(b, *p);
        }
    }
    cr_buf_putc(b, '"');
}

/* Appends one quote command to *list; returns 0 or CR_ETOOBIG/CR_ENOMEM. */
static int add_quote(struct curl_slist **list, struct cr_buf *b)
{
    if (b->err)
        return b->err;
    struct curl_slist *l = curl_slist_append(*list, b->data);
    if (!l)
        return CR_ENOMEM;
    *list = l;
    cr_buf_reset(b);
    return 0;
}

#define SETOPT(h, opt, val)                                                                        \
    do {                                                                                           \
        CURLcode rc_ = curl_easy_setopt((h), (opt), (val));                                        \
        if (rc_ != CURLE_OK)                                                                       \
            return cr_err_set(err, CR_EINVAL, "%s: libcurl refused %s: %s", s->target, #opt,       \
                              curl_easy_strerror(rc_));                                            \
    } while (0)

static int setup(struct sftp *s, const struct cr_export_target *t, struct cr_err *err)
{
    long secs = t->timeout_secs > 0 ? t->timeout_secs : DEFAULT_TIMEOUT_SECS;
    CURL *h = s->c;
    SETOPT(h, CURLOPT_PROTOCOLS_STR, "sftp");
    SETOPT(h, CURLOPT_NOSIGNAL, 1L);
    SETOPT(h, CURLOPT_ERRORBUFFER, s->errbuf);
    SETOPT(h, CURLOPT_CONNECTTIMEOUT, secs);
#if LIBCURL_VERSION_NUM >= 0x080600
    SETOPT(h, CURLOPT_SERVER_RESPONSE_TIMEOUT_MS, secs * 1000);
#else
    SETOPT(h, CURLOPT_SERVER_RESPONSE_TIMEOUT, secs);
#endif
    /* A transfer may take long; one that stalls for the timeout fails. */
    SETOPT(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    SETOPT(h, CURLOPT_LOW_SPEED_TIME, secs);
    SETOPT(h, CURLOPT_SSH_HOSTKEYFUNCTION, host_key_check);
    SETOPT(h, CURLOPT_SSH_HOSTKEYDATA, (void *)s);
    long auth = 0;
    if (t->key_file) {
        auth |= CURLSSH_AUTH_PUBLICKEY;
        SETOPT(h, CURLOPT_SSH_PRIVATE_KEYFILE, t->key_file);
    }
    if (t->password) {
        auth |= CURLSSH_AUTH_PASSWORD | CURLSSH_AUTH_KEYBOARD;
        SETOPT(h, CURLOPT_PASSWORD, t->password);
    }
    SETOPT(h, CURLOPT_SSH_AUTH_TYPES, auth);
    SETOPT(h, CURLOPT_READFUNCTION, read_source);
    SETOPT(h, CURLOPT_READDATA, (void *)s);
    SETOPT(h, CURLOPT_WRITEFUNCTION, discard);
    return 0;
}

/* The parts of an sftp:// URL export needs. */
struct sftp_url {
    CURLU *u;
    char *urlpath;   /* decoded, no trailing '/' ("" for the root) */
    const char *dir; /* the folder as SFTP commands name it: "/abs", "rel" (from /~/) or "" */
};

static int parse_url(struct sftp *s, const char *url, struct sftp_url *out, struct cr_err *err)
{
    out->u = curl_url();
    if (!out->u)
        return cr_err_set(err, CR_ENOMEM, "curl_url failed");
    char *user = NULL, *pw = NULL, *host = NULL, *port = NULL, *query = NULL, *frag = NULL;
    int rc = 0;
    if (curl_url_set(out->u, CURLUPART_URL, url, 0) != CURLUE_OK) {
        rc = cr_err_set(err, CR_EINVAL, "export target '%s' is not a valid sftp:// URL", url);
        goto out;
    }
    curl_url_get(out->u, CURLUPART_USER, &user, CURLU_URLDECODE);
    curl_url_get(out->u, CURLUPART_PASSWORD, &pw, 0);
    curl_url_get(out->u, CURLUPART_HOST, &host, 0);
    curl_url_get(out->u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
    curl_url_get(out->u, CURLUPART_QUERY, &query, 0);
    curl_url_get(out->u, CURLUPART_FRAGMENT, &frag, 0);
    curl_url_get(out->u, CURLUPART_PATH, &out->urlpath, CURLU_URLDECODE);
    if (pw) {
        /* Not url: it holds the password. */
        rc = cr_err_set(err, CR_EINVAL,
                        "export target sftp://%s@%s: give the password apart, not in the URL",
                        user ? user : "", host ? host : "");
        goto out;
    }
    if (!user || !*user || !host || !out->urlpath) {
        rc = cr_err_set(err, CR_EINVAL, "export target '%s' needs sftp://user@host/folder", url);
        goto out;
    }
    if (query || frag) {
        rc = cr_err_set(err, CR_EINVAL, "export target '%s' holds a '?' or a '#'", url);
        goto out;
    }
    if (strlen(out->urlpath) > PATH_MAXLEN || strpbrk(out->urlpath, "\r\n")) {
        rc = cr_err_set(err, CR_EINVAL, "export target '%s': folder too long or not one line", url);
        goto out;
    }
    snprintf(s->hostport, sizeof s->hostport, "%s:%s", host, port ? port : "22");
    size_t n = strlen(out->urlpath);
    while (n > 0 && out->urlpath[n - 1] == '/')
        out->urlpath[--n] = 0;
    /* libcurl's convention: "/~/dir" is dir in the login's home folder. */
    if (!strcmp(out->urlpath, "/~"))
        out->dir = "";
    else if (!strncmp(out->urlpath, "/~/", 3))
        out->dir = out->urlpath + 3;
    else
        out->dir = *out->urlpath ? out->urlpath : "/";
out:
    curl_free(user);
    curl_free(pw);
    curl_free(host);
    curl_free(port);
    curl_free(query);
    curl_free(frag);
    return rc;
}

/* The URL of urlpath/file (file "" gives the folder, with a final '/'). malloc'd. */
static char *file_url(struct sftp_url *su, const char *file, const char *suffix)
{
    size_t n = strlen(su->urlpath) + 1 + strlen(file) + strlen(suffix) + 1;
    char *path = cr_xmalloc(n);
    snprintf(path, n, "%s/%s%s", su->urlpath, file, suffix);
    char *url = NULL;
    if (curl_url_set(su->u, CURLUPART_PATH, path, CURLU_URLENCODE) == CURLUE_OK)
        curl_url_get(su->u, CURLUPART_URL, &url, 0);
    free(path);
    if (!url)
        return NULL;
    char *copy = cr_xstrdup(url);
    curl_free(url);
    return copy;
}

/* The libcurl message, without the "Upload failed: " libcurl puts before SFTP statuses. */
static const char *why(struct sftp *s, CURLcode rc)
{
    const char *m = s->errbuf[0] ? s->errbuf : curl_easy_strerror(rc);
    if (!strncmp(m, "Upload failed: ", 15))
        m += 15;
    return m;
}

/* Maps a failed transfer to an error naming the target and the step. */
static int fail(struct sftp *s, CURLcode rc, struct cr_err *err)
{
    if (s->mismatch)
        return cr_err_set(err, CR_EPERM,
                          "host key of %s changed: SHA256:%s is not the pinned SHA256:%s",
                          s->hostport, s->seen, s->pinned);
    if (rc == CURLE_PEER_FAILED_VERIFICATION && !s->seen[0])
        return cr_err_set(err, CR_EPERM, "%s: host key check: %s", s->target, why(s, rc));
    if (rc == CURLE_LOGIN_DENIED && s->key_file)
        return cr_err_set(err, CR_EPERM, "%s: login with key file %s: %s", s->target, s->key_file,
                          why(s, rc));
    if (rc == CURLE_LOGIN_DENIED)
        return cr_err_set(err, CR_EPERM, "%s: login with a password: %s", s->target, why(s, rc));
    if (s->read_errno)
        return cr_err_set(err, CR_EIO, "%s: upload of %s.part: reading the file: %s", s->target,
                          s->name, strerror(s->read_errno));
    if (rc == CURLE_QUOTE_ERROR)
        return cr_err_set(err, CR_EIO, "%s: rename of %s.part to %s: %s", s->target, s->name,
                          s->name, why(s, rc));
    if (!s->seen[0])
        return cr_err_set(err, CR_EIO, "%s: connect: %s", s->target, why(s, rc));
    return cr_err_set(err, CR_EIO, "%s: upload of %s.part: %s", s->target, s->name, why(s, rc));
}

/* After a failed upload or rename: a second request removes NAME.part, errors ignored. */
static void remove_part(struct sftp *s, struct sftp_url *su)
{
    struct cr_buf b = CR_BUF_INIT(3 * PATH_MAXLEN);
    struct curl_slist *q = NULL;
    char *url = file_url(su, "", "");
    cr_buf_puts(&b, "rm ");
    put_quoted(&b, su->dir, s->name, ".part");
    if (url && !add_quote(&q, &b)) {
        s->errbuf[0] = 0;
        curl_easy_setopt(s->c, CURLOPT_URL, url);
        curl_easy_setopt(s->c, CURLOPT_UPLOAD, 0L);
        curl_easy_setopt(s->c, CURLOPT_NOBODY, 1L);
        curl_easy_setopt(s->c, CURLOPT_POSTQUOTE, NULL);
        curl_easy_setopt(s->c, CURLOPT_QUOTE, q);
        curl_easy_perform(s->c);
        curl_easy_setopt(s->c, CURLOPT_QUOTE, NULL);
    }
    curl_slist_free_all(q);
    free(url);
    cr_buf_release(&b);
}

int cr__export_sftp(const struct cr_export_target *t, const char *path, const char *name,
                    char **seen_host_key, struct cr_err *err)
{
    struct sftp s = {.target = t->url, .name = name, .key_file = t->key_file};
    struct sftp_url su = {0};
    struct cr_buf b = CR_BUF_INIT(3 * PATH_MAXLEN);
    struct curl_slist *post = NULL;
    char *url = NULL;
    pthread_once(&curl_once, curl_init_once);
    if (curl_init_rc != CURLE_OK)
        return cr_err_set(err, CR_EIO, "curl_global_init failed: %s",
                          curl_easy_strerror(curl_init_rc));
    /* Only libssh2 calls host_key_check(); with another backend the key would go unchecked. */
    const curl_version_info_data *vi = curl_version_info(CURLVERSION_NOW);
    if (!vi->libssh_version || strncmp(vi->libssh_version, "libssh2/", 8))
        return cr_err_set(err, CR_EUNSUPPORTED,
                          "sftp export needs libcurl built with libssh2 (this one has %s)",
                          vi->libssh_version ? vi->libssh_version : "no SSH");
    /* First, so no message below prints a URL that holds a password. */
    int rc = parse_url(&s, t->url, &su, err);
    if (rc)
        goto out;
    if (!t->key_file && !t->password) {
        rc = cr_err_set(err, CR_EINVAL, "%s: needs a key file or a password", t->url);
        goto out;
    }
    if (t->key_file && access(t->key_file, R_OK)) {
        rc =
            cr_err_set(err, CR_EINVAL, "%s: key file %s: %s", t->url, t->key_file, strerror(errno));
        goto out;
    }
    if (t->host_key_sha256) {
        rc = normalise_pin(t->host_key_sha256, s.pinned, err);
        if (rc)
            goto out;
    }
    s.in = fopen(path, "rb");
    struct stat st;
    if (!s.in || fstat(fileno(s.in), &st)) {
        rc = cr_err_set(err, CR_EIO, "%s: opening the file to export %s: %s", t->url, path,
                        strerror(errno));
        goto out;
    }
    url = file_url(&su, name, ".part");
    cr_buf_puts(&b, "*rm ");
    put_quoted(&b, su.dir, name, "");
    rc = add_quote(&post, &b);
    cr_buf_puts(&b, "rename ");
    put_quoted(&b, su.dir, name, ".part");
    cr_buf_putc(&b, ' ');
    put_quoted(&b, su.dir, name, "");
    rc = rc ? rc : add_quote(&post, &b);
    if (rc || !url) {
        rc = cr_err_set(err, rc ? rc : CR_EINVAL, "%s: cannot name %s in it", t->url, name);
        goto out;
    }
    s.c = curl_easy_init();
    if (!s.c) {
        rc = cr_err_set(err, CR_ENOMEM, "curl_easy_init failed");
        goto out;
    }
    rc = setup(&s, t, err);
    if (rc)
        goto out;
    curl_easy_setopt(s.c, CURLOPT_URL, url);
    curl_easy_setopt(s.c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(s.c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)st.st_size);
    curl_easy_setopt(s.c, CURLOPT_POSTQUOTE, post);
    CURLcode cc = curl_easy_perform(s.c);
    if (cc == CURLE_OK && !s.seen[0]) {
        /* libcurl skipped host_key_check(): cannot happen with libssh2 (checked above). */
        rc = cr_err_set(err, CR_EPERM,
                        "%s: libcurl did not show the host key; %s was sent unchecked", t->url,
                        name);
        goto out;
    }
    if (cc != CURLE_OK) {
        rc = fail(&s, cc, err);
        if (s.read_started || cc == CURLE_QUOTE_ERROR)
            remove_part(&s, &su);
        goto out;
    }
    if (seen_host_key)
        *seen_host_key = cr_xstrdup(s.seen);
out:
    if (s.c)
        curl_easy_cleanup(s.c);
    if (s.in)
        fclose(s.in);
    curl_slist_free_all(post);
    free(url);
    cr_buf_release(&b);
    curl_free(su.urlpath);
    curl_url_cleanup(su.u);
    return rc;
}
