// Hostile uploads: any bytes through image::inspect() and image::render()
// with the default recipe and the default limits. Never a crash; a hang or a
// memory blow-up is caught by libFuzzer's -timeout and -rss_limit_mb
// (scripts/fuzz.sh). A success must be a real, bounded image.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "image/render.h"
#include "image/runtime.h"
#include "pipeline/config.h"

using namespace imgpipe;

namespace {

struct Defaults {
  image::Runtime runtime{"render_fuzzer"};
  image::Recipe recipe;
  image::Limits limits;

  Defaults() {
    const pipeline::Config config;  // no rules: the default one, from pipeline.*
    recipe = config.effective_rules().at(0).outputs.at(0).recipe;
    limits = config.limits();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Defaults defaults;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto info = image::inspect(bytes, defaults.limits);
  auto rendered = image::render(bytes, defaults.recipe, defaults.limits);
  if (rendered) {
    FUZZ_CHECK(info.ok());
    FUZZ_CHECK(!rendered->bytes.empty());
    FUZZ_CHECK(rendered->width > 0 && rendered->height > 0);
  } else {
    FUZZ_CHECK(!rendered.error().message.empty());
  }
  return 0;
}
