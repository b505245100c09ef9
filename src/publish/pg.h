/* Internal to src/publish: one PostgreSQL connection over libpq, the only
 * place that includes <libpq-fe.h>.
 *
 * Usage:
 *     tribe_pg *pg = NULL;
 *     TRIBE_TRY(tribe_pg_connect("host=db dbname=crm", &pg));   // "" or NULL: the PG* variables
 *     TRIBE_TRY(tribe_pg_exec(pg, "BEGIN", NULL, NULL));
 *     TRIBE_TRY(tribe_pg_copy_begin(pg, "COPY s.t FROM STDIN"));
 *     TRIBE_TRY(tribe_pg_copy_put(pg, buf, n));                  // any number of times
 *     TRIBE_TRY(tribe_pg_copy_end(pg, NULL));                    // or a reason to abort it
 *   cleanup:
 *     tribe_pg_close(&pg);                                        // rolls back what was not committed
 *
 * Errors carry libpq's message (and the SQLSTATE, when the server sent one):
 * ENV for a connection that fails or breaks and for what the server refuses
 * for reasons of its own (permissions, locks, resources); INPUT when the
 * server rejects the run's data (SQLSTATE class 22 data exception, 23
 * integrity constraint violation). The conninfo is never part of a message
 * (it may hold a password). Not collective: one process holds the connection.
 */
#ifndef TRIBE_PUBLISH_PG_H
#define TRIBE_PUBLISH_PG_H

#include "tribe/core.h"

typedef struct tribe_pg tribe_pg;

/* Connects (conninfo: a libpq keyword/value string or a postgresql:// URI;
 * NULL or "" takes everything from the PG* environment variables and
 * ~/.pgpass) with client_encoding UTF8. ENV with libpq's message. */
tribe_status tribe_pg_connect(const char *conninfo, tribe_pg **out);
/* Closes the connection (accepts NULL, sets it to NULL); a transaction still
 * open is rolled back first. */
void tribe_pg_close(tribe_pg **pg);
/* Runs one statement; `param` (NULL: none) is bound as $1 (text). When
 * `value` is not NULL it receives the first column of the first row (a copy
 * the caller frees; NULL for no row or SQL NULL). `what` names the step in
 * messages. */
tribe_status tribe_pg_exec(tribe_pg *pg, const char *what, const char *sql, const char *param, char **value);
/* Starts COPY ... FROM STDIN (sql is the whole COPY statement). */
tribe_status tribe_pg_copy_begin(tribe_pg *pg, const char *what, const char *sql);
/* Sends n bytes of COPY data. A server error that already arrived (a
 * rejected row) is reported here with the server's message. */
tribe_status tribe_pg_copy_put(tribe_pg *pg, const char *buf, size_t n);
/* Ends the COPY: abort NULL finishes it and reports the server's verdict;
 * a reason aborts it (the server discards the rows) and returns TRIBE_OK
 * unless the connection broke. */
tribe_status tribe_pg_copy_end(tribe_pg *pg, const char *abort_reason);
/* 1 while the connection is usable and inside a transaction block. */
int tribe_pg_in_transaction(const tribe_pg *pg);
/* 1 while the connection is usable (not broken). */
int tribe_pg_connected(const tribe_pg *pg);

#endif
