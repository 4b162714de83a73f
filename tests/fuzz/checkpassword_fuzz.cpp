// libFuzzer target: yubin-checkpassword's fd-3 request ("user\0password\0
// timestamp\0", as Dovecot writes it). The input is what read_request hands
// over: at most kMaxRequestBytes + 1 bytes. Built by scripts/fuzz.
//
// Checked: a request longer than the bound is refused; an accepted one has a
// non-empty user within limits::kMaxAddressBytes holding no NUL, and user and
// password are exactly the bytes before the first and second NUL.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/util/limits.hpp"
#include "dovecot-auth/checkpassword/checkpassword.hpp"

using namespace yubin;

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    auto r = checkpassword::parse_request(std::string(in));
    const auto nul1 = in.find('\0');
    const auto nul2 = nul1 == std::string_view::npos ? nul1 : in.find('\0', nul1 + 1);
    const bool want = size <= checkpassword::kMaxRequestBytes && nul2 != std::string_view::npos &&
                      nul1 > 0 && nul1 <= limits::kMaxAddressBytes;
    check(r.has_value() == want);
    if (!r) {
        check(r.error().kind == ErrorKind::BadInput && !r.error().what.empty());
        return 0;
    }
    check(r->user == in.substr(0, nul1));
    check(r->password.view() == in.substr(nul1 + 1, nul2 - nul1 - 1));
    return 0;
}
