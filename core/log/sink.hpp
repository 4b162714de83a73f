// Where log lines go. A Sink receives one finished, already sanitised line
// (see logger.hpp) and its level; it adds only what its medium needs (syslog
// adds ident, pid and priority itself, stderr gets "ident[pid]: ").
//
// There is no global logger: main() builds one sink and one Logger and passes
// the Logger by reference, so tests inject a MemorySink instead.
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <unistd.h>

namespace yubin::log {

enum class Level { Debug, Info, Warning, Error, Fatal };

[[nodiscard]] std::string_view to_string(Level level);

class Sink {
public:
    virtual ~Sink() = default;
    // Must be safe to call from several threads at once.
    virtual void write(Level level, std::string_view line) = 0;
};

// syslog(3) with the given ident and facility (LOG_MAIL for every daemon by
// default, as Postfix). openlog() state is per process, so only one SyslogSink
// should exist at a time; the ident string is owned here because openlog keeps
// the pointer. Fatal maps to LOG_CRIT as in Postfix's msg_fatal.
class SyslogSink final : public Sink {
public:
    SyslogSink(std::string ident, int facility);
    ~SyslogSink() override;
    SyslogSink(const SyslogSink&) = delete;
    SyslogSink& operator=(const SyslogSink&) = delete;
    void write(Level level, std::string_view line) override;

private:
    std::string ident_;
};

// "ident[pid]: line\n" on a file descriptor (stderr unless told), for -f and
// for programs run by hand. One write(2) per line so that lines from several
// threads or processes do not interleave (a pipe keeps writes up to PIPE_BUF
// whole, and a line is at most kMaxLineBytes plus the ident).
class StderrSink final : public Sink {
public:
    explicit StderrSink(std::string ident, int fd = STDERR_FILENO);
    void write(Level level, std::string_view line) override;

private:
    std::string ident_;
    int fd_;
};

// Keeps every line in memory, for tests. write() is thread-safe; read `lines`
// directly only when no writer is running, otherwise use snapshot().
class MemorySink final : public Sink {
public:
    void write(Level level, std::string_view line) override;
    [[nodiscard]] std::vector<std::pair<Level, std::string>> snapshot() const;
    void clear();

    std::vector<std::pair<Level, std::string>> lines;

private:
    mutable std::mutex mu_;
};

// Postfix's syslog_facility names: "mail", "local0" .. "local7". -1 if unknown.
[[nodiscard]] int facility_from_name(std::string_view name);

}  // namespace yubin::log
