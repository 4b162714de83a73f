// The report of yubinctl check: one line per check ("ok", "warn" or "FAIL",
// the check's name, a detail), indented notes under it, and a final
// "N passed, M failed, W warnings"; or the same as one JSON document.
#pragma once

#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace yubin::ctl::check {

enum class Outcome { Ok, Warn, Fail };

struct CheckResult {
    std::string name;
    Outcome outcome = Outcome::Fail;
    std::string detail;
    std::vector<std::string> notes;
};

class Report {
public:
    // LIVE: where text lines go as results arrive (nullptr for JSON output).
    explicit Report(std::ostream* live) : live_(live) {}
    void add(CheckResult);
    void ok(std::string name, std::string detail) { add({std::move(name), Outcome::Ok, std::move(detail), {}}); }
    void warn(std::string name, std::string detail) { add({std::move(name), Outcome::Warn, std::move(detail), {}}); }
    void fail(std::string name, std::string detail) { add({std::move(name), Outcome::Fail, std::move(detail), {}}); }

    [[nodiscard]] int passed() const { return count(Outcome::Ok); }
    [[nodiscard]] int failed() const { return count(Outcome::Fail); }
    [[nodiscard]] int warnings() const { return count(Outcome::Warn); }
    [[nodiscard]] const std::vector<CheckResult>& results() const { return results_; }
    [[nodiscard]] std::string summary() const;  // "N passed, M failed, W warnings"
    void print_json(std::ostream&) const;

private:
    [[nodiscard]] int count(Outcome) const;
    std::ostream* live_;
    std::vector<CheckResult> results_;
};

[[nodiscard]] std::string format_result(const CheckResult&);  // the text line(s), with '\n'
[[nodiscard]] std::string json_string(std::string_view);       // quoted and escaped
[[nodiscard]] std::string_view outcome_name(Outcome);          // "ok", "warn", "FAIL"

}  // namespace yubin::ctl::check
