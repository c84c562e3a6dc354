/* rng.h - the one seeded generator (xoshiro256**, seeded by splitmix64) used for
 * weight init, test data, shuffling and augmentation; same seed, same numbers on
 * every machine. rng.c. */
#ifndef CLNET_TENSOR_RNG_H
#define CLNET_TENSOR_RNG_H

#include <stdint.h>

typedef struct clnet__rng {
    uint64_t s[4];
} clnet__rng;

void clnet__rng_seed(clnet__rng *r, uint64_t seed);
uint64_t clnet__rng_next(clnet__rng *r);
/* Uniform in [0, 1) with 53 random bits. */
double clnet__rng_uniform(clnet__rng *r);
/* Standard normal (Box-Muller, one value per call). */
double clnet__rng_normal(clnet__rng *r);

#endif
