// Counters: the state policyd keeps between requests (rate-limit windows,
// greylist triplets), behind one interface with two backends of identical
// semantics: in memory (one host, the default) and Redis (several MX or
// submission hosts sharing their limits). The policy code and its test suite
// see only this interface; the suite runs against both backends.
//
// Rate windows are sliding-window estimates over two fixed windows: a counter
// with window W keeps the totals of the current fixed window [nW, (n+1)W) and
// of the previous one; its use "over the last W" is
//     previous * (1 - (now - nW) / W) + current,
// which smooths the doubled burst a plain fixed window allows at its border
// and needs two numbers per counter, which expire by themselves after 2W.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/util/result.hpp"

namespace yubin::policyd {

struct CounterLimit {
    std::string key;         // names the counter and its window, e.g. "r:sasl:taro@x:m:3600"
    std::int64_t window_ms;  // > 0
    std::int64_t max;        // the limit over one window
    std::int64_t amount;     // what this request adds (>= 0)
};

struct CheckResult {
    bool over = false;
    std::size_t index = 0;     // the first limit that is over (when over)
    std::int64_t current = 0;  // its estimated use before this request
};

struct GreylistResult {
    enum class Verdict { Pass, Defer };
    Verdict verdict = Verdict::Pass;
    std::int64_t wait_s = 0;  // Defer: seconds until a retry passes
    bool retried = false;     // Pass: this request is the retry that passed (first time)
};

struct GreylistTimes {
    std::int64_t delay_ms;         // a retry passes after this long
    std::int64_t retry_window_ms;  // ...and before this long after the first attempt
    std::int64_t max_age_ms;       // a passed triplet is remembered this long after last use
};

class Counters {
public:
    virtual ~Counters() = default;

    // Atomically: if for some limit estimate + amount > max, answer over
    // (the first such limit) and change nothing; otherwise, when `add`, add
    // every amount to its counter. Temp when the state cannot be reached.
    [[nodiscard]] virtual Result<CheckResult> check_and_add(std::span<const CounterLimit> limits,
                                                            std::int64_t now_ms, bool add) = 0;

    // A hint that check_and_add(limits, now_ms, false) calls with these
    // limits follow soon (a batch of requests that arrived together): a
    // backend may read them all at once and answer those checks from what it
    // read, until the next prefetch(). Changes no answer's meaning beyond
    // reading the counters a little earlier; no-op by default.
    virtual void prefetch(std::span<const CounterLimit> limits, std::int64_t now_ms) {
        (void)limits;
        (void)now_ms;
    }
    // Whether prefetch() does anything (else callers need not build its list).
    [[nodiscard]] virtual bool prefetches() const { return false; }

    // A backend may answer a check_and_add(..., add = true) from what
    // prefetch() read (plus the adds queued since, so later checks see
    // them) and queue its adds instead of waiting for them; flush() sends
    // what is queued (one round trip for a whole batch) and waits for it.
    // Called after the batch's replies went out. Temp when the adds could not
    // be made (they are then lost: the state store is down). No-op by default.
    [[nodiscard]] virtual Status flush() { return {}; }

    // Greylisting of one triplet key: unknown -> recorded, Defer for delay;
    // seen before but too early -> Defer; within the retry window (or already
    // passed and used within max_age) -> Pass and remembered for max_age; a
    // first attempt older than the retry window starts over.
    [[nodiscard]] virtual Result<GreylistResult> greylist(std::string_view key, std::int64_t now_ms,
                                                          const GreylistTimes& times) = 0;
};

// In-memory backend. Holds at most max_keys counters; expired ones are swept
// when the table fills, and a table still full after sweeping is a Temp
// error (policyd_state_failure_action applies) rather than unbounded growth.
// Thread-safe.
[[nodiscard]] std::unique_ptr<Counters> make_memory_counters(std::size_t max_keys);

// The sliding-window estimate (see the file comment), shared by backends.
[[nodiscard]] std::int64_t window_estimate(std::int64_t previous, std::int64_t current,
                                           std::int64_t window_ms, std::int64_t now_ms);

}  // namespace yubin::policyd

namespace yubin::policyd {

// Redis backend: "HOST:PORT", "[IPv6]:PORT" or "unix:PATH". Every update is
// one Lua script (EVALSHA), so check-and-add is atomic across hosts; a check
// that adds nothing is one MGET (the estimate computed here); keys
// carry their window number and expire by themselves after two windows
// (greylist entries after their retry window or max age). Decisions use the
// injected time, never Redis's clock, so the two backends answer alike.
// Each command waits at most timeout_ms; a failure is Temp, and the next call
// reconnects (at most once per second). Config error for a malformed spec.
[[nodiscard]] Result<std::unique_ptr<Counters>> make_redis_counters(std::string_view spec,
                                                                    std::int64_t timeout_ms);

}  // namespace yubin::policyd
