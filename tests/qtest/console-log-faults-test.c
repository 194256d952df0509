/*
 * Rotating console logs on a bad day: SIGKILL, floods, a full disk,
 * failing renames, planted symlinks, live migration and bad input, with a
 * real Linux guest under TCG
 *
 * CONSOLE_LOG_GUEST_DIR names the guest (see console-log-guest.h); without
 * it the tests are skipped.
 *
 * Copyright (c) 2026 The QEMU console log contributors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <sys/mount.h>
#include "libqtest.h"
#include "qobject/qdict.h"
#include "console-log-guest.h"

#define UNPRIVILEGED_ID 65534

static uint64_t file_size_of(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0 ? st.st_size : 0;
}

static bool is_regular(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static char *gen_name(const Scratch *s, int k)
{
    return k < 0 ? g_strdup(s->log) : g_strdup_printf("%s.%d", s->log, k);
}

/*
 * The regular files among PATH.(n-1), ..., PATH.0, PATH, concatenated.
 * Every one but the newest must end with a complete line.
 */
static GString *kept_stream(const Scratch *s, int generations)
{
    GString *kept = g_string_new("");
    bool newest_seen = false;
    int k;

    for (k = -1; k < generations; k++) {
        g_autofree char *name = gen_name(s, k);
        size_t len;
        g_autofree char *contents = NULL;

        if (!is_regular(name)) {
            continue;
        }
        contents = slurp_len(name, &len);
        if (newest_seen && len) {
            g_assert_cmpint(contents[len - 1], ==, '\n');
        }
        newest_seen = true;
        g_string_prepend_len(kept, contents, len);
    }
    return kept;
}

static uint64_t logs_size(const Scratch *s)
{
    g_autoptr(GDir) dir = g_dir_open(s->dir, 0, NULL);
    const char *name;
    uint64_t total = 0;

    while (dir && (name = g_dir_read_name(dir))) {
        g_autofree char *path = g_build_filename(s->dir, name, NULL);

        if (g_str_has_prefix(name, "console.log") && is_regular(path)) {
            total += file_size_of(path);
        }
    }
    return total;
}

/* PATH and PATH.0 ... PATH.(n-1) are no larger than @size; no PATH.n. */
static void assert_each_within(const Scratch *s, int generations,
                               uint64_t size)
{
    g_autofree char *beyond = gen_name(s, generations);
    int k;

    for (k = -1; k < generations; k++) {
        g_autofree char *name = gen_name(s, k);

        if (file_size_of(name) > size) {
            g_error("%s: %" PRIu64 " bytes, more than %" PRIu64, name,
                    file_size_of(name), size);
        }
    }
    g_assert_false(g_file_test(beyond, G_FILE_TEST_EXISTS));
}

/*
 * The size of PATH.(n-1), ..., PATH.0, PATH, in that order, while the
 * files rotate: a rotation moves a file to a higher number, against the
 * scan, so that no file is counted twice.
 */
static uint64_t gens_size(const Scratch *s, int generations)
{
    uint64_t total = 0;
    int k;

    for (k = generations - 1; k >= -1; k--) {
        g_autofree char *name = gen_name(s, k);

        total += file_size_of(name);
    }
    return total;
}

static GPid spawn_shell(const char *cmd)
{
    char *argv[] = { (char *)"/bin/sh", (char *)"-c", (char *)cmd, NULL };
    GPid pid;

    g_assert(g_spawn_async(NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                           NULL, NULL, &pid, NULL));
    return pid;
}

static int wait_status(GPid pid)
{
    int status;

    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    return status;
}

/*
 * 1. SIGKILL at random moments of a flood with many rotations a second:
 * the kept files always hold a contiguous run of lines, none is larger
 * than rotate-size, and there are no more than rotate + 1 of them.
 */
static void test_sigkill(void)
{
    const int trials = 20;
    GRand *rand = g_rand_new_with_seed(g_test_rand_int());
    int t;

    for (t = 0; t < trials; t++) {
        g_autoptr(Scratch) s = scratch_new();
        g_autofree char *console = g_build_filename(s->dir, "serial.log",
                                                    NULL);
        g_autofree char *serial = g_strdup_printf("file,path=%s", console);
        g_autofree char *id = g_strdup_printf("k%d", t);
        g_autofree char *cmdline = g_strdup_printf(
            "bootid=%s mode=flood port=vport lines=400000 then=idle", id);
        g_autofree char *extra = g_strdup_printf(
            "-device virtio-serial-pci "
            "-chardev file,id=flood,path=%s,rotate=4,rotate-size=8K "
            "-device virtserialport,chardev=flood,name=flood", s->log);
        g_autofree char *args = guest_args(serial, cmdline, extra);
        g_autofree char *cmd = g_strdup_printf("exec %s %s >/dev/null",
                                               getenv("QTEST_QEMU_BINARY"),
                                               args);
        g_autoptr(GString) kept = NULL;
        gint64 deadline = g_get_monotonic_time() + BOOT_TIMEOUT_US;
        GPid pid = spawn_shell(cmd);
        int status, lines;

        while (logs_size(s) == 0) {
            g_assert(g_get_monotonic_time() < deadline);
            g_usleep(10 * 1000);
        }
        g_usleep(g_rand_int_range(rand, 0, 1500 * 1000));
        g_assert_cmpint(kill(pid, SIGKILL), ==, 0);
        status = wait_status(pid);
        g_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

        kept = kept_stream(s, 4);
        lines = assert_flood_run(kept, id, -1, true);
        assert_each_within(s, 4, 8 * 1024);
        g_assert_cmpuint(logs_size(s), <=, 5 * 8 * 1024);
        g_test_message("trial %d: killed; lines %d to %d kept, %zu bytes",
                       t, atoi(kept->str), atoi(kept->str) + lines - 1,
                       kept->len);
    }
    g_rand_free(rand);
}

