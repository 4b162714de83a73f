/* Runs a command N times, one fork+exec per message with the message file
 * on stdin, sequentially; prints messages/s, the peak RSS of the children
 * (kB), the number of runs that did not exit 0, and the children's CPU time
 * (user + system) per message in ms.
 * usage: driver N MESSAGE_FILE COMMAND [ARGS...] */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char** argv) {
    if (argc < 4) return 2;
    int n = atoi(argv[1]);
    struct timespec a, b;
    long peak = 0;
    double cpu = 0;
    int failures = 0;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < n; ++i) {
        pid_t pid = fork();
        if (pid == 0) {
            int fd = open(argv[2], O_RDONLY);
            dup2(fd, 0);
            int null = open("/dev/null", O_WRONLY);
            dup2(null, 1);
            dup2(null, 2);
            execvp(argv[3], argv + 3);
            _exit(127);
        }
        int st;
        struct rusage ru;
        wait4(pid, &st, 0, &ru);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) ++failures;
        if (ru.ru_maxrss > peak) peak = ru.ru_maxrss;
        cpu += (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
               (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    printf("%.1f %ld %d %.3f\n", n / s, peak, failures, cpu * 1000 / n);
    return failures ? 1 : 0;
}
