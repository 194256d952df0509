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
#include "block/aio-wait.h"
#include "block/thread-pool.h"
#include "system/runstate.h"
#include "chardev/rotating-file.h"

struct RotatingFile {
    Chardev *chr;
    const char *opt;            /* for messages: "rotate" or "logrotate" */
    char *path;                 /* absolute: -daemonize changes directory */
    unsigned generations;
    uint64_t max_size;          /* 0: no limit */
    int64_t reported_at;        /* ms, of the last warning */

    QemuMutex lock;             /* protects what follows */
    int fd;                     /* where output goes */
    uint64_t size;              /* of that file */
    bool line_start;            /* the next byte starts a line */
    int next_fd;                /* the new PATH, once a worker made it */
    int retired_fd;             /* the file before, for a worker to close */
    bool busy;                  /* a worker is asked for, or runs */
    int pending;                /* workers whose completion has not run */
    bool rotate;                /* a new generation is due */
    int64_t retry_at;           /* ms; not 0 after a failure */
    Error *error;
    GSList *watches;            /* sources waiting for the worker */
};

/* After a failure, the file grows beyond its limit until a retry */
static uint64_t rotating_file_cur_room(RotatingFile *rf)
{
    return !rf->max_size || rf->retry_at ? UINT64_MAX
           : rf->max_size - MIN(rf->size, rf->max_size);
}

/* With the lock: the file is 7/8 full, a new one is due */
#define DUE(rf) ((rf)->max_size && \
                 (rf)->size >= (rf)->max_size - (rf)->max_size / 8)

/* How much of @buf goes to this file: a short line is not split */
static size_t rotating_file_fit(RotatingFile *rf, const char *buf,
                                size_t len)
{
    uint64_t room = rotating_file_cur_room(rf);
    size_t n = MIN(len, room), start = n;

    while (start > 0 && buf[start - 1] != '\n') {
        start--;        /* to the start of the line this file ends in */
    }
    if (!start) {
        return rf->line_start && room < ROTATING_FILE_LINE_RESERVE ? 0 : n;
    }
    return room - start < ROTATING_FILE_LINE_RESERVE || n < len ? start : n;
}

/* For PATH as PATH.0, shift up to the first missing: a retry deletes no more */
static bool rotating_file_shift(const char *path, int generations,
                                Error **errp)
{
    GStatBuf st;
    int k = 0;

    if (g_lstat(path, &st) < 0 && errno == ENOENT) {
        return true;    /* a rotation that failed moved it already */
    }
    while (k < generations - 1) {
        g_autofree char *name = g_strdup_printf("%s.%d", path, k);

        if (g_lstat(name, &st) < 0 && errno == ENOENT) {
            break;
        }
        k++;
    }
    for (; k >= 0; k--) {
        g_autofree char *from = k ? g_strdup_printf("%s.%d", path, k - 1)
                                  : g_strdup(path);
        g_autofree char *to = g_strdup_printf("%s.%d", path, k);

        if (g_rename(from, to) < 0) {
            error_setg_errno(errp, errno, "cannot rename '%s' to '%s'",
                             from, to);
            return false;
        }
    }
    return true;
}

/* With the lock: go on in the next file */
static void rotating_file_switch(RotatingFile *rf)
{
    rf->retired_fd = rf->fd;
    rf->fd = rf->next_fd;
    rf->size = 0;
    rf->next_fd = -1;
}

/* Runs in a worker of the thread pool, without any lock of the writer */
static int rotating_file_work(void *opaque)
{
    RotatingFile *rf = opaque;
    g_autofree char *path = NULL;
    Error *err = NULL;
    int fd = -1, unused[2] = { -1, -1 };
    struct stat st = { .st_mode = 0600 };
    bool rotate;

    WITH_QEMU_LOCK_GUARD(&rf->lock) {
        path = g_strdup(rf->path);
        rotate = rf->rotate;
        rf->rotate = false;
        fstat(rf->fd, &st);
    }
    if (rotate && rotating_file_shift(path, rf->generations, &err)) {
        /* Never write through something planted at PATH */
        fd = qemu_create(path, O_WRONLY | O_APPEND | O_BINARY | O_EXCL,
                         st.st_mode & 0777, &err);
    }
    WITH_QEMU_LOCK_GUARD(&rf->lock) {
        if (fd >= 0) {
            rf->next_fd = fd;
            rf->rotate = false;         /* asked for again while it ran */
            rf->retry_at = 0;
        } else if (err) {
            error_propagate_prepend(&rf->error, err, "%s: ", rf->opt);
            rf->retry_at = qemu_clock_get_ms(QEMU_CLOCK_REALTIME) + 1000;
        }
        /* Close the file before: a switch must find none */
        unused[0] = rf->retired_fd;
        rf->retired_fd = -1;
        if (fd >= 0 && rf->line_start) {
            rotating_file_switch(rf);   /* else the writer will */
            unused[1] = rf->retired_fd;
            rf->retired_fd = -1;
        }
        rf->busy = false;   /* a vCPU may keep the main loop from running */
    }
    for (int i = 0; i < ARRAY_SIZE(unused); i++) {
        if (unused[i] >= 0) {
            close(unused[i]);
        }
    }
    return 0;
}