/*
 * 2. More than 100 MB through a virtio-serial port with
 * rotate=3,rotate-size=1M: the files, sampled every 20 ms, never take
 * more than (3 + 1) x 1 MiB, none is ever larger than 1 MiB, QMP keeps
 * answering, and not a line is lost: when the guest fills a file before
 * the next is ready, the port is held back.
 */
static void test_flood_disk_bound(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *console = g_build_filename(s->dir, "serial.log", NULL);
    g_autofree char *flood = g_strdup_printf(
        "file,path=%s,rotate=3,rotate-size=1M", s->log);
    const int lines = 1600000;          /* 65 bytes each: 104 MB */
    const uint64_t bound = 4 * 1024 * 1024;
    QTestState *qts = start_flood("QTEST_QEMU_BINARY", console, flood, "d1",
                                  lines, "");
    gint64 deadline = g_get_monotonic_time() + 10 * BOOT_TIMEOUT_US;
    gint64 next_qmp = 0, worst_qmp = 0;
    uint64_t peak = 0;
    int samples = 0;
    g_autoptr(GString) kept = NULL;

    while (!flood_done(console, "d1", deadline)) {
        gint64 now = g_get_monotonic_time();

        peak = MAX(peak, gens_size(s, 3));
        assert_each_within(s, 3, 1024 * 1024);
        samples++;
        if (now >= next_qmp) {
            QDict *resp = qtest_qmp(qts, "{'execute': 'query-status'}");

            g_assert(qdict_haskey(resp, "return"));
            qobject_unref(resp);
            worst_qmp = MAX(worst_qmp, g_get_monotonic_time() - now);
            next_qmp = now + 100 * 1000;
        }
        g_usleep(20 * 1000);
    }
    wait_flood_written(s->log, 3, "d1", lines);
    qtest_quit(qts);

    g_test_message("%d lines (%d bytes) flooded; %d samples, peak %" PRIu64
                   " bytes on disk (bound %" PRIu64 "); worst query-status "
                   "%" PRId64 " us", lines, lines * 65, samples, peak, bound,
                   worst_qmp);
    g_assert_cmpuint(peak, <=, bound);
    /* Liveness, not speed: QMP was never stuck behind the writes. */
    g_assert_cmpint(worst_qmp, <, G_USEC_PER_SEC);
    kept = kept_stream(s, 3);
    assert_flood_run(kept, "d1", lines, false);
}

static int count_warnings(const char *stderr_path, const char *what)
{
    g_autofree char *text = slurp(stderr_path);

    return count_of(text, what);
}

/*
 * 3. A full disk (a small tmpfs): QEMU survives and keeps answering, the
 * guest finishes writing through a serial port (the bytes that do not fit
 * are dropped, as upstream's file backend drops them), stderr is not
 * flooded, and when space returns rotation resumes within the bound.
 */
static void test_enospc(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *mnt = g_build_filename(s->dir, "tmpfs", NULL);
    g_autofree char *log = g_build_filename(mnt, "console.log", NULL);
    g_autofree char *filler = g_build_filename(mnt, "filler", NULL);
    g_autofree char *console = g_build_filename(s->dir, "serial.log", NULL);
    g_autofree char *errors = g_build_filename(s->dir, "stderr", NULL);
    g_autofree char *serial = g_strdup_printf("file,path=%s", console);
    g_autofree char *extra = g_strdup_printf(
        "-chardev file,id=flood,path=%s,rotate=3,rotate-size=32K "
        "-serial chardev:flood 2>%s", log, errors);
    g_autofree char *big = g_strnfill(160 * 1024, 'f');
    Scratch in_tmpfs = { .dir = mnt, .log = log };
    g_autoptr(GString) kept = NULL;
    gint64 start, deadline;
    QTestState *qts;
    int warnings;

    if (geteuid() != 0) {
        g_test_skip("mounting a tmpfs needs root");
        return;
    }
    g_assert_cmpint(mkdir(mnt, 0700), ==, 0);
    if (mount("tmpfs", mnt, "tmpfs", 0, "size=256k") < 0) {
        g_test_skip("cannot mount a tmpfs here");
        return;
    }
    /* 96 KiB left for logs bounded to 4 x 32 KiB: the disk fills up. */
    g_assert(g_file_set_contents(filler, big, -1, NULL));

    start = g_get_monotonic_time();
    deadline = start + BOOT_TIMEOUT_US;
    qts = start_guest("QTEST_QEMU_BINARY", serial,
                      "bootid=e1 mode=flood port=ttyS1 lines=4000 then=idle",
                      extra);
    while (!flood_done(console, "e1", deadline)) {
        g_usleep(50 * 1000);
    }
    /* The disk is full indeed */
    g_assert_cmpuint(logs_size(&in_tmpfs), <=, 96 * 1024);
    qtest_qmp_assert_success(qts, "{'execute': 'query-status'}");
    warnings = count_warnings(errors, "warning:");
    g_test_message("full disk: %" PRIu64 " bytes kept, %d warnings in %"
                   PRId64 " ms", logs_size(&in_tmpfs), warnings,
                   (g_get_monotonic_time() - start) / 1000);
    g_assert_cmpint(warnings, <=,
                    1 + (g_get_monotonic_time() - start) / 10000000);

    /* Space returns; the guest writes again after a reset. */
    g_assert_cmpint(unlink(filler), ==, 0);
    qtest_qmp_assert_success(qts, "{'execute': 'system_reset'}");
    deadline = g_get_monotonic_time() + BOOT_TIMEOUT_US;
    for (;;) {
        g_autofree char *text = slurp(console);

        if (count_of(text, "flood done e1") >= 2) {
            break;
        }
        g_assert(g_get_monotonic_time() < deadline);
        g_usleep(50 * 1000);
    }
    wait_flood_written(log, 3, "e1", 4000);
    qtest_quit(qts);

    kept = kept_stream(&in_tmpfs, 3);
    assert_flood_run(kept, "e1", 4000, false);
    assert_each_within(&in_tmpfs, 3, 32 * 1024);
    g_assert_cmpuint(logs_size(&in_tmpfs), <=, 4 * 32 * 1024);
    g_assert(is_regular(gen_name(&in_tmpfs, 2)));
    g_assert_cmpint(umount(mnt), ==, 0);
}

