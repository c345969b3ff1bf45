#include "pipeline/rules_yaml.h"

#include <yaml-cpp/yaml.h>

#include <functional>
#include <optional>
#include <set>

#include "common/result.h"

namespace imgpipe::pipeline {
namespace {

using image::Gravity;

// A mapping being read at `path`: every key read is remembered, so that
// report_unknown() can name the ones nobody asked for. Use it through
// read_mapping(), which calls report_unknown() once reading is done.
class Reader {
 public:
  Reader(const YAML::Node& node, std::string path, std::vector<std::string>& problems)
      : node_(node), path_(std::move(path)), problems_(problems) {
    if (!node_.IsMap()) problem("", "must be a mapping");
  }
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // Reports every key that was not read, and keys that are not text.
  void report_unknown() {
    if (!node_.IsMap()) return;
    for (const auto& entry : node_) {
      if (!entry.first.IsScalar()) {
        problem("", "keys must be text, not a list or mapping");
        continue;
      }
      const std::string& name = entry.first.Scalar();
      if (!seen_.count(name)) problem(name, "unknown setting");
    }
  }

  std::string at(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  void problem(const std::string& key, const std::string& message) {
    problems_.push_back((key.empty() ? path_ : at(key)) + ": " + message);
  }
  YAML::Node child(const std::string& key) {
    seen_.insert(key);
    return node_.IsMap() ? node_[key] : YAML::Node();
  }
  bool has(const std::string& key) const { return node_.IsMap() && node_[key]; }

  void text(const std::string& key, std::string& out, bool required = false) {
    const auto value = child(key);
    if (!value) {
      if (required) problem(key, "is required");
      return;
    }
    if (!value.IsScalar()) return problem(key, "must be text");
    out = value.Scalar();
    if (required && out.empty()) problem(key, "must not be empty");
  }
  template <class Number>
  void number(const std::string& key, Number& out, long long min, long long max) {
    const auto value = child(key);
    if (!value) return;
    long long parsed = 0;
    if (!value.IsScalar() || !YAML::convert<long long>::decode(value, parsed)) {
      return problem(key, "must be a whole number");
    }
    if (parsed < min)
      return problem(key, min == 1 ? "must be > 0" : "must be >= " + std::to_string(min));
    if (parsed > max) return problem(key, "must be <= " + std::to_string(max));
    out = static_cast<Number>(parsed);
  }
  void real(const std::string& key, double& out, double min, double max) {
    const auto value = child(key);
    if (!value) return;
    double parsed = 0;
    if (!value.IsScalar() || !YAML::convert<double>::decode(value, parsed))
      return problem(key, "must be a number");
    if (parsed < min || parsed > max) {
      return problem(key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    }
    out = parsed;
  }
  void flag(const std::string& key, bool& out) {
    const auto value = child(key);
    if (!value) return;
    if (!value.IsScalar() || !YAML::convert<bool>::decode(value, out))
      problem(key, "must be true or false");
  }
  template <class Enum>
  void choice(const std::string& key, Enum& out,
              const std::vector<std::pair<std::string, Enum>>& options) {
    const auto value = child(key);
    if (!value) return;
    const std::string given = value.IsScalar() ? value.Scalar() : "";
    for (const auto& [name, option] : options) {
      if (given == name) {
        out = option;
        return;
      }
    }
    std::string names;
    for (const auto& option : options) names += (names.empty() ? "" : ", ") + option.first;
    problem(key, "must be one of " + names + (given.empty() ? "" : ", got '" + given + "'"));
  }

 private:
  YAML::Node node_;
  std::string path_;
  std::vector<std::string>& problems_;
  std::set<std::string> seen_;
};

// Reads the mapping `node` at `path` with read(Reader&), then reports the keys
// `read` did not ask for. Returns what `read` returns.
template <class Read>
auto read_mapping(const YAML::Node& node, const std::string& path,
                  std::vector<std::string>& problems, Read read) {
  Reader r(node, path, problems);
  auto result = read(r);
  r.report_unknown();
  return result;
}

// The names image::gravity_name() gives, plus two aliases.
std::vector<std::pair<std::string, Gravity>> gravity_choices() {
  std::vector<std::pair<std::string, Gravity>> choices;
  for (int value = 0; value <= static_cast<int>(Gravity::entropy); ++value) {
    const auto gravity = static_cast<Gravity>(value);
    choices.emplace_back(image::gravity_name(gravity), gravity);
  }
  choices.emplace_back("center", Gravity::centre);
  choices.emplace_back("smart", Gravity::attention);
  return choices;
}
const std::vector<std::pair<std::string, Gravity>> kGravities = gravity_choices();

// "keep", the formats image::format_names() knows, and two aliases.
std::vector<std::pair<std::string, std::string>> format_choices() {
  std::vector<std::pair<std::string, std::string>> choices = {{"keep", "keep"}};
  for (const auto& name : image::format_names()) choices.emplace_back(name, name);
  choices.emplace_back("jpg", "jpeg");
  choices.emplace_back("heic", "heif");
  return choices;
}

constexpr long long kMaxSide = 16383;

image::Resize read_resize(Reader& r) {
  image::Resize resize;
  r.number("width", resize.width, 1, kMaxSide);
  r.number("height", resize.height, 1, kMaxSide);
  r.choice<image::ResizeMode>("mode", resize.mode,
                              {{"fit", image::ResizeMode::fit},
                               {"fill", image::ResizeMode::fill},
                               {"cover", image::ResizeMode::fill},
                               {"pad", image::ResizeMode::pad}});
  r.choice("gravity", resize.gravity, kGravities);
  r.flag("upscale", resize.upscale);
  if (!r.has("width") && !r.has("height")) r.problem("", "needs width, height or both");
  if (resize.mode != image::ResizeMode::fit && (!r.has("width") || !r.has("height"))) {
    r.problem("", "modes fill and pad need both width and height");
  }
  return resize;
}

image::Crop read_crop(Reader& r) {
  image::Crop crop;
  r.number("width", crop.width, 1, kMaxSide);
  r.number("height", crop.height, 1, kMaxSide);
  r.choice("gravity", crop.gravity, kGravities);
  if (!r.has("width") || !r.has("height")) r.problem("", "needs width and height");
  return crop;
}

image::AspectCrop read_aspect(Reader& r) {
  image::AspectCrop aspect;
  std::string ratio;
  r.text("ratio", ratio, true);
  r.choice("gravity", aspect.gravity, kGravities);
  const auto colon = ratio.find(':');
  try {
    if (colon == std::string::npos) throw std::invalid_argument(ratio);
    aspect.ratio_width = std::stoi(ratio.substr(0, colon));
    aspect.ratio_height = std::stoi(ratio.substr(colon + 1));
    if (aspect.ratio_width <= 0 || aspect.ratio_height <= 0) throw std::invalid_argument(ratio);
  } catch (const std::exception&) {
    if (!ratio.empty()) r.problem("ratio", "must look like 16:9, got '" + ratio + "'");
  }
  return aspect;
}

// A value given either as a scalar ("square: 224") or as a mapping
// ("square: {size: 224}"): the scalar stands for `key`.
template <class Read>
auto scalar_or_map(const YAML::Node& node, const std::string& path, const std::string& key,
                   std::vector<std::string>& problems, Read read) {
  if (node.IsScalar()) {
    YAML::Node wrapped;
    wrapped[key] = node;
    return read_mapping(wrapped, path, problems, read);
  }
  return read_mapping(node, path, problems, read);
}

std::optional<image::Operation> read_operation(const YAML::Node& node, const std::string& path,
                                               std::vector<std::string>& problems) {
  if (!node.IsMap() || node.size() != 1 || !node.begin()->first.IsScalar()) {
    problems.push_back(path + ": must be one operation, e.g. {resize: {width: 256}}");
    return std::nullopt;
  }
  const std::string name = node.begin()->first.Scalar();
  const YAML::Node body = node.begin()->second;
  const std::string at = path + "." + name;
  if (name == "resize") {
    return read_mapping(body, at, problems,
                        [](Reader& r) -> image::Operation { return read_resize(r); });
  }
  if (name == "crop") {
    return read_mapping(body, at, problems,
                        [](Reader& r) -> image::Operation { return read_crop(r); });
  }
  if (name == "aspect") {
    return scalar_or_map(body, at, "ratio", problems,
                         [](Reader& r) -> image::Operation { return read_aspect(r); });
  }
  if (name == "square") {
    return scalar_or_map(body, at, "size", problems, [](Reader& r) -> image::Operation {
      image::SquareCrop square;
      r.number("size", square.size, 1, kMaxSide);
      return square;
    });
  }
  if (name == "rotate") {
    return scalar_or_map(body, at, "degrees", problems, [](Reader& r) -> image::Operation {
      image::Rotate rotate;
      r.choice<int>("degrees", rotate.degrees, {{"90", 90}, {"180", 180}, {"270", 270}});
      return rotate;
    });
  }
  if (name == "flip") {
    return scalar_or_map(body, at, "direction", problems, [](Reader& r) -> image::Operation {
      image::Flip flip;
      r.choice<bool>("direction", flip.horizontal, {{"horizontal", true}, {"vertical", false}});
      return flip;
    });
  }
  if (name == "sharpen" || name == "blur") {
    const bool sharpen = name == "sharpen";
    return scalar_or_map(body, at, "sigma", problems, [sharpen](Reader& r) -> image::Operation {
      double sigma = 1.0;
      r.real("sigma", sigma, 0.1, 100);
      if (sharpen) return image::Sharpen{sigma};
      return image::Blur{sigma};
    });
  }
  problems.push_back(path + ": unknown operation '" + name +
                     "' (resize, crop, aspect, square, rotate, flip, sharpen, blur)");
  return std::nullopt;
}

void read_encoder(Reader& r, image::Encoder& encoder) {
  r.number("quality", encoder.quality, 1, 100);
  r.flag("progressive", encoder.progressive);
  r.choice<std::string>("chroma", encoder.chroma,
                        {{"auto", "auto"}, {"420", "420"}, {"444", "444"}});
  r.flag("trellis", encoder.trellis);
  r.flag("optimize_scans", encoder.optimize_scans);
  r.number("compression", encoder.compression, 0, 9);
  r.flag("palette", encoder.palette);
  r.flag("lossless", encoder.lossless);
  r.number("effort", encoder.effort, 0, 9);
  r.choice<std::string>(
      "tiff_compression", encoder.tiff_compression,
      {{"none", "none"}, {"deflate", "deflate"}, {"lzw", "lzw"}, {"jpeg", "jpeg"}});
}

void read_set_metadata(Reader& r, std::map<std::string, std::string>& out) {
  const YAML::Node metadata = r.child("set_metadata");
  if (metadata && !metadata.IsMap()) r.problem("set_metadata", "must be a mapping of name: value");
  for (const auto& entry : metadata) {
    if (!entry.first.IsScalar()) {
      r.problem("set_metadata", "names must be text, not a list or mapping");
      continue;
    }
    out[entry.first.Scalar()] = entry.second.IsScalar() ? entry.second.Scalar() : "";
  }
}

Output read_output(Reader& r, std::vector<std::string>& problems) {
  Output output;
  r.text("name", output.name, true);
  r.text("bucket", output.bucket, true);
  r.text("key", output.key_template);
  for (const auto& unknown : unknown_placeholders(output.key_template)) {
    r.problem("key", "unknown placeholder " + unknown +
                         " (use {key} {dir} {name} {ext} {variant} {etag} {format})");
  }
  if (r.has("resize")) {
    output.recipe.operations.push_back(
        read_mapping(r.child("resize"), r.at("resize"), problems, read_resize));
  }
  const YAML::Node operations = r.child("operations");
  if (operations && !operations.IsSequence()) r.problem("operations", "must be a list");
  for (std::size_t i = 0; operations && operations.IsSequence() && i < operations.size(); ++i) {
    auto operation =
        read_operation(operations[i], r.at("operations[" + std::to_string(i) + "]"), problems);
    if (operation) output.recipe.operations.push_back(*operation);
  }
  auto& recipe = output.recipe;
  r.choice<std::string>("format", recipe.encoder.format, format_choices());
  if (r.has("encoder")) {
    read_mapping(r.child("encoder"), r.at("encoder"), problems, [&](Reader& encoder) {
      read_encoder(encoder, recipe.encoder);
      return Unit{};
    });
  }
  r.flag("autorotate", recipe.autorotate);
  r.flag("srgb", recipe.to_srgb);
  r.choice<image::ShrinkOnLoad>(
      "shrink_on_load", recipe.shrink_on_load,
      {{"fast", image::ShrinkOnLoad::fast}, {"conservative", image::ShrinkOnLoad::conservative}});
  if (r.has("background") && !parse_colour(r.child("background"), recipe.background)) {
    r.problem("background", "must be #rrggbb, #rgb or [r, g, b] with values 0-255");
  }
  r.choice<image::MetadataPolicy>("metadata", recipe.metadata,
                                  {{"strip", image::MetadataPolicy::strip},
                                   {"copyright", image::MetadataPolicy::keep_copyright},
                                   {"keep", image::MetadataPolicy::keep}});
  r.choice<bool>("animation", recipe.animation.all_frames, {{"first", false}, {"all", true}});
  if (recipe.animation.all_frames) {
    for (const auto& operation : recipe.operations) {
      if (!std::holds_alternative<image::Resize>(operation)) {
        r.problem("animation", "all frames can only be combined with resize operations");
        break;
      }
    }
  }
  read_set_metadata(r, output.metadata);
  r.text("content_type", output.content_type);
  r.flag("sidecar", output.sidecar);
  r.flag("unique_keys", output.unique_keys);
  return output;
}

Match read_match(Reader& r) {
  Match match;
  r.text("bucket", match.bucket, true);
  r.text("prefix", match.prefix);
  r.text("suffix", match.suffix);
  r.text("glob", match.glob);
  r.text("content_type", match.content_type);
  r.number("min_size", match.min_size, 0, std::numeric_limits<long long>::max());
  long long max_size = std::numeric_limits<long long>::max();
  r.number("max_size", max_size, 0, std::numeric_limits<long long>::max());
  match.max_size = static_cast<std::uint64_t>(max_size);
  if (match.min_size > match.max_size) r.problem("min_size", "must not exceed max_size");
  return match;
}

Rule read_rule(Reader& r, std::size_t index, std::set<std::string>& names,
               std::vector<std::string>& problems) {
  Rule rule;
  r.text("name", rule.name);
  if (rule.name.empty()) rule.name = "rule" + std::to_string(index);
  if (!names.insert(rule.name).second)
    r.problem("name", "'" + rule.name + "' is used by another rule");
  if (r.has("match")) {
    rule.match = read_mapping(r.child("match"), r.at("match"), problems, read_match);
  } else {
    r.problem("match", "is required");
  }
  const YAML::Node outputs = r.child("outputs");
  if (!outputs || !outputs.IsSequence() || outputs.size() == 0)
    r.problem("outputs", "must be a non-empty list");
  std::set<std::string> variants;
  for (std::size_t j = 0; outputs && outputs.IsSequence() && j < outputs.size(); ++j) {
    const std::string at = r.at("outputs[" + std::to_string(j) + "]");
    Output output = read_mapping(outputs[j], at, problems,
                                 [&](Reader& out) { return read_output(out, problems); });
    if (!output.name.empty() && !variants.insert(output.name).second) {
      problems.push_back(at + ".name: '" + output.name +
                         "' is used by another output of this rule");
    }
    rule.outputs.push_back(std::move(output));
  }
  return rule;
}

}  // namespace

bool parse_colour(const YAML::Node& node, image::Colour& colour) {
  if (node.IsSequence() && node.size() == 3) {
    for (std::size_t i = 0; i < 3; ++i) {
      double value = -1;
      if (!YAML::convert<double>::decode(node[i], value) || value < 0 || value > 255) return false;
      colour[i] = value;
    }
    return true;
  }
  if (!node.IsScalar()) return false;
  std::string hex = node.Scalar();
  if (hex.size() == 4 && hex[0] == '#')
    hex = std::string("#") + hex[1] + hex[1] + hex[2] + hex[2] + hex[3] + hex[3];
  if (hex.size() != 7 || hex[0] != '#' ||
      hex.find_first_not_of("0123456789abcdefABCDEF", 1) != std::string::npos) {
    return false;
  }
  for (int i = 0; i < 3; ++i) colour[i] = std::stoi(hex.substr(1 + 2 * i, 2), nullptr, 16);
  return true;
}

std::vector<Rule> parse_rules(const YAML::Node& node, std::vector<std::string>& problems) {
  std::vector<Rule> rules;
  if (!node.IsSequence()) {
    problems.push_back("rules: must be a list of rules");
    return rules;
  }
  std::set<std::string> names;
  for (std::size_t i = 0; i < node.size(); ++i) {
    rules.push_back(read_mapping(node[i], "rules[" + std::to_string(i) + "]", problems,
                                 [&](Reader& r) { return read_rule(r, i, names, problems); }));
  }
  return rules;
}

}  // namespace imgpipe::pipeline
