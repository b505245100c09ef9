/* Who may call what (docs/api.md "Authentication and roles"): bearer tokens
 * from a file, compared in constant time through their SHA-256; dashboard
 * sessions (an HttpOnly SameSite=Strict cookie plus a CSRF token); and a
 * token-bucket rate limit per client address. */
#include "auth.h"

#include "tribe/campaign.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define MAX_TOKENS 256
#define MAX_SESSIONS 1024
#define SESSION_SECONDS (12 * 3600)
#define BUCKETS 4096

typedef struct {
    uint8_t hash[32];
    int role;
} token;

typedef struct {
    uint8_t hash[32];   /* of the session id (the cookie) */
    char csrf[65];
    int role;
    double expires;     /* tribe_now() seconds; 0 = free slot */
    char who[24];
} session;

typedef struct {
    double tokens, last;
    uint64_t key;
} bucket;

struct tribe_auth {
    token tok[MAX_TOKENS];
    int n_tok;
    pthread_mutex_t lock;   /* sessions */
    session ses[MAX_SESSIONS];
    pthread_mutex_t rlock[16];
    bucket b[BUCKETS];
    bucket wb[BUCKETS];
    double rate, burst, write_rate;
};

/* 1 when a and b (32 bytes) are equal; time independent of where they differ. */
static int same32(const uint8_t *a, const uint8_t *b)
{
    uint8_t d = 0;
    for (int i = 0; i < 32; i++)
        d |= (uint8_t)(a[i] ^ b[i]);
    return d == 0;
}

static tribe_status parse_line(tribe_auth *a, const char *path, int line, char *s)
{
    char *role = strtok(s, " \t\r\n"), *tk = role ? strtok(NULL, " \t\r\n") : NULL;
    if (!role || *role == '#')
        return TRIBE_OK;
    int r = strcmp(role, "read") == 0 ? TRIBE_ROLE_READ : strcmp(role, "write") == 0 ? TRIBE_ROLE_WRITE : 0;
    if (!r || !tk || strtok(NULL, " \t\r\n"))
        return tribe_fail(TRIBE_ERR_USAGE, "%s:%d: expected 'read TOKEN' or 'write TOKEN'", path, line);
    if (strlen(tk) < 16)
        return tribe_fail(TRIBE_ERR_USAGE, "%s:%d: a token must be at least 16 characters", path, line);
    if (a->n_tok == MAX_TOKENS)
        return tribe_fail(TRIBE_ERR_USAGE, "%s:%d: more than %d tokens", path, line, MAX_TOKENS);
    tribe_sha256(tk, strlen(tk), a->tok[a->n_tok].hash);
    a->tok[a->n_tok++].role = r;
    return TRIBE_OK;
}

tribe_status tribe_auth_create(const char *tokens_path, double rate, double burst, double write_rate,
                               tribe_auth **out)
{
    tribe_status st = TRIBE_OK;
    tribe_auth *a = NULL;
    char *text = NULL, *save = NULL;
    TRIBE_TRY(tribe_calloc((void **)&a, 1, sizeof *a));
    pthread_mutex_init(&a->lock, NULL);
    for (int i = 0; i < 16; i++)
        pthread_mutex_init(&a->rlock[i], NULL);
    a->rate = rate;
    a->burst = burst > 0 ? burst : 2 * rate;
    a->write_rate = write_rate;
    TRIBE_TRY(tribe_read_file(tokens_path, &text, NULL));
    int line = 0;
    for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        line++;
        TRIBE_TRY(parse_line(a, tokens_path, line, l));
    }
    if (a->n_tok == 0)
        st = tribe_fail(TRIBE_ERR_USAGE, "%s: no token ('read TOKEN' or 'write TOKEN' lines)", tokens_path);
cleanup:
    free(text);
    if (st == TRIBE_OK)
        *out = a;
    else
        tribe_auth_destroy(&a);
    return st;
}

void tribe_auth_destroy(tribe_auth **a)
{
    if (!a || !*a)
        return;
    pthread_mutex_destroy(&(*a)->lock);
    for (int i = 0; i < 16; i++)
        pthread_mutex_destroy(&(*a)->rlock[i]);
    free(*a);
    *a = NULL;
}

