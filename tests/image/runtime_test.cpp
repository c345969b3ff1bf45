// image::Runtime: libvips' run-time SIMD is on wherever it is safe, and
// concurrent renders with it on keep the heap intact (liborc 0.4.33, under
// libvips 8.14, corrupted it within seconds: src/image/runtime.cpp).
#include "image/runtime.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>
#include <vips/vips8>
#if VIPS_MAJOR_VERSION == 8 && VIPS_MINOR_VERSION < 15
#include <vips/vector.h>
#endif

#include "image/render.h"
#include "support/test_images.h"

namespace imgpipe::image {
namespace {

TEST(RunTimeSimd, IsOnBecauseThisBuildSerialisesLiborc) {
  EXPECT_TRUE(run_time_simd_is_safe());
#if VIPS_MAJOR_VERSION == 8 && VIPS_MINOR_VERSION < 15
  EXPECT_TRUE(vips_vector_isenabled());
#endif
}

// Each render of a small image compiles and frees a few orc programs (the
// reduce operations), so four threads do that thousands of times at once.
// The race itself is too rare to reproduce within a unit test's budget
// (bench_limit without the lock: 3 of 3 runs of 20 000-40 000 renders on four
// threads aborted, after 21-118 s; docs/performance.md); this shows that the
// serialised path renders correctly and does not deadlock.
TEST(RunTimeSimd, ConcurrentSmallRendersAllSucceed) {
  const std::string jpeg = testing_support::make_image(160, 120, ".jpg", 3, "[Q=90]");
  Recipe recipe;
  recipe.operations.push_back(Resize{64, 64, ResizeMode::fit, Gravity::centre, false});
  recipe.encoder.format = "jpeg";
  const Limits limits;
  constexpr int kThreads = 4;
  constexpr int kRendersEach = 500;
  std::atomic<int> succeeded{0};
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < kRendersEach; ++i) {
          auto rendered = render(jpeg, recipe, limits);
          if (rendered && rendered.value().width == 64) ++succeeded;
        }
        vips_thread_shutdown();
      });
    }
  }
  EXPECT_EQ(succeeded.load(), kThreads * kRendersEach);
}

}  // namespace
}  // namespace imgpipe::image
