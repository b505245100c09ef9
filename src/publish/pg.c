/* One PostgreSQL connection over libpq (pg.h): statements, COPY FROM STDIN,
 * and libpq's errors mapped to tribe's status classes. */
#include "pg.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

struct tribe_pg {
    PGconn *conn;
    char what[96]; /* the step under way, for messages */
};

/* libpq's connection message without its trailing newline. */
static const char *conn_message(const PGconn *conn)
{
    static _Thread_local char msg[768];
    snprintf(msg, sizeof msg, "%s", conn ? PQerrorMessage(conn) : "out of memory");
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    return msg[0] ? msg : "connection lost";
}

/* The status class of a server error: the run's data rejected (class 22
 * data exception, 23 integrity constraint) is INPUT; everything else about
 * the server (connection class 08, permissions, locks, resources, a
 * shutdown) is the environment. */
static tribe_status class_of(const char *sqlstate)
{
    if (sqlstate && (strncmp(sqlstate, "22", 2) == 0 || strncmp(sqlstate, "23", 2) == 0))
        return TRIBE_ERR_INPUT;
    return TRIBE_ERR_ENV;
}

/* Records the error of result r (NULL: the connection's) for step `what`. */
static tribe_status fail_result(tribe_pg *pg, const PGresult *r)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *detail = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL) : NULL;
    const char *context = r ? PQresultErrorField(r, PG_DIAG_CONTEXT) : NULL;
    if (!primary || PQstatus(pg->conn) == CONNECTION_BAD)
        return tribe_fail(TRIBE_ERR_ENV, "PostgreSQL, %s: %s", pg->what, conn_message(pg->conn));
    return tribe_fail(class_of(state), "PostgreSQL, %s: %s%s%s%s%s [SQLSTATE %s]", pg->what, primary,
                      detail ? "; " : "", detail ? detail : "", context ? "; " : "", context ? context : "",
                      state ? state : "?");
}

tribe_status tribe_pg_connect(const char *conninfo, tribe_pg **out)
{
    tribe_status st = TRIBE_OK;
    tribe_pg *pg = NULL;
    /* dbname with expand_dbname = 1 takes a whole conninfo or URI; the
     * other keywords fill what it leaves out (an application_name given
     * there wins over the fallback). */
    const char *const keys[] = {"dbname", "fallback_application_name", "client_encoding", NULL};
    const char *const vals[] = {conninfo && *conninfo ? conninfo : NULL, "tribe publish", "UTF8", NULL};
    TRIBE_TRY(tribe_calloc((void **)&pg, 1, sizeof *pg));
    snprintf(pg->what, sizeof pg->what, "connecting");
    pg->conn = PQconnectdbParams(keys, vals, 1);
    if (!pg->conn || PQstatus(pg->conn) != CONNECTION_OK) {
        st = tribe_fail(pg->conn ? TRIBE_ERR_ENV : TRIBE_ERR_NOMEM, "PostgreSQL, connecting: %s",
                        conn_message(pg->conn));
        goto cleanup;
    }
    *out = pg;
    pg = NULL;
cleanup:
    tribe_pg_close(&pg);
    return st;
}

void tribe_pg_close(tribe_pg **pp)
{
    if (!pp || !*pp)
        return;
    tribe_pg *pg = *pp;
    if (tribe_pg_in_transaction(pg))
        PQclear(PQexec(pg->conn, "ROLLBACK")); /* PQfinish would too, when the server notices */
    PQfinish(pg->conn);
    free(pg);
    *pp = NULL;
}

int tribe_pg_connected(const tribe_pg *pg)
{
    return pg && pg->conn && PQstatus(pg->conn) == CONNECTION_OK;
}

int tribe_pg_in_transaction(const tribe_pg *pg)
{
    if (!tribe_pg_connected(pg))
        return 0;
    PGTransactionStatusType t = PQtransactionStatus(pg->conn);
    return t == PQTRANS_INTRANS || t == PQTRANS_INERROR;
}

tribe_status tribe_pg_exec(tribe_pg *pg, const char *what, const char *sql, const char *param, char **value)
{
    tribe_status st = TRIBE_OK;
    snprintf(pg->what, sizeof pg->what, "%s", what);
    PGresult *r = param ? PQexecParams(pg->conn, sql, 1, NULL, &param, NULL, NULL, 0) : PQexec(pg->conn, sql);
    ExecStatusType s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
        st = fail_result(pg, r);
        goto cleanup;
    }
    if (value) {
        *value = NULL;
        if (s == PGRES_TUPLES_OK && PQntuples(r) > 0 && PQnfields(r) > 0 && !PQgetisnull(r, 0, 0))
            TRIBE_TRY(tribe_strdup(PQgetvalue(r, 0, 0), value));
    }
cleanup:
    PQclear(r);
    return st;
}

tribe_status tribe_pg_copy_begin(tribe_pg *pg, const char *what, const char *sql)
{
    tribe_status st = TRIBE_OK;
    snprintf(pg->what, sizeof pg->what, "%s", what);
    PGresult *r = PQexec(pg->conn, sql);
    if (!r || PQresultStatus(r) != PGRES_COPY_IN)
        st = fail_result(pg, r);
    PQclear(r);
    return st;
}

/* Collects the results that end a COPY: the first error wins. */
static tribe_status copy_results(tribe_pg *pg)
{
    tribe_status st = TRIBE_OK;
    PGresult *r;
    while ((r = PQgetResult(pg->conn))) {
        if (st == TRIBE_OK && PQresultStatus(r) != PGRES_COMMAND_OK)
            st = fail_result(pg, r);
        PQclear(r);
    }
    return st;
}

tribe_status tribe_pg_copy_put(tribe_pg *pg, const char *buf, size_t n)
{
    while (n > 0) {
        int part = n > (1u << 30) ? 1 << 30 : (int)n;
        if (PQputCopyData(pg->conn, buf, part) != 1) {
            /* libpq stops the COPY when the server's error arrives: report that */
            tribe_status st = copy_results(pg);
            return st != TRIBE_OK ? st : tribe_fail(TRIBE_ERR_ENV, "PostgreSQL, %s: %s", pg->what,
                                                    conn_message(pg->conn));
        }
        buf += part;
        n -= (size_t)part;
    }
    return TRIBE_OK;
}

tribe_status tribe_pg_copy_end(tribe_pg *pg, const char *abort_reason)
{
    if (PQputCopyEnd(pg->conn, abort_reason) != 1)
        return tribe_fail(TRIBE_ERR_ENV, "PostgreSQL, %s: %s", pg->what, conn_message(pg->conn));
    tribe_status st = copy_results(pg);
    if (abort_reason && PQstatus(pg->conn) == CONNECTION_OK) {
        tribe_clear_error();
        return TRIBE_OK; /* the server's "COPY from stdin failed: <reason>" is expected */
    }
    return st;
}