/* Run QEMU as an unprivileged user when we are root. */
static const char *unprivileged_binary_env(void)
{
    if (geteuid() == 0) {
        g_autofree char *cmd = g_strdup_printf(
            "setpriv --reuid=%d --regid=%d --clear-groups %s",
            UNPRIVILEGED_ID, UNPRIVILEGED_ID, getenv("QTEST_QEMU_BINARY"));

        g_setenv("QTEST_UNPRIVILEGED_BINARY", cmd, true);
        return "QTEST_UNPRIVILEGED_BINARY";
    }
    return "QTEST_QEMU_BINARY";
}

/*
 * 4. Renames that fail at runtime, QEMU running unprivileged: the
 * directory made read-only, then a directory planted at PATH.1, where
 * PATH.0 is to go.  A warning, no crash, no loss: PATH grows beyond
 * rotate-size while rotation fails, and rotation resumes, retried every
 * second, once the obstacle is gone.
 */
static void test_rename_failures(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *console = g_build_filename(s->dir, "serial.log", NULL);
    g_autofree char *errors = g_build_filename(s->dir, "stderr", NULL);
    g_autofree char *planted = NULL;
    g_autofree char *flood = g_strdup_printf(
        "file,path=%s,rotate=2,rotate-size=16K", s->log);
    g_autofree char *more = g_strdup_printf("2>%s", errors);
    const char *binary_env = unprivileged_binary_env();
    const int lines = 400000;   /* writing goes on after the obstacles */
    gint64 start = g_get_monotonic_time();
    gint64 deadline = start + BOOT_TIMEOUT_US;
    uint64_t grown = 0;
    g_autoptr(GString) kept = NULL;
    QTestState *qts;
    mode_t old_umask;
    int phase = 0;
    gint64 phase_end = 0, resumed = 0;

    if (geteuid() == 0) {
        g_assert_cmpint(chown(s->dir, UNPRIVILEGED_ID, UNPRIVILEGED_ID), ==,
                        0);
    }
    /* An unprivileged QEMU must reach libqtest's sockets. */
    old_umask = umask(0);
    qts = start_flood(binary_env, console, flood, "p1", lines, more);
    umask(old_umask);

    while (!flood_done(console, "p1", deadline)) {
        gint64 now = g_get_monotonic_time();

        if (phase == 0 && file_size_of(s->log) > 0) {
            /* Nothing may be created or renamed in the directory. */
            g_assert_cmpint(chmod(s->dir, 0555), ==, 0);
            phase_end = now + 1500 * 1000;
            phase = 1;
        } else if (phase == 1 && now > phase_end) {
            g_assert_cmpint(chmod(s->dir, 0755), ==, 0);
            phase_end = now + 1500 * 1000;
            phase = 2;
        } else if (phase == 2 && now > phase_end) {
            /*
             * A directory where PATH.0 is renamed to: the oldest
             * generation goes (a rotation would drop it anyway), and may
             * come back from a rotation before mkdir(): try again then.
             */
            planted = gen_name(s, 1);
            g_assert(unlink(planted) == 0 || errno == ENOENT);
            if (mkdir(planted, 0755) == 0) {
                phase_end = now + 1500 * 1000;
                phase = 3;
            } else {
                g_assert_cmpint(errno, ==, EEXIST);
                g_clear_pointer(&planted, g_free);
            }
        } else if (phase == 3 && now > phase_end) {
            g_assert_cmpint(rmdir(planted), ==, 0);
            phase_end = now;
            phase = 4;
        } else if (phase == 4 && file_size_of(s->log) <= 16 * 1024 &&
                   !resumed) {
            /* A new PATH: the retry after the obstacle went worked */
            resumed = now - phase_end;
        }
        if (phase == 1 || phase == 3) {
            grown = MAX(grown, file_size_of(s->log));
        }
        g_usleep(20 * 1000);
    }
    wait_flood_written(s->log, 2, "p1", lines);
    qtest_quit(qts);
    chmod(s->dir, 0755);

    g_test_message("rotation failures: %d warnings; PATH grew to %" PRIu64
                   " bytes while rotation failed; rotation resumed %"
                   PRId64 " ms after the obstacle went",
                   count_warnings(errors, "rotate:"), grown,
                   resumed / 1000);
    g_assert_cmpint(phase, ==, 4);
    g_assert_cmpint(count_warnings(errors, "rotate: cannot rename"), >=, 1);
    /* At most one warning every 10 s, though retried every second */
    g_assert_cmpint(count_warnings(errors, "rotate:"), <=,
                    1 + (g_get_monotonic_time() - start) / 10000000);
    g_assert_cmpuint(grown, >, 16 * 1024);
    g_assert_cmpint(resumed, >, 0);
    g_assert_cmpint(resumed, <, 2500 * 1000);
    kept = kept_stream(s, 2);
    assert_flood_run(kept, "p1", lines, false);
    g_assert_cmpuint(file_size_of(s->log), <=, 16 * 1024);
}

/*
 * 5. Symlinks planted by another process at PATH.k and PATH while the
 * guest floods: nothing is written through them (PATH is created with
 * O_EXCL; a symlink there makes the rotation fail and the next one moves
 * it away), and no line is lost.
 */
