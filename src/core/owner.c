/* Owner records, leftovers' owners and writer locks (tribe/owner.h). */
#include "tribe/owner.h"
#include "tribe/sbuf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct tribe_lock {
    int fd;
    int unlink_at_release;
    char path[4096];
};

unsigned long long tribe_owner_proc_start(long pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    unsigned long long start = 0;
    if (!p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X')
        return 0; /* a zombie has finished: only its parent has yet to hear of it */
    for (int field = 2; *p; p++)
        if (*p == ' ' && ++field == 22) {
            start = strtoull(p + 1, NULL, 10);
            break;
        }
    return start;
}

void tribe_owner_host(char *out, size_t cap)
{
    if (gethostname(out, cap) != 0)
        snprintf(out, cap, "unknown");
    out[cap - 1] = '\0';
}

static const char *env_or(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v && *v ? v : dflt;
}

tribe_status tribe_owner_record(const char *what, char *out, size_t cap)
{
    char host[256];
    long pid = (long)getpid();
    tribe_owner_host(host, sizeof host);
    return tribe_fmt(out, cap, "pid %ld\nhost %s\nstart %llu\nslurm_job %s\nrestart %s\nwhat %s\n", pid, host,
                     tribe_owner_proc_start(pid), env_or("SLURM_JOB_ID", "-"), env_or("SLURM_RESTART_COUNT", "0"),
                     what);
}

void tribe_owner_field(const char *text, const char *key, char *out, size_t cap)
{
    size_t kl = strlen(key);
    out[0] = '\0';
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, key, kl) == 0 && p[kl] == ' ') {
            const char *v = p + kl + 1, *e = strchr(v, '\n');
            size_t n = e ? (size_t)(e - v) : strlen(v);
            n = n < cap - 1 ? n : cap - 1;
            memcpy(out, v, n);
            out[n] = '\0';
            return;
        }
}

int tribe_owner_alive(const char *record, time_t touched, char *who, size_t cap)
{
    char pid[32], host[256], start[32], job[32], restart[32], me[256];
    tribe_owner_field(record, "pid", pid, sizeof pid);
    tribe_owner_field(record, "host", host, sizeof host);
    tribe_owner_field(record, "start", start, sizeof start);
    tribe_owner_field(record, "slurm_job", job, sizeof job);
    tribe_owner_field(record, "restart", restart, sizeof restart);
    snprintf(who, cap, "pid %s on host %s", pid, host);
    tribe_owner_host(me, sizeof me);
    if (job[0] && strcmp(job, "-") != 0 && strcmp(job, env_or("SLURM_JOB_ID", "-")) == 0 &&
        strcmp(restart, env_or("SLURM_RESTART_COUNT", "0")) != 0)
        return 0; /* this very Slurm job, before it was requeued */
    if (strcmp(host, me) == 0) /* this process: an earlier pipeline of it, which has returned */
        return strtol(pid, NULL, 10) != (long)getpid() &&
               tribe_owner_proc_start(strtol(pid, NULL, 10)) == strtoull(start, NULL, 10);
    return time(NULL) - touched < TRIBE_OWNER_STALE_SECONDS;
}

int tribe_tmp_dead(const char *name, long *pid)
{
    const char *t = strstr(name, ".tmp.");
    *pid = 0;
    if (!t || t[5] < '1' || t[5] > '9')
        return 0;
    char *end = NULL;
    long p = strtol(t + 5, &end, 10);
    if ((*end && *end != '.') || (strspn(end, "0123456789.") != strlen(end) && strncmp(end, ".tmp.", 5) != 0))
        return 0; /* "x.tmp.12", a part "x.tmp.12.0.1", a writer's own "x.tmp.12.tmp.12", nothing else */
    *pid = p;
    return tribe_owner_proc_start(p) == 0; /* no such process, or a zombie (it has ended, unreaped) */
}

/* The whole file behind fd as text (NULL when empty or unreadable). */
static char *read_fd(int fd)
{
    struct stat sb;
    char *text = NULL;
    if (fstat(fd, &sb) != 0 || sb.st_size <= 0 || sb.st_size > (1 << 20) ||
        tribe_alloc((void **)&text, (size_t)sb.st_size + 1) != TRIBE_OK)
        return NULL;
    ssize_t n = pread(fd, text, (size_t)sb.st_size, 0);
    if (n <= 0) {
        free(text);
        return NULL;
    }
    text[n] = '\0';
    return text;
}

static tribe_status refuse(const char *subject, const char *record)
{
    char what[320], who[512];
    tribe_owner_field(record ? record : "", "what", what, sizeof what);
    tribe_owner_alive(record ? record : "", 0, who, sizeof who);
    if (!record || !what[0])
        return tribe_fail(TRIBE_ERR_IO, "%s is in use by another tribe process (its owner record is not written yet)",
                          subject);
    return tribe_fail(TRIBE_ERR_IO, "%s is in use by %s (%s); wait for it to end or give another output", subject,
                      what, who);
}

