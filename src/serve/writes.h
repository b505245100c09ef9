/* Internal to src/serve: state of the write API (write.c: personas and the
 * audit log; campaigns.c: previews and sends). */
#ifndef TRIBE_SERVE_WRITES_H
#define TRIBE_SERVE_WRITES_H

#include "server.h"

#include "tribe/campaign.h"

#define TRIBE_SERVE_DRAFTS 64
#define TRIBE_SERVE_JOBS 256

/* A refined persona not yet saved. */
typedef struct {
    char id[33];
    char gen[17];            /* the run it was refined on */
    int64_t segment_id;
    char *persona;           /* JSON object text */
    char *inputs;            /* JSON object text */
    double expires;          /* tribe_now(); 0 = free */
} tribe_draft;

/* A campaign send started from the API. */
typedef struct {
    char id[33];
    char run_id[256];
    int64_t segment_id;
    char segment_name[64];
    char channel[8];
    char campaign[128];
    int live;
    atomic_llong done, total;
    atomic_int state;        /* 0 running, 1 done, 2 failed */
    tribe_send_stats stats;  /* valid once state != 0 */
    char error[512];
    char who[24];
    double started;
} tribe_cjob;

struct tribe_writes {
    tribe_server *srv;
    pthread_mutex_t lock;    /* drafts, jobs, the audit log, version numbers */
    int audit_fd;
    char *versions_dir;      /* <output>/personas */
    char *outbox;
    tribe_contacts *contacts; /* NULL: campaigns off */
    tribe_draft drafts[TRIBE_SERVE_DRAFTS];
    tribe_cjob *jobs[TRIBE_SERVE_JOBS];
    int n_jobs;
    atomic_int sending;      /* campaign threads running */
    pthread_mutex_t send_lock; /* one send at a time: they append to one outbox */
};

/* Appends one line to the audit log: time, who, action, run, segment and the
 * fields of detail (a JSON object text, or NULL). Thread-safe. */
void tribe_audit(tribe_writes *w, const char *who, const char *action, const char *run_id, int64_t segment_id,
                 const char *detail);
/* The persona segment `sid` has in run s: the newest saved version refined
 * on that run, else the run's own (JSON object text, caller frees; NULL when
 * none). *version gets its number (0 = the run's). */
char *tribe_writes_persona(tribe_writes *w, const tribe_snap *s, int64_t sid, int *version);
/* The segment and JSON body of a write request, or a problem in r (0). */
int tribe_writes_segment(const tribe_req *q, tribe_snap *s, const char *id, size_t len, tribe_reply *r);
/* campaigns.c: POST /v1/campaigns:preview, POST /v1/campaigns, GET /v1/campaigns/{id}. */
int tribe_api_campaigns(const tribe_req *q, tribe_snap *s, tribe_reply *r);
void tribe_campaigns_wait(tribe_writes *w);

#endif
