// Time as policyd sees it: Unix milliseconds, injected so that every policy
// with a window (rate limits, greylisting) is tested without sleeping. Wall
// time, not steady time, because counters in Redis are shared by several
// hosts, which must agree on the window boundaries.
#pragma once

#include <chrono>
#include <cstdint>

namespace yubin::policyd {

class Clock {
public:
    virtual ~Clock() = default;
    [[nodiscard]] virtual std::int64_t now_ms() const = 0;
};

class SystemClock final : public Clock {
public:
    [[nodiscard]] std::int64_t now_ms() const override {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    }
};

// For tests: time moves only when told.
class ManualClock final : public Clock {
public:
    explicit ManualClock(std::int64_t start_ms = 1'700'000'000'000) : now_(start_ms) {}
    [[nodiscard]] std::int64_t now_ms() const override { return now_; }
    void advance_ms(std::int64_t ms) { now_ += ms; }
    void advance_s(std::int64_t s) { now_ += s * 1000; }

private:
    std::int64_t now_;
};

}  // namespace yubin::policyd