/* The record of the process holding the lock on fd. The holder writes it
 * just after taking the lock: until then the file is empty or still names
 * the previous holder, so it is read again for up to two seconds until it
 * names a live process. */
static char *read_holder(int fd)
{
    char *text = NULL, who[512];
    struct stat sb;
    for (int i = 0; i < 100; i++) {
        free(text);
        text = read_fd(fd);
        if (text && fstat(fd, &sb) == 0 && tribe_owner_alive(text, sb.st_mtime, who, sizeof who))
            return text;
        nanosleep(&(struct timespec){.tv_nsec = 20 * 1000 * 1000}, NULL);
    }
    free(text); /* never a live holder's: name none rather than a finished one */
    return NULL;
}

static tribe_status write_record(int fd, const char *path, const char *rec)
{
    size_t len = strlen(rec);
    if (ftruncate(fd, 0) != 0 || pwrite(fd, rec, len, 0) != (ssize_t)len || fsync(fd) != 0)
        return tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot write the lock's owner record", path);
    return TRIBE_OK;
}

/* One attempt: 1 in *again when the file was unlinked under us. */
static tribe_status lock_once(const char *path, const char *subject, const char *rec, int unlink_at_release,
                              char **prev, int *fd_out, int *again)
{
    tribe_status st = TRIBE_OK;
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    struct stat a, b;
    char *old = NULL, who[512];
    int lock_errno = 0, fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    *again = 0;
    if (fd < 0)
        return tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot create the lock file", path);
    if (fcntl(fd, F_SETLK, &fl) != 0) {
        if (errno == EACCES || errno == EAGAIN) {
            old = read_holder(fd);
            TRIBE_TRY(refuse(subject, old));
        }
        if (errno != ENOLCK && errno != EOPNOTSUPP && errno != ENOSYS)
            TRIBE_TRY(tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot lock", path));
        lock_errno = errno;
    }
    if (unlink_at_release && (fstat(fd, &a) != 0 || stat(path, &b) != 0 || a.st_ino != b.st_ino)) {
        *again = 1; /* its holder released and unlinked it meanwhile: lock the new one */
        goto cleanup;
    }
    old = read_fd(fd);
    if (lock_errno) {
        if (old && fstat(fd, &a) == 0 && tribe_owner_alive(old, a.st_mtime, who, sizeof who))
            TRIBE_TRY(refuse(subject, old));
        TRIBE_WARN("%s: the file system has no POSIX locks (%s): only the owner record in %s keeps two writers "
                   "apart", subject, strerror(lock_errno), path);
    }
    TRIBE_TRY(write_record(fd, path, rec));
    *fd_out = fd;
    fd = -1;
    *prev = old;
    old = NULL;
cleanup:
    if (fd >= 0)
        close(fd);
    free(old);
    return st;
}

tribe_status tribe_lock_take(const char *path, const char *subject, const char *what, int unlink_at_release,
                             char **prev_record, tribe_lock **out)
{
    tribe_status st = TRIBE_OK;
    tribe_lock *lk = NULL;
    char rec[1024], *prev = NULL;
    int again = 1, fd = -1;
    *out = NULL;
    if (prev_record)
        *prev_record = NULL;
    TRIBE_TRY(tribe_owner_record(what, rec, sizeof rec));
    TRIBE_TRY(tribe_calloc((void **)&lk, 1, sizeof *lk));
    TRIBE_TRY(tribe_fmt(lk->path, sizeof lk->path, "%s", path));
    for (int i = 0; again && i < 100; i++)
        TRIBE_TRY(lock_once(path, subject, rec, unlink_at_release, &prev, &fd, &again));
    if (again)
        TRIBE_TRY(tribe_fail(TRIBE_ERR_IO, "%s: the lock file keeps being replaced", path));
    lk->fd = fd;
    lk->unlink_at_release = unlink_at_release;
    *out = lk;
    lk = NULL;
    if (prev_record)
        *prev_record = prev;
    else
        free(prev);
    prev = NULL;
cleanup:
    free(lk);
    free(prev);
    return st;
}

tribe_status tribe_lock_append(tribe_lock *lk, const char *text)
{
    size_t len = strlen(text);
    off_t end = lseek(lk->fd, 0, SEEK_END);
    if (end < 0 || pwrite(lk->fd, text, len, end) != (ssize_t)len || fsync(lk->fd) != 0)
        return tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot write", lk->path);
    return TRIBE_OK;
}

void tribe_lock_touch(tribe_lock *lk)
{
    if (lk)
        futimens(lk->fd, NULL);
}

void tribe_lock_release(tribe_lock **lk)
{
    if (!lk || !*lk)
        return;
    if ((*lk)->unlink_at_release)
        unlink((*lk)->path); /* while still held: a waiter then finds the file gone and retries */
    close((*lk)->fd);
    free(*lk);
    *lk = NULL;
}

int tribe_tmp_stale(const char *path, const char *name, long gone_pid, int by_age)
{
    long pid = 0;
    struct stat sb;
    if (!tribe_tmp_dead(name, &pid))
        return 0;
    if (gone_pid > 0 && pid == gone_pid)
        return 1;
    return by_age && lstat(path, &sb) == 0 && time(NULL) - sb.st_mtime >= TRIBE_TMP_STALE_SECONDS;
}

void tribe_tmp_clean(const char *final, long gone_pid)
{
    char dir[4096], path[4096 + 256];
    const char *slash = strrchr(final, '/'), *base = slash ? slash + 1 : final;
    size_t bl = strlen(base);
    if (tribe_fmt(dir, sizeof dir, "%.*s", !slash ? 1 : slash == final ? 1 : (int)(slash - final),
                  slash ? final : ".") != TRIBE_OK)
        return;
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strncmp(e->d_name, base, bl) == 0 && strncmp(e->d_name + bl, ".tmp.", 5) == 0 &&
            tribe_fmt(path, sizeof path, "%s%s%s", slash ? dir : "", slash ? "/" : "", e->d_name) == TRIBE_OK &&
            tribe_tmp_stale(path, e->d_name + bl, gone_pid, 1)) {
            TRIBE_WARN("removing %s, a killed writer's temporary file", path);
            unlink(path);
        }
    closedir(d);
}

