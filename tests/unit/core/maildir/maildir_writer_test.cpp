#include <doctest/doctest.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>
#include <string>
#include <vector>

#include <csignal>

#include "core/maildir/maildir_writer.hpp"
#include "unit/temp_dir.hpp"

using namespace yubin;
using namespace yubin::maildir;
namespace fs = std::filesystem;

namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::vector<std::string> entries(const std::string& dir) {
    std::vector<std::string> out;
    for (auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
    return out;
}

MaildirWriter writer(FileOps ops = {}) {
    return MaildirWriter(UniqueNamer("host.example", 77, [] { return Timestamp{1700000000, 5}; }),
                         ops);
}

// Failure injection: the write or fsync call number `fail_at` (1-based)
// fails with `fail_errno`; earlier ones pass through, writing at most
// `short_write` bytes at a time to exercise the partial-write loop.
int g_calls = 0;
int g_fail_at = 0;
int g_fail_errno = 0;
std::size_t g_short_write = 0;

ssize_t flaky_write(int fd, const void* p, std::size_t n) {
    if (++g_calls == g_fail_at) {
        errno = g_fail_errno;
        return -1;
    }
    if (g_short_write && n > g_short_write) n = g_short_write;
    return ::write(fd, p, n);
}
int flaky_fsync(int fd) {
    if (++g_calls == g_fail_at) {
        errno = g_fail_errno;
        return -1;
    }
    return ::fsync(fd);
}

}  // namespace

TEST_CASE("maildir: deliver writes the exact bytes into new/ and leaves tmp/ empty") {
    test::TempDir t;
    auto md = Maildir::open(t.path() + "/Maildir", {.create = true});
    REQUIRE(md);
    auto w = writer();
    std::string head = "Return-Path: <a@b.example>\n";
    static const char kBody[] = "Subject: x\n\nbody\0with NUL\xff\n";
    std::string body(kBody, sizeof kBody - 1);
    std::string_view parts[] = {head, body};
    auto d = w.deliver(*md, parts);
    REQUIRE_MESSAGE(d, (d ? "" : d.error().what));
    CHECK(d->name == "1700000000.M5P77Q1.host.example,S=" + std::to_string(head.size() + body.size()));
    CHECK(d->size == head.size() + body.size());
    CHECK(slurp(d->path) == head + body);
    CHECK(entries(md->path() + "/tmp").empty());
    CHECK(entries(md->path() + "/new") == std::vector<std::string>{d->name});
    const auto perms = fs::status(d->path).permissions() & fs::perms::all;
    CHECK((perms == (fs::perms::owner_read | fs::perms::owner_write)));
}

TEST_CASE("maildir: an empty message and a large one are delivered whole") {
    test::TempDir t;
    auto md = Maildir::open(t.path() + "/Maildir", {.create = true});
    REQUIRE(md);
    auto w = writer();
    std::vector<std::string_view> none;
    auto d0 = w.deliver(*md, none);
    REQUIRE(d0);
    CHECK(slurp(d0->path).empty());
    std::string big(5 << 20, 'x');
    std::string_view parts[] = {big};
    auto d1 = w.deliver(*md, parts);
    REQUIRE(d1);
    CHECK(fs::file_size(d1->path) == big.size());
    CHECK(d0->name != d1->name);
}

TEST_CASE("maildir: partial writes are continued, not truncated") {
    test::TempDir t;
    auto md = Maildir::open(t.path() + "/Maildir", {.create = true});
    REQUIRE(md);
    g_calls = 0;
    g_fail_at = 0;
    g_short_write = 7;
    auto w = writer({flaky_write, flaky_fsync});
    std::string msg(1000, 'm');
    std::string_view parts[] = {msg};
    auto d = w.deliver(*md, parts);
    g_short_write = 0;
    REQUIRE(d);
    CHECK(slurp(d->path) == msg);
}

TEST_CASE("maildir: a failure at any write or fsync leaves nothing in tmp/ or new/") {
    // Calls for a two-part message written in one piece each: write, write,
    // fsync(file), fsync(new/). Each failing in turn, with each errno kind.
    struct Errno { int e; ErrorKind want; };
    const Errno errs[] = {{ENOSPC, ErrorKind::Temp}, {EDQUOT, ErrorKind::Temp},
                          {EIO, ErrorKind::Temp}, {EBADF, ErrorKind::Internal}};
    for (auto [e, want] : errs) {
        for (int at = 1; at <= 4; ++at) {
            CAPTURE(e);
            CAPTURE(at);
            test::TempDir t;
            auto md = Maildir::open(t.path() + "/Maildir", {.create = true});
            REQUIRE(md);
            g_calls = 0;
            g_fail_at = at;
            g_fail_errno = e;
            auto w = writer({flaky_write, flaky_fsync});
            std::string_view parts[] = {"Subject: a\n\n", "body\n"};
            auto d = w.deliver(*md, parts);
            g_fail_at = 0;
            REQUIRE_FALSE(d);
            CHECK(d.error().kind == want);
            CHECK(is_temporary(d.error().kind));
            CHECK(entries(md->path() + "/tmp").empty());
            CHECK(entries(md->path() + "/new").empty());
        }
    }
}

