/* augment.h - torchvision's augmentations (clnet_augment, augment.c) for the batcher's
 * workers. Tests: tests/unit/test_augment.c. */
#ifndef CLNET_DATA_AUGMENT_H
#define CLNET_DATA_AUGMENT_H

#include "data/data.h"
#include "tensor/rng.h"

/* What clnet__random_resized_crop draws with: the image's generator, the options and the
 * model's size. */
typedef struct clnet__crop_draw {
    clnet__rng *r;
    const clnet_augment *aug;
    int out_h, out_w;
} clnet__crop_draw;

/* A clnet__pick_fn (user: a clnet__crop_draw): RandomResizedCrop's region of an h x w
 * image, and the model's size as what it will be resized to. */
void clnet__random_resized_crop(void *user, int h, int w, clnet__region *region, int *out_h,
                                int *out_w);

/* Flip, ColorJitter and RandomAffine, as a asks, on img (h x w x c floats in [0, 1]);
 * tmp: h * w * c floats of scratch. */
void clnet__augment_pixels(const clnet_augment *a, clnet__rng *r, float *img, float *tmp, int h,
                           int w, int c);

/* a's fields are finite, not negative and in range (scale_min <= scale_max <= 1, ratio_min
 * <= ratio_max, translate <= 1, rotation <= 180). */
int clnet__augment_valid(const clnet_augment *a);

#endif
