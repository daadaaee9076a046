/*
 * prepare.c - the analysis: who is targeted, who is excluded and why (one reason each)
 *
 * Order, as Adobe Campaign's analysis: address checks (missing, invalid, quarantined,
 * opted out), then de-duplication, then the pressure rule, then the account's daily
 * capacity, then personalisation (strict mode renders every message now). The first rule a
 * recipient fails is its reason. Results go to delivery_log (pending or excluded) and a
 * summary to delivery.preparation.
 *
 * Settings (crier config): pressure.CHANNEL.max N and pressure.CHANNEL.period DURATION (at
 * most N deliveries of that channel per profile in the period; unset = no rule); a
 * delivery's options "capacity": "report" counts the excess over the account's daily_limit
 * without excluding.
 *
 * Email checks the email column; SMS the phone column (E.164, else invalid_number), and
 * renders every text now to count its parts (delivery_log.segments; over
 * sms.max_segments, default 10, or the delivery's "max_segments": too_long).
 *
 * A fire of a recurring delivery prepares in append mode: only its own population, into
 * rows marked with its id, beside (never over) the rows of the execution's earlier fires;
 * de-duplication is judged within the fire, and the pressure and capacity rules count the
 * earlier fires as sends already made.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "channel/email/address.h"
#include "channel/email/email.h"
#include "channel/sms/gsm.h"
#include "channel/push/push.h"
#include "channel/sms/sms.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/strmap.h"
#include "delivery/account.h"
#include "delivery/delivery_int.h"
#include "profile/phone.h"
#include "query/query.h"
#include "store/config.h"
#include "store/schema.h"
#include "template/template.h"

struct prep {
    struct cr_store *s;
    struct cr_clock *clock;
    cr_time_t now;
    int64_t id, account_id, population_id, parent_id;
    int64_t fire, fire_population; /* append mode: the fire and its recipients */
    char *filter, *status;
    json_t *options, *content;
    struct cr_strmap quarantined, seen, pressured;
    int64_t capacity_left; /* -1: no limit */
    int capacity_report;
    json_t *excluded; /* reason -> count */
    int64_t targeted;
    struct cr_email_channel *ch; /* strict mode only */
    struct cr_schema profile;
    json_t *sample;
    char *channel;
    /* sms: the text, rendered per recipient as it will be sent to count its parts */
    struct cr_sms_channel *sms_text;
    int is_sms;         /* the phone rules (an SMS delivery, or an external one for SMS) */
    char *discard_file; /* external: a previous extraction file to remove once committed */
    int64_t sms_next_log, sms_log; /* the log id the next / this row will likely get */
    /* push: the account's app and platform; the rows are subscriptions */
    char *push_app, *push_platform;
    struct cr_push_msgs *push_msgs; /* strict mode only */
    struct cr_buf rendered;
    int64_t max_segments, segments, segments_total;
};

static int load_delivery(struct prep *p, struct cr_err *err)
{
    struct cr_stmt *st = NULL;
    int rc = cr_stmt_prepare(p->s,
                             "SELECT status, account_id, filter, population_id, options, content, "
                             "channel, parent_id FROM delivery WHERE id = ?",
                             &st, err);
    if (rc)
        return rc;
    cr_stmt_bind_int64(st, 1, p->id);
    rc = cr_stmt_step(st, err);
    if (rc == 0)
        rc = cr_err_set(err, CR_ENOTFOUND, "no delivery %lld", (long long)p->id);
    if (rc == 1) {
        p->status = cr_xstrdup(cr_stmt_text(st, 0));
        p->account_id = cr_stmt_is_null(st, 1) ? 0 : cr_stmt_int64(st, 1);
        p->filter = cr_stmt_text(st, 2) ? cr_xstrdup(cr_stmt_text(st, 2)) : NULL;
        p->population_id = cr_stmt_is_null(st, 3) ? 0 : cr_stmt_int64(st, 3);
        p->options = json_loads(cr_stmt_text(st, 4) ? cr_stmt_text(st, 4) : "{}", 0, NULL);
        p->content = json_loads(cr_stmt_text(st, 5) ? cr_stmt_text(st, 5) : "{}", 0, NULL);
        p->channel = cr_xstrdup(cr_stmt_text(st, 6));
        p->parent_id = cr_stmt_is_null(st, 7) ? 0 : cr_stmt_int64(st, 7);
        rc = p->options && p->content
                 ? 0
                 : cr_err_set(err, CR_ESTORE, "delivery %lld: unreadable", (long long)p->id);
    }
    cr_stmt_free(st);
    return rc;
}

