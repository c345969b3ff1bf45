#include "pipeline/recipe_fingerprint.h"

#include <nlohmann/json.hpp>
#include <variant>

#include "common/hash.h"

namespace imgpipe::pipeline {
namespace {

using Json = nlohmann::ordered_json;

template <class... Visitors>
struct Overloaded : Visitors... {
  using Visitors::operator()...;
};
// Written out for clang 14 (clang-tidy), which does not deduce aggregates.
template <class... Visitors>
Overloaded(Visitors...) -> Overloaded<Visitors...>;

const char* mode_name(image::ResizeMode mode) {
  switch (mode) {
    case image::ResizeMode::fit: return "fit";
    case image::ResizeMode::fill: return "fill";
    case image::ResizeMode::pad: return "pad";
  }
  return "fit";
}

const char* policy_name(image::MetadataPolicy policy) {
  switch (policy) {
    case image::MetadataPolicy::strip: return "strip";
    case image::MetadataPolicy::keep_copyright: return "keep_copyright";
    case image::MetadataPolicy::keep: return "keep";
  }
  return "strip";
}

Json describe(const image::Operation& operation) {
  return std::visit(
      Overloaded{
          [](const image::Resize& op) -> Json {
            return {{"resize",
                     {op.width, op.height, mode_name(op.mode), image::gravity_name(op.gravity),
                      op.upscale}}};
          },
          [](const image::Crop& op) -> Json {
            return {{"crop", {op.width, op.height, image::gravity_name(op.gravity)}}};
          },
          [](const image::AspectCrop& op) -> Json {
            return {{"aspect_crop",
                     {op.ratio_width, op.ratio_height, image::gravity_name(op.gravity)}}};
          },
          [](const image::SquareCrop& op) -> Json {
            return {{"square", op.size}};
          },
          [](const image::Rotate& op) -> Json {
            return {{"rotate", op.degrees}};
          },
          [](const image::Flip& op) -> Json {
            return {{"flip", op.horizontal}};
          },
          [](const image::Sharpen& op) -> Json {
            return {{"sharpen", op.sigma}};
          },
          [](const image::Blur& op) -> Json {
            return {{"blur", op.sigma}};
          },
      },
      operation);
}

Json describe(const image::Encoder& encoder) {
  return {{"format", encoder.format},
          {"quality", encoder.quality},
          {"progressive", encoder.progressive},
          {"chroma", encoder.chroma},
          {"trellis", encoder.trellis},
          {"optimize_scans", encoder.optimize_scans},
          {"compression", encoder.compression},
          {"palette", encoder.palette},
          {"lossless", encoder.lossless},
          {"effort", encoder.effort},
          {"tiff_compression", encoder.tiff_compression}};
}

}  // namespace

std::string recipe_description(const Output& output) {
  Json operations = Json::array();
  for (const auto& operation : output.recipe.operations) operations.push_back(describe(operation));
  const auto& recipe = output.recipe;
  Json description = {
      {"v", 1},
      {"operations", operations},
      {"autorotate", recipe.autorotate},
      {"to_srgb", recipe.to_srgb},
      {"background", recipe.background},
      {"encoder", describe(recipe.encoder)},
      {"metadata_policy", policy_name(recipe.metadata)},
      {"all_frames", recipe.animation.all_frames},
      {"content_type", output.content_type},
      {"metadata", output.metadata},  // a std::map: sorted, so stable
  };
  // Named only when not the default, so that outputs recorded before the
  // setting existed keep their fingerprint (the default changed what libvips
  // is asked to do, not the recipe, like a libvips upgrade does).
  if (recipe.shrink_on_load == image::ShrinkOnLoad::conservative)
    description["shrink_on_load"] = "conservative";
  return description.dump();
}

std::string recipe_fingerprint(const Output& output) {
  return fnv1a64_hex(recipe_description(output));
}

}  // namespace imgpipe::pipeline
