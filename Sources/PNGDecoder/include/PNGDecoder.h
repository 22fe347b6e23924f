#ifndef XRBENCH_PNGDECODER_H
#define XRBENCH_PNGDECODER_H
int xrb_png_placeholder(void);
#endif
