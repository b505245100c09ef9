/* tribe: git-style subcommands. The only place that ends the process;
 * every status maps to a documented exit code (docs/cli.md). */
#include "cli.h"
#include "tribe/cluster.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int tribe_cli_stopped;
static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
    stop_signal = sig;
}

static int stop_requested(void)
{
    return stop_signal != 0;
}

tribe_cli_stop_test tribe_cli_catch_stop(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sa.sa_flags = SA_RESETHAND | SA_RESTART; /* the second signal is not caught */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    return stop_requested;
}

static const tribe_cli_cmd *const COMMANDS[] = {&tribe_cmd_gen, &tribe_cmd_ingest, &tribe_cmd_import, &tribe_cmd_run,
                                                &tribe_cmd_export, &tribe_cmd_campaign, &tribe_cmd_explain,
                                                &tribe_cmd_assign, &tribe_cmd_history, &tribe_cmd_diff, &tribe_cmd_serve,
                                                &tribe_cmd_publish};
#define NCMD (sizeof COMMANDS / sizeof COMMANDS[0])

tribe_status tribe_cli_usage(const char *cmd, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return tribe_fail(TRIBE_ERR_USAGE, "%s (see 'tribe %s --help')", msg, cmd);
}

tribe_status tribe_cli_int(const char *cmd, const char *opt, const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || !end || *end || end == s || v < lo || v > hi)
        return tribe_cli_usage(cmd, "%s expects an integer in [%lld, %lld], got '%s'", opt, (long long)lo,
                               (long long)hi, s);
    *out = v;
    return TRIBE_OK;
}

int tribe_cli_is_dir_arg(const char *path)
{
    struct stat sb;
    size_t n = strlen(path);
    return (n > 0 && path[n - 1] == '/') || (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode));
}

/* The directory holding cli.md, absolute: <prefix>/share/doc/tribe beside an
 * installed binary (<prefix>/bin/tribe), else the docs/ of the source tree the
 * binary was built from; "" when neither is there. */
static const char *doc_dir(char *buf, size_t cap)
{
    char exe[PATH_MAX], guess[2][PATH_MAX + 32], *slash;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    if ((slash = strrchr(exe, '/')))
        *slash = '\0';
    snprintf(guess[0], sizeof guess[0], "%s/../share/doc/tribe", exe);
    snprintf(guess[1], sizeof guess[1], "%s/docs", TRIBE_SOURCE_DIR);
    buf[0] = '\0';
    for (int i = 0; i < 2 && !buf[0]; i++) {
        char real[PATH_MAX], page[PATH_MAX + 16];
        if (realpath(guess[i], real) && snprintf(page, sizeof page, "%s/cli.md", real) > 0 && access(page, R_OK) == 0)
            snprintf(buf, cap, "%s", real);
    }
    return buf;
}

/* Where to read more, after a --help: the manual page and the reference by an
 * absolute path (a relative docs/ path means nothing outside the sources). */
static void print_more(const char *cmd)
{
    char dir[PATH_MAX];
    if (!*doc_dir(dir, sizeof dir))
        printf("\nMore: man tribe, and cli.md in tribe's documentation (share/doc/tribe under the installation\n"
               "prefix, docs/ in the sources), beside the other docs/*.md files.\n");
    else if (cmd)
        printf("\nMore: man tribe; the 'tribe %s' section of %s/cli.md\n(the docs/*.md files named above are in %s).\n",
               cmd, dir, dir);
    else
        printf("\nMore: man tribe; every command and option: %s/cli.md.\n", dir);
}

/* --progress / --no-progress (run and ingest; taken out of argv here, the
 * last one wins) or else TRIBE_PROGRESS=1 / 0; without either, progress lines
 * go to a terminal only. Rank 0 alone prints them (tribe/core.h, "progress").
 * TRIBE_PROGRESS_INTERVAL (seconds, default 1; a test hook) spaces them. */
