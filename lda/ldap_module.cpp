// yubin-store-ldap.so: core's LDAP store behind one C entry point, linked
// with libldap; everything else in it is hidden (-fvisibility=hidden,
// --exclude-libs) so it cannot clash with the program that loads it.
#include "lda/ldap_module.hpp"

#include <exception>

#include "core/store/ldap_backend.hpp"

extern "C" __attribute__((visibility("default"))) bool yubin_store_ldap_open_v1(
    const std::string* config_path, const yubin::store::StoreOptions* options,
    std::unique_ptr<yubin::store::Store>* out, yubin::Error* error) {
    static_assert(std::is_same_v<decltype(&yubin_store_ldap_open_v1), YubinLdapOpenFn>);
    try {
        auto s = yubin::store::open_ldap_backend(*config_path, *options);
        if (!s) {
            *error = s.error();
            return false;
        }
        *out = std::move(*s);
        return true;
    } catch (const std::exception& e) {
        *error = yubin::Error{yubin::ErrorKind::Temp, std::string("LDAP store: ") + e.what()};
    } catch (...) {
        *error = yubin::Error{yubin::ErrorKind::Temp, "LDAP store: internal error"};
    }
    return false;
}
