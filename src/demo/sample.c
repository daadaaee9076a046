/*
 * sample.c - deterministic sample profiles and subscriptions (see sample.h)
 */
#include "demo/sample.h"

#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"

static const char *const first_names[] = {
    "Camille", "Léa",    "Manon",  "Chloé",  "Emma",   "Inès",  "Jade",   "Louise", "Alice",
    "Lina",    "Lucas",  "Hugo",   "Louis",  "Nathan", "Gabriel", "Jules", "Arthur", "Adam",
    "Raphaël", "Noah",   "Sofia",  "Marco",  "Giulia", "Lukas",  "Mia",   "Elena",  "Pablo",
    "Lucía",   "Oliver", "Amelia", "Zoë",    "François", "Hélène", "Maëlle", "Jérôme", "Anaïs",
};
static const char *const last_names[] = {
    "Martin", "Bernard",  "Dubois", "Thomas", "Robert", "Richard", "Petit",   "Durand",
    "Leroy",  "Moreau",   "Simon",  "Laurent", "Lefèbvre", "Michel", "Garcia", "David",
    "Bertrand", "Roux",   "Vincent", "Fournier", "Müller", "Schmidt", "Rossi", "Russo",
    "García", "Fernández", "Smith", "Jones",   "Peeters", "Janssens", "O'Brien", "Núñez",
};
static const char *const domains[] = {"example.com", "example.net", "example.org"};

struct country {
    const char *code, *lang, *cc;
    const char *mobile_prefixes[4];
    int national_digits; /* after the prefix */
    const char *national_trunk;
};
/* ORDER: weights below */
static const struct country countries[] = {
    {"FR", "fr", "33", {"6", "7", "6", "7"}, 8, "0"},
    {"BE", "fr", "32", {"470", "475", "486", "496"}, 6, "0"},
    {"DE", "de", "49", {"151", "160", "170", "176"}, 8, "0"},
    {"ES", "es", "34", {"6", "6", "7", "6"}, 8, ""},
    {"IT", "it", "39", {"320", "333", "347", "389"}, 7, ""},
    {"GB", "en", "44", {"74", "77", "78", "79"}, 8, "0"},
};
static const int country_weight[] = {50, 10, 10, 10, 10, 10};

/* splitmix64 of (seed, i, salt): every field of every profile from its own stream. */
static uint64_t rnd(uint64_t seed, long i, uint64_t salt)
{
    uint64_t z = seed + (uint64_t)i * 0x9E3779B97F4A7C15ULL + salt * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

#define PICK(arr, r) (arr[(r) % (sizeof arr / sizeof *arr)])

static const struct country *country_of(long i, uint64_t seed)
{
    int w = (int)(rnd(seed, i, 1) % 100);
    for (size_t k = 0; k < sizeof countries / sizeof *countries; k++) {
        if (w < country_weight[k])
            return &countries[k];
        w -= country_weight[k];
    }
    return &countries[0];
}

/* ASCII fold of the names for the e-mail local part: "Léa" -> "lea", "Jérôme" -> "jerome". */
static void fold(const char *s, struct cr_buf *b)
{
    /* U+00C0..U+00FF without their accents; '-' drops the letter. */
    static const char latin1[] = "aaaaaaaceeeeiiii-nooooo-ouuuuy--aaaaaaaceeeeiiii-nooooo-ouuuuy-y";
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        if (p[0] == 0xC3 && p[1] >= 0x80 && p[1] <= 0xBF) {
            char c = latin1[p[1] - 0x80];
            if (c != '-')
                cr_buf_putc(b, c);
            p += 2;
            continue;
        }
        if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
            cr_buf_putc(b, (char)*p);
        else if (*p >= 'A' && *p <= 'Z')
            cr_buf_putc(b, (char)(*p + 32));
        p++;
    }
}

void cr_sample_email(long i, const struct cr_sample_opts *o, char *out, size_t cap)
{
    struct cr_buf b = CR_BUF_INIT(0);
    fold(PICK(first_names, rnd(o->seed, i, 2)), &b);
    cr_buf_putc(&b, '.');
    fold(PICK(last_names, rnd(o->seed, i, 3)), &b);
    cr_buf_printf(&b, ".%ld@%s", i, PICK(domains, rnd(o->seed, i, 4)));
    snprintf(out, cap, "%s", b.data);
    cr_buf_release(&b);
}

