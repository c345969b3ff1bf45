#include "support/awkward_corpus.h"

#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <vips/vips8>

namespace imgpipe::testing_support::corpus {
namespace {

using vips::VImage;

constexpr const char* kCacheDir = "/tmp/imgpipe-corpus";
constexpr const char* kPhoto = "/usr/share/backgrounds/mate/nature/LadyBird.jpg";
constexpr const char* kOtherPhoto = "/usr/share/backgrounds/mate/nature/Dune.jpg";

std::string save(const VImage& image, const std::string& suffix) {
  void* buffer = nullptr;
  size_t length = 0;
  image.write_to_buffer(suffix.c_str(), &buffer, &length);
  std::unique_ptr<void, decltype(&g_free)> owned(buffer, &g_free);
  return std::string(static_cast<const char*>(buffer), length);
}

VImage srgb(const VImage& image) {
  return image.cast(VIPS_FORMAT_UCHAR)
      .copy(VImage::option()->set("interpretation", VIPS_INTERPRETATION_sRGB));
}

VImage solid(int width, int height, const std::array<double, 3>& colour) {
  return srgb(VImage::black(width, height, VImage::option()->set("bands", 3)) +
              std::vector<double>{colour[0], colour[1], colour[2]});
}

// Stand-ins when mate-backgrounds is not installed: smooth colourful
// structure plus fixed-seed noise; seed 0 waves, seed 1 rings.
VImage synthetic_photo(int seed) {
  VImage xyz = VImage::xyz(kPhotoWidth, kPhotoHeight);
  VImage x = xyz[0];
  VImage y = xyz[1];
  VImage rgb;
  if (seed == 0) {
    rgb = (((x * 0.031).sin() + 1) * 110 + 20)
              .bandjoin(((y * 0.053).cos() + 1) * 100 + 30)
              .bandjoin((((x + y) * 0.019).sin() + 1) * 90 + 40);
  } else {
    VImage distance = ((x - 420) * (x - 420) + (y - 260) * (y - 260)).pow(0.5);
    rgb = ((distance * 0.05).cos() * 100 + 128)
              .bandjoin(x * -0.25 + 200)
              .bandjoin((y * 0.045).sin() * 100 + 128);
  }
  VImage noise =
      VImage::gaussnoise(
          kPhotoWidth, kPhotoHeight,
          VImage::option()->set("sigma", 30.0)->set("mean", 0.0)->set("seed", 1000 + seed))
          .gaussblur(2.0);
  return srgb(rgb + noise);
}

// The photograph as sRGB pixels, kPhotoWidth x kPhotoHeight.
VImage photo_pixels(const char* path, int seed) {
  if (!std::filesystem::exists(path)) return synthetic_photo(seed);
  VImage image = VImage::thumbnail(path, kPhotoWidth,
                                   VImage::option()
                                       ->set("height", kPhotoHeight)
                                       ->set("crop", VIPS_INTERESTING_CENTRE)
                                       ->set("size", VIPS_SIZE_BOTH));
  return srgb(image.extract_band(0, VImage::option()->set("n", 3))).copy_memory();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The path of a cached corpus file, written by `write` (to a temporary name,
// then renamed into place) when it is not there yet.
std::string cached(const std::string& name, const std::function<void(const std::string&)>& write) {
  std::filesystem::create_directories(kCacheDir);
  const std::string path = std::string(kCacheDir) + "/" + name;
  if (std::filesystem::exists(path)) return path;
  const std::string temporary = path + ".tmp." + std::to_string(::getpid());
  write(temporary);
  std::filesystem::rename(temporary, path);
  return path;
}

void put_u32(std::string& out, std::uint32_t value) {
  out.push_back(static_cast<char>((value >> 24) & 0xff));
  out.push_back(static_cast<char>((value >> 16) & 0xff));
  out.push_back(static_cast<char>((value >> 8) & 0xff));
  out.push_back(static_cast<char>(value & 0xff));
}

void write_chunk(std::ofstream& out, const char* type, const unsigned char* data,
                 std::size_t length) {
  std::string chunk;
  put_u32(chunk, static_cast<std::uint32_t>(length));
  chunk.append(type, 4);
  chunk.append(reinterpret_cast<const char*>(data), length);
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, reinterpret_cast<const Bytef*>(chunk.data() + 4),
              static_cast<uInt>(chunk.size() - 4));
  put_u32(chunk, static_cast<std::uint32_t>(crc));
  out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
}

// 30000 rows of filter byte 0 plus 30000 black RGB pixels, deflated with
// run-length matching at level 9, in IDAT chunks of at most 1 MiB.
void write_png_bomb(const std::string& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  static constexpr unsigned char kSignature[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  out.write(reinterpret_cast<const char*>(kSignature), sizeof kSignature);
  std::string header;
  put_u32(header, kBombSide);
  put_u32(header, kBombSide);
  header += std::string{8, 2, 0, 0, 0};  // 8 bits, RGB, deflate, adaptive filter, no interlace
  write_chunk(out, "IHDR", reinterpret_cast<const unsigned char*>(header.data()), header.size());

  z_stream stream{};
  if (deflateInit2(&stream, 9, Z_DEFLATED, 15, 9, Z_RLE) != Z_OK) {
    throw std::runtime_error("deflateInit2 failed");
  }
  std::vector<unsigned char> row(1 + static_cast<std::size_t>(kBombSide) * 3, 0);
  std::vector<unsigned char> buffer(1 << 20);
  auto drain = [&](int flush) {
    int result = Z_OK;
    do {
      stream.next_out = buffer.data();
      stream.avail_out = static_cast<uInt>(buffer.size());
      result = deflate(&stream, flush);
      const std::size_t produced = buffer.size() - stream.avail_out;
      if (produced > 0) write_chunk(out, "IDAT", buffer.data(), produced);
    } while (stream.avail_in > 0 || stream.avail_out == 0 ||
             (flush == Z_FINISH && result != Z_STREAM_END));
  };
  for (int y = 0; y < kBombSide; ++y) {
    stream.next_in = row.data();
    stream.avail_in = static_cast<uInt>(row.size());
    drain(Z_NO_FLUSH);
  }
  drain(Z_FINISH);
  deflateEnd(&stream);
  write_chunk(out, "IEND", nullptr, 0);
  if (!out.flush()) throw std::runtime_error("cannot write " + path);
}

// Overwrites the height and width of the first SOF0/1/2 segment.
std::string patch_sof(std::string jpeg, int width, int height) {
  std::size_t at = 2;  // after SOI
  while (at + 4 <= jpeg.size()) {
    if (static_cast<unsigned char>(jpeg[at]) != 0xff) break;
    const auto marker = static_cast<unsigned char>(jpeg[at + 1]);
    const std::size_t length =
        (static_cast<unsigned char>(jpeg[at + 2]) << 8) | static_cast<unsigned char>(jpeg[at + 3]);
    if (marker >= 0xc0 && marker <= 0xc2) {
      // FF Cn, length (2), precision (1), height (2), width (2)
      jpeg[at + 5] = static_cast<char>((height >> 8) & 0xff);
      jpeg[at + 6] = static_cast<char>(height & 0xff);
      jpeg[at + 7] = static_cast<char>((width >> 8) & 0xff);
      jpeg[at + 8] = static_cast<char>(width & 0xff);
      return jpeg;
    }
    at += 2 + length;
  }
  throw std::runtime_error("no SOF segment found");
}

}  // namespace

std::string photo_jpeg() {
  return save(photo_pixels(kPhoto, 0), ".jpg[Q=92]");
}

std::string other_photo_jpeg() {
  return save(photo_pixels(kOtherPhoto, 1), ".jpg[Q=92]");
}

int stored_marker_corner(int orientation) {
  // Where the displayed top-left pixel is stored (EXIF 2.3, tag 0x0112):
  // 1 normal, 2 mirrored horizontally, 3 rotated 180, 4 mirrored vertically,
  // 5 transposed, 6 needs 90 cw (its stored left column is the top row),
  // 7 transversed, 8 needs 90 ccw (its stored right column is the top row).
  switch (orientation) {
    case 1: return 0;
    case 2: return 1;
    case 3: return 2;
    case 4: return 3;
    case 5: return 0;
    case 6: return 3;
    case 7: return 2;
    case 8: return 1;
    default: throw std::invalid_argument("orientation must be 1-8");
  }
}

std::string oriented_jpeg(int orientation) {
  VImage base = photo_pixels(kPhoto, 0).resize(
      static_cast<double>(kOrientedWidth) / kPhotoWidth,
      VImage::option()->set("vscale", static_cast<double>(kOrientedHeight) / kPhotoHeight));
  VImage image = srgb(base * 0.3).copy_memory();
  const int corner = stored_marker_corner(orientation);
  const int x = (corner == 1 || corner == 2) ? kOrientedWidth - kMarkerSize : 0;
  const int y = (corner == 2 || corner == 3) ? kOrientedHeight - kMarkerSize : 0;
  image.draw_rect({255, 255, 255}, x, y, kMarkerSize, kMarkerSize,
                  VImage::option()->set("fill", true));
  image.set("orientation", orientation);
  return save(image, ".jpg[Q=95]");
}

namespace {
VImage cmyk_pixels() {
  return photo_pixels(kPhoto, 0).icc_transform(
      "cmyk", VImage::option()->set("input_profile", "srgb")->set("intent", VIPS_INTENT_RELATIVE));
}
}  // namespace

std::string cmyk_jpeg_without_profile() {
  VImage image = cmyk_pixels().copy();
  image.remove("icc-profile-data");
  return save(image, ".jpg[Q=92]");
}

std::string cmyk_jpeg_with_profile() {
  VImage image = cmyk_pixels();
  if (image.get_typeof("icc-profile-data") == 0) {
    throw std::runtime_error("icc_transform did not attach the CMYK profile");
  }
  return save(image, ".jpg[Q=92]");
}

std::string adobe_rgb_jpeg() {
  if (!std::filesystem::exists(kAdobeRgbProfile)) {
    throw std::runtime_error(std::string(kAdobeRgbProfile) +
                             " is missing: install colord-data (scripts/bootstrap.sh)");
  }
  const int half = kPhotoHeight / 2;
  VImage top = photo_pixels(kPhoto, 0).extract_area(0, half / 2, kPhotoWidth, half);
  static const std::array<std::array<double, 3>, 8> kPatches = {{{255, 0, 0},
                                                                 {0, 255, 0},
                                                                 {0, 0, 255},
                                                                 {0, 255, 255},
                                                                 {255, 0, 255},
                                                                 {255, 255, 0},
                                                                 {255, 128, 0},
                                                                 {20, 160, 60}}};
  std::vector<VImage> patches;
  for (const auto& colour : kPatches) patches.push_back(solid(kPhotoWidth / 8, half, colour));
  VImage bottom = VImage::arrayjoin(patches);
  VImage picture = srgb(top.join(bottom, VIPS_DIRECTION_VERTICAL));
  VImage adobe = picture.icc_transform(
      kAdobeRgbProfile,
      VImage::option()->set("input_profile", "srgb")->set("intent", VIPS_INTENT_RELATIVE));
  return save(adobe, ".jpg[Q=95]");
}

std::string png_16bit() {
  VImage wide = (photo_pixels(kPhoto, 0).cast(VIPS_FORMAT_USHORT) * 257)
                    .cast(VIPS_FORMAT_USHORT)
                    .copy(VImage::option()->set("interpretation", VIPS_INTERPRETATION_RGB16));
  return save(wide, ".png");
}

std::string palette_png() {
  return save(photo_pixels(kPhoto, 0), ".png[palette]");
}

std::string grayscale_jpeg() {
  return save(photo_pixels(kPhoto, 0).colourspace(VIPS_INTERPRETATION_B_W), ".jpg[Q=92]");
}

std::string grayscale_png() {
  return save(photo_pixels(kPhoto, 0).colourspace(VIPS_INTERPRETATION_B_W), ".png");
}

std::string rgba_png_with_transparent_half() {
  VImage image = srgb(VImage::black(400, 200, VImage::option()->set("bands", 4))).copy_memory();
  image.draw_rect({255, 0, 0, 255}, 200, 0, 200, 200, VImage::option()->set("fill", true));
  return save(image, ".png");
}

std::string progressive_jpeg() {
  return save(photo_pixels(kPhoto, 0), ".jpg[Q=90,interlace]");
}

std::string webp() {
  return save(photo_pixels(kPhoto, 0), ".webp[Q=90]");
}

std::string avif() {
  return save(photo_pixels(kPhoto, 0), ".avif[Q=80,compression=av1]");
}

std::string heic() {
  return save(photo_pixels(kPhoto, 0), ".heic[Q=80,compression=hevc]");
}

std::string tiff() {
  return save(photo_pixels(kPhoto, 0), ".tif[compression=deflate]");
}

std::string one_by_one_png() {
  return save(solid(1, 1, {200, 100, 50}), ".png");
}

std::array<double, 3> frame_colour(int frame) {
  static const std::array<std::array<double, 3>, 6> kColours = {{{220, 40, 40},
                                                                 {40, 200, 60},
                                                                 {40, 80, 220},
                                                                 {230, 200, 40},
                                                                 {200, 60, 200},
                                                                 {60, 200, 200}}};
  auto colour = kColours[static_cast<std::size_t>(frame) % kColours.size()];
  const double shade = 1.0 - 0.15 * static_cast<double>((frame / 6) % 4);
  for (auto& value : colour) value *= shade;
  return colour;
}

std::string animated(const std::string& format, int frames) {
  std::vector<VImage> pages;
  for (int i = 0; i < frames; ++i)
    pages.push_back(solid(kFrameWidth, kFrameHeight, frame_colour(i)));
  VImage strip = VImage::arrayjoin(pages, VImage::option()->set("across", 1)).copy();
  strip.set("page-height", kFrameHeight);
  strip.set("n-pages", frames);
  strip.set("delay", std::vector<int>(static_cast<std::size_t>(frames), 100));
  strip.set("loop", 0);
  if (format == "gif") return save(strip, ".gif");
  if (format == "webp") return save(strip, ".webp[Q=95]");
  throw std::invalid_argument("animated: gif or webp");
}

std::string truncated_jpeg() {
  std::string jpeg = photo_jpeg();
  jpeg.resize(jpeg.size() / 2);
  return jpeg;
}

std::string zero_bytes() {
  return {};
}

std::string text_named_jpg() {
  return "Holiday 2023, day 3: went to the beach, then lunch at the harbour.\n"
         "This file is text although its name ends in .jpg\n";
}

std::string svg() {
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100">
  <rect width="200" height="100" fill="red"/>
</svg>
)";
}

std::string png_bomb_path() {
  return cached("bomb-30000x30000-rgb-v1.png", write_png_bomb);
}

std::string png_bomb() {
  return read_file(png_bomb_path());
}

std::string jpeg_claiming_65000() {
  return patch_sof(save(photo_pixels(kPhoto, 0).resize(0.1), ".jpg[Q=80]"), kFakeSide, kFakeSide);
}

std::vector<Entry> all_files() {
  std::vector<Entry> out;
  out.push_back({"photo.jpg", photo_jpeg()});
  out.push_back({"other-photo.jpg", other_photo_jpeg()});
  for (int orientation = 1; orientation <= 8; ++orientation) {
    out.push_back(
        {"orientation-" + std::to_string(orientation) + ".jpg", oriented_jpeg(orientation)});
  }
  out.push_back({"cmyk-no-profile.jpg", cmyk_jpeg_without_profile()});
  out.push_back({"cmyk-profile.jpg", cmyk_jpeg_with_profile()});
  out.push_back({"adobe-rgb.jpg", adobe_rgb_jpeg()});
  out.push_back({"rgb16.png", png_16bit()});
  out.push_back({"palette.png", palette_png()});
  out.push_back({"grayscale.jpg", grayscale_jpeg()});
  out.push_back({"grayscale.png", grayscale_png()});
  out.push_back({"rgba-transparent-half.png", rgba_png_with_transparent_half()});
  out.push_back({"progressive.jpg", progressive_jpeg()});
  out.push_back({"animated.gif", animated("gif", 4)});
  out.push_back({"animated.webp", animated("webp", 4)});
  out.push_back({"photo.webp", webp()});
  out.push_back({"photo.avif", avif()});
  out.push_back({"photo.heic", heic()});
  out.push_back({"photo.tif", tiff()});
  out.push_back({"one-pixel.png", one_by_one_png()});
  out.push_back({"truncated.jpg", truncated_jpeg()});
  out.push_back({"zero-bytes.jpg", zero_bytes()});
  out.push_back({"text.jpg", text_named_jpg()});
  out.push_back({"drawing.svg", svg()});
  out.push_back({"bomb-30000x30000.png", png_bomb()});
  out.push_back({"header-65000x65000.jpg", jpeg_claiming_65000()});
  return out;
}

}  // namespace imgpipe::testing_support::corpus

namespace imgpipe::testing_support::golden {

using vips::VImage;

std::string save(const VImage& image, const std::string& suffix) {
  return corpus::save(image, suffix);
}

VImage load(const std::string& bytes, const std::string& options) {
  return VImage::new_from_buffer(bytes.data(), bytes.size(), options.c_str()).copy_memory();
}

std::array<double, 3> mean_rgb(const VImage& image, int x, int y, int width, int height) {
  VImage window = image.extract_area(x, y, width, height);
  std::array<double, 3> out{};
  for (int band = 0; band < 3; ++band)
    out[static_cast<std::size_t>(band)] = window[image.bands() >= 3 ? band : 0].avg();
  return out;
}

namespace {
VImage coarse_lab(const VImage& image) {
  VImage colour = image.bands() == 2 || image.bands() == 4
                      ? image.extract_band(0, VImage::option()->set("n", image.bands() - 1))
                      : image;
  return colour.colourspace(VIPS_INTERPRETATION_LAB)
      .thumbnail_image(64, VImage::option()->set("height", 64)->set("size", VIPS_SIZE_FORCE));
}
}  // namespace

double mean_de00(const VImage& a, const VImage& b) {
  return coarse_lab(a).dE00(coarse_lab(b)).avg();
}

VImage colour_managed(const std::string& bytes) {
  VImage in = load(bytes);
  if (in.interpretation() == VIPS_INTERPRETATION_CMYK) {
    return in.icc_transform("srgb", VImage::option()
                                        ->set("embedded", true)
                                        ->set("input_profile", "cmyk")
                                        ->set("intent", VIPS_INTENT_RELATIVE));
  }
  if (in.get_typeof("icc-profile-data") != 0) {
    return in.icc_transform(
        "srgb", VImage::option()->set("embedded", true)->set("intent", VIPS_INTENT_RELATIVE));
  }
  return in.colourspace(VIPS_INTERPRETATION_sRGB);
}

VImage not_colour_managed(const std::string& bytes) {
  VImage in = load(bytes);
  if (in.bands() > 3) in = in.extract_band(0, VImage::option()->set("n", 3));
  return in.cast(VIPS_FORMAT_UCHAR)
      .copy(VImage::option()->set("interpretation", VIPS_INTERPRETATION_sRGB));
}

double edge_energy(const VImage& image) {
  VImage grey = image.colourspace(VIPS_INTERPRETATION_B_W)[0].cast(VIPS_FORMAT_FLOAT);
  VImage laplacian = VImage::new_matrixv(3, 3, 0.0, -1.0, 0.0, -1.0, 4.0, -1.0, 0.0, -1.0, 0.0);
  return grey.conv(laplacian, VImage::option()->set("precision", VIPS_PRECISION_FLOAT)).abs().avg();
}

double max_step(const VImage& image) {
  VImage grey = image.colourspace(VIPS_INTERPRETATION_B_W)[0].cast(VIPS_FORMAT_FLOAT);
  const int width = grey.width();
  const int height = grey.height();
  return (grey.extract_area(1, 0, width - 1, height) - grey.extract_area(0, 0, width - 1, height))
      .abs()
      .max();
}

}  // namespace imgpipe::testing_support::golden