TEST_CASE("maildir: a name taken in tmp/ or new/ is skipped, never overwritten") {
    test::TempDir t;
    auto md = Maildir::open(t.path() + "/Maildir", {.create = true});
    REQUIRE(md);
    // Same clock, pid and counter as writer() will produce first and second.
    std::ofstream(md->path() + "/tmp/1700000000.M5P77Q1.host.example,S=3") << "old";
    std::ofstream(md->path() + "/new/1700000000.M5P77Q2.host.example,S=3") << "old";
    auto w = writer();
    std::string_view parts[] = {"new"};
    auto d = w.deliver(*md, parts);
    REQUIRE(d);
    CHECK(d->name == "1700000000.M5P77Q3.host.example,S=3");
    CHECK(slurp(md->path() + "/new/1700000000.M5P77Q2.host.example,S=3") == "old");
    CHECK(slurp(d->path) == "new");
}

TEST_CASE("maildir: one staged file is hard-linked into several Maildirs and a folder") {
    test::TempDir t;
    auto a = Maildir::open(t.path() + "/a/Maildir", {.create = true, .create_parents = true});
    auto b = Maildir::open(t.path() + "/b/Maildir", {.create = true, .create_parents = true});
    REQUIRE(a);
    REQUIRE(b);
    auto junk = b->folder("Junk", true);
    REQUIRE(junk);
    auto w = writer();
    std::string_view parts[] = {"Subject: s\n\nhello\n"};
    {
        auto staged = w.stage(*a, parts);
        REQUIRE(staged);
        CHECK(entries(a->path() + "/tmp").size() == 1);
        auto d1 = w.commit_link(*staged, *a);
        auto d2 = w.commit_link(*staged, *b);
        auto d3 = w.commit_link(*staged, *junk);
        REQUIRE(d1);
        REQUIRE(d2);
        REQUIRE(d3);
        CHECK(slurp(d2->path) == "Subject: s\n\nhello\n");
        CHECK(slurp(d3->path) == "Subject: s\n\nhello\n");
        CHECK(fs::hard_link_count(d1->path) == 4);  // tmp + three links
    }
    // The staged file is gone with its owner; the links stay.
    CHECK(entries(a->path() + "/tmp").empty());
    CHECK(entries(b->path() + "/new").size() == 1);
    CHECK(entries(junk->path() + "/new").size() == 1);
}

TEST_CASE("maildir: commit_move into a folder renames, leaving tmp/ empty") {
    test::TempDir t;
    auto md = Maildir::open(t.path() + "/Maildir", {.create = true});
    REQUIRE(md);
    auto junk = md->folder("Junk", true);
    REQUIRE(junk);
    auto w = writer();
    std::string_view parts[] = {"x"};
    auto staged = w.stage(*md, parts);
    REQUIRE(staged);
    auto d = w.commit_move(std::move(*staged), *junk);
    REQUIRE(d);
    CHECK(entries(md->path() + "/tmp").empty());
    CHECK(entries(junk->path() + "/new").size() == 1);
    CHECK(fs::hard_link_count(d->path) == 1);
}

TEST_CASE("maildir: a dropped StagedFile removes its tmp/ file") {
    test::TempDir t;
    auto md = Maildir::open(t.path() + "/Maildir", {.create = true});
    REQUIRE(md);
    auto w = writer();
    std::string_view parts[] = {"x"};
    {
        auto staged = w.stage(*md, parts);
        REQUIRE(staged);
        CHECK(entries(md->path() + "/tmp").size() == 1);
    }
    CHECK(entries(md->path() + "/tmp").empty());
    CHECK(entries(md->path() + "/new").empty());
}

TEST_CASE("maildir: a staged file outlives the Maildir object it was staged in") {
    test::TempDir t;
    auto w = writer();
    std::string_view parts[] = {"x"};
    std::optional<StagedFile> staged;
    {
        auto md = Maildir::open(t.path() + "/a", {.create = true});
        REQUIRE(md);
        auto s = w.stage(*md, parts);
        REQUIRE(s);
        staged.emplace(std::move(*s));
    }
    auto other = Maildir::open(t.path() + "/b", {.create = true});
    REQUIRE(other);
    auto d = w.commit_link(*staged, *other);
    REQUIRE_MESSAGE(d, (d ? "" : d.error().what));
    staged.reset();
    CHECK(entries(t.path() + "/a/tmp").empty());
    CHECK(slurp(d->path) == "x");
}

