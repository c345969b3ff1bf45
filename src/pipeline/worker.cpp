#include "pipeline/worker.h"

#include <algorithm>
#include <exception>

#include "observe/log.h"
#include "observe/metrics.h"

namespace imgpipe::pipeline {
namespace {

// After the grace: how long cancelled jobs get to notice and return.
constexpr std::chrono::milliseconds kCancelWait{2000};

nlohmann::ordered_json describe(const std::vector<kafka::TopicPartition>& partitions) {
  auto list = nlohmann::ordered_json::array();
  for (const auto& partition : partitions) {
    list.push_back(partition.topic + "[" + std::to_string(partition.partition) + "]");
  }
  return list;
}

}  // namespace

Worker::Worker(WorkerOptions options, MessageHandler handler)
    : options_(options), handler_(std::move(handler)) {
  for (int i = 0; i < options_.threads; ++i) {
    threads_.emplace_back([this](std::stop_token stop) { pool_loop(stop); });
  }
}

Worker::~Worker() {
  cancel_jobs_.request_stop();
  {
    std::lock_guard lock(mutex_);
    for (auto& [partition, cancel] : partition_cancel_) cancel.request_stop();
  }
  for (auto& thread : threads_) thread.request_stop();
  work_ready_.notify_all();
  threads_.clear();  // joins
}

void Worker::request_stop() {
  stop_requested_.store(true);
  work_done_.notify_all();
}

std::deque<Worker::QueueItem>::iterator Worker::next_runnable() {
  return std::find_if(queue_.begin(), queue_.end(), [this](const QueueItem& item) {
    return item.second.key.empty() || busy_keys_.count(item.second.key) == 0;
  });
}

JobStatus Worker::run_handler(const kafka::Message& message, std::stop_token cancel) {
  std::string what;
  try {
    return handler_(message, std::move(cancel));
  } catch (const std::exception& error) {
    what = error.what();
  } catch (...) {
    what = "unknown exception";
  }
  observe::Metrics::global()
      .objects_failed.with(std::string(reason_name(Reason::internal)))
      .increment();
  observe::log_fields(spdlog::level::err, "failed",
                      {{"reason", reason_name(Reason::internal)},
                       {"error", "exception in the job: " + what},
                       {"topic", message.partition.topic},
                       {"partition", message.partition.partition},
                       {"offset", message.offset},
                       {"key", message.key}});
  return JobStatus::done;
}

void Worker::pool_loop(std::stop_token stop) {
  for (;;) {
    QueueItem item;
    std::stop_token cancel;
    {
      std::unique_lock lock(mutex_);
      work_ready_.wait(lock, stop, [this] { return next_runnable() != queue_.end(); });
      if (stop.stop_requested()) return;
      const auto runnable = next_runnable();
      item = std::move(*runnable);
      queue_.erase(runnable);
      if (!item.second.key.empty()) busy_keys_.insert(item.second.key);
      cancel = cancel_token(item.second.partition);
    }
    const JobStatus status = cancel.stop_requested() || cancel_jobs_.stop_requested()
                                 ? JobStatus::cancelled
                                 : run_handler(item.second, cancel);
    {
      std::lock_guard lock(mutex_);
      busy_keys_.erase(item.second.key);
      completions_.push_back(Completion{item.first, status});
    }
    // A message waiting behind this key may run now.
    work_ready_.notify_all();
    work_done_.notify_all();
  }
}

std::stop_token Worker::cancel_token(const kafka::TopicPartition& partition) {
  return partition_cancel_[partition].get_token();
}

void Worker::drop_queued(const std::set<kafka::TopicPartition>& partitions) {
  std::size_t dropped = 0;
  {
    std::lock_guard lock(mutex_);
    for (auto it = queue_.begin(); it != queue_.end();) {
      if (partitions.count(it->first.partition) == 0) {
        ++it;
        continue;
      }
      completions_.push_back(Completion{it->first, JobStatus::cancelled});
      it = queue_.erase(it);
      ++dropped;
    }
  }
  if (dropped > 0) {
    observe::log_fields(spdlog::level::info, "queued messages of revoked partitions dropped",
                        {{"dropped", dropped}});
  }
}

void Worker::cancel_running(const std::set<kafka::TopicPartition>& partitions) {
  std::lock_guard lock(mutex_);
  for (const auto& partition : partitions) {
    auto it = partition_cancel_.find(partition);
    if (it == partition_cancel_.end()) continue;
    it->second.request_stop();
    partition_cancel_.erase(it);  // running jobs keep their token; new ones get a fresh source
  }
}

void Worker::dispatch(kafka::Message message) {
  auto ticket = watermark_.begin(message.partition, message.offset);
  if (!ticket) {
    // Only possible if librdkafka delivers for a partition it has not
    // assigned; the message will come again after the next assignment.
    observe::log_fields(spdlog::level::warn, "message for unassigned partition dropped",
                        {{"partition", message.partition.partition}, {"offset", message.offset}});
    return;
  }
  ++outstanding_;
  observe::Metrics::global().in_flight.unlabelled().add(1);
  {
    std::lock_guard lock(mutex_);
    queue_.emplace_back(*ticket, std::move(message));
  }
  work_ready_.notify_one();
}

void Worker::drain_completions() {
  std::vector<Completion> finished;
  {
    std::lock_guard lock(mutex_);
    finished.swap(completions_);
  }
  for (const auto& completion : finished) {
    --outstanding_;
    observe::Metrics::global().in_flight.unlabelled().add(-1);
    // A cancelled job stays pending: the watermark cannot pass it, so its
    // message is delivered again after a restart or rebalance.
    if (completion.status != JobStatus::done) continue;
    auto committable = watermark_.complete(completion.ticket);
    if (!committable) continue;
    auto stored = source_->store_offset(completion.ticket.partition, *committable);
    if (!stored) {
      observe::log_fields(spdlog::level::warn, "offset not stored",
                          {{"partition", completion.ticket.partition.partition},
                           {"offset", *committable},
                           {"error", stored.error().message}});
    }
  }
}

template <class Predicate>
bool Worker::wait_until(Predicate done, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    drain_completions();
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::unique_lock lock(mutex_);
    work_done_.wait_until(
        lock, std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(50)),
        [this] { return !completions_.empty(); });
  }
}

