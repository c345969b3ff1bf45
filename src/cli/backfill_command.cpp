// `imgpipe backfill` and `imgpipe reconcile` (see backfill.h).
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "backfill/checkpoint.h"
#include "backfill/enqueue.h"
#include "cli/backfill.h"
#include "cli/signals.h"
#include "cli/time_text.h"
#include "cli/wiring.h"
#include "common/sleep.h"
#include "image/runtime.h"
#include "observe/http_server.h"
#include "observe/log.h"
#include "observe/metrics.h"
#include "pipeline/store_health.h"

namespace imgpipe::cli {
namespace {

using Clock = std::chrono::steady_clock;
using backfill::ObjectClass;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Everything a scan needs besides its options, built from the configuration.
struct Wiring {
  pipeline::Config config;
  s3::Client store;
  backfill::ListingOf<s3::Client> lister{store};
  std::unique_ptr<kafka::Producer> producer;
  std::unique_ptr<backfill::Enqueuer> enqueuer;
  std::unique_ptr<backfill::RateLimited> limited;
  // --direct only:
  std::unique_ptr<image::Runtime> vips;
  std::unique_ptr<s3::Client> probe_store;
  std::unique_ptr<pipeline::ProbedStoreHealth> health;
  pipeline::RealSleeper sleeper;
  backfill::FailureLog failures;
  std::unique_ptr<pipeline::Job> job;

  explicit Wiring(pipeline::Config loaded) : config(std::move(loaded)), store(s3_options(config)) {}

  backfill::Enqueuer& sink() { return limited ? *limited : *enqueuer; }
};

// Nothing is enqueued in a dry run; this says so if it ever were.
class RefuseEnqueue final : public backfill::Enqueuer {
 public:
  Status enqueue(const std::string&, const s3::ListEntry&, ObjectClass, std::stop_token) override {
    return make_error(Reason::internal, "a dry run enqueues nothing");
  }
};

Status connect_enqueuer(Wiring& wiring, bool dry_run, bool direct, double rate) {
  if (dry_run) {
    wiring.enqueuer = std::make_unique<RefuseEnqueue>();
    return ok_status();
  }
  if (direct) {
    wiring.vips = std::make_unique<image::Runtime>("imgpipe");
    wiring.probe_store = std::make_unique<s3::Client>(s3_options(wiring.config));
    wiring.health = std::make_unique<pipeline::ProbedStoreHealth>(
        *wiring.probe_store, wiring.config.effective_rules().front().match.bucket);
    wiring.health->refresh();
    wiring.health->start_probing(std::chrono::seconds(1));
    wiring.job = std::make_unique<pipeline::Job>(
        wiring.config,
        pipeline::JobDeps{wiring.store, wiring.sleeper, wiring.failures, *wiring.health});
    wiring.enqueuer = std::make_unique<backfill::DirectEnqueuer>(
        [job = wiring.job.get()](const kafka::Message& message, std::stop_token stop) {
          return job->handle(message, stop);
        });
  } else {
    auto producer = kafka::Producer::create(kafka_connection(wiring.config));
    if (!producer) return producer.error();
    wiring.producer = std::move(producer).value();
    wiring.enqueuer =
        std::make_unique<backfill::KafkaEnqueuer>(*wiring.producer, wiring.config.kafka.topic);
  }
  if (rate > 0) wiring.limited = std::make_unique<backfill::RateLimited>(*wiring.enqueuer, rate);
  return ok_status();
}

std::uint64_t to_do(const backfill::Counts& counts) {
  std::uint64_t sum = 0;
  for (const auto object_class : backfill::all_classes()) {
    if (backfill::needs_work(object_class)) sum += counts.of(object_class);
  }
  return sum;
}

// Prints progress until stopped: a rewritten line on a terminal, else one
// JSON line every `interval`.
class ProgressReporter {
 public:
  ProgressReporter(const backfill::Scan& scan, std::uint64_t total, double interval_s)
      : scan_(scan), total_(total), start_(Clock::now()), terminal_(isatty(STDERR_FILENO) != 0) {
    const auto interval = std::chrono::milliseconds(
        terminal_ ? 500 : static_cast<std::int64_t>(std::max(interval_s, 0.1) * 1000));
    thread_ = std::jthread([this, interval](std::stop_token stop) {
      while (sleep_for(interval, stop)) print();
    });
  }
  ~ProgressReporter() {
    thread_ = {};  // stops and joins
    if (!terminal_) return;
    print();  // the final state, even when it took less than one interval
    std::cerr << '\n';
  }
  ProgressReporter(const ProgressReporter&) = delete;
  ProgressReporter& operator=(const ProgressReporter&) = delete;

