/*
 * test_query_backends.c - every construct of the filter language on SQLite and PostgreSQL
 * over the same data, compared with hand-written SQL and with each other
 *
 * One table, one row per construct: the filter, the hand-written SQL that selects the same
 * ids (one text for both backends, or one per backend where their SQL differs), and for the
 * constructs where it matters the ids themselves. Each filter runs on both backends; the ids
 * must equal the hand-written SQL's on that backend and be the same on both.
 */
#include "test_query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "store/clock_store.h"
#include "store/schema.h"
#include "testdb.h"

/* ---------------------------------------------------------------- the data */

static const struct {
    const char *ext, *email, *phone, *first, *last, *tier, *country, *lang, *birth, *created;
    int email_optout, sms_optout;
    const char *points, *score, *vip_since, *last_login, *newsletter, *nickname;
} profiles[] = {
    /* 1 */ {"a1", "alice@example.com", "+33612345678", "Alice", "Martin", "gold", "FR", "fr",
             "1990-05-17", "2026-03-10 08:00:00", 0, 0, "120", "4.5", "2024-01-01",
             "2026-03-14 10:00:00", "1", "ali"},
    /* 2 */
    {"b2", "bob@example.org", NULL, "Bob", "Dupont", "silver", "BE", "fr", "1985-02-28",
     "2025-12-01 00:00:00", 1, 0, "40", "2.25", NULL, "2026-01-01 00:00:00", "0", NULL},
    /* 3 */
    {"c3", "EMILE@Example.com", "+32470000000", "Émile", "Zola", "Gold", "BE", "fr", "2000-02-29",
     "2026-03-15 11:59:59.5", 0, 1, "0", NULL, NULL, NULL, NULL, "Mimile"},
    /* 4 */
    {"d4", NULL, "+33700000001", "ÉLODIE", "Durand", "GOLD", "FR", "fr", "1970-01-01",
     "2026-02-13 12:00:00", 0, 0, NULL, "3", "2025-06-15", "2026-03-15 12:00:00", "1", "100%"},
    /* 5 */
    {"e5", "dan_o@example.com", NULL, "Dan", "O'Brien", "bronze", "IE", "en", "1999-12-31",
     "2026-02-13 11:59:59", 0, 0, "7", "-1.5", NULL, NULL, "0", "d_o"},
    /* 6 */
    {"f6", "zoe@example.gr", "+306900000000", "Ζωή", "Παπαδοπούλου", "gold", "GR", "el",
     "2008-03-15", "2026-01-31 23:59:59.999999", 0, 0, "300", "9.75", "2026-01-31",
     "2026-03-01 00:00:00", "1", "ΖΩΗ"},
    /* 7 */
    {"g7", "yulia@example.ru", NULL, "Юлия", "Иванова", NULL, "RU", "ru", NULL,
     "2024-07-01 00:00:00", 0, 1, NULL, NULL, NULL, NULL, NULL, "юля"},
    /* 8 */
    {"h8", "back\\slash@example.com", "+4915100000000", "Ørjan", "Ås", "silver", "DE", "de",
     "2008-03-16", "2026-03-15 00:00:00", 1, 1, "55", "0.1", NULL, "2026-03-15 11:00:00", "0",
     "a[b]*c?"},
    /* 9 */
    {"i9", "percent%@example.com", NULL, "Ian", NULL, "gold", "FR", "fr", "2027-06-01",
     "2026-03-14 12:00:00", 0, 0, "1000000", "12345.5", NULL, NULL, "0", "o'neil"},
    /* 10 */
    {"j10", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "2020-01-01 00:00:00", 0, 0, NULL, NULL,
     NULL, NULL, NULL, NULL},
    /* 11 */
    {"k11", "under_score@example.com", "+33600000002", "kim", "lee", "platinum", "US", "en",
     "1950-06-30", "2019-12-31 23:59:59", 0, 0, "-5", "100", "2019-01-01",
     "2026-03-15 12:00:00.000001", "1", ""},
    /* 12 */
    {"l12", "Mixed.Case@EXAMPLE.COM", NULL, "Zoé", "Émond", "silver", "CA", "fr", "2008-03-14",
     "2026-03-12 06:30:00", 0, 0, "15", "2.5", NULL, NULL, "1", "  padded  "},
};
#define NPROFILES 12

static void must(int rc, const struct cr_err *err, const char *what)
{
    if (rc < 0)
        fail_msg("%s: %s", what, cr_err_msg(err));
}

