/* tests/tools/fakeclock.c — an LD_PRELOAD library that moves a process's
 * wall clock, for the clock-jump fault tests (T936).
 *
 * The file named by $FAKECLOCK_FILE holds a number of seconds (may be
 * negative); time(), gettimeofday() and clock_gettime() on the real-time
 * clocks return the real time plus that offset, read again at every call,
 * so a test moves a running daemon's clock by rewriting the file.  The
 * monotonic clocks are left alone: that is what a jump of the system clock
 * (date -s, NTP stepping) does too.  Without the variable or the file the
 * offset is 0.
 *
 *   cc -shared -fPIC -o fakeclock.so tests/tools/fakeclock.c -ldl
 *   echo -86400 >clock; FAKECLOCK_FILE=clock LD_PRELOAD=./fakeclock.so corridor serve
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static long
offset(void)
{
    const char *file = getenv("FAKECLOCK_FILE");
    if (!file)
        return 0;
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    char buf[32];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    return strtol(buf, NULL, 10);
}

static int (*real_clock_gettime)(clockid_t, struct timespec *);
static int (*real_gettimeofday)(struct timeval *, void *);

int
clock_gettime(clockid_t id, struct timespec *ts)
{
    if (!real_clock_gettime)
        real_clock_gettime = (int (*)(clockid_t, struct timespec *)) dlsym(RTLD_NEXT, "clock_gettime");
    int rc = real_clock_gettime(id, ts);
    if (rc == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE))
        ts->tv_sec += offset();
    return rc;
}

int
gettimeofday(struct timeval *tv, void *tz)
{
    if (!real_gettimeofday)
        real_gettimeofday = (int (*)(struct timeval *, void *)) dlsym(RTLD_NEXT, "gettimeofday");
    int rc = real_gettimeofday(tv, tz);
    if (rc == 0)
        tv->tv_sec += offset();
    return rc;
}

time_t
time(time_t *t)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (t)
        *t = ts.tv_sec;
    return ts.tv_sec;
}
