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

// Whether libvips may use its run-time SIMD code here: always from 8.15
// (Highway); before, liborc's, only where this process serialises liborc's
// compiling and freeing of programs (it corrupted its heap under concurrent
// use: runtime.cpp), which needs the executable's dynamic symbols to reach
// libvips.
bool run_time_simd_is_safe();

// Initialises libvips for server use for the lifetime of the object:
// operation cache off, untrusted loaders blocked (magick, svg, pdf ...), one
// thread per image unless render() is given more (a JPEG decodes on one core
// anyway, so under load the worker parallelises across images); liborc off
// where run_time_simd_is_safe() is false.
class Runtime {
 public:
  explicit Runtime(const char* program_name);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;
};

}  // namespace imgpipe::image
