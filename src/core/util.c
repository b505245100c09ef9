/* Time, formatting and whole-file helpers. */
#include "tribe/core.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

double tribe_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

tribe_status tribe_fmt(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap)
        return tribe_fail(TRIBE_ERR_INTERNAL, "text too long for a %zu-byte buffer: '%.40s...'", cap, buf);
    return TRIBE_OK;
}

tribe_status tribe_read_file(const char *path, char **out, size_t *len)
{
    tribe_status st = TRIBE_OK;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot open", path);
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? 2 * cap : 65536;
            TRIBE_TRY(tribe_realloc((void **)&buf, cap));
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                st = tribe_fail_errno(TRIBE_ERR_IO, "%s: read error", path);
                goto cleanup;
            }
            break;
        }
    }
    buf[n] = '\0';
    *out = buf;
    buf = NULL;
    if (len)
        *len = n;
cleanup:
    free(buf);
    fclose(f);
    return st;
}

tribe_status tribe_read_file_opt(const char *dir, const char *name, char **out)
{
    char path[4096 + 256];
    struct stat sb;
    tribe_status st = tribe_fmt(path, sizeof path, "%s/%s", dir, name);
    *out = NULL;
    if (st != TRIBE_OK || stat(path, &sb) != 0)
        return st;
    return tribe_read_file(path, out, NULL);
}

tribe_status tribe_write_file_atomic(const char *path, const char *data, size_t len)
{
    /* One temporary name per call, so threads writing the same path (a
     * server's persona cache) never share one; ".tmp.<pid>" stays last for
     * the clean-up of killed processes' leftovers. */
    static atomic_ulong seq;
    char tmp[4096];
    tribe_status st = tribe_fmt(tmp, sizeof tmp, "%s.%lu.tmp.%ld", path, atomic_fetch_add(&seq, 1), (long)getpid());
    if (st != TRIBE_OK)
        return st;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot create", tmp);
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            st = tribe_fail_errno(TRIBE_ERR_IO, "%s: write failed", tmp);
            break;
        }
        off += (size_t)w;
    }
    if (st == TRIBE_OK && fsync(fd) != 0)
        st = tribe_fail_errno(TRIBE_ERR_IO, "%s: fsync failed", tmp);
    if (close(fd) != 0 && st == TRIBE_OK)
        st = tribe_fail_errno(TRIBE_ERR_IO, "%s: close failed", tmp);
    if (st == TRIBE_OK && rename(tmp, path) != 0)
        st = tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot rename into place", path);
    if (st != TRIBE_OK)
        unlink(tmp);
    return st;
}

tribe_status tribe_mkdirs(const char *path)
{
    char buf[4096];
    tribe_status st = tribe_fmt(buf, sizeof buf, "%s", path);
    if (st != TRIBE_OK)
        return st;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot create directory", buf);
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
        return tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot create directory", buf);
    struct stat sb;
    if (stat(buf, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return tribe_fail(TRIBE_ERR_IO, "%s: exists and is not a directory", buf);
    if (access(buf, W_OK | X_OK) != 0)
        return tribe_fail_errno(TRIBE_ERR_IO, "%s: directory is not writable", buf);
    return TRIBE_OK;
}

void tribe_strip_controls(char *s, int keep_newlines)
{
    char *o = s;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        if (*p == 0xC2 && p[1] >= 0x80 && p[1] < 0xA0) { /* C1 controls (U+0080..U+009F: CSI is U+009B) */
            p += 2;
            continue;
        }
        if ((*p == '\n' || *p == '\t') && keep_newlines)
            *o++ = (char)*p;
        else if (*p == '\n' || *p == '\t' || *p == '\r')
            *o++ = ' ';
        else if (*p >= 0x20 && *p != 0x7F)
            *o++ = (char)*p;
        p++;
    }
    *o = '\0';
}