/* Every key of a one-column query into a set. */
static int load_set(struct prep *p, struct cr_strmap *m, const char *sql, const char *types,
                    int64_t a, const char *b, struct cr_err *err)
{
    struct cr_stmt *st = NULL;
    int rc = cr_stmt_prepare(p->s, sql, &st, err);
    if (rc)
        return rc;
    for (int i = 0; types[i]; i++) {
        if (types[i] == 'i')
            cr_stmt_bind_int64(st, i + 1, a);
        else
            cr_stmt_bind_str(st, i + 1, b);
    }
    while ((rc = cr_stmt_step(st, err)) == 1) {
        const char *k = cr_stmt_text(st, 0);
        if (k)
            cr_strmap_put(m, k, strlen(k), 1);
    }
    cr_stmt_free(st);
    return rc < 0 ? rc : 0;
}

static int load_rules(struct prep *p, struct cr_err *err)
{
    char *max = NULL, *period = NULL, ts[CR_TIME_BUFSZ], key[64];
    int rc = load_set(p, &p->quarantined,
                      "SELECT address FROM quarantine WHERE channel = ? AND status = "
                      "'quarantined'",
                      "s", 0, p->channel, err);
    snprintf(key, sizeof key, "pressure.%s.max", p->channel);
    if (rc || (rc = cr_config_get(p->s, key, &max, err)))
        goto out;
    snprintf(key, sizeof key, "pressure.%s.period", p->channel);
    if ((rc = cr_config_get(p->s, key, &period, err)))
        goto out;
    if (max && period) {
        int64_t us;
        long n = strtol(max, NULL, 10);
        if ((rc = cr_duration_parse(period, strlen(period), &us, err))) {
            cr_err_prefix(err, "setting pressure.%s.period: ", p->channel);
            goto out;
        }
        cr_time_format_sql(p->now - us, ts);
        char sql[768];
        /* profiles that already got n deliveries of this channel in the period (the channel
         * is one of crier's own names, never user text); each fire of a recurring delivery
         * counts as a delivery of its own, this one's earlier fires included */
        snprintf(sql, sizeof sql,
                 "SELECT CAST(l.profile_id AS TEXT) FROM delivery_log l JOIN delivery d ON "
                 "d.id = l.delivery_id WHERE d.channel = '%s' AND NOT (d.id = ? AND "
                 "coalesce(l.fire_id, 0) = %lld) AND NOT l.proof "
                 "AND l.status IN ('pending', 'sending', 'sent', 'delivered') AND "
                 "l.created_at >= ? GROUP BY l.profile_id HAVING count(DISTINCT CASE WHEN "
                 "l.fire_id IS NULL THEN d.id ELSE -l.fire_id END) >= %ld",
                 strcmp(p->channel, "sms") == 0    ? "sms"
                 : strcmp(p->channel, "push") == 0 ? "push"
                                                   : "email",
                 (long long)p->fire, n > 0 ? n : 1);
        if ((rc = load_set(p, &p->pressured, sql, "is", p->id, ts, err)))
            goto out;
    }
    p->capacity_left = -1;
    if (p->account_id) {
        struct cr_account a;
        if ((rc = cr_account_get_id(p->s, p->account_id, 0, &a, err)))
            goto out;
        json_int_t limit = json_integer_value(json_object_get(a.settings, "daily_limit"));
        cr_account_release(&a);
        if (limit > 0) {
            int64_t used;
            struct cr_civil c;
            cr_time_to_civil(p->now, &c);
            c.hour = c.min = c.sec = c.usec = 0;
            cr_time_format_sql(cr_time_from_civil(&c), ts);
            rc = cr_store_query_int64(p->s, err, &used,
                                      "SELECT count(*) FROM delivery_log l JOIN delivery d ON "
                                      "d.id = l.delivery_id WHERE d.account_id = ? AND NOT "
                                      "(d.id = ? AND coalesce(l.fire_id, 0) = ?) "
                                      "AND NOT l.proof AND l.status <> 'excluded' AND "
                                      "l.created_at >= ?",
                                      "iiis", p->account_id, p->id, p->fire, ts);
            if (rc < 0)
                goto out;
            rc = 0;
            p->capacity_left = limit > used ? limit - used : 0;
        }
    }
    const char *cap = json_string_value(json_object_get(p->options, "capacity"));
    p->capacity_report = cap && strcmp(cap, "report") == 0;
out:
    free(max);
    free(period);
    return rc;
}

