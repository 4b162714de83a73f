#include "ctl/ctl.hpp"

#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "core/auth/authenticator.hpp"
#include "core/store/address.hpp"
#include "core/store/migrate.hpp"
#include "core/util/limits.hpp"
#include "core/util/strings.hpp"
#include "ctl/import.hpp"

namespace yubin::ctl {
namespace {

constexpr int kExitNoInput = 66;  // EX_NOINPUT: an import file cannot be read

std::string size_text(std::int64_t v) { return v == 0 ? std::string("-") : std::to_string(v); }

template <class T>
void apply_overrides(const OverrideSettings& set, T& out) {
    if (set.rate_limit) out.rate_limit = *set.rate_limit;
    if (set.recipient_limit) out.recipient_limit = *set.recipient_limit;
    if (set.spam_filter) out.spam_filter = *set.spam_filter;
}

// " rate_limit=... recipient_limit=N spam_filter=off" for what is set; "" if nothing is.
template <class T>
std::string overrides_text(const T& v) {
    std::string out;
    if (!v.rate_limit.empty()) out += " rate_limit=" + v.rate_limit;
    if (v.recipient_limit != 0) out += " recipient_limit=" + std::to_string(v.recipient_limit);
    if (v.spam_filter != store::SpamFilter::Inherit)
        out += " spam_filter=" + std::string(store::to_string(v.spam_filter));
    return out;
}

// "value" if set here, else "inherit" and what the domain (or the default) gives.
std::string with_origin(const std::string& own, const std::string& domain_value,
                        const std::string& fallback) {
    if (!own.empty()) return own;
    return "inherit (" + (domain_value.empty() ? fallback : "domain: " + domain_value) + ")";
}

// Reads one line with terminal echo off (when `noecho` and fd 0 is a tty).
bool read_line(std::istream& in, std::string& line, bool noecho) {
    termios saved{};
    bool restore = false;
    if (noecho && ::tcgetattr(STDIN_FILENO, &saved) == 0) {
        termios quiet = saved;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        restore = ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
    }
    line.reserve(limits::kMaxPasswordBytes + 2);  // avoid reallocations leaving copies behind
    // Keep at most one byte past the limit (the caller refuses it), however
    // long the line on standard input is.
    bool ok = false;
    char c = 0;
    while (in.get(c)) {
        ok = true;
        if (c == '\n') break;
        if (line.size() <= limits::kMaxPasswordBytes) line.push_back(c);
    }
    if (restore) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    if (ok && !line.empty() && line.back() == '\r') line.pop_back();
    return ok;
}

Result<std::string> read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) return fail(errno_error("cannot open " + path, errno ? errno : ENOENT));
    // Read in chunks and stop one chunk past the bound, so a huge file (or
    // /dev/zero) is refused instead of filling memory.
    std::string text;
    char buf[65536];
    while (f.read(buf, sizeof buf) || f.gcount() > 0) {
        text.append(buf, static_cast<std::size_t>(f.gcount()));
        if (text.size() > limits::kMaxImportFileBytes)
            return fail(ErrorKind::BadInput,
                        path + ": larger than " + std::to_string(limits::kMaxImportFileBytes) +
                            " bytes");
    }
    if (f.bad()) return fail(errno_error("cannot read " + path, errno ? errno : EIO));
    return text;
}

}  // namespace

int exit_code_for(ErrorKind k) {
    switch (k) {
        case ErrorKind::Temp: return kExitTempFail;
        case ErrorKind::Internal: return kExitTempFail;
        case ErrorKind::Perm: return kExitFail;
        case ErrorKind::NotFound: return kExitNoUser;
        case ErrorKind::BadInput: return kExitDataErr;
        case ErrorKind::Config: return kExitConfig;
    }
    return kExitTempFail;
}

Ctl::Ctl(config::Config cfg, Io io) : cfg_(std::move(cfg)), io_(io) {}

int Ctl::report(const Error& e) {
    io_.err << "yubinctl: " << (is_temporary(e.kind) ? "temporary failure: " : "") << e.what;
    if (e.kind == ErrorKind::Temp) io_.err << "; try again later";
    io_.err << '\n';
    return exit_code_for(e.kind);
}

