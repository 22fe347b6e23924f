#include "PNGDecoder.h"
#include "PNGErrorHandling.h"

#include <setjmp.h>
#include <stdlib.h>

// Everything libpng's callbacks need: the error sink must be the first member so the error
// pointer can be cast either way.
typedef struct {
    xrb_png_error_sink sink;
    const uint8_t *data;
    size_t size;
    size_t offset;
} xrb_png_reader;

static void xrb_png_read_bytes(png_structp png, png_bytep destination, size_t length) {
    xrb_png_reader *reader = (xrb_png_reader *)png_get_io_ptr(png);
    if (length > reader->size - reader->offset) {
        png_error(png, "file ends early (truncated PNG data)");
    }
    memcpy(destination, reader->data + reader->offset, length);
    reader->offset += length;
}

static uint32_t xrb_read_be32(const uint8_t *bytes) {
    return ((uint32_t)bytes[0] << 24) | ((uint32_t)bytes[1] << 16) | ((uint32_t)bytes[2] << 8) | bytes[3];
}

// Rejects absurd dimensions straight from the IHDR bytes, before libpng sees the header, so
// the caller gets XRB_PNG_TOO_LARGE (not a generic libpng limit error) and nothing is allocated.
static xrb_png_status xrb_png_check_signature_and_size(const uint8_t *data, size_t size,
                                                       uint64_t max_pixels, xrb_png_info *info,
                                                       xrb_png_error_sink *sink) {
    if (size < 8 || png_sig_cmp(data, 0, 8) != 0) {
        xrb_png_set_message(sink, "missing PNG signature");
        return XRB_PNG_NOT_PNG;
    }
    if (size >= 24 && memcmp(data + 12, "IHDR", 4) == 0) {
        uint64_t width = xrb_read_be32(data + 16);
        uint64_t height = xrb_read_be32(data + 20);
        if (width > 0 && height > 0 && width * height > max_pixels) {
            info->width = (uint32_t)width;
            info->height = (uint32_t)height;
            char text[160];
            snprintf(text, sizeof text, "%llu x %llu pixels exceeds the limit of %llu pixels",
                     (unsigned long long)width, (unsigned long long)height,
                     (unsigned long long)max_pixels);
            xrb_png_set_message(sink, text);
            return XRB_PNG_TOO_LARGE;
        }
    }
    return XRB_PNG_OK;
}

// Sets up the transforms (palette and low bit depths expanded, nothing else: no gamma, no
// 16-to-8 stripping) and fills `info` with the decoded geometry. Called inside setjmp.
static int xrb_png_prepare(png_structp png, png_infop info_ptr, xrb_png_info *info) {
    png_uint_32 width = 0, height = 0;
    int bit_depth = 0, color_type = 0, interlace = 0;
    png_read_info(png, info_ptr);
    png_get_IHDR(png, info_ptr, &width, &height, &bit_depth, &color_type, &interlace, NULL, NULL);

    info->width = width;
    info->height = height;
    info->source_color_type = (uint32_t)color_type;
    info->source_bit_depth = (uint32_t)bit_depth;
    info->interlaced = interlace != PNG_INTERLACE_NONE;
    info->had_alpha = (color_type & PNG_COLOR_MASK_ALPHA) != 0 || png_get_valid(png, info_ptr, PNG_INFO_tRNS) != 0;

    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    int passes = png_set_interlace_handling(png);
    png_read_update_info(png, info_ptr);

    int decoded_channels = png_get_channels(png, info_ptr);
    info->channels = decoded_channels <= 2 ? 1 : 3;
    info->bit_depth = png_get_bit_depth(png, info_ptr) == 16 ? 16 : 8;
    return passes;
}

// Copies one decoded row into the interleaved output, widening 8-bit samples, assembling
// 16-bit samples from big-endian bytes (so the host byte order never matters) and skipping
// the alpha sample when the row has one.
static void xrb_png_copy_row(const uint8_t *row, uint32_t width, int row_channels,
                             const xrb_png_info *info, uint16_t *output) {
    const int kept = (int)info->channels;
    for (uint32_t x = 0; x < width; x++) {
        for (int c = 0; c < kept; c++) {
            size_t index = (size_t)x * (size_t)row_channels + (size_t)c;
            output[(size_t)x * kept + c] = info->bit_depth == 16
                ? (uint16_t)((row[2 * index] << 8) | row[2 * index + 1])
                : row[index];
        }
    }
}