static void test_symlinks_planted(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *console = g_build_filename(s->dir, "serial.log", NULL);
    g_autofree char *target = g_build_filename(s->dir, "precious", NULL);
    g_autofree char *flood = g_strdup_printf(
        "file,path=%s,rotate=3,rotate-size=8K", s->log);
    const int lines = 200000;
    gint64 deadline = g_get_monotonic_time() + BOOT_TIMEOUT_US;
    g_autoptr(GString) kept = NULL;
    QTestState *qts;
    int planted_before = 0, planted_running = 0, k;

    g_assert(g_file_set_contents(target, "precious\n", -1, NULL));
    /* Before start, wherever rotation will move files... */
    for (k = 0; k < 4; k++) {
        g_autofree char *name = gen_name(s, k);

        planted_before += symlink(target, name) == 0;
    }
    qts = start_flood("QTEST_QEMU_BINARY", console, flood, "s1", lines,
                      "2>/dev/null");
    /* ... and between renames, wherever a name is free. */
    while (!flood_done(console, "s1", deadline)) {
        for (k = -1; k < 4; k++) {
            g_autofree char *name = gen_name(s, k);

            planted_running += symlink(target, name) == 0;
        }
        g_usleep(2 * 1000);
    }
    wait_flood_written(s->log, 3, "s1", lines);
    qtest_quit(qts);

    g_test_message("%d symlinks planted before start, %d while the guest "
                   "wrote", planted_before, planted_running);
    g_assert_cmpint(planted_before, ==, 4);
    /* Rotation met symlinks it had not seen at start, again and again. */
    g_assert_cmpint(planted_running, >=, 10);
    g_assert_cmpstr(slurp(target), ==, "precious\n");
    kept = kept_stream(s, 3);
    assert_flood_run(kept, "s1", lines, false);
}

/*
 * 6. A private console log stays private in every generation: the
 * previous boot's file keeps its mode as PATH.0, and the files QEMU
 * creates follow its umask, as upstream's file backend does.  With
 * @carried, QEMU runs with umask 022 and the new files must still take
 * the mode of the 0600 file they follow.
 */
static void check_permissions(bool carried)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *console = g_build_filename(s->dir, "serial.log", NULL);
    g_autofree char *flood = g_strdup_printf(
        "file,path=%s,rotate=3,rotate-size=8K", s->log);
    g_autofree char *oldest = gen_name(s, 2);
    QTestState *qts;
    gint64 deadline = g_get_monotonic_time() + BOOT_TIMEOUT_US;
    mode_t old_umask;
    struct stat st;
    int k;

    g_assert(g_file_set_contents(s->log, "previous boot\n", -1, NULL));
    g_assert_cmpint(chmod(s->log, 0600), ==, 0);
    old_umask = umask(carried ? 022 : 077);
    qts = start_flood("QTEST_QEMU_BINARY", console, flood, "m1", 20000, "");
    umask(old_umask);
    /* The previous boot's file, renamed at start */
    g_assert_cmpint(stat(gen_name(s, 0), &st), ==, 0);
    g_assert_cmpint(st.st_mode & 07777, ==, 0600);
    while (!flood_done(console, "m1", deadline)) {
        g_usleep(50 * 1000);
    }
    wait_flood_written(s->log, 3, "m1", 20000);
    qtest_quit(qts);
    /* 1.3 MB through 8 KiB files: the previous boot aged out */
    g_assert_null(strstr(slurp(oldest), "previous boot"));
    for (k = -1; k < 3; k++) {
        g_autofree char *name = gen_name(s, k);

        g_assert_cmpint(stat(name, &st), ==, 0);
        if ((st.st_mode & 07777) != 0600) {
            g_error("%s has mode %04o, not 0600", name, st.st_mode & 07777);
        }
    }
}

static void test_permissions_kept(void)
{
    check_permissions(false);
}

static void test_permissions_carried(void)
{
    check_permissions(true);
}

/*
 * 7. Live migration on shared storage: the destination, started on the
 * same files with rotate=3, neither rotates nor truncates them, and the
 * guest's console continues where the source left it.  With
 * @source_rotates, the source starts a new generation after the
 * destination opened the file: the destination reopens PATH when the
 * guest runs there, and does not write to the file the source renamed.
 */
