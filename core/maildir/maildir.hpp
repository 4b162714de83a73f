// An open Maildir (or Maildir++ folder): directory descriptors for the root
// and its tmp/, new/ and cur/, so every later file operation is an *at()
// call that cannot be redirected by a rename of a parent directory.
//
// Maildir++ layout as Dovecot's "maildir:" storage reads it: folders are
// directories ".Name" beside cur/new/tmp of the root (hierarchy separator
// '.'), each holding an empty "maildirfolder" file; the subscriptions file in
// the root is Dovecot 2.3's version 2 format ("V\t2\n\n" then one name per
// line). Names on disk are modified UTF-7; this class takes them as they are
// on disk and only accepts ASCII names (see valid_folder_name).
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "core/util/fd.hpp"
#include "core/util/result.hpp"

namespace yubin::maildir {

struct OpenOptions {
    bool create = false;          // create the directory and tmp/new/cur when missing
    bool create_parents = false;  // also its missing parents (virtual mailboxes)
    mode_t mode = 0700;           // for directories created here
};

class Maildir {
public:
    // NotFound when missing and !create; errno-based errors otherwise
    // (ENOSPC, EIO: Temp; EACCES: Internal, which callers treat as Temp).
    [[nodiscard]] static Result<Maildir> open(const std::string& path, const OpenOptions& opts = {});

    // The Maildir++ folder ".name" of this root. NotFound when absent and
    // !create; BadInput for a name valid_folder_name refuses. A folder created
    // here gets tmp/new/cur and the "maildirfolder" marker.
    [[nodiscard]] Result<Maildir> folder(std::string_view name, bool create) const;

    // Adds `name` to the subscriptions file unless it is listed already, so
    // IMAP clients show the folder. Serialised with Dovecot's own writers by
    // its "subscriptions.lock" dot-lock and replaced atomically (rename).
    [[nodiscard]] Status subscribe(std::string_view name) const;

    // 1..200 bytes of printable ASCII other than '/', '\\', '&' (modified
    // UTF-7 escape), '"', '*', '%' and '~'; no leading '.', no "..", not
    // "cur"/"new"/"tmp" case-insensitively.
    [[nodiscard]] static bool valid_folder_name(std::string_view name);

    [[nodiscard]] const std::string& path() const { return path_; }
    [[nodiscard]] int dir_fd() const { return dir_.get(); }
    [[nodiscard]] int tmp_fd() const { return tmp_.get(); }
    [[nodiscard]] int new_fd() const { return new_.get(); }
    [[nodiscard]] int cur_fd() const { return cur_.get(); }

private:
    Maildir() = default;
    [[nodiscard]] static Result<Maildir> open_at(std::string path, UniqueFd dir, bool create,
                                                 mode_t mode);

    std::string path_;
    UniqueFd dir_, tmp_, new_, cur_;
    mode_t mode_ = 0700;
};

}  // namespace yubin::maildir
