/*
 * Chardev output files that keep generations and bound their size
 *
 * Copyright (c) 2026 The QEMU console log contributors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <glib/gstdio.h>
#include "qapi/error.h"
#include "qemu/cutils.h"
#include "qemu/error-report.h"
#include "qemu/lockable.h"
#include "qemu/main-loop.h"
#include "block/thread-pool.h"
#include "system/runstate.h"
#include "chardev/rotating-file.h"

#ifdef _WIN32           /* unused there: rotating_file_open() refuses */
#define O_NOFOLLOW 0
#define O_NONBLOCK 0
#define NAME_MAX 255
#endif

struct RotatingFile {
    char *path;                 /* absolute: -daemonize changes directory */
    char *label;
    const char *opt;
    int generations;
    uint64_t max_size;          /* 0: no limit */
    int64_t warn_at;            /* ms, when a warning may come again */
    uint64_t warned_dropped;

    QemuMutex lock;             /* protects what follows */
    int fd;                     /* where output goes */
    uint64_t size;              /* of that file */
    uint64_t limit;             /* max_size, less what the last file ran over */
    bool rotate;                /* a new PATH is due */
    bool busy;                  /* a worker is asked for or runs */
    bool closing;
    int pending;                /* completions to come */
    int64_t retry_at;           /* ms, after a rotation failed */
    uint64_t dropped;           /* bytes lost since this file began */
    uint64_t dropped_total;
    Error *error;
};

/* Of every chardev: a new one may take over the files of the one it replaces */
static QemuMutex rotating_file_fs_lock;

static void __attribute__((constructor)) rotating_file_init(void)
{
    qemu_mutex_init(&rotating_file_fs_lock);
}

/* Never through a symbolic link, nor blocking on a FIFO */
#define ROTATING_FILE_OPEN(path, flags, mode) \
    RETRY_ON_EINTR(qemu_open_old(path, O_WRONLY | O_APPEND | O_CREAT | \
                                 O_BINARY | O_NOFOLLOW | O_NONBLOCK | flags, \
                                 mode))

/*
 * A new PATH, or -1.  The old one becomes PATH.0, shifting the ones up to
 * the first missing: a rotation that failed and is retried deletes no more.
 */
static int rotating_file_next(const char *path, int generations, mode_t mode,
                              Error **errp)
{
    GStatBuf st;
    int k, fd;

    QEMU_LOCK_GUARD(&rotating_file_fs_lock);
    for (k = 0; k < generations - 1; k++) {
        g_autofree char *name = g_strdup_printf("%s.%d", path, k);

        if (g_lstat(name, &st) < 0 && errno == ENOENT) {
            break;
        }
    }
    if (g_lstat(path, &st) < 0 && errno == ENOENT) {
        k = -1;     /* a rotation that failed moved PATH already */
    }
    for (; k >= 0; k--) {
        g_autofree char *from = k ? g_strdup_printf("%s.%d", path, k - 1)
                                  : g_strdup(path);
        g_autofree char *to = g_strdup_printf("%s.%d", path, k);

        if (g_rename(from, to) < 0) {
            error_setg_errno(errp, errno, "cannot rename '%s' to '%s'",
                             from, to);
            return -1;
        }
    }
    /* O_EXCL: nothing planted at PATH is written through */
    fd = ROTATING_FILE_OPEN(path, O_EXCL, mode);
    if (fd < 0) {
        error_setg_file_open(errp, errno, path);
    }
    return fd;
}

/* In a worker of the thread pool: the writer's lock is not held meanwhile */
static int rotating_file_work(void *opaque)
{
    RotatingFile *rf = opaque;
    struct stat st = { .st_mode = 0600 };
    Error *err = NULL;
    int fd;

    /* Only workers change rf->fd, one at a time */
    fstat(rf->fd, &st);
    /* A new PATH keeps the permissions of the one before */
    fd = rotating_file_next(rf->path, rf->generations, st.st_mode & 0777,
                            &err);
    WITH_QEMU_LOCK_GUARD(&rf->lock) {
        uint64_t over = rf->size - MIN(rf->size, rf->limit);
        int old = rf->fd;

        if (fd >= 0) {
            /* Go on in the new PATH: the file before is complete */
            rf->size = 0;
            rf->limit = rf->max_size - MIN(over, rf->max_size);
            rf->retry_at = 0;
            if (rf->dropped) {
                g_autofree char *note = g_strdup_printf(
                    "[qemu: %" PRIu64 " bytes of output lost here]\n",
                    rf->dropped);

                rf->size = qemu_write_full(fd, note, strlen(note));
                rf->dropped = 0;
            }
            rf->fd = fd;
            fd = old;
        } else if (err) {
            error_propagate_prepend(&rf->error, err, "%s: ", rf->opt);
            rf->retry_at = qemu_clock_get_ms(QEMU_CLOCK_REALTIME) + 1000;
        }
        rf->rotate = false;
        rf->busy = false;
    }
    if (fd >= 0) {
        close(fd);
    }
    return 0;
}

static void rotating_file_check(RotatingFile *rf);

static void rotating_file_free(RotatingFile *rf)
{
    close(rf->fd);
    error_free(rf->error);
    qemu_mutex_destroy(&rf->lock);
    g_free(rf->path);
    g_free(rf->label);
    g_free(rf);
}