void tq_seed(struct cr_store *s)
{
    struct cr_err err = CR_ERR_INIT;
    struct cr_stmt *st;
    static const struct {
        const char *dim, *name;
        enum cr_coltype type;
    } custom[] = {
        {"profile", "loyalty_points", CR_COL_INTEGER}, {"profile", "score", CR_COL_REAL},
        {"profile", "vip_since", CR_COL_DATE},         {"profile", "last_login", CR_COL_TIMESTAMP},
        {"profile", "newsletter", CR_COL_BOOLEAN},     {"profile", "nickname", CR_COL_TEXT},
        {"subscription", "app_version", CR_COL_TEXT},
    };
    for (size_t i = 0; i < sizeof custom / sizeof *custom; i++)
        must(cr_schema_add_column(s, custom[i].dim, custom[i].name, custom[i].type, &err), &err,
             custom[i].name);
    must(cr_stmt_prepare(s,
                         "INSERT INTO profile (external_id, email, phone, first_name, last_name, "
                         "tier, country, language, birth_date, created_at, updated_at, "
                         "email_optout, sms_optout, loyalty_points, score, vip_since, "
                         "last_login, newsletter, nickname) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
                         "?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         &st, &err),
         &err, "prepare");
    for (int i = 0; i < NPROFILES; i++) {
        cr_stmt_reset(st);
        cr_stmt_bind_str(st, 1, profiles[i].ext);
        cr_stmt_bind_str(st, 2, profiles[i].email);
        cr_stmt_bind_str(st, 3, profiles[i].phone);
        cr_stmt_bind_str(st, 4, profiles[i].first);
        cr_stmt_bind_str(st, 5, profiles[i].last);
        cr_stmt_bind_str(st, 6, profiles[i].tier);
        cr_stmt_bind_str(st, 7, profiles[i].country);
        cr_stmt_bind_str(st, 8, profiles[i].lang);
        cr_stmt_bind_str(st, 9, profiles[i].birth);
        cr_stmt_bind_str(st, 10, profiles[i].created);
        cr_stmt_bind_str(st, 11, profiles[i].created);
        cr_stmt_bind_bool(st, 12, profiles[i].email_optout);
        cr_stmt_bind_bool(st, 13, profiles[i].sms_optout);
        if (profiles[i].points)
            cr_stmt_bind_int64(st, 14, strtoll(profiles[i].points, NULL, 10));
        else
            cr_stmt_bind_null(st, 14);
        if (profiles[i].score)
            cr_stmt_bind_double(st, 15, strtod(profiles[i].score, NULL));
        else
            cr_stmt_bind_null(st, 15);
        cr_stmt_bind_str(st, 16, profiles[i].vip_since);
        cr_stmt_bind_str(st, 17, profiles[i].last_login);
        if (profiles[i].newsletter)
            cr_stmt_bind_bool(st, 18, profiles[i].newsletter[0] == '1');
        else
            cr_stmt_bind_null(st, 18);
        cr_stmt_bind_str(st, 19, profiles[i].nickname);
        must(cr_stmt_step(st, &err), &err, "insert profile");
    }
    cr_stmt_free(st);

#define SQL(text) must(cr_store_run(s, &err, text, NULL), &err, text)
    SQL("INSERT INTO subscription (profile_id, app, platform, token, active, created_at, "
        "updated_at, app_version) VALUES "
        "(1, 'shop-app', 'ios', 't1', TRUE, '2026-01-01 00:00:00', '2026-01-01 00:00:00', '2.1'),"
        "(1, 'shop-app', 'android', 't2', FALSE, '2026-02-01 00:00:00', '2026-02-01 00:00:00', "
        "'1.9'),"
        "(3, 'shop-app', 'android', 't3', TRUE, '2026-03-01 00:00:00', '2026-03-01 00:00:00', "
        "NULL),"
        "(6, 'news-app', 'ios', 't4', TRUE, '2025-05-05 00:00:00', '2025-05-05 00:00:00', '2.0'),"
        "(8, 'shop-app', 'ios', 't5', FALSE, '2026-03-14 00:00:00', '2026-03-14 00:00:00', "
        "'2.2'),"
        "(11, 'shop-app', 'ios', 't6', TRUE, '2024-01-01 00:00:00', '2024-01-01 00:00:00', "
        "'2.10')");
    SQL("INSERT INTO list (name, created_at, updated_at) VALUES "
        "('vip', '2026-01-01 00:00:00', '2026-01-01 00:00:00'),"
        "('newsletter', '2026-01-01 00:00:00', '2026-01-01 00:00:00'),"
        "('empty', '2026-01-01 00:00:00', '2026-01-01 00:00:00')");
    SQL("INSERT INTO list_member (list_id, profile_id, added_at) VALUES "
        "(1, 1, '2026-01-01 00:00:00'), (1, 6, '2026-01-01 00:00:00'), "
        "(1, 11, '2026-01-01 00:00:00'), (2, 2, '2026-01-01 00:00:00'), "
        "(2, 3, '2026-01-01 00:00:00'), (2, 12, '2026-01-01 00:00:00')");
    SQL("INSERT INTO delivery (label, channel, created_at, updated_at) VALUES "
        "('offer', 'email', '2026-03-01 00:00:00', '2026-03-01 00:00:00'),"
        "('nudge', 'sms', '2026-03-01 00:00:00', '2026-03-01 00:00:00'),"
        "('unused', 'email', '2026-03-01 00:00:00', '2026-03-01 00:00:00')");
    SQL("INSERT INTO delivery_log (delivery_id, profile_id, address, status, created_at, "
        "updated_at) VALUES "
        "(1, 1, 'a', 'delivered', '2026-03-02 00:00:00', '2026-03-02 00:00:00'),"
        "(1, 2, 'b', 'sent', '2026-03-02 00:00:00', '2026-03-02 00:00:00'),"
        "(1, 3, 'c', 'failed', '2026-03-02 00:00:00', '2026-03-02 00:00:00'),"
        "(1, 4, 'd', 'excluded', '2026-03-02 00:00:00', '2026-03-02 00:00:00'),"
        "(1, 5, 'e', 'pending', '2026-03-02 00:00:00', '2026-03-02 00:00:00'),"
        "(1, 6, 'f', 'delivered', '2026-03-02 00:00:00', '2026-03-02 00:00:00'),"
        "(1, 11, 'k', 'sent', '2026-03-02 00:00:00', '2026-03-02 00:00:00'),"
        "(1, NULL, 'x', 'sent', '2026-03-02 00:00:00', '2026-03-02 00:00:00'),"
        "(2, 1, 'a', 'sent', '2026-03-02 00:00:00', '2026-03-02 00:00:00'),"
        "(2, 7, 'g', 'delivered', '2026-03-02 00:00:00', '2026-03-02 00:00:00')");
    SQL("INSERT INTO delivery_url (delivery_id, link_id, url, label) VALUES "
        "(1, 1, 'https://shop.example.com/offer', 'offer'),"
        "(1, 2, 'https://shop.example.com/footer', 'footer'),"
        "(1, 3, 'https://other.example.com/', NULL),"
        "(2, 1, 'https://shop.example.com/sms', 'offer')");
    SQL("INSERT INTO tracking_log (delivery_id, profile_id, kind, link_id, at) VALUES "
        "(1, 1, 'open', NULL, '2026-03-03 00:00:00'),"
        "(1, 1, 'click', 1, '2026-03-03 00:00:00'),"
        "(1, 2, 'open', NULL, '2026-03-03 00:00:00'),"
        "(1, 6, 'click', 2, '2026-03-03 00:00:00'),"
        "(1, 6, 'open', NULL, '2026-03-03 00:00:00'),"
        "(1, 11, 'unsubscribe', NULL, '2026-03-03 00:00:00'),"
        "(1, NULL, 'open', NULL, '2026-03-03 00:00:00'),"
        "(1, 5, 'click', 3, '2026-03-03 00:00:00'),"
        "(2, 7, 'click', 1, '2026-03-03 00:00:00')");
#undef SQL
}

/* ---------------------------------------------------------------- the constructs */

#define SUBS "SELECT s.id FROM subscription s JOIN profile p ON p.id = s.profile_id WHERE "
#define PROF "SELECT id FROM profile WHERE "

static const struct tcase {
    const char *filter;
    const char *sql;  /* hand-written, both backends (or SQLite when pg is set) */
    const char *pg;   /* hand-written for PostgreSQL, when it must differ */
    const char *ids;  /* the expected ids, where the construct is subtle */
    int subscription; /* dimension */
} cases[] = {
    /* comparisons, names, keywords */
    {"tier = 'gold'", PROF "tier = 'gold'", NULL, "1,6,9", 0},
    {"tier != 'gold'", PROF "tier <> 'gold'", NULL, "2,3,4,5,8,11,12", 0},
    {"tier <> 'gold'", PROF "tier <> 'gold'", NULL, NULL, 0},
    {"TIER = 'gold' AND Email IS NOT NULL", PROF "tier = 'gold' AND email IS NOT NULL", NULL,
     "1,6,9", 0},
    {"\"tier\" = 'gold'", PROF "tier = 'gold'", NULL, NULL, 0},
    {"profile.tier = 'gold'", PROF "tier = 'gold'", NULL, NULL, 0},
    {"email is null", PROF "email IS NULL", NULL, "4,10", 0},
    {"email is not null", PROF "email IS NOT NULL", NULL, NULL, 0},
    {"country in ('FR', 'BE')", PROF "country IN ('FR', 'BE')", NULL, "1,2,3,4,9", 0},
    {"country not in ('FR', 'BE')", PROF "country NOT IN ('FR', 'BE')", NULL, "5,6,7,8,11,12", 0},
    {"country in ('FR', null)", PROF "country IN ('FR', NULL)", NULL, "1,4,9", 0},
    {"country not in ('FR', null)", PROF "1 = 0", NULL, "", 0},
    {"tier = null or tier != null", PROF "1 = 0", NULL, "", 0},
    {"last_name = 'O''Brien'", PROF "last_name = 'O''Brien'", NULL, "5", 0},
    {"nickname = 'o''neil' or email = 'back\\slash@example.com'",
     PROF "nickname = 'o''neil' OR email = 'back\\slash@example.com'", NULL, "8,9", 0},
    {"first_name in ('Émile', 'Zoé', 'Ζωή')", PROF "first_name IN ('Émile', 'Zoé', 'Ζωή')", NULL,
     "3,6,12", 0},
    {"last_name < 'E'", PROF "last_name < 'E'", PROF "last_name COLLATE \"C\" < 'E'", "2,4", 0},
    {"last_name > 'Z'", PROF "last_name > 'Z'", PROF "last_name COLLATE \"C\" > 'Z'",
     "3,6,7,8,11,12", 0},
    {"last_name between 'A' and 'E'", PROF "last_name BETWEEN 'A' AND 'E'",
     PROF "last_name COLLATE \"C\" BETWEEN 'A' AND 'E'", "2,4", 0},
    {"first_name >= 'a'", PROF "first_name >= 'a'", PROF "first_name COLLATE \"C\" >= 'a'",
     "3,4,6,7,8,11", 0},
    /* booleans */
    {"email_optout", PROF "email_optout", NULL, "2,8", 0},
    {"not email_optout", PROF "NOT email_optout", NULL, NULL, 0},
    {"email_optout = true", PROF "email_optout = TRUE", NULL, "2,8", 0},
    {"email_optout and not sms_optout", PROF "email_optout AND NOT sms_optout", NULL, "2", 0},
    {"newsletter", PROF "newsletter", NULL, "1,4,6,11,12", 0},
    {"not newsletter", PROF "NOT newsletter", NULL, "2,5,8,9", 0},
    {"newsletter = false", PROF "newsletter = FALSE", NULL, "2,5,8,9", 0},
    {"newsletter is null", PROF "newsletter IS NULL", NULL, "3,7,10", 0},
    {"newsletter != email_optout", PROF "newsletter <> email_optout", NULL, NULL, 0},
    {"email_optout = (tier = 'silver')", PROF "email_optout = (tier = 'silver')", NULL,
     "1,2,3,4,5,6,8,9,11", 0},
    {"true", PROF "1 = 1", NULL, NULL, 0},
    {"false", PROF "1 = 0", NULL, "", 0},
    {"null", PROF "1 = 0", NULL, "", 0},
    {"not null", PROF "1 = 0", NULL, "", 0},
    /* and, or, not, parentheses */
    {"(tier = 'gold' or tier = 'silver') and country = 'FR'",
     PROF "(tier = 'gold' OR tier = 'silver') AND country = 'FR'", NULL, "1,9", 0},
    {"tier = 'gold' or tier = 'silver' and country = 'FR'",
     PROF "tier = 'gold' OR (tier = 'silver' AND country = 'FR')", NULL, "1,6,9", 0},
    {"not tier = 'gold'", PROF "NOT (tier = 'gold')", NULL, NULL, 0},
    {"not (tier = 'gold' or email is null)", PROF "NOT (tier = 'gold' OR email IS NULL)", NULL,
     "2,3,5,8,11,12", 0},
    {"phone is not null and email is not null and tier = 'gold'",
     PROF "phone IS NOT NULL AND email IS NOT NULL AND tier = 'gold'", NULL, "1,6", 0},
    /* like, ilike: case-sensitive like, backslash escapes, one character per '_' */
    {"email like '%@example.com'", PROF "email GLOB '*@example.com'",
     PROF "email LIKE '%@example.com'", "1,5,8,9,11", 0},
    {"email not like '%@example.com'", PROF "NOT email GLOB '*@example.com'",
     PROF "email NOT LIKE '%@example.com'", "2,3,6,7,12", 0},
    {"email like 'percent\\%%'", PROF "email GLOB 'percent%*'", PROF "email LIKE 'percent\\%%'",
     "9", 0},
    {"email like '%\\_%'", PROF "email GLOB '*_*'", PROF "email LIKE '%\\_%'", "5,11", 0},
    {"email like '%\\\\%'", PROF "email GLOB '*\\*'", PROF "email LIKE '%\\\\%'", "8", 0},
    {"nickname like 'a[b]*c?'", PROF "nickname = 'a[b]*c?'", NULL, "8", 0},
    {"nickname like '%\\%'", PROF "nickname GLOB '*%'", PROF "nickname LIKE '%\\%'", "4", 0},
    {"first_name like '_mile'", PROF "first_name GLOB '?mile'", PROF "first_name LIKE '_mile'", "3",
     0},
    {"first_name like 'Z__'",
     PROF "first_name GLOB 'Z?"
          "?'",
     PROF "first_name LIKE 'Z__'", "12", 0},
    {"email ilike '%@example.com'", PROF "email LIKE '%@example.com'",
     PROF "email ILIKE '%@example.com'", "1,3,5,8,9,11,12", 0},
    {"email not ilike '%@EXAMPLE.com'", PROF "email NOT LIKE '%@example.com'",
     PROF "email NOT ILIKE '%@example.com'", "2,6,7", 0},
    {"first_name ilike 'émile'", NULL, NULL, "3", 0},
    {"first_name ilike 'élodie' or last_name ilike 'ÅS'", NULL, NULL, "4,8", 0},
    {"nickname ilike 'ζωη'", NULL, NULL, "6", 0},
    {"email like nickname || 'x'", NULL, NULL, NULL, -1}, /* error: no || operator */
    {"email like email", PROF "email IS NOT NULL AND id <> 8", NULL, "1,2,3,5,6,7,9,11,12", 0},
    {"nickname like tier", PROF "1 = 0", NULL, "", 0},
    {"lower(nickname) ilike lower(nickname)", PROF "nickname IS NOT NULL", NULL, NULL, 0},
    /* text functions */
    {"lower(email) = 'emile@example.com'", PROF "lower(email) = 'emile@example.com'", NULL, "3", 0},
    {"lower(first_name) = 'юлия'", NULL, NULL, "7", 0},
    {"upper(nickname) = 'ЮЛЯ'", NULL, NULL, "7", 0},
    {"upper(first_name) = 'ØRJAN' or upper(last_name) = 'ÉMOND'", NULL, NULL, "8,12", 0},
    {"lower(first_name) = 'élodie' or lower(last_name) = 'παπαδοπούλου'", NULL, NULL, "4,6", 0},
    {"upper(tier) = 'GOLD'", PROF "upper(tier) = 'GOLD'", NULL, "1,3,4,6,9", 0},
    {"trim(nickname) = 'padded'", PROF "trim(nickname) = 'padded'", NULL, "12", 0},
    {"length(first_name) = 3", PROF "length(first_name) = 3", NULL, "2,5,6,9,11,12", 0},
    {"length(nickname) = 0", PROF "length(nickname) = 0", NULL, "11", 0},
    {"coalesce(tier, 'none') = 'none'", PROF "coalesce(tier, 'none') = 'none'", NULL, "7,10", 0},
    {"coalesce(loyalty_points, 0) > 50", PROF "coalesce(loyalty_points, 0) > 50", NULL, "1,6,8,9",
     0},
    {"coalesce(loyalty_points, score) > 2.5", PROF "coalesce(loyalty_points, score) > 2.5", NULL,
     "1,2,4,5,6,8,9,12", 0},
    {"coalesce(loyalty_points, score, 1) / 2 = 1.5",
     PROF "coalesce(CAST(loyalty_points AS REAL), score, 1) / 2 = 1.5",
     PROF "coalesce(loyalty_points, score, 1) / 2 = 1.5", "4", 0},
    {"coalesce(vip_since, date '2000-01-01') < date '2020-01-01'",
     PROF "coalesce(vip_since, '2000-01-01') < '2020-01-01'", NULL, "2,3,5,7,8,9,10,11,12", 0},
    {"coalesce(last_login, vip_since) > timestamp '2026-03-01 00:00:00'",
     PROF "coalesce(last_login, vip_since || ' 00:00:00') > '2026-03-01 00:00:00'",
     PROF "coalesce(last_login, vip_since) > '2026-03-01 00:00:00'", "1,4,8,11", 0},
    {"coalesce(null, tier) = 'gold'", PROF "tier = 'gold'", NULL, NULL, 0},
    /* numbers: integer and decimal arithmetic, division */
    {"loyalty_points / 2 = 3", PROF "loyalty_points / 2 = 3", NULL, "5", 0},
    {"loyalty_points / 2.0 = 3.5", PROF "loyalty_points / 2.0 = 3.5", NULL, "5", 0},
    {"-loyalty_points / 2 = -3", PROF "-loyalty_points / 2 = -3", NULL, "5", 0},
    {"loyalty_points / 0 is null", PROF "1 = 1", NULL, NULL, 0},
    {"score / (loyalty_points - 40) > 0", PROF "score / NULLIF(loyalty_points - 40, 0) > 0", NULL,
     "1,5,6,8,9", 0},
    {"7 / 2 = 3 and 7 / 2.0 = 3.5 and -7 / 2 = -3", PROF "1 = 1", NULL, NULL, 0},
    {"score = 3", PROF "score = 3", NULL, "4", 0},
    {"loyalty_points = 120.0", PROF "loyalty_points = 120", NULL, "1", 0},
    {"score in (4.5, 9.75, 100)", PROF "score IN (4.5, 9.75, 100)", NULL, "1,6,11", 0},
    {"score * 2 > 5 and score + loyalty_points > 100",
     PROF "score * 2 > 5 AND score + loyalty_points > 100", NULL, "1,6,9", 0},
    {"- - score > 9", PROF "score > 9", NULL, "6,9,11", 0},
    {"-score > 0", PROF "score < 0", NULL, "5", 0},
    {"loyalty_points + 1.5 > 100", PROF "loyalty_points + 1.5 > 100", NULL, "1,6,9", 0},
    {"loyalty_points > 2 * 50 + 10", PROF "loyalty_points > 110", NULL, "1,6,9", 0},
    {"loyalty_points between 10 and 200", PROF "loyalty_points BETWEEN 10 AND 200", NULL,
     "1,2,8,12", 0},
    {"loyalty_points not between 10 and 200", PROF "loyalty_points NOT BETWEEN 10 AND 200", NULL,
     "3,5,6,9,11", 0},
    {"score between 2 and loyalty_points", PROF "score BETWEEN 2 AND loyalty_points", NULL,
     "1,2,6,9,12", 0},
    /* dates and timestamps */
    {"birth_date < date '1990-01-01'", PROF "birth_date < '1990-01-01'", NULL, "2,4,11", 0},
    {"birth_date < '1990-01-01'", PROF "birth_date < '1990-01-01'", NULL, "2,4,11", 0},
    {"birth_date = date '2000-02-29'", PROF "birth_date = '2000-02-29'", NULL, "3", 0},
    {"birth_date between '2000-01-01' and '2009-12-31'",
     PROF "birth_date BETWEEN '2000-01-01' AND '2009-12-31'", NULL, "3,6,8,12", 0},
    {"birth_date in ('1970-01-01', date '2008-03-15')",
     PROF "birth_date IN ('1970-01-01', '2008-03-15')", NULL, "4,6", 0},
    {"created_at > now() - interval '30 days'", PROF "created_at > '2026-02-13 12:00:00'", NULL,
     "1,3,8,9,12", 0},
    {"created_at >= now() - 30d", PROF "created_at >= '2026-02-13 12:00:00'", NULL, "1,3,4,8,9,12",
     0},
    {"created_at > now() - 1d12h", PROF "created_at > '2026-03-14 00:00:00'", NULL, "3,8,9", 0},
    {"created_at > today()", PROF "created_at > '2026-03-15 00:00:00'", NULL, "3", 0},
    {"created_at >= today()", PROF "created_at >= '2026-03-15 00:00:00'", NULL, "3,8", 0},
    {"created_at > date '2026-03-15'", PROF "created_at > '2026-03-15 00:00:00'", NULL, "3", 0},
    {"created_at > '2026-03-15'", PROF "created_at > '2026-03-15 00:00:00'", NULL, "3", 0},
    {"created_at < timestamp '2026-02-13T12:00:00+01:00' and created_at > '2026-01-31'",
     PROF "created_at < '2026-02-13 11:00:00' AND created_at > '2026-01-31 00:00:00'", NULL, "6",
     0},
    {"created_at = timestamp '2026-03-15 11:59:59.5'", PROF "created_at = '2026-03-15 11:59:59.5'",
     NULL, "3", 0},
    {"created_at between now() - 30d and now()",
     PROF "created_at BETWEEN '2026-02-13 12:00:00' AND '2026-03-15 12:00:00'", NULL,
     "1,3,4,8,9,12", 0},
    {"created_at < today() + 12h - 1s and created_at > today() - 1h",
     PROF "created_at < '2026-03-15 11:59:59' AND created_at > '2026-03-14 23:00:00'", NULL, "8",
     0},
    {"birth_date > today() - 365 * 20", PROF "birth_date > '2006-03-20'", NULL, "6,8,9,12", 0},
    {"birth_date + 30 > today()", PROF "birth_date > '2026-02-13'", NULL, "9", 0},
    {"30 + birth_date > today()", PROF "birth_date > '2026-02-13'", NULL, "9", 0},
    {"birth_date - 1 = date '2008-03-14'", PROF "birth_date = '2008-03-15'", NULL, "6", 0},
    {"today() - birth_date > 6570", PROF "julianday('2026-03-15') - julianday(birth_date) > 6570",
     PROF "date '2026-03-15' - birth_date > 6570", NULL, 0},
    {"vip_since - birth_date > 10000", PROF "julianday(vip_since) - julianday(birth_date) > 10000",
     PROF "vip_since - birth_date > 10000", "1,4,11", 0},
    {"last_login - created_at > 1d", PROF "julianday(last_login) - julianday(created_at) > 1",
     PROF "last_login - created_at > interval '1 day'", "1,2,4,6,11", 0},
    {"now() - last_login < 2h", PROF "last_login > '2026-03-15 10:00:00'", NULL, "4,8,11", 0},
    {"last_login + 1h > now()", PROF "last_login > '2026-03-15 11:00:00'", NULL, "4,11", 0},
    {"last_login - 1d > vip_since + 1d", PROF "julianday(last_login) - 2 > julianday(vip_since)",
     PROF "last_login - interval '1 day' > vip_since + interval '1 day'", "1,4,6,11", 0},
    {"created_at - vip_since > 365d", PROF "julianday(created_at) - julianday(vip_since) > 365",
     PROF "created_at - vip_since > interval '365 days'", "1", 0},
    {"vip_since <= created_at", PROF "vip_since || ' 00:00:00' <= created_at",
     PROF "vip_since <= created_at", "1,4,6,11", 0},
    {"vip_since = date '2026-01-31'", PROF "vip_since = '2026-01-31'", NULL, "6", 0},
    {"vip_since < now() - 365d", PROF "vip_since < '2025-03-15'", NULL, "1,11", 0},
    {"interval '1 day' = 24h and 1d12h = 36h and now() - 30d = now() - 720h", PROF "1 = 1", NULL,
     NULL, 0},
    {"age(birth_date) >= 18", PROF "birth_date <= '2008-03-15'", NULL, "1,2,3,4,5,6,11,12", 0},
    {"age(birth_date) < 18", PROF "birth_date > '2008-03-15'", NULL, "8,9", 0},
    {"age(birth_date) < 0", PROF "birth_date > '2026-03-15'", NULL, "9", 0},
    {"age(birth_date) > 17", PROF "birth_date <= '2008-03-15'", NULL, "1,2,3,4,5,6,11,12", 0},
    {"17 < age(birth_date)", PROF "birth_date <= '2008-03-15'", NULL, "1,2,3,4,5,6,11,12", 0},
    {"age(birth_date) <= 17", PROF "birth_date > '2008-03-15'", NULL, "8,9", 0},
    {"age(birth_date) < 1", PROF "birth_date > '2025-03-15'", NULL, "9", 0},
    {"age(birth_date) != 18", PROF "birth_date NOT BETWEEN '2007-03-16' AND '2008-03-15'", NULL,
     "1,2,3,4,5,8,9,11", 0},
    {"age(birth_date) = 18", PROF "birth_date BETWEEN '2007-03-16' AND '2008-03-15'", NULL, "6,12",
     0},
    {"age(birth_date) between 18 and 26", NULL, NULL, "3,5,6,12", 0},
    {"age(birth_date) not between 20 and 80", NULL, NULL, "6,8,9,12", 0},
    {"age(birth_date) = 26 and age(vip_since) >= 1 or age(created_at) > 5", NULL, NULL, "10,11", 0},
    {"age(birth_date) = 26", PROF "birth_date > '1999-03-15' AND birth_date <= '2000-03-15'", NULL,
     "3,5", 0},
    {"age(created_at) = 0", PROF "created_at > '2025-03-15 23:59:59.999999'", NULL,
     "1,2,3,4,5,6,8,9,12", 0},
    {"year(birth_date) = 2008", PROF "substr(birth_date, 1, 4) = '2008'",
     PROF "EXTRACT(YEAR FROM birth_date) = 2008", "6,8,12", 0},
    {"month(birth_date) = 2 and day(birth_date) = 29", PROF "substr(birth_date, 6, 5) = '02-29'",
     PROF "EXTRACT(MONTH FROM birth_date) = 2 AND EXTRACT(DAY FROM birth_date) = 29", "3", 0},
    {"year(created_at) = 2026 and month(created_at) = 3",
     PROF "created_at >= '2026-03-01' AND created_at < '2026-04-01'", NULL, "1,3,8,9,12", 0},
    {"day(now()) = 15 and month(today()) = 3 and year('2026-01-01') = 2026", PROF "1 = 1", NULL,
     NULL, 0},
    /* membership */
    {"in_list('vip')", PROF "id IN (SELECT profile_id FROM list_member WHERE list_id = 1)", NULL,
     "1,6,11", 0},
    {"not in_list('vip')", PROF "id NOT IN (SELECT profile_id FROM list_member WHERE list_id = 1)",
     NULL, "2,3,4,5,7,8,9,10,12", 0},
    {"in_list('vip') or in_list('newsletter')", PROF "id IN (SELECT profile_id FROM list_member)",
     NULL, "1,2,3,6,11,12", 0},
    {"in_list('empty') or in_list('nope')", PROF "1 = 0", NULL, "", 0},
    {"subscribed('shop-app')",
     PROF "id IN (SELECT profile_id FROM subscription WHERE app = 'shop-app' AND active)", NULL,
     "1,3,11", 0},
    {"subscribed('shop-app', 'ios')", NULL, NULL, "1,11", 0},
    {"subscribed('shop-app', 'android')", NULL, NULL, "3", 0},
    {"not subscribed('news-app')", NULL, NULL, "1,2,3,4,5,7,8,9,10,11,12", 0},
    /* behaviour */
    {"sent(1)", NULL, NULL, "1,2,6,11", 0},
    {"delivered(1)", NULL, NULL, "1,6", 0},
    {"bounced(1)", NULL, NULL, "3", 0},
    {"not sent(1)", NULL, NULL, "3,4,5,7,8,9,10,12", 0},
    /* 5 clicked without loading images: a click proves an open */
    {"opened(1)", NULL, NULL, "1,2,5,6", 0},
    {"not opened(1)", NULL, NULL, "3,4,7,8,9,10,11,12", 0},
    {"clicked(1)", NULL, NULL, "1,5,6", 0},
    {"clicked(1, 'offer')", NULL, NULL, "1", 0},
    {"clicked(1, 'https://shop.example.com/footer')", NULL, NULL, "6", 0},
    {"clicked(1, 'https://other.example.com/')", NULL, NULL, "5", 0},
    {"clicked(1, 'nothing')", NULL, NULL, "", 0},
    {"clicked(2, 'offer')", NULL, NULL, "7", 0},
    {"unsubscribed(1)", NULL, NULL, "11", 0},
    {"opened(2) or delivered(3)", NULL, NULL, "7", 0},
    {"sent(2)", NULL, NULL, "1,7", 0},
    {"not opened(1) and not clicked(1)", NULL, NULL, "3,4,7,8,9,10,11,12", 0},
    {"opened(1) and not clicked(1)", NULL, NULL, "2", 0},
    {"opened(1) and clicked(1, 'offer')", NULL, NULL, "1", 0},
    {"opened('1')", NULL, NULL, NULL, -1}, /* error: a name, and no workflow */
    /* the subscription dimension */
    {"platform = 'ios'", SUBS "s.platform = 'ios'", NULL, "1,4,5,6", 1},
    {"active and tier = 'gold'", SUBS "s.active AND p.tier = 'gold'", NULL, "1,4", 1},
    {"profile.tier = 'gold' and not active", SUBS "p.tier = 'gold' AND NOT s.active", NULL, "2", 1},
    {"subscription.app = 'shop-app' and country = 'FR'",
     SUBS "s.app = 'shop-app' AND p.country = 'FR'", NULL, "1,2", 1},
    {"created_at > '2026-01-15'", SUBS "s.created_at > '2026-01-15 00:00:00'", NULL, "2,3,5", 1},
    {"profile.created_at > '2026-03-01'", SUBS "p.created_at > '2026-03-01 00:00:00'", NULL,
     "1,2,3,5", 1},
    {"id > 2 and profile.id < 10", SUBS "s.id > 2 AND p.id < 10", NULL, "3,4,5", 1},
    {"profile_id = 1", SUBS "s.profile_id = 1", NULL, "1,2", 1},
    {"app_version like '2._'", SUBS "s.app_version GLOB '2.?'", SUBS "s.app_version LIKE '2._'",
     "1,4,5", 1},
    {"app_version > '2.1'", SUBS "s.app_version > '2.1'",
     SUBS "s.app_version COLLATE \"C\" > '2.1'", "5,6", 1},
    {"in_list('vip') and active", SUBS "p.id IN (1, 6, 11) AND s.active", NULL, "1,4,6", 1},
    {"opened(1) or subscribed('news-app')", SUBS "p.id IN (1, 2, 6)", NULL, "1,2,4", 1},
    {"phone is not null", SUBS "p.phone IS NOT NULL", NULL, "1,2,3,4,5,6", 1},
};
#define NCASES (sizeof cases / sizeof *cases)

/* ---------------------------------------------------------------- running */

struct ids {
    struct cr_buf b;
    int n;
};

static int collect(void *data, int64_t id)
{
    struct ids *ids = data;
    cr_buf_printf(&ids->b, "%s%lld", ids->n++ ? "," : "", (long long)id);
    return 0;
}

/* The filter's ids on s, or NULL (and *err) if it does not compile. */
static char *filter_ids(struct cr_store *s, const char *filter, enum cr_query_dimension dim,
                        struct cr_err *err)
{
    struct cr_query_opts o = {0};
    struct cr_query q = CR_QUERY_INIT;
    struct ids ids = {CR_BUF_INIT(0), 0};
    o.dimension = dim;
    o.clock = tq_clock();
    if (cr_query_compile_store(s, filter, strlen(filter), &o, &q, err))
        return NULL;
    if (cr_query_ids(s, &q, collect, &ids, err))
        fail_msg("%s on %s: %s\n%s", filter, cr_store_dialect_name(s), cr_err_msg(err), q.where);
    cr_query_release(&q);
    return cr_buf_detach(&ids.b, NULL);
}

static char *sql_ids(struct cr_store *s, const char *sql)
{
    struct cr_err err = CR_ERR_INIT;
    struct cr_buf full = CR_BUF_INIT(0);
    struct ids ids = {CR_BUF_INIT(0), 0};
    struct cr_stmt *st;
    int rc;
    /* Hand-written SQL selects the id first; order it the same way. */
    cr_buf_printf(&full, "SELECT * FROM (%s) x ORDER BY 1", sql);
    if (cr_stmt_prepare(s, full.data, &st, &err))
        fail_msg("%s: %s", sql, err.msg);
    while ((rc = cr_stmt_step(st, &err)) == 1)
        collect(&ids, cr_stmt_int64(st, 0));
    if (rc < 0)
        fail_msg("%s on %s: %s", sql, cr_store_dialect_name(s), err.msg);
    cr_stmt_free(st);
    cr_buf_release(&full);
    return cr_buf_detach(&ids.b, NULL);
}

static struct cr_store *seeded[2];

static int setup(void **state)
{
    (void)state;
    for (int d = 0; d < 2; d++) {
        seeded[d] = testdb_open((enum cr_dialect)d);
        tq_seed(seeded[d]);
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int d = 0; d < 2; d++)
        testdb_close(seeded[d]);
    return 0;
}

static void test_every_construct(void **state)
{
    int failures = 0;
    (void)state;
    setup(NULL);
    for (size_t i = 0; i < NCASES; i++) {
        const struct tcase *c = &cases[i];
        enum cr_query_dimension dim =
            c->subscription == 1 ? CR_QUERY_SUBSCRIPTION : CR_QUERY_PROFILE;
        char *got[2] = {NULL, NULL};
        for (int d = 0; d < 2; d++) {
            struct cr_err err = CR_ERR_INIT;
            const char *hand = d == CR_DIALECT_POSTGRES && c->pg ? c->pg : c->sql;
            got[d] = filter_ids(seeded[d], c->filter, dim, &err);
            if (c->subscription < 0) { /* must be refused on both */
                if (got[d]) {
                    printf("FAIL %s: compiled, expected an error\n", c->filter);
                    failures++;
                }
                continue;
            }
            if (!got[d]) {
                printf("FAIL %s on %s: %d:%d: %s\n", c->filter, testdb_dialect_name(d), err.line,
                       err.col, err.msg);
                failures++;
                continue;
            }
            if (hand) {
                char *want = sql_ids(seeded[d], hand);
                if (strcmp(got[d], want) != 0) {
                    printf("FAIL %s on %s: ids %s, hand-written SQL gives %s\n", c->filter,
                           testdb_dialect_name(d), got[d], want);
                    failures++;
                }
                free(want);
            }
            if (c->ids && strcmp(got[d], c->ids) != 0) {
                printf("FAIL %s on %s: ids %s, expected %s\n", c->filter, testdb_dialect_name(d),
                       got[d], c->ids);
                failures++;
            }
        }
        if (got[0] && got[1] && strcmp(got[0], got[1]) != 0) {
            printf("FAIL %s: sqlite gives %s, postgres %s\n", c->filter, got[0], got[1]);
            failures++;
        }
        free(got[0]);
        free(got[1]);
    }
    printf("%zu filters on both backends, %d failures\n", NCASES, failures);
    teardown(NULL);
    assert_int_equal(failures, 0);
}

/* PostgreSQL's age() and cr_age() agree on every pair of days, leap days and negative ages
 * included: a sweep over a few years of birthdays against a few "today"s. */
static void test_age_agrees(void **state)
{
    struct cr_store *s[2];
    struct cr_err err = CR_ERR_INIT;
    static const char *const todays[] = {"2024-02-28", "2024-02-29", "2024-03-01", "2025-02-28",
                                         "2025-03-01", "2026-01-31", "2026-12-31"};
    const char *sql[2] = {
        "SELECT count(*), sum(cr_age(d, ?) * (k % 7 + 1)) FROM (SELECT "
        "cr_date_add('2019-12-25', k) AS d, k FROM (WITH RECURSIVE r(k) AS (SELECT 0 UNION ALL "
        "SELECT k + 1 FROM r WHERE k < 2700) SELECT k FROM r))",
        "SELECT count(*), sum(CAST(date_part('year', age(CAST(? AS date), d)) AS bigint) * (k % "
        "7 + 1)) FROM (SELECT date '2019-12-25' + k AS d, k FROM generate_series(0, 2700) k) x"};
    (void)state;
    for (int d = 0; d < 2; d++)
        s[d] = testdb_open((enum cr_dialect)d);
    for (size_t t = 0; t < sizeof todays / sizeof *todays; t++) {
        int64_t sums[2];
        for (int d = 0; d < 2; d++) {
            struct cr_stmt *st;
            assert_int_equal(cr_stmt_prepare(s[d], sql[d], &st, &err), 0);
            cr_stmt_bind_str(st, 1, todays[t]);
            assert_int_equal(cr_stmt_step(st, &err), 1);
            assert_int_equal(cr_stmt_int64(st, 0), 2701);
            sums[d] = cr_stmt_int64(st, 1);
            cr_stmt_free(st);
        }
        if (sums[0] != sums[1])
            fail_msg("age() differs for today %s: sqlite %lld, postgres %lld", todays[t],
                     (long long)sums[0], (long long)sums[1]);
    }
    for (int d = 0; d < 2; d++)
        testdb_close(s[d]);
}

/* The condition embedded in a caller's statement, with parameters before and after it. */
static void test_embedding(void **state)
{
    enum cr_dialect d = (enum cr_dialect)(intptr_t)*state;
    struct cr_store *s = testdb_open(d);
    struct cr_err err = CR_ERR_INIT;
    struct cr_query_opts o = {0};
    struct cr_query q = CR_QUERY_INIT;
    struct cr_buf sql = CR_BUF_INIT(0);
    struct cr_stmt *st;
    const char *f = "tier = 'gold' and created_at > now() - 30d";
    tq_seed(s);
    o.clock = tq_clock();
    assert_int_equal(cr_query_compile_store(s, f, strlen(f), &o, &q, &err), 0);
    cr_buf_printf(&sql, "SELECT count(*) FROM profile p WHERE p.id >= ? AND %s AND p.id <= ?",
                  q.where);
    assert_int_equal(cr_stmt_prepare(s, sql.data, &st, &err), 0);
    assert_int_equal(cr_stmt_bind_int64(st, 1, 2), 0);
    assert_int_equal(cr_query_bind(st, 2, &q, &err), 0);
    assert_int_equal(cr_stmt_bind_int64(st, 2 + (int)q.nparams, 12), 0);
    assert_int_equal(cr_stmt_step(st, &err), 1);
    assert_int_equal(cr_stmt_int64(st, 0), 1); /* profile 9 */
    cr_stmt_free(st);
    cr_buf_release(&sql);
    cr_query_release(&q);
    testdb_close(s);
}

/* now() comes from the clock given at compile time, read when the query is bound: the
 * store's virtual clock moves filters without recompiling them. */
static void test_virtual_clock(void **state)
{
    enum cr_dialect d = (enum cr_dialect)(intptr_t)*state;
    struct cr_store *s = testdb_open(d);
    struct cr_err err = CR_ERR_INIT;
    struct cr_query_opts o = {0};
    struct cr_query q = CR_QUERY_INIT;
    struct cr_clock clock;
    const char *f = "created_at between now() - 1d and now()";
    int64_t n = -1;
    cr_time_t t;
    tq_seed(s);
    cr_store_clock_init(&clock, s);
    o.clock = &clock;
    assert_int_equal(cr_query_compile_store(s, f, strlen(f), &o, &q, &err), 0);
    assert_int_equal(cr_time_parse("2026-03-11T00:00:00Z", 20, &t, &err), 0);
    assert_int_equal(cr_store_clock_set(s, t, &err), 0);
    assert_int_equal(cr_query_count(s, &q, &n, &err), 0);
    assert_int_equal(n, 1); /* profile 1, created 03-10 08:00 */
    assert_int_equal(
        cr_store_clock_advance(s, 4 * 86400 * CR_USEC_PER_SEC + 3600 * CR_USEC_PER_SEC, NULL, &err),
        0);
    assert_int_equal(cr_query_count(s, &q, &n, &err), 0);
    assert_int_equal(n, 2); /* 8 and 9, between 03-14 01:00 and 03-15 01:00 */
    cr_query_release(&q);
    testdb_close(s);
}

/* Text the database would choke on never reaches it: refused at compile time, or a value. */
static void test_injection_on_backends(void **state)
{
    enum cr_dialect d = (enum cr_dialect)(intptr_t)*state;
    struct cr_store *s = testdb_open(d);
    static const char *const attacks[] = {
        "tier = 'x'' OR ''1''=''1'",
        "tier = 'gold'' OR 1=1 --'",
        "last_name = 'O''Brien'); DROP TABLE profile; --'",
        "email like '%'' OR email like ''%'",
        "tier = '\\' OR 1=1 OR ''='",
        "tier in ('a', 'b''); DELETE FROM profile; --')",
        "in_list('vip'') OR 1=1 --')",
        "subscribed('shop-app'' OR 1=1 --')",
        "clicked(1, ''' OR 1=1 OR ''')",
        "nickname = E'\\x27'",
        "tier = $$x$$",
        "tier = 'gold'; DROP TABLE profile",
        "tier = 'gold' -- and false",
        "tier = 'gold' /* and false */",
        "\"tier\" = 'gold' or \"1\"=\"1\"",
        "\"tier\"\" = 'gold' OR 1=1 --\" = 'x'",
    };
    tq_seed(s);
    for (size_t i = 0; i < sizeof attacks / sizeof *attacks; i++) {
        struct cr_err err = CR_ERR_INIT;
        char *ids = filter_ids(s, attacks[i], CR_QUERY_PROFILE, &err);
        /* either refused with a position, or it matches as literals would */
        if (!ids) {
            assert_true(err.line >= 1 && err.col >= 1);
        } else {
            assert_string_equal(ids, "");
            free(ids);
        }
    }
    {
        int64_t n = 0;
        struct cr_err err = CR_ERR_INIT;
        assert_int_equal(cr_store_query_int64(s, &err, &n, "SELECT count(*) FROM profile", NULL),
                         1);
        assert_int_equal(n, NPROFILES);
    }
    testdb_close(s);
}

/* Substitutes inner for the X of tmpl. */
static char *nest(const char *tmpl, const char *inner)
{
    struct cr_buf b = CR_BUF_INIT(0);
    const char *x = strchr(tmpl, 'X');
    cr_buf_append(&b, tmpl, (size_t)(x - tmpl));
    cr_buf_puts(&b, inner);
    cr_buf_puts(&b, x + 1);
    return cr_buf_detach(&b, NULL);
}

/*
 * For each construct, the deepest nesting the compiler accepts runs on the backend: the
 * compiler's estimate of SQLite's parser stack is an upper bound, construct by construct.
 */
static void test_deepest_accepted_runs(void **state)
{
    enum cr_dialect d = (enum cr_dialect)(intptr_t)*state;
    struct cr_store *s = testdb_open(d);
    static const struct {
        const char *seed, *tmpl, *wrap;
    } shapes[] = {
        {"loyalty_points", "(X)", "X > 0"},
        {"loyalty_points", "(1 + X)", "X > 0"},
        {"loyalty_points", "(X + 1)", "X > 0"},
        {"loyalty_points", "-X", "X > 0"},
        {"loyalty_points", "(100 / X)", "X > 0"},
        {"loyalty_points", "coalesce(1, X)", "X > 0"},
        {"loyalty_points", "(X * 2 - length(trim(tier)))", "X > 0"},
        {"loyalty_points", "age(birth_date + X)", "X > 0"},
        {"length(tier)", "year(today() - X)", "X > 0"},
        {"loyalty_points", "coalesce(X, loyalty_points, 3)", "X in (1, 2, X)"},
        {"newsletter", "not X", "X"},
        {"newsletter", "(true and X)", "X"},
        {"newsletter", "(X or false)", "X"},
        {"newsletter", "(X = true)", "X"},
        {"newsletter", "(true != X)", "X"},
        {"newsletter", "(true in (false, X))", "X"},
        {"newsletter", "(X and email_optout or sms_optout and in_list('vip'))", "X"},
        {"newsletter", "(X is not null)", "X"},
        {"tier", "lower(X)", "X = 'gold'"},
        {"tier", "coalesce('a', X)", "X = 'gold'"},
        {"tier", "trim(upper(X))", "X like 'G%'"},
        {"tier", "coalesce(X, 'b')", "X ilike 'g%'"},
        {"tier", "coalesce(X, 'b')", "tier like X"},
        {"birth_date", "(X + 1)", "X < today()"},
        {"birth_date", "(X - 1)", "X between today() - 365 and X"},
        {"birth_date", "coalesce(date '2000-01-01', X)", "X < today()"},
        {"created_at", "(X + 1h)", "X < now()"},
        {"created_at", "(X - 1h)", "now() - X > 1d"},
        {"created_at", "coalesce(now(), X)", "X < now()"},
    };
    tq_seed(s);
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
        char *inner = cr_xstrdup(shapes[i].seed), *best = NULL;
        int k;
        for (k = 1; k <= 150; k++) {
            struct cr_query q = CR_QUERY_INIT;
            struct cr_err err = CR_ERR_INIT;
            char *next = nest(shapes[i].tmpl, inner), *filter;
            free(inner);
            inner = next;
            filter = nest(shapes[i].wrap, inner);
            if (strchr(filter, 'X')) { /* a wrapper that names X twice */
                char *t = nest(filter, inner);
                free(filter);
                filter = t;
            }
            if (tq_compile(d, CR_QUERY_PROFILE, filter, &q, &err)) {
                if (err.code != CR_ETOOBIG)
                    fail_msg("%s: %s", filter, err.msg);
                free(filter);
                break;
            }
            cr_query_release(&q);
            free(best);
            best = filter;
        }
        if (k < 4)
            fail_msg("%s: only %d levels accepted", shapes[i].tmpl, k - 1);
        {
            struct cr_query_opts o = {0};
            struct cr_query q = CR_QUERY_INIT;
            struct cr_err err = CR_ERR_INIT;
            int64_t n;
            o.clock = tq_clock();
            if (cr_query_compile_store(s, best, strlen(best), &o, &q, &err) ||
                cr_query_count(s, &q, &n, &err))
                fail_msg("%s, %d levels, on %s: %s", shapes[i].tmpl, k - 1, testdb_dialect_name(d),
                         err.msg);
            cr_query_release(&q);
        }
        free(best);
        free(inner);
    }
    testdb_close(s);
}

