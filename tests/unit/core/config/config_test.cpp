#include "core/config/config.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "core/util/limits.hpp"

using namespace yubin;
using namespace yubin::config;

namespace {

// A table with one parameter of every type, a chain c00..c21 long enough to
// pass the expansion depth limit, and a default that refers to another
// parameter. Sorted by name, as Config requires.
constexpr Param kTable[] = {
    {"a_bool", Type::Bool, "no", 0, 0, "", "t"},
    {"a_enum", Type::Enum, "red", 0, 0, "red|green|Blue", "t"},
    {"a_int", Type::Int, "10", 1, 100, "", "t"},
    {"a_list", Type::List, "x, y", 0, 0, "", "t"},
    {"a_listen", Type::Listen, "", 0, 0, "", "t"},
    {"a_size", Type::Size, "0", 0, 1000000, "", "t"},
    {"a_str", Type::String, "hello", 0, 0, "", "t"},
    {"a_time", Type::Time, "1h", 0, 86400, "", "t"},
    {"b_str", Type::String, "$a_str world", 0, 0, "", "t"},
    {"c00", Type::String, "", 0, 0, "", "t"},
    {"c01", Type::String, "", 0, 0, "", "t"},
    {"c02", Type::String, "", 0, 0, "", "t"},
    {"c03", Type::String, "", 0, 0, "", "t"},
    {"c04", Type::String, "", 0, 0, "", "t"},
    {"c05", Type::String, "", 0, 0, "", "t"},
    {"c06", Type::String, "", 0, 0, "", "t"},
    {"c07", Type::String, "", 0, 0, "", "t"},
    {"c08", Type::String, "", 0, 0, "", "t"},
    {"c09", Type::String, "", 0, 0, "", "t"},
    {"c10", Type::String, "", 0, 0, "", "t"},
    {"c11", Type::String, "", 0, 0, "", "t"},
    {"c12", Type::String, "", 0, 0, "", "t"},
    {"c13", Type::String, "", 0, 0, "", "t"},
    {"c14", Type::String, "", 0, 0, "", "t"},
    {"c15", Type::String, "", 0, 0, "", "t"},
    {"c16", Type::String, "", 0, 0, "", "t"},
    {"c17", Type::String, "", 0, 0, "", "t"},
    {"c18", Type::String, "", 0, 0, "", "t"},
    {"c19", Type::String, "", 0, 0, "", "t"},
    {"c20", Type::String, "", 0, 0, "", "t"},
    {"c21", Type::String, "", 0, 0, "", "t"},
    {"d_time", Type::Time, "$a_int", 0, 60, "", "t"},
};
constexpr int kChain = 22;  // c00..c21

Result<Config> parse_t(std::string_view text) {
    return Config::parse(text, "t.cf", kTable);
}

std::string chain_name(int i) {
    std::string n = "c00";
    n[1] = static_cast<char>('0' + i / 10);
    n[2] = static_cast<char>('0' + i % 10);
    return n;
}

// "cFIRST = $cNEXT" ... "cLAST = end": a chain of (last - first) references.
std::string chain_text(int first, int last, bool reversed) {
    std::vector<std::string> lines;
    for (int i = first; i < last; ++i) lines.push_back(chain_name(i) + " = $" + chain_name(i + 1));
    lines.push_back(chain_name(last) + " = end");
    if (reversed) std::reverse(lines.begin(), lines.end());
    std::string text;
    for (const auto& l : lines) text += l + "\n";
    return text;
}

// Runs f in a child and reports whether the child died of SIGABRT.
bool aborts(const std::function<void()>& f) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        // doctest's own SIGABRT handler would report a crash from the child.
        ::signal(SIGABRT, SIG_DFL);
        int null = ::open("/dev/null", O_WRONLY);
        ::dup2(null, 1);
        ::dup2(null, 2);  // the abort message is expected; keep the test output clean
        f();
        ::_exit(0);
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/yubin-config-test.XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    std::string write(const std::string& name, const std::string& text) const {
        std::string p = path + "/" + name;
        std::ofstream(p, std::ios::binary) << text;
        return p;
    }
};

}  // namespace

TEST_CASE("config: the test table is sorted") {
    for (std::size_t i = 1; i < std::size(kTable); ++i) {
        INFO("name: " << std::string(kTable[i].name));
        REQUIRE(kTable[i - 1].name < kTable[i].name);
    }
    REQUIRE(limits::kMaxExpansionDepth + 2 <= kChain);
}

