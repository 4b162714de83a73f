// SECURITY: parses yubin.cf, which only root should be able to write, but a
// typo or a hostile edit must not crash a daemon that runs as root: the file
// is bounded (limits::kMaxConfigBytes, else an error), each physical line is
// bounded (limits::kMaxLineBytes, else an error, never truncated), a NUL byte
// is an error, $name expansion is cached per parameter and nested at most
// limits::kMaxExpansionDepth deep (which also bounds the recursion, including
// nested ${name?...} text), and each expanded value is bounded like the file.
#include "core/config/config.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/config/value.hpp"
#include "core/util/fd.hpp"
#include "core/util/limits.hpp"
#include "core/util/strings.hpp"

namespace yubin::config {
namespace {

bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

const Param* lookup(std::span<const Param> table, std::string_view name) {
    auto it = std::lower_bound(table.begin(), table.end(), name,
                               [](const Param& p, std::string_view n) { return p.name < n; });
    return it != table.end() && it->name == name ? &*it : nullptr;
}

std::string shown(std::string_view v) {
    return sanitize_for_log(v, 200);
}

}  // namespace

// Builds a Config: reads logical lines, then expands and checks every
// parameter. Every error names the file, and the line and parameter when
// there is one.
class Loader {
public:
    Loader(std::span<const Param> table, std::string_view filename) : filename_(filename) {
        cfg_.table_ = table;
        cfg_.path_ = std::string(filename);
        cfg_.values_.resize(table.size());
        for (std::size_t i = 0; i < table.size(); ++i)
            cfg_.values_[i].raw = std::string(table[i].default_value);
        state_.assign(table.size(), State::Todo);
        height_.assign(table.size(), 0);
    }

    Result<Config> run(std::string_view text) {
        if (auto r = read_lines(text); !r) return fail(r.error());
        if (auto r = expand_all(); !r) return fail(r.error());
        return std::move(cfg_);
    }

private:
    enum class State { Todo, Busy, Done };

    // Where an expansion error is reported: at the parameter whose text holds
    // the fault, or at the top-level parameter for faults of the whole chain
    // (loop, depth, size), which is the one an administrator reads first.
    struct ExpandError {
        bool at_top;
        std::size_t owner;
        std::string what;
    };
    template <class T>
    using XResult = tl::expected<T, ExpandError>;

    tl::unexpected<Error> line_error(int line, std::string what) const {
        return fail(ErrorKind::Config, fmt::format("{}, line {}: {}", filename_, line, what));
    }

    tl::unexpected<Error> param_error(std::size_t i, std::string_view what) const {
        const auto& v = cfg_.values_[i];
        const auto name = cfg_.table_[i].name;
        if (v.set) return line_error(v.line, fmt::format("parameter \"{}\": {}", name, what));
        return fail(ErrorKind::Config, fmt::format("{}: parameter \"{}\" (default \"{}\"): {}",
                                                   filename_, name, shown(v.raw), what));
    }

    // Postfix main.cf lines (postconf(5)): blank lines and lines whose first
    // non-space byte is "#" are ignored, also between continuation lines; a
    // line starting with white space continues the logical line before it.
    // "#" elsewhere is part of the value, as in Postfix.
    Status read_lines(std::string_view text) {
        if (text.size() > limits::kMaxConfigBytes)
            return fail(ErrorKind::Config, fmt::format("{}: file too large (more than {} bytes)",
                                                       filename_, limits::kMaxConfigBytes));
        std::string logical;
        int logical_line = 0;
        int lineno = 0;
        std::size_t pos = 0;
        while (pos < text.size()) {
            ++lineno;
            auto nl = text.find('\n', pos);
            if (nl == std::string_view::npos) nl = text.size();
            std::string_view line = text.substr(pos, nl - pos);
            pos = nl + 1;
            // CRLF files count the same as LF files against the bound.
            if (line.ends_with('\r')) line.remove_suffix(1);
            if (line.size() > limits::kMaxLineBytes)
                return line_error(lineno,
                                  fmt::format("line longer than {} bytes", limits::kMaxLineBytes));
            if (line.find('\0') != std::string_view::npos) return line_error(lineno, "NUL byte");
            auto body = trim(line);
            if (body.empty() || body.front() == '#') continue;
            if (is_space(line.front())) {
                if (logical_line == 0)
                    return line_error(lineno,
                                      "continuation line (starting with white space) "
                                      "before any parameter");
                logical += ' ';
                logical += body;
                continue;
            }
            if (logical_line != 0) {
                if (auto r = assign(logical_line, logical); !r) return r;
            }
            logical.assign(body);
            logical_line = lineno;
        }
        if (logical_line != 0) return assign(logical_line, logical);
        return {};
    }