Result<store::Store*> Ctl::store() {
    if (store_) return store_.get();
    auto s = open_spec(cfg_.get("store"), false);
    if (!s) return fail(s.error());
    store_ = std::move(*s);
    return store_.get();
}

Result<std::unique_ptr<store::Store>> Ctl::open_spec(const std::string& spec, bool read_only) {
    store::StoreOptions opt;
    opt.recipient_delimiter = cfg_.get("recipient_delimiter");
    opt.busy_timeout = std::chrono::seconds(cfg_.get_int("store_busy_timeout"));
    opt.read_only = read_only;
    // The first yubinctl run on a new server creates the database; make its
    // directory too, readable by the yubin daemons' group only.
    if (!read_only && spec.starts_with("sqlite:")) {
        std::filesystem::path dir = std::filesystem::path(spec.substr(7)).parent_path();
        std::error_code ec;
        if (!dir.empty() && !std::filesystem::exists(dir, ec)) {
            std::filesystem::create_directories(dir, ec);
            if (!ec) ::chmod(dir.c_str(), 0750);
        }
    }
    return store::open_store(spec, opt);
}

Result<passwd::Secret> Ctl::read_password(const PasswordSource& src) {
    std::string first;
    if (src.from_stdin) {
        if (!read_line(io_.in, first, false))
            return fail(ErrorKind::BadInput, "no password on standard input");
    } else {
        if (!io_.interactive)
            return fail(ErrorKind::BadInput,
                        "standard input is not a terminal: use --password-stdin");
        io_.err << "Password: " << std::flush;
        bool ok = read_line(io_.in, first, true);
        io_.err << '\n';
        if (!ok) return fail(ErrorKind::BadInput, "no password given");
        if (src.confirm) {
            std::string second;
            io_.err << "Retype password: " << std::flush;
            ok = read_line(io_.in, second, true);
            io_.err << '\n';
            passwd::Secret again(std::move(second));
            if (!ok || again.view() != first) {
                passwd::Secret wipe(std::move(first));
                return fail(ErrorKind::BadInput, "passwords do not match");
            }
        }
    }
    passwd::Secret secret(std::move(first));
    if (secret.empty()) return fail(ErrorKind::BadInput, "empty password refused");
    if (secret.view().size() > limits::kMaxPasswordBytes)
        return fail(ErrorKind::BadInput, "password too long");
    return secret;
}

Result<store::Mailbox> Ctl::existing_mailbox(const std::string& address) {
    auto a = store::parse_address(address);
    if (!a) return fail(a.error());
    auto st = store();
    if (!st) return fail(st.error());
    return (*st)->get_mailbox(address);
}

int Ctl::config_show(bool only_non_default, bool expand) {
    io_.out << cfg_.dump(only_non_default, expand);
    return kExitOk;
}

// ---- domains ---------------------------------------------------------------

int Ctl::domain_add(const std::string& name, const DomainSettings& set) {
    auto d = store::parse_domain(name);
    if (!d) return report(d.error());
    auto st = store();
    if (!st) return report(st.error());
    store::Domain dom;
    dom.name = *d;
    dom.max_message_size = set.max_message_size.value_or(0);
    dom.quota_bytes = set.quota_bytes.value_or(0);
    dom.active = set.active.value_or(true);
    apply_overrides(set.overrides, dom);
    if (auto r = (*st)->add_domain(dom); !r) return report(r.error());
    io_.out << "domain " << dom.name << " added\n";
    return kExitOk;
}

int Ctl::domain_set(const std::string& name, const DomainSettings& set) {
    auto d = store::parse_domain(name);
    if (!d) return report(d.error());
    auto st = store();
    if (!st) return report(st.error());
    auto dom = (*st)->get_domain(*d);
    if (!dom) return report(dom.error());
    if (set.max_message_size) dom->max_message_size = *set.max_message_size;
    if (set.quota_bytes) dom->quota_bytes = *set.quota_bytes;
    if (set.active) dom->active = *set.active;
    apply_overrides(set.overrides, *dom);
    if (auto r = (*st)->update_domain(*dom); !r) return report(r.error());
    io_.out << "domain " << dom->name << " updated\n";
    return kExitOk;
}

