#include "core/rules/filter_test.hpp"

#include <istream>
#include <ostream>

#include "core/rules/classify.hpp"

namespace yubin::rules {

int filter_test(const std::string& rules_path, bool verbose, std::istream& in, std::ostream& out,
                std::ostream& err) {
    RuleSet rs;
    if (rules_path.empty()) {
        rs = RuleSet::defaults();
    } else {
        auto r = RuleSet::load_file(rules_path);
        if (!r) {
            err << "yubinctl: " << r.error().what << "\n";
            return kExitConfig;
        }
        rs = std::move(*r);
    }
    std::string msg;
    char buf[65536];
    while (msg.size() < kMaxTestMessageBytes && in.read(buf, sizeof buf).gcount() > 0) {
        msg.append(buf, static_cast<std::size_t>(in.gcount()));
    }
    bool cut = false;
    if (msg.size() > kMaxTestMessageBytes) {
        msg.resize(kMaxTestMessageBytes);
        cut = true;
    }
    const Verdict v = classify(rs, msg);
    if (v.matched) {
        out << "match " << v.rule << " " << v.action << "\n";
    } else {
        out << "clean\n";
    }
    if (verbose) {
        const auto subs = subjects(msg);
        if (subs.empty()) out << "  (no Subject)\n";
        for (const auto& s : subs) {
            out << "  subject:    " << s.decoded << "\n";
            out << "  normalized: " << s.normalized << "\n";
        }
        if (v.score != 0) out << "  score: " << v.score << " (threshold " << rs.threshold() << ")\n";
        if (v.truncated || cut) out << "  note: a size bound was reached; only part of the message was read\n";
    }
    return 0;
}

}  // namespace yubin::rules
