#include "pipeline/worker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include "observe/metrics.h"

namespace imgpipe::pipeline {
namespace {

using namespace std::chrono_literals;
const kafka::TopicPartition kP0{"bucket-events", 0};
const kafka::TopicPartition kP1{"bucket-events", 1};

// Hands out a fixed list of messages, assigning their partitions on the
// first poll, and checks every stored offset against what the handler has
// really finished.
class ScriptedSource final : public kafka::EventSource {
 public:
  ScriptedSource(kafka::RebalanceListener& listener, std::vector<kafka::Message> messages)
      : listener_(listener), messages_(messages.begin(), messages.end()) {}

  kafka::PollOutcome poll(std::chrono::milliseconds timeout) override {
    if (!assigned_) {
      listener_.on_assigned({kP0, kP1});
      assigned_ = true;
    }
    if (lose_after_ >= 0 && delivered_ >= lose_after_ && !lost_ && (!lose_when_ || lose_when_())) {
      lost_ = true;
      listener_.on_revoked({kP0}, true);
    }
    kafka::PollOutcome outcome;
    ++polls_;
    if (paused_.count(kP0) != 0) ++polls_while_paused_;
    if (messages_.empty() || paused_.count(messages_.front().partition) != 0) {
      std::this_thread::sleep_for(std::min(timeout, std::chrono::milliseconds(5)));
      return outcome;
    }
    outcome.message = messages_.front();
    messages_.pop_front();
    ++delivered_;
    return outcome;
  }
  Status store_offset(const kafka::TopicPartition& partition, std::int64_t next_offset) override {
    std::lock_guard lock(mutex_);
    for (std::int64_t offset = first_offset_; offset < next_offset; ++offset) {
      if (!finished_.count({partition.partition, offset})) {
        violations_.push_back("stored " + std::to_string(next_offset) + " before offset " +
                              std::to_string(offset) + " finished");
      }
    }
    stored_[partition.partition] = next_offset;
    return ok_status();
  }
  Status close() override {
    if (assigned_) listener_.on_revoked({kP0, kP1}, false);
    closed_ = true;
    return ok_status();
  }
  bool joined() const override { return assigned_; }
  Status pause(const std::vector<kafka::TopicPartition>& partitions) override {
    for (const auto& partition : partitions) {
      if (!paused_.insert(partition).second) violations_.push_back("paused twice");
    }
    ++pauses_;
    return ok_status();
  }
  Status resume(const std::vector<kafka::TopicPartition>& partitions) override {
    for (const auto& partition : partitions) {
      if (paused_.erase(partition) == 0) violations_.push_back("resumed what was not paused");
    }
    ++resumes_;
    return ok_status();
  }
  int polls_while_paused() const { return polls_while_paused_; }
  int pauses() const { return pauses_; }
  int resumes() const { return resumes_; }
  bool any_paused() const { return !paused_.empty(); }

  void mark_finished(const kafka::Message& message) {
    std::lock_guard lock(mutex_);
    finished_.insert({message.partition.partition, message.offset});
  }
  std::int64_t stored(int partition) {
    std::lock_guard lock(mutex_);
    return stored_.count(partition) ? stored_[partition] : -1;
  }
  std::vector<std::string> violations() {
    std::lock_guard lock(mutex_);
    return violations_;
  }
  bool closed() const { return closed_; }
  bool drained() const { return messages_.empty(); }
  void set_first_offset(std::int64_t offset) { first_offset_ = offset; }
  // After `count` messages were handed out and once `when` holds, partition
  // 0 is lost (once).
  void lose_p0_after(int count, std::function<bool()> when = {}) {
    lose_after_ = count;
    lose_when_ = std::move(when);
  }
  bool lost() const { return lost_; }

