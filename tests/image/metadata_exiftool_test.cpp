// "strip" means no EXIF, XMP, IPTC or ICC block is left in any output format,
// as an independent reader (exiftool) sees the file. libvips' own loader is
// not a fair judge: it can skip what its saver wrote.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>
#include <vips/vips8>

#include "image/recipe.h"
#include "image/render.h"
#include "support/awkward_corpus.h"
#include "support/process.h"
#include "support/test_images.h"

namespace imgpipe::image {
namespace {

using vips::VImage;

// exiftool from PATH; a missing exiftool is a failure, never a skip.
std::string find_exiftool() {
  const char* path = std::getenv("PATH");
  std::stringstream folders(path != nullptr ? path : "/usr/bin");
  for (std::string folder; std::getline(folders, folder, ':');) {
    const std::string candidate = folder + "/exiftool";
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

// A TIFF file's own directory is made of EXIF-format tags, which exiftool
// lists in its EXIF group: these describe the pixels, not the picture.
bool is_tiff_structure(const std::string& line) {
  static const char* const kStructure[] = {"ImageWidth",
                                           "ImageHeight",
                                           "BitsPerSample",
                                           "Compression",
                                           "PhotometricInterpretation",
                                           "StripOffsets",
                                           "Orientation",
                                           "SamplesPerPixel",
                                           "RowsPerStrip",
                                           "StripByteCounts",
                                           "XResolution",
                                           "YResolution",
                                           "PlanarConfiguration",
                                           "ResolutionUnit",
                                           "Predictor",
                                           "SampleFormat",
                                           "ExtraSamples",
                                           "SubfileType"};
  std::stringstream words(line);
  std::string group, tag;
  words >> group >> tag;
  for (const char* name : kStructure) {
    if (tag == name) return true;
  }
  return false;
}

// The metadata exiftool finds in `bytes`: lines such as
// "[EXIF] Make : AcmeCam" of the groups that metadata policies govern.
std::vector<std::string> metadata_lines(const std::string& bytes, const std::string& extension) {
  const std::string exiftool = find_exiftool();
  if (exiftool.empty()) {
    ADD_FAILURE() << "exiftool is not installed (Debian package libimage-exiftool-perl): this "
                     "test needs it to read the outputs independently of libvips";
    return {"(no exiftool)"};
  }
  char path[] = "/tmp/imgpipe-metadata-XXXXXX";
  const int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  close(fd);
  const std::string file = std::string(path) + "." + extension;
  std::ofstream(file, std::ios::binary) << bytes;
  std::string output;
  const int status = testing_support::run_command({exiftool, "-a", "-G0", "-s", file}, {}, output);
  unlink(path);
  unlink(file.c_str());
  EXPECT_EQ(status, 0) << output;
  std::vector<std::string> found;
  std::stringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    if (extension == "tif" && line.rfind("[EXIF]", 0) == 0 && is_tiff_structure(line)) continue;
    for (const char* group : {"[EXIF]", "[XMP]", "[IPTC]", "[ICC_Profile]", "[MakerNotes]"}) {
      if (line.rfind(group, 0) == 0) found.push_back(line);
    }
  }
  return found;
}

// An Adobe RGB photo with an ICC profile, EXIF tags and an XMP packet.
const std::string& source_with_every_kind_of_metadata() {
  static const std::string jpeg = [] {
    VImage image = testing_support::golden::load(testing_support::corpus::adobe_rgb_jpeg()).copy();
    image.set("exif-ifd0-Make", "AcmeCam");
    image.set("exif-ifd0-Copyright", "(c) 2024 Jane Doe");
    static const char xmp[] =
        "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF "
        "xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"><rdf:Description "
        "xmlns:dc=\"http://purl.org/dc/elements/1.1/\" dc:format=\"image/jpeg\"/>"
        "</rdf:RDF></x:xmpmeta>";
    vips_image_set_blob_copy(image.get_image(), "xmp-data", xmp, sizeof xmp - 1);
    return testing_support::golden::save(image, ".jpg[Q=90]");
  }();
  return jpeg;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) out += line + "\n";
  return out;
}

TEST(StripMetadata, TheSourceReallyCarriesExifXmpAndIcc) {
  const std::string seen = joined(metadata_lines(source_with_every_kind_of_metadata(), "jpg"));
  EXPECT_NE(seen.find("[EXIF]"), std::string::npos) << seen;
  EXPECT_NE(seen.find("[XMP]"), std::string::npos) << seen;
  EXPECT_NE(seen.find("[ICC_Profile]"), std::string::npos) << seen;
}

class StripMetadata : public ::testing::TestWithParam<const char*> {};

TEST_P(StripMetadata, LeavesNoExifXmpIptcOrIccInTheOutput) {
  Recipe recipe;
  recipe.operations.push_back(Resize{200, 200});
  recipe.encoder.format = GetParam();
  recipe.metadata = MetadataPolicy::strip;
  auto rendered = render(source_with_every_kind_of_metadata(), recipe, Limits{});
  ASSERT_TRUE(rendered.ok()) << rendered.error().message;
  const auto lines = metadata_lines(rendered->bytes, format_extension(GetParam()));
  EXPECT_TRUE(lines.empty()) << GetParam() << " output still carries:\n" << joined(lines);
}

// Regression: WebP outputs of a JPEG without any metadata had a 162-byte EXIF block.
TEST_P(StripMetadata, AddsNoMetadataToAnOutputOfASourceWithout) {
  Recipe recipe;
  recipe.operations.push_back(Resize{200, 200});
  recipe.encoder.format = GetParam();
  auto rendered = render(testing_support::make_image(640, 480, ".jpg"), recipe, Limits{});
  ASSERT_TRUE(rendered.ok()) << rendered.error().message;
  const auto lines = metadata_lines(rendered->bytes, format_extension(GetParam()));
  EXPECT_TRUE(lines.empty()) << GetParam() << " output carries:\n" << joined(lines);
}

INSTANTIATE_TEST_SUITE_P(EveryOutputFormat, StripMetadata,
                         ::testing::Values("jpeg", "png", "webp", "avif", "heif", "gif", "tiff"),
                         [](const auto& instance) { return std::string(instance.param); });

// The control: with `keep`, exiftool does find metadata in each format that
// can carry it, so an empty finding above means stripped, not unseen. (GIF
// outputs carry none of these blocks under any policy.)
class KeepMetadata : public ::testing::TestWithParam<const char*> {};

TEST_P(KeepMetadata, LeavesMetadataThatExiftoolSees) {
  Recipe recipe;
  recipe.operations.push_back(Resize{200, 200});
  recipe.encoder.format = GetParam();
  recipe.metadata = MetadataPolicy::keep;
  auto rendered = render(source_with_every_kind_of_metadata(), recipe, Limits{});
  ASSERT_TRUE(rendered.ok()) << rendered.error().message;
  const auto lines = metadata_lines(rendered->bytes, format_extension(GetParam()));
  EXPECT_FALSE(lines.empty()) << GetParam();
}

INSTANTIATE_TEST_SUITE_P(EveryFormatWithMetadata, KeepMetadata,
                         ::testing::Values("jpeg", "png", "webp", "avif", "heif", "tiff"),
                         [](const auto& instance) { return std::string(instance.param); });

}  // namespace
}  // namespace imgpipe::image
