/*
 * Rotating output files for chardevs: the file backend's output and the
 * logfile of every backend
 *
 * Copyright (c) 2026 The QEMU console log contributors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef CHARDEV_CHAR_ROTATION_H
#define CHARDEV_CHAR_ROTATION_H

#include "chardev/char.h"
#include "chardev/rotating-file.h"
#include "qapi/qapi-types-char.h"

#ifndef _WIN32
#include "chardev/char-fd.h"

/* The file backend on POSIX hosts: input as an fd chardev, output here. */
struct FileChardev {
    FDChardev parent;
    RotatingFile *out;
};
typedef struct FileChardev FileChardev;

DECLARE_INSTANCE_CHECKER(FileChardev, FILE_CHARDEV, TYPE_CHARDEV_FILE)

/*
 * A watch for @cond on file chardev @chr, as fd chardevs make: its
 * current output file, and its input channel @in (may be NULL).
 */
GSource *qemu_chr_file_watch(Chardev *chr, QIOChannel *in, GIOCondition cond);
#endif

/* Read the logfile's rotation, stamp and marker options of -chardev. */
void qemu_chr_parse_logfile_options(QemuOpts *opts, ChardevCommon *common);

/* The same for the file backend's output. */
void qemu_chr_parse_file_options(QemuOpts *opts, ChardevFile *file);

/*
 * Refuse options of the file backend's output given to -chardev for
 * another backend, which would ignore them.
 */
bool qemu_chr_check_unused_rotation(QemuOpts *opts, ChardevBackend *backend,
                                    Error **errp);

/*
 * Check every rotation option of @backend before anything is opened, so
 * that bad input leaves existing files alone.
 */
bool qemu_chr_check_rotation(ChardevBackend *backend, Error **errp);

/* Open @chr's logfile as configured by @common. */
RotatingFile *qemu_chr_open_logfile(Chardev *chr, ChardevCommon *common,
                                    Error **errp);

/* Open the output of file chardev @chr as configured by @file. */
RotatingFile *qemu_chr_open_output_file(Chardev *chr, ChardevFile *file,
                                        Error **errp);

/* Close a file opened by one of the two functions above. */
void qemu_chr_close_file(RotatingFile *rf);

#endif /* CHARDEV_CHAR_ROTATION_H */
