/* Progress of long loops on stderr (tribe/core.h, "progress"): one line at
 * most about once a second, and a last line at 100% for a loop that took a
 * second or more. State is one loop at a time, static: a step allocates
 * nothing and costs a branch when progress is off, a clock read when on. */
#include "tribe/core.h"

#include <inttypes.h>
#include <string.h>

static struct {
    int on;
    double interval;          /* seconds between lines, and the shortest loop that gets a last line */
    FILE *out;                /* NULL: stderr */
    double (*clock)(void);    /* NULL: tribe_now */
    const char *stage, *what, *unit;
    int64_t total, done;
    double t0, last;
    int active;
    int depth;                /* loops begun inside the active one: the outermost reports */
} P;

void tribe_progress_setup(int on, double interval, FILE *out, double (*clock)(void))
{
    memset(&P, 0, sizeof P);
    P.on = on;
    P.interval = interval >= 0 ? interval : 1.0;
    P.out = out;
    P.clock = clock;
}

int tribe_progress_on(void)
{
    return P.on;
}

static double now(void)
{
    return P.clock ? P.clock() : tribe_now();
}

/* "12.3 s" below a minute and a half, "2 min 05 s" above. */
static int fmt_seconds(char *buf, size_t cap, double s)
{
    if (!(s >= 0))
        s = 0;
    if (s < 90)
        return snprintf(buf, cap, "%.1f s", s);
    long t = (long)(s + 0.5);
    return snprintf(buf, cap, "%ld min %02ld s", t / 60, t % 60);
}

/* "~15 s" below a minute and a half, "~4 min" above (an estimate: whole units). */
static int fmt_left(char *buf, size_t cap, double s)
{
    if (s < 1)
        return snprintf(buf, cap, "<1 s");
    if (s < 90)
        return snprintf(buf, cap, "~%.0f s", s);
    return snprintf(buf, cap, "~%.0f min", s / 60);
}

int tribe_progress_format(char *buf, size_t cap, const char *stage, const char *what, const char *unit, int64_t done,
                          int64_t total, double elapsed, int last)
{
    char el[32], left[32];
    int n = snprintf(buf, cap, "progress: %s%s%s", stage ? stage : "", stage && what ? ": " : "", what ? what : "");
    size_t used = n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap;
    fmt_seconds(el, sizeof el, elapsed);
    if (total <= 0 && last)
        return n + snprintf(buf + used, cap - used, " 100%% (%" PRId64 " %s) in %s", done, unit, el);
    if (total <= 0) /* unknown amount: the count so far, no share, no estimate */
        return n + snprintf(buf + used, cap - used, " (%" PRId64 " %s) %s elapsed", done, unit, el);
    if (last)
        return n + snprintf(buf + used, cap - used, " 100%% (%s %" PRId64 "/%" PRId64 "%s) in %s", unit, done, total,
                            done < total ? ", stopped early" : "", el);
    int64_t pct = done <= 0 ? 0 : done >= total ? 99 : (int64_t)((double)done * 100.0 / (double)total);
    if (pct > 99)
        pct = 99; /* 100% is the last line's */
    n += snprintf(buf + used, cap - used, " %" PRId64 "%% (%s %" PRId64 "/%" PRId64 ") %s elapsed", pct, unit, done,
                  total, el);
    used = n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap;
    if (done > 0 && done < total) {
        fmt_left(left, sizeof left, elapsed * (double)(total - done) / (double)done);
        n += snprintf(buf + used, cap - used, ", %s left", left);
    }
    return n;
}

static void emit(double t, int last)
{
    char line[256];
    tribe_progress_format(line, sizeof line, P.stage, P.what, P.unit, P.done, P.total, t - P.t0, last);
    tribe_strip_controls(line, 0);
    FILE *f = P.out ? P.out : stderr;
    fprintf(f, "%s\n", line);
    fflush(f);
}

void tribe_progress_stage(const char *stage)
{
    P.stage = stage;
    P.active = 0;
    P.depth = 0;
}

void tribe_progress_begin(const char *what, const char *unit, int64_t total)
{
    if (!P.on)
        return;
    if (P.active) {
        P.depth++;
        return;
    }
    P.what = what;
    P.unit = unit;
    P.total = total;
    P.done = 0;
    P.t0 = P.last = now();
    P.active = 1;
}

void tribe_progress_step(int64_t done)
{
    if (!P.active || P.depth > 0)
        return;
    P.done = done;
    double t = now();
    if (t - P.last < P.interval)
        return;
    P.last = t;
    emit(t, 0);
}

void tribe_progress_end(void)
{
    if (!P.active)
        return;
    if (P.depth > 0) {
        P.depth--;
        return;
    }
    P.active = 0;
    double t = now();
    if (t - P.t0 >= P.interval)
        emit(t, 1);
}
