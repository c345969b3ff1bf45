#include "kafka/producer.h"

#include <librdkafka/rdkafkacpp.h>

#include <future>

#include "kafka/rdkafka_config.h"

namespace imgpipe::kafka {
namespace {

// Each produce() passes a promise as the message opaque; the delivery report
// fulfils it.
class DeliveryReports final : public RdKafka::DeliveryReportCb {
 public:
  void dr_cb(RdKafka::Message& message) override {
    auto* promise = static_cast<std::promise<RdKafka::ErrorCode>*>(message.msg_opaque());
    if (promise != nullptr) promise->set_value(message.err());
  }
};

}  // namespace

struct Producer::Impl {
  DeliveryReports reports;
  std::unique_ptr<RdKafka::Producer> producer;
};

Producer::Producer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Producer::~Producer() {
  if (impl_ && impl_->producer) impl_->producer->flush(5000);
}

Result<std::unique_ptr<Producer>> Producer::create(const Connection& connection) {
  auto properties = connection.client_properties();
  properties["enable.idempotence"] = "true";
  properties["acks"] = "all";
  properties["client.id"] = "imgpipe-producer";
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
  return std::unique_ptr<Producer>(new Producer(std::move(impl)));
}

Status Producer::produce(const std::string& topic, std::string_view key, std::string_view value,
                         std::chrono::milliseconds timeout) {
  std::promise<RdKafka::ErrorCode> delivered;
  auto result = delivered.get_future();
  // RK_MSG_COPY: librdkafka keeps its own copy, so the views may die after this call.
  const auto code = impl_->producer->produce(
      topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
      const_cast<char*>(value.data()), value.size(), key.data(), key.size(), 0, &delivered);
  if (code != RdKafka::ERR_NO_ERROR) {
    return make_error(Reason::kafka_error, "produce to " + topic + ": " + RdKafka::err2str(code));
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (result.wait_for(std::chrono::milliseconds(0)) != std::future_status::ready) {
    if (std::chrono::steady_clock::now() > deadline) {
      // The promise lives on this stack frame: wait for the report before
      // returning so the callback never touches a dead object.
      impl_->producer->flush(-1);
      return make_error(Reason::timeout, "produce to " + topic + " timed out");
    }
    impl_->producer->poll(50);
  }
  const auto delivery = result.get();
  if (delivery != RdKafka::ERR_NO_ERROR) {
    return make_error(Reason::kafka_error,
                      "deliver to " + topic + ": " + RdKafka::err2str(delivery));
  }
  return ok_status();
}

}  // namespace imgpipe::kafka
