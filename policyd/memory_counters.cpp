#include <algorithm>
#include <mutex>
#include <unordered_map>

#include "policyd/counters.hpp"

namespace yubin::policyd {

std::int64_t window_estimate(std::int64_t previous, std::int64_t current, std::int64_t window_ms,
                             std::int64_t now_ms) {
    std::int64_t elapsed = now_ms - (now_ms / window_ms) * window_ms;
    // long double: previous may be a byte count near 2^40 and window_ms 2^30.
    long double weight = static_cast<long double>(window_ms - elapsed) / window_ms;
    return static_cast<std::int64_t>(static_cast<long double>(previous) * weight) + current;
}

namespace {

struct Window {
    std::int64_t bucket = 0;  // now_ms / window_ms of `current`
    std::int64_t current = 0;
    std::int64_t previous = 0;
    std::int64_t window_ms = 1;

    void roll(std::int64_t now_bucket) {
        if (bucket == now_bucket) return;
        previous = (bucket == now_bucket - 1) ? current : 0;
        current = 0;
        bucket = now_bucket;
    }
};

struct Grey {
    std::int64_t first_ms = 0;
    std::int64_t last_ms = 0;
    bool passed = false;
    std::int64_t expires_ms = 0;
};

class MemoryCounters final : public Counters {
public:
    explicit MemoryCounters(std::size_t max_keys) : max_keys_(max_keys) {}

    Result<CheckResult> check_and_add(std::span<const CounterLimit> limits, std::int64_t now_ms,
                                      bool add) override {
        std::lock_guard lock(mu_);
        CheckResult r;
        for (std::size_t i = 0; i < limits.size(); ++i) {
            const auto& l = limits[i];
            auto it = windows_.find(l.key);
            if (it == windows_.end()) {
                if (l.amount > l.max) return CheckResult{true, i, 0};
                continue;
            }
            Window w = it->second;
            w.roll(now_ms / l.window_ms);
            std::int64_t est = window_estimate(w.previous, w.current, l.window_ms, now_ms);
            if (est + l.amount > l.max) return CheckResult{true, i, est};
        }
        if (!add) return r;
        for (const auto& l : limits) {
            auto it = windows_.find(l.key);
            if (it == windows_.end()) {
                if (l.amount == 0) continue;
                if (!make_room(now_ms)) return fail(ErrorKind::Temp, "memory counter table full");
                it = windows_.emplace(l.key, Window{now_ms / l.window_ms, 0, 0, l.window_ms}).first;
            }
            it->second.window_ms = l.window_ms;
            it->second.roll(now_ms / l.window_ms);
            it->second.current += l.amount;
        }
        return r;
    }

    Result<GreylistResult> greylist(std::string_view key, std::int64_t now_ms,
                                    const GreylistTimes& t) override {
        std::lock_guard lock(mu_);
        auto it = grey_.find(std::string(key));
        if (it != grey_.end() && it->second.expires_ms <= now_ms) {
            grey_.erase(it);
            it = grey_.end();
        }
        if (it == grey_.end()) {
            if (!make_room(now_ms)) return fail(ErrorKind::Temp, "memory counter table full");
            grey_.emplace(std::string(key),
                          Grey{now_ms, now_ms, false, now_ms + t.retry_window_ms});
            return GreylistResult{GreylistResult::Verdict::Defer, ceil_s(t.delay_ms), false};
        }
        Grey& g = it->second;
        if (g.passed) {
            g.last_ms = now_ms;
            g.expires_ms = now_ms + t.max_age_ms;
            return GreylistResult{};
        }
        std::int64_t age = now_ms - g.first_ms;
        if (age < t.delay_ms)
            return GreylistResult{GreylistResult::Verdict::Defer, ceil_s(t.delay_ms - age), false};
        g.passed = true;
        g.last_ms = now_ms;
        g.expires_ms = now_ms + t.max_age_ms;
        return GreylistResult{GreylistResult::Verdict::Pass, 0, true};
    }

private:
    static std::int64_t ceil_s(std::int64_t ms) { return (ms + 999) / 1000; }

    std::size_t size() const { return windows_.size() + grey_.size(); }

    // True if one more key fits, after sweeping expired ones when full.
    bool make_room(std::int64_t now_ms) {
        if (size() < max_keys_) return true;
        std::erase_if(windows_, [now_ms](const auto& kv) {
            return kv.second.bucket < now_ms / kv.second.window_ms - 1;
        });
        std::erase_if(grey_, [now_ms](const auto& kv) { return kv.second.expires_ms <= now_ms; });
        return size() < max_keys_;
    }

    std::mutex mu_;
    std::size_t max_keys_;
    std::unordered_map<std::string, Window> windows_;
    std::unordered_map<std::string, Grey> grey_;
};

}  // namespace

std::unique_ptr<Counters> make_memory_counters(std::size_t max_keys) {
    return std::make_unique<MemoryCounters>(max_keys);
}

}  // namespace yubin::policyd
