// The entry point of yubin-store-ldap.so, the LDAP store backend as a module
// that yubin-lda loads only when "store = ldap:..." is configured (see
// ldap_loader.cpp for why). Both sides are built from the same tree; the
// version in the name changes whenever this signature does.
#pragma once

#include <memory>
#include <string>

#include "core/store/store.hpp"
#include "core/util/result.hpp"

#define YUBIN_LDAP_MODULE_ENTRY "yubin_store_ldap_open_v1"
inline constexpr const char* kLdapModuleFile = "yubin-store-ldap.so";

// Opens the store as core's open_ldap_backend does: true and *out set, or
// false and *error set. Never throws.
extern "C" {
using YubinLdapOpenFn = bool (*)(const std::string* config_path,
                                 const yubin::store::StoreOptions* options,
                                 std::unique_ptr<yubin::store::Store>* out, yubin::Error* error);
}
