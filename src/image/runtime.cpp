#include "image/runtime.h"

#include <vips/vips8>

namespace imgpipe::image {

Runtime::Runtime(const char* program_name) {
  if (VIPS_INIT(program_name) != 0) vips_error_exit("cannot initialise libvips");
  vips_cache_set_max(0);
  vips_concurrency_set(1);
  vips_block_untrusted_set(TRUE);
}

Runtime::~Runtime() { vips_shutdown(); }

std::string_view content_type_of(std::string_view format) {
  if (format == "jpeg") return "image/jpeg";
  if (format == "png") return "image/png";
  if (format == "webp") return "image/webp";
  if (format == "gif") return "image/gif";
  if (format == "tiff") return "image/tiff";
  if (format == "heif") return "image/heif";
  if (format == "avif") return "image/avif";
  return "application/octet-stream";
}

}  // namespace imgpipe::image
