// The worker loop: takes messages from an EventSource, runs the handler for
// several of them at once on a pool of threads, and stores for each
// partition only the highest contiguous completed offset + 1.
//
// Shutdown (request_stop): no new messages are taken, in-flight ones finish
// (after shutdown_grace they are cancelled, their requests under way
// aborted, and not committed), final offsets are stored and the source is
// closed, which commits them. The revoke that closing triggers does not wait
// again: a SIGTERM ends within shutdown_grace + about 2 s.
//
// Rebalance: when partitions are revoked, their queued messages (not started
// yet) are dropped at once, and their running ones get up to shutdown_grace
// to finish and store their offsets; then they are cancelled. Lost partitions
// (the member was too slow and someone else owns them already) are dropped
// unstored and their running jobs cancelled at once, requests under way
// aborted: a zombie stops writing as soon as it learns it is one. (Outputs
// are also written conditionally, see write_decision.h, for the zombie that
// never learns it.)
//
// Order per object: messages with the same Kafka key (MinIO keys them
// `bucket/key`) never run at once; a later one waits until the earlier one
// is finished, while messages of other keys go on. So a slow job for an
// older upload cannot finish after the job for a newer one of the same key.
//
// Saturation: with max_in_flight messages running, the assigned partitions
// are paused and poll() goes on (rebalances are served, the member never
// exceeds max.poll.interval.ms however long S3 is down); they are resumed
// when work finishes. Only what this worker paused is resumed.
//
// Failure boundary: an exception that escapes the handler is caught here,
// counted and logged with reason `internal`, and the message counts as done:
// one bad input never takes the process down (and then, redelivered, again).
//
// Thread-safety: run() on one thread; request_stop() from any thread (e.g.
// a signal-watching thread). The handler runs on the pool threads.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "kafka/consumer.h"
#include "kafka/watermark.h"
#include "pipeline/job.h"

namespace imgpipe::pipeline {

using MessageHandler = std::function<JobStatus(const kafka::Message&, std::stop_token)>;

struct WorkerOptions {
  int threads = 2;
  int max_in_flight = 4;
  std::chrono::milliseconds poll_timeout{100};
  std::chrono::milliseconds shutdown_grace{30000};
};

class Worker final : public kafka::RebalanceListener {
 public:
  Worker(WorkerOptions options, MessageHandler handler);
  ~Worker() override;
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Runs until request_stop() or a fatal source error. Returns 0 after a
  // clean shutdown, 1 after a fatal error.
  int run(kafka::EventSource& source);
  void request_stop();

  void on_assigned(const std::vector<kafka::TopicPartition>& partitions) override;
  void on_revoked(const std::vector<kafka::TopicPartition>& partitions, bool lost) override;

 private:
  struct Completion {
    kafka::Ticket ticket;
    JobStatus status;
  };
  using QueueItem = std::pair<kafka::Ticket, kafka::Message>;
  void dispatch(kafka::Message message);
  void pool_loop(std::stop_token stop);
  // The first queued item whose key is not being worked on; mutex_ held.
  std::deque<QueueItem>::iterator next_runnable();
  JobStatus run_handler(const kafka::Message& message, std::stop_token cancel);
  // Applies finished jobs to the watermark and stores advanced offsets.
  void drain_completions();
  // Waits until `done()` holds or the deadline passes, draining meanwhile.
  template <class Predicate>
  bool wait_until(Predicate done, std::chrono::steady_clock::time_point deadline);
  void finish_in_flight();
  // Pause what is assigned and not paused yet / resume exactly what was paused.
  void pause_assigned();
  void resume_paused();
  void publish_paused() const;  // the imgpipe_paused_partitions gauge
  // Drops queued messages of `partitions` (completed as cancelled) / cancels
  // their running jobs.
  void drop_queued(const std::set<kafka::TopicPartition>& partitions);
  void cancel_running(const std::set<kafka::TopicPartition>& partitions);
  std::stop_token cancel_token(const kafka::TopicPartition& partition);  // mutex_ held

  WorkerOptions options_;
  MessageHandler handler_;
  kafka::EventSource* source_ = nullptr;
  kafka::OffsetWatermark watermark_;  // consumer thread only
  std::size_t outstanding_ = 0;  // dispatched, completion not drained yet; consumer thread only
  std::atomic<bool> stop_requested_{false};
  bool shutdown_waited_ = false;              // finish_in_flight() ran; consumer thread only
  std::set<kafka::TopicPartition> assigned_;  // consumer thread only
  std::set<kafka::TopicPartition> paused_;    // by this worker, still assigned
  std::stop_source cancel_jobs_;

  std::mutex mutex_;
  std::condition_variable_any work_ready_;
  std::condition_variable work_done_;
  std::deque<QueueItem> queue_;
  std::set<std::string> busy_keys_;  // keys of messages a pool thread is running
  // Cancels the jobs of one partition; replaced when it is assigned again.
  std::map<kafka::TopicPartition, std::stop_source> partition_cancel_;
  std::vector<Completion> completions_;
  std::vector<std::jthread> threads_;
};

}  // namespace imgpipe::pipeline