void Worker::pause_assigned() {
  std::vector<kafka::TopicPartition> more;
  for (const auto& partition : assigned_) {
    if (paused_.count(partition) == 0) more.push_back(partition);
  }
  if (more.empty()) return;
  if (auto paused = source_->pause(more); !paused) {
    observe::log_fields(spdlog::level::warn, "pausing partitions failed",
                        {{"error", paused.error().message}});
    return;
  }
  paused_.insert(more.begin(), more.end());
  publish_paused();
}

void Worker::publish_paused() const {
  observe::Metrics::global().paused_partitions.unlabelled().set(
      static_cast<double>(paused_.size()));
}

void Worker::resume_paused() {
  if (paused_.empty()) return;
  const std::vector<kafka::TopicPartition> partitions(paused_.begin(), paused_.end());
  if (auto resumed = source_->resume(partitions); !resumed) {
    observe::log_fields(spdlog::level::warn, "resuming partitions failed",
                        {{"error", resumed.error().message}});
    return;
  }
  paused_.clear();
  publish_paused();
}

void Worker::on_assigned(const std::vector<kafka::TopicPartition>& partitions) {
  for (const auto& partition : partitions) watermark_.assign(partition);
  assigned_.insert(partitions.begin(), partitions.end());
  observe::log_fields(spdlog::level::info, "partitions assigned",
                      {{"partitions", describe(partitions)}});
}

