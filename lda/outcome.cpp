#include "lda/outcome.hpp"

#include <fmt/format.h>

#include "core/util/strings.hpp"

namespace yubin::lda {
namespace {

constexpr int kExOk = 0;
constexpr int kExDataErr = 65;
constexpr int kExNoUser = 67;
constexpr int kExUnavailable = 69;
constexpr int kExTempFail = 75;
constexpr int kExNoPerm = 77;

bool well_formed(std::string_view dsn) {
    // class "." subject "." detail, digits, class 2, 4 or 5.
    if (dsn.size() < 5 || (dsn[0] != '2' && dsn[0] != '4' && dsn[0] != '5') || dsn[1] != '.')
        return false;
    int dots = 0;
    for (std::size_t i = 2; i < dsn.size(); ++i) {
        if (dsn[i] == '.') {
            if (dsn[i - 1] == '.') return false;
            ++dots;
        } else if (dsn[i] < '0' || dsn[i] > '9') {
            return false;
        }
    }
    return dots == 1 && dsn.back() != '.';
}

}  // namespace

Outcome delivered(std::string folder, std::string path) {
    Outcome o;
    o.dsn = "2.0.0";
    o.text = "delivered to " + folder;
    o.folder = std::move(folder);
    o.path = std::move(path);
    return o;
}

Outcome temp_failure(std::string dsn, std::string text) {
    Outcome o;
    o.dsn = std::move(dsn);
    o.text = std::move(text);
    return o;
}

Outcome perm_failure(std::string dsn, std::string text) {
    return temp_failure(std::move(dsn), std::move(text));
}

Outcome from_error(const Error& e) {
    switch (e.kind) {
        case ErrorKind::Perm:
        case ErrorKind::BadInput:
            return perm_failure("5.3.0", e.what);
        default:
            return temp_failure("4.3.0", e.what);
    }
}

int exit_status(const Outcome& o) {
    if (!well_formed(o.dsn)) return kExTempFail;
    std::string_view d = o.dsn;
    if (d[0] == '2') return kExOk;
    if (d[0] == '4') return kExTempFail;
    if (d == "5.1.1") return kExNoUser;
    if (d == "5.2.2" || d.starts_with("5.7.")) return kExNoPerm;
    if (d.starts_with("5.6.") || d == "5.3.4") return kExDataErr;
    return kExUnavailable;
}

std::string lmtp_reply(const Outcome& o) {
    std::string_view d = o.dsn;
    if (!well_formed(d)) return "451 4.3.0 internal error";
    int code = 451;
    if (d[0] == '2') {
        code = 250;
    } else if (d[0] == '4') {
        code = d == "4.2.2" ? 452 : 451;
    } else if (d == "5.1.1" || d.starts_with("5.7.") || d == "5.4.6") {
        code = 550;
    } else if (d == "5.2.2" || d == "5.3.4") {
        code = 552;
    } else {
        code = 554;
    }
    return fmt::format("{} {} {}", code, o.dsn, sanitize_for_log(o.text, 400));
}

}  // namespace yubin::lda
