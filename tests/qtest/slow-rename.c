/*
 * Renames made slow on purpose, as on a busy disk: an LD_PRELOAD library
 * for QEMU in console-log-flood-test.  rename(), renameat() and
 * renameat2() sleep $SLOW_RENAME_US microseconds, then rename, and each
 * rename done is listed in $SLOW_RENAME_LOG as "FROM TO\n" (the names as
 * given: QEMU's rotating files give absolute ones).  Nothing else is
 * changed; without the variables, renames are as fast as they are.
 *
 * Copyright (c) 2026 The QEMU console log contributors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef int (*RenameFn)(const char *, const char *);
typedef int (*RenameatFn)(int, const char *, int, const char *);
typedef int (*Renameat2Fn)(int, const char *, int, const char *,
                           unsigned int);

static void slow_rename_wait(void)
{
    const char *us = getenv("SLOW_RENAME_US");
    long long delay = us ? atoll(us) : 0;
    struct timespec ts = {
        .tv_sec = delay / 1000000,
        .tv_nsec = (delay % 1000000) * 1000,
    };

    while (delay > 0 && nanosleep(&ts, &ts) < 0 && errno == EINTR) {
        continue;
    }
}

/* One write with O_APPEND: lines of concurrent renames do not mix */
static void slow_rename_log(int ret, const char *from, const char *to)
{
    const char *log = getenv("SLOW_RENAME_LOG");
    int saved = errno, fd, len;
    char line[2 * 4096 + 2];

    if (ret < 0 || !log) {
        return;
    }
    len = snprintf(line, sizeof(line), "%s %s\n", from, to);
    fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) {
        /* A line that could not be written fails the test's count */
        ssize_t done = len > 0 && len < (int)sizeof(line) ?
                       write(fd, line, len) : -1;

        (void)done;
        close(fd);
    }
    errno = saved;
}

int rename(const char *from, const char *to)
{
    RenameFn real = (RenameFn)dlsym(RTLD_NEXT, "rename");
    int ret;

    slow_rename_wait();
    ret = real(from, to);
    slow_rename_log(ret, from, to);
    return ret;
}

int renameat(int fromfd, const char *from, int tofd, const char *to)
{
    RenameatFn real = (RenameatFn)dlsym(RTLD_NEXT, "renameat");
    int ret;

    slow_rename_wait();
    ret = real(fromfd, from, tofd, to);
    slow_rename_log(ret, from, to);
    return ret;
}

int renameat2(int fromfd, const char *from, int tofd, const char *to,
              unsigned int flags)
{
    Renameat2Fn real = (Renameat2Fn)dlsym(RTLD_NEXT, "renameat2");
    int ret;

    slow_rename_wait();
    ret = real(fromfd, from, tofd, to, flags);
    slow_rename_log(ret, from, to);
    return ret;
}
