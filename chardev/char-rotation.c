/*
 * Rotating output files for chardevs: the file backend's output and the
 * logfile of every backend
 *
 * Copyright (c) 2026 The QEMU console log contributors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/qapi-commands-char.h"
#include "qapi/qapi-events-char.h"
#include "qemu/error-report.h"
#include "qemu/main-loop.h"
#include "qemu-version.h"
#include "qemu/option.h"
#include "qemu/queue.h"
#include "qemu/lockable.h"
#include "io/channel.h"
#include "system/runstate.h"
#include "chardev/char-rotation.h"
#include "chardev/char-fe.h"
#include "chardev-internal.h"

void qemu_chr_parse_logfile_options(QemuOpts *opts, ChardevCommon *common)
{
    common->has_logrotate = qemu_opt_get(opts, "logrotate") != NULL;
    common->logrotate = qemu_opt_get_number(opts, "logrotate", 0);
    common->has_logrotate_size = qemu_opt_get(opts, "logrotate-size") != NULL;
    common->logrotate_size = qemu_opt_get_size(opts, "logrotate-size", 0);
    common->has_logtimestamp = qemu_opt_get(opts, "logtimestamp") != NULL;
    common->logtimestamp = qemu_opt_get_bool(opts, "logtimestamp", false);
    common->has_logmarker = qemu_opt_get(opts, "logmarker") != NULL;
    common->logmarker = qemu_opt_get_bool(opts, "logmarker", false);
}

bool qemu_chr_check_unused_rotation(QemuOpts *opts, ChardevBackend *backend,
                                    Error **errp)
{
    ERRP_GUARD();
    static const char *const file_only[] = {
        "rotate", "rotate-size", "timestamp", "marker"
    };
    int i;

    if (backend->type == CHARDEV_BACKEND_KIND_FILE) {
        return true;
    }
    for (i = 0; i < ARRAY_SIZE(file_only); i++) {
        if (qemu_opt_get(opts, file_only[i])) {
            error_setg(errp, "%s is an option of the file backend, not of "
                       "'%s'", file_only[i], qemu_opt_get(opts, "backend"));
            error_append_hint(errp, "For what any backend writes, use "
                              "logfile=PATH with log%s.\n", file_only[i]);
            return false;
        }
    }
    return true;
}

/*
 * A destination of live migration opens the files its source still
 * writes (shared storage): it must neither rotate nor truncate them.
 */
static bool qemu_chr_taking_over(void)
{
    return runstate_check(RUN_STATE_INMIGRATE);
}

static void logfile_options(ChardevCommon *common, RotatingFileOptions *opts)
{
    *opts = (RotatingFileOptions) {
        .path = common->logfile,
        .append = common->has_logappend && common->logappend,
        .generations = common->has_logrotate ? common->logrotate : 0,
        .max_size = common->has_logrotate_size ? common->logrotate_size : 0,
        .timestamps = common->has_logtimestamp && common->logtimestamp,
        .path_opt = "logfile",
        .append_opt = "logappend",
        .generations_opt = "logrotate",
        .max_size_opt = "logrotate-size",
    };
}

bool qemu_chr_check_logfile(ChardevCommon *common, Error **errp)
{
    RotatingFileOptions opts;
    const char *needs_logfile;

    if (common->logfile) {
        logfile_options(common, &opts);
        return rotating_file_check(&opts, errp);
    }
    needs_logfile = common->has_logrotate ? "logrotate" :
                    common->has_logrotate_size ? "logrotate-size" :
                    common->has_logtimestamp ? "logtimestamp" :
                    common->has_logmarker ? "logmarker" : NULL;
    if (needs_logfile) {
        error_setg(errp, "%s requires logfile", needs_logfile);
        return false;
    }
    return true;
}

/*
 * With mux=on, the files belong to the hidden chardev ID-base, and the
 * user knows the mux by ID: find either from the other.
 */
typedef struct MuxSearch {
    Chardev *base;
    Chardev *mux;
} MuxSearch;

static int match_mux(Object *child, void *opaque)
{
    MuxSearch *search = opaque;

    if (object_dynamic_cast(child, TYPE_CHARDEV_MUX) &&
        qemu_chr_fe_get_driver(&MUX_CHARDEV(child)->chr) == search->base) {
        search->mux = CHARDEV(child);
        return 1;
    }
    return 0;
}

static const char *user_visible_id(Chardev *chr)
{
    MuxSearch search = { .base = chr };

    object_child_foreach(get_chardevs_root(), match_mux, &search);
    return search.mux ? search.mux->label : chr->label;
}

/*
 * What chardev files tell: rotations, announced with CHARDEV_ROTATED, and
 * failures, warned about.  Both happen with chr_write_lock held, maybe in
 * a vCPU thread; they are reported from the main loop, in order, where a
 * monitor writing to this very chardev can't deadlock (and the monitor
 * rate-limits the event).
 */
typedef struct FileNews {
    Chardev *chr;               /* referenced */
    char *path;
    ChardevRotateReason reason;
    char *failure;              /* a failure, not a rotation */
    QSIMPLEQ_ENTRY(FileNews) next;
} FileNews;

