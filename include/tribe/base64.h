/* tribe/base64.h: standard base64 (RFC 4648, alphabet "+/"), the one codec
 * the webhook signatures (tribe/campaign.h) and the persona images
 * (tribe/llm.h) share. Not collective; no allocation. */
#ifndef TRIBE_BASE64_H
#define TRIBE_BASE64_H

#include "tribe/core.h"

/* Encodes n bytes into out, which holds 4 * ceil(n / 3) + 1 chars; padded
 * with '=' and NUL-terminated. Returns the length without the NUL. */
size_t tribe_base64_encode(const uint8_t *in, size_t n, char *out);

/* Decodes in into out[cap] and sets *n to the byte count. ASCII whitespace
 * is skipped (MIME-style wrapping); padding is optional, but an '=' may only
 * end the text (at most two) and the unused bits of the last character must
 * be zero (canonical encoding). Errors: TRIBE_ERR_INPUT naming the offending
 * character's offset, an impossible length, bad padding, or more than cap
 * bytes. */
tribe_status tribe_base64_decode(const char *in, uint8_t *out, size_t cap, size_t *n);

#endif