    Status assign(int line, std::string_view text) {
        auto eq = text.find('=');
        if (eq == std::string_view::npos)
            return line_error(line, fmt::format("missing \"=\" in \"{}\"", shown(text)));
        auto name = trim(text.substr(0, eq));
        if (name.empty()) return line_error(line, "missing parameter name before \"=\"");
        if (!std::all_of(name.begin(), name.end(), is_name_char))
            return line_error(line, fmt::format("invalid parameter name \"{}\"", shown(name)));
        const Param* p = lookup(cfg_.table_, name);
        if (!p) return line_error(line, fmt::format("unknown parameter \"{}\"", name));
        // A later assignment replaces an earlier one, as in Postfix.
        auto& v = cfg_.values_[static_cast<std::size_t>(p - cfg_.table_.data())];
        v.raw = std::string(trim(text.substr(eq + 1)));
        v.set = true;
        v.line = line;
        return {};
    }

    // In file order first, so the first error reported is the first in the
    // file; then the defaults, which may refer to parameters set in the file.
    Status expand_all() {
        std::vector<std::size_t> order(cfg_.values_.size());
        for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
        std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
            const auto& va = cfg_.values_[a];
            const auto& vb = cfg_.values_[b];
            if (va.set != vb.set) return va.set;
            return va.line < vb.line;
        });
        for (auto i : order) {
            stack_.clear();
            if (auto r = expand_param(i, 0); !r) {
                const auto& e = r.error();
                return param_error(e.at_top ? i : e.owner, e.what);
            }
        }
        return {};
    }

    XResult<void> expand_param(std::size_t i, int depth) {
        if (state_[i] == State::Done) return {};
        state_[i] = State::Busy;
        stack_.push_back(i);
        int height = 0;
        auto text = expand_text(cfg_.values_[i].raw, i, depth, height);
        if (!text) return tl::unexpected(text.error());
        stack_.pop_back();
        auto& v = cfg_.values_[i];
        auto checked = check_value(cfg_.table_[i], *text);
        if (!checked) {
            std::string what = checked.error().what;
            if (*text != v.raw) what += fmt::format(" (expanded from \"{}\")", shown(v.raw));
            return tl::unexpected(ExpandError{false, i, std::move(what)});
        }
        v.expanded = std::move(checked->value);
        v.number = checked->number;
        height_[i] = height;
        state_[i] = State::Done;
        return {};
    }

    // Postfix mac_expand(3) syntax: $name, ${name}, $(name), $$ for "$",
    // ${name?text} (text if $name is not empty), ${name:text} (text if
    // $name is empty). Unlike Postfix, text in a conditional is expanded and
    // checked even when unused, so an error cannot hide until the day a
    // parameter changes. `height` returns how deep this text nests.
    XResult<std::string> expand_text(std::string_view text, std::size_t owner, int depth,
                                     int& height) {
        auto err = [&](std::string what) {
            return tl::unexpected(ExpandError{false, owner, std::move(what)});
        };
        std::string out;
        std::size_t i = 0;
        while (i < text.size()) {
            auto dollar = text.find('$', i);
            if (dollar == std::string_view::npos) dollar = text.size();
            out.append(text.substr(i, dollar - i));
            i = dollar;
            if (i == text.size()) break;
            if (i + 1 == text.size()) return err("\"$\" at the end of the value (use \"$$\")");
            char c = text[i + 1];
            if (c == '$') {
                out += '$';
                i += 2;
                continue;
            }
            std::string_view name;
            std::string_view cond_text;
            char cond = 0;
            if (c == '{' || c == '(') {
                const char open = c;
                const char close = c == '{' ? '}' : ')';
                std::size_t j = i + 2;
                while (j < text.size() && is_name_char(text[j])) ++j;
                name = text.substr(i + 2, j - i - 2);
                if (name.empty())
                    return err(fmt::format("missing parameter name after \"${}\"", open));
                if (j == text.size())
                    return err(fmt::format("missing \"{}\" after \"${}{}\"", close, open, name));
                if (text[j] == close) {
                    i = j + 1;
                } else if (text[j] == '?' || text[j] == ':') {
                    cond = text[j];
                    int level = 1;
                    std::size_t k = j + 1;
                    for (; k < text.size(); ++k) {
                        if (text[k] == open) ++level;
                        if (text[k] == close && --level == 0) break;
                    }
                    if (k == text.size())
                        return err(fmt::format("missing \"{}\" after \"${}{}{}\"", close, open,
                                               name, cond));
                    cond_text = text.substr(j + 1, k - j - 1);
                    i = k + 1;
                } else {
                    return err(fmt::format("invalid character \"{}\" after \"${}{}\"",
                                           shown(text.substr(j, 1)), open, name));
                }
            } else {
                std::size_t j = i + 1;
                while (j < text.size() && is_name_char(text[j])) ++j;
                name = text.substr(i + 1, j - i - 1);
                if (name.empty())
                    return err(fmt::format("invalid \"$\" before \"{}\" (use \"$$\" for \"$\")",
                                           shown(text.substr(i + 1, 1))));
                i = j;
            }

            const Param* p = lookup(cfg_.table_, name);
            if (!p) return err(fmt::format("expansion of unknown parameter \"{}\"", name));
            auto ref = static_cast<std::size_t>(p - cfg_.table_.data());
            if (state_[ref] == State::Busy) {
                std::string chain;
                auto from = std::find(stack_.begin(), stack_.end(), ref);
                for (auto it = from; it != stack_.end(); ++it)
                    chain += fmt::format("${} -> ", cfg_.table_[*it].name);
                chain += fmt::format("${}", name);
                return tl::unexpected(
                    ExpandError{true, owner, fmt::format("expansion loop: {}", chain)});
            }
            if (depth + 1 > limits::kMaxExpansionDepth)
                return tl::unexpected(ExpandError{true, owner, too_deep()});
            if (auto r = expand_param(ref, depth + 1); !r) return tl::unexpected(r.error());
            if (depth + 1 + height_[ref] > limits::kMaxExpansionDepth)
                return tl::unexpected(ExpandError{true, owner, too_deep()});
            height = std::max(height, 1 + height_[ref]);
            const std::string& value = cfg_.values_[ref].expanded;

            if (cond == 0) {
                out += value;
            } else {
                int inner_height = 0;
                auto inner = expand_text(cond_text, owner, depth + 1, inner_height);
                if (!inner) return inner;
                height = std::max(height, 1 + inner_height);
                if ((cond == '?') == !value.empty()) out += *inner;
            }
            if (out.size() > limits::kMaxConfigBytes)
                return tl::unexpected(ExpandError{
                    true, owner,
                    fmt::format("expanded value longer than {} bytes", limits::kMaxConfigBytes)});
        }
        return out;
    }

    static std::string too_deep() {
        return fmt::format("expansion nested more than {} levels deep", limits::kMaxExpansionDepth);
    }

    std::string filename_;
    Config cfg_;
    std::vector<State> state_;
    std::vector<int> height_;
    std::vector<std::size_t> stack_;  // parameters being expanded, outermost first
};