int Ctl::domain_del(const std::string& name, bool force) {
    auto d = store::parse_domain(name);
    if (!d) return report(d.error());
    auto st = store();
    if (!st) return report(st.error());
    if (auto r = (*st)->delete_domain(*d, force); !r) {
        if (r.error().kind == ErrorKind::Perm && !force)
            return report({ErrorKind::Perm, r.error().what + " (use --force to delete them too)"});
        return report(r.error());
    }
    io_.out << "domain " << *d << " deleted\n";
    return kExitOk;
}

int Ctl::domain_list() {
    auto st = store();
    if (!st) return report(st.error());
    auto list = (*st)->list_domains();
    if (!list) return report(list.error());
    for (const auto& d : *list) {
        io_.out << d.name << (d.active ? "" : " (disabled)") << overrides_text(d) << '\n';
    }
    return kExitOk;
}

int Ctl::domain_show(const std::string& name) {
    auto d = store::parse_domain(name);
    if (!d) return report(d.error());
    auto st = store();
    if (!st) return report(st.error());
    auto dom = (*st)->get_domain(*d);
    if (!dom) return report(dom.error());
    io_.out << "domain: " << dom->name << '\n'
            << "active: " << (dom->active ? "yes" : "no") << '\n'
            << "quota_bytes: " << size_text(dom->quota_bytes) << '\n'
            << "max_message_size: " << size_text(dom->max_message_size) << '\n'
            << "rate_limit: "
            << (dom->rate_limit.empty() ? "inherit (policyd_rate_sasl_user)" : dom->rate_limit)
            << '\n'
            << "recipient_limit: "
            << (dom->recipient_limit == 0 ? "inherit (policyd_recipient_limit_authenticated)"
                                          : std::to_string(dom->recipient_limit))
            << '\n'
            << "spam_filter: "
            << (dom->spam_filter == store::SpamFilter::Inherit
                    ? std::string("inherit (on)")
                    : std::string(store::to_string(dom->spam_filter)))
            << '\n'
            << "created: " << dom->created << '\n';
    return kExitOk;
}

// ---- users -----------------------------------------------------------------

int Ctl::user_add(const std::string& address, const MailboxSettings& set,
                  const PasswordSource& src, bool no_password) {
    auto a = store::parse_address(address);
    if (!a) return report(a.error());
    auto st = store();
    if (!st) return report(st.error());
    // Check the domain and duplicates before asking for a password.
    if (auto dom = (*st)->get_domain(a->domain); !dom) {
        if (dom.error().kind == ErrorKind::NotFound)
            return report({ErrorKind::NotFound, "unknown domain " + to_lower(a->domain) +
                                                    " (add it with: yubinctl domain add)"});
        return report(dom.error());
    }
    if (auto existing = (*st)->get_mailbox(address); existing)
        return report({ErrorKind::Perm, "mailbox " + existing->address + " already exists"});
    else if (existing.error().kind != ErrorKind::NotFound)
        return report(existing.error());

    store::Mailbox mb;
    mb.address = a->local + "@" + to_lower(a->domain);
    mb.local_part = a->local;
    mb.domain = to_lower(a->domain);
    mb.max_message_size = set.max_message_size.value_or(0);
    mb.quota_bytes = set.quota_bytes.value_or(0);
    mb.quota_messages = set.quota_messages.value_or(0);
    mb.active = set.active.value_or(true);
    apply_overrides(set.overrides, mb);
    if (!no_password) {
        auto pw = read_password(src);
        if (!pw) return report(pw.error());
        auto h = passwd::hash(pw->view(), cfg_.get("password_scheme"));
        if (!h) return report(h.error());
        mb.password = std::move(*h);
    }
    if (auto r = (*st)->add_mailbox(mb); !r) return report(r.error());
    io_.out << "user " << mb.address << " added\n";
    return kExitOk;
}

