/*
 * campaign.h - campaigns: named groups of workflows and deliveries, with dates and a status
 *
 * A campaign has a name (its key: 1 to 100 characters among letters, digits, '.', '_' and
 * '-', starting with a letter or digit and not only digits, so that a name never reads as an
 * id), an optional label (free text, at most 500 bytes of UTF-8), and optional start and end
 * instants (UTC; 0 means unset; when both are set the end must be after the start).
 *
 * Status is computed when a campaign is read, from its dates and the clock passed in, unless
 * the campaign was closed:
 *   closed    the stored status is 'closed' (cr_campaign_close, `crier campaign close`);
 *   planned   start_at is set and now < start_at;
 *   finished  end_at is set and now >= end_at (the end instant itself is finished);
 *   running   otherwise: started and not ended, or no dates at all.
 * The column holds only 'open' or 'closed'; planned/running/finished are never stored, so a
 * campaign moves from planned to running to finished as the (virtual) clock moves.
 *
 * Workflows and deliveries belong to a campaign through their campaign_id column.
 *
 * None of these functions begins or commits a transaction: each one is a single statement
 * (or a read followed by one idempotent insert for cr_campaign_ensure), so all of them may
 * run inside a transaction the caller holds. clk may be NULL (the real time).
 */
#ifndef CR_CAMPAIGN_H
#define CR_CAMPAIGN_H

#include <stdint.h>

#include "core/clock.h"
#include "core/datetime.h"
#include "core/err.h"
#include "store/store.h"

#define CR_CAMPAIGN_NAME_MAX 100
#define CR_CAMPAIGN_LABEL_MAX 500

struct cr_campaign {
    int64_t id;
    char *name;                 /* malloc'd */
    char *label;                /* malloc'd, NULL when unset */
    cr_time_t start_at, end_at; /* 0 = unset */
    char status[16];            /* computed: "planned", "running", "finished" or "closed" */
    cr_time_t created_at;
};

/* A workflow or delivery that belongs to a campaign, as cr_campaign_workflows() and
 * cr_campaign_deliveries() pass them. Strings live until the callback returns. */
struct cr_campaign_member {
    int64_t id;
    const char *name;    /* workflow name, or delivery label (NULL when it has none) */
    const char *channel; /* deliveries only (NULL for workflows) */
    const char *status;  /* as stored in the workflow or delivery row */
};

/* 1 if name follows the rules above. */
int cr_campaign_name_ok(const char *name);
/* The status a campaign with these dates and stored status has at now. */
const char *cr_campaign_status_at(const char *stored, cr_time_t start_at, cr_time_t end_at,
                                  cr_time_t now);

/* Creates a campaign (label may be NULL or "" for none). CR_EEXISTS if the name is taken;
 * CR_EINVAL for a bad name or label, or an end not after the start. */
int cr_campaign_add(struct cr_store *s, struct cr_clock *clk, const char *name, const char *label,
                    cr_time_t start_at, cr_time_t end_at, int64_t *id,
                    struct cr_err *err) CR_WARN_UNUSED;
/* Returns the id of the campaign with this name, creating it (no label, no dates, status
 * running) if there is none. A closed campaign is returned as it is. Safe to call inside the
 * caller's transaction and from concurrent processes. CR_EINVAL for a bad name. */
int cr_campaign_ensure(struct cr_store *s, struct cr_clock *clk, const char *name, int64_t *id,
                       struct cr_err *err) CR_WARN_UNUSED;
/* Finds a campaign by name, or by id when name_or_id is all digits. CR_ENOTFOUND ("no
 * campaign named 'x'" / "no campaign with id N"). out is released by cr_campaign_release(). */
int cr_campaign_get(struct cr_store *s, struct cr_clock *clk, const char *name_or_id,
                    struct cr_campaign *out, struct cr_err *err) CR_WARN_UNUSED;
void cr_campaign_release(struct cr_campaign *c);
/* Calls each for every campaign, ordered by id; c lives until each returns. A non-zero return
 * from each stops the walk and is returned. */
int cr_campaign_list(struct cr_store *s, struct cr_clock *clk,
                     int (*each)(void *data, const struct cr_campaign *c), void *data,
                     struct cr_err *err) CR_WARN_UNUSED;
/* Sets the stored status to 'closed' (closing a closed campaign changes nothing). Closing
 * records that the campaign is over; it does not stop its workflows or deliveries. */
int cr_campaign_close(struct cr_store *s, struct cr_clock *clk, int64_t id,
                      struct cr_err *err) CR_WARN_UNUSED;

/* The workflows of a campaign, ordered by id. Same stopping rule as cr_campaign_list. */
int cr_campaign_workflows(struct cr_store *s, int64_t campaign_id,
                          int (*each)(void *data, const struct cr_campaign_member *m), void *data,
                          struct cr_err *err) CR_WARN_UNUSED;
/* The deliveries of a campaign, ordered by id. Executions of a recurring delivery (rows with a
 * parent) are left out: they are reported under their parent delivery. */
int cr_campaign_deliveries(struct cr_store *s, int64_t campaign_id,
                           int (*each)(void *data, const struct cr_campaign_member *m), void *data,
                           struct cr_err *err) CR_WARN_UNUSED;

#endif
