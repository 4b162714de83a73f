// Writing messages into a Maildir the way the specification and Dovecot
// require, so a reader never sees a partial file in new/ and a crash at any
// point loses nothing that was acknowledged:
//
//   1. create tmp/<unique> with O_CREAT|O_EXCL|O_NOFOLLOW (openat on tmp/);
//   2. write every byte, fsync, close (each checked: NFS reports ENOSPC at close);
//   3. rename (RENAME_NOREPLACE) or hard-link it into new/ under the same
//      unique name; fsync new/ so the directory entry is on disk;
//   4. only then report success. Any failure unlinks the tmp/ file.
//
// One staged file can be linked into several Maildirs (LMTP with several
// recipients writes the message once); each link gets its own unique name.
// Errors carry errno_error's kinds: ENOSPC, EDQUOT, EIO are Temp; the rest
// Internal, which delivery agents also treat as temporary.
#pragma once

#include <fcntl.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/maildir/dir_sync.hpp"
#include "core/maildir/maildir.hpp"
#include "core/maildir/unique_name.hpp"
#include "core/util/result.hpp"

namespace yubin::maildir {

// The system calls whose failure matters, injectable so tests can make a
// disk fill up (ENOSPC) or fail (EIO) at any step.
struct FileOps {
    ssize_t (*write)(int, const void*, std::size_t) = ::write;
    int (*fsync)(int) = ::fsync;
    ssize_t (*read)(int, void*, std::size_t) = ::read;
    // splice(2) from a pipe into the file; nullptr: read + write only.
    ssize_t (*splice)(int, loff_t*, int, loff_t*, std::size_t, unsigned) = ::splice;
};

// The end of a message still to be read from a descriptor (a delivery
// agent's standard input): stage_stream copies it to EOF, splice(2) from a
// pipe (no copy through user space), read + write otherwise.
struct StreamTail {
    int fd = -1;
    std::uint64_t counted = 0;  // input bytes already read before the tail
    std::uint64_t limit = 0;    // Perm "message too big" when counted + tail exceed it; 0 = none
    std::uint64_t read = 0;     // out: the bytes the tail had
};

struct Delivered {
    std::string name;  // file name in new/
    std::string path;  // full path, for logs
    std::uint64_t size = 0;
};

class MaildirWriter;

// A message written and fsynced in some Maildir's tmp/, not yet visible.
// Destroying it unlinks the tmp/ file. It keeps its own descriptor of the
// tmp/ directory, so it may outlive the Maildir object it was staged in.
class StagedFile {
public:
    StagedFile(StagedFile&& o) noexcept;
    StagedFile& operator=(StagedFile&&) = delete;
    StagedFile(const StagedFile&) = delete;
    ~StagedFile();
    [[nodiscard]] std::uint64_t size() const { return size_; }
    [[nodiscard]] const std::string& name() const { return name_; }
    // The name it gets in new/ (a streamed file learns its size, which the
    // name carries, only at the end).
    [[nodiscard]] const std::string& final_name() const {
        return final_name_.empty() ? name_ : final_name_;
    }

private:
    friend class MaildirWriter;
    StagedFile(UniqueFd tmp_dir, std::string name, std::uint64_t size)
        : tmp_dir_(std::move(tmp_dir)), name_(std::move(name)), size_(size) {}
    // Its own descriptor of tmp/, so the Maildir object may go first.
    UniqueFd tmp_dir_;
    bool owned_ = true;  // the tmp/ file is still ours to remove
    std::string name_;
    std::string final_name_;
    std::uint64_t size_ = 0;
};

class MaildirWriter {
public:
    explicit MaildirWriter(UniqueNamer namer, FileOps ops = {})
        : namer_(std::move(namer)), ops_(ops) {}

    // The fsync of new/ after a rename goes through `sync` (group commit
    // with the other writers sharing it; dir_sync.hpp). It must outlive
    // this writer. nullptr: an fsync of our own each time.
    void share_dir_sync(DirSync* sync) { dir_sync_ = sync; }

    // Steps 1-2: the concatenation of `parts` into md's tmp/.
    [[nodiscard]] Result<StagedFile> stage(const Maildir& md,
                                           std::span<const std::string_view> parts);

    // Steps 1-2 for a message whose end is still to come: `parts`, then
    // everything from tail.fd to EOF. The tmp/ name is provisional; the name
    // in new/ carries the final size. Past tail.limit: Perm "message too big"
    // and the file is removed, as on every other failure.
    [[nodiscard]] Result<StagedFile> stage_stream(const Maildir& md,
                                                  std::span<const std::string_view> parts,
                                                  StreamTail& tail);

    // Steps 3-4 into dst (md or one of its folders, same filesystem): a hard
    // link, so the staged file can be committed again elsewhere. Fails with
    // the errno's kind; on EXDEV (another filesystem) the caller stages anew.
    [[nodiscard]] Result<Delivered> commit_link(const StagedFile& file, const Maildir& dst);

    // Steps 3-4 by rename: the staged file is used up (cheapest for one recipient).
    [[nodiscard]] Result<Delivered> commit_move(StagedFile&& file, const Maildir& dst);

    // stage + commit_move into the same Maildir.
    [[nodiscard]] Result<Delivered> deliver(const Maildir& md,
                                            std::span<const std::string_view> parts);

private:
    [[nodiscard]] Result<StagedFile> stage_with(const Maildir& md,
                                                std::span<const std::string_view> parts,
                                                StreamTail* tail);
    [[nodiscard]] Result<StagedFile> create(const Maildir& md, std::uint64_t size, UniqueFd& fd);
    [[nodiscard]] Status write_parts(int fd, std::span<const std::string_view> parts,
                                     const std::string& shown);
    [[nodiscard]] Status copy_tail(int fd, StreamTail& tail, const std::string& shown);
    [[nodiscard]] Status finish(UniqueFd& fd, const std::string& shown);
    [[nodiscard]] Result<Delivered> commit(const StagedFile& file, const Maildir& dst, bool move);

    UniqueNamer namer_;
    FileOps ops_;
    DirSync* dir_sync_ = nullptr;
};

}  // namespace yubin::maildir
