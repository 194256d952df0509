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

void qemu_chr_parse_file_options(QemuOpts *opts, ChardevFile *file)
{
    file->has_rotate = qemu_opt_get(opts, "rotate") != NULL;
    file->rotate = qemu_opt_get_number(opts, "rotate", 0);
    file->has_rotate_size = qemu_opt_get(opts, "rotate-size") != NULL;
    file->rotate_size = qemu_opt_get_size(opts, "rotate-size", 0);
    file->has_timestamp = qemu_opt_get(opts, "timestamp") != NULL;
    file->timestamp = qemu_opt_get_bool(opts, "timestamp", false);
    file->has_marker = qemu_opt_get(opts, "marker") != NULL;
    file->marker = qemu_opt_get_bool(opts, "marker", false);
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
        .take_over = qemu_chr_taking_over(),
        .path_opt = "logfile",
        .append_opt = "logappend",
        .generations_opt = "logrotate",
        .max_size_opt = "logrotate-size",
    };
}

static void output_file_options(ChardevFile *file, RotatingFileOptions *opts)
{
    *opts = (RotatingFileOptions) {
        .path = file->out,
        .append = file->has_append && file->append,
        .generations = file->has_rotate ? file->rotate : 0,
        .max_size = file->has_rotate_size ? file->rotate_size : 0,
        .timestamps = file->has_timestamp && file->timestamp,
        .nonblocking = true,
        .take_over = qemu_chr_taking_over(),
        .path_opt = "path",
        .append_opt = "append",
        .generations_opt = "rotate",
        .max_size_opt = "rotate-size",
    };
}

