/* tribe: the command-line entry point (placeholder until the CLI lands). */
#include "tribe/core.h"

int main(void)
{
    printf("tribe %s\n", TRIBE_VERSION);
    return 0;
}
