// A hostile or broken S3 endpoint: any bytes as an error body or a listing.
// The parsers must answer, never crash; escaping must round-trip.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "s3/request.h"
#include "s3/xml.h"

using namespace imgpipe::s3;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  for (long status : {200L, 403L, 404L, 503L}) {
    const auto error = parse_error_xml(status, body, {"GET", "bucket", "key"});
    FUZZ_CHECK(!error.message.empty());
  }
  (void)is_error_document(body);
  (void)parse_list_objects_xml(body);
  for (std::string_view element : xml_elements(body, "Key")) {
    // <Key/> yields an empty view of nothing; every other one points into the body.
    FUZZ_CHECK(element.empty() || (element.data() >= body.data() &&
                                   element.data() + element.size() <= body.data() + body.size()));
  }
  (void)xml_decode(body);
  (void)parse_iso8601_ms(body);
  FUZZ_CHECK(xml_decode(xml_escape(body)) == body);
  return 0;
}
