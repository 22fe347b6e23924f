#ifndef XRBENCH_CTURBOJPEG_SHIM_H
#define XRBENCH_CTURBOJPEG_SHIM_H
#include <turbojpeg.h>
#endif
