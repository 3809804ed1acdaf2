/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * bench/nodelay.c — an LD_PRELOAD shim for bench/fanout.sh: sets TCP_NODELAY
 * on every TCP socket a peer connects.  mlmmj-send writes each SMTP command
 * and the end of the message in separate small writes and waits for the
 * reply; with Nagle's algorithm on, the last write waits for the sink's
 * delayed ACK (40 ms on Linux), so mlmmj alone is held to ~22 messages/s by
 * TCP, not by its own work.  The benchmark reports mlmmj both ways.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

int
connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    static int (*real)(int, const struct sockaddr *, socklen_t);
    if (!real)
        real = (int (*)(int, const struct sockaddr *, socklen_t)) dlsym(RTLD_NEXT, "connect");
    if (addr && (addr->sa_family == AF_INET || addr->sa_family == AF_INET6)) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return real(fd, addr, len);
}
