#include "kafka/consumer.h"

#include <librdkafka/rdkafkacpp.h>
#include <spdlog/spdlog.h>

#include "kafka/rdkafka_config.h"

namespace imgpipe::kafka {
namespace {

std::vector<TopicPartition> to_domain(const std::vector<RdKafka::TopicPartition*>& partitions) {
  std::vector<TopicPartition> out;
  out.reserve(partitions.size());
  for (const auto* partition : partitions) {
    out.push_back(TopicPartition{partition->topic(), partition->partition()});
  }
  return out;
}

Error kafka_error(const std::string& what, RdKafka::ErrorCode code) {
  return make_error(Reason::kafka_error, what + ": " + RdKafka::err2str(code));
}

}  // namespace

class RebalanceBridge final : public RdKafka::RebalanceCb {
 public:
  RebalanceBridge(RebalanceListener& listener, std::atomic<bool>& joined)
      : listener_(listener), joined_(joined) {}

  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override {
    const bool cooperative = consumer->rebalance_protocol() == "COOPERATIVE";
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
      listener_.on_assigned(to_domain(partitions));
      if (cooperative) {
        report("assign", consumer->incremental_assign(partitions));
      } else {
        report("assign", consumer->assign(partitions));
      }
      joined_.store(true);
    } else if (err == RdKafka::ERR__REVOKE_PARTITIONS) {
      const bool lost = consumer->assignment_lost();
      // Lost: the member was thrown out of its group; not ready until it
      // has rejoined and got an assignment again.
      if (lost) joined_.store(false);
      listener_.on_revoked(to_domain(partitions), lost);
      if (cooperative) {
        report("unassign", consumer->incremental_unassign(partitions));
      } else {
        report("unassign", consumer->unassign());
      }
    } else {
      spdlog::error("kafka rebalance error: {}", RdKafka::err2str(err));
      report("unassign", consumer->unassign());
      joined_.store(false);
      listener_.on_revoked(to_domain(partitions), true);
    }
  }

 private:
  // The incremental_* calls return an owned Error*, the eager ones a code.
  static void report(const char* step, RdKafka::Error* error) {
    if (error == nullptr) return;
    std::unique_ptr<RdKafka::Error> owned(error);
    spdlog::error("kafka {} failed: {}", step, owned->str());
  }
  static void report(const char* step, RdKafka::ErrorCode code) {
    if (code != RdKafka::ERR_NO_ERROR)
      spdlog::error("kafka {} failed: {}", step, RdKafka::err2str(code));
  }

  RebalanceListener& listener_;
  std::atomic<bool>& joined_;
};

// librdkafka's statistics as lag reports; log and error events go on to
// the shared log handler.
class StatisticsBridge final : public RdKafka::EventCb {
 public:
  StatisticsBridge(std::string topic, std::function<void(const ConsumerLag&)> on_lag)
      : topic_(std::move(topic)), on_lag_(std::move(on_lag)) {}
  void event_cb(RdKafka::Event& event) override {
    if (event.type() != RdKafka::Event::EVENT_STATS) {
      log_events().event_cb(event);
      return;
    }
    auto lag = lag_from_statistics(event.str(), topic_);
    if (!lag) {
      spdlog::debug("kafka statistics not read: {}", lag.error().message);
      return;
    }
    on_lag_(lag.value());
  }

 private:
  std::string topic_;
  std::function<void(const ConsumerLag&)> on_lag_;
};

struct KafkaConsumer::Impl {
  std::unique_ptr<RebalanceBridge> rebalance;
  std::unique_ptr<StatisticsBridge> statistics;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer;
  bool closed = false;
};

KafkaConsumer::KafkaConsumer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

KafkaConsumer::~KafkaConsumer() {
  if (impl_ && !impl_->closed) (void)close();
}

