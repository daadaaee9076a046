/*
 * testdb.c - fresh databases for tests (see testdb.h)
 */
#include "testdb.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "core/buf.h"
#include "core/mem.h"
#include "store/migrate.h"

#define MAX_OPEN 64

static struct {
    struct cr_store *s;
    char *url;
} open_dbs[MAX_OPEN];

static char *pg_admin_url(void)
{
    const char *file = getenv("CRIER_TEST_PG_FILE");
    char line[512];
    FILE *f;
    size_t n;
    if (!file || !*file)
        return NULL;
    f = fopen(file, "r");
    if (!f)
        return NULL;
    if (!fgets(line, sizeof line, f)) {
        fclose(f);
        return NULL;
    }
    fclose(f);
    n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    return cr_xstrdup(line);
}

int testdb_have_pg(void)
{
    char *u = pg_admin_url();
    free(u);
    return u != NULL;
}

const char *testdb_dialect_name(enum cr_dialect d)
{
    return d == CR_DIALECT_SQLITE ? "sqlite" : "postgres";
}

static void pg_admin(const char *admin, const char *sql)
{
    PGconn *c = PQconnectdb(admin);
    PGresult *r;
    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("cannot connect to the test cluster %s: %s", admin, PQerrorMessage(c));
    r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        fail_msg("%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    PQfinish(c);
}

char *testdb_new_url(enum cr_dialect d)
{
    static unsigned counter;
    struct cr_buf b = CR_BUF_INIT(0);
    if (d == CR_DIALECT_SQLITE) {
        char tmpl[] = "/tmp/crier-test-XXXXXX";
        if (!mkdtemp(tmpl))
            fail_msg("mkdtemp failed");
        cr_buf_printf(&b, "%s/test.db", tmpl);
    } else {
        char *admin = pg_admin_url(), name[64], sql[128];
        const char *slash;
        if (!admin)
            fail_msg("no PostgreSQL test cluster (CRIER_TEST_PG_FILE is not set; run via ctest)");
        snprintf(name, sizeof name, "t_%d_%u", (int)getpid(), ++counter);
        snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
        pg_admin(admin, sql);
        slash = strrchr(admin, '/');
        cr_buf_append(&b, admin, (size_t)(slash - admin + 1));
        cr_buf_puts(&b, name);
        free(admin);
    }
    return cr_buf_detach(&b, NULL);
}

void testdb_drop_url(char *url)
{
    if (!url)
        return;
    if (strncmp(url, "postgres", 8) == 0) {
        char *admin = pg_admin_url(), sql[160];
        const char *name = strrchr(url, '/') + 1;
        if (admin) {
            snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
            pg_admin(admin, sql);
            free(admin);
        }
    } else {
        char *dir = cr_xstrdup(url), *slash = strrchr(dir, '/');
        char path[4200];
        const char *suffix[] = {"", "-wal", "-shm"};
        for (int i = 0; i < 3; i++) {
            snprintf(path, sizeof path, "%s%s", url, suffix[i]);
            unlink(path);
        }
        if (slash) {
            *slash = '\0';
            rmdir(dir);
        }
        free(dir);
    }
    free(url);
}

struct cr_store *testdb_open(enum cr_dialect d)
{
    struct cr_err err = CR_ERR_INIT;
    struct cr_store *s;
    char *url = testdb_new_url(d);
    int from, to;
    if (cr_store_open(url, &s, &err))
        fail_msg("open %s: %s", url, cr_err_msg(&err));
    if (cr_store_migrate(s, &from, &to, &err))
        fail_msg("migrate %s: %s", url, cr_err_msg(&err));
    for (int i = 0; i < MAX_OPEN; i++)
        if (!open_dbs[i].s) {
            open_dbs[i].s = s;
            open_dbs[i].url = url;
            return s;
        }
    fail_msg("too many open test databases");
    return NULL;
}

const char *testdb_url(struct cr_store *s)
{
    for (int i = 0; i < MAX_OPEN; i++)
        if (open_dbs[i].s == s)
            return open_dbs[i].url;
    return NULL;
}

void testdb_close(struct cr_store *s)
{
    for (int i = 0; i < MAX_OPEN; i++)
        if (open_dbs[i].s == s) {
            cr_store_close(s);
            testdb_drop_url(open_dbs[i].url);
            open_dbs[i].s = NULL;
            open_dbs[i].url = NULL;
            return;
        }
    cr_store_close(s);
}
