// MIME header parameters (RFC 2045 5.1) with RFC 2231 continuations,
// charsets and percent-encoding, as in Content-Type and Content-Disposition:
//
//     boundary*0="abc"; boundary*1=def          -> boundary = "abcdef"
//     filename*=UTF-8''%E6%9C%AA%E6%89%BF.txt   -> filename = "未承.txt"
//     filename*0*=iso-2022-jp''%1B%24B; filename*1*=L%24%1B%28B
//
// Lenient as mail readers are: sections are joined in ascending order of
// their number whatever order they come in and even with gaps (as Python's
// email package does); a malformed %-escape is kept literally; an extended
// value without the charset'language' prefix is taken as percent-encoded
// text with no charset. When a parameter comes both plain and in RFC 2231
// form, the RFC 2231 form wins (it is what the sender's software meant to
// say; the plain one is its fallback for old readers). Otherwise the first
// occurrence wins.
//
// SECURITY: input is a header field value from the message. One linear pass
// to split, then work on at most max_parameters pieces; section numbers past
// kMaxParameterSection are ignored, so a section number cannot make us
// allocate or sort beyond the pieces we were given. Values are never longer
// than the input.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace yubin::mime {

inline constexpr std::size_t kMaxParameters = 100;         // pieces looked at
inline constexpr std::size_t kMaxParameterSection = 999;   // name*999 at most

struct Parameter {
    std::string name;     // lower case, without the RFC 2231 "*N" and "*" marks
    std::string value;    // sections joined; extended ones percent-decoded (bytes)
    std::string charset;  // from an extended value's charset'language' prefix
    bool extended = false;  // some section was in RFC 2231 extended form
};

// The parameters of a header value: everything after its first ';' (the
// type or disposition before it is not a parameter).
[[nodiscard]] std::vector<Parameter> parse_parameters(std::string_view header_value,
                                                      std::size_t max_parameters = kMaxParameters);

// The parameter of this name (lower case), or nullptr.
[[nodiscard]] const Parameter* find_parameter(const std::vector<Parameter>& params,
                                              std::string_view name);

// A parameter's value as text, valid UTF-8: an extended value decoded from
// its charset; a plain one RFC 2047-decoded (many mailers put
// "=?UTF-8?B?...?=" in quoted filenames) with raw 8-bit bytes detected.
[[nodiscard]] std::string parameter_text(const Parameter& p);

// The part of a header value before its first ';' outside quotes, trimmed:
// "text/plain" of "text/plain; charset=utf-8".
[[nodiscard]] std::string_view value_before_parameters(std::string_view header_value);

}  // namespace yubin::mime
