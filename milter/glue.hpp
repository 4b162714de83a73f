// The libmilter side of yubin-milter: registration, the callbacks, and the
// run loop with signal handling.
#pragma once

#include <libmilter/mfapi.h>

#include <cstdio>
#include <exception>
#include <string>

#include "core/config/config.hpp"
#include "core/util/result.hpp"
#include "milter/server.hpp"

namespace yubin::milter {

// "unix:/path" -> "unix:/path", "inet:host:port" -> "inet:port@host",
// "inet:[v6]:port" -> "inet6:port@v6": libmilter's own notation.
[[nodiscard]] Result<std::string> libmilter_address(const config::ListenAddress& a);

// What yubin-milter asks for in the negotiation, given what the MTA offers:
// the actions it may take (header changes, quarantine, choosing the macros
// it is sent) and the protocol steps: every stage it does not use skipped
// (SMFIP_NO*), every stage whose answer is always "continue" sent without
// waiting for a reply (SMFIP_NR_*), the body only when `want_body`.
struct Negotiated {
    unsigned long actions = 0;
    unsigned long steps = 0;
};
[[nodiscard]] Negotiated negotiate(unsigned long offered_actions, unsigned long offered_steps,
                                   bool want_body);

// The one place where an exception (or anything thrown) inside a libmilter
// callback becomes an answer: `body` runs; if it throws, `on_error` gets the
// reason and the callback answers SMFIS_TEMPFAIL, or SMFIS_NOREPLY in a
// stage negotiated to get no reply (on_error then marks the message to fail
// at end of message). Nothing escapes, not even from on_error.
template <class Body, class OnError>
sfsistat guarded(bool no_reply, Body&& body, OnError&& on_error) noexcept {
    // The reason is copied while the exception is alive (e.what() points
    // into it), into a buffer, since copying into a string could throw.
    char what[256] = "unknown exception";
    try {
        return body();
    } catch (const std::exception& e) {
        std::snprintf(what, sizeof what, "%s", e.what());
    } catch (...) {
    }
    try {
        on_error(static_cast<const char*>(what));
    } catch (...) {
    }
    return no_reply ? SMFIS_NOREPLY : SMFIS_TEMPFAIL;
}

struct RunOptions {
    config::ListenAddress listen;
    std::string socket_group;  // unix socket: chgrp + mode 0660; empty: mode 0666
    std::string user;          // drop privileges to this user after binding
    std::string config_path;   // re-read on SIGHUP
};

// Binds, drops privileges, serves until SIGTERM/SIGINT. SIGHUP reloads the
// configuration and rules into `server` (kept as they were if the new file
// has an error). Returns the exit status for main().
[[nodiscard]] int run(Server& server, const RunOptions& opts);

}  // namespace yubin::milter
