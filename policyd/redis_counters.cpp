// SECURITY: replies come from the Redis server named in yubin.cf (trusted
// configuration, but possibly reachable by others on the network): every
// reply's type and element count is checked before use; anything unexpected
// is a Temp error, never a pass or a crash. Keys carry peer text (addresses)
// and are sent as binary-safe arguments (redisCommandArgv), never formatted
// into a command string.
#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <charconv>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/util/strings.hpp"
#include "policyd/counters.hpp"

namespace yubin::policyd {
namespace {

// ARGV[1] = add (0/1); then per limit 4 values: window_ms, max, amount,
// elapsed_ms in the current window. KEYS: per limit current, previous.
// Returns {index (1-based) of the first limit over, its estimate} or {0, 0}.
constexpr std::string_view kRateScript = R"lua(
local add = tonumber(ARGV[1])
local n = #KEYS / 2
for i = 1, n do
  local b = 1 + (i - 1) * 4
  local window, max, amount, elapsed =
    tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2]), tonumber(ARGV[b + 3]), tonumber(ARGV[b + 4])
  local cur = tonumber(redis.call('GET', KEYS[2 * i - 1]) or '0')
  local prev = tonumber(redis.call('GET', KEYS[2 * i]) or '0')
  local est = math.floor(prev * (window - elapsed) / window) + cur
  if est + amount > max then return {i, est} end
end
if add == 1 then
  for i = 1, n do
    local b = 1 + (i - 1) * 4
    local amount = tonumber(ARGV[b + 3])
    if amount > 0 then
      redis.call('INCRBY', KEYS[2 * i - 1], amount)
      redis.call('PEXPIRE', KEYS[2 * i - 1], 2 * tonumber(ARGV[b + 1]))
    end
  end
end
return {0, 0}
)lua";

// KEYS[1] triplet; ARGV now, delay, retry_window, max_age (ms).
// Returns {0, 0} pass, {2, 0} pass of the first successful retry, or
// {1, wait_ms} defer. "exp" holds the expiry in the
// caller's time; PEXPIRE only cleans up (with the same length of time).
constexpr std::string_view kGreyScript = R"lua(
local now, delay, retry, maxage =
  tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local v = redis.call('HMGET', KEYS[1], 'first', 'passed', 'exp')
if not v[1] or tonumber(v[3]) <= now then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'first', now, 'passed', 0, 'exp', now + retry)
  redis.call('PEXPIRE', KEYS[1], retry)
  return {1, delay}
end
if v[2] == '1' then
  redis.call('HSET', KEYS[1], 'exp', now + maxage)
  redis.call('PEXPIRE', KEYS[1], maxage)
  return {0, 0}
end
local age = now - tonumber(v[1])
if age < delay then return {1, delay - age} end
redis.call('HSET', KEYS[1], 'passed', 1, 'exp', now + maxage)
redis.call('PEXPIRE', KEYS[1], maxage)
return {2, 0}
)lua";

constexpr std::string_view kKeyPrefix = "yubin:policyd:";

struct ReplyDeleter {
    void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;
struct ContextDeleter {
    void operator()(redisContext* c) const { redisFree(c); }
};
using Context = std::unique_ptr<redisContext, ContextDeleter>;

class RedisCounters final : public Counters {
public:
    RedisCounters(std::string host, int port, std::string unix_path, std::int64_t timeout_ms)
        : host_(std::move(host)),
          port_(port),
          unix_path_(std::move(unix_path)),
          timeout_ms_(timeout_ms) {}

