/*
 * Rotating output files for chardevs: the logfile of every backend
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

/* Read the logfile's rotation options of -chardev. */
void qemu_chr_parse_logfile_options(QemuOpts *opts, ChardevCommon *common);

/*
 * Check the logfile options of @common before anything is opened, so
 * that bad input leaves existing files alone.
 */
bool qemu_chr_check_logfile(ChardevCommon *common, Error **errp);

/* Open @chr's logfile as configured by @common. */
RotatingFile *qemu_chr_open_logfile(Chardev *chr, ChardevCommon *common,
                                    Error **errp);

/*
 * Open a file that @chr writes to, as @opts say: its failures are
 * reported from the main loop.
 */
RotatingFile *qemu_chr_open_rotating_file(Chardev *chr,
                                          RotatingFileOptions *opts,
                                          Error **errp);

/* Close a file opened by one of the two functions above. */
void qemu_chr_close_file(RotatingFile *rf);

#endif /* CHARDEV_CHAR_ROTATION_H */
