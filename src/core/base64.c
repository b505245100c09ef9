/* Standard base64 (tribe/base64.h). */
#include "tribe/base64.h"

#include <string.h>

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t tribe_base64_encode(const uint8_t *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
        out[o++] = B64[v >> 18 & 63];
        out[o++] = B64[v >> 12 & 63];
        out[o++] = i + 1 < n ? B64[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? B64[v & 63] : '=';
    }
    out[o] = '\0';
    return o;
}

static int b64_value(char ch)
{
    const char *p = ch ? strchr(B64, ch) : NULL;
    return p ? (int)(p - B64) : -1;
}

static int is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

tribe_status tribe_base64_decode(const char *in, uint8_t *out, size_t cap, size_t *n)
{
    size_t o = 0, chars = 0, pad = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; in[i]; i++) {
        if (is_space(in[i]))
            continue;
        if (in[i] == '=') {
            pad++;
            continue;
        }
        int v = b64_value(in[i]);
        if (v < 0 || pad > 0)
            return tribe_fail(TRIBE_ERR_INPUT, "base64: character %zu of '%.40s' is not base64%s", i + 1, in,
                              v < 0 ? "" : " (after the padding)");
        chars++;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= cap)
                return tribe_fail(TRIBE_ERR_INPUT, "base64: '%.40s' decodes to more than %zu bytes", in, cap);
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    if (chars % 4 == 1)
        return tribe_fail(TRIBE_ERR_INPUT, "base64: '%.40s' has an impossible length", in);
    if (pad > 2 || (acc & ((1u << bits) - 1)) != 0)
        return tribe_fail(TRIBE_ERR_INPUT, "base64: '%.40s' has bad padding", in);
    *n = o;
    return TRIBE_OK;
}