    Result<CheckResult> check_and_add(std::span<const CounterLimit> limits, std::int64_t now_ms,
                                      bool add) override {
        if (!add) return check_only(limits, now_ms);
        if (auto r = check_and_queue(limits, now_ms)) return *r;
        std::vector<std::string> keys, args;
        args.push_back(add ? "1" : "0");
        for (const auto& l : limits) {
            std::int64_t bucket = now_ms / l.window_ms;
            std::string base = std::string(kKeyPrefix) + l.key + ":";
            keys.push_back(base + std::to_string(bucket));
            keys.push_back(base + std::to_string(bucket - 1));
            args.push_back(std::to_string(l.window_ms));
            args.push_back(std::to_string(l.max));
            args.push_back(std::to_string(l.amount));
            args.push_back(std::to_string(now_ms - bucket * l.window_ms));
        }
        auto r = eval(rate_sha_, kRateScript, keys, args);
        if (!r) return fail(r.error());
        {
            std::lock_guard lock(mu_);  // later checks of this batch read the new counts
            for (std::size_t i = 0; i < keys.size(); i += 2) cached_.erase(keys[i]);
        }
        CheckResult out;
        if (r->first > 0) {
            if (static_cast<std::size_t>(r->first) > limits.size())
                return fail(ErrorKind::Temp, "redis: unexpected script reply");
            out.over = true;
            out.index = static_cast<std::size_t>(r->first - 1);
            out.current = r->second;
        }
        return out;
    }

    Result<GreylistResult> greylist(std::string_view key, std::int64_t now_ms,
                                    const GreylistTimes& t) override {
        std::vector<std::string> keys{std::string(kKeyPrefix) + std::string(key)};
        std::vector<std::string> args{std::to_string(now_ms), std::to_string(t.delay_ms),
                                      std::to_string(t.retry_window_ms),
                                      std::to_string(t.max_age_ms)};
        auto r = eval(grey_sha_, kGreyScript, keys, args);
        if (!r) return fail(r.error());
        if (r->first == 0) return GreylistResult{};
        if (r->first == 2) return GreylistResult{GreylistResult::Verdict::Pass, 0, true};
        if (r->first != 1) return fail(ErrorKind::Temp, "redis: unexpected script reply");
        return GreylistResult{GreylistResult::Verdict::Defer, (r->second + 999) / 1000, false};
    }

    Status flush() override {
        std::lock_guard lock(mu_);
        return flush_locked();
    }

private:
    using Pair = std::pair<std::int64_t, std::int64_t>;

    // flush() with mu_ held; also before any command that reads counters,
    // so that it sees the adds queued before it.
    Status flush_locked() {
        if (queued_.empty()) return {};
        std::vector<std::vector<std::string>> queued;
        queued.swap(queued_);
        if (!ctx_) return fail(ErrorKind::Temp, "redis " + where() + ": not connected");
        // One MULTI/EXEC around the batch's adds: Redis applies all of them
        // or, if the connection is lost before EXEC, none, so no INCRBY is
        // ever left without its PEXPIRE.
        queued.insert(queued.begin(), std::vector<std::string>{"MULTI"});
        queued.push_back({"EXEC"});
        for (const auto& argv : queued) {
            std::vector<const char*> ptrs;
            std::vector<std::size_t> lens;
            for (const auto& a : argv) {
                ptrs.push_back(a.data());
                lens.push_back(a.size());
            }
            if (redisAppendCommandArgv(ctx_.get(), static_cast<int>(argv.size()), ptrs.data(),
                                       lens.data()) != REDIS_OK)
                return lost();
        }
        std::optional<Error> error;
        for (std::size_t i = 0; i < queued.size(); ++i) {
            void* raw = nullptr;
            if (redisGetReply(ctx_.get(), &raw) != REDIS_OK || raw == nullptr) return lost();
            Reply r(static_cast<redisReply*>(raw));
            auto note = [&](const redisReply* e) {
                if (e->type == REDIS_REPLY_ERROR && !error)
                    error = Error{ErrorKind::Temp,
                                  "redis: " +
                                      sanitize_for_log(std::string_view(e->str, e->len), 200)};
            };
            note(r.get());
            // EXEC's array holds each add's own reply.
            if (i + 1 == queued.size() && r->type == REDIS_REPLY_ARRAY)
                for (std::size_t k = 0; k < r->elements; ++k) note(r->element[k]);
        }
        if (error) return fail(*error);
        return {};
    }

    // The connection failed in the middle of a pipeline: unusable.
    Status lost() {
        last_error_ = ctx_->errstr;
        ctx_.reset();
        return fail(ErrorKind::Temp, "redis " + where() + ": " + last_error_);
    }

