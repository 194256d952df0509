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
#include "qemu/main-loop.h"
#include "qemu/lockable.h"
#include "qemu/timer.h"
#include "block/thread-pool.h"
#include "system/runstate.h"
#include "chardev/rotating-file.h"

struct RotatingFile {
    Chardev *chr;
    const char *opt;
    char *path;                 /* absolute, see rotating_file_open() */
    unsigned generations;
    uint64_t max_size;

    QemuMutex lock;             /* protects what follows */
    int fd;                     /* where output goes */
    uint64_t size;              /* of that file */
    bool line_start;            /* the next byte starts a line */
    int next_fd;                /* the new PATH, once a rotation made it */
    int retired_fd;             /* the file before, for the worker to close */
    bool busy;                  /* a rotation is scheduled or running */
    bool running;               /* ... and a worker is doing it */
    bool closing;
    bool failed;                /* the last rotation failed */
    int64_t retry_at;           /* ms: when to try again */
    int64_t reported_at;        /* ms: when a failure was last reported */
    Error *error;               /* the failure, to report */
    GSList *watches;            /* sources waiting for room */
};

/* A new file is made when the current one is 7/8 full */
static uint64_t rotating_file_threshold(RotatingFile *rf)
{
    return rf->max_size - rf->max_size / 8;
}

/* Bytes the current file takes */
static uint64_t rotating_file_cur_room(RotatingFile *rf)
{
    /* After a failure, the file grows beyond its limit until the retry */
    if (!rf->max_size || rf->failed) {
        return UINT64_MAX;
    }
    return rf->size < rf->max_size ? rf->max_size - rf->size : 0;
}

/*
 * How much of @buf goes to the current file.  A line that starts with
 * less than the reserve left goes to the next file; only a longer line
 * is split.
 */
static size_t rotating_file_fit(RotatingFile *rf, const char *buf,
                                size_t len)
{
    uint64_t room = rotating_file_cur_room(rf);
    size_t n = MIN(len, room), start;

    if (n == len && buf[len - 1] == '\n') {
        return len;
    }
    /* The line this file would end in starts at @start */
    for (start = n; start > 0 && buf[start - 1] != '\n'; start--) {
        /* nothing */
    }
    if (!start) {
        /* One line: it goes on, long, or starts with the reserve left */
        return rf->line_start && room < ROTATING_FILE_LINE_RESERVE ? 0 : n;
    }
    return room - start < ROTATING_FILE_LINE_RESERVE || n < len ? start : n;
}

/*
 * Make room for PATH as PATH.0.  Each generation is renamed over the
 * next one only up to the first that is missing: a rotation that failed
 * half-way and is tried again deletes nothing more.
 */
static bool rotating_file_shift(const char *path, unsigned generations,
                                Error **errp)
{
    GStatBuf st;
    unsigned k;

    if (g_lstat(path, &st) < 0 && errno == ENOENT) {
        return true;    /* a failed rotation moved it already */
    }
    for (k = 0; k < generations - 1; k++) {
        g_autofree char *name = g_strdup_printf("%s.%u", path, k);

        if (g_lstat(name, &st) < 0 && errno == ENOENT) {
            break;
        }
    }
    for (; ; k--) {
        g_autofree char *from = k ? g_strdup_printf("%s.%u", path, k - 1)
                                  : g_strdup(path);
        g_autofree char *to = g_strdup_printf("%s.%u", path, k);

        if (g_rename(from, to) < 0) {
            error_setg_errno(errp, errno, "cannot rename '%s' to '%s'",
                             from, to);
            return false;
        }
        if (!k) {
            return true;
        }
    }
}

static void rotating_file_request(RotatingFile *rf);

/* Write path: prepare a new file when this one is nearly full */
static void rotating_file_check_size(RotatingFile *rf)
{
    if (rf->max_size && !rf->busy && rf->next_fd < 0 &&
        rf->size >= rotating_file_threshold(rf) &&
        (!rf->failed ||
         qemu_clock_get_ms(QEMU_CLOCK_REALTIME) >= rf->retry_at)) {
        rotating_file_request(rf);
    }
}

