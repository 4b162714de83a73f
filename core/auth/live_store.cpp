#include "core/auth/live_store.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <utility>

namespace yubin::auth {

LiveStore::LiveStore(std::string spec, store::StoreOptions options)
    : spec_(std::move(spec)), options_(std::move(options)) {
    constexpr std::string_view kSqlite = "sqlite:";
    if (std::string_view(spec_).substr(0, kSqlite.size()) == kSqlite)
        path_ = spec_.substr(kSqlite.size());
}

void LiveStore::reset() {
    store_.reset();
}

Result<store::Store*> LiveStore::get() {
    if (path_.empty()) {
        if (!store_) {
            auto s = store::open_store(spec_, options_);
            if (!s) return fail(s.error());
            store_ = std::move(*s);
        }
        return store_.get();
    }
    struct stat st {};
    if (::stat(path_.c_str(), &st) != 0) {
        const int err = errno;
        store_.reset();
        // Whatever the errno: a database that cannot be found now is an
        // outage to wait out, not a configuration error to die of.
        return fail(ErrorKind::Temp, errno_error("store " + path_, err).what);
    }
    if (store_ && st.st_dev == dev_ && st.st_ino == ino_) return store_.get();
    store_.reset();
    auto s = store::open_store(spec_, options_);
    if (!s) return fail(s.error());
    store_ = std::move(*s);
    dev_ = st.st_dev;
    ino_ = st.st_ino;
    return store_.get();
}

}  // namespace yubin::auth