    // check_and_add(add) answered from prefetch()'s values when it has every
    // counter: the adds are queued for flush() (INCRBY and PEXPIRE of each
    // current-window key, what the script does after its check; flush()
    // sends a batch's adds in one MULTI/EXEC, and no Lua runs for them) and
    // counted in those values for the batch's later checks. nullopt: ask Redis now (check and add in one
    // script). Between hosts the check is then as old as the batch's MGET:
    // hosts that share a limit may overshoot it by what their batches in
    // flight add at once.
    std::optional<CheckResult> check_and_queue(std::span<const CounterLimit> limits,
                                               std::int64_t now_ms) {
        std::lock_guard lock(mu_);
        if (cached_.empty() || !ctx_) return std::nullopt;
        std::vector<std::unordered_map<std::string, std::int64_t>::iterator> cur;
        cur.reserve(limits.size());
        std::optional<CheckResult> over;
        for (std::size_t i = 0; i < limits.size(); ++i) {
            const auto& l = limits[i];
            std::int64_t bucket = now_ms / l.window_ms;
            std::string base = std::string(kKeyPrefix) + l.key + ":";
            auto c = cached_.find(base + std::to_string(bucket));
            auto p = cached_.find(base + std::to_string(bucket - 1));
            if (c == cached_.end() || p == cached_.end()) return std::nullopt;
            std::int64_t est = window_estimate(p->second, c->second, l.window_ms, now_ms);
            if (!over && est + l.amount > l.max) over = CheckResult{true, i, est};
            cur.push_back(c);
        }
        if (over) return over;
        for (std::size_t i = 0; i < limits.size(); ++i) {
            const auto& l = limits[i];
            if (l.amount == 0) continue;
            queued_.push_back({"INCRBY", cur[i]->first, std::to_string(l.amount)});
            queued_.push_back({"PEXPIRE", cur[i]->first, std::to_string(2 * l.window_ms)});
            cur[i]->second += l.amount;
        }
        return CheckResult{};
    }

    // A check that adds nothing (RCPT, DATA: most requests) only reads: one
    // MGET of every counter, the estimate computed here as the memory
    // backend does. Redis runs no script for it, which costs it a fraction
    // of an EVALSHA; a read needs no atomicity beyond MGET's own.
    // One MGET for the counters of a whole batch of requests (one round trip
    // instead of one per request); check_only() answers from it when it has
    // every key it needs. An error leaves nothing: each check then asks Redis.
    bool prefetches() const override { return true; }

    void prefetch(std::span<const CounterLimit> limits, std::int64_t now_ms) override {
        std::lock_guard lock(mu_);
        (void)flush_locked();
        cached_.clear();
        if (limits.empty() || !ctx_) return;
        std::vector<std::string> argv{"MGET"};
        for (const auto& l : limits) {
            std::int64_t bucket = now_ms / l.window_ms;
            std::string base = std::string(kKeyPrefix) + l.key + ":";
            for (std::int64_t b : {bucket, bucket - 1}) {
                std::string key = base + std::to_string(b);
                if (cached_.emplace(key, 0).second) argv.push_back(std::move(key));
            }
        }
        auto r = command(argv);
        if (!r || (*r)->type != REDIS_REPLY_ARRAY || (*r)->elements != argv.size() - 1) {
            cached_.clear();
            return;
        }
        for (std::size_t i = 1; i < argv.size(); ++i) {
            const redisReply* e = (*r)->element[i - 1];
            std::optional<std::int64_t> v;
            if (e->type == REDIS_REPLY_NIL) v = 0;
            if (e->type == REDIS_REPLY_STRING) v = parse_int(std::string_view(e->str, e->len));
            if (!v) {
                cached_.clear();
                return;
            }
            cached_[argv[i]] = *v;
        }
    }

