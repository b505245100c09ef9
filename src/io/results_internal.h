/* Private to src/io: parts of the results.h5 writer kept in their own files. */
#ifndef TRIBE_RESULTS_INTERNAL_H
#define TRIBE_RESULTS_INTERNAL_H

#include "tribe/h5.h"
#include "tribe/results.h"

/* Collective. Writes the beyond-K-Means parts of r that are present
 * (outliers, mixture, Ward tree, the projection's PCA) into the open file
 * (layout in docs/hdf5-layout.md), and their summary attributes on
 * /runs/<run_id>. Errors: IO, NOMEM. */
tribe_status tribe_results_write_beyond(tribe_h5 *h, const tribe_results *r);

#endif