bool qemu_chr_check_rotation(ChardevBackend *backend, Error **errp)
{
    /* Any ChardevCommon member would work */
    ChardevCommon *common = backend ? backend->u.null.data : NULL;
    RotatingFileOptions opts;

    if (!common) {
        return true;
    }
    if (common->logfile) {
        logfile_options(common, &opts);
        if (!rotating_file_check(&opts, errp)) {
            return false;
        }
    } else {
        const char *needs_logfile =
            common->has_logrotate ? "logrotate" :
            common->has_logrotate_size ? "logrotate-size" :
            common->has_logtimestamp ? "logtimestamp" :
            common->has_logmarker ? "logmarker" : NULL;

        if (needs_logfile) {
            error_setg(errp, "%s requires logfile", needs_logfile);
            return false;
        }
    }
    if (backend->type == CHARDEV_BACKEND_KIND_FILE) {
        output_file_options(backend->u.file.data, &opts);
        return rotating_file_check(&opts, errp);
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

static Chardev *chardev_with_files(Chardev *chr)
{
    if (object_dynamic_cast(OBJECT(chr), TYPE_CHARDEV_MUX)) {
        return qemu_chr_fe_get_driver(&MUX_CHARDEV(chr)->chr);
    }
    return chr;
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

static RotatingFile *open_rotating_file(Chardev *chr,
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
    return open_rotating_file(chr, &opts,
                              common->has_logmarker && common->logmarker,
                              errp);
}

RotatingFile *qemu_chr_open_output_file(Chardev *chr, ChardevFile *file,
                                        Error **errp)
{
    RotatingFileOptions opts;

    output_file_options(file, &opts);
    return open_rotating_file(chr, &opts, file->has_marker && file->marker,
                              errp);
}

#ifndef _WIN32
static RotatingFile *output_file_of(Chardev *chr)
{
    return object_dynamic_cast(OBJECT(chr), TYPE_CHARDEV_FILE) ?
           FILE_CHARDEV(chr)->out : NULL;
}

/*
 * A watch on a file chardev, as fd_chr_add_watch() makes for fd chardevs:
 * the output file for the output conditions, the input channel (if any)
 * for the others.  The output file descriptor changes with every rotation
 * and reopening, so it is looked up again, under the write lock, before
 * each poll.
 */
typedef struct FileWatch {
    GSource source;
    Chardev *chr;
    GIOCondition cond;          /* what the frontend waits for */
    int fd;                     /* the output fd polled */
    gpointer tag;
    GIOCondition in_cond;       /* reported by the input channel's watch */
} FileWatch;

static void file_watch_follow_fd(FileWatch *w)
{
    int fd;

    qemu_mutex_lock(&w->chr->chr_write_lock);
    fd = rotating_file_fd(FILE_CHARDEV(w->chr)->out);
    qemu_mutex_unlock(&w->chr->chr_write_lock);
    if (fd == w->fd) {
        return;
    }
    if (w->tag) {
        g_source_remove_unix_fd(&w->source, w->tag);
    }
    w->fd = fd;
    w->tag = g_source_add_unix_fd(&w->source, fd,
                                  w->cond & ~G_IO_IN);
}

static gboolean file_watch_prepare(GSource *source, gint *timeout)
{
    FileWatch *w = (FileWatch *)source;

    *timeout = -1;
    file_watch_follow_fd(w);
    return w->in_cond != 0;
}

static GIOCondition file_watch_ready(FileWatch *w)
{
    GIOCondition out = w->tag ? g_source_query_unix_fd(&w->source, w->tag)
                              : 0;

    return (out | w->in_cond) & w->cond;
}

static gboolean file_watch_check(GSource *source)
{
    return file_watch_ready((FileWatch *)source) != 0;
}

static gboolean file_watch_dispatch(GSource *source, GSourceFunc callback,
                                    gpointer user_data)
{
    FileWatch *w = (FileWatch *)source;
    GIOCondition ready = file_watch_ready(w);

    w->in_cond = 0;
    if (!ready) {
        return G_SOURCE_CONTINUE;
    }
    /* Frontends' watch callbacks ignore the channel. */
    return ((FEWatchFunc)callback)(NULL, ready, user_data);
}

static void file_watch_finalize(GSource *source)
{
    object_unref(OBJECT(((FileWatch *)source)->chr));
}

static GSourceFuncs file_watch_funcs = {
    .prepare = file_watch_prepare,
    .check = file_watch_check,
    .dispatch = file_watch_dispatch,
    .finalize = file_watch_finalize,
};

static gboolean file_watch_input(QIOChannel *ioc, GIOCondition cond,
                                 gpointer opaque)
{
    ((FileWatch *)opaque)->in_cond |= cond;
    return G_SOURCE_CONTINUE;
}

GSource *qemu_chr_file_watch(Chardev *chr, QIOChannel *in, GIOCondition cond)
{
    GSource *source = g_source_new(&file_watch_funcs, sizeof(FileWatch));
    FileWatch *w = (FileWatch *)source;

    w->chr = CHARDEV(object_ref(OBJECT(chr)));
    w->cond = cond;
    w->fd = -1;
    if (in && (cond & ~G_IO_OUT)) {
        g_autoptr(GSource) child = qio_channel_create_watch(in,
                                                            cond & ~G_IO_OUT);

        g_source_set_callback(child, (GSourceFunc)file_watch_input, w, NULL);
        g_source_add_child_source(source, child);
    }
    /* The output fd is added by the first prepare. */
    return source;
}
#else
static RotatingFile *output_file_of(Chardev *chr)
{
    return NULL;
}
#endif

typedef bool RotatingFileAction(RotatingFile *rf, Error **errp);

/*
 * Apply @action to the output file and to the logfile of chardev @id,
 * those of them that @applies to.
 */
static void qemu_chr_act_on_files(const char *id, RotatingFileAction *action,
                                  bool (*applies)(const RotatingFile *rf),
                                  const char *none_error, Error **errp)
{
    Chardev *chr = qemu_chr_find(id);
    RotatingFile *files[2];
    int n = 0, i;

    if (!chr) {
        error_setg(errp, "Chardev '%s' not found", id);
        return;
    }
    chr = chardev_with_files(chr);
    files[0] = output_file_of(chr);
    files[1] = chr->logfile;
    for (i = 0; i < ARRAY_SIZE(files); i++) {
        if (files[i] && applies(files[i])) {
            files[n++] = files[i];
        }
    }
    if (!n) {
        error_setg(errp, "Chardev '%s' %s", id, none_error);
        return;
    }

    qemu_mutex_lock(&chr->chr_write_lock);
    for (i = 0; i < n; i++) {
        /* Report the first failure, but act on every file. */
        if (!action(files[i], errp)) {
            errp = NULL;
        }
    }
    qemu_mutex_unlock(&chr->chr_write_lock);
}

static bool any_file(const RotatingFile *rf)
{
    return true;
}

void qmp_chardev_rotate(const char *id, Error **errp)
{
    qemu_chr_act_on_files(id, rotating_file_rotate,
                          rotating_file_has_generations,
                          "has no rotation configured "
                          "(rotate=N or logrotate=N)", errp);
}

void qmp_chardev_reopen(const char *id, Error **errp)
{
    qemu_chr_act_on_files(id, rotating_file_reopen, any_file,
                          "writes to no file (neither a file backend "
                          "nor a logfile)", errp);
}
