#include "image/runtime.h"

#include <vips/vips8>

namespace imgpipe::image {

Runtime::Runtime(const char* program_name) {
  if (VIPS_INIT(program_name) != 0) vips_error_exit("cannot initialise libvips");
  vips_cache_set_max(0);
  vips_concurrency_set(1);
  vips_block_untrusted_set(TRUE);
}

Runtime::~Runtime() {
  vips_shutdown();
}

}  // namespace imgpipe::image
