/* tribe ingest: placeholder until the stage lands. */
#include "cli.h"

static tribe_status run(tribe_par *par, int argc, char **argv)
{
    (void)par;
    (void)argc;
    (void)argv;
    return tribe_fail(TRIBE_ERR_INTERNAL, "not built yet");
}

const tribe_cli_cmd tribe_cmd_ingest = {"ingest", "(pending)", "usage: tribe ingest\n", run};
