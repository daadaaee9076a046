/*
 * log.h - levelled logging to stderr, as text or as JSON lines
 *
 * cr_log() checks the level before formatting anything. A context names what is being done
 * ("while preparing delivery") and the ids involved; it is printed with the message.
 * Never pass secrets to these functions.
 */
#ifndef CR_LOG_H
#define CR_LOG_H

#include "core/err.h"

enum cr_log_level { CR_LOG_ERROR, CR_LOG_WARN, CR_LOG_INFO, CR_LOG_DEBUG, CR_LOG_TRACE };

struct cr_log_ctx {
    const char *action; /* "preparing delivery"; printed as "while preparing delivery" */
    long long delivery_id, run_id;
};

#include <stdio.h>

extern int cr_log_level;
extern int cr_log_json;
extern FILE *cr_log_stream; /* NULL = stderr */

#define cr_log(lvl, ctx, ...)                       \
    do {                                            \
        if ((int)(lvl) <= cr_log_level)             \
            cr_log_emit((lvl), (ctx), __VA_ARGS__); \
    } while (0)
#define cr_log_error(...) cr_log(CR_LOG_ERROR, NULL, __VA_ARGS__)
#define cr_log_warn(...) cr_log(CR_LOG_WARN, NULL, __VA_ARGS__)
#define cr_log_info(...) cr_log(CR_LOG_INFO, NULL, __VA_ARGS__)
#define cr_log_debug(...) cr_log(CR_LOG_DEBUG, NULL, __VA_ARGS__)

void cr_log_emit(int level, const struct cr_log_ctx *ctx, const char *fmt, ...) CR_PRINTF(3, 4);
/* "error", "warn", "info", "debug", "trace"; returns -1 if unknown. */
int cr_log_level_parse(const char *name);
const char *cr_log_level_name(int level);
/* Reads CRIER_LOG (a level) and CRIER_LOG_JSON (1) from the environment. */
void cr_log_init_from_env(void);

#endif
