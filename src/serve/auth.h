/* Internal to src/serve: tokens, sessions and rate limits (auth.c). All
 * functions are thread-safe. */
#ifndef TRIBE_SERVE_AUTH_H
#define TRIBE_SERVE_AUTH_H

#include "serve_internal.h"

typedef struct tribe_auth tribe_auth;

/* Reads the token file ("read TOKEN" / "write TOKEN" lines, '#' comments,
 * tokens of at least 16 characters). USAGE naming file and line; IO. */
tribe_status tribe_auth_create(const char *tokens_path, double rate, double burst, double write_rate,
                               tribe_auth **out);
void tribe_auth_destroy(tribe_auth **a);
/* Role of a bearer token (TRIBE_ROLE_NONE when unknown); who gets its
 * fingerprint (a prefix of its SHA-256, never the token). */
int tribe_auth_token(const tribe_auth *a, const char *tk, size_t len, char who[24]);
/* A new dashboard session: id (the cookie) and csrf, 64 hex digits each.
 * 0 on success. */
int tribe_auth_session_new(tribe_auth *a, int role, const char *who, char id[65], char csrf[65]);
/* Role of a live session id, with its csrf token and who. */
int tribe_auth_session(tribe_auth *a, const char *id, char csrf[65], char who[24]);
/* 1 when the strings are equal, compared in constant time. */
int tribe_auth_same_text(const char *a, const char *b);
/* Rate limit of one request from `client` (a hash of its address): 0 when
 * allowed, else the seconds to wait. write: also the write limit. */
int tribe_auth_limit(tribe_auth *a, uint64_t client, int write);

#endif
