// A tiny extractor for the flat XML documents S3 returns (errors, listings,
// multipart replies): finds <Tag>text</Tag> elements and decodes entities.
//
// It is not a general XML parser: it ignores namespaces, comments, processing
// instructions and DOCTYPE, and it does not handle an element nested inside
// another element of the same name. S3 responses never need any of that.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace imgpipe::s3 {

// The raw (still entity-encoded) contents of every <tag>...</tag> element in
// `xml`, in document order. `<tag/>` yields an empty string_view. The views
// point into `xml`. An element without its closing tag ends the search.
std::vector<std::string_view> xml_elements(std::string_view xml, std::string_view tag);

// The decoded text of the first <tag> element, or nullopt when there is none.
std::optional<std::string> xml_text(std::string_view xml, std::string_view tag);

// Replaces &amp; &lt; &gt; &quot; &apos; and numeric references (&#38; &#x26;)
// and unwraps <![CDATA[...]]> sections. Unknown or malformed references are
// kept verbatim.
std::string xml_decode(std::string_view text);

// Escapes & < > " ' so that `text` can be written as element content.
std::string xml_escape(std::string_view text);

}  // namespace imgpipe::s3
