/* Helpers shared by the libFuzzer harnesses (fuzzutil.h). */
#include "fuzzutil.h"

#include "tribe/core.h"

#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmp_dir[PATH_MAX];

void fz_fail(const char *file, int line, const char *what)
{
    fprintf(stderr, "%s:%d: property broken: %s (last tribe error: %s)\n", file, line, what, tribe_errmsg());
    abort();
}

void fz_note(const char *what, tribe_status st)
{
    static int verbose = -1;
    if (verbose < 0)
        verbose = getenv("TRIBE_FUZZ_VERBOSE") != NULL;
    if (verbose)
        fprintf(stderr, "%s: %s%s%s\n", what, tribe_status_name(st), st == TRIBE_OK ? "" : ": ",
                st == TRIBE_OK ? "" : tribe_errmsg());
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void remove_tmp(void)
{
    if (tmp_dir[0])
        nftw(tmp_dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* The process's folder, made on first use under $TMPDIR (or /tmp) and
 * removed at exit: forked workers (-jobs, -fork) each get their own. */
static const char *folder(void)
{
    if (!tmp_dir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(tmp_dir, sizeof tmp_dir, "%s/tribe-fuzz-XXXXXX", base && *base ? base : "/tmp");
        if (!mkdtemp(tmp_dir)) {
            perror("tribe fuzz: mkdtemp");
            abort();
        }
        atexit(remove_tmp);
    }
    return tmp_dir;
}

const char *fz_file(const char *name, const uint8_t *data, size_t n)
{
    static char paths[8][PATH_MAX];
    static char names[8][64];
    int slot = 0;
    while (slot < 7 && names[slot][0] && strcmp(names[slot], name) != 0)
        slot++;
    snprintf(names[slot], sizeof names[slot], "%s", name);
    snprintf(paths[slot], sizeof paths[slot], "%s/%s", folder(), name);
    FILE *f = fopen(paths[slot], "wb");
    if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f) != 0) {
        perror("tribe fuzz: writing the input file");
        abort();
    }
    return paths[slot];
}

char *fz_text(const uint8_t *data, size_t n)
{
    char *s = malloc(n + 1);
    if (!s)
        abort();
    if (n)
        memcpy(s, data, n);
    s[n] = '\0';
    return s;
}

char *fz_cut(const uint8_t **data, size_t *n)
{
    const uint8_t *nl = *n ? memchr(*data, '\n', *n) : NULL;
    size_t take = nl ? (size_t)(nl - *data) : *n;
    char *s = fz_text(*data, take);
    *data += take + (nl ? 1 : 0);
    *n -= take + (nl ? 1 : 0);
    return s;
}
