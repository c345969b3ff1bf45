// Untrusted event topic: any bytes as a Kafka message value, under every key
// encoding. parse_event_message() must answer (records or malformed_event),
// never throw or crash; and the key escape must round-trip.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "events/event.h"
#include "fuzz/fuzz_check.h"

using imgpipe::Reason;
using namespace imgpipe::events;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  for (KeyEncoding keys : {KeyEncoding::detect, KeyEncoding::query, KeyEncoding::raw}) {
    auto parsed = parse_event_message(input, keys);
    if (parsed) {
      FUZZ_CHECK(!parsed->empty());
    } else {
      FUZZ_CHECK(parsed.error().reason == Reason::malformed_event);
      FUZZ_CHECK(!parsed.error().message.empty());
    }
  }
  auto unescaped = query_unescape(input);
  if (unescaped) {
    FUZZ_CHECK(unescaped->size() <= input.size());
  }
  auto round_trip = query_unescape(query_escape(input));
  FUZZ_CHECK(round_trip && *round_trip == input);
  return 0;
}
