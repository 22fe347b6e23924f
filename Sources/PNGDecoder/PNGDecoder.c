#include "PNGDecoder.h"
#include <png.h>
int xrb_png_placeholder(void) { return PNG_LIBPNG_VER; }
