#include <gtest/gtest.h>

#include "pipeline/config.h"
#include "pipeline/key_collisions.h"

namespace imgpipe::pipeline {
namespace {

Environment no_environment() {
  return [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
}

Result<Config> load_local(const std::string& yaml) {
  return load_config_text(yaml, no_environment(), Use::local);
}

std::string problems_of(const std::string& yaml) {
  auto config = load_local(yaml);
  return config.ok() ? std::string("(valid)") : config.error().message;
}

const char* kFullExample = R"(
rules:
  - name: web
    match: {bucket: raw, prefix: photos/, suffix: .jpg, content_type: "image/*", min_size: 1, max_size: 50000000}
    outputs:
      - name: thumb
        bucket: processed
        key: "{dir}/{name}.{ext}-{variant}.{format}"
        resize: {width: 256, height: 256, mode: fill, gravity: attention}
        format: webp
        encoder: {quality: 70, effort: 5}
        sidecar: true
      - name: large
        bucket: processed
        key: "{dir}/{name}.{ext}-large.{format}"
        operations:
          - resize: {width: 2048}
          - sharpen: 0.8
        format: jpeg
        encoder: {quality: 82, progressive: true, chroma: "444"}
        metadata: copyright
        set_metadata: {team: web}
  - name: training
    match: {bucket: raw, glob: "datasets/*"}
    outputs:
      - name: square
        bucket: training
        operations: [{square: 224}, {flip: horizontal}, {rotate: 90}, {aspect: "4:3"}, {blur: {sigma: 2}},
                     {crop: {width: 100, height: 50, gravity: northwest}}]
        format: png
        encoder: {compression: 9, palette: true}
        background: "#102030"
        animation: first
        autorotate: false
        srgb: false
        shrink_on_load: conservative
pipeline:
  allowed_formats: [jpeg, png]
  max_frames: 10
  fail_on: error
)";

TEST(RulesConfig, ReadsAFullExampleIntoRulesOutputsAndRecipes) {
  auto config = load_local(kFullExample);
  ASSERT_TRUE(config.ok()) << config.error().message;
  const auto& rules = config->rules;
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0].match.prefix, "photos/");
  EXPECT_EQ(rules[0].match.max_size, 50000000u);
  ASSERT_EQ(rules[0].outputs.size(), 2u);
  const auto& thumb = rules[0].outputs[0];
  EXPECT_EQ(thumb.key_template, "{dir}/{name}.{ext}-{variant}.{format}");
  ASSERT_EQ(thumb.recipe.operations.size(), 1u);
  const auto& resize = std::get<image::Resize>(thumb.recipe.operations[0]);
  EXPECT_EQ(resize.mode, image::ResizeMode::fill);
  EXPECT_EQ(resize.gravity, image::Gravity::attention);
  EXPECT_EQ(thumb.recipe.encoder.format, "webp");
  EXPECT_EQ(thumb.recipe.encoder.quality, 70);
  EXPECT_TRUE(thumb.sidecar);
  const auto& large = rules[0].outputs[1];
  EXPECT_EQ(std::get<image::Resize>(large.recipe.operations[0]).width, 2048);
  EXPECT_DOUBLE_EQ(std::get<image::Sharpen>(large.recipe.operations[1]).sigma, 0.8);
  EXPECT_TRUE(large.recipe.encoder.progressive);
  EXPECT_EQ(large.recipe.encoder.chroma, "444");
  EXPECT_EQ(large.recipe.metadata, image::MetadataPolicy::keep_copyright);
  EXPECT_EQ(large.metadata.at("team"), "web");
  const auto& square = rules[1].outputs[0];
  ASSERT_EQ(square.recipe.operations.size(), 6u);
  EXPECT_EQ(std::get<image::SquareCrop>(square.recipe.operations[0]).size, 224);
  EXPECT_TRUE(std::get<image::Flip>(square.recipe.operations[1]).horizontal);
  EXPECT_EQ(std::get<image::Rotate>(square.recipe.operations[2]).degrees, 90);
  EXPECT_EQ(std::get<image::AspectCrop>(square.recipe.operations[3]).ratio_width, 4);
  EXPECT_DOUBLE_EQ(std::get<image::Blur>(square.recipe.operations[4]).sigma, 2.0);
  EXPECT_EQ(std::get<image::Crop>(square.recipe.operations[5]).gravity, image::Gravity::northwest);
  EXPECT_EQ(square.key_template, "{key}");
  EXPECT_TRUE(square.recipe.encoder.palette);
  EXPECT_EQ(square.recipe.background, (image::Colour{16, 32, 48}));
  EXPECT_FALSE(square.recipe.autorotate);
  EXPECT_FALSE(square.recipe.to_srgb);
  EXPECT_EQ(square.recipe.shrink_on_load, image::ShrinkOnLoad::conservative);
  EXPECT_EQ(thumb.recipe.shrink_on_load, image::ShrinkOnLoad::fast) << "the default";
  const auto limits = config->limits();
  EXPECT_EQ(limits.allowed_formats, (std::set<std::string>{"jpeg", "png"}));
  EXPECT_EQ(limits.max_frames, 10);
  EXPECT_EQ(limits.fail_on, image::FailOn::error);
}