/* Wide filters: thousands of alternatives run on both backends. */
static void test_wide_runs(void **state)
{
    enum cr_dialect d = (enum cr_dialect)(intptr_t)*state;
    struct cr_store *s = testdb_open(d);
    struct cr_buf f = CR_BUF_INIT(0);
    struct cr_err err = CR_ERR_INIT;
    char *ids;
    tq_seed(s);
    cr_buf_puts(&f, "loyalty_points = -1");
    for (int i = 0; i < 4000; i++)
        cr_buf_printf(&f, " or loyalty_points = %d", i * 3);
    cr_buf_puts(&f, " or nickname = 'ali'");
    ids = filter_ids(s, f.data, CR_QUERY_PROFILE, &err);
    if (!ids)
        fail_msg("%s", err.msg);
    assert_string_equal(ids, "1,3,6,12"); /* 120, 0, 300, 15 are multiples of 3 */
    free(ids);
    cr_buf_reset(&f);
    cr_buf_puts(&f, "tier is not null");
    for (int i = 0; i < 3000; i++)
        cr_buf_printf(&f, " and loyalty_points != %d", i * 7 + 1);
    ids = filter_ids(s, f.data, CR_QUERY_PROFILE, &err);
    if (!ids)
        fail_msg("%s", err.msg);
    assert_string_equal(ids, "2,3,5,6,8,9,11"); /* not 1 (120) and 12 (15), nor 4 (null) */
    free(ids);
    cr_buf_release(&f);
    testdb_close(s);
}

