/*
 * receipt.c - delivery receipt texts (SMPP 3.4 Appendix B) into struct cr_smpp_receipt
 *
 * Not the TLVs of a deliver_sm (pdu.c) and not the choice between them and the text (the
 * session). One pass over the bytes, no allocation; every value is copied with its length
 * checked.
 */
#include "channel/sms/receipt.h"

#include <string.h>
#include <strings.h>

static int is_sep(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\0';
}

static int is_key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

/* Copies v[0..len) into dst[size], cut to fit. */
static void put(char *dst, size_t size, const char *v, size_t len)
{
    if (len >= size)
        len = size - 1;
    memcpy(dst, v, len);
    dst[len] = '\0';
}

/* Spellings of stat: values, by state. The spec's seven-letter forms come first. */
static const struct {
    const char *text;
    int state;
} states[] = {
    {"DELIVRD", CR_SMPP_STATE_DELIVERED},         {"EXPIRED", CR_SMPP_STATE_EXPIRED},
    {"DELETED", CR_SMPP_STATE_DELETED},           {"UNDELIV", CR_SMPP_STATE_UNDELIVERABLE},
    {"ACCEPTD", CR_SMPP_STATE_ACCEPTED},          {"UNKNOWN", CR_SMPP_STATE_UNKNOWN},
    {"REJECTD", CR_SMPP_STATE_REJECTED},          {"ENROUTE", CR_SMPP_STATE_ENROUTE},
    {"DELIVERED", CR_SMPP_STATE_DELIVERED},       {"UNDELIVERABLE", CR_SMPP_STATE_UNDELIVERABLE},
    {"UNDELIVERED", CR_SMPP_STATE_UNDELIVERABLE}, {"ACCEPTED", CR_SMPP_STATE_ACCEPTED},
    {"REJECTED", CR_SMPP_STATE_REJECTED},
};

static int state_of(const char *v, size_t len)
{
    if (len == 0)
        return CR_SMPP_STATE_NONE;
    for (size_t i = 0; i < sizeof states / sizeof *states; i++)
        if (strlen(states[i].text) == len && strncasecmp(states[i].text, v, len) == 0)
            return states[i].state;
    return CR_SMPP_STATE_OTHER;
}

static int decimal_of(const char *v, size_t len)
{
    int x = 0;
    if (len == 0 || len > 9)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        x = x * 10 + (v[i] - '0');
    }
    return x;
}

/* Reads a key at s[*i] (letters and '_', then ':'; "submit date" and "done date" may have one
 * space) into key, lower case without '_'. Returns 1 and moves *i past the ':' if it is one;
 * else returns 0 and leaves *i alone. */
static int read_key(const char *s, size_t n, size_t *i, char *key, size_t size)
{
    size_t j = *i, k = 0;
    int words = 0;
    for (;;) {
        size_t w0 = j;
        while (j < n && is_key_char(s[j])) {
            if (s[j] != '_') {
                if (k + 1 >= size)
                    return 0;
                char c = s[j];
                key[k++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
            }
            j++;
        }
        if (j == w0)
            return 0;
        key[k] = '\0';
        words++;
        if (j < n && s[j] == ':') {
            *i = j + 1;
            return 1;
        }
        /* one space, only after the first word of the two-word keys */
        if (words == 1 && j + 1 < n && s[j] == ' ' &&
            (strcmp(key, "submit") == 0 || strcmp(key, "done") == 0)) {
            j++;
            continue;
        }
        return 0;
    }
}

int cr_smpp_receipt_parse(const char *s, size_t n, struct cr_smpp_receipt *r, struct cr_err *err)
{
    size_t i = 0;
    int have_id = 0, have_stat = 0, have_err = 0, id_too_long = 0;
    memset(r, 0, sizeof *r);
    r->err_code = -1;
    while (i < n) {
        char key[16];
        size_t v0, vlen;
        while (i < n && is_sep(s[i]))
            i++;
        if (i == n)
            break;
        if (!read_key(s, n, &i, key, sizeof key)) {
            while (i < n && !is_sep(s[i]))
                i++;
            continue;
        }
        if (strcmp(key, "text") == 0) {
            r->text = (struct cr_str){s + i, n - i};
            break;
        }
        v0 = i;
        while (i < n && !is_sep(s[i]))
            i++;
        /* "key: value" (a space after the colon): take the next word unless it is a key */
        if (i == v0) {
            size_t j = i, k;
            while (j < n && is_sep(s[j]))
                j++;
            k = j;
            while (k < n && !is_sep(s[k]) && s[k] != ':')
                k++;
            if (k > j && (k == n || s[k] != ':')) {
                v0 = j;
                i = k;
            }
        }
        vlen = i - v0;
        if (strcmp(key, "id") == 0 && !have_id) {
            have_id = 1;
            if (vlen >= sizeof r->id)
                id_too_long = 1; /* cut, it could match the wrong message: leave it "" */
            else
                put(r->id, sizeof r->id, s + v0, vlen);
        } else if (strcmp(key, "stat") == 0 && !have_stat) {
            have_stat = 1;
            put(r->stat_text, sizeof r->stat_text, s + v0, vlen);
            r->stat = state_of(s + v0, vlen);
        } else if (strcmp(key, "err") == 0 && !have_err) {
            have_err = 1;
            put(r->err, sizeof r->err, s + v0, vlen);
            r->err_code = decimal_of(s + v0, vlen);
        } else if (strcmp(key, "sub") == 0 && !r->sub[0]) {
            put(r->sub, sizeof r->sub, s + v0, vlen);
        } else if (strcmp(key, "dlvrd") == 0 && !r->dlvrd[0]) {
            put(r->dlvrd, sizeof r->dlvrd, s + v0, vlen);
        } else if (strcmp(key, "submitdate") == 0 && !r->submit_date[0]) {
            put(r->submit_date, sizeof r->submit_date, s + v0, vlen);
        } else if (strcmp(key, "donedate") == 0 && !r->done_date[0]) {
            put(r->done_date, sizeof r->done_date, s + v0, vlen);
        }
    }
    if (id_too_long)
        return cr_err_set(err, CR_EPROTO, "delivery receipt id longer than %zu characters",
                          sizeof r->id - 1);
    if (!have_id && !have_stat)
        return cr_err_set(err, CR_ESYNTAX, "not a delivery receipt (no id: or stat: field)");
    return 0;
}
