/* Owners of files in shared directories: who writes an output, whether a
 * leftover's writer is provably gone, and the locks that keep two writers of
 * one output apart (docs/outputs.md, "Locks and leftovers").
 *
 *   tribe_lock *lk = NULL;
 *   st = tribe_lock_take("out/.lock", "output directory out", "run r1", 0, NULL, &lk);
 *   ... write ...
 *   tribe_lock_release(&lk);   // also when the process dies: the kernel (or
 *                              // the NFS/Lustre lock manager) drops it
 *
 * An owner record is text, one "key value" line each: pid, host, start (the
 * process start time, telling a live owner from a recycled pid), slurm_job,
 * restart (SLURM_RESTART_COUNT) and what ("run r1", "ingest"). Not
 * collective: rank 0 calls these. */
#ifndef TRIBE_OWNER_H
#define TRIBE_OWNER_H

#include "tribe/core.h"

#include <time.h>

/* An owner on another host counts as gone once its record is untouched this
 * long (a live run touches it at every stage boundary). */
#define TRIBE_OWNER_STALE_SECONDS (24 * 3600)

/* This process's owner record, what = "run r1", "ingest", ... INTERNAL when
 * cap is too small. */
tribe_status tribe_owner_record(const char *what, char *out, size_t cap);
/* This host's name (gethostname; "unknown" when it fails). */
void tribe_owner_host(char *out, size_t cap);
/* The value of "key value" line `key` of a record into out[cap] ("" none). */
void tribe_owner_field(const char *record, const char *key, char *out, size_t cap);
/* 1 when the record's owner may still be running: on this host, a live
 * process with that pid and start time other than this one; the same Slurm
 * job at another restart count is gone (requeued); on another host, a record
 * touched (mtime `touched`) within TRIBE_OWNER_STALE_SECONDS. "pid P on host
 * H" into who. */
int tribe_owner_alive(const char *record, time_t touched, char *who, size_t cap);
/* Start time of process pid in clock ticks since boot, 0 when no such live
 * process (a zombie counts as ended). */
unsigned long long tribe_owner_proc_start(long pid);

/* A temporary file of a dead pid that is not a known dead owner's counts as
 * a killed writer's once untouched this long (the pid may be another host's). */
#define TRIBE_TMP_STALE_SECONDS 3600

/* 1 for a temporary name "<anything>.tmp.<pid>", "<anything>.tmp.<pid>.1.0"
 * (a part) or "<anything>.tmp.<pid>.tmp.<pid>" (a temporary's own) whose pid
 * is no live process on this host; *pid receives it. */
int tribe_tmp_dead(const char *name, long *pid);
/* 1 when the temporary file path (its last component name) is a killed
 * writer's: tribe_tmp_dead, and its pid is gone_pid (an owner known to be
 * gone, e.g. a lock's previous holder; 0 none) or, when by_age, untouched for
 * TRIBE_TMP_STALE_SECONDS. */
int tribe_tmp_stale(const char *path, const char *name, long gone_pid, int by_age);
/* Removes the killed writers' temporaries of the file `final`:
 * "<final>.tmp.<pid>..." beside it for which tribe_tmp_stale (by age too),
 * with a warning naming each. */
void tribe_tmp_clean(const char *final, long gone_pid);

/* A lock on a file held for the life of a writer (fcntl F_SETLK write lock,
 * the POSIX lock NFS and Lustre forward to their lock managers). */
typedef struct tribe_lock tribe_lock;
/* Takes the lock on path (created 0644 when missing) and writes this
 * process's owner record into it. When another process holds it: IO with
 * "<subject> is in use by <holder's what> (pid P on host H)". On a file system
 * without POSIX locks (ENOLCK, EOPNOTSUPP, ENOSYS) the record decides: a live
 * owner's record (tribe_owner_alive) is the same refusal, else the lock is
 * taken with a warning that it is advisory only. unlink_at_release: the file
 * is removed by tribe_lock_release (for a lock beside a file, not in a
 * directory of its own); then a lock won on a file unlinked meanwhile is
 * retried on the new one. *prev_record receives the record found in the
 * file before (caller frees; NULL when empty), the dead previous owner's.
 * IO, NOMEM. */
tribe_status tribe_lock_take(const char *path, const char *subject, const char *what, int unlink_at_release,
                             char **prev_record, tribe_lock **out);
/* Appends text to the lock file's record (flushed to disk). IO. */
tribe_status tribe_lock_append(tribe_lock *lk, const char *text);
/* Touches the lock file (the heartbeat other hosts judge its owner by). */
void tribe_lock_touch(tribe_lock *lk);
/* Renames from[i] to to[i] in order, after appending the list to the lock
 * file (flushed: from then on the set is committed, *committed = 1, and a
 * kill before the last rename is completed by tribe_commit_recover). The
 * files are the lock's owner's. IO naming the file that could not be
 * renamed; after the flush the lock file then stays at release, list
 * included, for the next writer to complete. */
tribe_status tribe_commit_renames(tribe_lock *lk, int n, const char *const *from, const char *const *to,
                                  int *committed);
/* Completes the renames of a committed set that a dead owner's record lists
 * (record as tribe_lock_take's prev_record gives it; NULL: nothing), with a
 * warning; an uncommitted set is left to tribe_tmp_clean. Returns the dead
 * owner's pid (0 none). */
long tribe_commit_recover(const char *record);
/* Releases the lock (unlinking the file first when asked at take); accepts
 * NULL, sets *lk to NULL. */
void tribe_lock_release(tribe_lock **lk);

#endif
