/* libauthdb_yubin.so: Dovecot's passdb and userdb "yubin" drivers.
 *
 *   passdb {
 *     driver = yubin
 *     args = [blocking=yes|no] [rehash=yes|no] /etc/yubin/yubin.cf
 *   }
 *   userdb {
 *     driver = yubin
 *     args = /etc/yubin/yubin.cf
 *   }
 *
 * This file is only the Dovecot-facing glue: it includes Dovecot's headers,
 * registers the two drivers and turns the answers of bridge.h (the yubin
 * logic, C++) into Dovecot's result kinds and fields. It never decides
 * anything itself.
 *
 * Results: ok; user unknown; password mismatch; disabled mailbox or domain ->
 * PASSDB_RESULT_USER_DISABLED (the client sees a plain authentication
 * failure); anything the store could not answer -> internal failure, which
 * Dovecot reports to IMAP clients as [UNAVAILABLE] (try again), never as a
 * wrong password.
 *
 * No caching key is set: a user added, deleted, disabled or given a new
 * password with yubinctl counts at the next login.
 *
 * SECURITY: the user name and password are Dovecot's (already bounded,
 * NUL-terminated) and are passed on unchanged; bridge.cpp says how they are
 * checked. Nothing here logs a password or a hash. */
#include "auth-common.h"
#include "dovecot-auth/module/bridge.h"
#include "module-dir.h"
#include "passdb.h"
#include "password-scheme.h"
#include "userdb.h"

/* Exported: checked by Dovecot's module loader against its own ABI. */
const char* authdb_yubin_version = DOVECOT_ABI_VERSION;
void authdb_yubin_init(struct module* module);
void authdb_yubin_deinit(void);

struct yubin_passdb_module {
    struct passdb_module module; /* first: Dovecot casts the pointer */
    struct yubin_authdb* db;
};

struct yubin_userdb_module {
    struct userdb_module module; /* first: Dovecot casts the pointer */
    struct yubin_authdb* db;
};

struct yubin_iterate_context {
    struct userdb_iterate_context ctx; /* first: Dovecot casts the pointer */
    pool_t pool;
    ARRAY_TYPE(const_string) users;
    unsigned int next;
};

struct yubin_call {
    struct auth_request* request;
    const char* password; /* lookup_credentials: "{SCHEME}hash" */
    struct yubin_iterate_context* iter;
};

static void yubin_log(void* ctx, enum yubin_authdb_level level, const char* message) {
    struct yubin_call* call = ctx;
    struct event* event = authdb_event(call->request);

    switch (level) {
        case YUBIN_AUTHDB_INFO:
            e_info(event, "%s", message);
            break;
        case YUBIN_AUTHDB_WARNING:
            e_warning(event, "%s", message);
            break;
        case YUBIN_AUTHDB_ERROR:
        default:
            e_error(event, "%s", message);
            break;
    }
}

static void yubin_passdb_field(void* ctx, const char* name, const char* value) {
    struct yubin_call* call = ctx;

    if (strcmp(name, "password") == 0) call->password = t_strdup(value);
}

static void yubin_userdb_field(void* ctx, const char* name, const char* value) {
    struct yubin_call* call = ctx;

    auth_request_set_userdb_field(call->request, name, value);
}

static void yubin_iter_field(void* ctx, const char* name, const char* value) {
    struct yubin_call* call = ctx;
    const char* user;

    if (strcmp(name, "user") != 0) return;
    user = p_strdup(call->iter->pool, value);
    array_push_back(&call->iter->users, &user);
}

static struct yubin_authdb* passdb_db(struct auth_request* request) {
    return ((struct yubin_passdb_module*)request->passdb->passdb)->db;
}

static struct yubin_authdb* userdb_db(struct auth_request* request) {
    return ((struct yubin_userdb_module*)request->userdb->userdb)->db;
}

static enum passdb_result passdb_result_of(struct auth_request* request,
                                           enum yubin_authdb_result r) {
    switch (r) {
        case YUBIN_AUTHDB_OK:
            return PASSDB_RESULT_OK;
        case YUBIN_AUTHDB_USER_UNKNOWN:
            auth_request_log_unknown_user(request, AUTH_SUBSYS_DB);
            return PASSDB_RESULT_USER_UNKNOWN;
        case YUBIN_AUTHDB_MISMATCH:
            auth_request_log_password_mismatch(request, AUTH_SUBSYS_DB);
            return PASSDB_RESULT_PASSWORD_MISMATCH;
        case YUBIN_AUTHDB_DISABLED:
            return PASSDB_RESULT_USER_DISABLED;
        case YUBIN_AUTHDB_TEMPFAIL:
        default:
            return PASSDB_RESULT_INTERNAL_FAILURE;
    }
}

static void yubin_verify_plain(struct auth_request* request, const char* password,
                               verify_plain_callback_t* callback) {
    struct yubin_call call = {.request = request};
    struct yubin_authdb_sink sink = {&call, yubin_passdb_field, yubin_log};
    enum yubin_authdb_result r;

    r = yubin_authdb_verify_plain(passdb_db(request), request->fields.user, password, &sink);
    callback(passdb_result_of(request, r), request);
}

