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
#include "qemu/option.h"
#include "io/channel.h"
#include "system/runstate.h"
#include "chardev/char-rotation.h"

void qemu_chr_parse_rotation(QemuOpts *opts, const char *generations_opt,
                             const char *max_size_opt,
                             bool *has_generations, int64_t *generations,
                             bool *has_max_size, uint64_t *max_size)
{
    *has_generations = qemu_opt_get(opts, generations_opt) != NULL;
    *generations = qemu_opt_get_number(opts, generations_opt, 0);
    *has_max_size = qemu_opt_get(opts, max_size_opt) != NULL;
    *max_size = qemu_opt_get_size(opts, max_size_opt, 0);
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
        .take_over = qemu_chr_taking_over(),
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
        .take_over = qemu_chr_taking_over(),
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
    } else if (common->has_logrotate || common->has_logrotate_size) {
        error_setg(errp, "%s requires logfile",
                   common->has_logrotate ? "logrotate" : "logrotate-size");
        return false;
    }
    if (backend->type == CHARDEV_BACKEND_KIND_FILE) {
        output_file_options(backend->u.file.data, &opts);
        return rotating_file_check(&opts, errp);
    }
    return true;
}

typedef struct RotatedEvent {
    char *id;
    char *path;
    ChardevRotateReason reason;
} RotatedEvent;

static void emit_rotated_event(void *opaque)
{
    RotatedEvent *event = opaque;

    qapi_event_send_chardev_rotated(event->id, event->path, event->reason);
    g_free(event->id);
    g_free(event->path);
    g_free(event);
}

/*
 * Called with chr_write_lock held, maybe by a vCPU thread; the event is
 * sent from the main loop so a monitor on this very chardev can't deadlock.
 */
static void notify_rotated(void *opaque, const char *path,
                           RotatingFileReason reason)
{
    static const ChardevRotateReason reasons[] = {
        [ROTATING_FILE_REASON_START] = CHARDEV_ROTATE_REASON_START,
        [ROTATING_FILE_REASON_SIZE] = CHARDEV_ROTATE_REASON_SIZE,
        [ROTATING_FILE_REASON_COMMAND] = CHARDEV_ROTATE_REASON_COMMAND,
    };
    Chardev *chr = opaque;
    RotatedEvent *event = g_new(RotatedEvent, 1);

    event->id = g_strdup(chr->label);
    event->path = g_strdup(path);
    event->reason = reasons[reason];
    aio_bh_schedule_oneshot(qemu_get_aio_context(), emit_rotated_event, event);
}

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
        if (!rotating_file_reopen(t->rf, &err)) {
            warn_report_err(err);
        }
        qemu_mutex_unlock(&t->chr->chr_write_lock);
    }
    g_slist_free_full(g_steal_pointer(&taken_over), g_free);
}

static RotatingFile *open_rotating_file(Chardev *chr,
                                        const RotatingFileOptions *opts,
                                        Error **errp)
{
    static VMChangeStateEntry *reopen_handler;
    RotatingFile *rf = rotating_file_open(opts, notify_rotated, chr, errp);

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
    return open_rotating_file(chr, &opts, errp);
}

RotatingFile *qemu_chr_open_output_file(Chardev *chr, ChardevFile *file,
                                        Error **errp)
{
    RotatingFileOptions opts;

    output_file_options(file, &opts);
    return open_rotating_file(chr, &opts, errp);
}

#ifndef _WIN32
static RotatingFile *output_file_of(Chardev *chr)
{
    return object_dynamic_cast(OBJECT(chr), TYPE_CHARDEV_FILE) ?
           FILE_CHARDEV(chr)->out : NULL;
}

static gboolean watch_dispatch(GSource *source, GSourceFunc callback,
                               gpointer user_data)
{
    QIOChannelFunc func = (QIOChannelFunc)callback;

    /* Frontends' watch callbacks ignore the channel. */
    return func(NULL, G_IO_OUT, user_data);
}

static GSourceFuncs watch_funcs = {
    .dispatch = watch_dispatch,
};

GSource *qemu_chr_rotating_file_watch(RotatingFile *rf)
{
    GSource *source = g_source_new(&watch_funcs, sizeof(GSource));

    g_source_add_unix_fd(source, rotating_file_fd(rf),
                         G_IO_OUT | G_IO_ERR | G_IO_HUP);
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