TEST_CASE("config: main.cf syntax") {
    struct Case {
        const char* what;
        std::string text;
        const char* name;
        const char* want;
    };
    const Case cases[] = {
        {"plain", "a_str = v", "a_str", "v"},
        {"no spaces around =", "a_str=v", "a_str", "v"},
        {"value trimmed, inner space kept", "a_str   =   v  w \t", "a_str", "v  w"},
        {"= in the value", "a_str = a=b", "a_str", "a=b"},
        {"comments and blank lines", "# c\n   # indented comment\n\n \t\na_str = v\n# end", "a_str",
         "v"},
        {"# after a value is part of it", "a_str = v # not a comment", "a_str",
         "v # not a comment"},
        {"continuation lines joined by one space", "a_str = one\n two  \n\t\tthree", "a_str",
         "one two three"},
        {"comment inside a continuation", "a_str = one\n# c\n  # c\n two", "a_str", "one two"},
        {"blank line inside a continuation", "a_str = one\n\n two", "a_str", "one two"},
        {"continuation ends at the next parameter", "a_str = one\n two\nb_str = x", "a_str",
         "one two"},
        {"CRLF line endings", "a_str = v\r\nb_str = w\r\n", "a_str", "v"},
        {"CRLF continuation", "a_str = v\r\n w\r\n", "a_str", "v w"},
        {"no final newline", "b_str = x\na_str = last", "a_str", "last"},
        {"later assignment overrides", "a_str = one\na_str = two", "a_str", "two"},
        {"empty string value", "a_str =", "a_str", ""},
        {"8-bit bytes kept", "a_str = \xe9\x83\xb5\xe4\xbe\xbf", "a_str",
         "\xe9\x83\xb5\xe4\xbe\xbf"},
        {"$$ is a literal $", "a_str = a$$b$$", "a_str", "a$b$"},
        {"$name", "a_str = x\nb_str = $a_str-y", "b_str", "x-y"},
        {"${name}", "a_str = x\nb_str = ${a_str}y", "b_str", "xy"},
        {"$(name)", "a_str = x\nb_str = $(a_str)y", "b_str", "xy"},
        {"forward reference", "b_str = <$a_str>\na_str = late", "b_str", "<late>"},
        {"reference uses the last assignment", "a_str = 1\nb_str = $a_str\na_str = 2", "b_str",
         "2"},
        {"nested expansion", "c00 = $c01.\nc01 = ${c02}!\nc02 = z", "c00", "z!."},
        {"default refers to a set parameter", "a_str = hi", "b_str", "hi world"},
        {"${name?text} when set", "a_str = v\nb_str = [${a_str?yes}]", "b_str", "[yes]"},
        {"${name?text} when empty", "a_str =\nb_str = [${a_str?yes}]", "b_str", "[]"},
        {"${name:text} when empty", "a_str =\nb_str = [${a_str:none}]", "b_str", "[none]"},
        {"${name:text} when set", "a_str = v\nb_str = [${a_str:none}]", "b_str", "[]"},
        {"conditional text is expanded", "a_str = v\nc01 = w\nb_str = ${a_str?$c01/${c01}}",
         "b_str", "w/w"},
        {"nested conditionals", "a_str = v\nc01 =\nb_str = ${a_str?${c01:{x}}}", "b_str", "{x}"},
        {"$(name?text)", "a_str = v\nb_str = $(a_str?(p))", "b_str", "(p)"},
        {"enum any case, canonical spelling", "a_enum = blue", "a_enum", "Blue"},
        {"enum reached through expansion", "a_str = GREEN\na_enum = $a_str", "a_enum", "green"},
        {"integer through expansion", "a_str = 42\na_int = $a_str", "a_int", "42"},
        {"time as written", "a_time = 30m", "a_time", "30m"},
    };
    for (const auto& c : cases) {
        INFO("case: " << std::string(c.what));
        auto got = parse_t(c.text);
        REQUIRE_MESSAGE(got.has_value(), (got ? std::string() : got.error().what));
        CHECK(got->get(c.name) == c.want);
    }
}

