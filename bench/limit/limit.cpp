// bench_limit: the ceiling for any libvips worker on this machine (issue 9's
// `limit` row). No Kafka, no S3: every file of a folder is read into memory
// first, then one thread per core takes the next image and runs what
// imgpipe's default recipe asks of libvips — thumbnail to fit in W x H
// (shrink-on-load, auto-orient, an embedded profile to sRGB, nothing for an
// image without one; a JPEG decoded at the scale imgpipe's default
// shrink_on_load, fast, picks, or at libvips' own with --shrink-on-load
// conservative), JPEG quality Q
// with optimised Huffman tables, metadata stripped — keeping nothing but the
// output's size. Prints one JSON object: images, wall and CPU seconds
// (getrusage of the process), images per second, CPU seconds per image, peak
// RSS and output bytes per image.
//
// With --via-render the threads call imgpipe's own image::render() with the
// default rule's recipe instead (name "render" in the JSON): what imgpipe's
// render path costs above the libvips calls, on the same bytes in memory.
//
// With --via-s3 SOURCE TARGET the threads make the thinnest S3 consumer
// there is (name "limit-s3"): GET the object named like the file from
// bucket SOURCE, the same libvips calls, PUT the output to TARGET, through
// imgpipe's S3 client (libcurl, connections reused, requests signed) with
// imgpipe's S3 settings from the environment (IMGPIPE_S3_*, read and checked
// as `imgpipe` reads them). No Kafka, no pipeline: what
// any libvips consumer of this store pays on these cores, the stack beside it.
//
//   bench_limit DIR [--threads N] [--width 1024] [--height 1024] [--quality 85] [--rounds 1]
//               [--shrink-on-load fast|conservative] [--via-render | --via-s3 SOURCE TARGET]
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>
#include <vips/vips8>

#include "cli/wiring.h"
#include "image/render.h"
#include "image/runtime.h"
#include "pipeline/config.h"
#include "s3/client.h"

namespace {

struct Settings {
  std::string dir;
  int threads = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  int width = 1024;
  int height = 1024;
  int quality = 85;
  int rounds = 1;
  bool fast_shrink = true;  // imgpipe's default shrink_on_load
  bool via_render = false;  // imgpipe's own image::render() instead of the libvips calls
  std::string s3_source;    // --via-s3: GET from here, PUT to s3_target
  std::string s3_target;
};

bool parse(int argc, char** argv, Settings& settings) {
  std::vector<std::string> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i < args.size(); ++i) {
    const bool has_value = i + 1 < args.size();
    if (args[i] == "--threads" && has_value) {
      settings.threads = std::stoi(args[++i]);
    } else if (args[i] == "--width" && has_value) {
      settings.width = std::stoi(args[++i]);
    } else if (args[i] == "--height" && has_value) {
      settings.height = std::stoi(args[++i]);
    } else if (args[i] == "--quality" && has_value) {
      settings.quality = std::stoi(args[++i]);
    } else if (args[i] == "--rounds" && has_value) {
      settings.rounds = std::stoi(args[++i]);
    } else if (args[i] == "--shrink-on-load" && has_value) {
      const std::string policy = args[++i];
      if (policy != "fast" && policy != "conservative") return false;
      settings.fast_shrink = policy == "fast";
    } else if (args[i] == "--via-render") {
      settings.via_render = true;
    } else if (args[i] == "--via-s3" && i + 2 < args.size()) {
      settings.s3_source = args[++i];
      settings.s3_target = args[++i];
    } else if (settings.dir.empty() && args[i].rfind("--", 0) != 0) {
      settings.dir = args[i];
    } else {
      return false;
    }
  }
  return !settings.dir.empty() && settings.threads > 0 && settings.rounds > 0 &&
         !(settings.via_render && !settings.s3_source.empty());
}

