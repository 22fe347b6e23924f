#include "PNGDecoder.h"
#include "PNGErrorHandling.h"

#include <setjmp.h>
#include <stdlib.h>

typedef struct {
    xrb_png_error_sink sink;
    xrb_png_buffer *output;
    volatile int out_of_memory;
} xrb_png_writer;

static void xrb_png_write_bytes(png_structp png, png_bytep source, size_t length) {
    xrb_png_writer *writer = (xrb_png_writer *)png_get_io_ptr(png);
    xrb_png_buffer *buffer = writer->output;
    if (length > buffer->capacity - buffer->count) {
        size_t capacity = buffer->capacity > 0 ? buffer->capacity : 4096;
        while (capacity - buffer->count < length) capacity *= 2;
        uint8_t *grown = realloc(buffer->bytes, capacity);
        if (grown == NULL) {
            writer->out_of_memory = 1;
            png_error(png, "out of memory for the encoded PNG");
        }
        buffer->bytes = grown;
        buffer->capacity = capacity;
    }
    memcpy(buffer->bytes + buffer->count, source, length);
    buffer->count += length;
}

static void xrb_png_flush(png_structp png) {
    (void)png;
}

void xrb_png_buffer_free(xrb_png_buffer *buffer) {
    if (buffer == NULL) return;
    free(buffer->bytes);
    buffer->bytes = NULL;
    buffer->count = 0;
    buffer->capacity = 0;
}

xrb_png_status xrb_png_encode(const uint16_t *samples, uint32_t width, uint32_t height,
                              uint32_t channels, uint32_t bit_depth, double gamma,
                              xrb_png_buffer *output, char *message, size_t message_capacity) {
    xrb_png_writer writer = {{message, message_capacity}, output, 0};
    if (message != NULL && message_capacity > 0) message[0] = '\0';
    if (samples == NULL || output == NULL || width == 0 || height == 0 ||
        width > PNG_UINT_31_MAX || height > PNG_UINT_31_MAX ||
        (channels != 1 && channels != 3) || (bit_depth != 8 && bit_depth != 16)) {
        xrb_png_set_message(&writer.sink, "invalid image geometry for PNG encoding");
        return XRB_PNG_INVALID_ARGUMENT;
    }

    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &writer.sink,
                                              xrb_png_on_error, xrb_png_on_warning);
    if (png == NULL) {
        xrb_png_set_message(&writer.sink, "could not create a libpng write structure");
        return XRB_PNG_OUT_OF_MEMORY;
    }
    png_infop info_ptr = png_create_info_struct(png);
    if (info_ptr == NULL) {
        png_destroy_write_struct(&png, NULL);
        xrb_png_set_message(&writer.sink, "could not create a libpng info structure");
        return XRB_PNG_OUT_OF_MEMORY;
    }

    uint8_t *volatile row = NULL;
    if (setjmp(png_jmpbuf(png))) {
        free(row);
        png_destroy_write_struct(&png, &info_ptr);
        return writer.out_of_memory ? XRB_PNG_OUT_OF_MEMORY : XRB_PNG_INVALID_ARGUMENT;
    }

    png_set_write_fn(png, &writer, xrb_png_write_bytes, xrb_png_flush);
    png_set_IHDR(png, info_ptr, width, height, (int)bit_depth,
                 channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (gamma > 0) png_set_gAMA(png, info_ptr, gamma);
    png_write_info(png, info_ptr);

    size_t row_samples = (size_t)width * channels;
    size_t bytes_per_sample = bit_depth / 8;
    row = malloc(row_samples * bytes_per_sample);
    if (row == NULL) {
        writer.out_of_memory = 1;
        png_error(png, "out of memory for a PNG row");
    }
    for (uint32_t y = 0; y < height; y++) {
        const uint16_t *source = samples + (size_t)y * row_samples;
        for (size_t i = 0; i < row_samples; i++) {
            // PNG stores 16-bit samples big-endian; writing the bytes explicitly keeps the
            // host byte order out of it.
            if (bit_depth == 16) {
                row[2 * i] = (uint8_t)(source[i] >> 8);
                row[2 * i + 1] = (uint8_t)(source[i] & 0xff);
            } else {
                row[i] = (uint8_t)source[i];
            }
        }
        png_write_row(png, row);
    }
    png_write_end(png, info_ptr);

    free(row);
    png_destroy_write_struct(&png, &info_ptr);
    return XRB_PNG_OK;
}
