#include "kafka/producer.h"

#include <librdkafka/rdkafkacpp.h>

#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "kafka/rdkafka_config.h"

namespace imgpipe::kafka {
namespace {

// What the delivery report of one message says. Shared by produce() and the
// report callback, so that produce() may stop waiting (timeout, stop) and
// return while librdkafka still holds the message.
struct Delivery {
  std::mutex mutex;
  std::condition_variable_any reported;
  std::optional<RdKafka::ErrorCode> code;
};

// Each produce() passes a heap-allocated shared_ptr<Delivery> as the message
// opaque; the delivery report, which librdkafka calls exactly once per
// accepted message, fills it in and frees the pointer.
class DeliveryReports final : public RdKafka::DeliveryReportCb {
 public:
  void dr_cb(RdKafka::Message& message) override {
    std::unique_ptr<std::shared_ptr<Delivery>> delivery(
        static_cast<std::shared_ptr<Delivery>*>(message.msg_opaque()));
    if (!delivery) return;
    {
      std::lock_guard lock((*delivery)->mutex);
      (*delivery)->code = message.err();
    }
    (*delivery)->reported.notify_all();
  }
};

// Headers in librdkafka's form; produce() takes ownership on success only.
std::unique_ptr<RdKafka::Headers> rdkafka_headers(const Headers& headers) {
  std::unique_ptr<RdKafka::Headers> out(RdKafka::Headers::create());
  for (const auto& [name, value] : headers) out->add(name, value.data(), value.size());
  return out;
}

constexpr std::int32_t kMaxPartitions = 10000;

}  // namespace

struct Producer::Impl {
  DeliveryReports reports;
  std::unique_ptr<RdKafka::Producer> producer;
  std::jthread poller;  // serves delivery reports
};

Producer::Producer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Producer::~Producer() {
  if (!impl_ || !impl_->producer) return;
  impl_->poller.request_stop();
  impl_->poller = {};  // joins
  impl_->producer->flush(5000);
}

Result<std::unique_ptr<Producer>> Producer::create(const Connection& connection) {
  auto properties = connection.client_properties();
  properties["enable.idempotence"] = "true";
  properties["acks"] = "all";
  properties["client.id"] = "imgpipe-producer";
  // librdkafka keeps retrying a message for this long; produce() reports a
  // timeout earlier if asked to, and the report arrives later.
  if (properties.count("message.timeout.ms") == 0) properties["message.timeout.ms"] = "30000";
  auto config = make_config(properties);
  if (!config) return config.error();
  auto impl = std::make_unique<Impl>();
  std::string error;
  if (config.value()->set("dr_cb", &impl->reports, error) != RdKafka::Conf::CONF_OK) {
    return make_error(Reason::invalid_config, "dr_cb: " + error);
  }
  impl->producer.reset(RdKafka::Producer::create(config.value().get(), error));
  if (!impl->producer)
    return make_error(Reason::invalid_config, "cannot create producer: " + error);
  impl->poller = std::jthread([producer = impl->producer.get()](std::stop_token stop) {
    while (!stop.stop_requested()) producer->poll(100);
  });
  return std::unique_ptr<Producer>(new Producer(std::move(impl)));
}

Status Producer::produce(const std::string& topic, std::string_view key, std::string_view value,
                         const Headers& headers, std::chrono::milliseconds timeout,
                         std::stop_token stop) {
  auto delivery = std::make_shared<Delivery>();
  auto opaque = std::make_unique<std::shared_ptr<Delivery>>(delivery);
  auto record_headers = rdkafka_headers(headers);
  // RK_MSG_COPY: librdkafka keeps its own copy, so the views may die after this call.
  const auto code =
      impl_->producer->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                               const_cast<char*>(value.data()), value.size(), key.data(),
                               key.size(), 0, record_headers.get(), opaque.get());
  if (code != RdKafka::ERR_NO_ERROR) {
    return make_error(Reason::kafka_error, "produce to " + topic + ": " + RdKafka::err2str(code));
  }
  // Accepted: librdkafka owns the headers, the report owns the opaque.
  record_headers.release();  // NOLINT(bugprone-unused-return-value)
  opaque.release();          // NOLINT(bugprone-unused-return-value)

  std::unique_lock lock(delivery->mutex);
  const bool reported =
      delivery->reported.wait_for(lock, stop, timeout, [&] { return delivery->code.has_value(); });
  if (!reported) {
    if (stop.stop_requested()) {
      return make_error(Reason::cancelled, "produce to " + topic + " abandoned at shutdown");
    }
    return make_error(Reason::timeout, "produce to " + topic + " timed out");
  }
  if (*delivery->code != RdKafka::ERR_NO_ERROR) {
    return make_error(Reason::kafka_error,
                      "deliver to " + topic + ": " + RdKafka::err2str(*delivery->code));
  }
  return ok_status();
}

Result<std::vector<PartitionWatermarks>> Producer::watermarks(
    const std::string& topic, std::chrono::milliseconds timeout) const {
  using std::chrono::steady_clock;
  const auto deadline = steady_clock::now() + timeout;
  std::vector<PartitionWatermarks> partitions;
  // kafka.partitions allows at most 10000; the bound only guards the loop.
  for (std::int32_t partition = 0; partition <= kMaxPartitions; ++partition) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady_clock::now());
    if (left.count() <= 0) {
      return make_error(Reason::timeout, "watermarks of " + topic + ": no answer in time");
    }
    PartitionWatermarks marks{partition, 0, 0};
    const auto code = impl_->producer->query_watermark_offsets(
        topic, partition, &marks.low, &marks.high, static_cast<int>(left.count()));
    if (code == RdKafka::ERR_NO_ERROR) {
      partitions.push_back(marks);
      continue;
    }
    // librdkafka answers __UNKNOWN_PARTITION past the last partition, and
    // for every partition of a topic it does not know.
    const bool unknown =
        code == RdKafka::ERR__UNKNOWN_PARTITION || code == RdKafka::ERR_UNKNOWN_TOPIC_OR_PART;
    if (unknown && partition > 0) return partitions;
    if (unknown) return make_error(Reason::object_missing, "topic " + topic + " does not exist");
    return make_error(code == RdKafka::ERR__TIMED_OUT ? Reason::timeout : Reason::kafka_error,
                      "watermarks of " + topic + " partition " + std::to_string(partition) + ": " +
                          RdKafka::err2str(code));
  }
  return partitions;
}

}  // namespace imgpipe::kafka
