/* Runs a command N times, one fork+exec per message, the message fed
 * through a pipe on its stdin as Postfix's local(8) and pipe(8) do (a
 * feeder process per message writes it; its CPU is not counted), with up
 * to P runs at once (Postfix runs deliveries in parallel up to the
 * transport's concurrency limit). Prints messages/s, the peak RSS of the
 * commands (kB), the number of runs that did not exit 0, and the commands'
 * CPU time (user + system) per message in ms.
 * usage: driver N P MESSAGE_FILE COMMAND [ARGS...] */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t feed(const char* file, int wr) {
    pid_t pid = fork();
    if (pid != 0) return pid;
    int fd = open(file, O_RDONLY);
    static char buf[1 << 16];
    ssize_t n;
    while (fd >= 0 && (n = read(fd, buf, sizeof buf)) > 0) {
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(wr, buf + off, (size_t)(n - off));
            if (w <= 0) _exit(0); /* the command stopped reading: its exit status tells */
            off += w;
        }
    }
    _exit(0);
}

int main(int argc, char** argv) {
    if (argc < 5) return 2;
    int n = atoi(argv[1]), par = atoi(argv[2]);
    if (par < 1) par = 1;
    signal(SIGPIPE, SIG_IGN);
    pid_t* cmds = calloc((size_t)par, sizeof *cmds);
    struct timespec a, b;
    long peak = 0;
    double cpu = 0;
    int failures = 0, started = 0, running = 0;
    clock_gettime(CLOCK_MONOTONIC, &a);
    while (started < n || running > 0) {
        while (started < n && running < par) {
            int p[2];
            if (pipe(p) != 0) return 3;
            pid_t pid = fork();
            if (pid == 0) {
                dup2(p[0], 0);
                close(p[0]);
                close(p[1]);
                int null = open("/dev/null", O_WRONLY);
                dup2(null, 1);
                dup2(null, 2);
                signal(SIGPIPE, SIG_DFL);
                execvp(argv[4], argv + 4);
                _exit(127);
            }
            close(p[0]);
            feed(argv[3], p[1]);
            close(p[1]);
            for (int i = 0; i < par; ++i)
                if (cmds[i] == 0) { cmds[i] = pid; break; }
            ++started;
            ++running;
        }
        int st;
        struct rusage ru;
        pid_t pid = wait4(-1, &st, 0, &ru);
        if (pid < 0) return 4;
        int slot = -1;
        for (int i = 0; i < par; ++i)
            if (cmds[i] == pid) slot = i;
        if (slot < 0) continue; /* a feeder */
        cmds[slot] = 0;
        --running;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) ++failures;
        if (ru.ru_maxrss > peak) peak = ru.ru_maxrss;
        cpu += (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
               (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    }
    while (wait(NULL) > 0) {
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    printf("%.1f %ld %d %.3f\n", n / s, peak, failures, cpu * 1000 / n);
    return failures ? 1 : 0;
}
