#include "pipeline/products.h"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "common/ascii.h"
#include "pipeline/recipe_fingerprint.h"

namespace imgpipe::pipeline {

bool has_source_marker(const std::map<std::string, std::string>& metadata) {
  return std::any_of(metadata.begin(), metadata.end(), [](const auto& entry) {
    return ascii_lower(entry.first).ends_with(kSourceEtagMetadata);
  });
}

std::vector<const Rule*> matching_rules(const std::vector<Rule>& rules, const ObjectRef& object) {
  std::vector<const Rule*> out;
  for (const auto& rule : rules) {
    if (matches(rule.match, object)) out.push_back(&rule);
  }
  return out;
}

std::vector<std::string> output_keys(const Output& output, const std::string& key,
                                     const std::string& etag) {
  const bool keep = output.recipe.encoder.format == "keep";
  std::vector<std::string> extensions;
  if (!keep || output.key_template.find("{format}") == std::string::npos) {
    extensions.emplace_back(keep ? "" : image::format_extension(output.recipe.encoder.format));
  } else {
    for (const auto& format : image::format_names()) {
      extensions.emplace_back(image::format_extension(format));
    }
  }
  std::vector<std::string> keys;
  for (const auto& extension : extensions) {
    auto rendered = render_key(output.key_template, KeyParts{key, etag, output.name, extension});
    if (std::find(keys.begin(), keys.end(), rendered) == keys.end()) {
      keys.push_back(std::move(rendered));
    }
  }
  return keys;
}

namespace {

std::string sidecar_json(const Product& product, const ObjectRef& source, const std::string& etag,
                         std::size_t source_bytes) {
  const auto& facts = product.facts;
  nlohmann::ordered_json json = {
      {"source",
       {{"bucket", source.bucket},
        {"key", source.key},
        {"etag", etag},
        {"format", facts.source.format},
        {"width", facts.source.width},
        {"height", facts.source.height},
        {"frames", facts.source.frames},
        {"bytes", source_bytes}}},
      {"output",
       {{"bucket", product.bucket},
        {"key", product.key},
        {"variant", product.variant},
        {"format", facts.format},
        {"content_type", product.content_type},
        {"width", facts.width},
        {"height", facts.height},
        {"frames", facts.frames},
        {"bytes", product.body.size()},
        {"phash", image::hash_hex(facts.phash)}}},
      {"processing_ms", product.milliseconds},
  };
  return json.dump(2) + "\n";
}

}  // namespace

Result<Product> produce(const Output& output, const ObjectRef& source, std::string_view bytes,
                        const std::string& etag, const image::Limits& limits, int threads) {
  const auto start = std::chrono::steady_clock::now();
  auto rendered = image::render(bytes, output.recipe, limits, threads);
  if (!rendered) return rendered.error();

  Product product;
  product.variant = output.name;
  product.bucket = output.bucket;
  product.body = std::move(rendered->bytes);
  product.facts = std::move(rendered).value();
  product.key = render_key(
      output.key_template,
      KeyParts{source.key, etag, output.name, image::format_extension(product.facts.format)});
  product.content_type =
      output.content_type.empty() ? product.facts.content_type : output.content_type;
  product.milliseconds = static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                               std::chrono::steady_clock::now() - start)
                                               .count());

  product.metadata = output.metadata;
  product.metadata[kSourceEtagMetadata] = etag.empty() ? "unknown" : etag;
  product.metadata[kRecipeMetadata] = recipe_fingerprint(output);
  product.metadata["imgpipe-variant"] = output.name;
  product.metadata["imgpipe-format"] = product.facts.format;
  product.metadata["imgpipe-width"] = std::to_string(product.facts.width);
  product.metadata["imgpipe-height"] = std::to_string(product.facts.height);
  product.metadata["imgpipe-bytes"] = std::to_string(product.body.size());
  product.metadata["imgpipe-phash"] = image::hash_hex(product.facts.phash);
  product.metadata["imgpipe-ms"] = std::to_string(product.milliseconds);
  if (output.sidecar) {
    product.sidecar_key = product.key + ".json";
    product.sidecar_body = sidecar_json(product, source, etag, bytes.size());
  }
  return product;
}

RenderSlots::RenderSlots(int count) : count_(std::clamp(count, 1, kMax)), free_(count_) {}

RenderSlots::Slot RenderSlots::take() {
  std::unique_lock lock(mutex_);
  freed_.wait(lock, [this] { return free_ > 0; });
  const int share = count_ / std::max(1, in_hand_);
  const int threads = std::max(1, std::min(free_, share));
  --free_;
  return {this, threads};
}

void RenderSlots::give_back() {
  {
    const std::lock_guard lock(mutex_);
    ++free_;
  }
  freed_.notify_one();
}

RenderSlots::InHand RenderSlots::enter() {
  const std::lock_guard lock(mutex_);
  ++in_hand_;
  return InHand(this);
}

void RenderSlots::leave() {
  const std::lock_guard lock(mutex_);
  --in_hand_;
}

ObjectOutcome write_products(const std::vector<const Rule*>& rules, const ObjectRef& source,
                             std::string_view bytes, const std::string& etag,
                             const image::Limits& limits, ProductSink& sink,
                             const std::set<const Output*>& skip, RenderSlots* slots) {
  ObjectOutcome outcome;
  for (const Rule* rule : rules) {
    for (const Output& output : rule->outputs) {
      if (skip.count(&output) != 0) continue;
      auto product = [&] {
        if (slots == nullptr) return produce(output, source, bytes, etag, limits);
        const auto slot = slots->take();
        return produce(output, source, bytes, etag, limits, slot.threads());
      }();
      std::optional<Status> written =
          product ? sink.write(*rule, *product) : std::optional<Status>(Status(product.error()));
      if (!written) {
        outcome.interrupted = true;
        return outcome;
      }
      if (!written->ok() && !outcome.first_failure) outcome.first_failure = written->error();
    }
  }
  return outcome;
}

}  // namespace imgpipe::pipeline
