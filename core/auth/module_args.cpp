#include "core/auth/module_args.hpp"

namespace yubin::auth {
namespace {

Result<bool> yes_no(std::string_view key, std::string_view v) {
    if (v == "yes") return true;
    if (v == "no") return false;
    return fail(ErrorKind::Config,
                std::string(key) + "=" + std::string(v) + ": value must be yes or no");
}

}  // namespace

Result<ModuleArgs> parse_module_args(std::string_view args) {
    ModuleArgs out;
    bool have_path = false;
    while (!args.empty()) {
        const std::size_t start = args.find_first_not_of(" \t");
        if (start == std::string_view::npos) break;
        args.remove_prefix(start);
        const std::size_t end = args.find_first_of(" \t");
        const std::string_view word = args.substr(0, end);
        args.remove_prefix(end == std::string_view::npos ? args.size() : end);

        const std::size_t eq = word.find('=');
        if (eq == std::string_view::npos) {
            if (have_path)
                return fail(ErrorKind::Config,
                            "more than one configuration file: " + std::string(word));
            if (word.front() != '/')
                return fail(ErrorKind::Config,
                            "configuration file must be an absolute path: " + std::string(word));
            out.config_path = std::string(word);
            have_path = true;
            continue;
        }
        const std::string_view key = word.substr(0, eq);
        const std::string_view value = word.substr(eq + 1);
        bool* target = key == "blocking" ? &out.blocking : key == "rehash" ? &out.rehash : nullptr;
        if (target == nullptr)
            return fail(ErrorKind::Config,
                        "unknown setting " + std::string(key) + " (known: blocking, rehash)");
        auto v = yes_no(key, value);
        if (!v) return fail(v.error());
        *target = *v;
    }
    return out;
}

}  // namespace yubin::auth