TEST_CASE("config: typed getters") {
    auto c = parse_t(
        "a_bool = YES\n"
        "a_int = 42\n"
        "a_size = 1000000\n"
        "a_time = 2\n"
        "a_list = a, b  c,,d\n"
        "  e\n"
        "a_listen = inet:[::1]:10025\n"
        "d_time = 1m\n");
    REQUIRE_MESSAGE(c.has_value(), (c ? std::string() : c.error().what));
    CHECK(c->get_bool("a_bool"));
    CHECK(c->get_int("a_int") == 42);
    CHECK(c->get_int("a_size") == 1000000);
    CHECK(c->get_int("a_time") == 7200);  // the default unit of "1h" is hours
    CHECK(c->get_int("d_time") == 60);
    CHECK(c->get_list("a_list") == std::vector<std::string>{"a", "b", "c", "d", "e"});
    auto l = c->get_listen("a_listen");
    CHECK(l.kind == ListenAddress::Kind::Inet);
    CHECK(l.host == "::1");
    CHECK(l.port == 10025);

    auto d = parse_t("");
    REQUIRE(d);
    CHECK_FALSE(d->get_bool("a_bool"));
    CHECK(d->get_int("a_time") == 3600);
    CHECK(d->get_int("d_time") == 10);  // "$a_int" in seconds
    CHECK(d->get_list("a_list") == std::vector<std::string>{"x", "y"});
    CHECK(d->get_listen("a_listen").kind == ListenAddress::Kind::Disabled);
    CHECK(d->get("b_str") == "hello world");
}

TEST_CASE("config: raw, is_set and path") {
    auto c = parse_t("a_str = a$$b\nb_str = $a_str!\n");
    REQUIRE(c);
    CHECK(c->path() == "t.cf");
    CHECK(c->raw("a_str") == "a$$b");
    CHECK(c->get("a_str") == "a$b");
    CHECK(c->raw("b_str") == "$a_str!");
    CHECK(c->get("b_str") == "a$b!");
    CHECK(c->is_set("a_str"));
    CHECK_FALSE(c->is_set("a_int"));
    CHECK(c->raw("d_time") == "$a_int");
    CHECK(c->raw("a_int") == "10");
}

