// Secret: an owning buffer for a plaintext password that wipes itself.
//
// A password must not outlive its use in freed heap memory or in a core dump
// any longer than needed, so the bytes live in one buffer this type owns:
// it is never copied, moving hands over the pointer (nothing left behind),
// and destruction overwrites it with OPENSSL_cleanse, which the compiler may
// not elide.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace yubin::passwd {

class Secret {
public:
    Secret() = default;
    // Takes ownership: the bytes are copied once into the Secret's own buffer
    // and the argument's buffer is wiped and cleared. Pass an rvalue
    // (std::move) so no other copy of the string remains with the caller.
    explicit Secret(std::string s);
    Secret(Secret&& o) noexcept;
    Secret& operator=(Secret&& o) noexcept;
    Secret(const Secret&) = delete;
    Secret& operator=(const Secret&) = delete;
    ~Secret();

    [[nodiscard]] std::string_view view() const { return {data_.get(), size_}; }
    [[nodiscard]] bool empty() const { return size_ == 0; }

private:
    void wipe() noexcept;

    std::unique_ptr<char[]> data_;
    std::size_t size_ = 0;
};

}  // namespace yubin::passwd