static void count_reason(struct prep *p, const char *reason)
{
    json_object_set_new(p->excluded, reason,
                        json_integer(json_integer_value(json_object_get(p->excluded, reason)) + 1));
}

/* The SMS text for the recipient, rendered to count its parts into p->segments; a reason
 * when it cannot be sent. */
static const char *sms_text(struct prep *p, const char *const *row, char *detail, size_t detail_len)
{
    struct cr_err e = CR_ERR_INIT;
    enum cr_sms_coding coding;
    size_t parts = 0, units = 0;
    /* tracked links are counted with the token of the row's likely id: a token's length
     * only changes when the id crosses a power of 128, so a guess a little off still
     * counts the same parts */
    if (cr_sms_render(p->sms_text, row, p->sms_log, &p->rendered, &e)) {
        snprintf(detail, detail_len, "%s", cr_err_msg(&e));
        return "personalisation_error";
    }
    int rc = cr_sms_count(p->rendered.data ? p->rendered.data : "", p->rendered.len, &coding,
                          &parts, &units, &e);
    p->segments = (int64_t)parts;
    if (rc && rc != CR_ETOOBIG) {
        snprintf(detail, detail_len, "text: %s", cr_err_msg(&e));
        return "personalisation_error";
    }
    if (rc || (int64_t)parts > p->max_segments) {
        snprintf(detail, detail_len, "%zu parts (%s, %zu %s), more than %lld", parts,
                 coding == CR_SMS_GSM7 ? "GSM 7-bit" : "UCS-2", units,
                 coding == CR_SMS_GSM7 ? "septets" : "UTF-16 units", (long long)p->max_segments);
        return "too_long";
    }
    return NULL;
}

/* The first rule the recipient fails, or NULL. addr receives the normalised address. */
static const char *judge(struct prep *p, const char *const *row, size_t addr_col, size_t optout_col,
                         struct cr_buf *addr, struct cr_buf *scratch, char *detail,
                         size_t detail_len)
{
    const char *in = row[addr_col];
    struct cr_err e = CR_ERR_INIT;
    int64_t v;
    int sms = p->is_sms;
    p->segments = 0;
    p->sms_log = p->sms_next_log++; /* every row judged is inserted */
    if ((!in || !*in) && p->push_app)
        snprintf(detail, detail_len, "no active %s subscription to '%s'", p->push_platform,
                 p->push_app);
    if (!in || !*in)
        return "missing_address";
    if (p->push_app) {
        cr_buf_puts(addr, in); /* a device token: the service judges it */
    } else if (sms) {
        char e164[CR_PHONE_MAX];
        const char *why = NULL;
        if (cr_phone_normalize(in, strlen(in), NULL, e164, &why)) {
            snprintf(detail, detail_len, "%s: %s", in, why ? why : "not a number");
            return "invalid_number";
        }
        cr_buf_puts(addr, e164);
    } else if (cr_email_check(in, addr, &e)) {
        snprintf(detail, detail_len, "%s", cr_err_msg(&e));
        return "invalid_address";
    }
    if (cr_strmap_get(&p->quarantined, addr->data, addr->len, &v))
        return "quarantined";
    const char *o = row[optout_col];
    if (o && (strcmp(o, "1") == 0 || strcmp(o, "t") == 0 || strcmp(o, "true") == 0))
        return "opted_out";
    if (cr_strmap_get(&p->seen, addr->data, addr->len, &v))
        return "duplicate";
    cr_strmap_put(&p->seen, addr->data, addr->len, 1);
    if (p->pressured.count && cr_strmap_get(&p->pressured, row[0], strlen(row[0]), &v))
        return "pressure";
    if (p->capacity_left == 0 && !p->capacity_report)
        return "capacity";
    if (p->sms_text) { /* not for an external delivery: no text */
        const char *why = sms_text(p, row, detail, detail_len);
        if (why)
            return why;
    }
    if (p->push_msgs && cr_push_render(p->push_msgs, row, addr->data, 0, scratch, &e)) {
        snprintf(detail, detail_len, "%s", cr_err_msg(&e));
        return "personalisation_error";
    }
    if (p->ch) {
        char mid[160];
        if (cr_email_render(p->ch, row, addr->data, 0, 0, scratch, mid, &e)) {
            snprintf(detail, detail_len, "%s", cr_err_msg(&e));
            return "personalisation_error";
        }
    }
    if (p->capacity_left > 0)
        p->capacity_left--;
    else if (p->capacity_left == 0)
        count_reason(p, "capacity_reported");
    return NULL;
}

