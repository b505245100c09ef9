/* SHA-256 (FIPS 180-4), HMAC-SHA256 (RFC 2104) and Standard Webhooks
 * signatures (tribe/campaign.h).
 *
 * Written here rather than taken from libcrypto: the job needs one hash for
 * idempotency keys and webhook signatures, and a 100-line hash checked
 * against the published vectors (tests/unit/test_campaign.c) costs less than
 * another build dependency. Not for secrets at rest: the compare in
 * tribe_webhook_verify is constant-time, nothing else here needs to be. */
#include "tribe/campaign.h"

#include <stdlib.h>
#include <string.h>

static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(uint32_t h[8], const uint8_t *p)
{
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = k + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K256[i] + w[i];
        uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        k = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += k;
}

void tribe_sha256_init(tribe_sha256_ctx *c)
{
    static const uint32_t H0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(c->h, H0, sizeof H0);
    c->bytes = 0;
    c->fill = 0;
}

void tribe_sha256_update(tribe_sha256_ctx *c, const void *data, size_t len)
{
    const uint8_t *p = data;
    c->bytes += len;
    while (len > 0) {
        size_t take = 64 - c->fill < len ? 64 - c->fill : len;
        memcpy(c->buf + c->fill, p, take);
        c->fill += take;
        p += take;
        len -= take;
        if (c->fill == 64) {
            sha256_block(c->h, c->buf);
            c->fill = 0;
        }
    }
}

void tribe_sha256_final(tribe_sha256_ctx *c, uint8_t out[32])
{
    uint64_t bits = c->bytes * 8;
    uint8_t pad = 0x80, zero = 0, len[8];
    tribe_sha256_update(c, &pad, 1);
    while (c->fill != 56)
        tribe_sha256_update(c, &zero, 1);
    for (int i = 0; i < 8; i++)
        len[i] = (uint8_t)(bits >> (56 - 8 * i));
    tribe_sha256_update(c, len, 8);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(c->h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(c->h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(c->h[i] >> 8);
        out[4 * i + 3] = (uint8_t)c->h[i];
    }
}

void tribe_sha256(const void *data, size_t len, uint8_t out[32])
{
    tribe_sha256_ctx c;
    tribe_sha256_init(&c);
    tribe_sha256_update(&c, data, len);
    tribe_sha256_final(&c, out);
}

void tribe_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t len, uint8_t out[32])
{
    uint8_t k[64] = {0}, pad[64], inner[32];
    if (keylen > 64)
        tribe_sha256(key, keylen, k);
    else if (keylen > 0)
        memcpy(k, key, keylen);
    tribe_sha256_ctx c;
    for (int i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x36;
    tribe_sha256_init(&c);
    tribe_sha256_update(&c, pad, 64);
    tribe_sha256_update(&c, msg, len);
    tribe_sha256_final(&c, inner);
    for (int i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x5c;
    tribe_sha256_init(&c);
    tribe_sha256_update(&c, pad, 64);
    tribe_sha256_update(&c, inner, 32);
    tribe_sha256_final(&c, out);
}

void tribe_hex(const uint8_t *in, size_t n, char *out)
{
    static const char D[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = D[in[i] >> 4];
        out[2 * i + 1] = D[in[i] & 15];
    }
    out[2 * n] = '\0';
}

/* The key bytes of a secret: "whsec_<base64>" as Standard Webhooks writes
 * it, any other string as its own bytes. */
static tribe_status secret_key(const char *secret, uint8_t *key, size_t cap, size_t *n)
{
    if (strncmp(secret, "whsec_", 6) == 0)
        return tribe_base64_decode(secret + 6, key, cap, n);
    size_t len = strlen(secret);
    if (len > cap)
        return tribe_fail(TRIBE_ERR_USAGE, "webhook secret longer than %zu bytes", cap);
    memcpy(key, secret, len);
    *n = len;
    return TRIBE_OK;
}

tribe_status tribe_webhook_sign(const char *secret, const char *msg_id, int64_t timestamp, const char *body,
                                size_t len, char out[TRIBE_WEBHOOK_SIG_MAX])
{
    uint8_t key[256], mac[32];
    size_t kn = 0;
    char head[160];
    tribe_status st = secret_key(secret, key, sizeof key, &kn);
    if (st != TRIBE_OK)
        return st;
    int hn = snprintf(head, sizeof head, "%s.%lld.", msg_id, (long long)timestamp);
    if (hn < 0 || (size_t)hn >= sizeof head)
        return tribe_fail(TRIBE_ERR_USAGE, "webhook: message id '%.40s...' is too long", msg_id);
    /* HMAC over "id.timestamp.body" without copying the body: the inner hash
     * is fed in two pieces. */
    uint8_t k[64] = {0}, pad[64], inner[32];
    if (kn > 64)
        tribe_sha256(key, kn, k);
    else
        memcpy(k, key, kn);
    tribe_sha256_ctx c;
    for (int i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x36;
    tribe_sha256_init(&c);
    tribe_sha256_update(&c, pad, 64);
    tribe_sha256_update(&c, head, (size_t)hn);
    tribe_sha256_update(&c, body, len);
    tribe_sha256_final(&c, inner);
    for (int i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x5c;
    tribe_sha256_init(&c);
    tribe_sha256_update(&c, pad, 64);
    tribe_sha256_update(&c, inner, 32);
    tribe_sha256_final(&c, mac);
    memcpy(out, "v1,", 3);
    tribe_base64_encode(mac, 32, out + 3);
    return TRIBE_OK;
}

tribe_status tribe_webhook_verify(const char *secret, const char *msg_id, const char *timestamp, const char *body,
                                  size_t len, const char *signature_header, int64_t now, int64_t tolerance)
{
    /* The timestamp exactly as signed: decimal digits, no sign, space or
     * leading zero ("+TS", "000TS", " TS" must not verify with TS's signature). */
    const char *t = timestamp ? timestamp : "";
    size_t tl = strspn(t, "0123456789");
    if (!*t || t[tl] || tl > 18 || (t[0] == '0' && tl > 1))
        return tribe_fail(TRIBE_ERR_INPUT, "webhook: timestamp '%.40s' is not unix seconds written plainly", t);
    long long ts = strtoll(t, NULL, 10);
    if (tolerance > 0 && (ts < now - tolerance || ts > now + tolerance))
        return tribe_fail(TRIBE_ERR_INPUT, "webhook: timestamp %lld is more than %lld s from now", ts,
                          (long long)tolerance);
    char want[TRIBE_WEBHOOK_SIG_MAX];
    tribe_status st = tribe_webhook_sign(secret, msg_id, ts, body, len, want);
    if (st != TRIBE_OK)
        return st;
    /* The header may carry several space-separated signatures (key rotation);
     * one match is enough. Compared in constant time per candidate. */
    size_t wl = strlen(want);
    for (const char *p = signature_header ? signature_header : ""; *p;) {
        while (*p == ' ')
            p++;
        const char *q = p;
        while (*q && *q != ' ')
            q++;
        if ((size_t)(q - p) == wl) {
            unsigned diff = 0;
            for (size_t i = 0; i < wl; i++)
                diff |= (unsigned)(p[i] ^ want[i]);
            if (diff == 0)
                return TRIBE_OK;
        }
        p = q;
    }
    return tribe_fail(TRIBE_ERR_INPUT, "webhook: no signature in '%.80s' matches message '%s'",
                      signature_header ? signature_header : "", msg_id);
}