int Ctl::user_set(const std::string& address, const MailboxSettings& set) {
    auto mb = existing_mailbox(address);
    if (!mb) return report(mb.error());
    if (set.max_message_size) mb->max_message_size = *set.max_message_size;
    if (set.quota_bytes) mb->quota_bytes = *set.quota_bytes;
    if (set.quota_messages) mb->quota_messages = *set.quota_messages;
    if (set.active) mb->active = *set.active;
    apply_overrides(set.overrides, *mb);
    if (auto r = store_->update_mailbox(*mb); !r) return report(r.error());
    io_.out << "user " << mb->address << " updated\n";
    return kExitOk;
}

int Ctl::user_del(const std::string& address) {
    auto a = store::parse_address(address);
    if (!a) return report(a.error());
    auto st = store();
    if (!st) return report(st.error());
    if (auto r = (*st)->delete_mailbox(address); !r) return report(r.error());
    // The Maildir stays on disk: deleting mail is the administrator's explicit step.
    io_.out << "user " << address << " deleted (its Maildir was kept)\n";
    return kExitOk;
}

int Ctl::user_list(const std::string& domain) {
    std::string dom;
    if (!domain.empty()) {
        auto d = store::parse_domain(domain);
        if (!d) return report(d.error());
        dom = *d;
    }
    auto st = store();
    if (!st) return report(st.error());
    if (!dom.empty()) {
        if (auto r = (*st)->get_domain(dom); !r) return report(r.error());
    }
    auto list = (*st)->list_mailboxes(dom);
    if (!list) return report(list.error());
    for (const auto& m : *list)
        io_.out << m.address << (m.active ? "" : " (disabled)") << overrides_text(m) << '\n';
    return kExitOk;
}

int Ctl::user_show(const std::string& address) {
    auto mb = existing_mailbox(address);
    if (!mb) return report(mb.error());
    std::string scheme = passwd::scheme_of(mb->password);
    io_.out << "address: " << mb->address << '\n'
            << "active: " << (mb->active ? "yes" : "no") << '\n'
            << "password: " << (mb->password.empty() ? "none (cannot log in)" : "{" + scheme + "}")
            << '\n'
            << "maildir: " << cfg_.get("virtual_mailbox_base") << '/' << mb->maildir << '\n'
            << "quota_bytes: " << size_text(mb->quota_bytes) << '\n'
            << "quota_messages: " << size_text(mb->quota_messages) << '\n'
            << "max_message_size: " << size_text(mb->max_message_size) << '\n';
    // The overrides with where an unset one comes from.
    auto dom = store_->get_domain(mb->domain);
    if (!dom && dom.error().kind != ErrorKind::NotFound) return report(dom.error());
    const store::Domain none{};
    const store::Domain& d = dom ? *dom : none;
    auto num = [](std::int64_t v) { return v == 0 ? std::string() : std::to_string(v); };
    auto filter = [](store::SpamFilter f) {
        return f == store::SpamFilter::Inherit ? std::string() : std::string(store::to_string(f));
    };
    io_.out << "rate_limit: " << with_origin(mb->rate_limit, d.rate_limit, "policyd_rate_sasl_user")
            << '\n'
            << "recipient_limit: "
            << with_origin(num(mb->recipient_limit), num(d.recipient_limit),
                           "policyd_recipient_limit_authenticated")
            << '\n'
            << "spam_filter: " << with_origin(filter(mb->spam_filter), filter(d.spam_filter), "on")
            << '\n'
            << "created: " << mb->created << '\n';
    return kExitOk;
}

int Ctl::user_passwd(const std::string& address, const PasswordSource& src) {
    auto mb = existing_mailbox(address);
    if (!mb) return report(mb.error());
    auto pw = read_password(src);
    if (!pw) return report(pw.error());
    auto h = passwd::hash(pw->view(), cfg_.get("password_scheme"));
    if (!h) return report(h.error());
    if (auto r = store_->set_password(mb->address, *h); !r) return report(r.error());
    io_.out << "password of " << mb->address << " changed\n";
    return kExitOk;
}

// ---- aliases ---------------------------------------------------------------

