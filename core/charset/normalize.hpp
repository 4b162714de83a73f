// The form every filter rule matches against: Unicode NFKC with all white
// space, control and invisible characters removed.
//
// NFKC folds the width and compatibility variants spammers use to dodge a
// plain match (half-width ｶﾀｶﾅ, full-width ＡＢＣ, ①, ㈱ → (株), CJK
// compatibility ideographs, Kangxi radicals); removing white space and
// invisibles (U+3000, NBSP, thin spaces, zero-width characters, variation
// selectors, soft hyphen, bidi controls, every Default_Ignorable_Code_Point
// and format character) defeats 未 承 諾 and 未\u200B承諾. Invisibles are
// removed before NFKC as well, so one between a kana and its half-width
// voicing mark cannot block the composition.
//
// SECURITY: input is decoded message text of any length; linear time, the
// output is at most a small constant times the input (NFKC expansion).
#pragma once

#include <string>
#include <string_view>

namespace yubin::charset {

// `utf8` need not be valid: invalid sequences become U+FFFD first.
[[nodiscard]] std::string normalize(std::string_view utf8);

// True for the code points normalize() removes.
[[nodiscard]] bool is_removed(char32_t cp);

namespace detail {
// The same answer asked of ICU's character properties one by one, which
// is_removed() and normalize() use only when ICU cannot build the set they
// cache; the unit tests check that both agree on every code point.
[[nodiscard]] bool is_removed_by_properties(char32_t cp);
}  // namespace detail

}  // namespace yubin::charset
