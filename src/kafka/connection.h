// How to reach the Kafka cluster: bootstrap servers plus the librdkafka
// properties for TLS and SASL (security.protocol, sasl.mechanisms,
// sasl.username, sasl.password, ssl.ca.location). Shared by the consumer,
// the producer and topic administration so they all connect alike.
#pragma once

#include <map>
#include <string>

namespace imgpipe::kafka {

struct Connection {
  std::string brokers;
  std::map<std::string, std::string> properties;

  // The properties with bootstrap.servers added.
  std::map<std::string, std::string> client_properties() const {
    auto all = properties;
    all["bootstrap.servers"] = brokers;
    return all;
  }
};

// The librdkafka this process runs with, e.g. "2.0.2".
std::string library_version();

}  // namespace imgpipe::kafka