 private:
  kafka::RebalanceListener& listener_;
  std::deque<kafka::Message> messages_;
  bool assigned_ = false;
  bool closed_ = false;
  std::atomic<bool> lost_{false};
  int lose_after_ = -1;
  std::function<bool()> lose_when_;
  int delivered_ = 0;
  std::int64_t first_offset_ = 0;
  std::mutex mutex_;
  std::set<std::pair<int, std::int64_t>> finished_;
  std::map<int, std::int64_t> stored_;
  std::vector<std::string> violations_;
  std::set<kafka::TopicPartition> paused_;
  std::atomic<int> polls_{0}, polls_while_paused_{0}, pauses_{0}, resumes_{0};
};

std::vector<kafka::Message> messages_on(const kafka::TopicPartition& partition, int count) {
  std::vector<kafka::Message> out;
  for (int i = 0; i < count; ++i) out.push_back(kafka::Message{partition, i, "", "m", -1, {}});
  return out;
}

// Runs the worker on another thread until `until` holds, then stops it.
template <class Condition>
int run_until(Worker& worker, ScriptedSource& source, Condition until) {
  std::atomic<int> status{-1};
  std::thread runner([&] { status = worker.run(source); });
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!until() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
  worker.request_stop();
  runner.join();
  return status;
}

TEST(Worker, ProcessesEveryMessageAndCommitsTheEndOfEachPartition) {
  std::atomic<int> handled{0};
  ScriptedSource* source_ptr = nullptr;
  Worker worker(WorkerOptions{4, 8, 10ms, 5s}, [&](const kafka::Message& message, std::stop_token) {
    source_ptr->mark_finished(message);
    ++handled;
    return JobStatus::done;
  });
  auto messages = messages_on(kP0, 20);
  auto more = messages_on(kP1, 15);
  messages.insert(messages.end(), more.begin(), more.end());
  ScriptedSource source(worker, messages);
  source_ptr = &source;

  EXPECT_EQ(run_until(worker, source, [&] { return handled == 35; }), 0);
  EXPECT_EQ(source.stored(0), 20);
  EXPECT_EQ(source.stored(1), 15);
  EXPECT_TRUE(source.closed());
  EXPECT_TRUE(source.violations().empty()) << source.violations().front();
}

TEST(Worker, NeverCommitsPastAMessageThatIsStillRunning) {
  std::atomic<bool> release_first{false};
  std::atomic<int> handled{0};
  ScriptedSource* source_ptr = nullptr;
  Worker worker(WorkerOptions{3, 6, 10ms, 5s}, [&](const kafka::Message& message, std::stop_token) {
    if (message.offset == 0) {
      while (!release_first) std::this_thread::sleep_for(1ms);
    }
    source_ptr->mark_finished(message);
    ++handled;
    return JobStatus::done;
  });
  ScriptedSource source(worker, messages_on(kP0, 5));
  source_ptr = &source;

  std::thread runner([&] { worker.run(source); });
  while (handled < 4) std::this_thread::sleep_for(1ms);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(source.stored(0), -1) << "offset 0 still runs, nothing may be committed";
  release_first = true;
  while (handled < 5) std::this_thread::sleep_for(1ms);
  worker.request_stop();
  runner.join();
  EXPECT_EQ(source.stored(0), 5);
  EXPECT_TRUE(source.violations().empty());
}

TEST(Worker, LeavesACancelledMessageUncommittedSoItIsDeliveredAgain) {
  ScriptedSource* source_ptr = nullptr;
  std::atomic<int> handled{0};
  Worker worker(WorkerOptions{2, 4, 10ms, 100ms},
                [&](const kafka::Message& message, std::stop_token stop) {
                  ++handled;
                  if (message.offset == 2) {
                    while (!stop.stop_requested()) std::this_thread::sleep_for(1ms);
                    return JobStatus::cancelled;
                  }
                  source_ptr->mark_finished(message);
                  return JobStatus::done;
                });
  ScriptedSource source(worker, messages_on(kP0, 4));
  source_ptr = &source;

  EXPECT_EQ(run_until(worker, source, [&] { return handled == 4; }), 0);
  EXPECT_EQ(source.stored(0), 2) << "0 and 1 done; 2 was cancelled, so 3 cannot be committed";
  EXPECT_TRUE(source.violations().empty());
}

// Regression test for the zombie: after its partition was lost, a member
// went on with the queued messages and finished the running one, writing
// over what the new owner wrote. Now queued ones are dropped and the
// running one is cancelled at once.
TEST(Worker, ALostPartitionsQueuedWorkIsDroppedAndItsRunningJobCancelled) {
  std::atomic<int> started{0};
  std::atomic<bool> running_job_cancelled{false};
  ScriptedSource* source_ptr = nullptr;
  Worker worker(WorkerOptions{1, 8, 10ms, 30s},
                [&](const kafka::Message& message, std::stop_token stop) {
                  ++started;
                  if (message.offset == 0) {
                    const auto give_up = std::chrono::steady_clock::now() + 10s;
                    while (!stop.stop_requested() && std::chrono::steady_clock::now() < give_up) {
                      std::this_thread::sleep_for(1ms);
                    }
                    running_job_cancelled = stop.stop_requested();
                    return JobStatus::cancelled;
                  }
                  source_ptr->mark_finished(message);
                  return JobStatus::done;
                });
  ScriptedSource source(worker, messages_on(kP0, 5));
  source.lose_p0_after(5, [&] { return started > 0; });  // offset 0 runs, 1-4 wait
  source_ptr = &source;

  const auto start = std::chrono::steady_clock::now();
  run_until(worker, source, [&] { return running_job_cancelled.load(); });
  EXPECT_TRUE(running_job_cancelled) << "the running job must see the loss";
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_EQ(started, 1) << "the four queued messages of the lost partition must never run";
  EXPECT_EQ(source.stored(0), -1);
  EXPECT_TRUE(source.violations().empty());
}

TEST(Worker, LimitsTheMessagesInFlight) {
  std::atomic<int> running{0};
  std::atomic<int> peak{0};
  std::atomic<int> handled{0};
  Worker worker(WorkerOptions{4, 2, 10ms, 5s}, [&](const kafka::Message&, std::stop_token) {
    const int now = ++running;
    int seen = peak.load();
    while (now > seen && !peak.compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(5ms);
    --running;
    ++handled;
    return JobStatus::done;
  });
  ScriptedSource source(worker, messages_on(kP0, 30));
  run_until(worker, source, [&] { return handled == 30; });
  EXPECT_LE(peak.load(), 2);
}

// Regression test: at max_in_flight the loop stopped polling, so with S3
// down the member exceeded max.poll.interval.ms and left its group.
TEST(Worker, KeepsPollingWithItsPartitionsPausedWhileSaturated) {
  std::atomic<bool> release{false};
  std::atomic<int> handled{0};
  ScriptedSource* source_ptr = nullptr;
  Worker worker(WorkerOptions{2, 2, 5ms, 5s}, [&](const kafka::Message& message, std::stop_token) {
    while (!release) std::this_thread::sleep_for(1ms);
    source_ptr->mark_finished(message);
    ++handled;
    return JobStatus::done;
  });
  ScriptedSource source(worker, messages_on(kP0, 6));
  source_ptr = &source;
  std::thread runner([&] { worker.run(source); });
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (source.polls_while_paused() < 20 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_GE(source.polls_while_paused(), 20) << "stopped polling while saturated";
  EXPECT_EQ(handled.load(), 0);
  release = true;
  while (handled < 6) std::this_thread::sleep_for(1ms);
  worker.request_stop();
  runner.join();
  EXPECT_GE(source.pauses(), 1);
  EXPECT_GE(source.resumes(), 1);
  EXPECT_EQ(source.stored(0), 6);
  EXPECT_TRUE(source.violations().empty()) << source.violations().front();
}

TEST(Worker, FinishesInFlightWorkBeforeItStops) {
  std::atomic<int> started{0};
  std::atomic<int> finished{0};
  ScriptedSource* source_ptr = nullptr;
  Worker worker(WorkerOptions{2, 2, 10ms, 5s}, [&](const kafka::Message& message, std::stop_token) {
    ++started;
    std::this_thread::sleep_for(100ms);
    source_ptr->mark_finished(message);
    ++finished;
    return JobStatus::done;
  });
  ScriptedSource source(worker, messages_on(kP0, 2));
  source_ptr = &source;
  run_until(worker, source, [&] { return started == 2; });
  EXPECT_EQ(finished.load(), 2) << "stop waited for both";
  EXPECT_EQ(source.stored(0), 2);
}

// Regression test: after the grace, closing the consumer revoked the
// partitions and the revoke waited for the cancelled job a second grace.
TEST(Worker, StopsWithinTheGraceWhenAJobOutlivesIt) {
  std::atomic<int> started{0};
  Worker worker(WorkerOptions{1, 2, 10ms, 1000ms},
                [&](const kafka::Message&, std::stop_token stop) {
                  ++started;
                  while (!stop.stop_requested()) std::this_thread::sleep_for(1ms);
                  return JobStatus::cancelled;
                });
  ScriptedSource source(worker, messages_on(kP0, 1));
  std::thread runner([&] { worker.run(source); });
  while (started == 0) std::this_thread::sleep_for(1ms);
  const auto start = std::chrono::steady_clock::now();
  worker.request_stop();
  runner.join();
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 900ms) << "the job had its grace";
  EXPECT_LT(took, 1800ms) << "but not twice";
  EXPECT_EQ(source.stored(0), -1) << "the cancelled message is not committed";
}

// Regression test for stale outputs: two uploads of one key used to run at
// once, and a slow job for the older one could write after the newer one.
TEST(Worker, NeverRunsTwoMessagesOfTheSameObjectAtOnceButOtherObjectsFlow) {
  const std::vector<std::string> keys = {"raw/a", "raw/b", "raw/a", "raw/c", "raw/a", "raw/d"};
  std::vector<kafka::Message> messages;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    messages.push_back(kafka::Message{kP0, static_cast<std::int64_t>(i), keys[i], "m", -1, {}});
  }
  std::mutex mutex;
  std::map<std::string, int> running_per_key;
  std::vector<std::int64_t> order_of_a;
  int running = 0, peak = 0, peak_per_key = 0;
  std::atomic<int> handled{0};
  ScriptedSource* source_ptr = nullptr;
  Worker worker(WorkerOptions{4, 6, 10ms, 5s}, [&](const kafka::Message& message, std::stop_token) {
    {
      std::lock_guard lock(mutex);
      peak_per_key = std::max(peak_per_key, ++running_per_key[message.key]);
      peak = std::max(peak, ++running);
      if (message.key == "raw/a") order_of_a.push_back(message.offset);
    }
    // The first upload of raw/a is the slow one.
    std::this_thread::sleep_for(message.offset == 0 ? 150ms : 20ms);
    {
      std::lock_guard lock(mutex);
      --running_per_key[message.key];
      --running;
    }
    source_ptr->mark_finished(message);
    ++handled;
    return JobStatus::done;
  });
  ScriptedSource source(worker, messages);
  source_ptr = &source;

  EXPECT_EQ(run_until(worker, source, [&] { return handled == 6; }), 0);
  EXPECT_EQ(peak_per_key, 1) << "two messages of one key ran at once";
  EXPECT_EQ(order_of_a, (std::vector<std::int64_t>{0, 2, 4})) << "one key in offset order";
  EXPECT_GE(peak, 2) << "other keys must not wait behind raw/a";
  EXPECT_EQ(source.stored(0), 6);
  EXPECT_TRUE(source.violations().empty());
}

// Regression test: an exception escaping a job ended the process, and the
// redelivered message then crashed it again.
TEST(Worker, AnExceptionInAJobIsCountedAsInternalAndTheWorkerGoesOn) {
  auto& failed = observe::Metrics::global().objects_failed.with("internal");
  const double before = failed.value();
  std::atomic<int> handled{0};
  ScriptedSource* source_ptr = nullptr;
  Worker worker(WorkerOptions{2, 4, 10ms, 5s}, [&](const kafka::Message& message, std::stop_token) {
    source_ptr->mark_finished(message);
    ++handled;
    if (message.offset == 1) throw std::runtime_error("boom");
    if (message.offset == 2) throw 42;  // not even a std::exception
    return JobStatus::done;
  });
  ScriptedSource source(worker, messages_on(kP0, 4));
  source_ptr = &source;

  EXPECT_EQ(run_until(worker, source, [&] { return handled == 4 && source.stored(0) == 4; }), 0);
  EXPECT_EQ(source.stored(0), 4) << "the failed messages are done; the offset moves on";
  EXPECT_EQ(failed.value() - before, 2);
}

}  // namespace
}  // namespace imgpipe::pipeline
