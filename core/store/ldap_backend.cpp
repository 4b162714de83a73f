#include "core/store/ldap_backend.hpp"

#include "core/store/ldap_store.hpp"

namespace yubin::store {

Result<std::unique_ptr<Store>> open_ldap_backend(const std::string& config_path,
                                                 const StoreOptions& options) {
    auto s = open_ldap_store(config_path, options);
    if (!s) return fail(s.error());
    return std::unique_ptr<Store>(std::move(*s));
}

}  // namespace yubin::store
