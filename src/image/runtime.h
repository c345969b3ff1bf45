// The libvips runtime for a server process. Nothing outside src/image
// includes vips.
//
// Thread-safety: create exactly one Runtime, in main, before other threads
// use src/image; the functions are pure.
#pragma once

#include <string>

namespace imgpipe::image {

// The libvips this process runs with, e.g. "8.14.1".
std::string library_version();

// Initialises libvips for server use for the lifetime of the object:
// operation cache off, untrusted loaders blocked (magick, svg, pdf ...), one
// thread per image (a JPEG decodes on one core anyway, so the worker
// parallelises across images); with libvips before 8.15, liborc's run-time
// SIMD code off (it crashed under concurrent use: runtime.cpp).
class Runtime {
 public:
  explicit Runtime(const char* program_name);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;
};

}  // namespace imgpipe::image
