// `imgpipe backfill` and `imgpipe reconcile`: process what is already in the
// source buckets, find uploads whose event never came, redo outputs whose
// recipe changed (backfill/scan.h does the work; this is the command line
// around it: options, checkpoint file, progress, summary, exit status).
//
// Exit status: 0 when everything was enqueued (or processed) or up to date;
// 1 on a runtime failure (S3 or Kafka unreachable, interrupted, with
// --direct: an object that failed); 2 on bad arguments or configuration.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "backfill/scan.h"
#include "cli/commands.h"

namespace imgpipe::cli {

struct BackfillOptions {
  std::string bucket;           // --bucket
  std::string prefix;           // --prefix
  std::string since;            // --since: a UTC time or an age (as for dlq)
  std::string checkpoint;       // --checkpoint FILE; empty: in the state folder, named by the scan
  bool changed = false;         // --changed
  bool force = false;           // --force
  bool dry_run = false;         // --dry-run
  bool direct = false;          // --direct
  bool restart = false;         // --restart
  bool json = false;            // --json: the summary as one JSON object
  double rate = 0;              // --rate: objects enqueued per second; 0: no limit
  int page_size = 1000;         // --page-size
  int concurrency = 8;          // --concurrency
  double progress_seconds = 5;  // --progress-interval, without a terminal
};

struct ReconcileOptions {
  std::string every = "1h";  // --every: 90s, 30m, 1h, 1d
  bool once = false;         // --once: one run, then exit (for a CronJob)
  bool changed = false;      // --changed
  double rate = 0;           // --rate
  int page_size = 1000;
  int concurrency = 8;
  std::string http_listen;  // --http-listen; empty: the configuration's http_listen
};

int run_backfill(const CommonOptions& common, const BackfillOptions& options);
int run_reconcile(const CommonOptions& common, const ReconcileOptions& options);

// The live line on a terminal: counts, rate and (with a total) the ETA.
std::string progress_line(const backfill::Counts& counts, std::uint64_t total, double seconds);
// The same as one JSON object, for logs.
nlohmann::ordered_json progress_json(const backfill::Counts& counts, std::uint64_t total,
                                     double seconds);
// The summary table printed at the end.
std::string summary_table(const backfill::ScanResult& result, std::uint64_t total, double seconds,
                          bool dry_run);

}  // namespace imgpipe::cli
