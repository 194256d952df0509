/*
 * Rotating output files for chardevs: the logfile of every backend
 *
 * Copyright (c) 2026 The QEMU console log contributors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/error-report.h"
#include "qemu/main-loop.h"
#include "qemu/option.h"
#include "qemu/queue.h"
#include "qemu/lockable.h"
#include "chardev/char-rotation.h"

void qemu_chr_parse_logfile_options(QemuOpts *opts, ChardevCommon *common)
{
    common->has_logrotate = qemu_opt_get(opts, "logrotate") != NULL;
    common->logrotate = qemu_opt_get_number(opts, "logrotate", 0);
    common->has_logrotate_size = qemu_opt_get(opts, "logrotate-size") != NULL;
    common->logrotate_size = qemu_opt_get_size(opts, "logrotate-size", 0);
}

static void logfile_options(ChardevCommon *common, RotatingFileOptions *opts)
{
    *opts = (RotatingFileOptions) {
        .path = common->logfile,
        .append = common->has_logappend && common->logappend,
        .generations = common->has_logrotate ? common->logrotate : 0,
        .max_size = common->has_logrotate_size ? common->logrotate_size : 0,
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
                    common->has_logrotate_size ? "logrotate-size" : NULL;
    if (needs_logfile) {
        error_setg(errp, "%s requires logfile", needs_logfile);
        return false;
    }
    return true;
}

/*
 * What chardev files tell: failures, warned about.  They happen with
 * chr_write_lock held, maybe in a vCPU thread; they are reported from the
 * main loop, in order, where a monitor writing to this very chardev can't
 * deadlock.
 */
typedef struct FileNews {
    char *failure;
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
        warn_report("%s", n->failure);
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

static void notify_failed(void *opaque, const char *message)
{
    FileNews *n = g_new0(FileNews, 1);

    n->failure = g_strdup(message);
    tell(n);
}

static const RotatingFileOps chardev_file_ops = {
    .failed = notify_failed,
};

RotatingFile *qemu_chr_open_rotating_file(Chardev *chr,
                                          RotatingFileOptions *opts,
                                          Error **errp)
{
    return rotating_file_open(opts, &chardev_file_ops, chr, errp);
}

void qemu_chr_close_file(RotatingFile *rf)
{
    rotating_file_close(rf);
}

RotatingFile *qemu_chr_open_logfile(Chardev *chr, ChardevCommon *common,
                                    Error **errp)
{
    RotatingFileOptions opts;

    logfile_options(common, &opts);
    return qemu_chr_open_rotating_file(chr, &opts, errp);
}