static int push_targets_sql(struct prep *p, struct cr_query *q, struct cr_buf *sql,
                            struct cr_err *err);

static int targets_sql(struct prep *p, struct cr_query *q, struct cr_buf *sql, struct cr_err *err)
{
    cr_buf_puts(sql, "SELECT ");
    cr__delivery_profile_columns(sql, &p->profile);
    if (p->push_app)
        return push_targets_sql(p, q, sql, err);
    if (p->population_id) {
        /* a subscription population names a profile once per subscription: the
         * duplicate rule keeps one message per address */
        cr_buf_puts(sql, " FROM population_member m JOIN profile p ON p.id = m.profile_id "
                         "WHERE m.population_id = ? ORDER BY p.id");
        return 0;
    }
    if (!p->filter)
        return cr_err_set(err, CR_EINVAL,
                          "delivery %lld has no target (no filter, no "
                          "population)",
                          (long long)p->id);
    struct cr_query_opts o = {0};
    o.clock = p->clock;
    int rc = cr_query_compile_store(p->s, p->filter, strlen(p->filter), &o, q, err);
    if (rc) {
        cr_err_prefix(err, "target filter: ");
        return rc;
    }
    cr_buf_printf(sql, " FROM profile p WHERE %s ORDER BY p.id", q->where);
    return 0;
}

/* Push: one row per active subscription of the target's profiles to the account's app and
 * platform (the subscriptions themselves when the population is of subscriptions), and one
 * row without a token for a profile that has none; the app and platform are the first two
 * parameters. The subscription's id and token follow the profile's columns. */
static int push_targets_sql(struct prep *p, struct cr_query *q, struct cr_buf *sql,
                            struct cr_err *err)
{
    char *dim = NULL;
    int rc;
    cr_buf_puts(sql, ", s.id, s.token");
    if (p->population_id) {
        if ((rc = cr_store_query_text(p->s, err, &dim,
                                      "SELECT dimension FROM population WHERE id = ?", "i",
                                      p->population_id)) < 0)
            return rc;
        int by_sub = dim && strcmp(dim, "subscription") == 0;
        free(dim);
        cr_buf_printf(sql,
                      " FROM population_member m JOIN profile p ON p.id = m.profile_id "
                      "LEFT JOIN subscription s ON s.%s AND s.app = ? AND "
                      "s.platform = ? AND s.active WHERE m.population_id = ? "
                      "ORDER BY p.id, s.id",
                      by_sub ? "id = m.item_id" : "profile_id = p.id");
        return 0;
    }
    if (!p->filter)
        return cr_err_set(err, CR_EINVAL,
                          "delivery %lld has no target (no filter, no "
                          "population)",
                          (long long)p->id);
    struct cr_query_opts o = {0};
    o.clock = p->clock;
    if ((rc = cr_query_compile_store(p->s, p->filter, strlen(p->filter), &o, q, err))) {
        cr_err_prefix(err, "target filter: ");
        return rc;
    }
    cr_buf_printf(sql,
                  " FROM profile p LEFT JOIN subscription s ON s.profile_id = p.id AND "
                  "s.app = ? AND s.platform = ? AND s.active WHERE %s ORDER BY p.id, s.id",
                  q->where);
    return 0;
}

