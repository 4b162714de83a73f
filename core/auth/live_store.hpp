// LiveStore: a store connection for long-running readers (the Dovecot auth
// module, yubin-authd) that follows the database file instead of holding on
// to whatever file it first opened.
//
// An open SQLite connection keeps its file descriptor: if the administrator
// moves the database away, replaces it (restore from backup, a new file
// renamed over the old one) or the file system goes away, the connection would
// go on answering from the old file — logins against deleted users, or no
// sign of the outage at all. So before each use get() stats the path and
// reopens when the file is another one (device and inode changed); when the
// path cannot be stat'ed the answer is Temp, never a stale success. A caller
// that gets Temp from a query calls reset(), so the next get() opens anew.
//
// Specs other than sqlite:PATH are opened once and kept (no file to follow).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "core/store/store.hpp"
#include "core/util/result.hpp"

namespace yubin::auth {

class LiveStore {
public:
    LiveStore(std::string spec, store::StoreOptions options);

    // Temp when the store cannot be reached now, Config for a bad spec.
    [[nodiscard]] Result<store::Store*> get();
    void reset();

    [[nodiscard]] const std::string& spec() const { return spec_; }

private:
    std::string spec_;
    std::string path_;  // for sqlite: specs; empty otherwise
    store::StoreOptions options_;
    std::unique_ptr<store::Store> store_;
    dev_t dev_ = 0;
    ino_t ino_ = 0;
};

}  // namespace yubin::auth
