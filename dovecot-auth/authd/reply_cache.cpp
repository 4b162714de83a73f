#include "dovecot-auth/authd/reply_cache.hpp"

namespace yubin::authd {

void ReplyCache::validate(const Version& v) {
    if (version_ == v) return;
    clear();
    version_ = v;
}

const std::string* ReplyCache::find(std::string_view request) {
    if (auto it = young_.find(request); it != young_.end()) return &it->second;
    auto it = old_.find(request);
    if (it == old_.end()) return nullptr;
    // Used again: it survives the next turnover (the node moves, nothing is
    // allocated).
    auto node = old_.extract(it);
    return &young_.insert(std::move(node)).position->second;
}

void ReplyCache::insert(std::string_view request, std::string_view reply) {
    if (max_ == 0 || request.size() + reply.size() > kReplyCacheMaxEntryBytes) return;
    if (young_.find(request) != young_.end() || old_.find(request) != old_.end()) return;
    if (size() >= max_) {
        if (old_.empty()) std::swap(old_, young_);
        old_.erase(old_.begin());
    }
    young_.emplace(std::string(request), std::string(reply));
}

void ReplyCache::clear() {
    young_.clear();
    old_.clear();
    version_.reset();
}

}  // namespace yubin::authd
