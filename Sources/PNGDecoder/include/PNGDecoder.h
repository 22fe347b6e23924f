#ifndef XRBENCH_PNGDECODER_H
#define XRBENCH_PNGDECODER_H

// A small C API over libpng's classic interface. libpng reports errors by longjmp; from Swift
// that would abort the process, so every entry point here installs setjmp, catches the error,
// and returns a status code plus a message. Warnings are swallowed (never printed).
//
// Pixels are exchanged as interleaved uint16_t samples in host order for both 8- and 16-bit
// images; 16-bit values are never gamma-converted, whatever gAMA/sRGB/iCCP chunks say.

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Outcome of a call. Anything but XRB_PNG_OK comes with a message.
typedef enum {
    XRB_PNG_OK = 0,
    /// The data does not start with the PNG signature.
    XRB_PNG_NOT_PNG = 1,
    /// libpng rejected the data: corrupt or truncated stream, bad CRC, invalid header.
    XRB_PNG_CORRUPT = 2,
    /// width * height exceeds the caller's limit; nothing was allocated for pixels.
    XRB_PNG_TOO_LARGE = 3,
    /// A memory allocation failed.
    XRB_PNG_OUT_OF_MEMORY = 4,
    /// The caller passed inconsistent arguments (e.g. a too small sample buffer).
    XRB_PNG_INVALID_ARGUMENT = 5,
} xrb_png_status;

/// Geometry of a PNG as it will be decoded (alpha dropped, palette expanded).
typedef struct {
    uint32_t width;
    uint32_t height;
    /// Channels of the decoded samples: 1 (grey, grey+alpha) or 3 (RGB, RGBA, palette).
    uint32_t channels;
    /// Bit depth of the decoded samples: 8 (also for 1/2/4-bit and palette files) or 16.
    uint32_t bit_depth;
    /// 1 when the file carries an alpha channel or a tRNS chunk, which decoding drops.
    uint32_t had_alpha;
    /// 1 for Adam7-interlaced files.
    uint32_t interlaced;
    /// The IHDR colour type and bit depth, for messages.
    uint32_t source_color_type;
    uint32_t source_bit_depth;
} xrb_png_info;

/// A growable byte buffer owned by C; release with xrb_png_buffer_free.
typedef struct {
    uint8_t *bytes;
    size_t count;
    size_t capacity;
} xrb_png_buffer;

/// Reads the header only. `max_pixels` bounds width * height (XRB_PNG_TOO_LARGE above it,
/// with `info` still filled in so the caller can report the dimensions).
xrb_png_status xrb_png_read_info(const uint8_t *data, size_t size, uint64_t max_pixels,
                                 xrb_png_info *info, char *message, size_t message_capacity);

/// Decodes the whole image into `samples` (width * height * channels values, interleaved).
/// 8-bit images give values 0...255, 16-bit images 0...65535, exactly as stored.
xrb_png_status xrb_png_decode(const uint8_t *data, size_t size, uint64_t max_pixels,
                              xrb_png_info *info, uint16_t *samples, size_t sample_capacity,
                              char *message, size_t message_capacity);

/// Encodes grey (channels 1) or RGB (channels 3) samples at bit depth 8 or 16.
/// `gamma` > 0 writes a gAMA chunk with that file gamma (e.g. 1/2.2); 0 writes none.
/// On success `output` holds the file bytes; free it with xrb_png_buffer_free either way.
xrb_png_status xrb_png_encode(const uint16_t *samples, uint32_t width, uint32_t height,
                              uint32_t channels, uint32_t bit_depth, double gamma,
                              xrb_png_buffer *output, char *message, size_t message_capacity);

/// Releases the bytes of a buffer filled by xrb_png_encode and resets it to empty.
void xrb_png_buffer_free(xrb_png_buffer *buffer);

#ifdef __cplusplus
}
#endif

#endif