    Result<CheckResult> check_only(std::span<const CounterLimit> limits, std::int64_t now_ms) {
        {
            std::lock_guard lock(mu_);
            auto from_cache = [&]() -> std::optional<CheckResult> {
                for (std::size_t i = 0; i < limits.size(); ++i) {
                    const auto& l = limits[i];
                    std::int64_t bucket = now_ms / l.window_ms;
                    std::string base = std::string(kKeyPrefix) + l.key + ":";
                    auto cur = cached_.find(base + std::to_string(bucket));
                    auto prev = cached_.find(base + std::to_string(bucket - 1));
                    if (cur == cached_.end() || prev == cached_.end()) return std::nullopt;
                    std::int64_t est =
                        window_estimate(prev->second, cur->second, l.window_ms, now_ms);
                    if (est + l.amount > l.max) return CheckResult{true, i, est};
                }
                return CheckResult{};
            };
            if (!cached_.empty())
                if (auto r = from_cache()) return *r;
        }
        std::vector<std::string> argv{"MGET"};
        argv.reserve(1 + 2 * limits.size());
        for (const auto& l : limits) {
            std::int64_t bucket = now_ms / l.window_ms;
            std::string base = std::string(kKeyPrefix) + l.key + ":";
            argv.push_back(base + std::to_string(bucket));
            argv.push_back(base + std::to_string(bucket - 1));
        }
        std::lock_guard lock(mu_);
        (void)flush_locked();  // a failure is the next command's too
        Result<Reply> r = fail(ErrorKind::Temp, "redis: not tried");
        for (int attempt = 0; attempt < 2; ++attempt) {
            bool reused = ctx_ != nullptr;
            if (auto st = connect(); !st) return fail(st.error());
            r = command(argv);
            if (r || !reused || attempt > 0) break;
            next_connect_ = {};  // a stale connection (Redis restarted): retry at once
        }
        if (!r) return fail(r.error());
        const redisReply* rep = r->get();
        if (rep->type != REDIS_REPLY_ARRAY || rep->elements != argv.size() - 1)
            return fail(ErrorKind::Temp, "redis: unexpected MGET reply");
        auto value = [&](std::size_t i) -> std::optional<std::int64_t> {
            const redisReply* e = rep->element[i];
            if (e->type == REDIS_REPLY_NIL) return 0;
            if (e->type != REDIS_REPLY_STRING) return std::nullopt;
            return parse_int(std::string_view(e->str, e->len));
        };
        for (std::size_t i = 0; i < limits.size(); ++i) {
            auto cur = value(2 * i), prev = value(2 * i + 1);
            if (!cur || !prev) return fail(ErrorKind::Temp, "redis: counter is not a number");
            const auto& l = limits[i];
            std::int64_t est = window_estimate(*prev, *cur, l.window_ms, now_ms);
            if (est + l.amount > l.max) return CheckResult{true, i, est};
        }
        return CheckResult{};
    }

    Status connect() {
        if (ctx_) return {};
        auto now = std::chrono::steady_clock::now();
        if (now < next_connect_)
            return fail(ErrorKind::Temp, "redis " + where() + ": " + last_error_);
        next_connect_ = now + std::chrono::seconds(1);
        timeval tv{static_cast<time_t>(timeout_ms_ / 1000),
                   static_cast<suseconds_t>((timeout_ms_ % 1000) * 1000)};
        Context c(unix_path_.empty() ? redisConnectWithTimeout(host_.c_str(), port_, tv)
                                     : redisConnectUnixWithTimeout(unix_path_.c_str(), tv));
        if (!c || c->err) {
            last_error_ = c ? c->errstr : "cannot allocate a connection";
            return fail(ErrorKind::Temp, "redis " + where() + ": " + last_error_);
        }
        if (redisSetTimeout(c.get(), tv) != REDIS_OK) {
            last_error_ = "cannot set timeout";
            return fail(ErrorKind::Temp, "redis " + where() + ": " + last_error_);
        }
        ctx_ = std::move(c);
        rate_sha_.clear();
        grey_sha_.clear();
        return {};
    }

    std::string where() const {
        return unix_path_.empty() ? host_ + ":" + std::to_string(port_) : "unix:" + unix_path_;
    }

    Result<Reply> command(const std::vector<std::string>& argv) {
        std::vector<const char*> ptrs;
        std::vector<std::size_t> lens;
        for (const auto& a : argv) {
            ptrs.push_back(a.data());
            lens.push_back(a.size());
        }
        Reply r(static_cast<redisReply*>(
            redisCommandArgv(ctx_.get(), static_cast<int>(argv.size()), ptrs.data(), lens.data())));
        if (!r) {
            last_error_ = ctx_->errstr;
            ctx_.reset();  // the connection is unusable after an I/O error
            return fail(ErrorKind::Temp, "redis " + where() + ": " + last_error_);
        }
        return r;
    }

