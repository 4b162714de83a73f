/* The C face of the yubin auth logic for the Dovecot module shim
 * (authdb_yubin.c). No Dovecot header is included on the C++ side and no C++
 * crosses this line: every function is noexcept and turns any failure into
 * YUBIN_AUTHDB_TEMPFAIL, which Dovecot reports as a temporary failure.
 *
 * Results reach Dovecot through a sink of callbacks: field() for passdb /
 * userdb fields ("password", "uid", "gid", "home", "mail", "quota_rule";
 * "user" for each user of an iteration) and log() for lines the shim hands
 * to Dovecot's log with the request's prefix. */
#ifndef YUBIN_DOVECOT_AUTH_BRIDGE_H
#define YUBIN_DOVECOT_AUTH_BRIDGE_H

#ifdef __cplusplus
extern "C" {
#define YUBIN_NOEXCEPT noexcept
#else
#define YUBIN_NOEXCEPT
#endif

struct yubin_authdb;

enum yubin_authdb_result {
    YUBIN_AUTHDB_OK = 0,
    YUBIN_AUTHDB_USER_UNKNOWN,
    YUBIN_AUTHDB_MISMATCH,
    YUBIN_AUTHDB_DISABLED,
    YUBIN_AUTHDB_TEMPFAIL
};

enum yubin_authdb_level { YUBIN_AUTHDB_INFO = 0, YUBIN_AUTHDB_WARNING, YUBIN_AUTHDB_ERROR };

struct yubin_authdb_sink {
    void* ctx;
    void (*field)(void* ctx, const char* name, const char* value);
    void (*log)(void* ctx, enum yubin_authdb_level level, const char* message);
};

/* args: "[blocking=yes|no] [rehash=yes|no] /path/to/yubin.cf" (the path may
 * be omitted: /etc/yubin/yubin.cf). Loads and checks the configuration.
 * NULL on error, with a message in error_buf. */
struct yubin_authdb* yubin_authdb_create(const char* args, char* error_buf,
                                         unsigned error_size) YUBIN_NOEXCEPT;
void yubin_authdb_destroy(struct yubin_authdb* db) YUBIN_NOEXCEPT;
int yubin_authdb_blocking(const struct yubin_authdb* db) YUBIN_NOEXCEPT;

enum yubin_authdb_result yubin_authdb_verify_plain(
    struct yubin_authdb* db, const char* user, const char* password,
    const struct yubin_authdb_sink* sink) YUBIN_NOEXCEPT;
/* Ok: field("password", "{SCHEME}hash"). */
enum yubin_authdb_result yubin_authdb_lookup_credentials(
    struct yubin_authdb* db, const char* user, const struct yubin_authdb_sink* sink) YUBIN_NOEXCEPT;
/* Ok (also for a disabled mailbox: see README): the userdb fields. */
enum yubin_authdb_result yubin_authdb_userdb_lookup(
    struct yubin_authdb* db, const char* user, const struct yubin_authdb_sink* sink) YUBIN_NOEXCEPT;
/* field("user", address) for every mailbox; OK or TEMPFAIL. */
enum yubin_authdb_result yubin_authdb_iterate(struct yubin_authdb* db,
                                              const struct yubin_authdb_sink* sink) YUBIN_NOEXCEPT;

#ifdef __cplusplus
}
#endif

#endif
