/*
 * email_samples.c - builds (and signs) the messages check_messages.py describes, for Python's
 * email package and dkimpy to judge independently
 *
 * Usage: email_samples CASES.json OUTDIR [KEY.pem SELECTOR DOMAIN]
 * CASES.json is an array of objects with the fields of struct cr_mail ("headers" as [[name,
 * value], ...], "date" as ISO 8601, "iso2022jp" as a boolean) plus "name", "derive_text" (build
 * the text part from the html with cr_mail_html_to_text) and "sign" (DKIM-sign with the key).
 * Writes OUTDIR/<name>.eml, or OUTDIR/<name>.err holding the error message when the build is
 * refused; exits 0 unless the program itself fails.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel/email/dkim.h"
#include "channel/email/mime.h"
#include "core/mem.h"

static const char *opt(json_t *c, const char *key)
{
    return json_string_value(json_object_get(c, key));
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct cr_buf b = CR_BUF_INIT(0);
    char tmp[4096];
    size_t n;
    if (!f) {
        perror(path);
        exit(2);
    }
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        cr_buf_append(&b, tmp, n);
    fclose(f);
    return cr_buf_detach(&b, len);
}

static void spit(const char *dir, const char *name, const char *ext, const char *p, size_t n)
{
    char path[4096];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s.%s", dir, name, ext);
    f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        perror(path);
        exit(2);
    }
}

static int one_case(json_t *c, const char *dir, const struct cr_dkim *key)
{
    struct cr_mail m = {0};
    struct cr_mail_header *hs = NULL;
    struct cr_buf msg = CR_BUF_INIT(0), derived = CR_BUF_INIT(0), signed_msg = CR_BUF_INIT(0);
    struct cr_err err = CR_ERR_INIT;
    const char *name = opt(c, "name"), *date = opt(c, "date");
    json_t *headers = json_object_get(c, "headers");
    int rc;
    m.from = opt(c, "from");
    m.reply_to = opt(c, "reply_to");
    m.to = opt(c, "to");
    m.subject = opt(c, "subject");
    m.text = opt(c, "text");
    m.html = opt(c, "html");
    m.unsubscribe_mailto = opt(c, "unsubscribe_mailto");
    m.unsubscribe_url = opt(c, "unsubscribe_url");
    m.message_id = opt(c, "message_id");
    m.iso2022jp = json_is_true(json_object_get(c, "iso2022jp"));
    if (date && cr_time_parse(date, strlen(date), &m.date, &err)) {
        fprintf(stderr, "%s: %s\n", name, err.msg);
        return 2;
    }
    if (json_array_size(headers)) {
        hs = cr_xcalloc(json_array_size(headers), sizeof *hs);
        for (size_t i = 0; i < json_array_size(headers); i++) {
            hs[i].name = json_string_value(json_array_get(json_array_get(headers, i), 0));
            hs[i].value = json_string_value(json_array_get(json_array_get(headers, i), 1));
        }
        m.headers = hs;
        m.nheaders = json_array_size(headers);
    }
    if (json_is_true(json_object_get(c, "derive_text")) && m.html) {
        if (cr_mail_html_to_text(m.html, strlen(m.html), &derived, &err)) {
            fprintf(stderr, "%s: %s\n", name, err.msg);
            return 2;
        }
        m.text = derived.data;
        spit(dir, name, "derived.txt", derived.data, derived.len);
    }
    rc = cr_mail_build(&m, &msg, &err);
    if (rc == 0 && key && json_is_true(json_object_get(c, "sign")))
        rc = cr_dkim_sign(key, msg.data, msg.len, &signed_msg, &err);
    if (rc) {
        spit(dir, name, "err", err.msg, strlen(err.msg));
    } else if (signed_msg.len) {
        spit(dir, name, "eml", signed_msg.data, signed_msg.len);
    } else {
        spit(dir, name, "eml", msg.data, msg.len);
    }
    free(hs);
    cr_buf_release(&msg);
    cr_buf_release(&derived);
    cr_buf_release(&signed_msg);
    return 0;
}

int main(int argc, char **argv)
{
    json_error_t jerr;
    json_t *cases;
    struct cr_dkim *key = NULL;
    int rc = 0;
    if (argc != 3 && argc != 6) {
        fprintf(stderr, "usage: %s CASES.json OUTDIR [KEY.pem SELECTOR DOMAIN]\n", argv[0]);
        return 2;
    }
    cases = json_load_file(argv[1], 0, &jerr);
    if (!json_is_array(cases)) {
        fprintf(stderr, "%s: %s\n", argv[1], jerr.text);
        return 2;
    }
    if (argc == 6) {
        struct cr_err err = CR_ERR_INIT;
        size_t len;
        char *pem = slurp(argv[3], &len);
        if (cr_dkim_new(argv[4], argv[5], pem, len, &key, &err)) {
            fprintf(stderr, "%s: %s\n", argv[3], err.msg);
            free(pem);
            return 2;
        }
        free(pem);
    }
    for (size_t i = 0; i < json_array_size(cases) && !rc; i++)
        rc = one_case(json_array_get(cases, i), argv[2], key);
    cr_dkim_free(key);
    json_decref(cases);
    return rc;
}
