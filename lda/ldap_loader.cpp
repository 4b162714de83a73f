// yubin-lda's open_ldap_backend: loads yubin-store-ldap.so from the
// directory yubin-lda itself is in, the first time an "ldap:" store is
// opened. Linked into the yubin-lda program only (the library, the unit
// tests and the other programs use core's, in process).
//
// Why: yubin-lda runs once per message, and start-up is most of what it
// costs. libldap brings GnuTLS, SASL, nettle, gmp, p11-kit, libtasn1, idn2
// and more: about 15 shared objects whose loading, relocation and
// constructors took several times as long as the whole delivery. A site
// on the default SQLite store never pays for them now; an LDAP site pays
// once per process, as before.
#include <dlfcn.h>
#include <unistd.h>

#include <mutex>
#include <string>

#include "core/store/ldap_backend.hpp"
#include "lda/ldap_module.hpp"

namespace yubin::store {
namespace {

std::string module_path() {
    char exe[4096];
    ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return "";
    std::string dir(exe, static_cast<std::size_t>(n));
    auto slash = dir.rfind('/');
    return slash == std::string::npos ? "" : dir.substr(0, slash + 1) + kLdapModuleFile;
}

struct Module {
    YubinLdapOpenFn open = nullptr;
    std::string error;
};

const Module& module() {
    static Module m;
    static std::once_flag once;
    std::call_once(once, [] {
        std::string path = module_path();
        if (path.empty()) {
            m.error = "cannot find the directory of yubin-lda";
            return;
        }
        void* h = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            const char* e = ::dlerror();
            m.error = e ? e : ("cannot load " + path);
            return;
        }
        m.open = reinterpret_cast<YubinLdapOpenFn>(::dlsym(h, YUBIN_LDAP_MODULE_ENTRY));
        if (!m.open) m.error = path + ": no " YUBIN_LDAP_MODULE_ENTRY;
    });
    return m;
}

}  // namespace

Result<std::unique_ptr<Store>> open_ldap_backend(const std::string& config_path,
                                                 const StoreOptions& options) {
    const Module& m = module();
    if (!m.open) return fail(ErrorKind::Config, "LDAP store backend: " + m.error);
    std::unique_ptr<Store> out;
    Error error{ErrorKind::Internal, ""};
    if (!m.open(&config_path, &options, &out, &error)) return fail(std::move(error));
    return out;
}

}  // namespace yubin::store
