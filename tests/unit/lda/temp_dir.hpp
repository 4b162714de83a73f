// A temporary directory removed with everything in it at scope end.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>

namespace yubin::test {

class TempDir {
public:
    TempDir() {
        char tmpl[] = "/tmp/yubin-lda-test.XXXXXX";
        path_ = ::mkdtemp(tmpl);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    [[nodiscard]] const std::string& path() const { return path_; }

private:
    std::string path_;
};

}  // namespace yubin::test
