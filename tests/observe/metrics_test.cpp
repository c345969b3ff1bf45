#include "observe/metrics.h"

#include <gtest/gtest.h>

#include <ctime>
#include <string>
#include <thread>
#include <vector>

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

// A counter born at 1 shows no increase() in Prometheus: the by-reason
// series start at 0, each where its reason can occur.
TEST(Metrics, ShowsEveryReasonAtZeroWhereItCanOccur) {
  Metrics metrics;
  const std::string text = metrics.render();
  EXPECT_NE(text.find("imgpipe_dead_lettered_total{reason=\"decode_failed\"} 0\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("imgpipe_objects_failed_total{reason=\"unavailable\"} 0\n"),
            std::string::npos);
  EXPECT_NE(text.find("imgpipe_retries_total{reason=\"timeout\"} 0\n"), std::string::npos);
  EXPECT_EQ(text.find("imgpipe_retries_total{reason=\"decode_failed\"}"), std::string::npos)
      << "a permanent failure is never retried";
  EXPECT_EQ(text.find("imgpipe_dead_lettered_total{reason=\"timeout\"}"), std::string::npos)
      << "a transient one is retried, not dead-lettered";
}

// Regression test: imgpipe_paused_partitions was declared but never exported.
TEST(Metrics, ExportsEveryDeclaredFamily) {
  Metrics metrics;
  const std::string text = metrics.render();
  for (const char* name : {"imgpipe_events_received_total",
                           "imgpipe_objects_processed_total",
                           "imgpipe_objects_failed_total",
                           "imgpipe_objects_skipped_total",
                           "imgpipe_dead_lettered_total",
                           "imgpipe_retries_total",
                           "imgpipe_outputs_written_total",
                           "imgpipe_outputs_deleted_total",
                           "imgpipe_progressive_inputs_total",
                           "imgpipe_input_bytes_total",
                           "imgpipe_output_bytes_total",
                           "imgpipe_in_flight",
                           "imgpipe_paused_partitions",
                           "imgpipe_object_store_reachable",
                           "imgpipe_processing_seconds",
                           "imgpipe_ready",
                           "imgpipe_partition_lag",
                           "imgpipe_consumer_lag",
                           "imgpipe_last_commit_progress_timestamp_seconds",
                           "imgpipe_dead_letter_topic_records",
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

// The value of an unlabelled series `name` in `text`, or -1.
double series_value(const std::string& text, const std::string& name) {
  const auto at = text.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + name.size() + 2));
}

TEST(Metrics, ExportsTheProcessCpuMemoryStartAndFilesInPrometheusNames) {
  Metrics metrics;
  // Burn some CPU so that the counter has something to show.
  volatile double sink = 0;
  for (int i = 0; i < 20'000'000; ++i) sink = sink + i * 0.5;
  std::vector<char> touched(64 << 20, 1);  // 64 MiB resident
  const std::string text = metrics.render();
  EXPECT_NE(text.find("# TYPE process_cpu_seconds_total counter"), std::string::npos) << text;
  EXPECT_GT(series_value(text, "process_cpu_seconds_total"), 0.0) << text;
  EXPECT_GT(series_value(text, "process_resident_memory_bytes"), 64.0 * (1 << 20)) << text;
  const double started = series_value(text, "process_start_time_seconds");
  const double now = static_cast<double>(std::time(nullptr));
  EXPECT_GT(started, now - 3600) << "this test process started within the hour";
  EXPECT_LE(started, now + 1);
  EXPECT_GE(series_value(text, "process_open_fds"), 3.0) << "stdin, stdout, stderr at least";
  EXPECT_EQ(touched[touched.size() - 1], 1);
}

TEST(Metrics, ExportsBuildInfoOnceSetWithItsLabelValuesEscaped) {
  Metrics metrics;
  EXPECT_EQ(metrics.render().find("imgpipe_build_info"), std::string::npos) << "not set yet";
  metrics.set_build_info({{"version", "0.1.0"}, {"libvips", "8.14.1"}, {"odd", "a\"b\\c\nd"}});
  const std::string text = metrics.render();
  EXPECT_NE(text.find("# TYPE imgpipe_build_info gauge\n"), std::string::npos) << text;
  EXPECT_NE(text.find("imgpipe_build_info{version=\"0.1.0\",libvips=\"8.14.1\","
                      "odd=\"a\\\"b\\\\c\\nd\"} 1\n"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace imgpipe::observe
