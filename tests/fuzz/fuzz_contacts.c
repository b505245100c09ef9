/* libFuzzer harness: tribe_contacts_read (contacts.csv of `tribe campaign
 * send`), any bytes as the file. On success the contacts are sorted by id,
 * unique, and each is found by its id. */
#include "fuzzutil.h"

#include "tribe/campaign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tribe_contacts *cs = NULL;
    tribe_status st = tribe_contacts_read(fz_file("contacts.csv", data, size), &cs);
    fz_note("tribe_contacts_read", st);
    if (st == TRIBE_OK) {
        FZ_CHECK(cs != NULL);
        for (int64_t i = 0; i < cs->n; i++) {
            FZ_CHECK(i == 0 || cs->c[i - 1].id < cs->c[i].id);
            FZ_CHECK(tribe_contacts_find(cs, cs->c[i].id) == &cs->c[i]);
        }
    } else {
        FZ_CHECK(cs == NULL);
    }
    tribe_contacts_destroy(&cs);
    return 0;
}
