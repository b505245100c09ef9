/* Status codes and the per-thread error message. */
#include "tribe/core.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

static _Thread_local char errmsg[1024];

static void vrecord(const char *fmt, va_list ap, const char *suffix)
{
    int n = vsnprintf(errmsg, sizeof errmsg, fmt, ap);
    if (n < 0) {
        errmsg[0] = '\0';
        return;
    }
    if (suffix && (size_t)n < sizeof errmsg)
        snprintf(errmsg + n, sizeof errmsg - (size_t)n, ": %s", suffix);
    tribe_strip_controls(errmsg, 0); /* a message is one line: nothing in it may move a terminal or forge a line */
}

tribe_status tribe_fail(tribe_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vrecord(fmt, ap, NULL);
    va_end(ap);
    return st;
}

tribe_status tribe_fail_errno(tribe_status st, const char *fmt, ...)
{
    const char *why = strerror(errno);
    va_list ap;
    va_start(ap, fmt);
    vrecord(fmt, ap, why);
    va_end(ap);
    return st;
}

const char *tribe_errmsg(void) { return errmsg; }

void tribe_set_errmsg(const char *msg)
{
    snprintf(errmsg, sizeof errmsg, "%s", msg ? msg : "");
    tribe_strip_controls(errmsg, 0);
}

void tribe_clear_error(void) { errmsg[0] = '\0'; }

const char *tribe_status_name(tribe_status st)
{
    switch (st) {
    case TRIBE_OK: return "ok";
    case TRIBE_ERR_USAGE: return "usage";
    case TRIBE_ERR_INPUT: return "input";
    case TRIBE_ERR_IO: return "io";
    case TRIBE_ERR_ENV: return "environment";
    case TRIBE_ERR_NOMEM: return "out of memory";
    case TRIBE_ERR_INTERNAL: return "internal";
    }
    return "unknown";
}

/* Exit codes by class, documented in docs/cli.md:
 * 0 ok, 2 usage (command line, job spec), 3 bad input data,
 * 4 environment (missing/unwritable file, HDF5, MPI, network, memory),
 * 5 internal error. */
int tribe_status_exit_code(tribe_status st)
{
    switch (st) {
    case TRIBE_OK: return 0;
    case TRIBE_ERR_USAGE: return 2;
    case TRIBE_ERR_INPUT: return 3;
    case TRIBE_ERR_IO:
    case TRIBE_ERR_ENV:
    case TRIBE_ERR_NOMEM: return 4;
    case TRIBE_ERR_INTERNAL: return 5;
    }
    return 5;
}
