#include "core/passwd/secret.hpp"

#include <openssl/crypto.h>

#include <cstring>
#include <utility>

namespace yubin::passwd {

Secret::Secret(std::string s) {
    if (!s.empty()) {
        data_ = std::make_unique<char[]>(s.size());
        std::memcpy(data_.get(), s.data(), s.size());
        size_ = s.size();
        OPENSSL_cleanse(s.data(), s.size());
    }
    s.clear();
}

Secret::Secret(Secret&& o) noexcept : data_(std::move(o.data_)), size_(std::exchange(o.size_, 0)) {}

Secret& Secret::operator=(Secret&& o) noexcept {
    if (this != &o) {
        wipe();
        data_ = std::move(o.data_);
        size_ = std::exchange(o.size_, 0);
    }
    return *this;
}

Secret::~Secret() {
    wipe();
}

void Secret::wipe() noexcept {
    if (data_) OPENSSL_cleanse(data_.get(), size_);
    data_.reset();
    size_ = 0;
}

}  // namespace yubin::passwd