namespace {

// `data` written into a pipe by a thread; returns the read end.
struct PipeFeed {
    int rd = -1;
    std::thread writer;
    explicit PipeFeed(std::string data) {
        ::signal(SIGPIPE, SIG_IGN);  // the reader may stop early
        int fds[2];
        REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
        rd = fds[0];
        writer = std::thread([w = fds[1], d = std::move(data)] {
            std::string_view rest = d;
            while (!rest.empty()) {
                ssize_t n = ::write(w, rest.data(), rest.size());
                if (n <= 0) break;  // EPIPE: the reader stopped (limit test)
                rest.remove_prefix(static_cast<std::size_t>(n));
            }
            ::close(w);
        });
    }
    ~PipeFeed() {
        ::close(rd);
        writer.join();
    }
};

int g_splice_errno = 0;
ssize_t failing_splice(int, loff_t*, int, loff_t*, std::size_t, unsigned) {
    errno = g_splice_errno;
    return -1;
}

}  // namespace

TEST_CASE("maildir: stage_stream copies a pipe to EOF after the parts; the name has the final size") {
    test::TempDir t;
    auto md = Maildir::open(t.path() + "/Maildir", {.create = true});
    REQUIRE(md);
    auto w = writer();
    std::string head = "Return-Path: <a@b.example>\nSubject: x\n\n";
    std::string body;
    for (int i = 0; i < 40000; ++i) body += "line " + std::to_string(i) + " \x01\xff\n";
    PipeFeed feed(body);
    StreamTail tail{.fd = feed.rd, .counted = 100, .limit = 0};
    std::string_view parts[] = {head};
    auto s = w.stage_stream(*md, parts, tail);
    REQUIRE_MESSAGE(s, (s ? "" : s.error().what));
    CHECK(tail.read == body.size());
    CHECK(s->size() == head.size() + body.size());
    CHECK(s->final_name().ends_with(",S=" + std::to_string(head.size() + body.size())));
    auto d = w.commit_move(std::move(*s), *md);
    REQUIRE(d);
    CHECK(slurp(d->path) == head + body);
    CHECK(entries(md->path() + "/tmp").empty());
}

TEST_CASE("maildir: stage_stream from a regular file (no splice) and with splice failing") {
    test::TempDir t;
    auto md = Maildir::open(t.path() + "/Maildir", {.create = true});
    REQUIRE(md);
    std::string body(300000, 'b');
    {
        std::ofstream(t.path() + "/in", std::ios::binary) << body;
    }
    UniqueFd in(::open((t.path() + "/in").c_str(), O_RDONLY | O_CLOEXEC));
    REQUIRE(in);
    auto w = writer();
    StreamTail tail{.fd = in.get(), .counted = 0, .limit = 300000};  // exactly at the limit: fine
    std::string_view parts[] = {"H: v\n\n"};
    auto s = w.stage_stream(*md, parts, tail);
    REQUIRE_MESSAGE(s, (s ? "" : s.error().what));
    auto d = w.commit_move(std::move(*s), *md);
    REQUIRE(d);
    CHECK(slurp(d->path) == "H: v\n\n" + body);

    // A disk full while splicing: Temp, nothing left anywhere.
    for (int e : {ENOSPC, EIO}) {
        CAPTURE(e);
        PipeFeed feed("x\n");
        g_splice_errno = e;
        FileOps ops;
        ops.splice = failing_splice;
        auto fw = writer(ops);
        StreamTail ft{.fd = feed.rd};
        auto f = fw.stage_stream(*md, parts, ft);
        REQUIRE_FALSE(f);
        CHECK(f.error().kind == ErrorKind::Temp);
        CHECK(entries(md->path() + "/tmp").empty());
        CHECK(entries(md->path() + "/new").size() == 1);
    }
}

TEST_CASE("maildir: stage_stream past the limit is Perm and leaves no file") {
    test::TempDir t;
    auto md = Maildir::open(t.path() + "/Maildir", {.create = true});
    REQUIRE(md);
    for (bool use_splice : {true, false}) {
        CAPTURE(use_splice);
        PipeFeed feed(std::string(2 << 20, 'z'));
        FileOps ops;
        if (!use_splice) ops.splice = nullptr;
        auto w = writer(ops);
        StreamTail tail{.fd = feed.rd, .counted = 1000, .limit = 1 << 20};
        std::string_view parts[] = {"S: x\n\n"};
        auto s = w.stage_stream(*md, parts, tail);
        REQUIRE_FALSE(s);
        CHECK(s.error().kind == ErrorKind::Perm);
        CHECK(s.error().what.find("message too big") != std::string::npos);
        CHECK(tail.read <= (1u << 20) - 1000 + 1);
        CHECK(entries(md->path() + "/tmp").empty());
        CHECK(entries(md->path() + "/new").empty());
    }
}
