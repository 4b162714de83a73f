/* An LMTP client for the benchmark, doing what Postfix's lmtp(8) does on a
 * cached connection: LHLO once, then per message MAIL, RCPT, DATA pipelined
 * in one write, the dot-stuffed CRLF message, one reply per recipient.
 * With C connections (Postfix's lmtp(8) delivers over several in parallel,
 * up to the destination concurrency limit) a process per connection sends
 * its share of the N messages; all connect and greet before the clock starts.
 * Prints messages/s, the peak RSS (kB) of the server process(es) and the
 * number of messages not answered 250.
 * usage: lmtp_client SOCKET N MESSAGE_FILE RCPT PID [children|self] [C]
 *   PID: the server's pid; with "children", the largest VmHWM among PID's
 *   children (Dovecot forks an lmtp process per connection). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char rbuf[1 << 16];
static size_t rlen;

static int send_all(int fd, const char* p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads one reply (possibly multi-line); returns its code or -1. */
static int reply(int fd) {
    for (;;) {
        char* nl = memchr(rbuf, '\n', rlen);
        if (nl) {
            size_t line = (size_t)(nl - rbuf) + 1;
            int code = atoi(rbuf);
            int more = line > 3 && rbuf[3] == '-';
            memmove(rbuf, rbuf + line, rlen - line);
            rlen -= line;
            if (!more) return code;
            continue;
        }
        ssize_t r = read(fd, rbuf + rlen, sizeof rbuf - rlen);
        if (r <= 0) return -1;
        rlen += (size_t)r;
    }
}

static long hwm_kb(long pid) {
    char path[64], line[256];
    long kb = 0;
    snprintf(path, sizeof path, "/proc/%ld/status", pid);
    FILE* f = fopen(path, "r");
    if (!f) return 0;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0) kb = atol(line + 6);
    fclose(f);
    return kb;
}

static long children_hwm_kb(long parent) {
    long best = 0;
    DIR* d = opendir("/proc");
    struct dirent* e;
    while (d && (e = readdir(d))) {
        long pid = atol(e->d_name);
        if (pid <= 0) continue;
        char path[64], line[256];
        snprintf(path, sizeof path, "/proc/%ld/status", pid);
        FILE* f = fopen(path, "r");
        if (!f) continue;
        long ppid = -1, kb = 0;
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "PPid:", 5) == 0) ppid = atol(line + 5);
            if (strncmp(line, "VmHWM:", 6) == 0) kb = atol(line + 6);
        }
        fclose(f);
        if (ppid == parent && kb > best) best = kb;
    }
    if (d) closedir(d);
    return best;
}

int main(int argc, char** argv) {
    if (argc < 6) return 2;
    int n = atoi(argv[2]);
    long server = atol(argv[5]);
    int children = argc > 6 && strcmp(argv[6], "children") == 0;

    /* The message as it goes on the wire: CRLF, dot-stuffed, ".\r\n". */
    FILE* mf = fopen(argv[3], "rb");
    if (!mf) return 2;
    fseek(mf, 0, SEEK_END);
    long sz = ftell(mf);
    fseek(mf, 0, SEEK_SET);
    char* raw = malloc((size_t)sz + 1);
    if (fread(raw, 1, (size_t)sz, mf) != (size_t)sz) return 2;
    fclose(mf);
    char* wire = malloc((size_t)sz * 2 + 8);
    size_t w = 0;
    int bol = 1;
    for (long i = 0; i < sz; ++i) {
        if (bol && raw[i] == '.') wire[w++] = '.';
        if (raw[i] == '\n' && (i == 0 || raw[i - 1] != '\r')) wire[w++] = '\r';
        wire[w++] = raw[i];
        bol = raw[i] == '\n';
    }
    if (!bol) { wire[w++] = '\r'; wire[w++] = '\n'; }
    memcpy(wire + w, ".\r\n", 3);
    w += 3;

    int conns = argc > 7 ? atoi(argv[7]) : 1;
    if (conns < 1) conns = 1;
    int go[2], done[2];
    if (pipe(go) || pipe(done)) return 2;
    for (int c = 0; c < conns; ++c) {
        if (fork() != 0) continue;
        close(go[1]);
        close(done[0]);
        int mine = n / conns + (c < n % conns);
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        strncpy(sa.sun_path, argv[1], sizeof sa.sun_path - 1);
        if (connect(fd, (struct sockaddr*)&sa, sizeof sa) != 0) { perror("connect"); _exit(2); }
        if (reply(fd) != 220) _exit(3);
        const char* lhlo = "LHLO bench.example\r\n";
        if (send_all(fd, lhlo, strlen(lhlo)) || reply(fd) != 250) _exit(3);
        char cmds[1024];
        int cl = snprintf(cmds, sizeof cmds, "MAIL FROM:<a@example.org>\r\nRCPT TO:<%s>\r\nDATA\r\n", argv[4]);
        char x;
        if (write(done[1], "r", 1) != 1 || read(go[0], &x, 1) < 0) _exit(4);  /* ready; wait for go */
        int failures = 0;
        for (int i = 0; i < mine; ++i) {
            if (send_all(fd, cmds, (size_t)cl)) _exit(4);
            int m = reply(fd), r = reply(fd), d = reply(fd);
            if (m != 250 || r != 250 || d != 354) {
                fprintf(stderr, "message %d: MAIL %d RCPT %d DATA %d\n", i, m, r, d);
                _exit(4);
            }
            if (send_all(fd, wire, w)) _exit(4);
            if (reply(fd) != 250) ++failures;
        }
        send_all(fd, "QUIT\r\n", 6);
        (void)reply(fd);
        close(fd);
        _exit(failures > 250 ? 250 : failures);
    }
    close(go[0]);
    close(done[1]);
    for (int c = 0; c < conns; ++c) {
        char x;
        if (read(done[0], &x, 1) != 1) return 4;
    }
    int failures = 0;
    struct timespec a, b;
    long peak = 0;
    clock_gettime(CLOCK_MONOTONIC, &a);
    close(go[1]);  /* go */
    int st;
    while (wait(&st) > 0) {
        if (!WIFEXITED(st) || WEXITSTATUS(st) > 250) return 4;
        failures += WEXITSTATUS(st);
        /* The server's high-water mark while connections are still open
         * (Dovecot's lmtp processes exit when theirs closes). */
        long h = children ? children_hwm_kb(server) : hwm_kb(server);
        if (h > peak) peak = h;
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    printf("%.1f %ld %d\n", n / s, peak, failures);
    return failures ? 1 : 0;
}
