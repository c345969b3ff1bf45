// The awkward-file corpus for the image golden tests: files that trip up
// naive image pipelines (EXIF orientation, CMYK, wide-gamut profiles, 16-bit
// and palette PNGs, alpha, animation, every input format, broken files and
// decompression bombs), built by code at test time.
//
// Pictures start from a real photograph of Debian's mate-backgrounds package
// (installed by scripts/bootstrap.sh); without it a synthetic picture stands
// in. Every function returns the encoded bytes of one file. Files that take
// seconds to build (the PNG bomb) are cached under /tmp/imgpipe-corpus/,
// keyed by name, written atomically, so parallel test processes share them.
//
// Thread-safety: call from one thread at a time (the tests are single
// threaded); an image::Runtime must exist (the test environment owns one).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>
#include <vips/vips8>

namespace imgpipe::testing_support::corpus {

// Size of the photo-based files (the photo shrunk and centre-cropped).
inline constexpr int kPhotoWidth = 640;
inline constexpr int kPhotoHeight = 400;

// A real photograph (ladybird on a leaf), sRGB JPEG without profile, Q=92.
std::string photo_jpeg();
// A second, unrelated photograph (sand dunes), same size.
std::string other_photo_jpeg();

// Stored kOrientedWidth x kOrientedHeight (landscape) with EXIF orientation
// `orientation` (1-8). A bright marker (kMarkerSize square) is painted at the
// stored corner that the EXIF specification displays as the top-left corner,
// so that after auto-orientation the marker is top-left for every tag; the
// rest of the picture is dark (below 80).
inline constexpr int kOrientedWidth = 600;
inline constexpr int kOrientedHeight = 400;
inline constexpr int kMarkerSize = 60;
std::string oriented_jpeg(int orientation);
// The stored corner the marker is painted at: 0 top-left, 1 top-right,
// 2 bottom-right, 3 bottom-left (the EXIF specification's table).
int stored_marker_corner(int orientation);

// The photo converted to CMYK with libvips' built-in CMYK profile; saved
// without any ICC profile, or with that profile embedded.
std::string cmyk_jpeg_without_profile();
std::string cmyk_jpeg_with_profile();

// The photo (top half) and saturated sRGB colour patches (bottom half),
// converted to Adobe RGB (1998) with the colord profile embedded. Read as
// sRGB without colour management, it looks visibly washed out.
std::string adobe_rgb_jpeg();
inline constexpr const char* kAdobeRgbProfile = "/usr/share/color/icc/colord/AdobeRGB1998.icc";

std::string png_16bit();    // RGB, 16 bits per sample
std::string palette_png();  // 8-bit palette
std::string grayscale_jpeg();
std::string grayscale_png();
// 400x200 RGBA: the left half is fully transparent (colour black under the
// alpha, so dropping the alpha shows black), the right half opaque red.
std::string rgba_png_with_transparent_half();
std::string progressive_jpeg();
std::string webp();
std::string avif();  // heifsave compression=av1
std::string heic();  // heifsave compression=hevc
std::string tiff();
std::string one_by_one_png();  // a single pixel (200, 100, 50)

// Animated, kFrameWidth x kFrameHeight per frame, frame i a solid
// frame_colour(i). format: "gif" or "webp".
inline constexpr int kFrameWidth = 160;
inline constexpr int kFrameHeight = 120;
std::string animated(const std::string& format, int frames);
std::array<double, 3> frame_colour(int frame);

std::string truncated_jpeg();  // the photo JPEG cut after half its bytes
std::string zero_bytes();
std::string text_named_jpg();  // plain text, as someone's "photo.jpg"
std::string svg();             // a valid SVG: libvips' svg loader is untrusted

// A valid 30000x30000 RGB PNG whose IDAT really inflates to all the rows
// (2.7 GB of pixels in about 2.6 MB). Cached; the first call takes seconds.
inline constexpr int kBombSide = 30000;
std::string png_bomb();
std::string png_bomb_path();  // the cached file
// A small real JPEG whose SOF0 header was patched to claim 65000x65000.
inline constexpr int kFakeSide = 65000;
std::string jpeg_claiming_65000();

// Every file above under its conventional name (e.g. "orientation-6.jpg",
// "bomb-30000x30000.png"); for debugging and manual `imgpipe process` runs.
struct Entry {
  std::string name;
  std::string bytes;
};
std::vector<Entry> all_files();

}  // namespace imgpipe::testing_support::corpus

// Measurements for the golden tests, made with libvips directly (an
// independent path from src/image).
namespace imgpipe::testing_support::golden {

// Encodes with a libvips saver suffix and options, e.g. ".png" or ".jpg[Q=90]".
std::string save(const vips::VImage& image, const std::string& suffix);

// Decodes fully into memory, as stored (no auto-orientation). `options` is
// a libvips load option string such as "n=-1".
vips::VImage load(const std::string& bytes, const std::string& options = "");

// Mean of each of the first three bands over a window (a one-band image
// repeats its band), alpha ignored.
std::array<double, 3> mean_rgb(const vips::VImage& image, int x, int y, int width, int height);

// Mean CIEDE2000 difference after both images are shrunk to 64x64 (so that
// resampling and compression noise average out and colour errors remain).
double mean_de00(const vips::VImage& a, const vips::VImage& b);

// The reference rendering: the decoded input taken to 8-bit sRGB through its
// embedded ICC profile (libvips' CMYK profile for CMYK without one).
vips::VImage colour_managed(const std::string& bytes);
// The deliberate mistake the reference must tell apart: the stored samples
// read as sRGB (CMYK's first three bands, Adobe RGB values unconverted,
// 16-bit samples cast to 8 bits).
vips::VImage not_colour_managed(const std::string& bytes);

// Mean absolute Laplacian of the luminance: high for detailed areas, near 0
// for flat ones.
double edge_energy(const vips::VImage& image);

// The largest step between horizontally adjacent luminance values: the
// steepness of the sharpest vertical edge.
double max_step(const vips::VImage& image);

}  // namespace imgpipe::testing_support::golden