TEST(RulesConfig, WithoutRulesTheDefaultsMakeTheOriginalSingleRule) {
  auto config = load_local("");
  ASSERT_TRUE(config.ok()) << config.error().message;
  const auto rules = config->effective_rules();
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(rules[0].match.bucket, "raw");
  ASSERT_EQ(rules[0].outputs.size(), 1u);
  EXPECT_EQ(rules[0].outputs[0].bucket, "processed");
  EXPECT_EQ(rules[0].outputs[0].key_template, "{key}");
  EXPECT_EQ(why_keys_can_meet(rules[0].outputs[0].key_template), std::nullopt);
  const auto& resize = std::get<image::Resize>(rules[0].outputs[0].recipe.operations.at(0));
  EXPECT_EQ(resize.width, 1024);
  EXPECT_EQ(resize.height, 1024);
  EXPECT_FALSE(resize.upscale);
}

TEST(RulesConfig, ReportsEveryProblemWithItsPath) {
  const std::string problems = problems_of(R"(
rules:
  - name: a
    match: {bucket: raw}
    outputs:
      - name: x
        bucket: out
        key: "a/{key}"
        resize: {width: 10}
  - name: b
    match: {bucket: raw}
    outputs:
      - name: y
        bucket: out
        key: "{dir}/{basename}"
      - name: y
        bucket: out
        resize: {width: 0, mode: stretch}
        operations: [{wobble: 1}, {rotate: 45}, {aspect: "wide"}]
        format: bmp
        encoder: {quality: 101, colour: red}
        background: "#12345"
        shrink_on_load: sloppy
  - name: c
    outputs: []
)");
  for (const char* expected : {
           "rules[1].outputs[0].key: unknown placeholder {basename}",
           "rules[1].outputs[1].name: 'y' is used by another output of this rule",
           "rules[1].outputs[1].resize.width: must be > 0",
           "rules[1].outputs[1].resize.mode: must be one of fit, fill, cover, pad, got 'stretch'",
           "rules[1].outputs[1].operations[0]: unknown operation 'wobble'",
           // NOLINTNEXTLINE(bugprone-suspicious-missing-comma): one message, split
           "rules[1].outputs[1].operations[1].rotate.degrees: must be one of 90, 180, 270, got "
           "'45'",
           "rules[1].outputs[1].operations[2].aspect.ratio: must look like 16:9, got 'wide'",
           "rules[1].outputs[1].format: must be one of keep, jpeg",
           "rules[1].outputs[1].encoder.quality: must be <= 100",
           "rules[1].outputs[1].encoder.colour: unknown setting",
           "rules[1].outputs[1].background: must be #rrggbb",
           "rules[1].outputs[1].shrink_on_load: must be one of fast, conservative, got 'sloppy'",
           "rules[2].match: is required",
           "rules[2].outputs: must be a non-empty list",
       }) {
    EXPECT_NE(problems.find(expected), std::string::npos) << "missing: " << expected << "\n"
                                                          << problems;
  }
  EXPECT_EQ(problems.find("rules[0]"), std::string::npos) << "rule a is fine:\n" << problems;
}

TEST(RulesConfig, RefusesFillWithoutBothSides) {
  EXPECT_NE(problems_of(R"(
rules:
  - match: {bucket: raw}
    outputs: [{name: x, bucket: out, resize: {width: 10, mode: pad}}]
)")
                .find("rules[0].outputs[0].resize: modes fill and pad need both width and height"),
            std::string::npos);
}

TEST(RulesConfig, RefusesAnAnimatedOutputWithOtherOperationsThanResize) {
  EXPECT_NE(problems_of(R"(
rules:
  - match: {bucket: raw}
    outputs: [{name: x, bucket: out, animation: all, operations: [{rotate: 90}]}]
)")
                .find("rules[0].outputs[0].animation: all frames can only be combined with resize"),
            std::string::npos);
}

TEST(RulesConfig, RefusesAnOutputThatWouldTriggerItsOwnRuleUnlessAllowed) {
  const std::string looping = R"(
rules:
  - name: thumbs
    match: {bucket: raw, suffix: .jpg}
    outputs: [{name: t, bucket: raw, key: "thumbs/{key}.{format}", format: jpeg}]
)";
  EXPECT_NE(problems_of(looping).find(
                "rules[0].outputs[0]: its outputs could trigger rule 'thumbs' again"),
            std::string::npos)
      << problems_of(looping);
  EXPECT_EQ(problems_of(looping + "pipeline: {allow_loops: true}\n"), "(valid)");
  EXPECT_EQ(problems_of(R"(
rules:
  - name: thumbs
    match: {bucket: raw, suffix: .jpg}
    outputs: [{name: t, bucket: raw, key: "thumbs/{key}.{format}", format: webp}]
)"),
            "(valid)")
      << "a .webp output cannot match a .jpg rule";
}