static void check_migration(bool source_rotates)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *sock = g_build_filename(s->dir, "migrate.sock", NULL);
    g_autofree char *serial = g_strdup_printf("file,path=%s,rotate=3",
                                              s->log);
    g_autofree char *incoming = g_strdup_printf("-incoming unix:%s", sock);
    g_autofree char *contents = NULL;
    g_autofree char *source_part = NULL;
    g_autofree char *uri = g_strdup_printf("unix:%s", sock);
    g_auto(GStrv) lines = NULL;
    QTestState *src, *dst;
    gint64 deadline = g_get_monotonic_time() + BOOT_TIMEOUT_US;
    int ticks_at_migration, expect = 0, i;

    src = start_guest("QTEST_QEMU_BINARY", serial, "bootid=g1 mode=tick", "");
    for (;;) {
        g_free(contents);
        contents = slurp(s->log);
        if (count_of(contents, "tick ") >= 10) {
            break;
        }
        g_assert(g_get_monotonic_time() < deadline);
        g_usleep(50 * 1000);
    }
    dst = start_guest("QTEST_QEMU_BINARY", serial, "bootid=g1 mode=tick",
                      incoming);
    /* The destination appended: the source's output is still PATH */
    g_assert_false(g_file_test(gen_name(s, 0), G_FILE_TEST_EXISTS));
    g_free(contents);
    contents = slurp(s->log);
    g_assert_nonnull(strstr(contents, "console-log-guest: boot g1"));
    if (source_rotates) {
        qtest_qmp_assert_success(src, "{'execute': 'chardev-rotate',"
                                 " 'arguments': {'id': 'serial0'}}");
        qtest_qmp_eventwait(src, "CHARDEV_ROTATED");
    }
    g_usleep(500 * 1000);
    qtest_qmp_assert_success(src, "{'execute': 'migrate',"
                             " 'arguments': {'uri': %s}}", uri);
    qtest_qmp_eventwait(dst, "RESUME");
    g_free(contents);
    contents = slurp_gen(s, -1);
    ticks_at_migration = count_of(contents, "tick ");
    qtest_quit(src);
    deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
    for (;;) {
        g_free(contents);
        contents = slurp_gen(s, -1);
        if (count_of(contents, "tick ") >= ticks_at_migration + 10) {
            break;
        }
        if (g_get_monotonic_time() > deadline) {
            g_error("the destination's ticks did not reach PATH");
        }
        g_usleep(50 * 1000);
    }
    qtest_quit(dst);

    /* The source's rotation only: PATH.0 (if any), then PATH, in order. */
    g_assert_false(g_file_test(gen_name(s, source_rotates ? 1 : 0),
                               G_FILE_TEST_EXISTS));
    source_part = source_rotates ? slurp_gen(s, 0) : g_strdup("");
    g_free(contents);
    contents = g_strconcat(source_part, slurp_gen(s, -1), NULL);
    g_assert_cmpint(count_of(contents, "Linux version "), ==, 1);
    lines = g_strsplit(contents, "\n", -1);
    for (i = 0; lines[i]; i++) {
        const char *tick = strstr(lines[i], "console-log-guest: tick ");

        if (tick) {
            g_assert_cmpint(atoi(tick + strlen("console-log-guest: tick ")),
                            ==, expect);
            expect++;
        }
    }
    g_test_message("ticks 0 to %d in order, %d before migration",
                   expect - 1, ticks_at_migration);
    g_assert_cmpint(expect, >=, ticks_at_migration + 10);
}

static void test_migration_shared_storage(void)
{
    check_migration(false);
}

static void test_migration_source_rotated(void)
{
    check_migration(true);
}

/*
 * A destination started while the source rotates the files both open
 * starts: the file it opened being renamed meanwhile is no reason to
 * refuse (as for a file outside of a -run-with chroot=).
 */
static void test_migration_destination_while_rotating(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *flood = g_strdup_printf(
        "file,path=%s,rotate=90,rotate-size=4K", s->log);
    g_autofree char *console = g_build_filename(s->dir, "serial.log", NULL);
    g_autofree char *console2 = g_build_filename(s->dir, "serial2.log",
                                                 NULL);
    g_autofree char *first = gen_name(s, 0);
    gint64 deadline = g_get_monotonic_time() + BOOT_TIMEOUT_US;
    QTestState *src = start_flood("QTEST_QEMU_BINARY", console, flood, "d1",
                                  200000, "");

    while (!g_file_test(first, G_FILE_TEST_EXISTS)) {
        g_assert(g_get_monotonic_time() < deadline);
        g_usleep(50 * 1000);
    }
    for (int i = 0; i < 4; i++) {
        QTestState *dst = start_flood("QTEST_QEMU_BINARY", console2, flood,
                                      "d1", 200000, "-incoming defer");

        qtest_qmp_assert_success(dst, "{'execute': 'query-status'}");
        qtest_quit(dst);
    }
    qtest_quit(src);
}

/*
 * 8. Bad input on the command line: exit status 1, a message naming the
 * option (and the path), and the files already there byte-identical.
 */
typedef struct BadInput {
    const char *chardev;    /* @PATH@, @DIR@ and @LONG@ are replaced */
    const char *message;    /* @DIR@ is replaced */
    bool unprivileged;      /* run QEMU as an unprivileged user */
    const char *extra;      /* more options, for root only */
} BadInput;