namespace {
// "user@domain" or "@domain" in canonical form (domain lower-cased).
Result<std::string> alias_address(std::string_view s) {
    if (!s.empty() && s.front() == '@') {
        auto d = store::parse_domain(s.substr(1));
        if (!d) return fail(d.error());
        return "@" + *d;
    }
    auto a = store::parse_address(s);
    if (!a) return fail(a.error());
    return a->local + "@" + to_lower(a->domain);
}
}  // namespace

int Ctl::alias_add(const std::string& source, const std::vector<std::string>& targets) {
    auto src = alias_address(source);
    if (!src) return report(src.error());
    std::vector<std::string> canon;
    for (const auto& t : targets) {
        auto c = alias_address(t);
        if (!c) return report(c.error());
        // A domain alias maps a whole domain to a whole domain, nothing else.
        if (c->front() == '@' && src->front() != '@')
            return report({ErrorKind::BadInput,
                           "a target of the form @domain needs a source of the form @domain"});
        canon.push_back(std::move(*c));
    }
    if (canon.empty()) return report({ErrorKind::BadInput, "no target address"});
    auto st = store();
    if (!st) return report(st.error());
    auto r = (*st)->transaction([&](store::Store& s) -> Status {
        for (const auto& t : canon) {
            if (auto a = s.add_alias({*src, t, true}); !a) return a;
        }
        return {};
    });
    if (!r) return report(r.error());
    for (const auto& t : canon) io_.out << "alias " << *src << " -> " << t << " added\n";
    return kExitOk;
}

int Ctl::alias_del(const std::string& source, const std::string& target) {
    auto src = alias_address(source);
    if (!src) return report(src.error());
    std::string tgt;
    if (!target.empty()) {
        auto c = alias_address(target);
        if (!c) return report(c.error());
        tgt = *c;
    }
    auto st = store();
    if (!st) return report(st.error());
    if (auto r = (*st)->delete_alias(*src, tgt); !r) return report(r.error());
    io_.out << "alias " << *src << (tgt.empty() ? "" : " -> " + tgt) << " deleted\n";
    return kExitOk;
}

int Ctl::alias_list(const std::string& domain) {
    std::string dom;
    if (!domain.empty()) {
        auto d = store::parse_domain(domain);
        if (!d) return report(d.error());
        dom = *d;
    }
    auto st = store();
    if (!st) return report(st.error());
    auto list = (*st)->list_aliases(dom);
    if (!list) return report(list.error());
    for (const auto& a : *list)
        io_.out << a.source << ' ' << a.target << (a.active ? "" : " (disabled)") << '\n';
    return kExitOk;
}

// ---- auth test -------------------------------------------------------------

int Ctl::auth_test(const std::string& address) {
    auto pw = read_password({.from_stdin = !io_.interactive, .confirm = false});
    if (!pw) return report(pw.error());
    auto st = store();
    if (!st) return report(st.error());
    // The same check as every login (Dovecot, saslauthd), without writing a rehash:
    // a test must not change the store.
    auth::Authenticator authenticator(**st, cfg_.get("password_scheme"));
    auto r = authenticator.verify_plain(address, pw->view());
    switch (r.outcome) {
        case auth::Outcome::Ok:
            io_.out << "ok\n";
            // Verify-only schemes are never the default, so this is the rehash rule.
            if (!iequals(passwd::scheme_of(r.mailbox.password), cfg_.get("password_scheme")))
                io_.err << "yubinctl: note: the stored hash of " << r.mailbox.address
                        << " is marked for rehash; it is upgraded at the next login\n";
            return kExitOk;
        case auth::Outcome::TempFail:
            return report({ErrorKind::Temp, r.reason});
        case auth::Outcome::UserUnknown:
        case auth::Outcome::PasswordMismatch:
        case auth::Outcome::Disabled:
            break;
    }
    io_.out << "fail\n";
    io_.err << "yubinctl: auth test " << sanitize_for_log(address) << ": "
            << (r.reason.empty() ? std::string(auth::to_string(r.outcome)) : r.reason) << '\n';
    return kExitFail;
}

