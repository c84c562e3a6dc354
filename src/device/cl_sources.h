/* cl_sources.h - the table of embedded kernel sources, generated at build time
 * from the .cl files in cl/ by cmake/EmbedCL.cmake. */
#ifndef CLNET_DEVICE_CL_SOURCES_H
#define CLNET_DEVICE_CL_SOURCES_H

#include <stddef.h>

typedef struct clnet__cl_source {
    const char *name; /* file name without .cl */
    const char *text; /* NUL-terminated */
    size_t length;    /* bytes, without the NUL */
} clnet__cl_source;

extern const clnet__cl_source clnet__cl_sources[]; /* ends with a NULL name */
extern const int clnet__cl_source_count;

#endif
