/* Internal to src/serve: the server object shared by server.c (HTTP),
 * serve.c (start-up, reloads) and the write API. */
#ifndef TRIBE_SERVE_SERVER_H
#define TRIBE_SERVE_SERVER_H

#include "auth.h"

#include <pthread.h>

/* Deferred (slow) requests running at once; more get 429. */
#define TRIBE_SERVE_MAX_WORKERS 16

struct MHD_Daemon;
typedef struct tribe_writes tribe_writes;

struct tribe_server {
    tribe_serve_cfg cfg;
    char *tls_cert, *tls_key;     /* PEM text */
    struct MHD_Daemon *daemon;
    int port;                     /* the bound port */
    pthread_mutex_t lock;         /* cur */
    tribe_snap *cur;
    tribe_auth *auth;
    tribe_metrics *metrics;
    tribe_writes *writes;         /* drafts, campaign jobs, audit log (write.c) */
    atomic_int workers;           /* deferred requests running */
};

tribe_status tribe_server_start(tribe_server *srv);
void tribe_server_stop(tribe_server *srv);

/* write.c */
tribe_status tribe_writes_create(tribe_server *srv, tribe_writes **out);
void tribe_writes_destroy(tribe_writes **w);

#endif
