/* tribe/core.h: status codes, error messages, logging, counter-based RNG,
 * exact (split-independent) sums, the SIMD level, timers and small memory
 * helpers.
 *
 * Usage:
 *     tribe_status st = TRIBE_OK;
 *     double *w = NULL;
 *     TRIBE_TRY(tribe_alloc((void **)&w, n * sizeof *w));
 *     if (bad) { st = tribe_fail(TRIBE_ERR_INPUT, "%s:%lld: quantity '%s' is not a number", path, line, s); goto cleanup; }
 *   cleanup:
 *     free(w);
 *     return st;
 *
 * Ownership: nothing in this header keeps pointers to caller memory. The last
 * error message lives in thread-local storage owned by the library; it stays
 * valid until the next tribe_fail() on the same thread.
 *
 * Not collective: nothing here talks to other ranks (see tribe/par.h).
 */
#ifndef TRIBE_CORE_H
#define TRIBE_CORE_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TRIBE_VERSION "0.1.0"

/* The most numeric features a model may use (model columns of a job, columns
 * of a generated or imported table): every fixed-size per-feature array and
 * every "d in 1..N" check uses this one limit. */
#define TRIBE_MAX_FEATURES 256

/* Work (element operations) below which a kernel runs its loop on one
 * thread: waking a team for a few thousand operations costs more than it
 * saves, and idle spinning threads steal cores from other ranks when a node
 * is oversubscribed. Results never depend on it (see the determinism notes). */
#define TRIBE_OMP_MIN_WORK 65536

/* Status of every fallible call. The CLI maps classes to exit codes
 * (docs/cli.md): usage 2, bad input data 3, environment 4, internal 5. */
typedef enum {
    TRIBE_OK = 0,
    TRIBE_ERR_USAGE,    /* bad command line or job spec (unknown key, wrong type) */
    TRIBE_ERR_INPUT,    /* bad input data: missing column, unparseable value, K > n */
    TRIBE_ERR_IO,       /* missing/unreadable/unwritable file, HDF5 failure */
    TRIBE_ERR_ENV,      /* MPI, network or other environment failure */
    TRIBE_ERR_NOMEM,    /* allocation failed */
    TRIBE_ERR_INTERNAL  /* a bug: an invariant did not hold */
} tribe_status;

/* Records a printf-style message for the current thread (prefixed by nothing:
 * say the file, line or field yourself) and returns `st` so it can be
 * returned or assigned directly. */
