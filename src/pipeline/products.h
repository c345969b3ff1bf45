// From one source object to the objects imgpipe writes for it: which rules
// take the object, and for each of their outputs the rendered image, its key,
// content type and metadata, and the optional JSON sidecar. Shared by the
// worker (S3) and `imgpipe process` (local files), so both run the same code.
//
// Thread-safety: pure functions over immutable configuration; RenderSlots is
// shared by the threads that render.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <semaphore>
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
Result<Product> produce(const Output& output, const ObjectRef& source, std::string_view bytes,
                        const std::string& etag, const image::Limits& limits);

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
// Thread-safe.
class RenderSlots {
 public:
  static constexpr int kMax = 1024;
  explicit RenderSlots(int count);
  // Blocks until a slot is free (a render takes at most seconds); the slot is
  // given back when the returned object is destroyed.
  [[nodiscard]] std::shared_ptr<void> take();

 private:
  std::counting_semaphore<kMax> free_;
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