Config Config::defaults() {
    auto c = parse("", "(defaults)");
    if (!c) {
        // The schema test makes this unreachable; a broken default is a bug.
        std::fprintf(stderr, "yubin::config: invalid built-in default: %s\n",
                     c.error().what.c_str());
        std::abort();
    }
    c->path_.clear();
    return std::move(*c);
}

Result<Config> Config::parse(std::string_view text, std::string_view filename) {
    return parse(text, filename, schema());
}

Result<Config> Config::parse(std::string_view text, std::string_view filename,
                             std::span<const Param> table) {
    Loader loader(table, filename);
    return loader.run(text);
}

Result<Config> Config::load_file(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (!fd)
        return fail(ErrorKind::Config,
                    fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
    std::string text;
    char buf[8192];
    // One byte past the limit is enough for parse() to report "too large".
    while (text.size() <= limits::kMaxConfigBytes) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0)
            return fail(ErrorKind::Config,
                        fmt::format("{}: cannot read: {}", path, std::strerror(errno)));
        if (n == 0) break;
        text.append(buf, static_cast<std::size_t>(n));
    }
    return parse(text, path);
}

std::size_t Config::index_of(std::string_view name, const char* getter) const {
    const Param* p = lookup(table_, name);
    if (!p) {
        std::fprintf(stderr, "yubin::config::Config::%s(\"%.*s\"): not in the schema\n", getter,
                     static_cast<int>(name.size()), name.data());
        std::abort();
    }
    return static_cast<std::size_t>(p - table_.data());
}

