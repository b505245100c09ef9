/* Unit tests for src/core/owner.c: owner records, killed writers'
 * temporaries, writer locks between processes, and committed sets of
 * renames completed after a kill. */
#include "testutil.h"
#include "tribe/owner.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* A fresh directory under /tmp (caller removes it with rm_tree). */
static void make_dir(char *dir, size_t cap)
{
    snprintf(dir, cap, "/tmp/tribe-owner-XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
}

static void rm_tree(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CU_ASSERT_EQUAL(system(cmd), 0);
}

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

/* The pid of a process that has ended and been reaped. */
static long dead_pid(void)
{
    pid_t p = fork();
    if (p == 0)
        _exit(0);
    waitpid(p, NULL, 0);
    return (long)p;
}

static void a_record_of_this_process_should_name_it_and_count_as_gone_only_for_a_returned_pipeline(void)
{
    char rec[1024], v[64], who[512];
    CU_ASSERT_EQUAL(tribe_owner_record("run r1", rec, sizeof rec), TRIBE_OK);
    tribe_owner_field(rec, "pid", v, sizeof v);
    CU_ASSERT_EQUAL(strtol(v, NULL, 10), (long)getpid());
    tribe_owner_field(rec, "what", v, sizeof v);
    CU_ASSERT_STRING_EQUAL(v, "run r1");
    /* this very process: an earlier pipeline of it, which has returned */
    CU_ASSERT_EQUAL(tribe_owner_alive(rec, time(NULL), who, sizeof who), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(who, "on host "));
}

static void a_record_should_be_alive_for_a_live_process_and_gone_for_a_dead_or_recycled_one(void)
{
    char rec[512], host[256], who[512];
    long parent = (long)getppid();
    tribe_owner_host(host, sizeof host);
    snprintf(rec, sizeof rec, "pid %ld\nhost %s\nstart %llu\nslurm_job -\nrestart 0\n", parent, host,
             tribe_owner_proc_start(parent));
    CU_ASSERT_EQUAL(tribe_owner_alive(rec, 0, who, sizeof who), 1);
    snprintf(rec, sizeof rec, "pid %ld\nhost %s\nstart 1\nslurm_job -\nrestart 0\n", parent, host);
    CU_ASSERT_EQUAL(tribe_owner_alive(rec, 0, who, sizeof who), 0); /* the pid was recycled */
    snprintf(rec, sizeof rec, "pid %ld\nhost %s\nstart 1\nslurm_job -\nrestart 0\n", dead_pid(), host);
    CU_ASSERT_EQUAL(tribe_owner_alive(rec, 0, who, sizeof who), 0);
    /* another host: judged by when the record was touched */
    snprintf(rec, sizeof rec, "pid 1\nhost not-%s\nstart 1\nslurm_job -\nrestart 0\n", host);
    CU_ASSERT_EQUAL(tribe_owner_alive(rec, time(NULL), who, sizeof who), 1);
    CU_ASSERT_EQUAL(tribe_owner_alive(rec, time(NULL) - TRIBE_OWNER_STALE_SECONDS - 1, who, sizeof who), 0);
}

static void temporary_names_should_be_recognised_only_in_their_three_forms(void)
{
    long pid = 0, dead = dead_pid();
    char name[64];
    snprintf(name, sizeof name, "c.h5.tmp.%ld", dead);
    CU_ASSERT_EQUAL(tribe_tmp_dead(name, &pid), 1);
    CU_ASSERT_EQUAL(pid, dead);
    snprintf(name, sizeof name, "r.csv.tmp.%ld.1.0", dead);
    CU_ASSERT_EQUAL(tribe_tmp_dead(name, &pid), 1);
    snprintf(name, sizeof name, "c.h5.tmp.%ld.tmp.%ld", dead, dead);
    CU_ASSERT_EQUAL(tribe_tmp_dead(name, &pid), 1);
    snprintf(name, sizeof name, "c.h5.tmp.%ldx", dead);
    CU_ASSERT_EQUAL(tribe_tmp_dead(name, &pid), 0);
    snprintf(name, sizeof name, "notes.tmp.%ld.txt", dead);
    CU_ASSERT_EQUAL(tribe_tmp_dead(name, &pid), 0);
    snprintf(name, sizeof name, "c.h5.tmp.%ld", (long)getpid());
    CU_ASSERT_EQUAL(tribe_tmp_dead(name, &pid), 0); /* alive */
    CU_ASSERT_EQUAL(tribe_tmp_dead("c.h5", &pid), 0);
}

static void cleaning_should_remove_a_gone_owners_and_old_temporaries_and_keep_young_unknown_ones(void)
{
    char dir[64], final[128], a[160], b[160], c[160], d[160];
    long gone = dead_pid(), other = dead_pid();
    make_dir(dir, sizeof dir);
    snprintf(final, sizeof final, "%s/c.h5", dir);
    snprintf(a, sizeof a, "%s.tmp.%ld", final, gone);
    snprintf(b, sizeof b, "%s.tmp.%ld", final, other);
    snprintf(c, sizeof c, "%s.tmp.%ld.0.1", final, other);
    snprintf(d, sizeof d, "%s/d.h5.tmp.%ld", dir, gone); /* another file's */
    put(a, "x");
    put(b, "x");
    put(c, "x");
    put(d, "x");
    time_t hour_ago = time(NULL) - TRIBE_TMP_STALE_SECONDS - 5;
    struct timespec old[2] = {{hour_ago, 0}, {hour_ago, 0}};
    CU_ASSERT_EQUAL(utimensat(AT_FDCWD, c, old, 0), 0);
    tribe_tmp_clean(final, gone);
    CU_ASSERT_NOT_EQUAL(access(a, F_OK), 0); /* the gone owner's */
    CU_ASSERT_EQUAL(access(b, F_OK), 0);     /* young, unknown writer: its pid may be another host's */
    CU_ASSERT_NOT_EQUAL(access(c, F_OK), 0); /* an hour old */
    CU_ASSERT_EQUAL(access(d, F_OK), 0);     /* not this file's */
    rm_tree(dir);
}

static void a_held_lock_should_refuse_another_process_naming_its_owner_and_pass_on_its_record(void)
{
    char dir[64], path[128];
    int to_child[2], from_child[2];
    make_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/.lock", dir);
    CU_ASSERT_EQUAL_FATAL(pipe(to_child), 0);
    CU_ASSERT_EQUAL_FATAL(pipe(from_child), 0);
    pid_t child = fork();
    CU_ASSERT_NOT_EQUAL_FATAL(child, -1);
    if (child == 0) { /* holds the lock until told to end */
        tribe_lock *lk = NULL;
        char c = tribe_lock_take(path, "output directory out", "run r1", 0, NULL, &lk) == TRIBE_OK ? 'y' : 'n';
        if (write(from_child[1], &c, 1) != 1 || read(to_child[0], &c, 1) != 1)
            _exit(2);
        _exit(0); /* without releasing: the kernel does, as for a killed run */
    }
    char c = 0, *prev = NULL, v[64];
    CU_ASSERT_EQUAL(read(from_child[0], &c, 1), 1);
    CU_ASSERT_EQUAL(c, 'y');
    tribe_lock *lk = NULL;
    CU_ASSERT_EQUAL(tribe_lock_take(path, "output directory out", "run r2", 0, &prev, &lk), TRIBE_ERR_IO);
    CU_ASSERT_PTR_NULL(lk);
    char want[128];
    snprintf(want, sizeof want, "output directory out is in use by run r1 (pid %ld on host ", (long)child);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), want));
    CU_ASSERT_EQUAL(write(to_child[1], "x", 1), 1);
    CU_ASSERT_EQUAL(waitpid(child, NULL, 0), child);
    CU_ASSERT_EQUAL(tribe_lock_take(path, "output directory out", "run r2", 0, &prev, &lk), TRIBE_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(prev);
    tribe_owner_field(prev, "pid", v, sizeof v);
    CU_ASSERT_EQUAL(strtol(v, NULL, 10), (long)child);
    free(prev);
    tribe_lock_release(&lk);
    tribe_lock_release(&lk); /* twice: harmless */
    CU_ASSERT_EQUAL(access(path, F_OK), 0); /* a directory's lock file stays */
    for (int i = 0; i < 2; i++) {
        close(to_child[i]);
        close(from_child[i]);
    }
    rm_tree(dir);
}