// Every image file of `dir` (not manifest.json), sorted by name.
std::vector<std::filesystem::path> image_paths(const std::string& dir) {
  std::vector<std::filesystem::path> paths;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const auto extension = entry.path().extension().string();
    if (entry.is_regular_file() && extension != ".json") paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

std::vector<std::string> read_images(const std::vector<std::filesystem::path>& paths) {
  std::vector<std::string> images;
  for (const auto& path : paths) {
    std::ifstream in(path, std::ios::binary);
    images.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return images;
}

// What imgpipe's fast shrink_on_load decodes a JPEG at: 1 (libvips decides
// in thumbnail), or 2, 4 or 8. The box is a square in the benchmark, so the
// EXIF orientation does not change the shrink.
int jpeg_shrink(const std::string& bytes, const Settings& settings) {
  if (!settings.fast_shrink) return 1;
  const vips::VImage header =
      vips::VImage::new_from_buffer(bytes.data(), bytes.size(), "",
                                    vips::VImage::option()->set("access", VIPS_ACCESS_SEQUENTIAL));
  if (std::string(header.get_string("vips-loader")).rfind("jpegload", 0) != 0) return 1;
  const double shrink = std::max(static_cast<double>(header.width()) / settings.width,
                                 static_cast<double>(header.height()) / settings.height);
  return imgpipe::image::fast_jpeg_shrink(shrink, header.width(), header.height());
}

vips::VImage fitted(const std::string& bytes, const Settings& settings) {
  const int shrink = jpeg_shrink(bytes, settings);
  // Each VOption passes to a call, which frees it.
  auto options = [&] {
    return vips::VImage::option()->set("height", settings.height)->set("size", VIPS_SIZE_DOWN);
  };
  if (shrink > 1) {
    const vips::VImage decoded = vips::VImage::new_from_buffer(
        bytes.data(), bytes.size(), ("shrink=" + std::to_string(shrink)).c_str(),
        vips::VImage::option()->set("access", VIPS_ACCESS_SEQUENTIAL));
    return decoded.thumbnail_image(settings.width, options());
  }
  // Borrows the bytes; the blob is released when the call is done.
  std::unique_ptr<VipsBlob, void (*)(VipsBlob*)> blob(
      vips_blob_new(nullptr, bytes.data(), bytes.size()),
      [](VipsBlob* b) { vips_area_unref(VIPS_AREA(b)); });
  return vips::VImage::thumbnail_buffer(blob.get(), settings.width, options());
}

// Where an output goes: empty for the in-memory runs (only its size counts,
// no copy), a PUT for --via-s3. False when it could not be delivered.
using Deliver = std::function<bool(std::string_view)>;

std::size_t delivered(std::string_view output, const Deliver& deliver) {
  return !deliver || deliver(output) ? output.size() : 0;
}

// The same job as imgpipe's default rule: what render() costs above the
// libvips calls (limits, header inspection, the dHash, ...).
std::size_t rendered(const std::string& bytes, const Settings& settings, const Deliver& deliver) {
  imgpipe::image::Recipe recipe;
  imgpipe::image::Resize fit;
  fit.width = settings.width;
  fit.height = settings.height;
  recipe.operations.emplace_back(fit);
  recipe.encoder.format = "jpeg";
  recipe.encoder.quality = settings.quality;
  recipe.shrink_on_load = settings.fast_shrink ? imgpipe::image::ShrinkOnLoad::fast
                                               : imgpipe::image::ShrinkOnLoad::conservative;
  auto out = imgpipe::image::render(bytes, recipe, imgpipe::image::Limits{}, 1);
  if (!out.ok()) {
    std::cerr << "bench_limit: " << out.error().message << '\n';
    return 0;
  }
  return delivered(out.value().bytes, deliver);
}

// One image through libvips, its output handed to `deliver`; the output's
// size, or 0 when libvips refused it or it was not delivered.
std::size_t thumbnail(const std::string& bytes, const Settings& settings, const Deliver& deliver) {
  if (settings.via_render) return rendered(bytes, settings, deliver);
  try {
    vips::VImage image = fitted(bytes, settings);
    // Only an embedded profile needs a transform: thumbnail's export_profile
    // would also run profile-less (already sRGB) images through lcms twice,
    // work that imgpipe and any careful worker leave out.
    if (image.get_typeof(VIPS_META_ICC_NAME) != 0) {
      image = image.icc_transform(
          "srgb",
          vips::VImage::option()->set("embedded", true)->set("intent", VIPS_INTENT_RELATIVE));
    }
    void* out = nullptr;
    std::size_t size = 0;
    image.write_to_buffer(".jpg", &out, &size,
                          vips::VImage::option()
                              ->set("Q", settings.quality)
                              ->set("optimize_coding", true)
                              ->set("strip", true));
    const std::size_t written = delivered({static_cast<const char*>(out), size}, deliver);
    g_free(out);
    return written;
  } catch (const vips::VError& error) {
    std::cerr << "bench_limit: " << error.what() << '\n';
    return 0;
  }
}

// --via-s3: GET `key`, the libvips calls, PUT the output under the same key;
// the output's size, or 0 when a request or libvips failed.
std::size_t through_s3(imgpipe::s3::Client& client, const std::string& key,
                       const Settings& settings) {
  auto source = client.get_object(settings.s3_source, key);
  if (!source.ok()) {
    std::cerr << "bench_limit: GET " << key << ": " << source.error().message << '\n';
    return 0;
  }
  return thumbnail(source.value().body, settings, [&](std::string_view output) {
    imgpipe::s3::PutRequest put;
    put.content_type = "image/jpeg";
    put.body = output;
    auto written = client.put_object(settings.s3_target, key, put);
    if (!written.ok())
      std::cerr << "bench_limit: PUT " << key << ": " << written.error().message << '\n';
    return written.ok();
  });
}

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

long peak_rss_kib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  if (!parse(argc, argv, settings)) {
    std::cerr << "usage: bench_limit DIR [--threads N] [--width W] [--height H] [--quality Q] "
                 "[--rounds R] [--shrink-on-load fast|conservative] "
                 "[--via-render | --via-s3 SOURCE TARGET]\n";
    return 2;
  }
  // libvips set up as in the worker: one thread per image (parallel over
  // images), no operation cache, the same run-time SIMD.
  const imgpipe::image::Runtime runtime(argv[0]);
  const auto paths = image_paths(settings.dir);
  if (paths.empty()) {
    std::cerr << "bench_limit: no files in " << settings.dir << '\n';
    return 2;
  }
  const bool via_s3 = !settings.s3_source.empty();
  // Through S3 only the names are needed: the bytes come from the store.
  const auto images = via_s3 ? std::vector<std::string>{} : read_images(paths);
  std::unique_ptr<imgpipe::s3::Client> client;
  if (via_s3) {
    const auto config = imgpipe::pipeline::load_config("", imgpipe::pipeline::process_environment(),
                                                       imgpipe::pipeline::Use::local);
    if (!config.ok()) {
      std::cerr << "bench_limit: " << config.error().message << '\n';
      return 2;
    }
    client = std::make_unique<imgpipe::s3::Client>(imgpipe::cli::s3_options(config.value()));
  }
  auto one = [&](std::size_t i) -> std::size_t {
    if (via_s3) return through_s3(*client, paths[i].filename().string(), settings);
    return thumbnail(images[i], settings, nullptr);
  };
  const std::size_t total = paths.size() * static_cast<std::size_t>(settings.rounds);
  std::atomic<std::size_t> next{0}, out_bytes{0}, failed{0};
  const double cpu_before = cpu_seconds();
  const auto start = std::chrono::steady_clock::now();
  {
    std::vector<std::jthread> workers;
    workers.reserve(static_cast<std::size_t>(settings.threads));
    for (int t = 0; t < settings.threads; ++t) {
      workers.emplace_back([&] {
        for (std::size_t i = next++; i < total; i = next++) {
          const std::size_t size = one(i % paths.size());
          out_bytes += size;
          failed += size == 0 ? 1 : 0;
          vips_thread_shutdown();
        }
      });
    }
  }
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu = cpu_seconds() - cpu_before;
  const std::size_t done = total - failed;
  std::printf(
      "{\"name\":\"%s\",\"libvips\":\"%s\",\"run_time_simd\":%s,\"shrink_on_load\":\"%s\","
      "\"threads\":%d,\"images\":%zu,"
      "\"failed\":%zu,"
      "\"wall_s\":%.3f,\"cpu_s\":%.3f,\"images_per_s\":%.3f,\"cpu_s_per_image\":%.4f,"
      "\"peak_rss_mb\":%.1f,\"out_kib_per_image\":%.1f}\n",
      via_s3 ? "limit-s3" : (settings.via_render ? "render" : "limit"), vips_version_string(),
      imgpipe::image::run_time_simd_is_safe() ? "true" : "false",
      settings.fast_shrink ? "fast" : "conservative", settings.threads, done, failed.load(), wall,
      cpu, static_cast<double>(done) / wall,
      cpu / static_cast<double>(std::max<std::size_t>(done, 1)),
      static_cast<double>(peak_rss_kib()) / 1024.0,
      static_cast<double>(out_bytes) / 1024.0 /
          static_cast<double>(std::max<std::size_t>(done, 1)));
  return failed == 0 ? 0 : 1;
}
