#include "observe/metrics.h"

#include <gtest/gtest.h>

#include <thread>

namespace imgpipe::observe {
namespace {

TEST(Metrics, RendersCountersWithTheirLabelsInTextFormat) {
  Metrics metrics;
  metrics.objects_failed.with("not_an_image").increment();
  metrics.objects_failed.with("not_an_image").increment();
  metrics.objects_processed.unlabelled().increment(3);
  const std::string text = metrics.render();
  EXPECT_NE(text.find("# TYPE imgpipe_objects_failed_total counter"), std::string::npos);
  EXPECT_NE(text.find("imgpipe_objects_failed_total{reason=\"not_an_image\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("imgpipe_objects_processed_total 3\n"), std::string::npos) << text;
}

TEST(Metrics, ShowsUnlabelledSeriesAtZeroBeforeAnythingHappened) {
  Metrics metrics;
  const std::string text = metrics.render();
  EXPECT_NE(text.find("imgpipe_objects_processed_total 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("imgpipe_in_flight 0\n"), std::string::npos) << text;
}

// Regression test: imgpipe_paused_partitions was declared but never exported.
TEST(Metrics, ExportsEveryDeclaredFamily) {
  Metrics metrics;
  const std::string text = metrics.render();
  for (const char* name :
       {"imgpipe_events_received_total", "imgpipe_objects_processed_total",
        "imgpipe_objects_failed_total", "imgpipe_objects_skipped_total",
        "imgpipe_dead_lettered_total", "imgpipe_retries_total", "imgpipe_outputs_written_total",
        "imgpipe_outputs_deleted_total", "imgpipe_progressive_inputs_total",
        "imgpipe_input_bytes_total", "imgpipe_output_bytes_total", "imgpipe_in_flight",
        "imgpipe_paused_partitions", "imgpipe_object_store_reachable", "imgpipe_processing_seconds",
        "imgpipe_stage_seconds"}) {
    EXPECT_NE(text.find(std::string("# TYPE ") + name + " "), std::string::npos) << name;
  }
}

TEST(Histogram, CountsCumulativelyPerBucketWithSumAndCount) {
  Metrics metrics;
  auto& latency = metrics.latency.unlabelled();
  latency.observe(0.02);
  latency.observe(0.2);
  latency.observe(100);
  const std::string text = metrics.render();
  EXPECT_NE(text.find("imgpipe_processing_seconds_bucket{le=\"0.025\"} 1\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("imgpipe_processing_seconds_bucket{le=\"0.25\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("imgpipe_processing_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("imgpipe_processing_seconds_count 3\n"), std::string::npos);
  EXPECT_NE(text.find("imgpipe_processing_seconds_sum 100.22"), std::string::npos);
}

TEST(Counter, LosesNoIncrementsUnderConcurrency) {
  Counter counter;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) counter.increment();
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(counter.value(), 40000);
}

}  // namespace
}  // namespace imgpipe::observe