/* An external delivery's routing account says which channel's rules apply. */
static int external_channel(struct prep *p, struct cr_err *err)
{
    struct cr_account a;
    int rc;
    if (!p->account_id)
        return cr_err_set(err, CR_EINVAL, "delivery %lld has no account", (long long)p->id);
    if ((rc = cr_account_get_id(p->s, p->account_id, 0, &a, err)))
        return rc;
    free(p->channel);
    p->channel = cr_xstrdup(a.channel);
    cr_account_release(&a);
    /* preparing again starts a new file: the old one, not exported, goes once this
     * preparation is committed (a rollback keeps both the row and the file) */
    if ((rc = cr_store_query_text(p->s, err, &p->discard_file,
                                  "SELECT file FROM delivery_export WHERE delivery_id = ? AND "
                                  "status NOT IN ('exported', 'generating', 'exporting')",
                                  "i", p->id)) < 0)
        return rc;
    if ((rc = cr_store_run(p->s, err, "DELETE FROM delivery_export WHERE delivery_id = ?", "i",
                           p->id)))
        return rc;
    /* the rules were loaded for "external": again for the channel */
    cr_strmap_release(&p->quarantined);
    cr_strmap_init(&p->quarantined);
    cr_strmap_release(&p->pressured);
    cr_strmap_init(&p->pressured);
    return 0;
}

/* The account's app and platform; in strict mode the notifications are rendered now. */
static int open_push(struct prep *p, struct cr_err *err)
{
    struct cr_account a;
    json_t *campaign = NULL;
    int rc;
    if (!p->account_id)
        return cr_err_set(err, CR_EINVAL, "delivery %lld has no account", (long long)p->id);
    if ((rc = cr_account_get_id(p->s, p->account_id, 0, &a, err)))
        return rc;
    const char *app = json_string_value(json_object_get(a.settings, "app"));
    const char *platform = json_string_value(json_object_get(a.settings, "platform"));
    p->push_app = cr_xstrdup(app ? app : "");
    p->push_platform = cr_xstrdup(platform ? platform : "ios");
    cr_account_release(&a);
    if (!json_is_true(json_object_get(p->options, "strict")))
        return 0;
    if (!(rc = cr__delivery_campaign(p->s, p->id, &campaign, err))) {
        struct cr_push_msgs_opts o = {p->id, NULL, 1, p->clock, campaign};
        rc = cr_push_msgs_open(p->s, p->content,
                               strcmp(p->push_platform, "android") == 0 ? CR_PUSH_ANDROID
                                                                        : CR_PUSH_IOS,
                               &p->profile, &o, &p->push_msgs, err);
    }
    json_decref(campaign);
    return rc;
}

/* The SMS text compiled once; the largest number of parts from the delivery's options
 * ("max_segments"), else the setting sms.max_segments, else 10. */
static int open_sms(struct prep *p, struct cr_err *err)
{
    json_t *campaign = NULL;
    char *v = NULL;
    int64_t max_id = 0;
    int rc = cr__delivery_campaign(p->s, p->id, &campaign, err);
    if (!rc) {
        /* the variables and links the sending gives, so the parts counted are the parts
         * sent */
        struct cr_sms_opts o = {
            p->id,    NULL,     json_is_true(json_object_get(p->options, "strict")),
            p->clock, campaign, p->options,
            1};
        rc = cr_sms_channel_open(p->s, p->content, NULL, &p->profile, &o, &p->sms_text, err);
    }
    json_decref(campaign);
    if (rc || (rc = cr_store_query_int64(p->s, err, &max_id,
                                         "SELECT COALESCE(max(id), 0) FROM delivery_log", "")) < 0)
        return rc;
    p->sms_next_log = max_id + 1;
    cr_buf_init(&p->rendered, 1u << 20);
    p->max_segments = json_integer_value(json_object_get(p->options, "max_segments"));
    if (p->max_segments <= 0) {
        if ((rc = cr_config_get(p->s, "sms.max_segments", &v, err)))
            return rc;
        p->max_segments = v ? strtoll(v, NULL, 10) : 0;
        free(v);
    }
    if (p->max_segments <= 0 || p->max_segments > 255)
        p->max_segments = 10;
    return 0;
}

