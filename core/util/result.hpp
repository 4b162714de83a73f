// Result<T> and Error: how every fallible yubin function reports failure.
//
// The kind decides what each interface answers (see STYLE.md, "Errors"):
// Temp and Internal become temporary failures (4xx, TEMP, exit 75), Perm and
// BadInput permanent ones, NotFound "no such thing", Config a startup error.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include <tl/expected.hpp>

namespace yubin {

enum class ErrorKind {
    Temp,      // transient: retry later (database locked, disk full, timeout)
    Perm,      // permanent: retrying cannot help (duplicate, forbidden)
    NotFound,  // the looked-up thing does not exist
    BadInput,  // the request or data is malformed
    Config,    // the configuration is wrong
    Internal,  // a bug or an unexpected system error: treated as temporary
};

struct Error {
    ErrorKind kind = ErrorKind::Internal;
    std::string what;
};

template <class T>
using Result = tl::expected<T, Error>;
using Status = Result<void>;

[[nodiscard]] inline tl::unexpected<Error> fail(ErrorKind kind, std::string what) {
    return tl::unexpected<Error>(Error{kind, std::move(what)});
}

[[nodiscard]] inline tl::unexpected<Error> fail(Error e) {
    return tl::unexpected<Error>(std::move(e));
}

// Temp and Internal are the kinds that must become a temporary failure.
[[nodiscard]] constexpr bool is_temporary(ErrorKind k) {
    return k == ErrorKind::Temp || k == ErrorKind::Internal;
}

[[nodiscard]] constexpr std::string_view to_string(ErrorKind k) {
    switch (k) {
        case ErrorKind::Temp: return "temporary failure";
        case ErrorKind::Perm: return "permanent failure";
        case ErrorKind::NotFound: return "not found";
        case ErrorKind::BadInput: return "bad input";
        case ErrorKind::Config: return "configuration error";
        case ErrorKind::Internal: return "internal error";
    }
    return "internal error";
}

// An Error from errno, Temp for the errnos that are worth retrying.
[[nodiscard]] Error errno_error(std::string_view what, int err);

}  // namespace yubin
