/* Helpers shared by the libFuzzer harnesses (tests/fuzz/fuzz_<target>.c,
 * docs/fuzzing.md).
 *
 *  - fz_file: the input (or a piece of it) as a file in this process's own
 *    temporary folder, for the readers that take a path (CSV sources);
 *  - fz_text: a NUL-terminated heap copy, for the parsers that take a string;
 *  - fz_cut: the next newline-terminated piece of the input, for harnesses
 *    whose input is several values (the webhook's headers, then its body).
 *
 * A harness aborts (FZ_CHECK) when a property tribe promises is broken: the
 * fuzzer then keeps the input as a crash like any sanitizer report. */
#ifndef TRIBE_FUZZUTIL_H
#define TRIBE_FUZZUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "tribe/core.h"

#define FZ_CHECK(cond)                                                                                         \
    do {                                                                                                       \
        if (!(cond))                                                                                           \
            fz_fail(__FILE__, __LINE__, #cond);                                                                \
    } while (0)

void fz_fail(const char *file, int line, const char *what) __attribute__((noreturn));
/* With TRIBE_FUZZ_VERBOSE set, prints what `what` returned and tribe's
 * error message: which inputs of a corpus get past which check. */
void fz_note(const char *what, tribe_status st);
/* Writes data[0, n) to <tmp>/<name> (overwritten each call) and returns
 * the path (static storage, valid until the next call with that name). */
const char *fz_file(const char *name, const uint8_t *data, size_t n);
/* A heap copy of data[0, n) with a NUL after it; the caller frees it. */
char *fz_text(const uint8_t *data, size_t n);
/* Takes the bytes before the next '\n' of *data (or all of them) as a heap
 * string (caller frees) and moves *data, *n past the newline. */
char *fz_cut(const uint8_t **data, size_t *n);

#endif
