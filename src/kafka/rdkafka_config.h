// Builds an RdKafka::Conf from a property map, reporting the first property
// librdkafka rejects. Internal to src/kafka.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <map>
#include <memory>
#include <string>

#include "common/result.h"

namespace imgpipe::kafka {

Result<std::unique_ptr<RdKafka::Conf>> make_config(
    const std::map<std::string, std::string>& properties);

}  // namespace imgpipe::kafka