static void rotating_file_done(void *opaque, int ret);

/* Once busy is set, from any thread: a vCPU with the BQL submits itself */
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

/* With the lock: whether to start a worker (which is then busy) */
static bool rotating_file_check(RotatingFile *rf)
{
    if (DUE(rf) && rf->next_fd < 0 && (!rf->retry_at ||
        qemu_clock_get_ms(QEMU_CLOCK_REALTIME) >= rf->retry_at)) {
        rf->rotate = true;
    }
    if (rf->busy || !(rf->rotate || rf->retired_fd >= 0)) {
        return false;
    }
    rf->pending++;
    return rf->busy = true;
}

/* Main loop: what the worker did */
static void rotating_file_done(void *opaque, int ret)
{
    RotatingFile *rf = opaque;
    int64_t now = qemu_clock_get_ms(QEMU_CLOCK_REALTIME);
    GSList *watches;
    Error *err;

    WITH_QEMU_LOCK_GUARD(&rf->lock) {
        rf->pending--;
        /* The new file takes bytes; after a failure, the old one does */
        watches = g_steal_pointer(&rf->watches);
        err = g_steal_pointer(&rf->error);
        if (rotating_file_check(rf)) {
            rotating_file_start(rf);
        }
    }
    for (GSList *w = watches; w; w = g_slist_delete_link(w, w)) {
        g_source_set_ready_time(w->data, 0);
        g_source_unref(w->data);
    }
    /* A failed rotation is retried every second: warn less often */
    if (err && now - rf->reported_at >= 10000) {
        rf->reported_at = now;
        warn_report_err(err);
    } else {
        error_free(err);
    }
}

/* With the lock: a worker will make the next file, none is there yet */
#define WAITING(rf) ((rf)->busy && (rf)->next_fd < 0 && !(rf)->retry_at)

bool rotating_file_full(RotatingFile *rf)
{
    QEMU_LOCK_GUARD(&rf->lock);
    return WAITING(rf);
}

ssize_t rotating_file_write(RotatingFile *rf, const void *buf, size_t len,
                            RotatingFileMode mode)
{
    const char *p = buf;
    ssize_t ret;
    size_t n;
    int err;

    qemu_mutex_lock(&rf->lock);
    n = rotating_file_fit(rf, p, len);
    if (rf->next_fd >= 0 && (rf->line_start || !n ||
                             (mode == ROTATING_FILE_WRITE_ALL && n < len))) {
        /* At a line's start, where a line must be split, or must go on */
        rotating_file_switch(rf);
        n = rotating_file_fit(rf, p, len);
    }
    if (mode == ROTATING_FILE_WRITE_ALL) {
        n = len;    /* as counted, unless a failed rotation was retried */
    }
    /* None taken: wait for rotating_file_create_watch() */
    ret = !n ? (errno = EAGAIN, 0) : mode == ROTATING_FILE_COUNT ? n
          : mode == ROTATING_FILE_WRITE ? write(rf->fd, p, n)
          : qemu_write_full(rf->fd, p, n) ?: -1;
    if (ret > 0 && mode != ROTATING_FILE_COUNT) {
        rf->size += ret;
        rf->line_start = p[ret - 1] == '\n';
    }
    err = errno;
    if (rotating_file_check(rf)) {
        rotating_file_start(rf);
    }
    qemu_mutex_unlock(&rf->lock);
    errno = err;
    return ret;
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
    if (!WAITING(rf)) {
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
    rf->path = g_canonicalize_filename(path, NULL);
    rf->generations = generations;
    rf->max_size = max_size;
    rf->fd = rf->next_fd = rf->retired_fd = -1;
    rf->line_start = true;
    qemu_mutex_init(&rf->lock);

#ifdef _WIN32       /* where an open file cannot be renamed */
    error_setg(errp, "%s is not supported on Windows hosts", opt);
    return NULL;
#endif
    if (!generations) {
        error_setg(errp, "%s-size for '%s' requires %s=N, N >= 1", opt,
                   path, opt);
        return NULL;
    }
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
    rf->fd = qemu_create(rf->path, O_WRONLY | O_APPEND | O_BINARY,
                         exists ? st.st_mode & 0777 : 0666, errp);
    if (rf->fd < 0 || fstat(rf->fd, &st) < 0) {
        return NULL;
    }
    rf->size = st.st_size;
    return g_steal_pointer(&rf);
}

void rotating_file_drain(RotatingFile *rf)
{
    /* The worker needs the main loop to start and to finish */
    AIO_WAIT_WHILE_UNLOCKED(NULL, rf && qatomic_read(&rf->pending));
}

void rotating_file_close(RotatingFile *rf)
{
    int *fds[] = { &rf->fd, &rf->next_fd, &rf->retired_fd };

    rotating_file_drain(rf);
    g_slist_free_full(rf->watches, (GDestroyNotify)g_source_unref);
    for (int i = 0; i < ARRAY_SIZE(fds); i++) {
        if (*fds[i] >= 0) {
            close(*fds[i]);
        }
    }
    error_free(rf->error);
    qemu_mutex_destroy(&rf->lock);
    g_free(rf->path);
    g_free(rf);
}
