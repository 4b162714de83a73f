// Group commit for the fsync of a Maildir's new/ among the threads of one
// process (the LMTP daemon, a thread per connection).
//
// A caller whose rename into new/ has completed needs an fsync of new/ that
// started after that rename; one that another thread started later serves
// it as well. So per directory (device and inode) at most one fsync runs;
// callers arriving while it runs wait for it to end and then share the
// next one, which the first of them starts. An fsync failure is reported to
// every caller it was meant to cover, and to those of any later fsync
// (after a failed fsync the kernel may report success for lost changes).
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "core/util/result.hpp"

namespace yubin::maildir {

class DirSync {
public:
    using FsyncFn = int (*)(int);

    // fsync(fd) or an equivalent one by another thread, as above. `shown`
    // names the directory in the error.
    [[nodiscard]] Status sync(int fd, const std::string& shown, FsyncFn fsync);

    // fsync(2) calls made, for tests and the benchmark.
    [[nodiscard]] std::uint64_t calls() const;

private:
    struct Dir {
        std::condition_variable cv;
        std::uint64_t started = 0;  // fsyncs started (their numbers are 1, 2, ...)
        std::uint64_t done = 0;     // the number of the last one finished
        bool running = false;
        std::uint64_t failed = 0;  // the number of the last one that failed, 0 = none
        int failed_errno = 0;
        int users = 0;  // callers inside sync(): the entry is dropped at 0
    };

    mutable std::mutex mu_;  // one lock for all: held only to count, never across fsync
    std::map<std::pair<dev_t, ino_t>, std::unique_ptr<Dir>> dirs_;
    std::uint64_t calls_ = 0;
};

}  // namespace yubin::maildir
