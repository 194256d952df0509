/*
 * Output file that keeps numbered generations and bounds their size
 *
 * Copyright (c) 2026 The QEMU console log contributors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef CHARDEV_ROTATING_FILE_H
#define CHARDEV_ROTATING_FILE_H

/*
 * A RotatingFile writes a byte stream to PATH.  With generations N >= 1 it
 * keeps the previous output in PATH.0 (newest) ... PATH.(N-1) (oldest), the
 * naming libvirt's virtlogd uses; older output is deleted.  A new
 * generation starts when a new writer opens a non-empty PATH without
 * append, when PATH would grow beyond max_size, or on request.
 *
 * Invariant: PATH.(N-1), ..., PATH.0, PATH concatenated is exactly the
 * stream written, minus what aged out of the oldest generation.
 *
 * The caller serializes all calls on one RotatingFile (chardevs use their
 * chr_write_lock).
 */

/* Largest number of generations; each rotation renames every generation. */
#define ROTATING_FILE_MAX_GENERATIONS 64

/* Smallest non-zero size limit: several reserves, see below. */
#define ROTATING_FILE_MIN_SIZE 4096

/*
 * A line shorter than this is never split across two files: a file that
 * has less room left than this at the start of a line is rotated first.
 */
#define ROTATING_FILE_LINE_RESERVE 256

typedef enum RotatingFileReason {
    ROTATING_FILE_REASON_START,     /* a new writer found a non-empty PATH */
    ROTATING_FILE_REASON_SIZE,      /* PATH reached the size limit */
    ROTATING_FILE_REASON_COMMAND,   /* rotating_file_rotate() */
} RotatingFileReason;

typedef struct RotatingFileOptions {
    const char *path;
    bool append;            /* keep and extend PATH instead of replacing it */
    int64_t generations;    /* 0: never rotate, as plain files do */
    uint64_t max_size;      /* 0: no size limit */
    /*
     * PATH is being taken over from another process (incoming live
     * migration on shared storage): append to it, never rotate at start.
     */
    bool take_over;
    /* Option names for error messages, e.g. "logrotate" */
    const char *generations_opt;
    const char *max_size_opt;
} RotatingFileOptions;

typedef struct RotatingFile RotatingFile;

typedef void RotatingFileNotify(void *opaque, const char *path,
                                RotatingFileReason reason);

/*
 * Check @opts without touching the file system beyond read-only lookups.
 * Errors name the option and the path.
 */
bool rotating_file_check(const RotatingFileOptions *opts, Error **errp);

/*
 * Check @opts, open PATH (rotating it first if required) and return the
 * writer.  @notify, if not NULL, is called after every rotation.
 */
RotatingFile *rotating_file_open(const RotatingFileOptions *opts,
                                 RotatingFileNotify *notify, void *opaque,
                                 Error **errp);

void rotating_file_close(RotatingFile *rf);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RotatingFile, rotating_file_close)

/*
 * Write up to @len bytes, rotating first where the size limit requires.
 * Returns the number of bytes accepted, which may be short, or -1 with
 * errno set when none was (a full disk, say: the caller decides whether
 * to retry or drop them; failures are warned about, rate-limited).  A
 * failing rotation never fails the write: it is warned about and retried
 * later, and the bytes go to the current file.
 */
ssize_t rotating_file_write(RotatingFile *rf, const void *buf, size_t len);

/* Start a new generation now. */
bool rotating_file_rotate(RotatingFile *rf, Error **errp);

/*
 * Close the current file and open PATH again for appending, creating it
 * if it is gone: for external rotators that moved PATH away.
 */
bool rotating_file_reopen(RotatingFile *rf, Error **errp);

/* Whether the writer keeps generations. */
bool rotating_file_has_generations(const RotatingFile *rf);

/*
 * The file descriptor output goes to now, to poll for writability; it
 * changes on rotation and reopening.
 */
int rotating_file_fd(const RotatingFile *rf);

#endif /* CHARDEV_ROTATING_FILE_H */
