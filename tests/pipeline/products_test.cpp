#include "pipeline/products.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "support/test_images.h"

namespace imgpipe::pipeline {
namespace {

Output webp_thumbnail() {
  Output output;
  output.name = "thumb";
  output.bucket = "processed";
  output.key_template = "thumbs/{dir}/{name}-{variant}.{format}";
  output.recipe.operations.push_back(image::Resize{128, 128, image::ResizeMode::fill});
  output.recipe.encoder.format = "webp";
  output.metadata["team"] = "web";
  output.sidecar = true;
  return output;
}

const ObjectRef kSource{"raw", "trips/beach.jpg", 0, "image/jpeg"};

TEST(Produce, RendersTheKeyFromTheTemplateAndTheOutputFormat) {
  const std::string bytes = testing_support::make_image(640, 480, ".jpg");
  auto product = produce(webp_thumbnail(), kSource, bytes, "etag1", image::Limits{});
  ASSERT_TRUE(product.ok()) << product.error().message;
  EXPECT_EQ(product->bucket, "processed");
  EXPECT_EQ(product->key, "thumbs/trips/beach-thumb.webp");
  EXPECT_EQ(product->content_type, "image/webp");
  EXPECT_EQ(testing_support::decode(product->body).loader, "webpload_buffer");
}

TEST(Produce, MarksTheOutputAndRecordsItsFactsInMetadata) {
  const std::string bytes = testing_support::make_image(640, 480, ".jpg");
  auto product = produce(webp_thumbnail(), kSource, bytes, "etag1", image::Limits{});
  ASSERT_TRUE(product.ok());
  const auto& metadata = product->metadata;
  EXPECT_EQ(metadata.at(kSourceEtagMetadata), "etag1");
  EXPECT_EQ(metadata.at("imgpipe-variant"), "thumb");
  EXPECT_EQ(metadata.at("imgpipe-format"), "webp");
  EXPECT_EQ(metadata.at("imgpipe-width"), "128");
  EXPECT_EQ(metadata.at("imgpipe-height"), "128");
  EXPECT_EQ(metadata.at("imgpipe-bytes"), std::to_string(product->body.size()));
  EXPECT_EQ(metadata.at("imgpipe-phash"), image::hash_hex(product->facts.phash));
  EXPECT_EQ(metadata.at("team"), "web");
  EXPECT_TRUE(has_source_marker(metadata));
}

TEST(Produce, WritesASidecarWithSourceAndOutputFacts) {
  const std::string bytes = testing_support::make_image(640, 480, ".jpg");
  auto product = produce(webp_thumbnail(), kSource, bytes, "etag1", image::Limits{});
  ASSERT_TRUE(product.ok());
  EXPECT_EQ(product->sidecar_key, "thumbs/trips/beach-thumb.webp.json");
  const auto facts = nlohmann::json::parse(product->sidecar_body);
  EXPECT_EQ(facts["source"]["bucket"], "raw");
  EXPECT_EQ(facts["source"]["key"], "trips/beach.jpg");
  EXPECT_EQ(facts["source"]["etag"], "etag1");
  EXPECT_EQ(facts["source"]["width"], 640);
  EXPECT_EQ(facts["source"]["height"], 480);
  EXPECT_EQ(facts["source"]["format"], "jpeg");
  EXPECT_EQ(facts["source"]["bytes"], bytes.size());
  EXPECT_EQ(facts["output"]["key"], product->key);
  EXPECT_EQ(facts["output"]["variant"], "thumb");
  EXPECT_EQ(facts["output"]["format"], "webp");
  EXPECT_EQ(facts["output"]["width"], 128);
  EXPECT_EQ(facts["output"]["bytes"], product->body.size());
  EXPECT_EQ(facts["output"]["phash"], image::hash_hex(product->facts.phash));
  EXPECT_TRUE(facts["processing_ms"].is_number());
}

TEST(Produce, LetsTheConfigurationOverrideTheContentType) {
  Output output = webp_thumbnail();
  output.content_type = "application/x-thumbnail";
  output.sidecar = false;
  auto product =
      produce(output, kSource, testing_support::make_image(64, 64, ".png"), "e", image::Limits{});
  ASSERT_TRUE(product.ok());
  EXPECT_EQ(product->content_type, "application/x-thumbnail");
  EXPECT_TRUE(product->sidecar_key.empty());
}

TEST(Produce, PassesRenderFailuresOnWithTheirReason) {
  auto product = produce(webp_thumbnail(), kSource, "not an image", "e", image::Limits{});
  ASSERT_FALSE(product.ok());
  EXPECT_EQ(product.error().reason, Reason::not_an_image);
}

TEST(MatchingRules, KeepsConfigurationOrderAndSkipsNonMatching) {
  std::vector<Rule> rules(3);
  rules[0].name = "all";
  rules[0].match.bucket = "raw";
  rules[1].name = "png-only";
  rules[1].match.bucket = "raw";
  rules[1].match.suffix = ".png";
  rules[2].name = "also-all";
  rules[2].match.bucket = "raw";
  const auto matched = matching_rules(rules, kSource);
  ASSERT_EQ(matched.size(), 2u);
  EXPECT_EQ(matched[0]->name, "all");
  EXPECT_EQ(matched[1]->name, "also-all");
}

// Records what it is given; fails or interrupts the writes it is told to.
class RecordingSink final : public ProductSink {
 public:
  std::optional<Status> write(const Rule& rule, const Product& product) override {
    written.push_back(rule.name + "/" + product.variant);
    if (written.size() == interrupt_at) return std::nullopt;
    if (written.size() == fail_at) return Status(make_error(Reason::unavailable, "store down"));
    return ok_status();
  }
  std::vector<std::string> written;
  std::size_t fail_at = 0;       // 1-based; 0: never
  std::size_t interrupt_at = 0;  // 1-based; 0: never
};

Rule rule_with(const std::string& name, std::vector<std::string> variants) {
  Rule rule;
  rule.name = name;
  for (auto& variant : variants) {
    Output output = webp_thumbnail();
    output.name = variant;
    rule.outputs.push_back(output);
  }
  return rule;
}

TEST(WriteProducts, WritesEveryOutputOfEveryRuleInOrder) {
  const std::string bytes = testing_support::make_image(64, 48, ".jpg");
  const Rule first = rule_with("first", {"a", "b"}), second = rule_with("second", {"c"});
  RecordingSink sink;
  const auto outcome =
      write_products({&first, &second}, kSource, bytes, "e", image::Limits{}, sink);
  EXPECT_FALSE(outcome.first_failure);
  EXPECT_FALSE(outcome.interrupted);
  EXPECT_EQ(sink.written, (std::vector<std::string>{"first/a", "first/b", "second/c"}));
}

TEST(WriteProducts, AFailedOutputDoesNotStopTheOthersAndTheFirstFailureIsReported) {
  const std::string bytes = testing_support::make_image(64, 48, ".jpg");
  Rule rule = rule_with("r", {"a", "b", "c"});
  rule.outputs[0].recipe.encoder.format = "no-such-format";  // fails to render, never written
  RecordingSink sink;
  sink.fail_at = 1;  // the first write ("b") fails too
  const auto outcome = write_products({&rule}, kSource, bytes, "e", image::Limits{}, sink);
  EXPECT_EQ(sink.written, (std::vector<std::string>{"r/b", "r/c"}));
  ASSERT_TRUE(outcome.first_failure);
  EXPECT_NE(outcome.first_failure->reason, Reason::unavailable) << "the render failure came first";
}

TEST(WriteProducts, StopsAtOnceWhenTheSinkIsInterrupted) {
  const std::string bytes = testing_support::make_image(64, 48, ".jpg");
  const Rule rule = rule_with("r", {"a", "b", "c"});
  RecordingSink sink;
  sink.interrupt_at = 2;
  const auto outcome = write_products({&rule}, kSource, bytes, "e", image::Limits{}, sink);
  EXPECT_TRUE(outcome.interrupted);
  EXPECT_EQ(sink.written, (std::vector<std::string>{"r/a", "r/b"}));
}

TEST(RenderSlots, OfferTheCoresOfFreeSlotsToTheRenderThatTakesOne) {
  RenderSlots slots(3);
  {
    const auto alone = slots.take();
    EXPECT_EQ(alone.threads(), 3);
    const auto second = slots.take();
    EXPECT_EQ(second.threads(), 2);
    const auto third = slots.take();
    EXPECT_EQ(third.threads(), 1);
  }
  EXPECT_EQ(slots.take().threads(), 3) << "every slot given back";
}

TEST(RenderSlots, ShareTheCoresAmongTheJobsInHand) {
  RenderSlots slots(4);
  {
    const auto first = slots.enter();
    EXPECT_EQ(slots.take().threads(), 4) << "a lone job renders on every core";
    const auto second = slots.enter();
    const auto a = slots.take();
    const auto b = slots.take();
    EXPECT_EQ(a.threads(), 2);
    EXPECT_EQ(b.threads(), 2);
    const auto third = slots.enter();
    const auto fourth = slots.enter();
    const auto fifth = slots.enter();
    EXPECT_EQ(slots.take().threads(), 1) << "more jobs than slots: one thread each";
  }
  const auto again = slots.enter();
  EXPECT_EQ(slots.take().threads(), 4) << "every job has left";
}

TEST(RenderSlots, LetNoMoreRendersRunAtOnceThanSlots) {
  RenderSlots slots(2);
  std::atomic<int> running{0};
  std::atomic<int> most{0};
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 20; ++i) {
          const auto slot = slots.take();
          EXPECT_GE(slot.threads(), 1);
          const int now = ++running;
          int seen = most.load();
          while (now > seen && !most.compare_exchange_weak(seen, now)) {
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
          --running;
        }
      });
    }
  }
  EXPECT_LE(most.load(), 2);
  EXPECT_GE(most.load(), 1);
  EXPECT_EQ(running.load(), 0);
}

}  // namespace
}  // namespace imgpipe::pipeline
