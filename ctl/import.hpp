// Parsers for the files of a server configured the old way (the four files
// the how-to keeps in step by hand), and the plan that `yubinctl import`
// applies to the store.
//
// SECURITY: the input files are local and administrator-owned, but they are
// parsed as untrusted text anyway: lines are bounded by
// limits::kMaxImportLineBytes (longer lines are reported and skipped), fields
// are validated as addresses/domains before anything reaches the store, and a
// bad line never stops the others from being read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace yubin::ctl {

// Where an item came from, for messages: "virtual, line 12".
struct Origin {
    std::string file;
    std::size_t line = 0;
};
std::string to_string(const Origin&);

struct ImportProblem {
    Origin where;
    std::string what;
};

struct ImportDomain {
    Origin where;
    std::string name;  // lower-case, validated
};
struct ImportMailbox {
    Origin where;
    std::string address;  // validated
    std::string maildir;  // as in the map, e.g. "example.com/taro/Maildir/"
};
struct ImportAlias {
    Origin where;
    std::string source;                // "user@domain" or "@domain"
    std::vector<std::string> targets;  // addresses (or "@domain" for a domain alias)
};
struct ImportPassword {
    Origin where;
    std::string address;
    std::string hash;                  // "{SCHEME}..." ({CRYPT} added when the file had no scheme)
    std::int64_t quota_bytes = 0;      // from userdb_quota_rule=*:storage=N, 0 = none
};

struct ImportPlan {
    std::vector<ImportDomain> domains;
    std::vector<ImportMailbox> mailboxes;
    std::vector<ImportAlias> aliases;
    std::vector<ImportPassword> passwords;
    std::vector<ImportProblem> problems;  // malformed lines, reported with their position
};

// Each parser appends what it understood to `plan`, and one problem per bad line.
// /etc/postfix/virtual_domains: one domain a line (a second column is ignored,
// so a Postfix lookup-table form "example.com OK" works too).
void parse_virtual_domains(std::string_view text, const std::string& file, ImportPlan& plan);
// /etc/postfix/virtual as virtual_mailbox_maps: "address  domain/user/Maildir/".
void parse_virtual_mailboxes(std::string_view text, const std::string& file, ImportPlan& plan);
// virtual(5) alias file: "pattern  address, address ...", continuation lines
// start with white space; "@domain" patterns are catch-alls or domain aliases;
// a pattern without "@" declares a virtual alias domain (added as a domain).
void parse_virtual_aliases(std::string_view text, const std::string& file, ImportPlan& plan);
// Dovecot passwd-file: "user:{SCHEME}hash:uid:gid:gecos:home:shell:extra", fields
// after the password optional; the user must be a full address.
void parse_dovecot_passwd(std::string_view text, const std::string& file, ImportPlan& plan);

// Sizes as administrators write them: "1048576", "10M", "512k", "1G" (powers of 1024; "B" optional).
std::optional<std::int64_t> parse_size(std::string_view s);

}  // namespace yubin::ctl