static const BadInput bad_inputs[] = {
    { "file,path=@PATH@,rotate=-1", "rotate=-1 for '@PATH@' is out of "
      "range: at most 255" },
    { "file,path=@PATH@,rotate=256", "rotate=256 for '@PATH@' is out of "
      "range: at most 255" },
    { "file,path=@PATH@,rotate=two", "Parameter 'rotate' expects a number" },
    { "file,path=@PATH@,rotate=2,rotate-size=100", "rotate-size=100 for "
      "'@PATH@' is too small: the minimum is 4096" },
    { "file,path=@PATH@,rotate=2,rotate-size=4095", "rotate-size=4095" },
    { "file,path=@PATH@,rotate=2,rotate-size=-1", "Value '-1' is out of "
      "range for parameter 'rotate-size'" },
    { "file,path=@PATH@,rotate=2,rotate-size=1Q", "Parameter 'rotate-size' "
      "expects a non-negative number" },
    { "file,path=@PATH@,rotate-size=8K", "rotate-size for '@PATH@' "
      "requires rotate=N, N >= 1" },
    { "file,path=@PATH@,rotate=0,rotate-size=8K", "requires rotate=N" },
    { "pty,logrotate=2", "logrotate requires logfile" },
    { "pty,logrotate-size=8K", "logrotate-size requires logfile" },
    { "pty,logfile=@PATH@,logrotate=256", "logrotate=256 is out of range: "
      "at most 255" },
    { "pty,logfile=@PATH@,logrotate=2,logrotate-size=1K",
      "logrotate-size=1024 for '@PATH@' is too small" },
    { "pty,logfile=@PATH@,logrotate-size=8K", "logrotate-size for '@PATH@' "
      "requires logrotate=N, N >= 1" },
    { "file,path=@DIR@/missing/console.log,rotate=2",
      "Could not create '@DIR@/missing/console.log': No such file or "
      "directory" },
    /* Only a regular file that QEMU opens by name */
    { "file,path=@DIR@/dir,rotate=2", "rotate=2 cannot be used with "
      "'@DIR@/dir': QEMU can rename only a regular file that it opens by "
      "name" },
    { "file,path=@DIR@/link,rotate=2", "rotate=2 cannot be used with "
      "'@DIR@/link'" },
    { "file,path=@DIR@/fifo,rotate=2", "rotate=2 cannot be used with "
      "'@DIR@/fifo'" },
    { "file,path=/dev/null,rotate=2", "rotate=2 cannot be used with "
      "'/dev/null'" },
    { "file,path=/dev/fdset/1,rotate=2", "rotate=2 cannot be used with "
      "'/dev/fdset/1': QEMU can rename only a regular file that it opens "
      "by name" },
    { "pty,logfile=/dev/fdset/1,logrotate=2", "logrotate=2 cannot be used "
      "with '/dev/fdset/1': QEMU can rename only a regular file" },
    { "pty,logfile=@DIR@/link,logrotate=1", "logrotate=1 cannot be used "
      "with '@DIR@/link'" },
    /* The rename at start fails: a directory where PATH.0 goes */
    { "file,path=@PATH@,rotate=2", "rotate: cannot rename '@PATH@.0' to "
      "'@PATH@.1': Is a directory" },
    { "file,path=@LONG@,rotate=2", "File name too long" },
    /* A directory where QEMU may not create and rename files */
    { "file,path=@DIR@/ro/console.log,rotate=2", "rotate: cannot rename "
      "'@DIR@/ro/console.log' to '@DIR@/ro/console.log.0': Permission "
      "denied", true },
    { "file,path=@DIR@/ro/console.log,rotate=2,append=on", "rotate: QEMU, "
      "running as user 65534, may not create and rename files in "
      "'@DIR@/ro'", true },
    /* Options of the file backend, on other backends */
    { "null,rotate=2", "rotate is an option of the file backend, not of "
      "'null'" },
    { "pty,rotate=3,rotate-size=1M", "rotate is an option of the file "
      "backend, not of 'pty'" },
    { "socket,path=@DIR@/sock,server=on,wait=off,rotate-size=1M",
      "rotate-size is an option of the file backend, not of 'socket'" },
    /*
     * After -run-with user=: a directory the user may not write, and a
     * sticky one that is not the user's, with a file that is not either
     * (QEMU created it as root).  append=on: no rename before the check.
     */
    { "file,path=@DIR@/ro/console.log,rotate=2,append=on", "rotate: QEMU, "
      "running as user 65534, may not create and rename files in "
      "'@DIR@/ro'", false, "-run-with user=nobody" },
    { "pty,logfile=@DIR@/ro/console.log,logrotate=2,logappend=on",
      "logrotate: QEMU, running as user 65534, may not create "
      "and rename files in '@DIR@/ro'", false, "-run-with user=nobody" },
    { "file,path=@DIR@/sticky/console.log,rotate=2", "rotate: QEMU, running "
      "as user 65534, may not create and rename files in "
      "'@DIR@/sticky'", false, "-run-with user=nobody" },
    /* After -run-with chroot=: a file outside of the new root */
    { "file,path=@PATH@,rotate=1,append=on", "rotate: '@PATH@' is outside "
      "of QEMU's root directory (-run-with chroot=)", false,
      "-run-with chroot=@DIR@/jail" },
    { "pty,logfile=@PATH@,logrotate=1,logappend=on", "logrotate: '@PATH@' "
      "is outside of QEMU's root directory (-run-with chroot=)", false,
      "-run-with chroot=@DIR@/jail" },
};

static char *replace_all(const char *text, const char *token,
                         const char *value)
{
    g_auto(GStrv) parts = g_strsplit(text, token, -1);

    return g_strjoinv(value, parts);
}