int tribe_auth_token(const tribe_auth *a, const char *tk, size_t len, char who[24])
{
    uint8_t h[32];
    int role = TRIBE_ROLE_NONE;
    tribe_sha256(tk, len, h);
    for (int i = 0; i < a->n_tok; i++) { /* every token compared, whichever matches */
        int eq = same32(h, a->tok[i].hash);
        role |= eq ? a->tok[i].role : 0;
    }
    if (role) {
        char hex[65];
        tribe_hex(h, 32, hex);
        snprintf(who, 24, "token:%.12s", hex);
    }
    return role >= TRIBE_ROLE_WRITE ? TRIBE_ROLE_WRITE : role;
}

static int random_hex(char *out, size_t bytes)
{
    uint8_t r[32];
    if (bytes > sizeof r || getrandom(r, bytes, 0) != (ssize_t)bytes)
        return -1;
    tribe_hex(r, bytes, out);
    return 0;
}

int tribe_auth_session_new(tribe_auth *a, int role, const char *who, char id[65], char csrf[65])
{
    uint8_t h[32];
    double now = tribe_now();
    int slot = -1;
    if (random_hex(id, 32) != 0 || random_hex(csrf, 32) != 0)
        return -1;
    tribe_sha256(id, 64, h);
    pthread_mutex_lock(&a->lock);
    for (int i = 0; i < MAX_SESSIONS && slot < 0; i++)
        if (a->ses[i].expires < now)
            slot = i;
    if (slot < 0) { /* full: the one expiring first goes */
        slot = 0;
        for (int i = 1; i < MAX_SESSIONS; i++)
            if (a->ses[i].expires < a->ses[slot].expires)
                slot = i;
    }
    memcpy(a->ses[slot].hash, h, 32);
    memcpy(a->ses[slot].csrf, csrf, 65);
    a->ses[slot].role = role;
    a->ses[slot].expires = now + SESSION_SECONDS;
    snprintf(a->ses[slot].who, sizeof a->ses[slot].who, "%s", who);
    pthread_mutex_unlock(&a->lock);
    return 0;
}

int tribe_auth_session(tribe_auth *a, const char *id, char csrf[65], char who[24])
{
    uint8_t h[32];
    int role = TRIBE_ROLE_NONE;
    double now = tribe_now();
    if (strlen(id) != 64)
        return TRIBE_ROLE_NONE;
    tribe_sha256(id, 64, h);
    pthread_mutex_lock(&a->lock);
    for (int i = 0; i < MAX_SESSIONS; i++)
        if (a->ses[i].expires >= now && same32(h, a->ses[i].hash)) {
            role = a->ses[i].role;
            memcpy(csrf, a->ses[i].csrf, 65);
            snprintf(who, 24, "%s", a->ses[i].who);
        }
    pthread_mutex_unlock(&a->lock);
    return role;
}

int tribe_auth_same_text(const char *a, const char *b)
{
    uint8_t ha[32], hb[32];
    tribe_sha256(a, strlen(a), ha);
    tribe_sha256(b, strlen(b), hb);
    return same32(ha, hb);
}

/* One token bucket of table t for `key`: 0 when a token was taken, else the
 * seconds until one is available. Buckets are shared by colliding keys
 * (4096 slots): the limit is per address in all but crowded cases. */
static int take(tribe_auth *a, bucket *t, uint64_t key, double rate, double burst)
{
    size_t i = (size_t)(key * 0x9E3779B97F4A7C15ull >> 52) % BUCKETS;
    double now = tribe_now();
    int wait = 0;
    pthread_mutex_t *m = &a->rlock[i % 16];
    pthread_mutex_lock(m);
    bucket *b = &t[i];
    if (b->key != key || b->last == 0) {
        b->key = key;
        b->tokens = burst;
        b->last = now;
    }
    b->tokens += (now - b->last) * rate;
    if (b->tokens > burst)
        b->tokens = burst;
    b->last = now;
    if (b->tokens >= 1)
        b->tokens -= 1;
    else
        wait = (int)((1 - b->tokens) / rate) + 1;
    pthread_mutex_unlock(m);
    return wait;
}

int tribe_auth_limit(tribe_auth *a, uint64_t client, int write)
{
    int w = a->rate > 0 ? take(a, a->b, client, a->rate, a->burst) : 0;
    if (w == 0 && write && a->write_rate > 0)
        w = take(a, a->wb, client, a->write_rate / 60.0, a->write_rate / 10 > 3 ? a->write_rate / 10 : 3);
    return w;
}
