// Composition root: parses the command line and hands over to a subcommand.
#include <malloc.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <exception>
#include <iostream>

#include "cli/backfill.h"
#include "cli/commands.h"
#include "cli/dlq.h"
#include "cli/wiring.h"

namespace {

int parse_and_run(int argc, char** argv) {
  using namespace imgpipe::cli;
  CLI::App app{
      "imgpipe: turns S3 bucket events from Kafka into resized images.\n"
      "Every setting can come from the YAML file (--config) or an IMGPIPE_* environment\n"
      "variable; `imgpipe config --reference` lists them all."};
  app.set_version_flag("--version", version_text());
  app.require_subcommand(1);

  CommonOptions common;
  if (const char* from_env = std::getenv("IMGPIPE_CONFIG")) common.config_path = from_env;
  auto add_config = [&](CLI::App* command) {
    command
        ->add_option("-c,--config", common.config_path,
                     "YAML configuration file (env IMGPIPE_CONFIG)")
        ->check(CLI::ExistingFile);
  };

  auto* run = app.add_subcommand(
      "run", "Consume bucket events and write resized images until SIGTERM/SIGINT");
  add_config(run);

  int partitions = 0;
  auto* setup = app.add_subcommand(
      "setup",
      "Create the buckets, the Kafka topics and the bucket notification; with "
      "setup.s3_admin_access_key / setup.kafka_admin_username, act as those admins and give the "
      "worker's own users only the rights it needs (a MinIO policy, Kafka ACLs). Idempotent");
  add_config(setup);
  setup
      ->add_option("--partitions", partitions,
                   "Partitions of the event topic (default: kafka.partitions)")
      ->check(CLI::Range(1, 10000));

  bool local = false;
  auto* validate = app.add_subcommand("validate", "Check a configuration; print every problem");
  add_config(validate);
  validate->add_flag(
      "--local", local,
      "Check it for imgpipe process: Kafka and S3 connection settings are not needed");

  ProcessOptions process_options;
  auto* process = app.add_subcommand(
      "process",
      "Run the rules on local files (file name = key), one after another, each render on up to\n"
      "pipeline.renders threads (IMGPIPE_RENDERS; default: every core); outputs go to\n"
      "DIR/<bucket>/<key>, one JSON line per input on stdout; exit 0 when all succeeded,\n"
      "2 when any was rejected");
  add_config(process);
  process->add_option("--output-dir", process_options.output_dir, "Where outputs are written")
      ->required();
  process->add_option("--bucket", process_options.bucket, "Bucket the files stand in for")
      ->capture_default_str();
  // No existence check here: a missing file is reported as a rejected input.
  process->add_option("inputs", process_options.inputs, "Image files")->required();

  bool reference = false;
  auto* config = app.add_subcommand("config", "Print the effective configuration (secrets hidden)");
  add_config(config);
  config->add_flag("--reference", reference, "Print every setting as a Markdown table instead");

  StatusOptions status_options;
  auto* status = app.add_subcommand(
      "status",
      "The consumer group, partitions and lag, dead letters by reason, and what the "
      "workers do (with --metrics); exit 1 when Kafka is unreachable");
  add_config(status);
  status->add_flag("--json", status_options.json, "One JSON object instead of text");
  status->add_option("--metrics", status_options.metrics,
                     "A worker's metrics endpoint, host:port or http://host:port/metrics "
                     "(repeatable)");

  DlqOptions dlq_options;
  auto* dlq = app.add_subcommand("dlq", "The dead-letter topic: what failed for good, and why");
  dlq->require_subcommand(1);
  auto add_filters = [&](CLI::App* command) {
    add_config(command);
    command->add_option("--reason", dlq_options.reason, "Only this reason code, e.g. not_an_image");
    command->add_option("--since", dlq_options.since,
                        "Only dead-lettered since a UTC time (2026-12-01T10:00:00Z) or an age "
                        "(90s, 30m, 2h, 7d)");
    command->add_option("--key-prefix", dlq_options.key_prefix,
                        "Only messages whose key (bucket/key) starts with this");
  };
  auto* dlq_list = dlq->add_subcommand("list", "Print the dead letters, a table or JSON lines");
  add_filters(dlq_list);
  dlq_list->add_flag("--json", dlq_options.json, "One JSON object per line instead of a table");
  auto* dlq_replay = dlq->add_subcommand(
      "replay", "Put the selected dead letters back on the event topic and say how many");
  add_filters(dlq_replay);
  dlq_replay->add_flag("--dry-run", dlq_options.dry_run, "Only count what would be replayed");

  BackfillOptions backfill_options;
  auto* backfill = app.add_subcommand(
      "backfill",
      "Find source objects whose outputs are missing, stale (another ETag) or, with --changed,\n"
      "made by another recipe, and enqueue them as synthetic events for the workers (or process\n"
      "them here with --direct). Resumable: run it again to continue; exit 0 when all was\n"
      "enqueued or up to date, 1 on a runtime failure, 2 on bad arguments");
  add_config(backfill);
  backfill->add_option("--bucket", backfill_options.bucket,
                       "Only this source bucket (default: every rule's)");
  backfill->add_option("--prefix", backfill_options.prefix,
                       "Only keys under this prefix (default: what the rules' prefixes share)");
  backfill->add_option("--since", backfill_options.since,
                       "Only objects modified since a UTC time (2026-12-01T10:00:00Z) or an age "
                       "(90s, 30m, 2h, 7d)");
  backfill->add_flag("--changed", backfill_options.changed,
                     "Also redo outputs made by another recipe than the rules' current one");
  backfill->add_flag("--force", backfill_options.force,
                     "Redo every matched object, up to date or not");
  backfill->add_flag("--dry-run", backfill_options.dry_run,
                     "Only count, and show the first keys of each class; write nothing");
  backfill->add_flag("--direct", backfill_options.direct,
                     "Process in this process instead of enqueuing (no workers needed)");
  backfill
      ->add_option("--rate", backfill_options.rate,
                   "At most this many objects enqueued per second (default: no limit)")
      ->check(CLI::Range(0.0, 1e6));
  backfill->add_flag("--restart", backfill_options.restart,
                     "Forget the checkpoint of this backfill and start from the beginning");
  backfill->add_option("--checkpoint", backfill_options.checkpoint,
                       "Checkpoint file (default: $IMGPIPE_STATE_DIR or ~/.local/state/imgpipe, "
                       "one file per distinct command)");
  backfill
      ->add_option("--page-size", backfill_options.page_size,
                   "Objects per listing page, and per checkpoint")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  backfill
      ->add_option("--concurrency", backfill_options.concurrency,
                   "Objects checked (and enqueued) at once (--direct: pipeline.workers)")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  backfill->add_flag("--json", backfill_options.json, "The summary as one JSON object on stdout");
  backfill
      ->add_option("--progress-interval", backfill_options.progress_seconds,
                   "Seconds between JSON progress lines on stderr when it is no terminal")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();

  ReconcileOptions reconcile_options;
  auto* reconcile = app.add_subcommand(
      "reconcile",
      "Run the backfill check periodically and enqueue what is missing or stale, so that a lost\n"
      "event costs at most one interval; metrics on /metrics (imgpipe_reconcile_*)");
  add_config(reconcile);
  reconcile->add_option("--every", reconcile_options.every, "Interval: 90s, 30m, 1h, 1d")
      ->capture_default_str();
  reconcile->add_flag("--once", reconcile_options.once,
                      "One run, then exit with backfill's status (for a CronJob)");
  reconcile->add_flag("--changed", reconcile_options.changed,
                      "Also redo outputs made by another recipe");
  reconcile->add_option("--rate", reconcile_options.rate, "At most this many objects per second")
      ->check(CLI::Range(0.0, 1e6));
  reconcile->add_option("--http-listen", reconcile_options.http_listen,
                        "Where /metrics is served (default: http_listen of the configuration)");

  CLI11_PARSE(app, argc, argv);

  if (*backfill) return run_backfill(common, backfill_options);
  if (*reconcile) return run_reconcile(common, reconcile_options);

  if (*status) return run_status(common, status_options);
  if (*dlq_list) return run_dlq_list(common, dlq_options);
  if (*dlq_replay) return run_dlq_replay(common, dlq_options);

  if (*run) return run_worker(common);
  if (*setup) return run_setup(common, partitions);
  if (*validate) return run_validate(common, local);
  if (*process) return run_process(common, process_options);
  if (*config) return run_show_config(common, reference);
  return 2;
}

// glibc gives every thread that contends for malloc an arena of its own (up
// to 8 per core); libvips' large, short-lived buffers then spread over all of
// them and RSS grows with the thread count. In make bench's drain two arenas
// cost the same CPU per photo as glibc's default with 178 MB peak RSS instead
// of 259, and less CPU than jemalloc (136 against 144 ms; its MADV_DONTNEED
// and page faults were 7 % of the worker's CPU): docs/performance.md.
// MALLOC_ARENA_MAX or GLIBC_TUNABLES set by the operator win. Runs before any
// thread exists, as mallopt must.
void limit_malloc_arenas() {
  if (std::getenv("MALLOC_ARENA_MAX") != nullptr || std::getenv("GLIBC_TUNABLES") != nullptr) {
    return;
  }
  mallopt(M_ARENA_MAX, 2);
}

}  // namespace

// Components report failures as values; an exception that still gets here
// (out of memory, a library that throws) ends the process with status 1 and a
// message instead of std::terminate.
int main(int argc, char** argv) {
  limit_malloc_arenas();
  try {
    return parse_and_run(argc, argv);
  } catch (const std::exception& error) {
    std::cerr << "imgpipe: unexpected error: " << error.what() << '\n';
  } catch (...) {
    std::cerr << "imgpipe: unexpected error\n";
  }
  return 1;
}