static void test_bad_input_cli(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *g0 = gen_name(s, 0);
    g_autofree char *g1 = gen_name(s, 1);
    g_autofree char *dir = g_build_filename(s->dir, "dir", NULL);
    g_autofree char *link = g_build_filename(s->dir, "link", NULL);
    g_autofree char *ro = g_build_filename(s->dir, "ro", NULL);
    g_autofree char *ro_log = g_build_filename(ro, "console.log", NULL);
    g_autofree char *ro_log0 = g_strdup_printf("%s.0", ro_log);
    g_autofree char *sticky = g_build_filename(s->dir, "sticky", NULL);
    g_autofree char *sticky_log = g_build_filename(sticky, "console.log",
                                                   NULL);
    g_autofree char *jail = g_build_filename(s->dir, "jail", NULL);
    g_autofree char *fifo = g_build_filename(s->dir, "fifo", NULL);
    g_autofree char *errors = g_build_filename(s->dir, "stderr", NULL);
    g_autoptr(GString) long_path = g_string_new(s->dir);
    int i;

    g_string_append_c(long_path, '/');
    while (long_path->len < PATH_MAX - 2) {
        g_string_append_c(long_path, 'l');
    }
    g_assert(g_file_set_contents(s->log, "current\n", -1, NULL));
    g_assert(g_file_set_contents(g0, "previous\n", -1, NULL));
    g_assert_cmpint(mkdir(g1, 0755), ==, 0);
    g_assert_cmpint(mkdir(dir, 0755), ==, 0);
    g_assert_cmpint(symlink(s->log, link), ==, 0);
    g_assert_cmpint(mkdir(ro, 0555), ==, 0);
    g_assert_cmpint(mkdir(sticky, 0755), ==, 0);
    g_assert_cmpint(chmod(sticky, 01777), ==, 0);
    g_assert_cmpint(mkdir(jail, 0755), ==, 0);
    g_assert_cmpint(mkfifo(fifo, 0644), ==, 0);
    g_assert(g_file_set_contents(ro_log, "read-only dir\n", -1, NULL));
    g_assert_cmpint(chmod(ro_log, 0666), ==, 0);

    /* An unprivileged QEMU must reach the files to fail as expected. */
    g_assert_cmpint(chmod(s->dir, 0755), ==, 0);
    for (i = 0; i < ARRAY_SIZE(bad_inputs); i++) {
        g_autofree char *with_path = replace_all(bad_inputs[i].chardev,
                                                 "@PATH@", s->log);
        g_autofree char *with_dir = replace_all(with_path, "@DIR@", s->dir);
        g_autofree char *chardev = replace_all(with_dir, "@LONG@",
                                               long_path->str);
        g_autofree char *extra = replace_all(bad_inputs[i].extra ?
                                             bad_inputs[i].extra : "",
                                             "@DIR@", s->dir);
        const char *unprivileged =
            bad_inputs[i].unprivileged && geteuid() == 0
            ? "setpriv --reuid=65534 --regid=65534 --clear-groups " : "";
        g_autofree char *want_path = replace_all(bad_inputs[i].message,
                                                 "@PATH@", s->log);
        g_autofree char *want = replace_all(want_path, "@DIR@", s->dir);
        /* Accepted by mistake, QEMU would run until killed. */
        g_autofree char *cmd = g_strdup_printf(
            "exec timeout -s KILL 60 %s%s -M none -nodefaults -display none "
            "-chardev %s,id=bad %s >/dev/null 2>%s",
            unprivileged, getenv("QTEST_QEMU_BINARY"), chardev, extra,
            errors);
        g_autofree char *message = NULL;
        int status;

        if ((bad_inputs[i].extra || bad_inputs[i].unprivileged) &&
            geteuid() != 0) {
            g_test_message("-chardev %s %s: needs root", chardev, extra);
            continue;
        }
        status = wait_status(spawn_shell(cmd));
        message = slurp(errors);
        g_test_message("-chardev %.60s: %.300s", chardev, message);
        g_assert(WIFEXITED(status));
        g_assert_cmpint(WEXITSTATUS(status), ==, 1);
        if (!strstr(message, want)) {
            g_error("'%s' lacks '%s'", message, want);
        }
        g_assert_cmpstr(slurp(s->log), ==, "current\n");
        g_assert_cmpstr(slurp(g0), ==, "previous\n");
        g_assert_cmpstr(slurp(ro_log), ==, "read-only dir\n");
        g_assert(g_file_test(g1, G_FILE_TEST_IS_DIR));
        g_assert_false(g_file_test(ro_log0, G_FILE_TEST_EXISTS));
        unlink(sticky_log);
    }
}

static void assert_unexpected_member(QDict *error)
{
    const char *desc = qdict_get_str(error, "desc");

    g_test_message("a backend without rotate: %s", desc);
    g_assert_nonnull(strstr(desc, "rotate"));
    g_assert_nonnull(strstr(desc, "unexpected"));
    qobject_unref(error);
}

static void assert_error_desc(QDict *error, const char *want)
{
    const char *desc = qdict_get_str(error, "desc");

    if (!strstr(desc, want)) {
        g_error("'%s' lacks '%s'", desc, want);
    }
    qobject_unref(error);
}

