#include "observe/metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/result.h"

namespace imgpipe::observe {
namespace {

void atomic_add(std::atomic<double>& target, double amount) {
  double current = target.load();
  while (!target.compare_exchange_weak(current, current + amount)) {
  }
}

std::string format_number(double value) {
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // Shortest text that reads back as the same double: 0.025, not 0.025000000000000001.
  std::array<char, 32> text{};
  const auto end = std::to_chars(text.data(), text.data() + text.size(), value).ptr;
  return std::string(text.data(), end);
}

std::string label_set(const std::string& name, const std::string& value,
                      const std::string& extra = "") {
  std::string labels;
  if (!name.empty()) labels = name + "=\"" + value + "\"";
  if (!extra.empty()) labels += (labels.empty() ? "" : ",") + extra;
  return labels.empty() ? "" : "{" + labels + "}";
}

void render_header(std::ostringstream& out, const std::string& name, const std::string& help,
                   const char* type) {
  out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
}

template <class Metric>
void render_simple(std::ostringstream& out, const Family<Metric>& family, const char* type) {
  render_header(out, family.name(), family.help(), type);
  for (const auto& [label, metric] : family.children()) {
    out << family.name() << label_set(family.label_name(), label) << ' '
        << format_number(metric->value()) << '\n';
  }
}

void render_histogram(std::ostringstream& out, const Family<Histogram>& family) {
  render_header(out, family.name(), family.help(), "histogram");
  for (const auto& [label, metric] : family.children()) {
    const auto snapshot = metric->snapshot();
    for (std::size_t i = 0; i <= snapshot.upper_bounds.size(); ++i) {
      const double bound = i < snapshot.upper_bounds.size() ? snapshot.upper_bounds[i] : INFINITY;
      out << family.name() << "_bucket"
          << label_set(family.label_name(), label, "le=\"" + format_number(bound) + "\"") << ' '
          << snapshot.cumulative_counts[i] << '\n';
    }
    out << family.name() << "_sum" << label_set(family.label_name(), label) << ' '
        << format_number(snapshot.sum) << '\n';
    out << family.name() << "_count" << label_set(family.label_name(), label) << ' '
        << snapshot.count << '\n';
  }
}

// Prometheus label values: backslash, double quote and newline escaped.
std::string escape_label_value(const std::string& value) {
  std::string escaped;
  for (const char c : value) {
    if (c == '\\' || c == '"') escaped += '\\';
    escaped += c == '\n' ? std::string("\\n") : std::string(1, c);
  }
  return escaped;
}

double cpu_seconds() {
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// /proc/self/statm: size, resident, ... in pages.
double resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  double size = 0, resident = 0;
  if (!(statm >> size >> resident)) return 0;
  return resident * static_cast<double>(sysconf(_SC_PAGESIZE));
}

// Field 22 of /proc/self/stat (after the parenthesised command name, which
// may hold spaces): start time in clock ticks since boot.
double start_time_seconds() {
  std::ifstream stat_file("/proc/self/stat");
  std::ifstream uptime_file("/proc/uptime");
  std::string stat((std::istreambuf_iterator<char>(stat_file)), {});
  double uptime = 0;
  const auto close = stat.rfind(')');
  if (close == std::string::npos || !(uptime_file >> uptime)) return 0;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
    if (i < 22) continue;
    const double ticks =
        std::strtod(field.c_str(), nullptr) / static_cast<double>(sysconf(_SC_CLK_TCK));
    const double boot = static_cast<double>(std::time(nullptr)) - uptime;
    return boot + ticks;
  }
  return 0;
}

double open_fds() {
  std::error_code error;
  double count = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", error), end; !error && it != end;
       it.increment(error)) {
    ++count;
  }
  return count;
}

void render_process(std::ostringstream& out) {
  const auto one = [&](const char* name, const char* help, const char* type, double value) {
    render_header(out, name, help, type);
    out << name << ' ' << format_number(value) << '\n';
  };
  one("process_cpu_seconds_total", "User and system CPU time of this process", "counter",
      cpu_seconds());
  one("process_resident_memory_bytes", "Resident memory of this process", "gauge",
      resident_bytes());
  one("process_start_time_seconds", "When this process started (Unix time)", "gauge",
      start_time_seconds());
  one("process_open_fds", "Open file descriptors of this process", "gauge", open_fds());
}

}  // namespace

void Counter::increment(double amount) {
  atomic_add(value_, amount);
}

void Gauge::add(double amount) {
  atomic_add(value_, amount);
}

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)), counts_(upper_bounds_.size() + 1, 0) {
  std::sort(upper_bounds_.begin(), upper_bounds_.end());
}

