// libFuzzer target: charset detection and decoding under every label family,
// and normalization. The first byte picks the label, or says that the
// label is the text up to the first newline.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/charset/charset.hpp"
#include "core/charset/normalize.hpp"
#include "core/charset/utf8.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const char* kLabels[] = {"", "utf-8", "iso-2022-jp", "shift_jis", "euc-jp",
                                    "iso-8859-1", "x-unknown", "utf-7", "gb2312", "us-ascii"};
    if (size == 0) return 0;
    constexpr std::size_t kFixed = sizeof kLabels / sizeof kLabels[0];
    std::string label = kLabels[data[0] % (kFixed + 1) % kFixed];
    std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
    if (data[0] % (kFixed + 1) == kFixed) {
        // Any label, up to the first newline: what glibc makes of names our
        // alias table does not know (a "+utf-8" passed invalid UTF-8).
        const std::size_t nl = in.find('\n');
        if (nl == std::string_view::npos) return 0;
        label = std::string(in.substr(0, nl));
        in.remove_prefix(nl + 1);
    }
    const std::string a = yubin::charset::to_utf8(in, label);
    const std::string b = yubin::charset::detect_to_utf8(in);
    const std::string n = yubin::charset::normalize(a);
    if (!yubin::charset::is_valid_utf8(a) || !yubin::charset::is_valid_utf8(b) ||
        !yubin::charset::is_valid_utf8(n)) {
        std::abort();
    }
    return 0;
}
