#ifndef XRBENCH_CBLAS_SHIM_H
#define XRBENCH_CBLAS_SHIM_H
#include <cblas.h>
#endif
