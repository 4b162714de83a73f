// A temporary directory for a test, removed with everything in it at scope
// end. The one copy every unit test uses.
#pragma once

#include <stdlib.h>

#include <cerrno>
#include <filesystem>
#include <string>
#include <system_error>

namespace yubin::test {

class TempDir {
public:
    TempDir() {
        char tmpl[] = "/tmp/yubin-test.XXXXXX";
        if (::mkdtemp(tmpl) == nullptr)
            throw std::system_error(errno, std::generic_category(), "mkdtemp");
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    [[nodiscard]] const std::string& path() const { return path_; }
    // path()/name
    [[nodiscard]] std::string file(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

}  // namespace yubin::test