xrb_png_status xrb_png_read_info(const uint8_t *data, size_t size, uint64_t max_pixels,
                                 xrb_png_info *info, char *message, size_t message_capacity) {
    return xrb_png_decode(data, size, max_pixels, info, NULL, 0, message, message_capacity);
}

xrb_png_status xrb_png_decode(const uint8_t *data, size_t size, uint64_t max_pixels,
                              xrb_png_info *info, uint16_t *samples, size_t sample_capacity,
                              char *message, size_t message_capacity) {
    xrb_png_reader reader = {{message, message_capacity}, data, size, 0};
    memset(info, 0, sizeof *info);
    if (message != NULL && message_capacity > 0) message[0] = '\0';

    xrb_png_status status = xrb_png_check_signature_and_size(data, size, max_pixels, info, &reader.sink);
    if (status != XRB_PNG_OK) return status;

    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &reader.sink,
                                             xrb_png_on_error, xrb_png_on_warning);
    if (png == NULL) {
        xrb_png_set_message(&reader.sink, "could not create a libpng read structure");
        return XRB_PNG_OUT_OF_MEMORY;
    }
    png_infop info_ptr = png_create_info_struct(png);
    if (info_ptr == NULL) {
        png_destroy_read_struct(&png, NULL, NULL);
        xrb_png_set_message(&reader.sink, "could not create a libpng info structure");
        return XRB_PNG_OUT_OF_MEMORY;
    }

    // Modified after setjmp, read after a longjmp: must be volatile.
    uint8_t *volatile pixels = NULL;
    png_bytep *volatile row_pointers = NULL;
    volatile xrb_png_status failure = XRB_PNG_CORRUPT;

    if (setjmp(png_jmpbuf(png))) {
        free(pixels);
        free(row_pointers);
        png_destroy_read_struct(&png, &info_ptr, NULL);
        return failure;
    }

    uint32_t dimension_limit = max_pixels < PNG_UINT_31_MAX ? (uint32_t)max_pixels : PNG_UINT_31_MAX;
    png_set_user_limits(png, dimension_limit, dimension_limit);
    png_set_read_fn(png, &reader, xrb_png_read_bytes);

    int passes = xrb_png_prepare(png, info_ptr, info);
    if ((uint64_t)info->width * info->height > max_pixels) {
        failure = XRB_PNG_TOO_LARGE;
        png_error(png, "image exceeds the pixel limit");
    }
    if (samples == NULL) {
        png_destroy_read_struct(&png, &info_ptr, NULL);
        return XRB_PNG_OK;
    }
    size_t row_samples = (size_t)info->width * info->channels;
    if (sample_capacity < row_samples * info->height) {
        failure = XRB_PNG_INVALID_ARGUMENT;
        png_error(png, "sample buffer too small for the decoded image");
    }

    size_t row_bytes = png_get_rowbytes(png, info_ptr);
    int row_channels = png_get_channels(png, info_ptr);
    // Interlaced images need the whole image in libpng's layout (each pass refines earlier
    // rows); non-interlaced ones stream through a single row.
    size_t buffered_rows = passes > 1 ? info->height : 1;
    failure = XRB_PNG_OUT_OF_MEMORY;
    pixels = malloc(row_bytes * buffered_rows);
    if (pixels == NULL) png_error(png, "out of memory for PNG rows");
    failure = XRB_PNG_CORRUPT;

    if (passes > 1) {
        failure = XRB_PNG_OUT_OF_MEMORY;
        row_pointers = malloc(sizeof(png_bytep) * info->height);
        if (row_pointers == NULL) png_error(png, "out of memory for PNG row pointers");
        failure = XRB_PNG_CORRUPT;
        for (uint32_t y = 0; y < info->height; y++) row_pointers[y] = pixels + (size_t)y * row_bytes;
        png_read_image(png, row_pointers);
        for (uint32_t y = 0; y < info->height; y++) {
            xrb_png_copy_row(row_pointers[y], info->width, row_channels, info, samples + (size_t)y * row_samples);
        }
    } else {
        for (uint32_t y = 0; y < info->height; y++) {
            png_read_row(png, pixels, NULL);
            xrb_png_copy_row(pixels, info->width, row_channels, info, samples + (size_t)y * row_samples);
        }
    }
    // Reads to IEND, which checks the CRC of the last IDAT chunk and catches truncation
    // after the image data.
    png_read_end(png, NULL);

    free(pixels);
    free(row_pointers);
    png_destroy_read_struct(&png, &info_ptr, NULL);
    return XRB_PNG_OK;
}
