/* Test hooks of the sampled silhouette (src/cluster/silhouette.c); not API. */
#ifndef TRIBE_SILHOUETTE_INTERNAL_H
#define TRIBE_SILHOUETTE_INTERNAL_H

/* Chooses the distance kernel: 0 portable, 1 AVX2+FMA, 2 AVX-512F, -1 the
 * best the CPU has (the default); a level the CPU lacks falls back to the
 * best it has. Returns the level in use (tests assert every level gives the
 * same bits). Not thread-safe. */
int tribe_silhouette_kernel(int level);

#endif