 private:
  void print() const {
    const auto counts = scan_.progress();
    const double seconds = seconds_since(start_);
    if (terminal_) {
      std::cerr << '\r' << progress_line(counts, total_, seconds) << "\x1b[K" << std::flush;
    } else {
      std::cerr
          << nlohmann::ordered_json{{"progress", progress_json(counts, total_, seconds)}}.dump()
          << '\n';
    }
  }

  const backfill::Scan& scan_;
  std::uint64_t total_;
  Clock::time_point start_;
  bool terminal_;
  std::jthread thread_;
};

nlohmann::ordered_json samples_json(const backfill::ScanResult& result) {
  nlohmann::ordered_json samples = nlohmann::ordered_json::object();
  for (const auto& [object_class, keys] : result.samples) {
    if (object_class != ObjectClass::up_to_date) samples[backfill::class_name(object_class)] = keys;
  }
  return samples;
}

nlohmann::ordered_json failures_json(const backfill::FailureLog& log) {
  nlohmann::ordered_json failures = nlohmann::ordered_json::array();
  for (const auto& failure : log.failures()) {
    failures.push_back(
        {{"key", failure.key}, {"reason", failure.reason}, {"message", failure.message}});
  }
  return failures;
}

backfill::ScanOptions scan_options(const pipeline::Config& config, const BackfillOptions& options,
                                   std::int64_t since_ms) {
  backfill::ScanOptions scan;
  scan.rules = config.effective_rules();
  scan.bucket = options.bucket;
  scan.prefix = options.prefix;
  scan.since_ms = since_ms;
  scan.changed = options.changed;
  scan.force = options.force;
  scan.dry_run = options.dry_run;
  scan.page_size = options.page_size;
  scan.concurrency = options.direct ? config.effective_workers() : options.concurrency;
  return scan;
}

int exit_code_of(const Error& error) {
  return error.reason == Reason::invalid_config ? 2 : 1;
}

}  // namespace

nlohmann::ordered_json progress_json(const backfill::Counts& counts, std::uint64_t total,
                                     double seconds) {
  nlohmann::ordered_json json = {
      {"listed", counts.listed}, {"total", total}, {"matched", counts.matched}};
  for (const auto object_class : backfill::all_classes()) {
    json[backfill::class_name(object_class)] = counts.of(object_class);
  }
  json["enqueued"] = counts.enqueued;
  const double rate = seconds > 0 ? static_cast<double>(counts.listed) / seconds : 0;
  json["listed_per_s"] = std::round(rate * 10) / 10;
  json["eta_s"] = rate > 0 && total >= counts.listed
                      ? std::round(static_cast<double>(total - counts.listed) / rate)
                      : 0.0;
  json["seconds"] = std::round(seconds * 10) / 10;
  return json;
}

std::string progress_line(const backfill::Counts& counts, std::uint64_t total, double seconds) {
  const auto json = progress_json(counts, total, seconds);
  std::ostringstream line;
  line << "listed " << counts.listed;
  if (total > 0) line << "/" << total;
  line << "  matched " << counts.matched << "  up to date " << counts.of(ObjectClass::up_to_date)
       << "  missing " << counts.of(ObjectClass::missing) << "  stale "
       << counts.of(ObjectClass::stale) << "  outdated " << counts.of(ObjectClass::outdated);
  if (counts.of(ObjectClass::forced) > 0) line << "  forced " << counts.of(ObjectClass::forced);
  line << "  enqueued " << counts.enqueued << "  " << json["listed_per_s"].get<double>() << "/s";
  if (total > 0) line << "  ETA " << json["eta_s"].get<double>() << " s";
  return line.str();
}

std::string summary_table(const backfill::ScanResult& result, std::uint64_t total, double seconds,
                          bool dry_run) {
  const auto& counts = result.counts;
  std::ostringstream out;
  out << (dry_run ? "backfill (dry run): " : "backfill: ")
      << (result.complete ? "complete" : "stopped before the end") << " in " << std::fixed
      << std::setprecision(1) << seconds << " s\n";
  const auto row = [&](const std::string& name, std::uint64_t value, const std::string& note) {
    out << "  " << std::left << std::setw(14) << name << std::right << std::setw(10) << value
        << (note.empty() ? "" : "  " + note) << '\n';
  };
  row("listed", counts.listed, total > 0 ? "of " + std::to_string(total) : "");
  row("matched", counts.matched, "taken by a rule");
  for (const auto object_class : backfill::all_classes()) {
    const auto found = result.samples.find(object_class);
    std::string note;
    if (object_class != ObjectClass::up_to_date && found != result.samples.end()) {
      for (std::size_t i = 0; i < found->second.size() && i < 3; ++i) {
        note += (i == 0 ? "e.g. " : ", ") + found->second[i];
      }
    }
    row(backfill::class_name(object_class), counts.of(object_class), note);
  }
  row(dry_run ? "would enqueue" : "enqueued", dry_run ? to_do(counts) : counts.enqueued, "");
  out << "  requests      " << counts.list_requests << " LIST, " << counts.head_requests
      << " HEAD (no GET)\n";
  return out.str();
}

int run_backfill(const CommonOptions& common, const BackfillOptions& options) {
  SignalWatcher signals;
  auto config = load_or_report(common);
  if (!config) return 2;
  observe::init_logging(observe::parse_log_level(config->log_level).value_or(spdlog::level::info));
  std::int64_t since_ms = -1;
  if (!options.since.empty()) {
    auto since = parse_since(options.since, std::chrono::system_clock::now());
    if (!since) {
      std::cerr << "imgpipe backfill: " << since.error().message << '\n';
      return 2;
    }
    since_ms = since.value();
  }
  if (options.changed && options.force) {
    std::cerr << "imgpipe backfill: --force already redoes everything; --changed adds nothing\n";
  }
  const auto scan_settings = scan_options(*config, options, since_ms);
  auto sources = backfill::scan_sources(scan_settings);
  if (!sources) {
    std::cerr << "imgpipe backfill: " << sources.error().message << '\n';
    return 2;
  }

  Wiring wiring(std::move(config).value());
  if (auto connected = connect_enqueuer(wiring, options.dry_run, options.direct, options.rate);
      !connected) {
    std::cerr << "imgpipe backfill: " << connected.error().message << '\n';
    return 1;
  }
  const std::string fingerprint =
      backfill::scan_fingerprint(scan_settings, wiring.config.s3.endpoint);
  backfill::CheckpointFile checkpoint(
      options.checkpoint.empty()
          ? backfill::default_state_dir() / ("backfill-" + fingerprint + ".json")
          : std::filesystem::path(options.checkpoint),
      fingerprint);
  std::optional<backfill::Checkpoint> resume;
  if (!options.dry_run) {
    if (options.restart) (void)checkpoint.remove();
    auto loaded = checkpoint.load();
    if (!loaded) {
      std::cerr << "imgpipe backfill: " << loaded.error().message << '\n';
      return 2;
    }
    resume = std::move(loaded).value();
    if (resume) {
      std::cerr << "imgpipe backfill: resuming from " << checkpoint.path().string() << " ("
                << resume->counts.listed << " objects listed before)\n";
    }
  }

  std::stop_source stop;
  signals.start([&stop](int) { stop.request_stop(); });
  const auto start = Clock::now();
  std::uint64_t count_requests = 0;
  // Only for the progress estimate: a failure here shows up in the scan.
  const auto counted = backfill::count_listed(wiring.lister, *sources, scan_settings.page_size,
                                              count_requests, stop.get_token());
  const std::uint64_t total = counted ? counted.value() : 0;
  backfill::Scan scan(scan_settings, backfill::ScanDeps{wiring.lister, wiring.store, wiring.sink(),
                                                        options.dry_run ? nullptr : &checkpoint});
  Result<backfill::ScanResult> result = make_error(Reason::internal, "not run");
  {
    ProgressReporter progress(scan, total, options.progress_seconds);
    result = scan.run(resume, stop.get_token());
  }
  const double seconds = seconds_since(start);
  if (!result) {
    std::cerr << "imgpipe backfill: " << result.error().message << "; run the same command again "
              << "to resume from " << checkpoint.path().string() << '\n';
    return exit_code_of(result.error());
  }
  result->counts.list_requests += count_requests;
  if (result->complete && !options.dry_run) (void)checkpoint.remove();
  const auto failures = failures_json(wiring.failures);
  if (options.json) {
    nlohmann::ordered_json summary = {{"complete", result->complete},
                                      {"dry_run", options.dry_run},
                                      {"direct", options.direct},
                                      {"seconds", std::round(seconds * 100) / 100},
                                      {"total", total}};
    summary.update(progress_json(result->counts, total, seconds));
    summary.erase("eta_s");
    summary["to_do"] = to_do(result->counts);
    summary["list_requests"] = result->counts.list_requests;
    summary["head_requests"] = result->counts.head_requests;
    summary["samples"] = samples_json(*result);
    summary["failures"] = failures;
    summary["checkpoint"] = checkpoint.path().string();
    std::cout << summary.dump() << '\n';
  } else {
    std::cout << summary_table(*result, total, seconds, options.dry_run);
    for (const auto& failure : failures) {
      std::cout << "  failed      " << failure["key"].get<std::string>() << ": "
                << failure["reason"].get<std::string>() << " ("
                << failure["message"].get<std::string>() << ")\n";
    }
  }
  if (!result->complete) {
    std::cerr << "imgpipe backfill: stopped; run the same command again to resume from "
              << checkpoint.path().string() << '\n';
    return 1;
  }
  return failures.empty() ? 0 : 1;
}

int run_reconcile(const CommonOptions& common, const ReconcileOptions& options) {
  SignalWatcher signals;
  auto config = load_or_report(common);
  if (!config) return 2;
  observe::init_logging(observe::parse_log_level(config->log_level).value_or(spdlog::level::info));
  const auto every = parse_age_ms(options.every);
  if (!every || *every <= 0) {
    std::cerr << "imgpipe reconcile: --every: expected an age like 90s, 30m, 1h, 1d; got '"
              << options.every << "'\n";
    return 2;
  }
  BackfillOptions as_backfill;
  as_backfill.changed = options.changed;
  as_backfill.page_size = options.page_size;
  as_backfill.concurrency = options.concurrency;
  const auto scan_settings = scan_options(*config, as_backfill, -1);
  if (auto sources = backfill::scan_sources(scan_settings); !sources) {
    std::cerr << "imgpipe reconcile: " << sources.error().message << '\n';
    return 2;
  }
  Wiring wiring(std::move(config).value());
  if (auto connected = connect_enqueuer(wiring, false, false, options.rate); !connected) {
    std::cerr << "imgpipe reconcile: " << connected.error().message << '\n';
    return 1;
  }
  std::unique_ptr<observe::StatusServer> server;
  if (!options.once) {
    publish_build_info();
    auto started = observe::StatusServer::start(
        options.http_listen.empty() ? wiring.config.http_listen : options.http_listen, [] {
          return observe::Readiness{true, ""};
        });
    if (!started) {
      std::cerr << "imgpipe reconcile: " << started.error().message << '\n';
      return 2;
    }
    server = std::move(started).value();
  }
  std::stop_source stop;
  signals.start([&stop](int) { stop.request_stop(); });
  auto& metrics = observe::Metrics::global();
  int status = 0;
  do {
    const auto start = Clock::now();
    backfill::Scan scan(scan_settings,
                        backfill::ScanDeps{wiring.lister, wiring.store, wiring.sink(), nullptr});
    auto result = scan.run(std::nullopt, stop.get_token());
    const double seconds = seconds_since(start);
    metrics.reconcile_last_duration.unlabelled().set(seconds);
    metrics.reconcile_last_run.unlabelled().set(
        static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count()));
    if (!result || !result->complete) {
      metrics.reconcile_runs.with("failed").increment();
      observe::log_fields(
          spdlog::level::warn, "reconciliation failed",
          {{"error", result ? "stopped" : result.error().message}, {"seconds", seconds}});
      status = 1;
    } else {
      const auto& counts = result->counts;
      metrics.reconcile_runs.with("complete").increment();
      metrics.reconcile_checked.unlabelled().increment(static_cast<double>(counts.matched));
      metrics.reconcile_enqueued.unlabelled().increment(static_cast<double>(counts.enqueued));
      for (const auto object_class : backfill::all_classes()) {
        metrics.reconcile_found.with(backfill::class_name(object_class))
            .increment(static_cast<double>(counts.of(object_class)));
      }
      auto fields = progress_json(counts, 0, seconds);
      fields.erase("eta_s");
      fields.erase("total");
      observe::log_fields(spdlog::level::info, "reconciled", fields);
      status = 0;
    }
  } while (!options.once && sleep_for(std::chrono::milliseconds(*every), stop.get_token()));
  // SIGTERM ends the service: not a failure.
  return stop.stop_requested() && !options.once ? 0 : status;
}

}  // namespace imgpipe::cli