// ---- import ----------------------------------------------------------------

int Ctl::import(const ImportFiles& files) {
    ImportPlan plan;
    struct Input {
        const std::string& path;
        void (*parse)(std::string_view, const std::string&, ImportPlan&);
    };
    const Input inputs[] = {
        {files.virtual_domains, parse_virtual_domains},
        {files.virtual_mailboxes, parse_virtual_mailboxes},
        {files.dovecot_passwd, parse_dovecot_passwd},
        {files.aliases, parse_virtual_aliases},
    };
    bool any = false;
    for (const auto& in : inputs) {
        if (in.path.empty()) continue;
        any = true;
        auto text = read_file(in.path);
        if (!text) {
            io_.err << "yubinctl: import: " << text.error().what << '\n';
            return kExitNoInput;
        }
        in.parse(*text, in.path, plan);
    }
    if (!any) {
        io_.err << "yubinctl: import: name at least one file (--virtual-domains, --virtual, "
                   "--aliases, --dovecot-passwd)\n";
        return kExitUsage;
    }
    for (const auto& p : plan.passwords) {
        if (!passwd::can_verify(passwd::scheme_of(p.hash)))
            plan.problems.push_back({p.where, "unsupported password scheme {" +
                                                  passwd::scheme_of(p.hash) + "}"});
    }
    auto print_problems = [&] {
        for (const auto& p : plan.problems)
            io_.err << "yubinctl: import: " << to_string(p.where) << ": " << p.what << '\n';
    };
    if (files.strict && !plan.problems.empty()) {
        print_problems();
        io_.err << "yubinctl: import: " << plan.problems.size()
                << " bad line(s); nothing written (--strict)\n";
        return kExitDataErr;
    }

    auto st = store();
    if (!st) return report(st.error());

    struct Count { int added = 0, skipped = 0; };
    Count domains, mailboxes, passwords, aliases;
    std::vector<ImportProblem> late;  // problems found against the store
    const Error kDryRun{ErrorKind::Perm, "dry run"};

    auto body = [&](store::Store& s) -> Status {
        auto problem = [&](const Origin& o, const Error& e) -> Status {
            if (is_temporary(e.kind) || files.strict) {
                Error out = e;
                out.what = to_string(o) + ": " + e.what;
                return fail(std::move(out));
            }
            late.push_back({o, e.what});
            return {};
        };
        for (const auto& d : plan.domains) {
            auto have = s.get_domain(d.name);
            if (have) { ++domains.skipped; continue; }
            if (have.error().kind != ErrorKind::NotFound) return problem(d.where, have.error());
            store::Domain dom;
            dom.name = d.name;
            if (auto r = s.add_domain(dom); !r) {
                if (auto p = problem(d.where, r.error()); !p) return p;
                continue;
            }
            ++domains.added;
        }
        auto ensure_mailbox = [&](const Origin& o, const std::string& addr,
                                  const std::string& maildir, bool& added) -> Result<bool> {
            added = false;
            auto have = s.get_mailbox(addr);
            if (have) return true;
            if (have.error().kind != ErrorKind::NotFound) return fail(have.error());
            auto a = store::parse_address(addr);
            if (!a) return fail(a.error());
            store::Mailbox mb;
            mb.address = addr;
            mb.local_part = a->local;
            mb.domain = to_lower(a->domain);
            mb.maildir = maildir;
            if (auto r = s.add_mailbox(mb); !r) {
                if (auto p = problem(o, r.error()); !p) return fail(p.error());
                return false;
            }
            added = true;
            return true;
        };
        for (const auto& m : plan.mailboxes) {
            bool added = false;
            auto ok = ensure_mailbox(m.where, m.address, m.maildir, added);
            if (!ok) return problem(m.where, ok.error());
            if (added) ++mailboxes.added;
            else if (*ok) ++mailboxes.skipped;
        }
        for (const auto& p : plan.passwords) {
            if (!passwd::can_verify(passwd::scheme_of(p.hash))) continue;  // reported above
            bool added = false;
            auto ok = ensure_mailbox(p.where, p.address, "", added);
            if (!ok) return problem(p.where, ok.error());
            if (!*ok) continue;
            if (added) ++mailboxes.added;
            auto mb = s.get_mailbox(p.address);
            if (!mb) return problem(p.where, mb.error());
            if (!mb->password.empty()) {
                // Never overwrite a password set since the last import.
                ++passwords.skipped;
                continue;
            }
            mb->password = p.hash;
            if (p.quota_bytes != 0 && mb->quota_bytes == 0) mb->quota_bytes = p.quota_bytes;
            if (auto r = s.update_mailbox(*mb); !r) {
                if (auto e = problem(p.where, r.error()); !e) return e;
                continue;
            }
            ++passwords.added;
        }
        for (const auto& a : plan.aliases) {
            for (const auto& t : a.targets) {
                auto r = s.add_alias({a.source, t, true});
                if (r) { ++aliases.added; continue; }
                if (r.error().kind == ErrorKind::Perm) { ++aliases.skipped; continue; }
                if (auto e = problem(a.where, r.error()); !e) return e;
            }
        }
        if (files.dry_run) return fail(kDryRun);
        return {};
    };
    auto r = (*st)->transaction(body);
    bool dry = !r && files.dry_run && r.error().what == kDryRun.what;
    plan.problems.insert(plan.problems.end(), late.begin(), late.end());
    print_problems();
    if (!r && !dry) {
        int code = report(r.error());
        io_.err << "yubinctl: import: nothing written\n";
        return code;
    }
    io_.out << (dry ? "import (dry run, nothing written): " : "import: ")
            << fmt::format("domains {} added, {} skipped; mailboxes {} added, {} skipped; "
                           "passwords {} set, {} kept; aliases {} added, {} skipped; "
                           "{} bad line(s)\n",
                           domains.added, domains.skipped, mailboxes.added, mailboxes.skipped,
                           passwords.added, passwords.skipped, aliases.added, aliases.skipped,
                           plan.problems.size());
    return plan.problems.empty() ? kExitOk : kExitDataErr;
}

