// From one source object to the objects imgpipe writes for it: which rules
// take the object, and for each of their outputs the rendered image, its key,
// content type and metadata, and the optional JSON sidecar. Shared by the
// worker (S3) and `imgpipe process` (local files), so both run the same code.
//
// Thread-safety: pure functions over immutable configuration; RenderSlots is
// shared by the threads that render.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "image/render.h"
#include "pipeline/rules.h"

namespace imgpipe::pipeline {

// Metadata key (x-amz-meta-imgpipe-source-etag) on every object imgpipe
// writes: marks it as imgpipe's own so that it is never processed again,
// and records which source version it was made from.
inline constexpr const char* kSourceEtagMetadata = "imgpipe-source-etag";

bool has_source_marker(const std::map<std::string, std::string>& metadata);

struct Product {
  std::string variant;
  std::string bucket;
  std::string key;
  std::string body;
  std::string content_type;
  std::map<std::string, std::string> metadata;  // x-amz-meta-* without the prefix
  std::string sidecar_key;                      // empty: no sidecar
  std::string sidecar_body;
  image::Rendered facts;  // bytes moved into body
  long milliseconds = 0;
};

// Rules whose match takes the object, in configuration order.
std::vector<const Rule*> matching_rules(const std::vector<Rule>& rules, const ObjectRef& object);

// The keys `output` can write for the source `key`: one, or, when the key
// template has {format} in it and the format is the source's (keep), one per
// format imgpipe writes (which one is known only after decoding).
std::vector<std::string> output_keys(const Output& output, const std::string& key,
                                     const std::string& etag);

// Renders one output of one source object. `etag` is the source's ETag.
// Each output decodes the source itself: with shrink-on-load a JPEG decoded
// at 1/8 scale for a thumbnail costs far less than sharing one full decode.
// `threads`: as image::render().
Result<Product> produce(const Output& output, const ObjectRef& source, std::string_view bytes,
                        const std::string& etag, const image::Limits& limits, int threads = 1);

// Where the products of one object go: S3 for the worker, local files for
// `imgpipe process`. write() stores a product and its sidecar; it returns
// the outcome, or nullopt when it was interrupted (shutdown) and the object
// must not be treated as done.
class ProductSink {
 public:
  virtual ~ProductSink() = default;
  virtual std::optional<Status> write(const Rule& rule, const Product& product) = 0;
};

struct ObjectOutcome {
  std::optional<Error> first_failure;  // the first output that failed, if any
  bool interrupted = false;            // the sink was interrupted: nothing after it ran
};

// At most `count` renders at once among the threads sharing it. Rendering
// (decode, resample, encode) is the CPU-bound part of a job; fetching and
// writing wait on the network. So the worker runs more jobs than it has cores
// and lets only as many render as it has cores: the cores stay busy while
// other jobs wait for S3, without oversubscribing them.
// A render may also use more than one thread (Slot::threads()): the slots
// are shared among the jobs in hand, so a lone photo at a low upload rate is
// rendered on every core and finishes sooner, while under load each render
// keeps to one thread and the parallelism is across images. A render holds one
// slot whatever its threads, so jobs that come in meanwhile still find free
// slots: for a moment up to 2 x count - 1 threads may be busy.
// Thread-safe.
class RenderSlots {
 public:
  static constexpr int kMax = 1024;
  explicit RenderSlots(int count);

  // A taken slot; given back when destroyed.
  class Slot {
   public:
    // Threads the render may use: its share of the slots among the jobs in
    // hand (all of them when no job declared itself), no more than were free
    // when it was taken, itself included; at least 1.
    int threads() const { return threads_; }

   private:
    friend class RenderSlots;
    struct GiveBack {
      void operator()(RenderSlots* slots) const { slots->give_back(); }
    };
    Slot(RenderSlots* slots, int threads) : slots_(slots), threads_(threads) {}
    std::unique_ptr<RenderSlots, GiveBack> slots_;
    int threads_;
  };

  // A job in hand (fetching, rendering or writing) while this lives.
  class InHand {
   private:
    friend class RenderSlots;
    struct Leave {
      void operator()(RenderSlots* slots) const { slots->leave(); }
    };
    explicit InHand(RenderSlots* slots) : slots_(slots) {}
    std::unique_ptr<RenderSlots, Leave> slots_;
  };

  // Blocks until a slot is free (a render takes at most seconds).
  [[nodiscard]] Slot take();
  // Declares a job in hand until the returned object is destroyed.
  [[nodiscard]] InHand enter();

 private:
  void give_back();
  void leave();

  const int count_;
  std::mutex mutex_;
  std::condition_variable freed_;
  int free_;         // guarded by mutex_
  int in_hand_ = 0;  // guarded by mutex_
};

// Every output of every rule in `rules`, in order, except those in `skip`,
// rendered from `bytes` (each render in one of `slots`, when given) and
// written to `sink`. A failing output does not stop the others (each is its
// own object); the outcome names the first failure.
ObjectOutcome write_products(const std::vector<const Rule*>& rules, const ObjectRef& source,
                             std::string_view bytes, const std::string& etag,
                             const image::Limits& limits, ProductSink& sink,
                             const std::set<const Output*>& skip = {},
                             RenderSlots* slots = nullptr);

}  // namespace imgpipe::pipeline
