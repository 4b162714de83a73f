// The Directory of a running milter: yubin's store plus milter_local_domains
// and default_max_message_size.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/store/store.hpp"
#include "milter/session.hpp"

namespace yubin::milter {

struct DirectoryOptions {
    std::string store_spec{};                  // "sqlite:PATH"; empty = no store
    store::StoreOptions store_options{};       // read_only is forced on
    std::vector<std::string> local_domains{};  // may hold IP literals
    std::int64_t default_max_message_size = 0;
};

// Store objects serve one thread at a time, sessions run in many: a small
// pool hands each lookup its own. A store that failed is dropped and a fresh
// one opened on the next lookup, so a database that comes back is used again.
class StoreDirectory final : public Directory {
public:
    // Opens one store to find configuration errors at startup.
    [[nodiscard]] static Result<std::shared_ptr<StoreDirectory>> open(DirectoryOptions opts);

    Result<bool> is_local_domain(std::string_view domain) override;
    Result<std::int64_t> size_limit(std::string_view local, std::string_view domain) override;
    Result<bool> owns_sender(std::string_view login, std::string_view sender) override;
    Result<RecipientSettings> recipient(std::string_view local, std::string_view domain) override;

private:
    explicit StoreDirectory(DirectoryOptions opts) : opts_(std::move(opts)) {}
    Result<std::unique_ptr<store::Store>> acquire();
    void release(std::unique_ptr<store::Store> s);

    DirectoryOptions opts_;
    std::mutex mu_;
    std::vector<std::unique_ptr<store::Store>> idle_;
};

}  // namespace yubin::milter
