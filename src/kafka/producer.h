// A small synchronous Kafka producer: produce() returns once the broker has
// acknowledged the message (acks=all, idempotent), the timeout passed or
// `stop` was requested. Used for the dead-letter topic, `imgpipe dlq replay`
// and by tests that feed the event topic.
//
// Thread-safety: produce() may be called from several threads.
#pragma once

#include <chrono>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>

#include "common/result.h"
#include "kafka/connection.h"
#include "kafka/consumer.h"

namespace imgpipe::kafka {

class Producer {
 public:
  static Result<std::unique_ptr<Producer>> create(const Connection& connection);
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // Success: the broker stored the message. Failure: kafka_error or timeout
  // (the message may still be stored later: callers that retry must accept
  // a duplicate), cancelled when `stop` was requested while waiting.
  Status produce(const std::string& topic, std::string_view key, std::string_view value,
                 const Headers& headers = {},
                 std::chrono::milliseconds timeout = std::chrono::seconds(10),
                 std::stop_token stop = {});

 private:
  struct Impl;
  explicit Producer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace imgpipe::kafka
