/*
 * Chardev output files that keep generations and bound their size
 *
 * Copyright (c) 2026 The QEMU console log contributors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef CHARDEV_ROTATING_FILE_H
#define CHARDEV_ROTATING_FILE_H

#include "chardev/char.h"

/*
 * A chardev's output in PATH, the previous output in PATH.0 (newest) to
 * PATH.(N-1).  Renames and opens run in the thread pool; a writer that
 * fills PATH before the next file is there is refused, as by a full pty.
 */
typedef struct RotatingFile RotatingFile;

#define ROTATING_FILE_MIN_SIZE 4096

/* A line that starts with less room left goes to the next file */
#define ROTATING_FILE_LINE_RESERVE 256

/*
 * Keep @generations previous files and, with @max_size, start a new one
 * before PATH exceeds it.  Unless @append or migrating in, a non-empty
 * PATH becomes PATH.0 first.  @opt names the option in errors.
 */
RotatingFile *rotating_file_open(Chardev *chr, const char *opt,
                                 const char *path, bool append,
                                 unsigned generations, uint64_t max_size,
                                 Error **errp);

void rotating_file_close(RotatingFile *rf);

/* Wait until no worker is busy with @rf, if any (main loop) */
void rotating_file_drain(RotatingFile *rf);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RotatingFile, rotating_file_close)

typedef enum RotatingFileMode {
    ROTATING_FILE_WRITE,        /* what fits now */
    ROTATING_FILE_COUNT,        /* nothing, but count what would fit */
    ROTATING_FILE_WRITE_ALL,    /* all, as counted just before */
} RotatingFileMode;

/* Bytes written or counted; else 0 or -1 with errno (EAGAIN: wait) */
ssize_t rotating_file_write(RotatingFile *rf, const void *buf, size_t len,
                            RotatingFileMode mode);

/* Whether writes wait for the next file */
bool rotating_file_full(RotatingFile *rf);

/* A source that dispatches (G_IO_OUT) once the file takes bytes again */
GSource *rotating_file_create_watch(RotatingFile *rf);

#endif /* CHARDEV_ROTATING_FILE_H */
