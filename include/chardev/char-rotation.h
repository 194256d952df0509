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

/* Read the logfile's rotation, stamp and marker options of -chardev. */
void qemu_chr_parse_logfile_options(QemuOpts *opts, ChardevCommon *common);

/*
 * Refuse options of the file backend's output given to -chardev for
 * another backend, which would ignore them.
 */
bool qemu_chr_check_unused_rotation(QemuOpts *opts, ChardevBackend *backend,
                                    Error **errp);

/*
 * Check the logfile options of @common before anything is opened, so
 * that bad input leaves existing files alone.
 */
bool qemu_chr_check_logfile(ChardevCommon *common, Error **errp);

/* Open @chr's logfile as configured by @common. */
RotatingFile *qemu_chr_open_logfile(Chardev *chr, ChardevCommon *common,
                                    Error **errp);

/*
 * Open a file that @chr writes to, as @opts say, with a @marker naming
 * QEMU and @chr if asked: its rotations and failures are reported from
 * the main loop, and on an incoming migration it is taken over from the
 * source.
 */
RotatingFile *qemu_chr_open_rotating_file(Chardev *chr,
                                          RotatingFileOptions *opts,
                                          bool marker, Error **errp);

/* Close a file opened by one of the two functions above. */
void qemu_chr_close_file(RotatingFile *rf);

#endif /* CHARDEV_CHAR_ROTATION_H */
