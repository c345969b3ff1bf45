#include "support/test_images.h"

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <vips/vips8>

#include "image/runtime.h"
#include "support/awkward_corpus.h"

namespace imgpipe::testing_support {
namespace {

using vips::VImage;

class VipsEnvironment final : public ::testing::Environment {
 public:
  void SetUp() override { runtime_ = std::make_unique<image::Runtime>("imgpipe-test"); }
  void TearDown() override { runtime_.reset(); }

 private:
  std::unique_ptr<image::Runtime> runtime_;
};

// gtest takes ownership of the environment.
[[maybe_unused]] const auto* const kVipsEnvironment = ::testing::AddGlobalTestEnvironment(
    new VipsEnvironment);  // NOLINT(cppcoreguidelines-owning-memory)

VImage gradient(int width, int height, int bands) {
  VImage x = VImage::xyz(width, height)[0];
  VImage y = VImage::xyz(width, height)[1];
  VImage r = x * (255.0 / std::max(1, width - 1));
  VImage g = y * (255.0 / std::max(1, height - 1));
  VImage b = (x + y) * (255.0 / std::max(1, width + height - 2));
  VImage rgb = r.bandjoin(g)
                   .bandjoin(b)
                   .cast(VIPS_FORMAT_UCHAR)
                   .copy(VImage::option()->set("interpretation", VIPS_INTERPRETATION_sRGB));
  if (bands == 1) return rgb.colourspace(VIPS_INTERPRETATION_B_W);
  if (bands == 4) return rgb.bandjoin_const({200});
  return rgb;
}

using golden::save;

}  // namespace

std::string make_image(int width, int height, const std::string& suffix, int bands,
                       const std::string& options) {
  return save(gradient(width, height, bands), suffix + options);
}

std::string make_oriented_jpeg(int width, int height, int orientation) {
  VImage image = (gradient(width, height, 3) * 0.3).cast(VIPS_FORMAT_UCHAR).copy_memory();
  const int marker = std::max(4, std::min(width, height) / 8);
  image.draw_rect({255, 255, 255}, 0, 0, marker, marker, VImage::option()->set("fill", true));
  image.set("orientation", orientation);
  return save(image, ".jpg[Q=95]");
}

std::string make_cmyk_jpeg(int width, int height) {
  VImage cmyk = gradient(width, height, 3).colourspace(VIPS_INTERPRETATION_CMYK);
  return save(cmyk, ".jpg[Q=90]");
}

Decoded decode(const std::string& bytes) {
  VImage image = VImage::new_from_buffer(bytes.data(), bytes.size(), "",
                                         VImage::option()->set("fail_on", VIPS_FAIL_ON_WARNING));
  (void)image.avg();  // forces a full decode
  Decoded out;
  out.width = image.width();
  out.height = image.height();
  out.bands = image.bands();
  out.loader = image.get_string("vips-loader");
  out.interpretation = vips_enum_nick(VIPS_TYPE_INTERPRETATION, image.interpretation());
  out.has_exif = image.get_typeof("exif-data") != 0;
  return out;
}

double mean_at(const std::string& bytes, int x, int y, int size) {
  VImage image = VImage::new_from_buffer(bytes.data(), bytes.size(), "");
  return image.extract_area(x, y, size, size)[0].avg();
}

}  // namespace imgpipe::testing_support

namespace imgpipe::testing_support {

std::string reencode(const std::string& bytes, double scale, const std::string& suffix) {
  VImage image = VImage::new_from_buffer(bytes.data(), bytes.size(), "");
  if (scale != 1.0) image = image.resize(scale);
  return save(image, suffix);
}

std::pair<int, int> upright_size(const std::string& bytes) {
  VImage image = VImage::new_from_buffer(bytes.data(), bytes.size(), "");
  const int orientation = image.get_typeof("orientation") != 0 ? image.get_int("orientation") : 1;
  if (orientation >= 5 && orientation <= 8) return {image.height(), image.width()};
  return {image.width(), image.height()};
}

}  // namespace imgpipe::testing_support
