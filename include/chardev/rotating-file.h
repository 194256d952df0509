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
 * PATH's directory is opened once, with PATH, and every later create,
 * rename, unlink and stat is done relative to it: QEMU may change its
 * working directory (-daemonize) or root (-run-with chroot=) meanwhile,
 * and the directory may be renamed.
 *
 * Invariants:
 * - PATH.(N-1), ..., PATH.0, PATH concatenated is exactly the stream
 *   written, minus what aged out of the oldest generation.
 * - A rotation either completes, or deletes no more than a successful
 *   one would, however often it is retried: generations are renamed over
 *   their successors, oldest first, and only up to the first missing one,
 *   so PATH.(N-1) is replaced only when every generation exists, and a
 *   rotation that failed half-way left a gap that the next one fills
 *   instead of deleting anything.
 *
 * The writer never reports anything itself: the caller serializes all
 * calls on one RotatingFile (chardevs use their chr_write_lock) and is
 * told of rotations and failures through RotatingFileOps, with that lock
 * held.
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

/*
 * With time stamps, each line starts with the UTC time at which its first
 * byte was written, e.g. "2026-11-26T03:12:07.123Z ".
 */
#define ROTATING_FILE_STAMP_LEN 25

/* What starts QEMU's own lines (markers), after their stamp */
#define ROTATING_FILE_MARKER_PREFIX "==== "
/* A file larger than this holds more than QEMU's markers */
#define ROTATING_FILE_MARKERS_MAX (64 * 1024)

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
    /* Open without blocking, as fd chardevs do (POSIX) */
    bool nonblocking;
    /* Start each line with the time its first byte came (a stamp). */
    bool timestamps;
    /*
     * If not NULL, who writes, e.g. "QEMU 10.0.13, pid 4242, chardev
     * serial0": a stamped line of QEMU's own, "==== WHO: WHAT ====",
     * says what happened whenever the file is opened, reopened, or a new
     * generation starts.
     */
    const char *marker;
    /*
     * Option names for error messages, e.g. "logfile", "logappend",
     * "logrotate"
     */
    const char *path_opt;
    const char *append_opt;
    const char *generations_opt;
    const char *max_size_opt;
} RotatingFileOptions;

typedef struct RotatingFile RotatingFile;

/*
 * Called with the caller's lock held, maybe in a vCPU thread: neither may
 * report to a monitor from there.
 */
typedef struct RotatingFileOps {
    /* A new generation started: the previous content is now PATH.0. */
    void (*rotated)(void *opaque, const char *path,
                    RotatingFileReason reason);
    /* A failure to write or rotate, rate-limited by the writer. */
    void (*failed)(void *opaque, const char *message);
} RotatingFileOps;

/*
 * Check @opts without changing anything on the file system.  Errors name
 * the option and the path.
 */
bool rotating_file_check(const RotatingFileOptions *opts, Error **errp);

/*
 * Check @opts, open PATH and its directory (rotating PATH first if
 * required) and return the writer.  @ops may be NULL.
 */
RotatingFile *rotating_file_open(const RotatingFileOptions *opts,
                                 const RotatingFileOps *ops, void *opaque,
                                 Error **errp);

void rotating_file_close(RotatingFile *rf);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RotatingFile, rotating_file_close)

/*
 * Write up to @len bytes, rotating first where the size limit requires.
 * Returns the number of bytes accepted, which may be short, or -1 with
 * errno set when none was (a full disk, say: the caller decides whether
 * to retry or drop them).  A failing rotation never fails the write: it
 * is retried a second later, and meanwhile the bytes go to the current
 * file.  Failures are passed to RotatingFileOps.failed, at most one every
 * ten seconds.
 */
ssize_t rotating_file_write(RotatingFile *rf, const void *buf, size_t len);

/*
 * Start a new generation now.  If the current file is empty, or holds
 * only QEMU's markers, there is nothing to keep: nothing is done
 * (logrotate's "notifempty").  Likewise at open, such a PATH is
 * appended to rather than made a generation.
 */
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
