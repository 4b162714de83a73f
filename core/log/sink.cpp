#include "core/log/sink.hpp"

#include <syslog.h>

#include <cerrno>
#include <string>

namespace yubin::log {

std::string_view to_string(Level level) {
    switch (level) {
        case Level::Debug: return "debug";
        case Level::Info: return "info";
        case Level::Warning: return "warning";
        case Level::Error: return "error";
        case Level::Fatal: return "fatal";
    }
    return "info";
}

namespace {

int syslog_priority(Level level) {
    switch (level) {
        case Level::Debug: return LOG_DEBUG;
        case Level::Info: return LOG_INFO;
        case Level::Warning: return LOG_WARNING;
        case Level::Error: return LOG_ERR;
        case Level::Fatal: return LOG_CRIT;
    }
    return LOG_INFO;
}

}  // namespace

SyslogSink::SyslogSink(std::string ident, int facility) : ident_(std::move(ident)) {
    // LOG_NDELAY opens the socket now, before a daemon chroots or drops
    // privileges, so logging keeps working afterwards.
    ::openlog(ident_.c_str(), LOG_PID | LOG_NDELAY, facility);
}

SyslogSink::~SyslogSink() { ::closelog(); }

void SyslogSink::write(Level level, std::string_view line) {
    // "%.*s": the line is never used as a format, and need not be NUL-terminated.
    ::syslog(syslog_priority(level), "%.*s", static_cast<int>(line.size()), line.data());
}

StderrSink::StderrSink(std::string ident, int fd) : ident_(std::move(ident)), fd_(fd) {}

void StderrSink::write(Level, std::string_view line) {
    // getpid() per line, not cached: the value must stay right after a fork.
    std::string out;
    out.reserve(ident_.size() + line.size() + 16);
    out += ident_;
    out += '[';
    out += std::to_string(::getpid());
    out += "]: ";
    out += line;
    out += '\n';
    std::string_view rest = out;
    while (!rest.empty()) {
        const ssize_t n = ::write(fd_, rest.data(), rest.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return;  // nowhere left to report a logging failure
        }
        rest.remove_prefix(static_cast<std::size_t>(n));
    }
}

void MemorySink::write(Level level, std::string_view line) {
    std::lock_guard lock(mu_);
    lines.emplace_back(level, std::string(line));
}

std::vector<std::pair<Level, std::string>> MemorySink::snapshot() const {
    std::lock_guard lock(mu_);
    return lines;
}

void MemorySink::clear() {
    std::lock_guard lock(mu_);
    lines.clear();
}

int facility_from_name(std::string_view name) {
    struct Entry {
        std::string_view name;
        int facility;
    };
    static constexpr Entry kFacilities[] = {
        {"mail", LOG_MAIL},     {"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1},
        {"local2", LOG_LOCAL2}, {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4},
        {"local5", LOG_LOCAL5}, {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
    };
    for (const auto& e : kFacilities)
        if (e.name == name) return e.facility;
    return -1;
}

}  // namespace yubin::log
