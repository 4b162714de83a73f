// Socketmap replies remembered between requests, for as long as the store
// has not changed.
//
// Freshness: the cache holds replies computed from one state of the store,
// named by a Version (which store handle, and that handle's data_version:
// SQLite changes it whenever another connection commits). The owner checks
// the version once per read batch, inside the batch's snapshot, and
// validate() drops every entry when it differs, so a reply from the cache is
// exactly what the store would answer from that snapshot. Only final answers
// (OK, NOTFOUND) go in; a temporary failure never does.
//
// Bounds: at most max_entries entries, each request + reply at most
// kReplyCacheMaxEntryBytes (a longer pair is not cached), so a peer sending
// random keys (NOTFOUND is cached too) costs at most
// max_entries * (kReplyCacheMaxEntryBytes + overhead). When full, an entry
// of the older generation goes: entries found since the last turnover are
// young and stay; when no old entry is left, the young generation becomes the
// old one (second chance, close to LRU without a list to update per hit).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace yubin::authd {

inline constexpr std::size_t kReplyCacheMaxEntryBytes = 512;

class ReplyCache {
public:
    struct Version {
        std::uint64_t store_generation = 0;  // StoreSource::generation()
        std::uint64_t data_version = 0;      // Store::data_version()
        bool operator==(const Version&) const = default;
    };

    explicit ReplyCache(std::size_t max_entries) : max_(max_entries) {}

    [[nodiscard]] bool enabled() const { return max_ > 0; }
    // Keeps the entries if they were stored under `v`, else drops them all.
    void validate(const Version& v);
    // The reply stored for `request`, or null. The pointer is good until the
    // next insert, validate or clear.
    [[nodiscard]] const std::string* find(std::string_view request);
    void insert(std::string_view request, std::string_view reply);
    void clear();
    [[nodiscard]] std::size_t size() const { return young_.size() + old_.size(); }

private:
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const {
            return std::hash<std::string_view>{}(s);
        }
    };
    using Map = std::unordered_map<std::string, std::string, Hash, std::equal_to<>>;

    std::size_t max_;
    std::optional<Version> version_;
    Map young_;
    Map old_;
};

}  // namespace yubin::authd
