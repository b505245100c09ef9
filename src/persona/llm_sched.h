/* Internal to src/persona: the request scheduler shared by the persona
 * requests (llm.c) and the image requests (llm_image.c). Rank 0 only.
 *
 * One task per segment. A task waits (until ready_at), is in flight, is done
 * or has failed; `reason` always says why it is not done yet. The scheduler
 * keeps at most max_concurrency requests in flight, applies the common HTTP
 * rules (transport errors, 5xx, 408 and 429 other than insufficient_quota are
 * retried with tribe_llm_backoff_s, anything else fails at once) and hands
 * every 200 reply to the caller's on_ok; one deadline bounds everything. */
#ifndef TRIBE_PERSONA_LLM_SCHED_H
#define TRIBE_PERSONA_LLM_SCHED_H

#include "tribe/core.h"

enum { SCHED_WAIT = 0, SCHED_FLIGHT, SCHED_DONE, SCHED_FAILED };

typedef struct {
    int state;
    int failures;     /* retryable failures so far */
    int jitter_key;   /* the segment index: keys the backoff jitter */
    double ready_at;
    char reason[200]; /* the last failure, then why the task gave up */
} llm_task;

typedef struct llm_sched llm_sched;
struct llm_sched {
    const char *url;
    const char *key;        /* bearer token or NULL */
    double timeout_s;       /* per request */
    double deadline;        /* absolute (tribe_now clock) */
    double deadline_s;      /* the configured value, for the message */
    int max_concurrency;
    int retries;
    double backoff_s;
    uint64_t seed;
    void *ud;
    /* The request body of task i (caller frees). NOMEM only; other errors
     * fail the task. */
    tribe_status (*body)(const llm_sched *s, int i, char **out);
    /* A 200 reply of task i: set the task's state (SCHED_DONE, or
     * llm_sched_retry for a retryable problem, SCHED_FAILED otherwise).
     * Returns NOMEM only. */
    tribe_status (*on_ok)(const llm_sched *s, int i, const char *body, double now);
    /* A 400 reply: returns 1 when the caller changed the request so that
     * asking again makes sense (costs no retry), 0 to fail the task. May be
     * NULL. */
    int (*on_400)(const llm_sched *s, int i, const char *body);
    llm_task *tasks;
    int n;
};

/* Drives every SCHED_WAIT task until none is waiting or in flight. *sent
 * counts the requests made. Returns NOMEM or what a callback returned; a
 * failure of curl itself only fails the open tasks. */
tribe_status llm_sched_run(llm_sched *s, int *sent);

/* Counts a retryable failure: the task waits for its backoff (retry_after_s
 * from the server when >= 0), or fails when the retries or the deadline are
 * used up. */
void llm_sched_retry(const llm_sched *s, llm_task *t, double retry_after_s, double now);

#endif