const Config::Value& Config::typed(std::string_view name, const char* getter,
                                   std::initializer_list<Type> allowed) const {
    auto i = index_of(name, getter);
    if (std::find(allowed.begin(), allowed.end(), table_[i].type) == allowed.end()) {
        std::fprintf(stderr, "yubin::config::Config::%s(\"%.*s\"): parameter is of type %.*s\n",
                     getter, static_cast<int>(name.size()), name.data(),
                     static_cast<int>(to_string(table_[i].type).size()),
                     to_string(table_[i].type).data());
        std::abort();
    }
    return values_[i];
}

std::string Config::get(std::string_view name) const {
    return values_[index_of(name, "get")].expanded;
}

std::string Config::raw(std::string_view name) const {
    return values_[index_of(name, "raw")].raw;
}

std::int64_t Config::get_int(std::string_view name) const {
    return typed(name, "get_int", {Type::Int, Type::Size, Type::Time}).number;
}

bool Config::get_bool(std::string_view name) const {
    return typed(name, "get_bool", {Type::Bool}).number != 0;
}

std::vector<std::string> Config::get_list(std::string_view name) const {
    return split_list(typed(name, "get_list", {Type::List}).expanded);
}

ListenAddress Config::get_listen(std::string_view name) const {
    auto l = parse_listen(typed(name, "get_listen", {Type::Listen}).expanded);
    if (!l) {
        // Checked at load time; reaching this is a bug in check_value.
        std::fprintf(stderr, "yubin::config: %s\n", l.error().what.c_str());
        std::abort();
    }
    return *l;
}

bool Config::is_set(std::string_view name) const {
    return values_[index_of(name, "is_set")].set;
}

const std::string& Config::path() const {
    return path_;
}

std::string Config::dump(bool only_non_default, bool expand) const {
    std::string out;
    for (std::size_t i = 0; i < table_.size(); ++i) {
        const auto& v = values_[i];
        if (only_non_default && !v.set) continue;
        const std::string& value = expand ? v.expanded : v.raw;
        out += table_[i].name;
        out += value.empty() ? " =" : " = ";
        out += value;
        out += '\n';
    }
    return out;
}

}  // namespace yubin::config
