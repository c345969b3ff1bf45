// How to reach the Kafka cluster: bootstrap servers plus the librdkafka
// properties for TLS and SASL (security.protocol, sasl.mechanisms,
// sasl.username, sasl.password, ssl.ca.location). Shared by the consumer,
// the producer and topic administration so they all connect alike.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "common/result.h"

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

// Why this process's Kafka clients last failed to connect, as librdkafka
// reported it: tls_failed (handshake, untrusted or expired certificate),
// authentication_failed (SASL credentials refused) or unavailable (broker
// down, unreachable); a refused certificate says why ("certificate has
// expired"). A tls_failed or authentication_failed is logged as an error with
// its reason when first seen, and at most once a minute while it lasts.
// nullopt while no client has failed to connect.
// Thread-safety: any thread (librdkafka's threads record, /readyz reads).
std::optional<Error> last_connection_problem();

// The Reason of a librdkafka error code (RdKafka::ErrorCode as int) when it is
// about reaching the brokers; nullopt for any other error.
std::optional<Reason> connection_problem_reason(int librdkafka_error);

// Records a connection failure, as librdkafka's error events do (exposed so
// that a test can feed one in).
void record_connection_problem(Reason reason, const std::string& message);

// librdkafka before 2.6.1 sends a SCRAM client-final message with the client
// nonce twice; Kafka 4.0 and newer brokers reject it as invalid credentials
// (librdkafka PR 4895). `version` as RdKafka::version() gives it (0xMMmmrrxx).
bool scram_fails_on_kafka4(int version);
// The same for the librdkafka this process runs with.
bool scram_fails_on_kafka4();

// The librdkafka this process runs with, e.g. "2.0.2".
std::string library_version();

}  // namespace imgpipe::kafka
