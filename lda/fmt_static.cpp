// fmt's one out-of-line function the libraries call (fmt::vformat), compiled
// into yubin-lda from fmt's headers, so that the program does not need
// libfmt.so and, through it, libstdc++.so and libgcc_s.so at start-up.
#define FMT_HEADER_ONLY
#include <fmt/format.h>

namespace {
// Taking the address makes the compiler emit the inline definition (a weak
// symbol, the same name the libraries refer to).
[[gnu::used]] std::string (*const kVformat)(fmt::string_view, fmt::format_args) = &fmt::vformat;
}  // namespace
