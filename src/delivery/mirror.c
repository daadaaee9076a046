/*
 * mirror.c - the mirror page: a recipient's email as a web page
 *
 * Rendered again from the delivery's content and the profile as it is now (as Adobe
 * Campaign's mirror page), with the links tracked as in the message and no open pixel.
 */
#include <stdlib.h>
#include <string.h>

#include "channel/email/email.h"
#include "delivery/account.h"
#include "delivery/delivery_int.h"
#include "store/schema.h"

int cr_delivery_mirror(struct cr_store *s, struct cr_clock *clock, int64_t id, int64_t log_id,
                       struct cr_buf *out, struct cr_err *err)
{
    struct cr_stmt *st = NULL;
    struct cr_schema profile = {0};
    struct cr_email_channel *ch = NULL;
    struct cr_account a = {0};
    json_t *content = NULL, *options = NULL, *campaign = NULL;
    char *label = NULL;
    int64_t account_id = 0, profile_id = 0;
    int have_account = 0;
    int rc = cr_stmt_prepare(s,
                             "SELECT d.content, d.options, d.account_id, d.label, l.profile_id "
                             "FROM delivery d JOIN delivery_log l ON l.delivery_id = d.id "
                             "WHERE d.id = ? AND l.id = ? AND d.channel = 'email'",
                             &st, err);
    if (rc)
        return rc;
    cr_stmt_bind_int64(st, 1, id);
    cr_stmt_bind_int64(st, 2, log_id);
    if ((rc = cr_stmt_step(st, err)) == 1) {
        content = json_loads(cr_stmt_text(st, 0) ? cr_stmt_text(st, 0) : "{}", 0, NULL);
        options = json_loads(cr_stmt_text(st, 1) ? cr_stmt_text(st, 1) : "{}", 0, NULL);
        account_id = cr_stmt_is_null(st, 2) ? 0 : cr_stmt_int64(st, 2);
        label = cr_stmt_text(st, 3) ? strdup(cr_stmt_text(st, 3)) : NULL;
        profile_id = cr_stmt_is_null(st, 4) ? 0 : cr_stmt_int64(st, 4);
        rc = 0;
    } else if (rc == 0) {
        rc = CR_ENOTFOUND;
    }
    cr_stmt_free(st);
    st = NULL;
    if (rc)
        goto out;
    if (!account_id || !profile_id || !content) {
        rc = CR_ENOTFOUND;
        goto out;
    }
    if ((rc = cr_schema_load(s, "profile", &profile, err)) ||
        (rc = cr__delivery_campaign(s, id, &campaign, err)) ||
        (rc = cr_account_get_id(s, account_id, 0, &a, err)))
        goto out;
    have_account = 1;
    struct cr_email_opts o = {id, label, 0, clock, campaign, options, 1};
    if ((rc = cr_email_channel_open(s, content, &a, &profile, &o, &ch, err)))
        goto out;
    struct cr_buf sql = CR_BUF_INIT(0);
    cr_buf_puts(&sql, "SELECT ");
    cr__delivery_profile_columns(&sql, &profile);
    cr_buf_puts(&sql, " FROM profile p WHERE p.id = ?");
    rc = cr_stmt_prepare(s, sql.data, &st, err);
    cr_buf_release(&sql);
    if (rc)
        goto out;
    cr_stmt_bind_int64(st, 1, profile_id);
    if ((rc = cr_stmt_step(st, err)) == 1) {
        const char **row = calloc(profile.ncols + 1, sizeof *row);
        for (size_t i = 0; i < profile.ncols; i++)
            row[i] = cr_stmt_text(st, (int)i);
        rc = cr_email_render_page(ch, row, log_id, out, err);
        free(row);
    } else if (rc == 0) {
        rc = CR_ENOTFOUND;
    }
out:
    cr_stmt_free(st);
    cr_email_channel_close(ch);
    if (have_account)
        cr_account_release(&a);
    cr_schema_release(&profile);
    json_decref(content);
    json_decref(options);
    json_decref(campaign);
    free(label);
    return rc;
}
