/* libFuzzer harness: the webhook verifier of `tribe campaign verify-webhook`
 * (tribe_webhook_verify). Input: five newline-terminated values, then the
 * body: secret, message id, timestamp, signature header, tolerance (seconds;
 * bounded like --tolerance), body. Besides the verdict on the fuzzed
 * signature, the body signed with tribe_webhook_sign must verify, and must
 * not verify under another message id. */
#include "fuzzutil.h"

#include "tribe/campaign.h"

#include <stdlib.h>
#include <string.h>

#define NOW 1760000000LL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *secret = fz_cut(&data, &size);
    char *id = fz_cut(&data, &size);
    char *ts = fz_cut(&data, &size);
    char *sig = fz_cut(&data, &size);
    char *tol_text = fz_cut(&data, &size);
    char *body = fz_text(data, size);
    int64_t tolerance = strtoll(tol_text, NULL, 10);
    if (tolerance < 0 || tolerance > 86400 * 365)
        tolerance = 300;
    tribe_status st = tribe_webhook_verify(secret, id, ts, body, size, sig, NOW, tolerance);
    fz_note("tribe_webhook_verify", st);
    FZ_CHECK(st == TRIBE_OK || st == TRIBE_ERR_INPUT || st == TRIBE_ERR_USAGE);

    char good[TRIBE_WEBHOOK_SIG_MAX];
    int64_t t = NOW - 17;
    if (tribe_webhook_sign(secret, id, t, body, size, good) == TRIBE_OK) {
        FZ_CHECK(strlen(good) < TRIBE_WEBHOOK_SIG_MAX && strncmp(good, "v1,", 3) == 0);
        char t_text[32], header[3 * TRIBE_WEBHOOK_SIG_MAX];
        snprintf(t_text, sizeof t_text, "%lld", (long long)t);
        snprintf(header, sizeof header, "v1,bm90IGl0 %s", good);
        FZ_CHECK(tribe_webhook_verify(secret, id, t_text, body, size, header, NOW, 300) == TRIBE_OK);
        char *other = malloc(strlen(id) + 2);
        FZ_CHECK(other != NULL);
        snprintf(other, strlen(id) + 2, "%sx", id);
        st = tribe_webhook_verify(secret, other, t_text, body, size, good, NOW, 300);
        FZ_CHECK(st != TRIBE_OK);
        free(other);
    }
    free(secret);
    free(id);
    free(ts);
    free(sig);
    free(tol_text);
    free(body);
    return 0;
}
