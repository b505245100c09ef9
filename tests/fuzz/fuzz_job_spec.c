/* libFuzzer harness: a `tribe run` job spec as text, parsed and checked by
 * every stage's configure (tribe_pipeline_create_text: the run-wide keys,
 * each stage's keys with their types and bounds, unknown keys), on one rank.
 * Nothing is run. The spec "file" is in the harness's temporary folder, so
 * relative paths resolve there. */
#include "fuzzutil.h"

#include "tribe/stage.h"

#include <stdlib.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    tribe_log_setup(0, TRIBE_LOG_ERROR, 0);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tribe_par *par = NULL;
    FZ_CHECK(tribe_par_serial(&par) == TRIBE_OK);
    char *text = fz_text(data, size);
    const char *path = fz_file("job.json", data, size);
    tribe_pipeline *pl = NULL;
    tribe_status st = tribe_pipeline_create_text(par, path, text, NULL, 0, &pl);
    fz_note("tribe_pipeline_create_text", st);
    FZ_CHECK((st == TRIBE_OK) == (pl != NULL));
    FZ_CHECK(st == TRIBE_OK || st == TRIBE_ERR_USAGE || st == TRIBE_ERR_INPUT || st == TRIBE_ERR_IO);
    tribe_pipeline_destroy(&pl);
    free(text);
    tribe_par_finalize(&par);
    return 0;
}
