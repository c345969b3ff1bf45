#include <iostream>

#include "cli/commands.h"
#include "pipeline/config.h"

namespace imgpipe::cli {

int run_validate(const CommonOptions& common, bool local) {
  auto config = pipeline::load_config(common.config_path, pipeline::process_environment(),
                                      local ? pipeline::Use::local : pipeline::Use::worker);
  if (!config) {
    std::cerr << config.error().message << '\n';
    return 2;
  }
  std::cout << (common.config_path.empty() ? "defaults and environment" : common.config_path)
            << ": ok\n";
  return 0;
}

int run_show_config(const CommonOptions& common, bool reference) {
  if (reference) {
    std::cout << "| setting | environment | default | description |\n|---|---|---|---|\n";
    const pipeline::Config defaults;
    for (const auto& setting : pipeline::settings()) {
      const std::string value = pipeline::describe_value(setting, defaults);
      std::cout << "| `" << setting.path << "` | `" << setting.env << "` | "
                << (value.empty() ? "(none)" : "`" + value + "`") << " | " << setting.description;
      if (setting.min != setting.max) {
        std::cout << " (" << setting.min << "–" << setting.max << ")";
      }
      if (setting.secret) {
        std::cout << "; or `" << setting.env
                  << "_FILE` names a file holding it, readable by its owner (and group) only";
      }
      if (!setting.choices.empty()) {
        std::cout << (setting.is_list() ? "; a list (comma-separated in the environment) of: "
                                        : "; one of: ");
        for (std::size_t i = 0; i < setting.choices.size(); ++i) {
          std::cout << (i == 0 ? "" : ", ") << "`" << setting.choices[i] << "`";
        }
        std::cout << " (any case)";
      }
      std::cout << " |\n";
    }
    return 0;
  }
  auto config = pipeline::load_config(common.config_path, pipeline::process_environment());
  if (!config) {
    std::cerr << config.error().message << '\n';
    return 2;
  }
  for (const auto& setting : pipeline::settings()) {
    std::cout << setting.path << " = " << pipeline::describe_value(setting, config.value()) << '\n';
  }
  return 0;
}

}  // namespace imgpipe::cli
