/*
 * The Linux test guest of the console log tests: start it, make it write,
 * and check what it wrote
 *
 * Copyright (c) 2026 The QEMU console log contributors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef CONSOLE_LOG_GUEST_H
#define CONSOLE_LOG_GUEST_H

#include "libqtest.h"

#define BOOT_TIMEOUT_US (180 * G_USEC_PER_SEC)

/* A temporary directory, removed with everything in it. */
typedef struct Scratch {
    char *dir;
    char *log;                  /* dir/console.log */
} Scratch;

Scratch *scratch_new(void);
void scratch_free(Scratch *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Scratch, scratch_free)

/* $CONSOLE_LOG_GUEST_DIR: vmlinuz and initramfs.gz, or NULL. */
const char *console_log_guest_dir(void);

/*
 * Whether the tests with the guest can run: slow tests asked for (QEMU's
 * SPEED=slow, G_TEST_SLOW, -m slow), TCG, and the guest.  If not, a test
 * @path is added that is skipped, saying why.
 */
bool console_log_guest_ready(const char *path);

/* Contents of a file, or NULL if it does not exist. */
char *slurp(const char *path);
char *slurp_len(const char *path, size_t *len);
/* Contents of generation @k of s->log; -1 is s->log itself. */
char *slurp_gen(const Scratch *s, int k);
void append_file(GString *stream, const char *path);
int count_of(const char *haystack, const char *needle);

/* QEMU's arguments for the guest, as for start_guest(). */
char *guest_args(const char *serial, const char *cmdline, const char *extra);

/*
 * Start QEMU (@binary_env names the variable holding its path) with the
 * guest, its kernel command line extended by @cmdline, the serial port on
 * chardev @serial (without id), and @extra arguments.
 */
QTestState *start_guest(const char *binary_env, const char *serial,
                        const char *cmdline, const char *extra);

/* Wait until QEMU exits: the guest powered off. */
void wait_powered_off(QTestState *qts);

/*
 * Start a guest that floods @lines numbered lines "%08d ID flood line..."
 * through a virtio-serial port into chardev "flood" (@flood_chardev,
 * without id), then idles; its console goes to file @console.
 */
QTestState *start_flood(const char *binary_env, const char *console,
                        const char *flood_chardev, const char *id,
                        int lines, const char *more);

/* Has the guest finished its flood?  Fails after @deadline. */
bool flood_done(const char *console, const char *id, gint64 deadline);

/* Does @path hold a complete line that starts with @start? */
bool has_complete_line(const char *path, const char *start);

/*
 * Wait until the last of @lines flood lines of guest @id is complete in
 * @log or in one of its @generations; fails after BOOT_TIMEOUT_US.
 */
void wait_flood_written(const char *log, int generations, const char *id,
                        int lines);

/* @stream is exactly flood lines @first to @count - 1 of guest @id. */
void assert_exact_flood(const GString *stream, const char *id, int first,
                        int count);

/*
 * @stream is a contiguous run of flood lines of guest @id, ending with
 * line @count - 1 if @count >= 0, maybe with an incomplete last line if
 * @partial_end.  Returns the number of complete lines.
 */
int assert_flood_run(const GString *stream, const char *id, int count,
                     bool partial_end);

#endif /* CONSOLE_LOG_GUEST_H */
