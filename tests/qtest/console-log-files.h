/*
 * The files of a rotating console log, read and checked: generations,
 * notes of lost output, bounds, query-chardev's count, held renames
 *
 * Copyright (c) 2026 The QEMU console log contributors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef CONSOLE_LOG_FILES_H
#define CONSOLE_LOG_FILES_H

#include "libqtest.h"

/* PATH.k, or PATH itself for k < 0 */
char *log_gen_name(const char *log, int k);
bool is_regular(const char *path);
/* lstat()'s size, 0 if @path does not exist */
uint64_t file_size_of(const char *path);

/*
 * The regular files among PATH.(@generations - 1), ..., PATH.0, PATH,
 * concatenated oldest first.
 */
GString *log_kept(const char *log, int generations);

/* The size of those files, read against the direction of a rotation. */
uint64_t log_gens_size(const char *log, int generations);

/*
 * No regular file among PATH ... PATH.(@generations - 1) is larger than
 * twice @size, they take at most (@generations + 2) x @size, and there
 * is no PATH.@generations.
 */
void assert_log_bounded(const char *log, int generations, uint64_t size);

/* What assert_flood_kept() found */
typedef struct FloodKept {
    uint64_t start;         /* offset in the guest's stream of the first */
    uint64_t end;           /* ... and after the last byte kept */
    uint64_t noted;         /* bytes that notes in the files say were lost */
    int notes;
} FloodKept;

/*
 * @kept is the stream of flood lines of guest @id (console-log-guest.h)
 * from some byte on, byte for byte, but where a note "[qemu: N bytes of
 * output lost here]" starts a file: the N bytes before it are missing.
 * It may start and end mid-line.  Fails with the first difference.
 */
FloodKept assert_flood_kept(const GString *kept, const char *id);

/* Bytes of the first @lines flood lines of guest @id */
uint64_t flood_bytes(const char *id, int lines);

/*
 * Everything the guest wrote, @lines lines, is accounted for: what
 * @kept does not hold at its end was dropped, as query-chardev's
 * @dropped says, all of it if nothing aged out (@all_kept).
 */
void assert_flood_accounted(const FloodKept *kept, const char *id, int lines,
                            int64_t dropped, bool all_kept);

/* query-chardev's @dropped of chardev @id, or -1 if it has none */
int64_t query_dropped(QTestState *qts, const char *id);

/*
 * The LD_PRELOAD library that delays rename(), or NULL if it was not
 * built beside the test (hold-rename.c).
 */
const char *hold_rename_library(void);

#endif /* CONSOLE_LOG_FILES_H */