    Result<Pair> eval(std::string& sha, std::string_view script,
                      const std::vector<std::string>& keys, const std::vector<std::string>& args) {
        std::lock_guard lock(mu_);
        (void)flush_locked();
        for (int attempt = 0; attempt < 2; ++attempt) {
            // A connection that served earlier requests may have been closed
            // by a Redis restart since: its first failure is retried at once
            // on a new connection instead of costing a request.
            bool reused = ctx_ != nullptr;
            auto stale = [&] {
                if (!reused || attempt > 0) return false;
                next_connect_ = {};
                return true;
            };
            if (auto st = connect(); !st) return fail(st.error());
            if (sha.empty()) {
                auto r = command({"SCRIPT", "LOAD", std::string(script)});
                if (!r && stale()) continue;
                if (!r) return fail(r.error());
                if ((*r)->type != REDIS_REPLY_STRING)
                    return fail(ErrorKind::Temp, "redis: SCRIPT LOAD failed");
                sha.assign((*r)->str, (*r)->len);
            }
            std::vector<std::string> argv{"EVALSHA", sha, std::to_string(keys.size())};
            argv.insert(argv.end(), keys.begin(), keys.end());
            argv.insert(argv.end(), args.begin(), args.end());
            auto r = command(argv);
            if (!r && stale()) continue;
            if (!r) return fail(r.error());
            redisReply* rep = r->get();
            if (rep->type == REDIS_REPLY_ERROR) {
                std::string err(rep->str, rep->len);
                if (err.starts_with("NOSCRIPT") && attempt == 0) {
                    sha.clear();  // the server restarted or flushed its scripts
                    continue;
                }
                return fail(ErrorKind::Temp, "redis: " + sanitize_for_log(err, 200));
            }
            if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
                rep->element[0]->type != REDIS_REPLY_INTEGER ||
                rep->element[1]->type != REDIS_REPLY_INTEGER)
                return fail(ErrorKind::Temp, "redis: unexpected script reply");
            return Pair{rep->element[0]->integer, rep->element[1]->integer};
        }
        return fail(ErrorKind::Temp, "redis: script not loaded");
    }

    std::mutex mu_;
    std::string host_;
    int port_;
    std::string unix_path_;
    std::int64_t timeout_ms_;
    Context ctx_;
    std::unordered_map<std::string, std::int64_t> cached_;  // prefetch(): key -> value
    std::vector<std::vector<std::string>> queued_;         // adds for flush(): commands
    std::string rate_sha_, grey_sha_;
    std::chrono::steady_clock::time_point next_connect_{};
    std::string last_error_;
};

}  // namespace

Result<std::unique_ptr<Counters>> make_redis_counters(std::string_view spec,
                                                      std::int64_t timeout_ms) {
    auto bad = [&] {
        return fail(ErrorKind::Config, "bad redis address \"" + sanitize_for_log(spec, 100) +
                                           "\" (want HOST:PORT or unix:PATH)");
    };
    if (spec.starts_with("unix:")) {
        auto path = spec.substr(5);
        if (path.empty() || path.front() != '/' || path.size() > 100) return bad();
        return std::unique_ptr<Counters>(
            std::make_unique<RedisCounters>("", 0, std::string(path), timeout_ms));
    }
    auto colon = spec.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return bad();
    std::string_view host = spec.substr(0, colon);
    if (host.starts_with('[')) {
        if (!host.ends_with(']')) return bad();
        host = host.substr(1, host.size() - 2);
    }
    auto port = parse_int(spec.substr(colon + 1));
    if (!port || *port < 1 || *port > 65535 || host.empty()) return bad();
    return std::unique_ptr<Counters>(std::make_unique<RedisCounters>(
        std::string(host), static_cast<int>(*port), "", timeout_ms));
}

}  // namespace yubin::policyd
