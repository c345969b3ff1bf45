// Removes metadata chunks from an encoded WebP file. libvips 8.14's webpsave
// writes an EXIF chunk whatever its strip option says (rebuilt from the
// image's resolution and orientation), so "strip" for WebP is finished here,
// on the bytes, independent of the libvips version.
//
// Thread-safety: pure function.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace imgpipe::image {

// `webp` without its EXIF, XMP and ICCP chunks, with the matching VP8X flags
// cleared and the RIFF size fixed. Fails with encode_failed when `webp` is
// not a well-formed RIFF/WEBP file.
Result<std::string> remove_webp_metadata(std::string_view webp);

}  // namespace imgpipe::image
