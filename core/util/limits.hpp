// Named bounds on untrusted input. Each one is the default of a config
// parameter of the same meaning (see core/config/schema.cpp); code that reads
// peer input takes its bound from the config, these are the fallbacks.
#pragma once

#include <cstddef>

namespace yubin::limits {

inline constexpr std::size_t kMaxLineBytes = 2048;          // protocol / config line
inline constexpr std::size_t kMaxConfigBytes = 1 << 20;     // yubin.cf size
inline constexpr int kMaxExpansionDepth = 20;               // $name nesting in yubin.cf
inline constexpr std::size_t kMaxAddressBytes = 320;        // RFC 5321: 64 + 1 + 255
inline constexpr std::size_t kMaxLocalPartBytes = 64;
inline constexpr std::size_t kMaxDomainBytes = 255;
inline constexpr std::size_t kMaxPasswordBytes = 1024;
inline constexpr std::size_t kMaxImportLineBytes = 8192;
inline constexpr std::size_t kMaxImportFileBytes = 64u << 20;  // one import file
inline constexpr std::size_t kMaxAliasTargets = 1000;

}  // namespace yubin::limits
