/*
 * pq_load.h - libpq, loaded when the first PostgreSQL store opens (store/ only)
 *
 * crier links libpq at run time with dlopen() rather than at start-up: libpq pulls in about
 * twenty libraries (TLS, Kerberos, LDAP) whose loading would cost every crier command, most of
 * which run on SQLite, several milliseconds. pg.c calls libpq through this table, under the
 * usual names (the macros below), so it reads as ordinary libpq code.
 */
#ifndef CR_PQ_LOAD_H
#define CR_PQ_LOAD_H

#include <libpq-fe.h>

#include "core/err.h"

/* ORDER: the X-macro is the table and the names to look up. */
#define CR_PQ_FUNCTIONS(X)                                                                   \
    X(PGconn *, PQconnectdb, (const char *))                                                 \
    X(ConnStatusType, PQstatus, (const PGconn *))                                            \
    X(char *, PQerrorMessage, (const PGconn *))                                              \
    X(void, PQfinish, (PGconn *))                                                            \
    X(PQnoticeProcessor, PQsetNoticeProcessor, (PGconn *, PQnoticeProcessor, void *))        \
    X(PGresult *, PQexec, (PGconn *, const char *))                                          \
    X(ExecStatusType, PQresultStatus, (const PGresult *))                                    \
    X(void, PQclear, (PGresult *))                                                           \
    X(char *, PQresultErrorMessage, (const PGresult *))                                      \
    X(char *, PQresultErrorField, (const PGresult *, int))                                   \
    X(PGresult *, PQprepare, (PGconn *, const char *, const char *, int, const Oid *))       \
    X(PGresult *, PQexecPrepared,                                                            \
      (PGconn *, const char *, int, const char *const *, const int *, const int *, int))    \
    X(PGresult *, PQexecParams,                                                              \
      (PGconn *, const char *, int, const Oid *, const char *const *, const int *,          \
       const int *, int))                                                                    \
    X(int, PQntuples, (const PGresult *))                                                    \
    X(int, PQnfields, (const PGresult *))                                                    \
    X(char *, PQfname, (const PGresult *, int))                                              \
    X(int, PQgetisnull, (const PGresult *, int, int))                                        \
    X(char *, PQgetvalue, (const PGresult *, int, int))

struct cr_pq {
#define X(ret, name, args) ret(*name) args;
    CR_PQ_FUNCTIONS(X)
#undef X
};

extern struct cr_pq cr__pq;

/* Loads libpq once; 0, or CR_EUNSUPPORTED with a message saying what is missing. */
int cr__pq_load(struct cr_err *err);

#ifndef CR_PQ_LOAD_C
#define PQconnectdb cr__pq.PQconnectdb
#define PQstatus cr__pq.PQstatus
#define PQerrorMessage cr__pq.PQerrorMessage
#define PQfinish cr__pq.PQfinish
#define PQsetNoticeProcessor cr__pq.PQsetNoticeProcessor
#define PQexec cr__pq.PQexec
#define PQresultStatus cr__pq.PQresultStatus
#define PQclear cr__pq.PQclear
#define PQresultErrorMessage cr__pq.PQresultErrorMessage
#define PQresultErrorField cr__pq.PQresultErrorField
#define PQprepare cr__pq.PQprepare
#define PQexecPrepared cr__pq.PQexecPrepared
#define PQexecParams cr__pq.PQexecParams
#define PQntuples cr__pq.PQntuples
#define PQnfields cr__pq.PQnfields
#define PQfname cr__pq.PQfname
#define PQgetisnull cr__pq.PQgetisnull
#define PQgetvalue cr__pq.PQgetvalue
#endif

#endif