TEST_CASE("config: errors name the file, the line and the parameter") {
    struct Case {
        const char* what;
        std::string text;
        std::string want;
    };
    const Case cases[] = {
        {"unknown parameter", "a_str = v\nnosuch = 1",
         "t.cf, line 2: unknown parameter \"nosuch\""},
        {"missing =", "a_str = v\n\na_str v", "t.cf, line 3: missing \"=\" in \"a_str v\""},
        {"missing = in a continued line", "a_str\n v",
         "t.cf, line 1: missing \"=\" in \"a_str v\""},
        {"missing name", "= v", "t.cf, line 1: missing parameter name before \"=\""},
        {"invalid name", "a-str = v", "t.cf, line 1: invalid parameter name \"a-str\""},
        {"name with a space", "a str = v", "t.cf, line 1: invalid parameter name \"a str\""},
        {"continuation first", " a_str = v",
         "t.cf, line 1: continuation line (starting with white space) before any parameter"},
        {"continuation after comments only", "# c\n\n\ta_str = v",
         "t.cf, line 3: continuation line (starting with white space) before any parameter"},
        {"bad int", "a_int = 12a",
         "t.cf, line 1: parameter \"a_int\": invalid integer value \"12a\""},
        {"int below range", "a_int = 0",
         "t.cf, line 1: parameter \"a_int\": value \"0\" out of range 1..100"},
        {"int above range", "a_int = 101",
         "t.cf, line 1: parameter \"a_int\": value \"101\" out of range 1..100"},
        {"int overflow", "a_int = 99999999999999999999",
         "t.cf, line 1: parameter \"a_int\": invalid integer value \"99999999999999999999\""},
        {"empty int", "a_int =", "t.cf, line 1: parameter \"a_int\": empty integer value"},
        {"bool true", "a_bool = true",
         "t.cf, line 1: parameter \"a_bool\": invalid boolean value \"true\" (use yes or no)"},
        {"bool 1", "a_bool = 1",
         "t.cf, line 1: parameter \"a_bool\": invalid boolean value \"1\" (use yes or no)"},
        {"empty bool", "a_bool =", "t.cf, line 1: parameter \"a_bool\": empty boolean value"},
        {"bad time", "a_time = 5x",
         "t.cf, line 1: parameter \"a_time\": invalid time value \"5x\""},
        {"time ms", "a_time = 5ms",
         "t.cf, line 1: parameter \"a_time\": invalid time value \"5ms\""},
        {"time above range", "a_time = 2d",
         "t.cf, line 1: parameter \"a_time\": value \"2d\" out of range 0..86400 seconds"},
        {"size suffix", "a_size = 10k",
         "t.cf, line 1: parameter \"a_size\": invalid size value \"10k\" (a plain number of "
         "bytes)"},
        {"size above range", "a_size = 1000001",
         "t.cf, line 1: parameter \"a_size\": value \"1000001\" out of range 0..1000000 bytes"},
        {"bad enum", "a_enum = purple",
         "t.cf, line 1: parameter \"a_enum\": invalid value \"purple\" (one of red, green, Blue)"},
        {"empty enum", "a_enum =", "t.cf, line 1: parameter \"a_enum\": empty enum value"},
        {"bad listen", "a_listen = tcp:1.2.3.4:25",
         "t.cf, line 1: parameter \"a_listen\": invalid listen address \"tcp:1.2.3.4:25\": "
         "unknown transport; expected unix:PATH or inet:HOST:PORT"},
        {"listen port 0", "a_listen = inet:127.0.0.1:0",
         "t.cf, line 1: parameter \"a_listen\": invalid listen address \"inet:127.0.0.1:0\": "
         "port must be a number from 1 to 65535"},
        {"listen relative path", "a_listen = unix:milter.sock",
         "t.cf, line 1: parameter \"a_listen\": invalid listen address \"unix:milter.sock\": "
         "socket path must be absolute"},
        {"unknown name in $name", "a_str = $nosuch",
         "t.cf, line 1: parameter \"a_str\": expansion of unknown parameter \"nosuch\""},
        {"unknown name in ${name}", "\na_str = ${nosuch}x",
         "t.cf, line 2: parameter \"a_str\": expansion of unknown parameter \"nosuch\""},
        {"unknown name in an unused conditional", "a_str =\nb_str = ${a_str?$nosuch}",
         "t.cf, line 2: parameter \"b_str\": expansion of unknown parameter \"nosuch\""},
        {"error reported where it is written", "a_str = $b_str\nb_str = ${nosuch}",
         "t.cf, line 2: parameter \"b_str\": expansion of unknown parameter \"nosuch\""},
        {"type error through expansion", "a_str = x\nb_str = $a_str\na_int = $b_str",
         "t.cf, line 3: parameter \"a_int\": invalid integer value \"x\" (expanded from "
         "\"$b_str\")"},
        {"empty through expansion", "a_str =\na_int = $a_str",
         "t.cf, line 2: parameter \"a_int\": empty integer value (expanded from \"$a_str\")"},
        {"default broken by a set parameter", "a_int = 100",
         "t.cf: parameter \"d_time\" (default \"$a_int\"): value \"100\" out of range 0..60 "
         "seconds (expanded from \"$a_int\")"},
        {"expansion loop", "a_str = $b_str\nb_str = x${a_str}",
         "t.cf, line 1: parameter \"a_str\": expansion loop: $a_str -> $b_str -> $a_str"},
        {"self reference", "\n\na_str = x$a_str",
         "t.cf, line 3: parameter \"a_str\": expansion loop: $a_str -> $a_str"},
        {"loop through a default", "a_str = $b_str",
         "t.cf, line 1: parameter \"a_str\": expansion loop: $a_str -> $b_str -> $a_str"},
        {"loop in a conditional", "a_str = ${a_str?x}",
         "t.cf, line 1: parameter \"a_str\": expansion loop: $a_str -> $a_str"},
        {"loop reported at the first line that reaches it", "c00 = $c01\nc01 = $c02\nc02 = $c01",
         "t.cf, line 1: parameter \"c00\": expansion loop: $c01 -> $c02 -> $c01"},
        {"$ at end", "a_str = cost 5$",
         "t.cf, line 1: parameter \"a_str\": \"$\" at the end of the value (use \"$$\")"},
        {"$ before space", "a_str = a $ b",
         "t.cf, line 1: parameter \"a_str\": invalid \"$\" before \" \" (use \"$$\" for \"$\")"},
        {"unterminated ${", "a_str = ${b_str",
         "t.cf, line 1: parameter \"a_str\": missing \"}\" after \"${b_str\""},
        {"unterminated ${?", "a_str = ${b_str?x{}",
         "t.cf, line 1: parameter \"a_str\": missing \"}\" after \"${b_str?\""},
        {"unterminated $(", "a_str = $(b_str",
         "t.cf, line 1: parameter \"a_str\": missing \")\" after \"$(b_str\""},
        {"bad char in ${}", "a_str = ${b_str!x}",
         "t.cf, line 1: parameter \"a_str\": invalid character \"!\" after \"${b_str\""},
        {"empty ${}", "a_str = ${}",
         "t.cf, line 1: parameter \"a_str\": missing parameter name after \"${\""},
        {"NUL byte", std::string("a_str = v\nb_str = x\0y\n", 21), "t.cf, line 2: NUL byte"},
        {"NUL in a comment", std::string("# \0\n", 4), "t.cf, line 1: NUL byte"},
        {"syntax errors before value errors", "a_int = x\nnosuch = 1",
         "t.cf, line 2: unknown parameter \"nosuch\""},
        {"first value error in file order", "b_str = $nosuch\na_int = x",
         "t.cf, line 1: parameter \"b_str\": expansion of unknown parameter \"nosuch\""},
    };
    for (const auto& c : cases) {
        INFO("case: " << std::string(c.what));
        auto got = parse_t(c.text);
        REQUIRE_FALSE(got.has_value());
        CHECK(got.error().kind == ErrorKind::Config);
        CHECK(got.error().what == c.want);
    }
}