static void a_committed_set_cut_by_a_kill_should_be_completed_and_an_uncommitted_one_left(void)
{
    char dir[64], lock[128], from[2][128], to[2][128], rec[2048], *prev = NULL, *text = NULL;
    make_dir(dir, sizeof dir);
    snprintf(lock, sizeof lock, "%s/c.h5.lock", dir);
    for (int i = 0; i < 2; i++) {
        snprintf(from[i], sizeof from[i], "%s/f%d.tmp.1", dir, i);
        snprintf(to[i], sizeof to[i], "%s/f%d", dir, i);
        put(from[i], i ? "new1" : "new0");
        put(to[i], "old");
    }
    tribe_lock *lk = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_lock_take(lock, "c.h5", "tribe ingest", 1, NULL, &lk), TRIBE_OK);
    int committed = 0;
    CU_ASSERT_EQUAL(tribe_commit_renames(lk, 2, (const char *const[]){from[0], from[1]},
                                         (const char *const[]){to[0], to[1]}, &committed),
                    TRIBE_OK);
    CU_ASSERT_EQUAL(committed, 1);
    CU_ASSERT_EQUAL(tribe_read_file(lock, &prev, NULL), TRIBE_OK);
    tribe_lock_release(&lk);
    CU_ASSERT_NOT_EQUAL(access(lock, F_OK), 0); /* a lock beside a file goes */
    /* The same list as a killed writer left it after the first rename. */
    put(from[1], "new1");
    put(to[1], "old");
    snprintf(rec, sizeof rec, "%s", strstr(prev, "commit\n"));
    free(prev);
    prev = NULL;
    char full[2300];
    snprintf(full, sizeof full, "pid %ld\nhost h\nstart 1\nslurm_job -\nrestart 0\nwhat tribe ingest\n%s", dead_pid(),
             rec);
    CU_ASSERT_NOT_EQUAL(tribe_commit_recover(full), 0);
    CU_ASSERT_EQUAL(tribe_read_file(to[1], &text, NULL), TRIBE_OK);
    CU_ASSERT_STRING_EQUAL(text, "new1");
    free(text);
    /* Without its "end" line the list was not committed: nothing moves. */
    put(from[1], "newer");
    *strstr(full, "end\n") = '\0';
    tribe_commit_recover(full);
    CU_ASSERT_EQUAL(access(from[1], F_OK), 0);
    CU_ASSERT_EQUAL(tribe_commit_recover(NULL), 0);
    rm_tree(dir);
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(a_record_of_this_process_should_name_it_and_count_as_gone_only_for_a_returned_pipeline),
        TRIBE_TEST(a_record_should_be_alive_for_a_live_process_and_gone_for_a_dead_or_recycled_one),
        TRIBE_TEST(temporary_names_should_be_recognised_only_in_their_three_forms),
        TRIBE_TEST(cleaning_should_remove_a_gone_owners_and_old_temporaries_and_keep_young_unknown_ones),
        TRIBE_TEST(a_held_lock_should_refuse_another_process_naming_its_owner_and_pass_on_its_record),
        TRIBE_TEST(a_committed_set_cut_by_a_kill_should_be_completed_and_an_uncommitted_one_left),
        {NULL, NULL}};
    return tribe_test_main("owner", cases);
}
