// libFuzzer target: RFC 2047 header decoding. Built by scripts/fuzz.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/charset/utf8.hpp"
#include "core/mime/rfc2047.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    const auto d = yubin::mime::decode_header_value(in);
    if (!yubin::charset::is_valid_utf8(d.text)) std::abort();
    return 0;
}
