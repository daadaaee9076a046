/*
 * log.c - levelled logging to stderr (text or JSON lines)
 */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

#include "core/buf.h"
#include "core/json_esc.h"

int cr_log_level = CR_LOG_WARN;
int cr_log_json = 0;
FILE *cr_log_stream = NULL;

static const char *const level_names[] = {"error", "warn", "info", "debug", "trace"};

int cr_log_level_parse(const char *name)
{
    for (size_t i = 0; i < sizeof level_names / sizeof *level_names; i++)
        if (strcasecmp(name, level_names[i]) == 0)
            return (int)i;
    return -1;
}

const char *cr_log_level_name(int level)
{
    if (level < 0 || level > CR_LOG_TRACE)
        return "?";
    return level_names[level];
}

void cr_log_init_from_env(void)
{
    const char *lvl = getenv("CRIER_LOG");
    const char *json = getenv("CRIER_LOG_JSON");
    if (lvl && *lvl) {
        int l = cr_log_level_parse(lvl);
        if (l >= 0)
            cr_log_level = l;
    }
    if (json && strcmp(json, "1") == 0)
        cr_log_json = 1;
}

void cr_log_emit(int level, const struct cr_log_ctx *ctx, const char *fmt, ...)
{
    char msg[2048], stamp[96];
    struct timeval tv;
    struct tm tm;
    struct cr_buf line = CR_BUF_INIT(0);
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (int)(tv.tv_usec / 1000));
    if (cr_log_json) {
        cr_buf_printf(&line, "{\"time\":\"%s\",\"level\":\"%s\",\"msg\":", stamp,
                      cr_log_level_name(level));
        cr_json_escape(&line, msg, strlen(msg));
        if (ctx && ctx->action) {
            cr_buf_puts(&line, ",\"action\":");
            cr_json_escape(&line, ctx->action, strlen(ctx->action));
        }
        if (ctx && ctx->delivery_id)
            cr_buf_printf(&line, ",\"delivery\":%lld", ctx->delivery_id);
        if (ctx && ctx->run_id)
            cr_buf_printf(&line, ",\"run\":%lld", ctx->run_id);
        cr_buf_puts(&line, "}\n");
    } else {
        cr_buf_printf(&line, "%s %-5s %s", stamp, cr_log_level_name(level), msg);
        if (ctx && ctx->action)
            cr_buf_printf(&line, " while %s", ctx->action);
        if (ctx && ctx->delivery_id)
            cr_buf_printf(&line, " [delivery %lld]", ctx->delivery_id);
        if (ctx && ctx->run_id)
            cr_buf_printf(&line, " [run %lld]", ctx->run_id);
        cr_buf_putc(&line, '\n');
    }
    /* One write per line, so concurrent workers do not interleave within a line. */
    fwrite(line.data, 1, line.len, cr_log_stream ? cr_log_stream : stderr);
    cr_buf_release(&line);
}
