// yubin.cf: the one configuration file of every yubin part, in Postfix
// main.cf syntax (postconf(5)), checked against one schema table.
//
// A Config is an immutable snapshot: load_file()/parse() validate every
// parameter, including values reached through $name expansion, so the typed
// getters cannot fail afterwards. Asking a getter for a name that is not in
// the schema, or for the wrong type, is a programming error and aborts.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/util/listen_address.hpp"
#include "core/util/result.hpp"

namespace yubin::config {

enum class Type { String, Int, Bool, Size, Time, Enum, List, Listen };

[[nodiscard]] std::string_view to_string(Type t);

// One row of the schema. min/max bound Int, Size (bytes) and Time (seconds)
// and are ignored for the other types. A Time parameter's default unit is the
// unit suffix of its default value, as in Postfix ("5s" -> plain numbers are
// seconds). choices lists an Enum's values as "a|b|c".
struct Param {
    std::string_view name;
    Type type;
    std::string_view default_value;
    std::int64_t min;
    std::int64_t max;
    std::string_view choices;
    std::string_view doc;
};

inline constexpr std::int64_t kNoMax = std::numeric_limits<std::int64_t>::max();

std::span<const Param> schema();                 // sorted by name, names unique
const Param* find_param(std::string_view name);  // nullptr if unknown
inline constexpr std::string_view kDefaultPath = "/etc/yubin/yubin.cf";

// A parsed Listen value: "" (disabled), "unix:/path" or "inet:host:port"
// (core/util/listen_address.hpp: one grammar for config and daemons).
using ::yubin::ListenAddress;

class Config {
public:
    static Config defaults();  // no file
    [[nodiscard]] static Result<Config> parse(std::string_view text, std::string_view filename);
    // Missing or unreadable file: Config error naming the path and strerror.
    [[nodiscard]] static Result<Config> load_file(const std::string& path);

    // parse() against another table (tests; tools that check a table). The
    // table must be sorted by name with unique names and outlive the Config.
    [[nodiscard]] static Result<Config> parse(std::string_view text, std::string_view filename,
                                              std::span<const Param> table);

    // Expanded value (the default if not set). An Enum comes back spelled as
    // in its choices, whatever case the file used.
    std::string get(std::string_view name) const;
    std::string raw(std::string_view name) const;       // as written, unexpanded
    std::int64_t get_int(std::string_view name) const;  // Int, Size (bytes), Time (seconds)
    bool get_bool(std::string_view name) const;
    std::vector<std::string> get_list(std::string_view name) const;
    ListenAddress get_listen(std::string_view name) const;
    bool is_set(std::string_view name) const;  // given in the file
    const std::string& path() const;

    // What `yubinctl config` prints: "name = value" lines sorted by name; all
    // parameters, or with only_non_default just those set in the file (like
    // postconf -n). expand: $name expanded.
    std::string dump(bool only_non_default, bool expand) const;

private:
    struct Value {
        std::string raw;          // as written, or the default
        std::string expanded;     // validated
        std::int64_t number = 0;  // Int/Size/Time value, Bool as 0/1
        bool set = false;
        int line = 0;
    };

    Config() = default;
    std::size_t index_of(std::string_view name, const char* getter) const;
    const Value& typed(std::string_view name, const char* getter,
                       std::initializer_list<Type> allowed) const;

    std::span<const Param> table_;
    std::vector<Value> values_;  // parallel to table_
    std::string path_;

    friend class Loader;
};

}  // namespace yubin::config
