#ifndef XRBENCH_CLIBPNG_SHIM_H
#define XRBENCH_CLIBPNG_SHIM_H
#include <png.h>
#endif
