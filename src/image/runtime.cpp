#include "image/runtime.h"

#include <vips/vips8>
#if VIPS_MAJOR_VERSION == 8 && VIPS_MINOR_VERSION < 15
#include <vips/vector.h>
#endif

namespace imgpipe::image {

Runtime::Runtime(const char* program_name) {
  if (VIPS_INIT(program_name) != 0) vips_error_exit("cannot initialise libvips");
  vips_cache_set_max(0);
  vips_concurrency_set(1);
  vips_block_untrusted_set(TRUE);
#if VIPS_MAJOR_VERSION == 8 && VIPS_MINOR_VERSION < 15
  // Before 8.15 libvips generates SIMD code at run time with liborc. With
  // Debian 12's liborc 0.4.33, two threads compiling and freeing orc
  // programs at once crashed the process (SIGSEGV in
  // orc_code_allocate_codemem) after about 17 000 small renders, in both of
  // two runs; with orc off, two runs of 20 000 finished. Off costs about 5%
  // on 12 MP photos and saves 25% on tiny images (no compile per operation):
  // docs/performance.md. libvips 8.15+ uses Highway instead and is not affected.
  vips_vector_set_enabled(FALSE);
#endif
}

Runtime::~Runtime() {
  vips_shutdown();
}

std::string library_version() {
  return vips_version_string();
}

}  // namespace imgpipe::image
