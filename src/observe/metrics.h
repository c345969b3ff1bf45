// Prometheus-style metrics: counters, gauges and histograms with a small,
// fixed set of label values, rendered in the text exposition format.
//
// The registry is the one piece of global mutable state imgpipe allows: every
// component records into Metrics::global(), /metrics renders it. Label
// cardinality is bounded by construction: labels are reason codes, stages or
// outcomes, never keys or buckets.
//
// Thread-safety: all operations are safe from any thread; counters and
// gauges are lock-free, histograms and label lookups take a mutex.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace imgpipe::observe {

class Counter {
 public:
  void increment(double amount = 1.0);
  double value() const { return value_.load(); }

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void set(double value) { value_.store(value); }
  void add(double amount);
  double value() const { return value_.load(); }

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double value);
  struct Snapshot {
    std::vector<double> upper_bounds;
    std::vector<std::uint64_t> cumulative_counts;  // one per bound, then +Inf
    double sum = 0;
    std::uint64_t count = 0;
  };
  Snapshot snapshot() const;

 private:
  mutable std::mutex mutex_;
  std::vector<double> upper_bounds_;
  std::vector<std::uint64_t> counts_;  // per bucket, +Inf last
  double sum_ = 0;
  std::uint64_t count_ = 0;
};

// A metric family: one name and help text, one child per label value.
template <class Metric>
class Family {
 public:
  Family(std::string name, std::string help, std::string label_name,
         std::vector<double> buckets = {})
      : name_(std::move(name)),
        help_(std::move(help)),
        label_name_(std::move(label_name)),
        buckets_(std::move(buckets)) {}
  Metric& with(const std::string& label_value);
  Metric& unlabelled() { return with(""); }
  // Drops a child (a partition this process no longer holds). A reference
  // from with() must not be used after its child is removed.
  void remove(const std::string& label_value);

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::string& label_name() const { return label_name_; }
  // Copy of the children, for rendering; shared, so that a child removed
  // meanwhile stays valid until the copy is gone.
  std::vector<std::pair<std::string, std::shared_ptr<const Metric>>> children() const;

 private:
  std::string name_, help_, label_name_;
  std::vector<double> buckets_;
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<Metric>> children_;
};

// Every metric imgpipe exports, declared once.
class Metrics {
 public:
  static Metrics& global();
  Metrics();

  Family<Counter> events_received{"imgpipe_events_received_total",
                                  "Kafka messages received, by event kind", "kind"};
  Family<Counter> objects_processed{"imgpipe_objects_processed_total",
                                    "Objects transformed and written", ""};
  Family<Counter> objects_failed{"imgpipe_objects_failed_total",
                                 "Messages or objects that could not be processed, by reason",
                                 "reason"};
  Family<Counter> objects_skipped{"imgpipe_objects_skipped_total",
                                  "Events deliberately not processed, by why", "why"};
  Family<Counter> dead_lettered{"imgpipe_dead_lettered_total",
                                "Messages written to the dead-letter topic, by reason", "reason"};
  Family<Counter> outputs_deleted{"imgpipe_outputs_deleted_total",
                                  "Outputs (and sidecars) removed because their source was deleted",
                                  ""};
  Family<Counter> retries{"imgpipe_retries_total", "Transient failures retried, by reason",
                          "reason"};
  Family<Counter> outputs_written{"imgpipe_outputs_written_total",
                                  "Output objects written, by variant (output name in the rules)",
                                  "variant"};
  Family<Counter> progressive_inputs{
      "imgpipe_progressive_inputs_total",
      "Progressive JPEG inputs (they decode slower and use more memory)", ""};
  Family<Counter> bytes_in{"imgpipe_input_bytes_total", "Bytes read from the object store", ""};
  Family<Counter> bytes_out{"imgpipe_output_bytes_total", "Bytes written to the object store", ""};
  Family<Gauge> in_flight{"imgpipe_in_flight", "Messages being processed now", ""};
  Family<Gauge> paused_partitions{"imgpipe_paused_partitions",
                                  "Assigned partitions paused because max_in_flight is reached",
                                  ""};
  // Consumer lag from librdkafka's statistics (kafka/lag.h), every 5 s.
  Family<Gauge> partition_lag{"imgpipe_partition_lag",
                              "Records of a partition this worker holds that the group has not "
                              "committed yet (high watermark minus committed offset)",
                              "partition"};
  Family<Gauge> consumer_lag{"imgpipe_consumer_lag",
                             "Records not committed yet, summed over the partitions this worker "
                             "holds",
                             ""};
  Family<Gauge> commit_progress{"imgpipe_last_commit_progress_timestamp_seconds",
                                "When this worker's committed offsets last advanced, or it had "
                                "nothing to do (Unix time)",
                                ""};
  // Read by pipeline::DeadLetterTopicProbe every metrics.dlq_interval_ms;
  // no sample until its first successful read.
  Family<Gauge> dead_letter_topic_records{
      "imgpipe_dead_letter_topic_records",
      "Records the dead-letter topic retains now: high minus low watermark, summed over its "
      "partitions (retention lowers it; not a count of dead letters ever written)",
      ""};
  Family<Gauge> ready{"imgpipe_ready",
                      "1 while /readyz answers 200 (group joined, object store reachable), else 0; "
                      "evaluated at each scrape",
                      ""};
  Family<Gauge> store_reachable{
      "imgpipe_object_store_reachable",
      "1 while the object store answers its health probe, 0 during an outage", ""};
  // `imgpipe reconcile`: what its periodic backfill checks find.
  Family<Counter> reconcile_runs{"imgpipe_reconcile_runs_total",
                                 "Reconciliation runs, by outcome (complete, failed)", "outcome"};
  Family<Counter> reconcile_checked{"imgpipe_reconcile_objects_checked_total",
                                    "Source objects a rule takes, checked by reconciliation", ""};
  Family<Counter> reconcile_found{"imgpipe_reconcile_objects_found_total",
                                  "Objects reconciliation classified, by class (missing, stale, "
                                  "outdated, up_to_date, collision, own_output)",
                                  "class"};
  Family<Counter> reconcile_enqueued{"imgpipe_reconcile_enqueued_total",
                                     "Synthetic events reconciliation put on the event topic", ""};
  Family<Gauge> reconcile_last_run{"imgpipe_reconcile_last_run_timestamp_seconds",
                                   "When the last reconciliation run ended (Unix time)", ""};
  Family<Gauge> reconcile_last_duration{"imgpipe_reconcile_last_run_duration_seconds",
                                        "How long the last reconciliation run took", ""};
  Family<Histogram> latency{"imgpipe_processing_seconds",
                            "Time from message received to output written",
                            "",
                            {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}};
  Family<Histogram> stage_latency{"imgpipe_stage_seconds",
                                  "Time spent per stage of one object (get, transform, put)",
                                  "stage",
                                  {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5}};

  // imgpipe_build_info{version=...,libvips=...,librdkafka=...} 1: what this
  // process was built from, set once at start-up by whoever knows the
  // libraries (observe links neither). Label values are escaped.
  void set_build_info(std::vector<std::pair<std::string, std::string>> labels);

  // The text exposition format (version 0.0.4), with the process's own
  // process_cpu_seconds_total, process_resident_memory_bytes,
  // process_start_time_seconds and process_open_fds (Prometheus' names).
  std::string render() const;

 private:
  mutable std::mutex build_info_mutex_;
  std::vector<std::pair<std::string, std::string>> build_info_;
};

}  // namespace imgpipe::observe