static tribe_status progress_setup(const tribe_cli_cmd *cmd, int rank, int *argc, char **argv)
{
    const char *env = getenv("TRIBE_PROGRESS"), *iv = getenv("TRIBE_PROGRESS_INTERVAL");
    int want = isatty(STDERR_FILENO), takes = strcmp(cmd->name, "run") == 0 || strcmp(cmd->name, "ingest") == 0;
    if (env && *env)
        want = strcmp(env, "0") != 0;
    int n = 1;
    for (int i = 1; i < *argc; i++) {
        int on = strcmp(argv[i], "--progress") == 0, off = strcmp(argv[i], "--no-progress") == 0;
        if ((on || off) && !takes)
            return tribe_cli_usage(cmd->name, "%s applies to run and ingest only", argv[i]);
        if (on || off)
            want = on;
        else
            argv[n++] = argv[i];
    }
    argv[n] = NULL;
    *argc = n;
    char *end = NULL;
    double interval = iv && *iv ? strtod(iv, &end) : 1.0;
    if (end && (end == iv || *end || !(interval >= 0)))
        return tribe_cli_usage(cmd->name, "TRIBE_PROGRESS_INTERVAL='%s': need a number of seconds >= 0", iv);
    tribe_progress_setup(want && takes && rank == 0, interval, NULL, NULL); /* serve, explain, ...: never */
    return TRIBE_OK;
}

static void print_help(void)
{
    printf("tribe %s: customer segmentation, explanation and personas on MPI clusters\n\n"
           "usage: tribe <command> [options]   (collective: run under mpiexec or srun for several ranks)\n\n"
           "commands:\n",
           TRIBE_VERSION);
    for (size_t i = 0; i < NCMD; i++)
        printf("  %-8s %s\n", COMMANDS[i]->name, COMMANDS[i]->summary);
    printf("\noptions:\n  -h, --help     this help ('tribe <command> --help' for a command's options)\n"
           "  -V, --version  print the version\n\n"
           "exit codes: 0 ok, 2 usage or job spec, 3 bad input data, 4 environment (files, HDF5, MPI),\n"
           "            5 internal error, 75 run stopped on a signal (checkpoint kept: rerun to resume).\n");
    print_more(NULL);
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        print_help();
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("tribe %s\n", TRIBE_VERSION);
        return 0;
    }
    const tribe_cli_cmd *cmd = NULL;
    for (size_t i = 0; i < NCMD; i++)
        if (strcmp(argv[1], COMMANDS[i]->name) == 0)
            cmd = COMMANDS[i];
    if (!cmd) {
        fprintf(stderr, "tribe: unknown command '%s' (see 'tribe --help')\n", argv[1]);
        return tribe_status_exit_code(TRIBE_ERR_USAGE);
    }
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(cmd->usage, stdout);
            print_more(cmd->name);
            return 0;
        }

    tribe_par *par = NULL;
    tribe_status st = tribe_par_init(&argc, &argv, &par);
    if (st != TRIBE_OK) {
        fprintf(stderr, "tribe %s: error: %s\n", cmd->name, tribe_errmsg());
        return tribe_status_exit_code(st);
    }
    const char *lvl = getenv("TRIBE_LOG");
    tribe_log_level level = TRIBE_LOG_INFO;
    if (lvl && strcmp(lvl, "debug") == 0)
        level = TRIBE_LOG_DEBUG;
    else if (lvl && strcmp(lvl, "warn") == 0)
        level = TRIBE_LOG_WARN;
    tribe_log_setup(tribe_par_rank(par), level, 0);
    st = progress_setup(cmd, tribe_par_rank(par), &argc, argv);
    /* Process-wide settings, once: BLAS on one thread (the kernels' threads
     * are OpenMP's), and the SIMD level read from TRIBE_SIMD now, so a bad
     * value is reported at start-up. */
    tribe_blas_init();
    (void)tribe_simd_level();

    /* getopt_long sees "tribe-<cmd> [options]". */
    if (st == TRIBE_OK)
        st = cmd->run(par, argc - 1, argv + 1);
    /* Commands agree on their status; agree once more so that no rank exits
     * with a different code than the others. */
    st = tribe_par_agree(par, st);
    if (st != TRIBE_OK && tribe_par_rank(par) == 0)
        fprintf(stderr, "tribe %s: error (%s): %s\n", cmd->name, tribe_status_name(st), tribe_errmsg());
    tribe_par_finalize(&par);
    return st == TRIBE_OK && tribe_cli_stopped ? TRIBE_EXIT_STOPPED : tribe_status_exit_code(st);
}
