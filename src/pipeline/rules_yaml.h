// Reads the `rules:` section of the configuration into Rule values,
// reporting every problem with its path, e.g.
// "rules[2].outputs[0].resize.width: must be > 0".
#pragma once

#include <string>
#include <vector>

#include "pipeline/rules.h"

namespace YAML {
class Node;
}

namespace imgpipe::pipeline {

std::vector<Rule> parse_rules(const YAML::Node& node, std::vector<std::string>& problems);

// "#rrggbb", "#rgb" or [r, g, b]; false when not a colour.
bool parse_colour(const YAML::Node& node, image::Colour& colour);

}  // namespace imgpipe::pipeline
