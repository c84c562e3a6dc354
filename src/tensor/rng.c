/* rng.c - xoshiro256** seeded with splitmix64 (both public-domain algorithms by
 * Blackman and Vigna). Tests: tests/unit/test_tensor_init.c. */
#include <math.h>

#include "tensor/rng.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void clnet__rng_seed(clnet__rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; ++i)
        r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t clnet__rng_next(clnet__rng *r)
{
    uint64_t *s = r->s;
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double clnet__rng_uniform(clnet__rng *r)
{
    return (double)(clnet__rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

double clnet__rng_normal(clnet__rng *r)
{
    double u1 = clnet__rng_uniform(r), u2 = clnet__rng_uniform(r);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
