/* libFuzzer harness: tribe_ingest with the fuzzer's bytes as the demographics
 * file (fuzz_ingest.h). */
#include "fuzz_ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fz_ingest(FZ_DEMO, data, size); }