static QemuMutex news_lock;
static QSIMPLEQ_HEAD(, FileNews) news = QSIMPLEQ_HEAD_INITIALIZER(news);

static void __attribute__((__constructor__)) file_news_init(void)
{
    qemu_mutex_init(&news_lock);
}

static void report_news(void *unused)
{
    QSIMPLEQ_HEAD(, FileNews) todo = QSIMPLEQ_HEAD_INITIALIZER(todo);
    FileNews *n;

    WITH_QEMU_LOCK_GUARD(&news_lock) {
        QSIMPLEQ_CONCAT(&todo, &news);
    }
    while ((n = QSIMPLEQ_FIRST(&todo))) {
        QSIMPLEQ_REMOVE_HEAD(&todo, next);
        if (n->failure) {
            warn_report("%s", n->failure);
        } else if (OBJECT(n->chr)->parent) {
            /* (A chardev whose creation failed never had an ID.) */
            qapi_event_send_chardev_rotated(user_visible_id(n->chr), n->path,
                                            n->reason);
        }
        object_unref(OBJECT(n->chr));
        g_free(n->path);
        g_free(n->failure);
        g_free(n);
    }
}

static void tell(FileNews *n)
{
    WITH_QEMU_LOCK_GUARD(&news_lock) {
        if (QSIMPLEQ_EMPTY(&news)) {
            aio_bh_schedule_oneshot(qemu_get_aio_context(), report_news,
                                    NULL);
        }
        QSIMPLEQ_INSERT_TAIL(&news, n, next);
    }
}

static void notify_rotated(void *opaque, const char *path,
                           RotatingFileReason reason)
{
    static const ChardevRotateReason reasons[] = {
        [ROTATING_FILE_REASON_START] = CHARDEV_ROTATE_REASON_START,
        [ROTATING_FILE_REASON_SIZE] = CHARDEV_ROTATE_REASON_SIZE,
        [ROTATING_FILE_REASON_COMMAND] = CHARDEV_ROTATE_REASON_COMMAND,
    };
    FileNews *n = g_new0(FileNews, 1);

    n->chr = CHARDEV(object_ref(opaque));
    n->path = g_strdup(path);
    n->reason = reasons[reason];
    tell(n);
}

static void notify_failed(void *opaque, const char *message)
{
    FileNews *n = g_new0(FileNews, 1);

    n->chr = CHARDEV(object_ref(opaque));
    n->failure = g_strdup(message);
    tell(n);
}

static const RotatingFileOps chardev_file_ops = {
    .rotated = notify_rotated,
    .failed = notify_failed,
};

/*
 * Files taken over from the source of an incoming migration: the source
 * may start a new generation after they were opened here, so they are
 * opened again at their path when the guest starts running here, which is
 * after the source stopped writing.
 */
typedef struct TakenOver {
    Chardev *chr;
    RotatingFile *rf;
} TakenOver;

static GSList *taken_over;

static void reopen_taken_over(void *opaque, bool running, RunState state)
{
    GSList *l;

    if (!running) {
        return;
    }
    for (l = taken_over; l; l = l->next) {
        TakenOver *t = l->data;
        Error *err = NULL;

        qemu_mutex_lock(&t->chr->chr_write_lock);
        rotating_file_reopen(t->rf, &err);
        qemu_mutex_unlock(&t->chr->chr_write_lock);
        if (err) {
            warn_report_err(err);
        }
    }
    g_slist_free_full(g_steal_pointer(&taken_over), g_free);
}

RotatingFile *qemu_chr_open_rotating_file(Chardev *chr,
                                          RotatingFileOptions *opts,
                                          bool marker, Error **errp)
{
    static VMChangeStateEntry *reopen_handler;
    g_autofree char *who = NULL;
    RotatingFile *rf;

    if (marker) {
        who = g_strdup_printf("QEMU %s, pid %d, chardev %s",
                              QEMU_FULL_VERSION, (int)getpid(), chr->label);
        opts->marker = who;
    }
    opts->take_over = qemu_chr_taking_over();
    rf = rotating_file_open(opts, &chardev_file_ops, chr, errp);
    if (rf && opts->take_over && opts->generations) {
        TakenOver *t = g_new(TakenOver, 1);

        t->chr = chr;
        t->rf = rf;
        taken_over = g_slist_prepend(taken_over, t);
        if (!reopen_handler) {
            reopen_handler = qemu_add_vm_change_state_handler(
                reopen_taken_over, NULL);
        }
    }
    return rf;
}

void qemu_chr_close_file(RotatingFile *rf)
{
    GSList *l;

    for (l = taken_over; l; l = l->next) {
        TakenOver *t = l->data;

        if (t->rf == rf) {
            taken_over = g_slist_delete_link(taken_over, l);
            g_free(t);
            break;
        }
    }
    rotating_file_close(rf);
}

RotatingFile *qemu_chr_open_logfile(Chardev *chr, ChardevCommon *common,
                                    Error **errp)
{
    RotatingFileOptions opts;

    logfile_options(common, &opts);
    return qemu_chr_open_rotating_file(chr, &opts,
                                       common->has_logmarker &&
                                       common->logmarker, errp);
}
