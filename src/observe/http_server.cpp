#include "observe/http_server.h"

#include <httplib.h>

#include <thread>

#include "observe/metrics.h"

namespace imgpipe::observe {

struct StatusServer::Impl {
  httplib::Server server;
  std::thread thread;
  int port = 0;
};

StatusServer::StatusServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

StatusServer::~StatusServer() {
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

int StatusServer::port() const {
  return impl_->port;
}

Result<std::unique_ptr<StatusServer>> StatusServer::start(const std::string& listen,
                                                          std::function<Readiness()> readiness) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) {
    return make_error(Reason::invalid_config,
                      "http listen address must be host:port, got " + listen);
  }
  const std::string host = listen.substr(0, colon);
  int port = 0;
  try {
    port = std::stoi(listen.substr(colon + 1));
  } catch (const std::exception&) {
    return make_error(Reason::invalid_config, "http listen port is not a number: " + listen);
  }

  auto impl = std::make_unique<Impl>();
  impl->server.Get("/healthz", [](const httplib::Request&, httplib::Response& response) {
    response.set_content("ok\n", "text/plain");
  });
  impl->server.Get("/readyz", [readiness](const httplib::Request&, httplib::Response& response) {
    const Readiness state = readiness();
    response.status = state.ready ? 200 : 503;
    response.set_content((state.ready ? "ready" : "not ready") +
                             (state.detail.empty() ? std::string() : ": " + state.detail) + "\n",
                         "text/plain");
  });
  impl->server.Get("/metrics", [readiness](const httplib::Request&, httplib::Response& response) {
    Metrics::global().ready.unlabelled().set(readiness().ready ? 1 : 0);
    response.set_content(Metrics::global().render(), "text/plain; version=0.0.4");
  });

  impl->port = port == 0 ? impl->server.bind_to_any_port(host) : port;
  if (port != 0 && !impl->server.bind_to_port(host, port)) {
    return make_error(Reason::unavailable, "cannot listen on " + listen);
  }
  if (impl->port < 0) return make_error(Reason::unavailable, "cannot listen on " + listen);
  impl->thread = std::thread([server = &impl->server] { server->listen_after_bind(); });
  return std::unique_ptr<StatusServer>(new StatusServer(std::move(impl)));
}

}  // namespace imgpipe::observe