void Histogram::observe(double value) {
  const auto bucket = static_cast<std::size_t>(
      std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value) - upper_bounds_.begin());
  std::lock_guard lock(mutex_);
  ++counts_[bucket];
  sum_ += value;
  ++count_;
}

Histogram::Snapshot Histogram::snapshot() const {
  std::lock_guard lock(mutex_);
  Snapshot snapshot{upper_bounds_, {}, sum_, count_};
  std::uint64_t running = 0;
  for (auto count : counts_) {
    running += count;
    snapshot.cumulative_counts.push_back(running);
  }
  return snapshot;
}

template <class Metric>
Metric& Family<Metric>::with(const std::string& label_value) {
  std::lock_guard lock(mutex_);
  auto& child = children_[label_value];
  if (!child) {
    if constexpr (std::is_same_v<Metric, Histogram>) {
      child = std::make_shared<Histogram>(buckets_);
    } else {
      child = std::make_shared<Metric>();
    }
  }
  return *child;
}

template <class Metric>
void Family<Metric>::remove(const std::string& label_value) {
  std::lock_guard lock(mutex_);
  children_.erase(label_value);
}

template <class Metric>
std::vector<std::pair<std::string, std::shared_ptr<const Metric>>> Family<Metric>::children()
    const {
  std::lock_guard lock(mutex_);
  std::vector<std::pair<std::string, std::shared_ptr<const Metric>>> out;
  for (const auto& [label, child] : children_) out.emplace_back(label, child);
  return out;
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

// Unlabelled series exist from the start so that dashboards see a 0, not a
// gap; so do the by-reason series, one per reason code that can occur there,
// because Prometheus' increase() cannot see a counter's first step when the
// series is born at 1 (an alert on the first dead letter would never fire).
Metrics::Metrics() {
  for (int i = 0; i <= static_cast<int>(Reason::internal); ++i) {
    const auto reason = static_cast<Reason>(i);
    const std::string name(reason_name(reason));
    objects_failed.with(name);
    if (is_transient(reason)) {
      retries.with(name);
    } else if (reason != Reason::cancelled) {
      dead_lettered.with(name);
    }
  }
  objects_processed.unlabelled();
  progressive_inputs.unlabelled();
  bytes_in.unlabelled();
  bytes_out.unlabelled();
  in_flight.unlabelled();
  paused_partitions.unlabelled();
  latency.unlabelled();
}

Metrics& Metrics::global() {
  static Metrics metrics;
  return metrics;
}

std::string Metrics::render() const {
  std::ostringstream out;
  render_simple(out, events_received, "counter");
  render_simple(out, objects_processed, "counter");
  render_simple(out, objects_failed, "counter");
  render_simple(out, objects_skipped, "counter");
  render_simple(out, dead_lettered, "counter");
  render_simple(out, retries, "counter");
  render_simple(out, outputs_written, "counter");
  render_simple(out, outputs_deleted, "counter");
  render_simple(out, progressive_inputs, "counter");
  render_simple(out, bytes_in, "counter");
  render_simple(out, bytes_out, "counter");
  render_simple(out, in_flight, "gauge");
  render_simple(out, paused_partitions, "gauge");
  render_simple(out, ready, "gauge");
  render_simple(out, store_reachable, "gauge");
  render_simple(out, partition_lag, "gauge");
  render_simple(out, consumer_lag, "gauge");
  render_simple(out, commit_progress, "gauge");
  render_simple(out, dead_letter_topic_records, "gauge");
  render_simple(out, reconcile_runs, "counter");
  render_simple(out, reconcile_checked, "counter");
  render_simple(out, reconcile_found, "counter");
  render_simple(out, reconcile_enqueued, "counter");
  render_simple(out, reconcile_last_run, "gauge");
  render_simple(out, reconcile_last_duration, "gauge");
  render_histogram(out, latency);
  render_histogram(out, stage_latency);
  {
    std::lock_guard lock(build_info_mutex_);
    if (!build_info_.empty()) {
      render_header(out, "imgpipe_build_info", "What this process was built from (always 1)",
                    "gauge");
      std::string labels;
      for (const auto& [name, value] : build_info_) {
        labels += (labels.empty() ? "" : ",") + name + "=\"" + escape_label_value(value) + "\"";
      }
      out << "imgpipe_build_info{" << labels << "} 1\n";
    }
  }
  render_process(out);
  return out.str();
}

void Metrics::set_build_info(std::vector<std::pair<std::string, std::string>> labels) {
  std::lock_guard lock(build_info_mutex_);
  build_info_ = std::move(labels);
}

}  // namespace imgpipe::observe