/* The execution's summary with this fire's added in: counts summed, "fires" counted. */
static json_t *merged_summary(const char *old_text, json_t *fire)
{
    json_t *old = old_text ? json_loads(old_text, 0, NULL) : NULL, *m = json_deep_copy(fire);
    const char *k;
    json_t *v;
    if (json_is_object(old)) {
        static const char *const sums[] = {"targeted", "segments"};
        for (size_t i = 0; i < 2; i++)
            if (json_object_get(old, sums[i]) || json_object_get(m, sums[i]))
                json_object_set_new(m, sums[i],
                                    json_integer(json_integer_value(json_object_get(old, sums[i])) +
                                                 json_integer_value(json_object_get(m, sums[i]))));
        json_t *ex = json_object_get(m, "excluded");
        json_object_foreach(json_object_get(old, "excluded"), k, v) json_object_set_new(
            ex, k,
            json_integer(json_integer_value(v) + json_integer_value(json_object_get(ex, k))));
    }
    json_object_set_new(m, "fires",
                        json_integer(json_integer_value(json_object_get(old, "fires")) + 1));
    json_decref(old);
    return m;
}

/* Append mode's end: the fire's summary on the fire, the sum on the execution; then the
 * execution awaits confirmation, or (confirmation off) sends, going on if it already was
 * (a paused one stays paused). The validity of a sending counts from when it (re)starts. */
static int finish_fire(struct prep *p, json_t *summary, int confirm, const char *ts,
                       struct cr_err *err)
{
    char *old = NULL;
    int rc = cr_store_query_text(p->s, err, &old, "SELECT preparation FROM delivery WHERE id = ?",
                                 "i", p->id);
    if (rc < 0)
        return rc;
    json_t *m = merged_summary(old, summary);
    char *ftext = json_dumps(summary, JSON_COMPACT | JSON_SORT_KEYS);
    char *mtext = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
    int going = strcmp(p->status, "sending") == 0 || strcmp(p->status, "paused") == 0;
    const char *status = confirm ? "ready" : going ? p->status : "sending";
    json_decref(m);
    free(old);
    rc = cr_store_run(p->s, err,
                      "UPDATE delivery_fire SET preparation = ?, prepared_at = ?, "
                      "confirmed_at = ? WHERE id = ?",
                      "sssi", ftext, ts, confirm ? NULL : ts, p->fire);
    if (!rc)
        rc = cr_store_run(p->s, err,
                          "UPDATE delivery SET status = ?, preparation = ?, prepared_at = ?, "
                          "error = NULL, updated_at = ?, started_at = CASE WHEN ? = 1 THEN ? "
                          "ELSE started_at END WHERE id = ?",
                          "ssssisi", status, mtext, ts, ts, (int64_t)(!confirm && !going), ts,
                          p->id);
    free(ftext);
    free(mtext);
    return rc;
}