/* The same through QMP chardev-add, and the runtime commands' errors. */
static void test_bad_input_qmp(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *g0 = gen_name(s, 0);
    g_autofree char *g1 = gen_name(s, 1);
    g_autofree char *missing = g_build_filename(s->dir, "missing", "log",
                                                NULL);
    static const struct {
        const char *data;
        const char *message;
    } cases[] = {
        { "'out': %s, 'rotate': -1", "'rotate' expects uint8_t" },
        { "'out': %s, 'rotate': 256", "'rotate' expects uint8_t" },
        { "'out': %s, 'rotate': 2, 'rotate-size': 100", "rotate-size=100 "
          "for '@PATH@' is too small: the minimum is 4096" },
        { "'out': %s, 'rotate-size': 8192", "rotate-size for '@PATH@' "
          "requires rotate=N, N >= 1" },
        { "'out': %s, 'rotate': 0, 'rotate-size': 8192",
          "requires rotate=N" },
        { "'out': %s, 'rotate': 2", "rotate: cannot rename '@PATH@.0' to "
          "'@PATH@.1': Is a directory" },
        { "'out': %s, 'logfile': %s, 'logrotate': 256",
          "'logrotate' expects uint8_t" },
        { "'out': %s, 'logfile': %s, 'logrotate-size': 8192",
          "logrotate-size for '@PATH@' requires logrotate=N, N >= 1" },
        { "'out': %s, 'logrotate': 2", "logrotate requires logfile" },
        { "'out': %s, 'logrotate-size': 8192",
          "logrotate-size requires logfile" },
        { "'out': '/dev/fdset/1', 'rotate': 2", "rotate=2 cannot be used "
          "with '/dev/fdset/1': QEMU can rename only a regular file that it "
          "opens by name" },
    };
    QTestState *qts = qtest_init("-M none -nodefaults "
                                 "-chardev null,id=null "
                                 "-chardev file,id=plain,path=/dev/null");
    int i;

    g_assert(g_file_set_contents(s->log, "current\n", -1, NULL));
    g_assert(g_file_set_contents(g0, "previous\n", -1, NULL));
    g_assert_cmpint(mkdir(g1, 0755), ==, 0);

    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        g_autofree char *fmt = g_strdup_printf(
            "{'execute': 'chardev-add', 'arguments': {'id': 'bad',"
            " 'backend': {'type': 'file', 'data': {%s}}}}", cases[i].data);
        QDict *error = qtest_qmp_assert_failure_ref(qts, fmt, s->log,
                                                    s->log);
        const char *desc = qdict_get_str(error, "desc");
        g_autofree char *want = replace_all(cases[i].message, "@PATH@",
                                            s->log);

        g_test_message("chardev-add {%s}: %s", cases[i].data, desc);
        if (!strstr(desc, want)) {
            g_error("'%s' lacks '%s'", desc, want);
        }
        qobject_unref(error);
        g_assert_cmpstr(slurp(s->log), ==, "current\n");
        g_assert_cmpstr(slurp(g0), ==, "previous\n");
    }
    {
        QDict *error = qtest_qmp_assert_failure_ref(qts,
            "{'execute': 'chardev-add', 'arguments': {'id': 'bad',"
            " 'backend': {'type': 'file', 'data': {'out': %s,"
            " 'rotate': 2}}}}", missing);

        g_assert_nonnull(strstr(qdict_get_str(error, "desc"), "missing"));
        qobject_unref(error);
    }
    /*
     * A chardev-add that fails for its output file (a missing
     * directory): the logfile, opened first, was rotated already, as at
     * any start; the previous log is PATH.0.  Tried again and again, it
     * finds an empty logfile and rotates nothing more.
     */
    {
        g_autofree char *logfile = g_build_filename(s->dir, "add.log",
                                                    NULL);
        g_autofree char *logfile0 = g_strdup_printf("%s.0", logfile);
        g_autofree char *logfile1 = g_strdup_printf("%s.1", logfile);
        int attempt;

        g_assert(g_file_set_contents(logfile, "kept\n", -1, NULL));
        for (attempt = 0; attempt < 3; attempt++) {
            QDict *error = qtest_qmp_assert_failure_ref(qts,
                "{'execute': 'chardev-add', 'arguments': {'id': 'bad',"
                " 'backend': {'type': 'file', 'data': {'out': %s,"
                " 'logfile': %s, 'logrotate': 2}}}}", missing, logfile);

            g_test_message("missing output directory: %s",
                           qdict_get_str(error, "desc"));
            g_assert_nonnull(strstr(qdict_get_str(error, "desc"), missing));
            qobject_unref(error);
        }
        g_assert_cmpstr(slurp(logfile0), ==, "kept\n");
        g_assert_cmpstr(slurp(logfile), ==, "");
        g_assert_false(g_file_test(logfile1, G_FILE_TEST_EXISTS));
    }
    /* Members a backend does not have: chardev-add and chardev-change */
    assert_unexpected_member(qtest_qmp_assert_failure_ref(qts,
        "{'execute': 'chardev-add', 'arguments': {'id': 'bad',"
        " 'backend': {'type': 'null', 'data': {'rotate': 2}}}}"));
    assert_unexpected_member(qtest_qmp_assert_failure_ref(qts,
        "{'execute': 'chardev-change', 'arguments': {'id': 'null',"
        " 'backend': {'type': 'pty', 'data': {'rotate-size': 8192}}}}"));
    /* The runtime commands, on chardevs that keep no previous files */
    assert_error_desc(qtest_qmp_assert_failure_ref(qts,
        "{'execute': 'chardev-rotate', 'arguments': {'id': 'nosuch'}}"),
        "Chardev 'nosuch' not found");
    assert_error_desc(qtest_qmp_assert_failure_ref(qts,
        "{'execute': 'chardev-reopen', 'arguments': {'id': 'nosuch'}}"),
        "Chardev 'nosuch' not found");
    assert_error_desc(qtest_qmp_assert_failure_ref(qts,
        "{'execute': 'chardev-rotate', 'arguments': {'id': 'plain'}}"),
        "Chardev 'plain' keeps no previous files: it has neither rotate=N "
        "nor logrotate=N");
    assert_error_desc(qtest_qmp_assert_failure_ref(qts,
        "{'execute': 'chardev-reopen', 'arguments': {'id': 'plain'}}"),
        "Chardev 'plain' keeps no previous files");
    assert_error_desc(qtest_qmp_assert_failure_ref(qts,
        "{'execute': 'chardev-reopen', 'arguments': {'id': 'null'}}"),
        "Chardev 'null' keeps no previous files");
    /* HMP has chardev-rotate, but no chardev-reopen */
    {
        g_autofree char *out = qtest_hmp(qts, "chardev-rotate plain");
        g_autofree char *reopen = qtest_hmp(qts, "chardev-reopen plain");

        g_test_message("HMP chardev-rotate: %s", out);
        g_assert_nonnull(strstr(out, "Chardev 'plain' keeps no previous "
                                "files"));
        g_assert_nonnull(strstr(reopen, "unknown command"));
    }
    qtest_quit(qts);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    qtest_add_func("console-log/bad-input/cli", test_bad_input_cli);
    qtest_add_func("console-log/bad-input/qmp", test_bad_input_qmp);
    if (!console_log_guest_ready("console-log/faults")) {
        return g_test_run();
    }
    qtest_add_func("console-log/faults/sigkill", test_sigkill);
    qtest_add_func("console-log/faults/flood-disk-bound",
                   test_flood_disk_bound);
    qtest_add_func("console-log/faults/enospc", test_enospc);
    qtest_add_func("console-log/faults/rename-failures",
                   test_rename_failures);
    qtest_add_func("console-log/faults/symlinks-planted",
                   test_symlinks_planted);
    qtest_add_func("console-log/faults/permissions", test_permissions_kept);
    qtest_add_func("console-log/faults/migration",
                   test_migration_shared_storage);
    qtest_add_func("console-log/faults/permissions-carried",
                   test_permissions_carried);
    qtest_add_func("console-log/faults/migration-source-rotated",
                   test_migration_source_rotated);
    qtest_add_func("console-log/faults/migration-destination-while-rotating",
                   test_migration_destination_while_rotating);

    return g_test_run();
}
