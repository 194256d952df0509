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
#include "qemu/error-report.h"
#include "qemu/lockable.h"
#include "qemu/main-loop.h"
#include "block/thread-pool.h"
#include "system/runstate.h"
#include "chardev/rotating-file.h"

#ifdef _WIN32           /* unused there: rotating_file_open() refuses */
#define O_NOFOLLOW 0
#define O_NONBLOCK 0
#endif

struct RotatingFile {
    char *path;                 /* absolute: -daemonize changes directory */
    char *label;
    const char *opt;
    int generations;
    uint64_t max_size;          /* 0: no limit */
    VMChangeStateEntry *incoming;
    int64_t warn_at, err_warn_at;   /* ms, when warnings may come again */
    uint64_t warned_dropped;

    QemuMutex lock;             /* protects what follows */
    int fd;                     /* where output goes */
    uint64_t size;              /* of that file */
    uint64_t limit;             /* max_size less the last file's overrun */
    bool rotate;                /* a new PATH is due */
    bool busy;                  /* a worker is asked for or runs */
    bool closing;
    int pending;                /* completions to come */
    int64_t retry_at;           /* ms, after a rotation failed */
    uint64_t dropped;           /* bytes lost since this file began */
    uint64_t dropped_total;
    Error *error;
};

/*
 * Renames are one at a time: chardev-change opens the paths of a chardev
 * while its worker may run.  A worker of a closed chardev does nothing.
 */
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

        if (RETRY_ON_EINTR(g_rename(from, to)) < 0) {
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

    QEMU_LOCK_GUARD(&rotating_file_fs_lock);
    if (qatomic_read(&rf->closing)) {
        return 0;   /* another chardev may have opened the files since */
    }
    /* Only workers change rf->fd; a new PATH keeps its permission bits */
    fstat(rf->fd, &st);
    fd = rotating_file_next(rf->path, rf->generations, st.st_mode & 0777,
                            &err);
    WITH_QEMU_LOCK_GUARD(&rf->lock) {
        uint64_t over = rf->size - MIN(rf->size, rf->limit);
        int old = rf->fd;

        if (fd >= 0 && !rf->closing) {
            /* Go on in the new PATH: the file before is complete */
            rf->size = 0;
            rf->limit = rf->max_size - MIN(over, rf->max_size);
            rf->retry_at = 0;
            rf->rotate = false;
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
            error_propagate(&rf->error, err);
            rf->retry_at = qemu_clock_get_ms(QEMU_CLOCK_REALTIME) + 1000;
        }
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
        /* A worker that runs tells of the loss, and why if it fails */
        dropped = rf->busy ? rf->warned_dropped : rf->dropped_total;
        rotating_file_check(rf);
    }
    /* A failed rotation is retried every second: warn less often */
    if (err && now >= rf->err_warn_at) {
        rf->err_warn_at = now + 10000;
        error_prepend(&err, "chardev '%s': %s: ", rf->label, rf->opt);
        warn_report_err(g_steal_pointer(&err));
    }
    if (dropped > rf->warned_dropped && (now >= rf->warn_at || last)) {
        rf->warn_at = now + 10000;
        rf->warned_dropped = dropped;
        warn_report("chardev '%s': %s: %" PRIu64 " bytes of output lost so "
                    "far", rf->label, rf->opt, dropped);
    }
    error_free(err);
    if (last) {
        rotating_file_free(rf);
    }
}

static void rotating_file_report(void *opaque)
{
    rotating_file_done(opaque, 0);
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
    rf->rotate |= rf->max_size && rf->size >= rf->max_size - rf->max_size / 8;
    if (rf->retry_at && qemu_clock_get_ms(QEMU_CLOCK_REALTIME) < rf->retry_at) {
        return;     /* a rotation failed: again a second later */
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
    if (done < len && !rf->dropped) {
        rf->pending++;      /* warn soon, from the main loop */
        aio_bh_schedule_oneshot(qemu_get_aio_context(), rotating_file_report,
                                rf);
    }
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
    rf->retry_at = 0;
    rotating_file_check(rf);
}

static void rotating_file_incoming(void *opaque, bool running,
                                   RunState state)
{
    RotatingFile *rf = opaque;

    if (running) {
        qemu_del_vm_change_state_handler(rf->incoming);
        rf->incoming = NULL;
        QEMU_LOCK_GUARD(&rf->lock);
        rf->rotate = true;      /* the source wrote PATH until now */
        rotating_file_check(rf);
    }
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
    g_autofree char *prev = g_strdup_printf("%s.0", abs);
    GStatBuf gst;
    bool incoming = runstate_check(RUN_STATE_INMIGRATE);
    RotatingFile *rf;
    struct stat st;
    int fd = -1;

#ifdef _WIN32       /* where an open file cannot be renamed */
    error_setg(errp, "%s is not supported on Windows hosts", opt);
    return NULL;
#endif
    if (!generations && max_size) {
        error_setg(errp, "%s for '%s' requires %s", size_opt, path, opt);
    } else if (generations < 1 || generations > UINT8_MAX) {
        error_setg(errp, "%s for '%s' must be 1 to %d, not %" PRId64, opt,
                   path, UINT8_MAX, generations);
    } else if (max_size && (max_size < ROTATING_FILE_MIN_SIZE ||
                            max_size > ROTATING_FILE_MAX_SIZE)) {
        error_setg(errp, "%s for '%s' must be 4K to 1T", size_opt, path);
    } else if (g_access(last, F_OK) < 0 && errno == ENAMETOOLONG) {
        error_setg(errp, "%s for '%s': the name '%s' would be too long", opt,
                   path, last);
    }
    if (*errp) {
        return NULL;
    }
    errno = EBADF;      /* QEMU cannot rename what /dev/fdset/ passed */
    if (!g_str_has_prefix(path, "/dev/fdset/")) {
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
    /*
     * A new file unless appending to one that is not yet due (the source
     * of a migration still writes); while a worker renames, append rather
     * than wait or race with it.
     */
    if (st.st_size && !incoming &&
        (!append || (max_size && st.st_size >= max_size - max_size / 8)) &&
        !qemu_mutex_trylock(&rotating_file_fs_lock)) {
        close(fd);
        fd = rotating_file_next(abs, generations, st.st_mode & 0777, errp);
        qemu_mutex_unlock(&rotating_file_fs_lock);
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
    /* PATH.0 ran over its limit by less than its size: count all of it */
    if (g_lstat(prev, &gst) < 0) {
        gst.st_size = errno == ENOENT ? 0 : max_size;   /* unknown: most */
    }
    rf->limit = max_size - MIN(gst.st_size, max_size);
    rf->fd = fd;
    rf->size = st.st_size;
    qemu_mutex_init(&rf->lock);
    if (incoming) {
        rf->incoming = qemu_add_vm_change_state_handler(
            rotating_file_incoming, rf);
    }
    return rf;
}

void rotating_file_close(RotatingFile *rf)
{
    bool last;

    if (rf->incoming) {
        qemu_del_vm_change_state_handler(rf->incoming);
    }
    WITH_QEMU_LOCK_GUARD(&rf->lock) {
        rf->closing = true;
        last = !rf->pending;
    }
    if (last) {
        rotating_file_free(rf);     /* else the last completion does */
    }
}