int Ctl::store_upgrade() {
    const std::string spec = cfg_.get("store");
    if (spec.starts_with("sqlite:") && ::access(spec.c_str() + 7, F_OK) != 0 && errno == ENOENT) {
        io_.out << "store upgrade: " << spec.substr(7)
                << " does not exist yet; nothing to upgrade (the first write creates it)\n";
        return kExitOk;
    }
    auto s = store();
    if (!s) return report(s.error());
    io_.out << "store upgrade: " << spec << ": schema is current\n";
    return kExitOk;
}

int Ctl::store_migrate(const std::string& from, const std::string& to_spec) {
    const std::string to = to_spec.empty() ? cfg_.get("store") : to_spec;
    if (from == to) {
        io_.err << "yubinctl: store migrate: --from and --to name the same store: " << from << '\n';
        return kExitUsage;
    }
    // A mistyped source must not become a new empty database (and a silent
    // "0 added"): the source is opened read-only and must exist.
    if (from.starts_with("sqlite:") && ::access(from.c_str() + 7, F_OK) != 0) {
        io_.err << "yubinctl: store migrate: " << from.substr(7) << ": "
                << std::strerror(errno) << '\n';
        return kExitNoInput;
    }
    auto src = open_spec(from, true);
    if (!src) return report(src.error());
    auto dst = open_spec(to, false);
    if (!dst) return report(dst.error());

    store::MigrateSummary summary;
    auto st = store::migrate_store(**src, **dst, io_.out, &summary);
    if (!st) {
        int code = report(st.error());
        if (is_temporary(st.error().kind))
            io_.err << "yubinctl: store migrate: stopped; what was copied stays, run the same "
                       "command again to finish\n";
        return code;
    }
    if (summary.added() == 0)
        io_.out << "store migrate: nothing to do, " << to << " already has everything in "
                << from << '\n';
    else
        io_.out << "store migrate: " << summary.added() << " entries copied from " << from
                << " to " << to << '\n';
    return kExitOk;
}

}  // namespace yubin::ctl
