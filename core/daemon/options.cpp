#include "core/daemon/options.hpp"

namespace yubin::daemon {

void add_common_options(CLI::App& app, CommonOptions& opts) {
    app.add_option("-c,--config", opts.config_path, "configuration file")
        ->capture_default_str()
        ->type_name("FILE");
    app.add_flag("-f,--log-stderr", opts.log_stderr, "log to stderr instead of syslog");
    // A callback rather than a bool target: a bool flag given twice ("-v -v",
    // as Postfix users are used to) would otherwise be a parse error.
    app.add_flag_callback(
        "-v,--verbose", [&opts] { opts.verbose = true; }, "verbose logging (repeatable)");
}

}  // namespace yubin::daemon