TEST_CASE("config: errors from the real schema") {
    auto a =
        Config::parse("syslog_name = yubin\nmilter_lisen = inet:127.0.0.1:10025\n", kDefaultPath);
    REQUIRE_FALSE(a);
    CHECK(a.error().what == "/etc/yubin/yubin.cf, line 2: unknown parameter \"milter_lisen\"");
    auto b = Config::parse("# c\n\nstore_busy_timeout = 5x\n", kDefaultPath);
    REQUIRE_FALSE(b);
    CHECK(
        b.error().what ==
        "/etc/yubin/yubin.cf, line 3: parameter \"store_busy_timeout\": invalid time value \"5x\"");
    auto c = Config::parse("virtual_uid = 0\n", kDefaultPath);
    REQUIRE_FALSE(c);
    CHECK(c.error().what ==
          "/etc/yubin/yubin.cf, line 1: parameter \"virtual_uid\": value \"0\" out of range "
          "1..2147483647");
    auto d = Config::parse(
        "password_scheme = sha512-crypt\nstore_busy_timeout = 2m\n"
        "virtual_gid = $virtual_uid\nvirtual_uid = 6000\n",
        kDefaultPath);
    REQUIRE_MESSAGE(d.has_value(), (d ? std::string() : d.error().what));
    CHECK(d->get("password_scheme") == "SHA512-CRYPT");
    CHECK(d->get_int("store_busy_timeout") == 120);
    CHECK(d->get_int("virtual_gid") == 6000);
}

TEST_CASE("config: line length bound") {
    const std::string prefix = "a_str = ";
    const std::size_t fill = limits::kMaxLineBytes - prefix.size();
    struct Case {
        const char* what;
        std::string text;
        bool ok;
    };
    const Case cases[] = {
        {"at the bound", prefix + std::string(fill, 'x'), true},
        {"at the bound with CRLF", prefix + std::string(fill, 'x') + "\r\n", true},
        {"one past", prefix + std::string(fill + 1, 'x'), false},
        {"one past in a comment", "#" + std::string(limits::kMaxLineBytes, 'x'), false},
    };
    for (const auto& c : cases) {
        INFO("case: " << std::string(c.what));
        auto got = parse_t("a_int = 5\n" + c.text + "\n");
        CHECK(got.has_value() == c.ok);
        if (got) CHECK(got->get("a_str").size() == fill);
        if (!got)
            CHECK(got.error().what == "t.cf, line 2: line longer than " +
                                          std::to_string(limits::kMaxLineBytes) + " bytes");
    }
    // Continuation lines make logical lines longer than one physical line.
    std::string longer = "a_str = " + std::string(2000, 'x') + "\n " + std::string(2000, 'y');
    auto got = parse_t(longer);
    REQUIRE(got);
    CHECK(got->get("a_str").size() == 4001);
}

