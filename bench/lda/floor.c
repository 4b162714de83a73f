/* The floor for a Maildir delivery agent: read stdin, write tmp/<unique>,
 * fsync, rename into new/, fsync new/. What any correct LDA must do at least;
 * no parsing, no config, no filtering. MAILDIR names the Maildir. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <unistd.h>

int main(void) {
    const char* md = getenv("MAILDIR");
    if (!md) return 75;
    static char buf[1 << 16];
    char name[256], tmp[512], dst[512];
    struct timeval tv;
    gettimeofday(&tv, NULL);
    snprintf(name, sizeof name, "%ld.M%ldP%d.floor", (long)tv.tv_sec, (long)tv.tv_usec, (int)getpid());
    snprintf(tmp, sizeof tmp, "%s/tmp/%s", md, name);
    snprintf(dst, sizeof dst, "%s/new/%s", md, name);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) return 75;
    ssize_t n;
    while ((n = read(0, buf, sizeof buf)) > 0)
        if (write(fd, buf, (size_t)n) != n) return 75;
    if (fsync(fd) || close(fd) || rename(tmp, dst)) return 75;
    snprintf(tmp, sizeof tmp, "%s/new", md);
    int d = open(tmp, O_RDONLY | O_DIRECTORY);
    if (d < 0 || fsync(d)) return 75;
    return 0;
}
