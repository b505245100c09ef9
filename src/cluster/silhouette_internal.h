/* Test hooks of the sampled silhouette (src/cluster/silhouette.c); not API. */
#ifndef TRIBE_SILHOUETTE_INTERNAL_H
#define TRIBE_SILHOUETTE_INTERNAL_H

/* 1: use the portable scalar distance kernel even where AVX2 is available
 * (tests assert both kernels give the same bits); 0: pick by CPU. Returns
 * whether the AVX2 kernel is in use after the call. Not thread-safe. */
int tribe_silhouette_force_scalar(int on);

#endif
