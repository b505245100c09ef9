/* Progress and diagnostics on stderr, prefixed with time and rank. */
#include "tribe/core.h"

#include <stdarg.h>
#include <time.h>

static int log_rank;
static tribe_log_level log_level = TRIBE_LOG_INFO;
static int log_all_ranks;

void tribe_log_setup(int rank, tribe_log_level level, int all_ranks)
{
    log_rank = rank;
    log_level = level;
    log_all_ranks = all_ranks;
}

void tribe_log(tribe_log_level level, const char *fmt, ...)
{
    static const char *tag[] = {"error", "warn", "info", "debug"};
    if (level > log_level)
        return;
    /* Warnings and errors come from every rank; chatter only from rank 0. */
    if (level >= TRIBE_LOG_INFO && log_rank != 0 && !log_all_ranks)
        return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    tribe_strip_controls(msg, 0); /* one log line, whatever a persona name or an LLM's refusal holds */
    time_t now = time(NULL);
    struct tm tmv;
    char ts[32];
    strftime(ts, sizeof ts, "%H:%M:%S", localtime_r(&now, &tmv));
    fprintf(stderr, "tribe[%d] %s %s: %s\n", log_rank, ts, tag[level], msg);
}
