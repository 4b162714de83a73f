#include "milter/server.hpp"

#include <chrono>

#include "milter/directory.hpp"

namespace yubin::milter {

Result<Snapshot> load_snapshot(const config::Config& cfg) {
    auto settings = std::make_shared<Settings>();
    auto nets = NetworkList::parse(cfg.get_list("milter_trusted_networks"));
    if (!nets) return fail(ErrorKind::Config, "milter_trusted_networks: " + nets.error().what);
    settings->trusted = std::move(*nets);
    settings->max_message_size = cfg.get_int("milter_max_message_size");
    settings->filter = cfg.get_bool("milter_filter");
    settings->filter_authenticated = cfg.get_bool("milter_filter_authenticated");
    settings->allow_discard = cfg.get_bool("milter_allow_discard");
    settings->count_body = cfg.get_bool("milter_count_body");
    const std::string mismatch = cfg.get("milter_sender_login_mismatch");
    settings->sender_login_mismatch = mismatch == "reject" ? LoginMismatch::Reject
                                      : mismatch == "warn" ? LoginMismatch::Warn
                                                           : LoginMismatch::Off;
    if (settings->filter) {
        const std::string file = cfg.get("milter_rules_file");
        if (file.empty()) {
            settings->rules = std::make_shared<const rules::RuleSet>(rules::RuleSet::defaults());
        } else {
            auto r = rules::RuleSet::load_file(file);
            if (!r) return fail(ErrorKind::Config, "milter_rules_file: " + r.error().what);
            settings->rules = std::make_shared<const rules::RuleSet>(std::move(*r));
        }
    }

    DirectoryOptions d;
    d.store_spec = cfg.get("store");
    d.store_options.recipient_delimiter = cfg.get("recipient_delimiter");
    d.store_options.busy_timeout = std::chrono::seconds(cfg.get_int("store_busy_timeout"));
    d.local_domains = cfg.get_list("milter_local_domains");
    d.default_max_message_size = cfg.get_int("default_max_message_size");
    auto dir = StoreDirectory::open(std::move(d));
    if (!dir) return fail(dir.error());
    return Snapshot{std::move(settings), std::move(*dir)};
}

}  // namespace yubin::milter
