/* Allocation with status codes and deliberate failure for tests. */
#include "tribe/core.h"

#include <stdlib.h>
#include <string.h>

/* Counts down to an injected failure; 0 = off. Only tests set it, and only
 * from a single thread, so a plain (non-atomic) counter is enough. */
static long fail_countdown;

void tribe_alloc_fail_after(long n) { fail_countdown = n; }

static int injected_failure(void)
{
    if (fail_countdown <= 0)
        return 0;
    return --fail_countdown == 0;
}

tribe_status tribe_alloc(void **out, size_t bytes)
{
    void *p = injected_failure() ? NULL : malloc(bytes ? bytes : 1);
    if (!p)
        return tribe_fail(TRIBE_ERR_NOMEM, "out of memory allocating %zu bytes", bytes);
    *out = p;
    return TRIBE_OK;
}

tribe_status tribe_calloc(void **out, size_t count, size_t size)
{
    size_t bytes;
    tribe_status st = tribe_mul_size(count, size, &bytes);
    if (st != TRIBE_OK)
        return st;
    void *p = injected_failure() ? NULL : calloc(bytes ? count : 1, bytes ? size : 1);
    if (!p)
        return tribe_fail(TRIBE_ERR_NOMEM, "out of memory allocating %zu bytes", bytes);
    *out = p;
    return TRIBE_OK;
}

tribe_status tribe_realloc(void **p, size_t bytes)
{
    void *q = injected_failure() ? NULL : realloc(*p, bytes ? bytes : 1);
    if (!q)
        return tribe_fail(TRIBE_ERR_NOMEM, "out of memory growing a buffer to %zu bytes", bytes);
    *p = q;
    return TRIBE_OK;
}

tribe_status tribe_mul_size(size_t a, size_t b, size_t *out)
{
    if (b != 0 && a > SIZE_MAX / b) {
        *out = 0;
        return tribe_fail(TRIBE_ERR_NOMEM, "allocation size overflows (%zu x %zu)", a, b);
    }
    *out = a * b;
    return TRIBE_OK;
}

tribe_status tribe_strdup(const char *s, char **out)
{
    size_t n = strlen(s) + 1;
    char *p = NULL;
    tribe_status st = tribe_alloc((void **)&p, n);
    if (st != TRIBE_OK)
        return st;
    memcpy(p, s, n);
    *out = p;
    return TRIBE_OK;
}

void tribe_free_strs(char **s, int n)
{
    if (!s)
        return;
    for (int i = 0; i < n; i++)
        free(s[i]);
    free(s);
}