void Worker::on_revoked(const std::vector<kafka::TopicPartition>& partitions, bool lost) {
  const std::set<kafka::TopicPartition> taken(partitions.begin(), partitions.end());
  // Not started yet: the next owner does them, sooner than we would.
  drop_queued(taken);
  // While stopping, finish_in_flight() already spent the grace: closing the
  // consumer revokes everything, and waiting again would double the time a
  // SIGTERM takes.
  if (!lost && source_ != nullptr && !shutdown_waited_) {
    const auto deadline = std::chrono::steady_clock::now() + options_.shutdown_grace;
    const auto drained_all = [&] {
      for (const auto& partition : partitions) {
        if (watermark_.in_flight(partition) > 0) return false;
      }
      return true;
    };
    if (!wait_until(drained_all, deadline)) {
      observe::log_fields(spdlog::level::warn, "revoked with work in flight; it will be redone",
                          {{"partitions", describe(partitions)}});
    }
  }
  drain_completions();
  for (const auto& partition : partitions) {
    watermark_.revoke(partition);
    assigned_.erase(partition);
    paused_.erase(partition);  // not ours to resume any more
  }
  // Whatever still runs for them (all of it when lost: no wait above) stops now.
  cancel_running(taken);
  publish_paused();
  observe::log_fields(spdlog::level::info, lost ? "partitions lost" : "partitions revoked",
                      {{"partitions", describe(partitions)}});
}

void Worker::finish_in_flight() {
  shutdown_waited_ = true;
  // Not started yet: the next owner of the partitions does them.
  drop_queued(assigned_);
  const auto deadline = std::chrono::steady_clock::now() + options_.shutdown_grace;
  if (!wait_until([this] { return outstanding_ == 0; }, deadline)) {
    observe::log_fields(spdlog::level::warn, "shutdown grace over; cancelling in-flight work",
                        {{"in_flight", outstanding_}});
    cancel_jobs_.request_stop();
    cancel_running(assigned_);
    // Queued jobs are skipped, retrying ones stop sleeping and requests under
    // way are aborted (within about a second), so this wait is short.
    wait_until([this] { return outstanding_ == 0; },
               std::chrono::steady_clock::now() + kCancelWait);
  }
}

int Worker::run(kafka::EventSource& source) {
  source_ = &source;
  int exit_code = 0;
  const auto max_in_flight = static_cast<std::size_t>(options_.max_in_flight);
  // Paused at max_in_flight, resumed only once half of it is done: librdkafka
  // drops what it prefetched for a partition when it is paused, so resuming
  // after every single completion would cost a fetch round trip per message.
  const std::size_t resume_at = max_in_flight / 2;
  while (!stop_requested_.load()) {
    drain_completions();
    // Saturated: stop fetching, but keep polling, so that rebalances are
    // served and the member stays in its group however long the work takes.
    // The poll does not block then; the wait below wakes on a completion.
    if (outstanding_ >= max_in_flight) {
      pause_assigned();
    } else if (outstanding_ <= resume_at) {
      resume_paused();
    }
    const bool holding = outstanding_ >= max_in_flight || !paused_.empty();
    auto outcome = source.poll(holding ? std::chrono::milliseconds(0) : options_.poll_timeout);
    if (outcome.error) {
      observe::log_fields(outcome.fatal ? spdlog::level::critical : spdlog::level::warn,
                          "kafka consumer error", {{"error", outcome.error->message}});
      if (outcome.fatal) {
        exit_code = 1;
        break;
      }
    }
    if (outcome.message) dispatch(std::move(*outcome.message));
    if (holding) {
      wait_until([&] { return outstanding_ <= resume_at || stop_requested_.load(); },
                 std::chrono::steady_clock::now() + options_.poll_timeout);
    }
  }
  observe::log_fields(spdlog::level::info, "stopping: finishing in-flight work",
                      {{"in_flight", outstanding_}});
  finish_in_flight();
  drain_completions();
  if (auto closed = source.close(); !closed) {
    observe::log_fields(spdlog::level::err, "closing the consumer failed",
                        {{"error", closed.error().message}});
  }
  source_ = nullptr;
  return exit_code;
}

}  // namespace imgpipe::pipeline