Result<std::unique_ptr<KafkaConsumer>> KafkaConsumer::create(const ConsumerOptions& options,
                                                             RebalanceListener& listener) {
  std::map<std::string, std::string> properties = options.connection.client_properties();
  properties.insert({
      {"group.id", options.group},
      {"client.id", options.client_id},
      {"enable.auto.offset.store", "false"},
      {"enable.auto.commit", "true"},
      {"auto.commit.interval.ms", "1000"},
      {"auto.offset.reset", "earliest"},
      {"partition.assignment.strategy", "cooperative-sticky"},
      {"session.timeout.ms", std::to_string(options.session_timeout_ms)},
      {"max.poll.interval.ms", std::to_string(options.max_poll_interval_ms)},
      {"enable.partition.eof", "false"},
  });
  if (!options.instance_id.empty()) properties["group.instance.id"] = options.instance_id;
  const bool statistics = options.statistics_interval_ms > 0 && options.on_lag;
  if (statistics) {
    properties["statistics.interval.ms"] = std::to_string(options.statistics_interval_ms);
  }
  for (const auto& [name, value] : options.extra) properties[name] = value;

  auto config = make_config(properties);
  if (!config) return config.error();

  auto impl = std::make_unique<Impl>();
  auto consumer = std::unique_ptr<KafkaConsumer>(new KafkaConsumer(std::move(impl)));
  consumer->impl_->rebalance = std::make_unique<RebalanceBridge>(listener, consumer->joined_);
  std::string error;
  if (config.value()->set("rebalance_cb", consumer->impl_->rebalance.get(), error) !=
      RdKafka::Conf::CONF_OK) {
    return make_error(Reason::invalid_config, "rebalance_cb: " + error);
  }
  if (statistics) {
    consumer->impl_->statistics = std::make_unique<StatisticsBridge>(options.topic, options.on_lag);
    if (config.value()->set("event_cb", consumer->impl_->statistics.get(), error) !=
        RdKafka::Conf::CONF_OK) {
      return make_error(Reason::invalid_config, "event_cb: " + error);
    }
  }
  consumer->impl_->consumer.reset(RdKafka::KafkaConsumer::create(config.value().get(), error));
  if (!consumer->impl_->consumer) {
    return make_error(Reason::invalid_config, "cannot create Kafka consumer: " + error);
  }
  const auto code = consumer->impl_->consumer->subscribe({options.topic});
  if (code != RdKafka::ERR_NO_ERROR) return kafka_error("subscribe to " + options.topic, code);
  return consumer;
}

PollOutcome KafkaConsumer::poll(std::chrono::milliseconds timeout) {
  PollOutcome outcome;
  std::unique_ptr<RdKafka::Message> message(
      impl_->consumer->consume(static_cast<int>(timeout.count())));
  switch (message->err()) {
    case RdKafka::ERR_NO_ERROR: outcome.message = to_message(*message); break;
    case RdKafka::ERR__TIMED_OUT:
    case RdKafka::ERR__PARTITION_EOF: break;
    case RdKafka::ERR__FATAL:
      outcome.error = make_error(Reason::kafka_error, "fatal consumer error: " + message->errstr());
      outcome.fatal = true;
      break;
    default: outcome.error = make_error(Reason::kafka_error, message->errstr()); break;
  }
  return outcome;
}

Status KafkaConsumer::store_offset(const TopicPartition& partition, std::int64_t next_offset) {
  PartitionList list;
  list.items.push_back(
      RdKafka::TopicPartition::create(partition.topic, partition.partition, next_offset));
  const auto code = impl_->consumer->offsets_store(list.items);
  if (code != RdKafka::ERR_NO_ERROR) {
    return kafka_error("store offset " + std::to_string(next_offset) + " of " + partition.topic +
                           "[" + std::to_string(partition.partition) + "]",
                       code);
  }
  return ok_status();
}

Status KafkaConsumer::close() {
  if (impl_->closed) return ok_status();
  impl_->closed = true;
  const auto code = impl_->consumer->close();
  if (code != RdKafka::ERR_NO_ERROR) return kafka_error("close consumer", code);
  return ok_status();
}

namespace {

// Handle::pause() and resume() are virtual: the KafkaConsumer's own run.
using PartitionCall =
    RdKafka::ErrorCode (RdKafka::Handle::*)(std::vector<RdKafka::TopicPartition*>&);

// pause() and resume() alike: the call on librdkafka's list of partitions.
Status on_partitions(RdKafka::Handle& consumer, PartitionCall call, const char* what,
                     const std::vector<TopicPartition>& partitions) {
  if (partitions.empty()) return ok_status();
  PartitionList list;
  for (const auto& partition : partitions) {
    list.items.push_back(RdKafka::TopicPartition::create(partition.topic, partition.partition));
  }
  const auto code = (consumer.*call)(list.items);
  if (code != RdKafka::ERR_NO_ERROR) return kafka_error(what, code);
  return ok_status();
}

}  // namespace

Status KafkaConsumer::pause(const std::vector<TopicPartition>& partitions) {
  return on_partitions(*impl_->consumer, &RdKafka::Handle::pause, "pause partitions", partitions);
}

Status KafkaConsumer::resume(const std::vector<TopicPartition>& partitions) {
  return on_partitions(*impl_->consumer, &RdKafka::Handle::resume, "resume partitions", partitions);
}

}  // namespace imgpipe::kafka
