/*
 * Chardev output files that keep generations and bound their size
 *
 * Copyright (c) 2026 The QEMU console log contributors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef CHARDEV_ROTATING_FILE_H
#define CHARDEV_ROTATING_FILE_H

typedef struct RotatingFile RotatingFile;

#define ROTATING_FILE_MIN_SIZE 4096
#define ROTATING_FILE_MAX_SIZE (UINT64_C(1) << 40)  /* twice it: no overflow */

/*
 * Output to @path, with @generations previous files @path.0 (newest) and
 * up, and a new file before @path grows beyond @max_size (0: no limit).
 * @opt and @size_opt name the options in errors.
 */
RotatingFile *rotating_file_open(const char *label, const char *opt,
                                 const char *size_opt, const char *path,
                                 bool append, int64_t generations,
                                 uint64_t max_size, Error **errp);

/* Never fails nor waits: what does not fit is dropped and counted */
void rotating_file_write(RotatingFile *rf, const void *buf, size_t len);
void rotating_file_rotate(RotatingFile *rf);    /* unless empty or NULL */
void rotating_file_close(RotatingFile *rf);

#endif /* CHARDEV_ROTATING_FILE_H */
