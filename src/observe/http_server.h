// The worker's HTTP port: /healthz (the process serves requests), /readyz
// (the worker can do its job: joined the Kafka group and reached S3) and
// /metrics (Prometheus text format, with imgpipe_ready: what /readyz would
// answer at that moment).
//
// Thread-safety: the server answers on its own thread; the readiness
// callback is called from that thread and must be thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/result.h"

namespace imgpipe::observe {

struct Readiness {
  bool ready = false;
  std::string detail;  // shown in the /readyz body, e.g. "kafka: not joined"
};

class StatusServer {
 public:
  // listen: "host:port"; port 0 picks a free port (see port()).
  static Result<std::unique_ptr<StatusServer>> start(const std::string& listen,
                                                     std::function<Readiness()> readiness);
  ~StatusServer();
  StatusServer(const StatusServer&) = delete;
  StatusServer& operator=(const StatusServer&) = delete;

  int port() const;

 private:
  struct Impl;
  explicit StatusServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace imgpipe::observe