/* Main loop: warnings; the end of a file closed meanwhile */
static void rotating_file_done(void *opaque, int ret)
{
    RotatingFile *rf = opaque;
    int64_t now = qemu_clock_get_ms(QEMU_CLOCK_REALTIME);
    uint64_t dropped;
    Error *err;
    bool last;

    WITH_QEMU_LOCK_GUARD(&rf->lock) {
        last = !--rf->pending && rf->closing;
        err = g_steal_pointer(&rf->error);
        dropped = rf->dropped_total;
        rotating_file_check(rf);
    }
    if (last) {
        error_free(err);
        rotating_file_free(rf);
        return;
    }
    /* A failed rotation is retried every second: warn less often */
    if ((err || dropped > rf->warned_dropped) && now >= rf->warn_at) {
        rf->warn_at = now + 10000;
        rf->warned_dropped = dropped;
        warn_report("chardev '%s': %s: %s%s%" PRIu64 " bytes of output lost "
                    "so far", rf->label, rf->opt, err ? error_get_pretty(err)
                    : "", err ? "; " : "", dropped);
    }
    error_free(err);
}

/* From the main loop's context, which a vCPU holding the BQL has */
static void rotating_file_start(void *opaque)
{
    if (qemu_get_current_aio_context() != qemu_get_aio_context()) {
        aio_bh_schedule_oneshot(qemu_get_aio_context(), rotating_file_start,
                                opaque);
        return;
    }
    thread_pool_submit_aio(rotating_file_work, opaque, rotating_file_done,
                           opaque);
}

/* With the lock: ask a worker for what is due, the next file at 7/8 */
static void rotating_file_check(RotatingFile *rf)
{
    if (rf->max_size && rf->size && rf->size >= rf->limit - rf->limit / 8 &&
        (!rf->retry_at ||
         qemu_clock_get_ms(QEMU_CLOCK_REALTIME) >= rf->retry_at)) {
        rf->rotate = true;
    }
    if (!rf->busy && !rf->closing && rf->rotate) {
        rf->busy = true;
        rf->pending++;
        rotating_file_start(rf);
    }
}

void rotating_file_write(RotatingFile *rf, const void *buf, size_t len)
{
    size_t n = len, done;

    QEMU_LOCK_GUARD(&rf->lock);
    if (rf->max_size) {
        /* Up to twice the limit, until a worker has made the next file */
        n = MIN(len, rf->limit + rf->max_size -
                     MIN(rf->size, rf->limit + rf->max_size));
    }
    done = n ? qemu_write_full(rf->fd, buf, n) : 0;
    rf->size += done;
    rf->dropped += len - done;
    rf->dropped_total += len - done;
    rotating_file_check(rf);
}


void rotating_file_rotate(RotatingFile *rf)
{
    if (!rf) {
        return;
    }
    QEMU_LOCK_GUARD(&rf->lock);
    rf->rotate |= rf->size > 0;
    rotating_file_check(rf);
}

RotatingFile *rotating_file_open(const char *label, const char *opt,
                                 const char *size_opt, const char *path,
                                 bool append, int64_t generations,
                                 uint64_t max_size, Error **errp)
{
    ERRP_GUARD();
    g_autofree char *abs = g_canonicalize_filename(path, NULL);
    g_autofree char *last = g_strdup_printf("%s.%" PRId64, abs,
                                            generations - 1);
    bool incoming = runstate_check(RUN_STATE_INMIGRATE);
    uint64_t over = 0;
    RotatingFile *rf;
    struct stat st;
    int fd = -1;

#ifdef _WIN32       /* where an open file cannot be renamed */
    error_setg(errp, "%s is not supported on Windows hosts", opt);
    return NULL;
#endif
    if (generations < 1 || generations > UINT8_MAX) {
        error_setg(errp, "%s for '%s' must be 1 to %d, not %" PRId64, opt,
                   path, UINT8_MAX, generations);
    } else if (max_size && max_size < ROTATING_FILE_MIN_SIZE) {
        error_setg(errp, "%s for '%s' must be at least %d", size_opt, path,
                   ROTATING_FILE_MIN_SIZE);
    } else if (strlen(last) >= PATH_MAX ||
               strlen(strrchr(last, '/') + 1) > NAME_MAX) {
        error_setg(errp, "%s for '%s': the name '%s' would be too long", opt,
                   path, last);
    }
    if (*errp) {
        return NULL;
    }
    errno = EBADF;      /* QEMU cannot rename what /dev/fdset/ passed */
    if (!strstart(path, "/dev/fdset/", NULL)) {
        fd = ROTATING_FILE_OPEN(abs, 0, 0666);
    }
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        error_setg_errno(errp, fd < 0 ? errno : EINVAL, "%s needs a regular "
                         "file that QEMU opens by name, not '%s'", opt, path);
        if (fd >= 0) {
            close(fd);
        }
        return NULL;
    }
    if (st.st_size && !append && !incoming) {
        close(fd);
        over = st.st_size - MIN(st.st_size, max_size);
        fd = rotating_file_next(abs, generations, st.st_mode & 0777, errp);
        if (fd < 0) {
            error_prepend(errp, "%s: ", opt);
            return NULL;
        }
        st.st_size = 0;
    }

    rf = g_new0(RotatingFile, 1);
    rf->path = g_steal_pointer(&abs);
    rf->label = g_strdup(label);
    rf->opt = opt;
    rf->generations = generations;
    rf->max_size = max_size;
    rf->limit = max_size - MIN(over, max_size);
    rf->fd = fd;
    rf->size = st.st_size;
    /* A migration's source wrote PATH: start a new one at our first write */
    rf->rotate = incoming && st.st_size;
    qemu_mutex_init(&rf->lock);
    return rf;
}

void rotating_file_close(RotatingFile *rf)
{
    bool last;

    WITH_QEMU_LOCK_GUARD(&rf->lock) {
        rf->closing = true;
        last = !rf->pending;
    }
    if (last) {
        rotating_file_free(rf);     /* else the last completion does */
    }
}