static void phone(long i, const struct cr_sample_opts *o, const struct country *c,
                  struct cr_buf *b)
{
    uint64_t r = rnd(o->seed, i, 5);
    const char *prefix = c->mobile_prefixes[r % 4];
    char digits[16];
    int national = (int)(rnd(o->seed, i, 6) % 100) < o->national_phone_pct;
    r /= 4;
    for (int k = 0; k < c->national_digits; k++, r /= 10)
        digits[k] = (char)('0' + r % 10);
    digits[c->national_digits] = '\0';
    if (!national) {
        cr_buf_printf(b, "+%s%s%s", c->cc, prefix, digits);
        return;
    }
    /* National format, grouped as people write it: "06 12 34 56 78". */
    cr_buf_printf(b, "%s%s", c->national_trunk, prefix);
    for (int k = 0; k < c->national_digits; k++) {
        if (k % 2 == 0)
            cr_buf_putc(b, ' ');
        cr_buf_putc(b, digits[k]);
    }
}

static int flush(FILE *out, struct cr_buf *b)
{
    int rc = fwrite(b->data, 1, b->len, out) == b->len ? 0 : CR_EIO;
    cr_buf_reset(b);
    return rc;
}

int cr_sample_write_profiles(FILE *out, long n, const struct cr_sample_opts *o_in)
{
    struct cr_sample_opts o = *o_in;
    struct cr_buf b = CR_BUF_INIT(0);
    char email[128];
    int rc = 0;
    if (!o.national_phone_pct)
        o.national_phone_pct = 15;
    cr_buf_puts(&b, "external_id,email,phone,first_name,last_name,tier,country,language,"
                    "birth_date,email_optout,tracking_consent\n");
    for (long i = 1; i <= n && !rc; i++) {
        const struct country *c = country_of(i, o.seed);
        int t = (int)(rnd(o.seed, i, 7) % 100);
        const char *tier = t < 15 ? "gold" : t < 45 ? "silver" : "bronze";
        int year = 1950 + (int)(rnd(o.seed, i, 8) % 56);
        int month = 1 + (int)(rnd(o.seed, i, 9) % 12), day = 1 + (int)(rnd(o.seed, i, 10) % 28);
        int has_email = rnd(o.seed, i, 11) % 100 >= 3, has_phone = rnd(o.seed, i, 12) % 100 >= 5;
        const char *last = PICK(last_names, rnd(o.seed, i, 3));
        cr_buf_printf(&b, "CRM-%07ld,", i);
        if (has_email) {
            cr_sample_email(i, &o, email, sizeof email);
            cr_buf_puts(&b, email);
        }
        cr_buf_putc(&b, ',');
        if (has_phone)
            phone(i, &o, c, &b);
        cr_buf_printf(&b, ",%s,", PICK(first_names, rnd(o.seed, i, 2)));
        /* O'Brien needs no quotes; a comma or quote would (none in the lists). */
        cr_buf_puts(&b, last);
        cr_buf_printf(&b, ",%s,%s,%s,%04d-%02d-%02d,%s,%s\n", tier, c->code, c->lang, year, month,
                      day, rnd(o.seed, i, 13) % 100 < 2 ? "true" : "false",
                      rnd(o.seed, i, 14) % 100 < 10 ? "false" : "true");
        if (b.len > 1 << 16)
            rc = flush(out, &b);
    }
    if (!rc)
        rc = flush(out, &b);
    cr_buf_release(&b);
    return rc;
}

int cr_sample_write_subscriptions(FILE *out, long n, const struct cr_sample_opts *o)
{
    struct cr_buf b = CR_BUF_INIT(0);
    char email[128];
    int rc = 0;
    cr_buf_puts(&b, "email,app,platform,token\n");
    for (long i = 1; i <= n && !rc; i++) {
        int r = (int)(rnd(o->seed, i, 20) % 100);
        if (rnd(o->seed, i, 11) % 100 < 3 || r >= 40) /* no e-mail, or no app */
            continue;
        cr_sample_email(i, o, email, sizeof email);
        if (r < 22 || r >= 37) /* iOS: a 64-hex-digit APNs device token */
            cr_buf_printf(&b, "%s,shop-app,ios,%016llx%016llx%016llx%016llx\n", email,
                          (unsigned long long)rnd(o->seed, i, 21),
                          (unsigned long long)rnd(o->seed, i, 22),
                          (unsigned long long)rnd(o->seed, i, 23),
                          (unsigned long long)rnd(o->seed, i, 24));
        if (r >= 22) /* Android: an FCM registration token */
            cr_buf_printf(&b, "%s,shop-app,android,f%015llx:APA91b%016llx%016llx\n", email,
                          (unsigned long long)(rnd(o->seed, i, 25) >> 4),
                          (unsigned long long)rnd(o->seed, i, 26),
                          (unsigned long long)rnd(o->seed, i, 27));
        if (b.len > 1 << 16)
            rc = flush(out, &b);
    }
    if (!rc)
        rc = flush(out, &b);
    cr_buf_release(&b);
    return rc;
}
