#include "core/auth/service.hpp"

#include <chrono>

#include "core/store/address.hpp"

namespace yubin::auth {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

}  // namespace

Result<std::string> expand_user_template(std::string_view tmpl, const store::Mailbox& mb) {
    std::string out;
    out.reserve(tmpl.size() + 64);
    for (std::size_t i = 0; i < tmpl.size(); ++i) {
        if (tmpl[i] != '%') {
            out += tmpl[i];
            continue;
        }
        if (i + 1 == tmpl.size())
            return fail(ErrorKind::Config, "template \"" + std::string(tmpl) + "\" ends in %");
        switch (tmpl[++i]) {
            case '%':
                out += '%';
                break;
            case 'u':
                out += lower(mb.local_part) + "@" + mb.domain;
                break;
            case 'n':
                out += lower(mb.local_part);
                break;
            case 'd':
                out += mb.domain;
                break;
            case 'm': {
                std::string_view m = mb.maildir;
                while (!m.empty() && m.back() == '/') m.remove_suffix(1);
                out += m;
                break;
            }
            default:
                return fail(ErrorKind::Config, "template \"" + std::string(tmpl) + "\": unknown %" +
                                                   tmpl[i] + " (known: %u %n %d %m %%)");
        }
    }
    return out;
}

Service::Service(LiveStore reader, LiveStore writer, std::string scheme, bool rehash)
    : reader_(std::move(reader)),
      writer_(std::move(writer)),
      scheme_(std::move(scheme)),
      rehash_(rehash) {}

Result<Service> Service::create(const config::Config& cfg, ServiceOptions options) {
    const auto timeout = std::chrono::seconds(cfg.get_int("store_busy_timeout"));
    store::StoreOptions ro{.busy_timeout = timeout, .read_only = true};
    store::StoreOptions rw{.busy_timeout = timeout, .read_only = false};
    Service s(LiveStore(cfg.get("store"), ro), LiveStore(cfg.get("store"), rw),
              cfg.get("password_scheme"), options.rehash);
    s.uid_ = cfg.get_int("virtual_uid");
    s.gid_ = cfg.get_int("virtual_gid");
    s.home_ = cfg.get("auth_home");
    s.mail_ = cfg.get("auth_mail_location");
    const store::Mailbox probe{.address = "a@b.example",
                               .local_part = "a",
                               .domain = "b.example",
                               .maildir = "b.example/a/Maildir/"};
    for (const char* name : {"auth_home", "auth_mail_location"}) {
        auto t = expand_user_template(cfg.get(name), probe);
        if (!t) return fail(ErrorKind::Config, std::string(name) + ": " + t.error().what);
    }
    return s;
}

AuthResult Service::verify_plain(std::string_view user, std::string_view password) {
    auto ro = reader_.get();
    if (!ro) {
        AuthResult r;
        r.reason = "store: " + ro.error().what;
        return r;
    }
    Authenticator reader(**ro, scheme_);
    AuthResult r = reader.verify_plain(user, password);
    if (r.outcome == Outcome::TempFail) reader_.reset();
    if (r.outcome != Outcome::Ok || !rehash_ || !wants_rehash(r.mailbox.password, scheme_))
        return r;
    auto rw = writer_.get();
    if (!rw) {
        writer_.reset();
        r.reason = "rehash to " + scheme_ + " failed: " + rw.error().what;
        r.alert = true;
        return r;
    }
    Authenticator writer(**ro, scheme_, *rw);
    writer.rehash(r, password);
    if (r.alert) writer_.reset();
    return r;
}

AuthResult Service::lookup(std::string_view user) {
    auto ro = reader_.get();
    if (!ro) {
        AuthResult r;
        r.reason = "store: " + ro.error().what;
        return r;
    }
    Authenticator a(**ro, scheme_);
    AuthResult r = a.lookup(user);
    if (r.outcome == Outcome::TempFail) reader_.reset();
    return r;
}

Result<std::vector<std::string>> Service::list_users() {
    auto ro = reader_.get();
    if (!ro) return fail(ro.error());
    Authenticator a(**ro, scheme_);
    auto users = a.list_users();
    if (!users) reader_.reset();
    return users;
}

std::vector<std::pair<std::string, std::string>> Service::userdb_fields(
    const AuthResult& found) const {
    const store::Mailbox& mb = found.mailbox;
    std::vector<std::pair<std::string, std::string>> f;
    f.emplace_back("uid", std::to_string(uid_));
    f.emplace_back("gid", std::to_string(gid_));
    // Checked in create(): the templates cannot fail here.
    f.emplace_back("home", expand_user_template(home_, mb).value_or(""));
    f.emplace_back("mail", expand_user_template(mail_, mb).value_or(""));
    const std::int64_t bytes = mb.quota_bytes > 0 ? mb.quota_bytes : found.domain.quota_bytes;
    std::string rule;
    if (bytes > 0) rule = "*:storage=" + std::to_string(bytes) + "B";
    if (mb.quota_messages > 0)
        rule += (rule.empty() ? "*:messages=" : ":messages=") + std::to_string(mb.quota_messages);
    if (!rule.empty()) f.emplace_back("quota_rule", rule);
    return f;
}

}  // namespace yubin::auth