tribe_status tribe_fail(tribe_status st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Like tribe_fail, but appends ": <strerror(errno)>" (errno read on entry). */
tribe_status tribe_fail_errno(tribe_status st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The last message recorded by tribe_fail on this thread ("" if none). */
const char *tribe_errmsg(void);
/* Replaces the thread's message (used when one rank's message is broadcast). */
void tribe_set_errmsg(const char *msg);
void tribe_clear_error(void);
/* Short name of a status ("input", "io", ...). */
const char *tribe_status_name(tribe_status st);
/* Documented process exit code of a status class. */
int tribe_status_exit_code(tribe_status st);

/* Evaluate a status expression; on failure store it in `st` and jump to the
 * function's `cleanup:` label. Requires `tribe_status st` in scope. */
#define TRIBE_TRY(expr)                         \
    do {                                        \
        st = (expr);                            \
        if (st != TRIBE_OK) goto cleanup;       \
    } while (0)

/* ---- memory ------------------------------------------------------------ */
/* *out = malloc(bytes) (NULL and TRIBE_OK when bytes == 0 is NOT the rule:
 * bytes == 0 allocates 1 byte so callers never see NULL on success). */
tribe_status tribe_alloc(void **out, size_t bytes);
tribe_status tribe_calloc(void **out, size_t count, size_t size);
/* *p = realloc(*p, bytes); on failure *p is left untouched. */
tribe_status tribe_realloc(void **p, size_t bytes);
/* Overflow-checked count*size; returns 0 and fails with NOMEM on overflow. */
tribe_status tribe_mul_size(size_t a, size_t b, size_t *out);
/* strdup that reports NOMEM. */
tribe_status tribe_strdup(const char *s, char **out);
/* Frees the n strings of s and s itself; accepts NULL. */
void tribe_free_strs(char **s, int n);
/* Test hook: when > 0, the n-th following allocation through tribe_alloc /
 * tribe_calloc / tribe_realloc fails (SQLite-style fault injection). */
void tribe_alloc_fail_after(long n);

/* ---- logging (stderr) -------------------------------------------------- */
typedef enum { TRIBE_LOG_ERROR = 0, TRIBE_LOG_WARN, TRIBE_LOG_INFO, TRIBE_LOG_DEBUG } tribe_log_level;
/* Set once by the CLI: which rank this process is (prefix) and the level.
 * Only rank 0 prints INFO and below unless `all_ranks` is set. */
void tribe_log_setup(int rank, tribe_log_level level, int all_ranks);
void tribe_log(tribe_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define TRIBE_INFO(...) tribe_log(TRIBE_LOG_INFO, __VA_ARGS__)
#define TRIBE_WARN(...) tribe_log(TRIBE_LOG_WARN, __VA_ARGS__)
#define TRIBE_DEBUG(...) tribe_log(TRIBE_LOG_DEBUG, __VA_ARGS__)

/* ---- progress of long loops (stderr) -------------------------------------
 * A long loop (trees, K values, EM iterations, blocks of rows) says how far
 * it is, at most about once a second, and once more at 100% when it took a
 * second or more:
 *   progress: drivers: training 45% (tree 90/200) 12.3 s elapsed, ~15 s left
 *   progress: drivers: training 100% (tree 200/200) in 27.0 s
 * Off until tribe_progress_setup turns it on (the CLI: on rank 0 only, when
 * stderr is a terminal or --progress / TRIBE_PROGRESS=1 asks). Not
 * collective, and never changes a result or the order of collectives:
 * callers pass counts they already hold (the same on every rank, such as
 * trees built, or rank 0's own share, said in the unit). A step costs a
 * branch when off and a clock read when on, and allocates nothing: call it
 * per tree, K or block of rows, not per row. One loop at a time, from the
 * thread that began it, outside OpenMP regions: a loop begun inside another
 * (a statistics pass inside a fit) is silent, the outer one reports. */
/* on: print at all; interval: the seconds between lines, also the shortest
 * loop that gets a last line (< 0: 1 s; 0: every step and every loop, for
 * tests); out: NULL for stderr; clock: monotonic seconds, NULL for tribe_now
 * (a test injects its own). Resets any loop under way. */
void tribe_progress_setup(int on, double interval, FILE *out, double (*clock)(void));
int tribe_progress_on(void);
/* The prefix of the lines that follow (a stage name, borrowed; NULL: none);
 * drops any loop under way without a last line. */
void tribe_progress_stage(const char *stage);
/* A loop of `total` units (`unit` names one, e.g. "tree"; both strings
 * borrowed); total <= 0 when unknown: the lines then give the count only.
 * Inside a loop under way, the new loop's steps and end are ignored. */
void tribe_progress_begin(const char *what, const char *unit, int64_t total);
/* `done` units finished; prints when a second has passed since the last line. */
void tribe_progress_step(int64_t done);
/* The loop finished (not called on failure): the 100% line when it took a
 * second or more ("stopped early" when done < total, as for EM converging). */
void tribe_progress_end(void);
/* One line (no newline) into buf: the formatter behind the above, exposed
 * for tests. last: the 100% line. Returns what snprintf would. */
int tribe_progress_format(char *buf, size_t cap, const char *stage, const char *what, const char *unit, int64_t done,
                          int64_t total, double elapsed, int last);

/* ---- counter-based random numbers --------------------------------------
 * A pure function of (seed, stream, counter): the value for global row i at
 * step t is the same whichever rank or thread asks for it. Streams separate
 * uses (sampling, initialisation, generation, ...). */
uint64_t tribe_rng_u64(uint64_t seed, uint64_t stream, uint64_t counter);
/* Uniform double in [0, 1) with 53 random bits. */
double tribe_rng_unif(uint64_t seed, uint64_t stream, uint64_t counter);
/* Uniform integer in [0, n) (n > 0), unbiased to 2^-64. */
uint64_t tribe_rng_below(uint64_t seed, uint64_t stream, uint64_t counter, uint64_t n);
/* Standard normal from two uniforms of (counter*2, counter*2+1). */
double tribe_rng_normal(uint64_t seed, uint64_t stream, uint64_t counter);
/* Mixes two 64-bit values into one (for deriving sub-streams). */
uint64_t tribe_hash2(uint64_t a, uint64_t b);

/* The generator's one mixer (SplitMix64's finaliser, src/core/rng.c), inline
 * so that loops drawing a value per row stay cheap. */
static inline uint64_t tribe_rng_mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
/* The key of (seed, stream), computed once for a loop over many counters. */
static inline uint64_t tribe_rng_key(uint64_t seed, uint64_t stream)
{
    return tribe_rng_mix64(tribe_rng_mix64(seed) ^ (stream + 0x632be59bd9b4e019ULL));
}
/* tribe_rng_u64 / tribe_rng_unif of a precomputed key = tribe_rng_key(seed,
 * stream): the same bits as tribe_rng_u64(seed, stream, counter) and
 * tribe_rng_unif(seed, stream, counter). */
static inline uint64_t tribe_rng_u64_keyed(uint64_t key, uint64_t counter)
{
    return tribe_rng_mix64(key ^ tribe_rng_mix64(counter ^ 0xd1b54a32d192ed03ULL));
}
static inline double tribe_rng_unif_keyed(uint64_t key, uint64_t counter)
{
    return (double)(tribe_rng_u64_keyed(key, counter) >> 11) * 0x1.0p-53;
}
/* FNV-1a 64 of bytes, continuing from h (start with TRIBE_FNV_INIT). */
#define TRIBE_FNV_INIT 0xcbf29ce484222325ULL
uint64_t tribe_fnv1a(uint64_t h, const void *data, size_t len);

/* ---- SIMD level ---------------------------------------------------------
 * Which hand-written x86 SIMD kernels may run. Every kernel gives the same
 * bits at every level (docs/clustering.md); the levels differ in speed only.
 * TRIBE_SIMD_AVX2 means AVX2 + FMA; TRIBE_SIMD_AVX512 means AVX-512 F, DQ,
 * BW and VL (with AVX2 + FMA). */
enum { TRIBE_SIMD_PORTABLE = 0, TRIBE_SIMD_AVX2 = 1, TRIBE_SIMD_AVX512 = 2 };
/* The highest level this CPU has (TRIBE_SIMD_PORTABLE off x86, or in a
 * build configured with -DTRIBE_PORTABLE=ON). */
int tribe_simd_cpu_level(void);
/* The highest level kernels may use: the CPU's, capped by the environment
 * variable TRIBE_SIMD = portable | avx2 | avx512 | auto (unset or auto: the
 * CPU's; anything else is ignored with a warning). Read once, on the first
 * call; thread-safe. TRIBE_SIMD=portable runs the whole library on its
 * portable paths, as on an ARM machine. */
int tribe_simd_level(void);

/* ---- exact sums ---------------------------------------------------------
 * Fixed-point accumulators: a double is rounded to a multiple of 2^-32 and
 * added as a 128-bit integer, so sums are exactly associative and do not
 * depend on how rows are split over threads or ranks. Range: |sum| < 2^94
 * (about 2e28); resolution 2.3e-10. Non-finite inputs must be screened out
 * by the caller. */
typedef __int128 tribe_xsum;
#define TRIBE_XSUM_SCALE 4294967296.0 /* 2^32 */
static inline tribe_xsum tribe_xsum_of(double v)
{
    double s = v * TRIBE_XSUM_SCALE;
    /* Round half away from zero, branch-free (a sign branch mispredicts on
     * centred data): s < 0 ? s - 0.5 : s + 0.5, and -0 gives -0.5, which
     * truncates to 0 as +0.5 does. */
    s += copysign(0.5, s);
    /* Both conversions truncate toward zero, so the result is the same; the
     * 64-bit one is a single instruction, the 128-bit one a library call. */
    if (s > -9.2e18 && s < 9.2e18)
        return (tribe_xsum)(int64_t)s;
    return (tribe_xsum)s;
}
static inline double tribe_xsum_value(tribe_xsum s)
{
    /* Both conversions round the same integer to the nearest double. */
    if (s >= INT64_MIN && s <= INT64_MAX)
        return (double)(int64_t)s / TRIBE_XSUM_SCALE;
    return (double)s / TRIBE_XSUM_SCALE;
}

/* ---- time -------------------------------------------------------------- */
double tribe_now(void); /* monotonic seconds */

/* ---- small string helpers ---------------------------------------------- */
/* snprintf into a fixed buffer; fails with INTERNAL on truncation. */
tribe_status tribe_fmt(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Reads a whole file into a NUL-terminated buffer (caller frees). */
tribe_status tribe_read_file(const char *path, char **out, size_t *len);
/* The file `name` of directory `dir` read whole as above, or *out NULL (and
 * TRIBE_OK) when it does not exist: an optional file beside another (run.json
 * and personas.json beside results.h5). */
tribe_status tribe_read_file_opt(const char *dir, const char *name, char **out);
/* Removes control characters from s in place: C0 (ESC, BEL, CR, ...), DEL
 * and C1 (U+0080..U+009F); tab and newline become a space unless
 * keep_newlines. For text from outside (an LLM reply, a file name) before it
 * reaches a terminal, a log line or an output file. */
void tribe_strip_controls(char *s, int keep_newlines);
/* Writes `len` bytes to path atomically (tmp file in the same folder + rename). */
tribe_status tribe_write_file_atomic(const char *path, const char *data, size_t len);
/* mkdir -p; fails with IO naming the path when it cannot be created or is not writable. */
tribe_status tribe_mkdirs(const char *path);

#endif