/* Every example of docs/filter-language.md that compiles gives the same ids on both
 * backends (the error examples are checked by the query_docs case test). */
static void test_doc_examples(void **state)
{
    FILE *f = fopen(CRIER_SOURCE_DIR "/docs/filter-language.md", "r");
    struct cr_buf ex = CR_BUF_INIT(0);
    char line[4096];
    int in = 0, subs = 0, examples = 0, failures = 0;
    (void)state;
    assert_non_null(f);
    setup(NULL);
    for (;;) {
        int eof = !fgets(line, sizeof line, f);
        if (!eof && in && strncmp(line, "```", 3) != 0) {
            cr_buf_puts(&ex, line);
            continue;
        }
        if (!eof && strncmp(line, "```filter", 9) == 0) {
            in = 1;
            subs = strstr(line, "subscription") != NULL;
            cr_buf_reset(&ex);
            continue;
        }
        if (in) { /* the example ended: run it unless an error block follows */
            int c = eof ? EOF : fgetc(f);
            char next[16] = "";
            in = 0;
            if (c != EOF) {
                ungetc(c, f);
                if (c == '`' && fgets(next, sizeof next, f) && strncmp(next, "```error", 8) == 0)
                    continue;
            }
            while (ex.len && ex.data[ex.len - 1] == '\n')
                cr_buf_truncate(&ex, ex.len - 1);
            {
                char *got[2];
                for (int d = 0; d < 2; d++) {
                    struct cr_err err = CR_ERR_INIT;
                    got[d] = filter_ids(seeded[d], ex.data,
                                        subs ? CR_QUERY_SUBSCRIPTION : CR_QUERY_PROFILE, &err);
                    if (!got[d]) {
                        printf("FAIL doc example %s on %s: %s\n", ex.data, testdb_dialect_name(d),
                               err.msg);
                        failures++;
                    }
                }
                if (got[0] && got[1] && strcmp(got[0], got[1]) != 0) {
                    printf("FAIL doc example %s: sqlite %s, postgres %s\n", ex.data, got[0],
                           got[1]);
                    failures++;
                }
                free(got[0]);
                free(got[1]);
                examples++;
            }
            if (next[0] == '`' && strncmp(next, "```filter", 9) == 0)
                fail_msg("two examples without a break");
        }
        if (eof)
            break;
    }
    fclose(f);
    cr_buf_release(&ex);
    teardown(NULL);
    printf("%d documentation examples on both backends, %d failures\n", examples, failures);
    assert_true(examples >= 15);
    assert_int_equal(failures, 0);
}

#define BOTH(fn)                                                                                   \
    cmocka_unit_test_prestate(fn, (void *)(intptr_t)CR_DIALECT_SQLITE),                            \
        cmocka_unit_test_prestate(fn, (void *)(intptr_t)CR_DIALECT_POSTGRES)
const struct CMUnitTest tq_backend_tests[] = {
    cmocka_unit_test(test_every_construct),
    cmocka_unit_test(test_age_agrees),
    cmocka_unit_test(test_doc_examples),
    BOTH(test_embedding),
    BOTH(test_virtual_clock),
    BOTH(test_injection_on_backends),
    BOTH(test_deepest_accepted_runs),
    BOTH(test_wide_runs),
};
const size_t tq_backend_ntests = sizeof tq_backend_tests / sizeof *tq_backend_tests;