static void yubin_lookup_credentials(struct auth_request* request,
                                     lookup_credentials_callback_t* callback) {
    struct yubin_call call = {.request = request};
    struct yubin_authdb_sink sink = {&call, yubin_passdb_field, yubin_log};
    enum yubin_authdb_result r;
    const char *password, *scheme;

    r = yubin_authdb_lookup_credentials(passdb_db(request), request->fields.user, &sink);
    if (r != YUBIN_AUTHDB_OK || call.password == NULL) {
        callback(passdb_result_of(request, r), NULL, 0, request);
        return;
    }
    password = call.password;
    scheme = password_get_scheme(&password);
    if (scheme == NULL) {
        /* The store only holds "{SCHEME}hash"; anything else is broken. */
        e_error(authdb_event(request), "stored password has no {SCHEME} prefix");
        callback(PASSDB_RESULT_PASSWORD_MISMATCH, NULL, 0, request);
        return;
    }
    passdb_handle_credentials(PASSDB_RESULT_OK, password, scheme, callback, request);
}

static struct passdb_module* yubin_passdb_preinit(pool_t pool, const char* args) {
    struct yubin_passdb_module* module = p_new(pool, struct yubin_passdb_module, 1);
    char error[1024];

    module->db = yubin_authdb_create(args, error, sizeof(error));
    if (module->db == NULL) i_fatal("passdb yubin: %s", error);
    module->module.blocking = yubin_authdb_blocking(module->db) != 0;
    module->module.default_pass_scheme = "CRYPT";
    module->module.default_cache_key = NULL;
    return &module->module;
}

static void yubin_passdb_deinit(struct passdb_module* _module) {
    struct yubin_passdb_module* module = (struct yubin_passdb_module*)_module;

    yubin_authdb_destroy(module->db);
    module->db = NULL;
}

static void yubin_userdb_lookup(struct auth_request* request, userdb_callback_t* callback) {
    struct yubin_call call = {.request = request};
    struct yubin_authdb_sink sink = {&call, yubin_userdb_field, yubin_log};
    enum yubin_authdb_result r;

    r = yubin_authdb_userdb_lookup(userdb_db(request), request->fields.user, &sink);
    switch (r) {
        case YUBIN_AUTHDB_OK:
            callback(USERDB_RESULT_OK, request);
            break;
        case YUBIN_AUTHDB_USER_UNKNOWN:
        case YUBIN_AUTHDB_MISMATCH:
        case YUBIN_AUTHDB_DISABLED:
            callback(USERDB_RESULT_USER_UNKNOWN, request);
            break;
        case YUBIN_AUTHDB_TEMPFAIL:
        default:
            callback(USERDB_RESULT_INTERNAL_FAILURE, request);
            break;
    }
}

static struct userdb_iterate_context* yubin_iterate_init(struct auth_request* request,
                                                         userdb_iter_callback_t* callback,
                                                         void* context) {
    pool_t pool = pool_alloconly_create("yubin userdb iterate", 4096);
    struct yubin_iterate_context* ctx = p_new(pool, struct yubin_iterate_context, 1);
    struct yubin_call call = {.request = request, .iter = ctx};
    struct yubin_authdb_sink sink = {&call, yubin_iter_field, yubin_log};

    ctx->pool = pool;
    ctx->ctx.auth_request = request;
    ctx->ctx.callback = callback;
    ctx->ctx.context = context;
    p_array_init(&ctx->users, pool, 64);
    if (yubin_authdb_iterate(userdb_db(request), &sink) != YUBIN_AUTHDB_OK) ctx->ctx.failed = TRUE;
    return &ctx->ctx;
}

static void yubin_iterate_next(struct userdb_iterate_context* _ctx) {
    struct yubin_iterate_context* ctx = (struct yubin_iterate_context*)_ctx;

    if (ctx->ctx.failed || ctx->next >= array_count(&ctx->users)) {
        _ctx->callback(NULL, _ctx->context);
        return;
    }
    _ctx->callback(array_idx_elem(&ctx->users, ctx->next++), _ctx->context);
}

static int yubin_iterate_deinit(struct userdb_iterate_context* _ctx) {
    struct yubin_iterate_context* ctx = (struct yubin_iterate_context*)_ctx;
    int ret = _ctx->failed ? -1 : 0;
    pool_t pool = ctx->pool;

    pool_unref(&pool);
    return ret;
}

static struct userdb_module* yubin_userdb_preinit(pool_t pool, const char* args) {
    struct yubin_userdb_module* module = p_new(pool, struct yubin_userdb_module, 1);
    char error[1024];

    module->db = yubin_authdb_create(args, error, sizeof(error));
    if (module->db == NULL) i_fatal("userdb yubin: %s", error);
    module->module.blocking = yubin_authdb_blocking(module->db) != 0;
    module->module.default_cache_key = NULL;
    return &module->module;
}

static void yubin_userdb_deinit(struct userdb_module* _module) {
    struct yubin_userdb_module* module = (struct yubin_userdb_module*)_module;

    yubin_authdb_destroy(module->db);
    module->db = NULL;
}

static struct passdb_module_interface passdb_yubin = {
    .name = "yubin",
    .preinit = yubin_passdb_preinit,
    .deinit = yubin_passdb_deinit,
    .verify_plain = yubin_verify_plain,
    .lookup_credentials = yubin_lookup_credentials,
};

static struct userdb_module_interface userdb_yubin = {
    .name = "yubin",
    .preinit = yubin_userdb_preinit,
    .deinit = yubin_userdb_deinit,
    .lookup = yubin_userdb_lookup,
    .iterate_init = yubin_iterate_init,
    .iterate_next = yubin_iterate_next,
    .iterate_deinit = yubin_iterate_deinit,
};

void authdb_yubin_init(struct module* module ATTR_UNUSED) {
    passdb_register_module(&passdb_yubin);
    userdb_register_module(&userdb_yubin);
}

void authdb_yubin_deinit(void) {
    passdb_unregister_module(&passdb_yubin);
    userdb_unregister_module(&userdb_yubin);
}