TEST(RulesConfig, RefusesOutputKeysThatCanCollideWithTheirPaths) {
  EXPECT_EQ(problems_of(R"(
rules:
  - name: web
    match: {bucket: raw, prefix: photos/}
    outputs:
      - {name: large, bucket: processed, key: "large/{key}"}
      - {name: thumb, bucket: processed, key: "thumbs/{dir}/{name}.webp", format: webp}
  - name: all
    match: {bucket: raw}
    outputs:
      - {name: copy, bucket: processed, key: "large/{key}"}
)"),
            "rules[0].outputs[1].key: \"thumbs/{dir}/{name}.webp\" can render two source keys to "
            "one output key ({name} drops the extension; add {ext} or use {key})\n"
            "rules[1].outputs[0].key: renders the same keys as rules[0].outputs[0] in bucket "
            "\"processed\" (one object would get both; add {variant} or another prefix)");
}

TEST(RulesConfig, AcceptsCollidingKeysOfAnOutputThatOptsOut) {
  const std::string rules = R"(
rules:
  - match: {bucket: raw, suffix: .jpg}
    outputs: [{name: t, bucket: processed, key: "thumbs/{name}.webp", format: webp, )";
  EXPECT_EQ(problems_of(rules + "unique_keys: false}]\n"), "(valid)");
  EXPECT_NE(problems_of(rules + "unique_keys: true}]\n").find("rules[0].outputs[0].key: "),
            std::string::npos);
  EXPECT_NE(problems_of(rules + "unique_keys: sometimes}]\n")
                .find("rules[0].outputs[0].unique_keys: must be true or false"),
            std::string::npos);
}

TEST(RulesConfig, RejectsUnknownInputFormatsAndFailPolicies) {
  const std::string problems =
      problems_of("pipeline: {allowed_formats: [jpeg, bmp], fail_on: sometimes}\n");
  EXPECT_NE(problems.find("pipeline.allowed_formats[1]: must be one of jpeg, png, webp, gif, tiff, "
                          "heif, avif, got 'bmp'"),
            std::string::npos)
      << problems;
  EXPECT_NE(problems.find("pipeline.fail_on: must be one of none, truncated, error, warning"),
            std::string::npos);
}

TEST(RulesConfig, LocalUseNeedsNoConnectionSettings) {
  EXPECT_TRUE(load_local("").ok());
  EXPECT_FALSE(load_config_text("", no_environment(), Use::worker).ok());
}

}  // namespace
}  // namespace imgpipe::pipeline

namespace imgpipe::pipeline {
namespace {

// Regression: a key that is a list or a mapping made Reader's destructor
// throw YAML::TypedBadConversion, and `imgpipe validate` died with SIGABRT.
TEST(RulesConfig, ReportsAKeyThatIsNotTextInsteadOfAborting) {
  const std::string problems = problems_of(R"(
rules:
  - name: web
    [odd, key]: 1
    match: {bucket: raw}
    outputs: [{name: t, bucket: out}]
)");
  EXPECT_NE(problems.find("rules[0]: keys must be text, not a list or mapping"), std::string::npos)
      << problems;
}

TEST(RulesConfig, ReportsKeysThatAreNotTextAnywhereInARule) {
  const std::string problems = problems_of(R"(
rules:
  - name: web
    match: {bucket: raw, {nested: map}: 1}
    outputs:
      - name: t
        bucket: out
        [a]: 1
        operations: [{[resize]: {width: 10}}]
        set_metadata: {[team]: web}
        encoder: {[quality]: 80}
)");
  EXPECT_NE(problems.find("rules[0].match: keys must be text"), std::string::npos) << problems;
  EXPECT_NE(problems.find("rules[0].outputs[0]: keys must be text"), std::string::npos);
  EXPECT_NE(problems.find("rules[0].outputs[0].operations[0]: must be one operation"),
            std::string::npos);
  EXPECT_NE(problems.find("rules[0].outputs[0].set_metadata: names must be text"),
            std::string::npos);
  EXPECT_NE(problems.find("rules[0].outputs[0].encoder: keys must be text"), std::string::npos);
}

TEST(LoadConfig, ReportsAKeyThatIsNotTextAtTheTopLevel) {
  const std::string problems = problems_of("[a, b]: 1\npipeline: {[width]: 3}\n");
  EXPECT_NE(problems.find("(root): keys must be text"), std::string::npos) << problems;
  EXPECT_NE(problems.find("pipeline: keys must be text"), std::string::npos) << problems;
}

}  // namespace
}  // namespace imgpipe::pipeline
