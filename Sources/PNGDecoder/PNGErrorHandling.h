#ifndef XRBENCH_PNG_ERROR_HANDLING_H
#define XRBENCH_PNG_ERROR_HANDLING_H

// Shared by the reader and the writer: libpng's error callback copies the message into the
// caller's buffer and longjmps back to the setjmp in the entry point; the warning callback
// keeps quiet, because a library must not print to stderr on a user's behalf.

#include <png.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    char *message;
    size_t message_capacity;
} xrb_png_error_sink;

static inline void xrb_png_set_message(xrb_png_error_sink *sink, const char *text) {
    if (sink->message == NULL || sink->message_capacity == 0) return;
    snprintf(sink->message, sink->message_capacity, "%s", text);
}

static void xrb_png_on_error(png_structp png, png_const_charp text) {
    xrb_png_error_sink *sink = (xrb_png_error_sink *)png_get_error_ptr(png);
    if (sink != NULL) xrb_png_set_message(sink, text != NULL ? text : "unknown libpng error");
    png_longjmp(png, 1);
}

static void xrb_png_on_warning(png_structp png, png_const_charp text) {
    (void)png;
    (void)text;
}

#endif
