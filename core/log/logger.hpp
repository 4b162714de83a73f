// Logger: Postfix-shaped log lines.
//
// Postfix's convention, which mail administrators grep for: informational
// lines have no prefix ("4F9D18340B: reject: RCPT from ..."), the others start
// with "warning: ", "error: " or "fatal: ". Lines about one message start with
// its queue id (queue_prefix()), "NOQUEUE: " before Postfix assigned one.
//
//     log::SyslogSink sink("yubin-milter", LOG_MAIL);
//     log::Logger log(sink, opts.verbose);
//     log.info("{}reject: RCPT from {}: {}", log::queue_prefix(qid), client, reply);
//
// SECURITY: arguments routinely carry peer text (HELO names, addresses,
// Subject headers). Every finished line goes through sanitize_line() before it
// reaches a sink, so a peer cannot forge a second log line with CR/LF, hide
// text with NUL or escape sequences, or flood syslog with one huge line:
// control bytes (C0, DEL, and the C1 range U+0080..U+009F) and bytes that are
// not well-formed UTF-8 become '?', and the line is cut at kMaxLineBytes. Well-
// formed UTF-8 is kept so that Japanese subjects stay greppable in mail.log.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "core/log/sink.hpp"

namespace yubin::log {

// The longest line handed to a sink, "..." included. syslog daemons commonly
// cut near 2048 bytes (RFC 5424 implementations must accept 480, should 2048);
// staying below keeps the truncation visible as "..." instead of silent.
inline constexpr std::size_t kMaxLineBytes = 2000;

// `s` with unsafe bytes replaced by '?' (see SECURITY above) and, when longer
// than `max` bytes (max >= 3), cut on a character boundary to at most
// max - 3 bytes followed by "...". The result is never longer than `max`.
[[nodiscard]] std::string sanitize_line(std::string_view s, std::size_t max = kMaxLineBytes);

// "4F9D18340B: ", or "NOQUEUE: " when the queue id is not known yet.
[[nodiscard]] std::string queue_prefix(std::string_view queue_id);

class Logger {
public:
    explicit Logger(Sink& sink, bool verbose = false) : sink_(sink), verbose_(verbose) {}

    // Only when verbose; the arguments are not even formatted otherwise.
    template <class... A>
    void debug(fmt::format_string<A...> f, A&&... args) {
        if (verbose_) write(Level::Debug, fmt::format(f, std::forward<A>(args)...));
    }
    template <class... A>
    void info(fmt::format_string<A...> f, A&&... args) {
        write(Level::Info, fmt::format(f, std::forward<A>(args)...));
    }
    template <class... A>
    void warning(fmt::format_string<A...> f, A&&... args) {
        write(Level::Warning, fmt::format(f, std::forward<A>(args)...));
    }
    template <class... A>
    void error(fmt::format_string<A...> f, A&&... args) {
        write(Level::Error, fmt::format(f, std::forward<A>(args)...));
    }
    // Logs only: deciding to exit (and with which status) is the caller's job.
    template <class... A>
    void fatal(fmt::format_string<A...> f, A&&... args) {
        write(Level::Fatal, fmt::format(f, std::forward<A>(args)...));
    }

    // Adds the level's prefix, sanitises and hands the line to the sink.
    // Debug lines are dropped unless verbose.
    void write(Level level, std::string_view message);

    [[nodiscard]] bool verbose() const { return verbose_; }

private:
    Sink& sink_;
    bool verbose_;
};

}  // namespace yubin::log
