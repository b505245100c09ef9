/* Internal to src/cli: the subcommands and their shared helpers. */
#ifndef TRIBE_CLI_H
#define TRIBE_CLI_H

#include "tribe/core.h"
#include "tribe/par.h"

/* Exit code of a run that stopped on SIGUSR1 or SIGTERM at a stage boundary
 * with its checkpoint kept: rerun the same job to resume (docs/cli.md). 75 is
 * sysexits' EX_TEMPFAIL, "try again later". */
#define TRIBE_EXIT_STOPPED 75

typedef struct {
    const char *name;
    const char *summary;
    const char *usage;   /* full --help text */
    tribe_status (*run)(tribe_par *par, int argc, char **argv);
} tribe_cli_cmd;

extern const tribe_cli_cmd tribe_cmd_gen, tribe_cmd_ingest, tribe_cmd_import, tribe_cmd_run, tribe_cmd_export,
    tribe_cmd_campaign, tribe_cmd_explain, tribe_cmd_assign, tribe_cmd_history, tribe_cmd_diff, tribe_cmd_serve,
    tribe_cmd_publish;

/* Fails with USAGE naming the subcommand, pointing at --help. */
tribe_status tribe_cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Parses a non-negative integer option value; USAGE naming the option. */
tribe_status tribe_cli_int(const char *cmd, const char *opt, const char *s, int64_t lo, int64_t hi, int64_t *out);

/* 1 when an output path names a directory: a trailing slash, or one that exists. */
int tribe_cli_is_dir_arg(const char *path);

/* A run's segments as results.h5 holds them (docs/hdf5-layout.md). */
typedef struct {
    char *run_id;
    int64_t n;       /* customers read: all on rank 0, 0 on the other ranks */
    int64_t *id;     /* [n] /segments/id */
    char *id_text;   /* [n][id_width] /segments/id_text with string ids (tribe/id.h), else NULL */
    int id_width;
    int32_t *label;  /* [n] /segments/label */
    int k;
    int64_t *seg_id; /* [k] persistent id of each label (the label itself in a run without them) */
    char **names;    /* [k] segment names */
} tribe_cli_run_segments;
/* Collective: reads DIR/results.h5 into *r (zeroed on error). INPUT when it
 * is not a results file, IO. */
tribe_status tribe_cli_run_segments_read(tribe_par *par, const char *dir, tribe_cli_run_segments *r);
void tribe_cli_run_segments_free(tribe_cli_run_segments *r);
/* The label whose persistent id is seg, or -1; known gets the run's ids
 * ("0, 1, 4") for the message. */
int tribe_cli_run_segments_pos(const tribe_cli_run_segments *r, int64_t seg, char *known, size_t cap);

/* Parses a number in [lo, hi] ("0.1"); USAGE naming the option. */
tribe_status tribe_cli_number(const char *cmd, const char *opt, const char *s, double lo, double hi, double *out);
/* tribe campaign measure (cmd_measure.c). Collective (rank 0 works). */
tribe_status tribe_cli_campaign_measure(tribe_par *par, int argc, char **argv);

/* tribe campaign audience (cmd_audience.c). Collective. */
tribe_status tribe_cli_campaign_audience(tribe_par *par, int argc, char **argv);

/* Not collective. Installs handlers for SIGUSR1 and SIGTERM that only set a
 * flag (async-signal-safe; a second signal of either kind ends the process
 * as usual) and returns the test of that flag, for tribe_pipeline_set_stop. */
typedef int (*tribe_cli_stop_test)(void);
tribe_cli_stop_test tribe_cli_catch_stop(void);
/* Set by a command that stopped early on that flag with its work kept: the
 * process then exits with TRIBE_EXIT_STOPPED instead of 0. */
extern int tribe_cli_stopped;

#endif