TEST_CASE("config: file size bound") {
    // Comment lines up to exactly the bound parse; one more byte does not.
    const std::string line = "#" + std::string(1000, 'c') + "\n";
    std::string text;
    while (text.size() + line.size() < limits::kMaxConfigBytes) text += line;
    text += std::string(limits::kMaxConfigBytes - text.size() - 1, '#') + "\n";
    REQUIRE(text.size() == limits::kMaxConfigBytes);
    CHECK(parse_t(text).has_value());
    text += "\n";
    auto got = parse_t(text);
    REQUIRE_FALSE(got);
    CHECK(got.error().what ==
          "t.cf: file too large (more than " + std::to_string(limits::kMaxConfigBytes) + " bytes)");
}

TEST_CASE("config: expansion depth limit") {
    const int limit = limits::kMaxExpansionDepth;
    const std::string want =
        "parameter \"c00\": expansion nested more than " + std::to_string(limit) + " levels deep";
    for (bool reversed : {false, true}) {
        // reversed: the inner parameters come first in the file and are
        // expanded (and cached) first; the limit must hold all the same.
        CAPTURE(reversed);
        auto at = parse_t(chain_text(0, limit, reversed));
        REQUIRE_MESSAGE(at.has_value(), (at ? std::string() : at.error().what));
        CHECK(at->get("c00") == "end");
        auto past = parse_t(chain_text(0, limit + 1, reversed));
        REQUIRE_FALSE(past);
        const int line = reversed ? limit + 2 : 1;
        CHECK(past.error().what == "t.cf, line " + std::to_string(line) + ": " + want);
    }
    // Nesting of conditional text counts too.
    std::string nested = "a_str = v\nb_str = ";
    for (int i = 0; i <= limit; ++i) nested += "${a_str?";
    nested += "x" + std::string(static_cast<std::size_t>(limit) + 1, '}');
    auto got = parse_t(nested);
    REQUIRE_FALSE(got);
    CHECK(got.error().what == "t.cf, line 2: parameter \"b_str\": expansion nested more than " +
                                  std::to_string(limit) + " levels deep");
}

TEST_CASE("config: expansion is bounded in size and time") {
    // Each level refers to the next 400 times: without caching this is
    // 400^20 expansions of empty values, which no size bound would stop.
    std::string text = "c20 =\n";
    for (int i = 19; i >= 0; --i) {
        text += chain_name(i) + " =";
        for (int k = 0; k < 400; ++k) text += "$" + chain_name(i + 1);
        text += "\n";
    }
    auto empty = parse_t(text);
    REQUIRE_MESSAGE(empty.has_value(), (empty ? std::string() : empty.error().what));
    CHECK(empty->get("c00").empty());
    CHECK(empty->raw("c00").size() == 400 * 4);

    // Growing values hit the size bound instead of memory exhaustion.
    std::string big = "c10 = " + std::string(1000, 'x') + "\n";
    for (int i = 9; i >= 0; --i) {
        big += chain_name(i) + " =";
        for (int k = 0; k < 10; ++k) big += "$" + chain_name(i + 1);
        big += "\n";
    }
    auto got = parse_t(big);
    REQUIRE_FALSE(got);
    // 1000 * 10^3 fits, 1000 * 10^4 does not: c06 (line 5) is the first too big.
    CHECK(got.error().what == "t.cf, line 5: parameter \"c06\": expanded value longer than " +
                                  std::to_string(limits::kMaxConfigBytes) + " bytes");
}

TEST_CASE("config: dump") {
    auto c = Config::parse(
        "virtual_uid = 6000\n# c\nvirtual_gid = $virtual_uid\n"
        "recipient_delimiter =\n",
        "yubin.cf");
    REQUIRE(c);
    CHECK(c->dump(true, false) ==
          "recipient_delimiter =\nvirtual_gid = $virtual_uid\nvirtual_uid = 6000\n");
    CHECK(c->dump(true, true) == "recipient_delimiter =\nvirtual_gid = 6000\nvirtual_uid = 6000\n");

    for (bool expand : {false, true}) {
        CAPTURE(expand);
        std::string all = c->dump(false, expand);
        std::vector<std::string> lines;
        std::size_t pos = 0;
        while (pos < all.size()) {
            auto nl = all.find('\n', pos);
            REQUIRE(nl != std::string::npos);
            lines.push_back(all.substr(pos, nl - pos));
            pos = nl + 1;
        }
        REQUIRE(lines.size() == schema().size());
        for (std::size_t i = 0; i < lines.size(); ++i) {
            CAPTURE(lines[i]);
            CHECK(lines[i].starts_with(std::string(schema()[i].name) + " ="));
        }
        CHECK(all.find("store = sqlite:/var/lib/yubin/yubin.db\n") != std::string::npos);
        CHECK(all.find("virtual_gid = " + std::string(expand ? "6000" : "$virtual_uid") + "\n") !=
              std::string::npos);
        // What dump prints parses back to the same configuration.
        auto again = Config::parse(all, "dump");
        REQUIRE_MESSAGE(again.has_value(), (again ? std::string() : again.error().what));
        CHECK(again->dump(false, true) == c->dump(false, true));
    }
    CHECK(Config::defaults().dump(true, false).empty());
}