/* path made absolute against the working directory (the journal is read by
 * a process that may run elsewhere). */
static tribe_status abs_path(const char *p, char *out, size_t cap)
{
    char cwd[4096];
    if (p[0] == '/')
        return tribe_fmt(out, cap, "%s", p);
    if (!getcwd(cwd, sizeof cwd))
        return tribe_fail_errno(TRIBE_ERR_IO, "cannot tell the working directory");
    return tribe_fmt(out, cap, "%s/%s", cwd, p);
}

tribe_status tribe_commit_renames(tribe_lock *lk, int n, const char *const *from, const char *const *to,
                                  int *committed)
{
    tribe_status st = TRIBE_OK;
    *committed = 0;
    tribe_sbuf b = {0};
    char a[4096], c[4096];
    TRIBE_TRY(tribe_sbuf_add(&b, "commit\n"));
    for (int i = 0; i < n; i++) {
        TRIBE_TRY(abs_path(from[i], a, sizeof a));
        TRIBE_TRY(abs_path(to[i], c, sizeof c));
        if (strchr(a, '\n') || strchr(c, '\n'))
            TRIBE_TRY(tribe_fail(TRIBE_ERR_USAGE, "%s: a file name with a line break cannot be committed", to[i]));
        TRIBE_TRY(tribe_sbuf_printf(&b, "from %s\nto %s\n", a, c));
    }
    TRIBE_TRY(tribe_sbuf_add(&b, "end\n"));
    TRIBE_TRY(tribe_lock_append(lk, b.p));
    *committed = 1;
    for (int i = 0; i < n; i++)
        if (rename(from[i], to[i]) != 0) {
            lk->unlink_at_release = 0; /* the list stays: the next writer completes the set */
            TRIBE_TRY(tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot move the finished file into place", to[i]));
        }
cleanup:
    tribe_sbuf_free(&b);
    return st;
}

long tribe_commit_recover(const char *record)
{
    char pid[32], who[512];
    const char *p = record ? strstr(record, "\ncommit\n") : NULL;
    if (!record)
        return 0;
    tribe_owner_field(record, "pid", pid, sizeof pid);
    tribe_owner_alive(record, 0, who, sizeof who);
    if (p && strstr(p, "\nend\n")) /* committed: the renames not done yet are */
        for (p += 8; strncmp(p, "from ", 5) == 0;) {
            const char *e1 = strchr(p, '\n'), *t = e1 ? e1 + 1 : NULL, *e2 = t ? strchr(t, '\n') : NULL;
            char from[4096], to[4096];
            if (!e2 || strncmp(t, "to ", 3) != 0 ||
                tribe_fmt(from, sizeof from, "%.*s", (int)(e1 - p - 5), p + 5) != TRIBE_OK ||
                tribe_fmt(to, sizeof to, "%.*s", (int)(e2 - t - 3), t + 3) != TRIBE_OK)
                break;
            if (access(from, F_OK) == 0) {
                TRIBE_WARN("completing the commit of a killed writer (%s): %s", who, to);
                if (rename(from, to) != 0)
                    TRIBE_WARN("%s: cannot move into place: %s", to, strerror(errno));
            }
            p = e2 + 1;
        }
    return strtol(pid, NULL, 10);
}