static int prepare_tx(struct cr_store *s, void *data, struct cr_err *err)
{
    struct prep *p = data;
    struct cr_query q = CR_QUERY_INIT;
    struct cr_buf sql = CR_BUF_INIT(0), addr = CR_BUF_INIT(4096), scratch = CR_BUF_INIT(0);
    struct cr_stmt *st = NULL, *ins = NULL;
    char ts[CR_TIME_BUFSZ], detail[600];
    const char **row = NULL;
    size_t email_col = 0, optout_col = 0;
    int rc;
    (void)s;
    if ((rc = load_delivery(p, err)))
        return rc;
    if (p->fire)
        p->population_id = p->fire_population;
    if (!p->fire && p->parent_id)
        return cr_err_set(err, CR_ESTATE,
                          "delivery %lld is an execution of recurring delivery "
                          "%lld: each fire of its workflow activity prepares its own recipients",
                          (long long)p->id, (long long)p->parent_id);
    if (!p->fire && strcmp(p->status, "draft") && strcmp(p->status, "ready") &&
        strcmp(p->status, "failed"))
        return cr_err_set(err, CR_ESTATE,
                          "delivery %lld is %s: only a draft, ready or failed "
                          "delivery can be prepared",
                          (long long)p->id, p->status);
    /* an external delivery is judged as its routing account's channel; no message is
     * rendered (the extraction file is) */
    int external = strcmp(p->channel, "external") == 0;
    if (external && (rc = external_channel(p, err)))
        return rc;
    int sms = strcmp(p->channel, "sms") == 0, push = strcmp(p->channel, "push") == 0;
    p->is_sms = sms;
    if (!sms && !push && strcmp(p->channel, "email") != 0)
        return cr_err_set(err, CR_EUNSUPPORTED,
                          "delivery %lld: preparing %s deliveries is not "
                          "supported yet",
                          (long long)p->id, p->channel);
    if ((rc = cr_schema_load(p->s, "profile", &p->profile, err)) || (rc = load_rules(p, err)))
        return rc;
    for (size_t i = 0; i < p->profile.ncols; i++) {
        if (strcmp(p->profile.cols[i].name, sms ? "phone" : "email") == 0)
            email_col = i;
        if (strcmp(p->profile.cols[i].name, sms    ? "sms_optout"
                                            : push ? "push_optout"
                                                   : "email_optout") == 0)
            optout_col = i;
    }
    if (push)
        email_col = p->profile.ncols + 1; /* the token, after the subscription id */
    if (sms && !external && (rc = open_sms(p, err)))
        return rc;
    if (push && (rc = open_push(p, err)))
        return rc;
    if (!sms && !push && !external && json_is_true(json_object_get(p->options, "strict"))) {
        struct cr_account a;
        json_t *campaign = NULL;
        if ((rc = cr_account_get_id(p->s, p->account_id, 1, &a, err)))
            return rc;
        /* the variables the sending binds, so strict mode judges the same message */
        if (!(rc = cr__delivery_campaign(p->s, p->id, &campaign, err))) {
            struct cr_email_opts o = {p->id, NULL, 1, p->clock, campaign, p->options, 0};
            rc = cr_email_channel_open(p->s, p->content, &a, &p->profile, &o, &p->ch, err);
        }
        cr_account_release(&a);
        json_decref(campaign);
        if (rc)
            return rc;
    }
    cr_time_format_sql(p->now, ts);
    if ((rc = p->fire ? cr_store_run(p->s, err,
                                     "DELETE FROM delivery_log WHERE delivery_id = "
                                     "? AND fire_id = ?",
                                     "ii", p->id, p->fire)
                      : cr_store_run(p->s, err,
                                     "DELETE FROM delivery_log WHERE delivery_id = "
                                     "? AND NOT proof",
                                     "i", p->id)) ||
        (rc = targets_sql(p, &q, &sql, err)) || (rc = cr_stmt_prepare(p->s, sql.data, &st, err)))
        goto out;
    int first = 1;
    if (push) {
        cr_stmt_bind_str(st, 1, p->push_app);
        cr_stmt_bind_str(st, 2, p->push_platform);
        first = 3;
    }
    if (p->population_id)
        cr_stmt_bind_int64(st, first, p->population_id);
    else if ((rc = cr_query_bind_at(st, first, &q, p->now, err)))
        goto out;
    if ((rc = cr_stmt_prepare(p->s,
                              "INSERT INTO delivery_log (delivery_id, profile_id, address, "
                              "status, reason, error, created_at, updated_at, segments, "
                              "fire_id, subscription_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                              "?)",
                              &ins, err)))
        goto out;
    size_t ncols = p->profile.ncols + (push ? 2 : 0);
    row = cr_xcalloc(ncols + 1, sizeof *row);
    while ((rc = cr_stmt_step(st, err)) == 1) {
        for (size_t i = 0; i < ncols; i++)
            row[i] = cr_stmt_text(st, (int)i);
        detail[0] = 0;
        cr_buf_reset(&addr);
        const char *reason =
            judge(p, row, email_col, optout_col, &addr, &scratch, detail, sizeof detail);
        if (reason)
            count_reason(p, reason);
        else
            p->targeted++, p->segments_total += p->segments;
        if (!reason && !p->sample && p->ch)
            p->sample = json_pack("{ss}", "address", addr.data);
        cr_stmt_reset(ins);
        cr_stmt_bind_int64(ins, 1, p->id);
        cr_stmt_bind_int64(ins, 2, cr_stmt_int64(st, 0));
        cr_stmt_bind_str(ins, 3, addr.len ? addr.data : row[email_col]);
        cr_stmt_bind_str(ins, 4, reason ? "excluded" : "pending");
        cr_stmt_bind_str(ins, 5, reason);
        cr_stmt_bind_str(ins, 6, detail[0] ? detail : NULL);
        cr_stmt_bind_str(ins, 7, ts);
        cr_stmt_bind_str(ins, 8, ts);
        if (sms && p->segments)
            cr_stmt_bind_int64(ins, 9, p->segments);
        else
            cr_stmt_bind_null(ins, 9);
        if (p->fire)
            cr_stmt_bind_int64(ins, 10, p->fire);
        else
            cr_stmt_bind_null(ins, 10);
        if (push && row[p->profile.ncols])
            cr_stmt_bind_int64(ins, 11, cr_stmt_int64(st, (int)p->profile.ncols));
        else
            cr_stmt_bind_null(ins, 11);
        if ((rc = cr_stmt_step(ins, err)) < 0)
            break;
    }
    if (rc < 0)
        goto out;
    json_t *summary = json_pack("{sI sO ss}", "targeted", (json_int_t)p->targeted, "excluded",
                                p->excluded, "prepared_at", ts);
    if (sms)
        json_object_set_new(summary, "segments", json_integer(p->segments_total));
    int confirm = json_is_true(json_object_get(p->options, "confirm")) ||
                  !json_object_get(p->options, "confirm");
    if (p->fire) {
        rc = finish_fire(p, summary, confirm, ts, err);
        json_decref(summary);
        goto out;
    }
    char *text = json_dumps(summary, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(summary);
    rc = cr_store_run(p->s, err,
                      "UPDATE delivery SET status = ?, preparation = ?, prepared_at = ?, "
                      "error = NULL, updated_at = ?, started_at = ? WHERE id = ?",
                      "sssssi", confirm ? "ready" : "sending", text, ts, ts, confirm ? NULL : ts,
                      p->id);
    free(text);
out:
    free(row);
    cr_stmt_free(st);
    cr_stmt_free(ins);
    cr_query_release(&q);
    cr_buf_release(&sql);
    cr_buf_release(&addr);
    cr_buf_release(&scratch);
    return rc;
}

