// Key templates from a rules file and keys from uploads, both untrusted:
// the input is split at its first byte 0x01 into template and key.
// render_key() and the loop check must answer for any of them; a template
// without placeholders and without empty path segments (render_key drops
// them) renders as itself; and when an output's real key is
// taken by the match, could_retrigger() must have said so.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "pipeline/rules.h"

using namespace imgpipe::pipeline;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto split = input.find('\x01');
  const std::string key_template(input.substr(0, split));
  const std::string key(split == std::string_view::npos ? "" : input.substr(split + 1));

  const KeyParts parts{key, "0123456789abcdef", "thumb", "jpg"};
  const std::string rendered = render_key(key_template, parts);
  (void)unknown_placeholders(key_template);
  if (key_template.find('{') == std::string::npos && !key_template.starts_with('/') &&
      key_template.find("//") == std::string::npos) {
    FUZZ_CHECK(rendered == key_template);
  }

  Output output;
  output.bucket = "b";
  output.key_template = key_template;
  Match match;
  match.bucket = "b";
  match.prefix = key.substr(0, key.size() / 2);
  match.suffix = key.substr(key.size() / 2);
  const ObjectRef written{"b", rendered, 1, ""};
  if (matches(match, written)) {
    FUZZ_CHECK(could_retrigger(output, match));
  }
  return 0;
}