TEST_CASE("config: load_file") {
    TempDir dir;
    auto good = dir.write("yubin.cf", "# test\nvirtual_uid = 6001\r\n");
    auto c = Config::load_file(good);
    REQUIRE_MESSAGE(c.has_value(), (c ? std::string() : c.error().what));
    CHECK(c->path() == good);
    CHECK(c->get_int("virtual_uid") == 6001);

    auto bad = dir.write("bad.cf", "\nvirtual_uid = x\n");
    auto b = Config::load_file(bad);
    REQUIRE_FALSE(b);
    CHECK(b.error().what ==
          bad + ", line 2: parameter \"virtual_uid\": invalid integer value \"x\"");

    auto missing = dir.path + "/missing.cf";
    auto m = Config::load_file(missing);
    REQUIRE_FALSE(m);
    CHECK(m.error().kind == ErrorKind::Config);
    CHECK(m.error().what == missing + ": cannot open: No such file or directory");

    auto d = Config::load_file(dir.path);
    REQUIRE_FALSE(d);
    CHECK(d.error().what == dir.path + ": cannot read: Is a directory");

    auto huge = dir.write("huge.cf", std::string(limits::kMaxConfigBytes + 5000, '\n'));
    auto h = Config::load_file(huge);
    REQUIRE_FALSE(h);
    CHECK(h.error().what == huge + ": file too large (more than " +
                                std::to_string(limits::kMaxConfigBytes) + " bytes)");
}

TEST_CASE("config: getters abort on unknown names and wrong types") {
    struct Case {
        const char* what;
        std::function<void()> f;
    };
    const Config c = Config::defaults();
    const Case cases[] = {
        {"get unknown", [&] { (void)c.get("nosuch"); }},
        {"raw unknown", [&] { (void)c.raw("nosuch"); }},
        {"is_set unknown", [&] { (void)c.is_set("nosuch"); }},
        {"get_int unknown", [&] { (void)c.get_int("nosuch"); }},
        {"get_int of a string", [&] { (void)c.get_int("store"); }},
        {"get_int of an enum", [&] { (void)c.get_int("password_scheme"); }},
        {"get_bool of an int", [&] { (void)c.get_bool("virtual_uid"); }},
        {"get_list of a string", [&] { (void)c.get_list("store"); }},
        {"get_listen of a string", [&] { (void)c.get_listen("store"); }},
    };
    for (const auto& k : cases) {
        INFO("case: " << std::string(k.what));
        CHECK(aborts(k.f));
    }
    // The harness itself: a getter used correctly does not abort.
    CHECK_FALSE(aborts([&] { (void)c.get_int("virtual_uid"); }));
}

TEST_CASE("config: no crash on any prefix or any damaged byte") {
    const std::string sample =
        "# yubin.cf\r\n"
        "a_str = v $$ ${b_str?x}\r\n"
        "  more\n"
        "b_str = $(c01)${c02:y}\n"
        "a_int = 42\n"
        "a_listen = inet:[::1]:25\n"
        "a_time = 3m\n";
    auto check = [](const std::string& text) {
        auto got = parse_t(text);
        if (!got) {
            CHECK(got.error().kind == ErrorKind::Config);
            CHECK(got.error().what.starts_with("t.cf"));
        }
    };
    for (std::size_t n = 0; n <= sample.size(); ++n) check(sample.substr(0, n));
    for (std::size_t i = 0; i < sample.size(); ++i) {
        for (char b : {'$', '{', '}', '(', '\n', ' ', '=', '#', '\0', '\r', '\xff'}) {
            std::string t = sample;
            t[i] = b;
            check(t);
        }
    }
    CHECK(parse_t(sample).has_value());
}
