// The result of one delivery attempt and the one place where it becomes what
// each interface answers: an exit status for Postfix's pipe(8) and local(8),
// an LMTP reply line. Anything not known to be permanent is temporary.
#pragma once

#include <string>
#include <string_view>

#include "core/util/result.hpp"

namespace yubin::lda {

struct Outcome {
    std::string dsn = "4.3.0";  // RFC 3463 status: 2.x.x done, 4.x.x retry, 5.x.x bounce
    std::string text;           // for the sender (bounce text) and the log
    std::string folder;         // where it went ("INBOX", "Junk", ...), when delivered
    std::string path;           // the file in new/, when delivered
    bool discarded = false;     // dropped on a rule's explicit "discard"

    [[nodiscard]] bool ok() const { return !dsn.empty() && dsn[0] == '2'; }
    [[nodiscard]] bool temporary() const { return dsn.empty() || (dsn[0] != '2' && dsn[0] != '5'); }
};

[[nodiscard]] Outcome delivered(std::string folder, std::string path);
[[nodiscard]] Outcome temp_failure(std::string dsn, std::string text);
[[nodiscard]] Outcome perm_failure(std::string dsn, std::string text);
// An Error as an Outcome: NotFound -> 5.1.1 only when the caller says it is
// about the user; Perm/BadInput -> 5.3.0; everything else 4.3.0.
[[nodiscard]] Outcome from_error(const Error& e);

// sysexits(3) for Postfix: 0 for 2.x.x; 75 (EX_TEMPFAIL) for 4.x.x and
// anything malformed; for 5.x.x: 67 for 5.1.1 (user unknown), 77 for 5.2.2
// and 5.7.x, 65 for 5.6.x and 5.3.4, 69 otherwise.
[[nodiscard]] int exit_status(const Outcome& o);

// "250 2.0.0 text", "452 4.2.2 text", "550 5.1.1 text", ... for LMTP.
[[nodiscard]] std::string lmtp_reply(const Outcome& o);

}  // namespace yubin::lda