static int prepare(struct cr_store *s, struct cr_clock *clock, int64_t id, int64_t fire,
                   int64_t fire_population, struct cr_err *err);

int cr_delivery_prepare(struct cr_store *s, struct cr_clock *clock, int64_t id, struct cr_err *err)
{
    return prepare(s, clock, id, 0, 0, err);
}

int cr__delivery_prepare_fire(struct cr_store *s, struct cr_clock *clock, int64_t id, int64_t fire,
                              int64_t population_id, struct cr_err *err)
{
    return prepare(s, clock, id, fire, population_id, err);
}

static int prepare(struct cr_store *s, struct cr_clock *clock, int64_t id, int64_t fire,
                   int64_t fire_population, struct cr_err *err)
{
    struct prep p = {0};
    p.s = s;
    p.clock = clock;
    p.now = cr_clock_now(clock);
    p.id = id;
    p.fire = fire;
    p.fire_population = fire_population;
    p.excluded = json_object();
    cr_strmap_init(&p.quarantined);
    cr_strmap_init(&p.seen);
    cr_strmap_init(&p.pressured);
    int rc = cr__delivery_tx(s, err, prepare_tx, &p);
    if (!rc && p.discard_file && *p.discard_file)
        unlink(p.discard_file);
    free(p.discard_file);
    if (rc && rc != CR_ENOTFOUND && rc != CR_ESTATE && p.status) {
        /* the analysis failed: say so on the delivery, outside the rolled-back work */
        struct cr_err e2 = CR_ERR_INIT;
        if (!cr_store_in_transaction(s) &&
            cr_store_run(s, &e2, "UPDATE delivery SET status = 'failed', error = ? WHERE id = ?",
                         "si", cr_err_msg(err), id))
            cr_log_warn("delivery %lld: %s", (long long)id, cr_err_msg(&e2));
    }
    cr_email_channel_close(p.ch);
    cr_sms_channel_close(p.sms_text);
    cr_push_msgs_close(p.push_msgs);
    free(p.push_app);
    free(p.push_platform);
    cr_buf_release(&p.rendered);
    free(p.channel);
    cr_schema_release(&p.profile);
    cr_strmap_release(&p.quarantined);
    cr_strmap_release(&p.seen);
    cr_strmap_release(&p.pressured);
    json_decref(p.excluded);
    json_decref(p.options);
    json_decref(p.content);
    json_decref(p.sample);
    free(p.filter);
    free(p.status);
    return rc;
}
