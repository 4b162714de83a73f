// open_store's way to the LDAP backend, in a file of its own so that a
// program started once per message (yubin-lda) can provide this one
// function by loading the backend only when "ldap:" is configured, instead
// of linking libldap and its TLS stack into every start (lda/ldap_loader.cpp).
#pragma once

#include <memory>
#include <string>

#include "core/store/store.hpp"
#include "core/util/result.hpp"

namespace yubin::store {

// open_ldap_store (ldap_store.hpp) as a Store.
[[nodiscard]] Result<std::unique_ptr<Store>> open_ldap_backend(const std::string& config_path,
                                                               const StoreOptions& options);

}  // namespace yubin::store
