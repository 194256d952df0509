/*
 * LD_PRELOAD library for console-log-faults-test: rename() held back, as
 * on a disk that takes seconds, to show who waits for it.  While the file
 * $HOLD_RENAME exists (at most a minute), a rename() waits, and meanwhile
 * $HOLD_RENAME.held exists.  Without the variable, renames are as fast as
 * they are.
 *
 * Copyright (c) 2026 The QEMU console log contributors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE     /* RTLD_NEXT */
#endif
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int rename(const char *from, const char *to)
{
    int (*real_rename)(const char *, const char *) =
        (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
    const char *hold = getenv("HOLD_RENAME");
    struct stat st;

    if (hold && stat(hold, &st) == 0) {
        struct timespec tick = { .tv_nsec = 10 * 1000 * 1000 };
        char held[4096];
        int i, fd;

        snprintf(held, sizeof(held), "%s.held", hold);
        fd = open(held, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        for (i = 0; i < 6000 && stat(hold, &st) == 0; i++) {
            nanosleep(&tick, NULL);
        }
        if (fd >= 0) {
            close(fd);
            unlink(held);
        }
    }
    return real_rename(from, to);
}
