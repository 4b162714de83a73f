// libFuzzer target: the MIME walker, RFC 2231 parameters and the whole
// classification with a body rule, on arbitrary messages.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/charset/utf8.hpp"
#include "core/mime/params.hpp"
#include "core/mime/walker.hpp"
#include "core/rules/classify.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const yubin::rules::RuleSet kRules = [] {
        auto r = yubin::rules::RuleSet::parse(
            "rule s\ntarget=subject\nliteral=未承諾広告\naction=reject\n"
            "rule b\ntarget=body\nregex=(?i)f(r|4)ee+\nscore=3\n",
            "fuzz.rules");
        if (!r) std::abort();
        return std::move(*r);
    }();
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    const auto w = yubin::mime::text_parts(in);
    for (const auto& p : w.parts) {
        if (!yubin::charset::is_valid_utf8(p.text)) std::abort();
    }
    for (const auto& p : yubin::mime::parse_parameters(in.substr(0, 4096))) {
        if (!yubin::charset::is_valid_utf8(yubin::mime::parameter_text(p))) std::abort();
    }
    (void)yubin::rules::classify(kRules, in);
    for (const auto& s : yubin::rules::subjects(in)) {
        if (!yubin::charset::is_valid_utf8(s.normalized)) std::abort();
    }
    return 0;
}