/* Runs in a worker of the thread pool, without any lock of the caller */
static int rotating_file_work(void *opaque)
{
    RotatingFile *rf = opaque;
    g_autofree char *path = NULL;
    Error *err = NULL;
    int retired, fd = -1;

    WITH_QEMU_LOCK_GUARD(&rf->lock) {
        if (rf->closing) {
            return 0;
        }
        rf->running = true;
        path = g_strdup(rf->path);
        retired = rf->retired_fd;
        rf->retired_fd = -1;
    }
    if (retired >= 0) {
        close(retired);
    }
    if (rotating_file_shift(path, rf->generations, &err)) {
        /* O_EXCL: never write through something planted at PATH */
        fd = qemu_create(path, O_WRONLY | O_APPEND | O_EXCL | O_BINARY,
                         0666, &err);
    }

    QEMU_LOCK_GUARD(&rf->lock);
    rf->running = false;
    rf->failed = fd < 0;
    if (fd >= 0 && rf->closing) {
        close(fd);
    } else if (fd >= 0) {
        rf->next_fd = fd;
    } else {
        error_prepend(&err, "%s: ", rf->opt);
        error_free(rf->error);
        rf->error = err;
        rf->retry_at = qemu_clock_get_ms(QEMU_CLOCK_REALTIME) + 1000;
    }
    /* The new file takes bytes; after a failure, the old one does. */
    while (rf->watches) {
        g_source_set_ready_time(rf->watches->data, 0);
        g_source_unref(rf->watches->data);
        rf->watches = g_slist_delete_link(rf->watches, rf->watches);
    }
    return 0;
}

/* Main loop: report what the worker did */
static void rotating_file_free(RotatingFile *rf)
{
    qemu_mutex_destroy(&rf->lock);
    error_free(rf->error);
    g_free(rf->path);
    g_free(rf);
}

static void rotating_file_done(void *opaque, int ret)
{
    RotatingFile *rf = opaque;
    int64_t now = qemu_clock_get_ms(QEMU_CLOCK_REALTIME);
    Error *err = NULL;
    bool closing;

    WITH_QEMU_LOCK_GUARD(&rf->lock) {
        rf->busy = false;
        closing = rf->closing;
        if (!closing) {
            err = g_steal_pointer(&rf->error);
            rotating_file_check_size(rf);
        }
    }
    if (closing) {
        rotating_file_free(rf);
        return;
    }
    /* A failed rotation is retried every second: warn less often */
    if (err && now - rf->reported_at >= 10000) {
        rf->reported_at = now;
        warn_report_err(err);
    } else {
        error_free(err);
    }
}

static void rotating_file_submit(void *opaque)
{
    thread_pool_submit_aio(rotating_file_work, opaque, rotating_file_done,
                           opaque);
}

/*
 * From any thread: the thread pool is reached through the main loop, which
 * runs the worker's completion too.
 */
static void rotating_file_request(RotatingFile *rf)
{
    if (!rf->busy) {
        rf->busy = true;
        aio_bh_schedule_oneshot(qemu_get_aio_context(), rotating_file_submit,
                                rf);
    }
}

/*
 * When nothing can be written now: a caller that retries at once
 * (qemu_chr_fe_write_all()) may hold the BQL, which the main loop needs
 * to start the worker, so let it retry only once the worker runs.
 */
static ssize_t rotating_file_refuse(RotatingFile *rf)
{
    if (rf->running) {
        errno = EAGAIN;
        return -1;
    }
    return 0;
}

ssize_t rotating_file_room(RotatingFile *rf)
{
    uint64_t room;

    QEMU_LOCK_GUARD(&rf->lock);
    room = rotating_file_cur_room(rf);
    if (rf->line_start && room < ROTATING_FILE_LINE_RESERVE) {
        room = 0;
    }
    if (rf->next_fd >= 0) {
        room = MAX(room, rf->max_size);
    }
    return room ? MIN(room, SSIZE_MAX) : rotating_file_refuse(rf);
}

