/*
 * sqlite_fn.c - SQL functions registered on every SQLite connection
 *
 * SQLite lacks a few functions PostgreSQL has; crier's generated SQL may call these names on
 * SQLite and the built-in ones on PostgreSQL. Each is deterministic and NULL in, NULL out.
 */
#include "store/sqlite_fn.h"

#include <string.h>

#include "core/datetime.h"

/* cr_age_years(date_text, today_text): whole years between a date and today, as
 * PostgreSQL's date_part('year', age(today, d)) gives. */
static void fn_age_years(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const char *d, *t;
    int64_t dd, td;
    int dy, dm, dday, ty, tm, tday, years;
    (void)argc;
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL || sqlite3_value_type(argv[1]) == SQLITE_NULL)
        return;
    d = (const char *)sqlite3_value_text(argv[0]);
    t = (const char *)sqlite3_value_text(argv[1]);
    if (!d || !t || strlen(d) < 10 || strlen(t) < 10)
        return;
    if (cr_date_parse(d, 10, &dd, NULL) || cr_date_parse(t, 10, &td, NULL))
        return;
    cr_civil_from_days(dd, &dy, &dm, &dday);
    cr_civil_from_days(td, &ty, &tm, &tday);
    years = ty - dy;
    if (tm < dm || (tm == dm && tday < dday))
        years--;
    sqlite3_result_int(ctx, years);
}

int cr__sqlite_register_functions(sqlite3 *db, struct cr_err *err)
{
    int rc = sqlite3_create_function(db, "cr_age_years", 2,
                                     SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
                                     NULL, fn_age_years, NULL, NULL);
    if (rc != SQLITE_OK)
        return cr_err_set(err, CR_ESTORE, "sqlite: cannot register functions: %s",
                          sqlite3_errmsg(db));
    return 0;
}
