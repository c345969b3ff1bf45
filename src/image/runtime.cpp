#include "image/runtime.h"

#include <vips/vips8>
#if VIPS_MAJOR_VERSION == 8 && VIPS_MINOR_VERSION < 15
#include <dlfcn.h>
#include <orc/orcprogram.h>
#include <vips/vector.h>

#include <mutex>
#define IMGPIPE_SERIALISE_ORC 1
#endif

namespace imgpipe::image {

#ifdef IMGPIPE_SERIALISE_ORC
// Before 8.15 libvips generates SIMD code at run time with liborc, one
// program per operation: with the operation cache off, several per image.
// Debian 12's liborc 0.4.33 allocates code memory under its own lock but
// frees it without one, so two threads compiling and freeing at once corrupt
// its chunk list (SIGSEGV in orc_code_allocate_codemem after about 17 000
// small renders on two threads; on four, heap corruption after 21-118 s in
// 3 of 3 runs). libvips calls these two functions through the dynamic linker, so the
// definitions below, in the executable, come first: each takes one process
// lock and calls liborc's own. Running compiled programs needs no lock.
// Without orc the Lanczos reduce runs as scalar C: about 60% more CPU per
// camera photo (docs/performance.md).
namespace {

std::mutex& orc_lock() {
  static std::mutex lock;
  return lock;
}

template <class Function>
Function liborc(const char* name) {
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): dlsym's contract
  return reinterpret_cast<Function>(dlsym(RTLD_NEXT, name));
}

}  // namespace
}  // namespace imgpipe::image

extern "C" OrcCompileResult orc_program_compile(OrcProgram* program) {
  using Compile = OrcCompileResult (*)(OrcProgram*);
  static const auto real = imgpipe::image::liborc<Compile>("orc_program_compile");
  const std::lock_guard hold(imgpipe::image::orc_lock());
  return real(program);
}

extern "C" void orc_program_free(OrcProgram* program) {
  using Free = void (*)(OrcProgram*);
  static const auto real = imgpipe::image::liborc<Free>("orc_program_free");
  const std::lock_guard hold(imgpipe::image::orc_lock());
  real(program);
}

namespace imgpipe::image {
namespace {

// Whether libvips reaches liborc through the wrappers above (they are in the
// dynamic symbol table and liborc's own functions were found); if not, orc
// stays off.
bool orc_is_serialised() {
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): dlsym's contract
  const auto* seen = reinterpret_cast<void*>(dlsym(RTLD_DEFAULT, "orc_program_compile"));
  return seen == reinterpret_cast<void*>(&orc_program_compile) &&  // NOLINT(*-reinterpret-cast)
         dlsym(RTLD_NEXT, "orc_program_compile") != nullptr &&
         dlsym(RTLD_NEXT, "orc_program_free") != nullptr;
}

}  // namespace
#endif

bool run_time_simd_is_safe() {
#ifdef IMGPIPE_SERIALISE_ORC
  return orc_is_serialised();
#else
  return true;  // libvips 8.15+: Highway, compiled ahead of time
#endif
}

Runtime::Runtime(const char* program_name) {
  if (VIPS_INIT(program_name) != 0) vips_error_exit("cannot initialise libvips");
  vips_cache_set_max(0);
  vips_concurrency_set(1);
  vips_block_untrusted_set(TRUE);
#ifdef IMGPIPE_SERIALISE_ORC
  if (!run_time_simd_is_safe()) vips_vector_set_enabled(FALSE);
#endif
}

Runtime::~Runtime() {
  vips_shutdown();
}

std::string library_version() {
  return vips_version_string();
}

}  // namespace imgpipe::image