ssize_t rotating_file_write(RotatingFile *rf, const void *buf, size_t len,
                            bool whole)
{
    const char *p = buf;
    size_t done = 0;

    QEMU_LOCK_GUARD(&rf->lock);
    while (done < len) {
        size_t n = rotating_file_fit(rf, p + done, len - done);
        ssize_t ret;

        if (rf->next_fd >= 0 && (rf->line_start || n < len - done)) {
            /* Switch at a line's start, or where a line must be split */
            rf->retired_fd = rf->fd;
            rf->fd = rf->next_fd;
            rf->next_fd = -1;
            rf->size = 0;
            n = rotating_file_fit(rf, p + done, len - done);
        }
        if (!n && whole && rf->next_fd < 0) {
            n = MIN(len - done, rotating_file_cur_room(rf));
        }
        if (!n) {
            break;
        }
        ret = write(rf->fd, p + done, n);
        if (ret < 0) {
            if (done) {
                break;
            }
            return -1;
        }
        rf->size += ret;
        rf->line_start = ret && p[done + ret - 1] == '\n';
        done += ret;
        if (ret < n) {
            break;
        }
    }
    rotating_file_check_size(rf);
    return done || !len ? done : rotating_file_refuse(rf);
}

static gboolean rotating_file_watch_dispatch(GSource *source,
                                             GSourceFunc callback,
                                             gpointer user_data)
{
    return ((GIOFunc)callback)(NULL, G_IO_OUT, user_data);
}

static GSourceFuncs rotating_file_watch_funcs = {
    .dispatch = rotating_file_watch_dispatch,
};

GSource *rotating_file_create_watch(RotatingFile *rf)
{
    GSource *source = g_source_new(&rotating_file_watch_funcs,
                                   sizeof(GSource));

    QEMU_LOCK_GUARD(&rf->lock);
    if (!rf->busy || rf->next_fd >= 0) {
        g_source_set_ready_time(source, 0);
    } else {
        rf->watches = g_slist_prepend(rf->watches, g_source_ref(source));
    }
    return source;
}

RotatingFile *rotating_file_open(Chardev *chr, const char *opt,
                                 const char *path, bool append,
                                 unsigned generations, uint64_t max_size,
                                 Error **errp)
{
    g_autoptr(RotatingFile) rf = g_new0(RotatingFile, 1);
    GStatBuf st;
    bool exists;

    rf->chr = chr;
    rf->opt = opt;
    /* Absolute: -daemonize changes the working directory */
    rf->path = g_canonicalize_filename(path, NULL);
    rf->generations = generations;
    rf->max_size = max_size;
    rf->fd = rf->next_fd = rf->retired_fd = -1;
    rf->line_start = true;
    qemu_mutex_init(&rf->lock);

#ifdef _WIN32
    /* An open file cannot be renamed there */
    error_setg(errp, "%s is not supported on Windows hosts", opt);
    return NULL;
#endif
    if (max_size && max_size < ROTATING_FILE_MIN_SIZE) {
        error_setg(errp, "%s-size=%" PRIu64 " for '%s' is too small: "
                   "the minimum is %d", opt, max_size, path,
                   ROTATING_FILE_MIN_SIZE);
        return NULL;
    }
    exists = !g_lstat(rf->path, &st);
    if (exists ? !S_ISREG(st.st_mode) : strstart(path, "/dev/fdset/", NULL)) {
        error_setg(errp, "%s=%u cannot be used with '%s': QEMU can rename "
                   "only a regular file that it opens by name", opt,
                   generations, path);
        return NULL;
    }
    if (exists && st.st_size && !append &&
        !runstate_check(RUN_STATE_INMIGRATE) &&
        !rotating_file_shift(rf->path, generations, errp)) {
        error_prepend(errp, "%s: ", opt);
        return NULL;
    }
    rf->fd = qemu_create(rf->path, O_WRONLY | O_APPEND | O_BINARY, 0666,
                         errp);
    if (rf->fd < 0 || fstat(rf->fd, &st) < 0) {
        return NULL;
    }
    rf->size = st.st_size;
    return g_steal_pointer(&rf);
}

void rotating_file_close(RotatingFile *rf)
{
    bool busy;

    WITH_QEMU_LOCK_GUARD(&rf->lock) {
        busy = rf->busy;
        rf->closing = true;
        while (rf->watches) {
            g_source_unref(rf->watches->data);
            rf->watches = g_slist_delete_link(rf->watches, rf->watches);
        }
        if (rf->fd >= 0) {
            close(rf->fd);
        }
        if (rf->next_fd >= 0) {
            close(rf->next_fd);
        }
        if (rf->retired_fd >= 0) {
            close(rf->retired_fd);
        }
    }
    if (!busy) {
        /* Otherwise the rotation's completion frees it */
        rotating_file_free(rf);
    }
}
