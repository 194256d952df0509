/*
 * Rotating console logs on a bad day: SIGKILL, floods, renames that fail
 * or hang, a full disk, planted symlinks, live migration and bad input,
 * with a real Linux guest under TCG
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
#include "qobject/qlist.h"
#include "console-log-guest.h"
#include "console-log-files.h"

#define UNPRIVILEGED_ID 65534
#define MIB (1024 * 1024)

static char *gen_name(const Scratch *s, int k)
{
    return log_gen_name(s->log, k);
}

static uint64_t logs_size(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;
    uint64_t total = 0;

    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(dir, name, NULL);

        if (g_str_has_prefix(name, "console.log") && is_regular(path)) {
            total += file_size_of(path);
        }
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

static void kill_child(void *opaque)
{
    GPid *pid = opaque;

    if (*pid > 0) {
        kill(*pid, SIGKILL);
        waitpid(*pid, NULL, 0);
        *pid = 0;
    }
}

static int count_in_file(const char *path, const char *what)
{
    g_autofree char *text = slurp(path);

    return count_of(text, what);
}

/* Wait until the guest's console shows that flood @id is done. */
static void wait_flood_done(const char *console, const char *id)
{
    gint64 deadline = g_get_monotonic_time() + BOOT_TIMEOUT_US;

    while (!flood_done(console, id, deadline)) {
        g_usleep(50 * 1000);
    }
}

/*
 * 1. SIGKILL at random moments of a flood with many rotations a second:
 * the kept files always hold a contiguous part of the guest's stream (but
 * where a note says what was lost), none is larger than twice size, and
 * they take at most (rotate + 2) x size.
 */
static void test_sigkill(void)
{
    const int trials = 12;
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
            "-chardev file,id=flood,path=%s,rotate=4,size=8K "
            "-device virtserialport,chardev=flood,name=flood", s->log);
        g_autofree char *args = guest_args(serial, cmdline, extra);
        g_autofree char *cmd = g_strdup_printf("exec %s %s >/dev/null",
                                               getenv("QTEST_QEMU_BINARY"),
                                               args);
        g_autoptr(GString) kept = NULL;
        gint64 deadline = g_get_monotonic_time() + BOOT_TIMEOUT_US;
        GPid pid = spawn_shell(cmd);
        FloodKept found;
        int status;

        qtest_add_abrt_handler(kill_child, &pid);
        while (logs_size(s->dir) == 0) {
            g_assert(g_get_monotonic_time() < deadline);
            g_usleep(10 * 1000);
        }
        g_usleep(g_rand_int_range(rand, 0, 1500 * 1000));
        g_assert_cmpint(kill(pid, SIGKILL), ==, 0);
        status = wait_status(pid);
        pid = 0;
        qtest_remove_abrt_handler(&pid);
        g_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

        assert_log_bounded(s->log, 4, 8 * 1024);
        kept = log_kept(s->log, 4);
        found = assert_flood_kept(kept, id);
        g_test_message("trial %d: killed; bytes %" PRIu64 " to %" PRIu64
                       " of the flood kept, %" PRIu64 " noted as lost", t,
                       found.start, found.end, found.noted);
    }
    g_rand_free(rand);
}

/* The note that starts @path, if any: the bytes it says were lost */
static int64_t note_at_start(const char *path)
{
    g_autofree char *text = slurp(path);
    const char *prefix = "[qemu: ";

    if (!text || !g_str_has_prefix(text, prefix) ||
        !strstr(text, " bytes of output lost here]\n")) {
        return -1;
    }
    return g_ascii_strtoll(text + strlen(prefix), NULL, 10);
}

/*
 * 2. More than 100 MB through a virtio-serial port with rotate=3,size=1M,
 * and in the middle, renames that fail until PATH is full and output is
 * dropped: a non-empty directory planted where PATH.1 goes (as root
 * too).  Sampled every 20
 * ms, the files never take more than (3 + 2) x 1 MiB and none is larger
 * than 2 MiB; QMP keeps answering; what the guest writes while PATH is
 * full is dropped and counted: query-chardev, a warning at most every 10
 * s, and a note at the start of the next file once a retry (every
 * second) renames again.  Everything kept is the guest's stream.
 */
static void test_flood_disk_bound(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *console = g_build_filename(s->dir, "serial.log", NULL);
    g_autofree char *errors = g_build_filename(s->dir, "stderr", NULL);
    g_autofree char *flood = g_strdup_printf("file,path=%s,rotate=3,size=1M",
                                             s->log);
    g_autofree char *more = g_strdup_printf("2>%s", errors);
    g_autofree char *obstacle = gen_name(s, 2);
    g_autofree char *inside = g_build_filename(obstacle, "file", NULL);
    const int lines = 1600000;          /* 65 bytes each: 104 MB */
    const uint64_t bound = 5 * MIB;
    gint64 start = g_get_monotonic_time();
    gint64 deadline = start + 10 * BOOT_TIMEOUT_US;
    gint64 next_qmp = 0, worst_qmp = 0, planted = 0, cleared = 0;
    gint64 resumed = 0;
    int64_t dropped_at_plant = 0, dropped_while_failing = 0, noted = -1;
    int64_t dropped;
    uint64_t peak = 0, grown = 0;
    int samples = 0, warnings, k;
    g_autofree char *messages = NULL;
    g_autoptr(GString) kept = NULL;
    QTestState *qts = start_flood("QTEST_QEMU_BINARY", console, flood, "d1",
                                  lines, more);
    FloodKept found;

    while (!flood_done(console, "d1", deadline)) {
        gint64 now = g_get_monotonic_time();

        peak = MAX(peak, log_gens_size(s->log, 3));
        assert_log_bounded(s->log, 3, MIB);
        samples++;
        if (now >= next_qmp) {
            QDict *resp = qtest_qmp(qts, "{'execute': 'query-status'}");

            g_assert(qdict_haskey(resp, "return"));
            qobject_unref(resp);
            worst_qmp = MAX(worst_qmp, g_get_monotonic_time() - now);
            next_qmp = now + 100 * 1000;
        }
        if (!planted && is_regular(obstacle)) {
            /*
             * The oldest generation goes, as the next rotation would
             * drop it; a rotation may bring it back before mkdir().
             */
            g_assert(unlink(obstacle) == 0 || errno == ENOENT);
            if (mkdir(obstacle, 0755) == 0) {
                g_assert(g_file_set_contents(inside, "x", -1, NULL));
                dropped_at_plant = query_dropped(qts, "flood");
                planted = now;
            } else {
                g_assert_cmpint(errno, ==, EEXIST);
            }
        } else if (planted && !cleared && now > planted + G_USEC_PER_SEC &&
                   query_dropped(qts, "flood") > dropped_at_plant) {
            /* PATH is full, the guest writes on: drops were counted */
            grown = file_size_of(s->log);
            dropped_while_failing = query_dropped(qts, "flood");
            g_assert_cmpint(unlink(inside), ==, 0);
            g_assert_cmpint(rmdir(obstacle), ==, 0);
            cleared = now;
        } else if (cleared && noted < 0) {
            /* The first file after the failures, maybe rotated by now */
            for (k = -1; k < 2 && noted < 0; k++) {
                g_autofree char *name = gen_name(s, k);

                noted = note_at_start(name);
            }
            if (noted >= 0) {
                resumed = now - cleared;
            }
        }
        g_usleep(20 * 1000);
    }
    dropped = query_dropped(qts, "flood");
    qtest_quit(qts);
    messages = slurp(errors);
    warnings = count_of(messages, "warning:");

    g_test_message("%d lines (%" PRIu64 " bytes) flooded; %d samples, peak %"
                   PRIu64 " bytes on disk (bound %" PRIu64 "); worst "
                   "query-status %" PRId64 " us", lines,
                   flood_bytes("d1", lines), samples, peak, bound, worst_qmp);
    g_test_message("renames failed for %" PRId64 " ms: PATH grew to %" PRIu64
                   " bytes, %" PRId64 " bytes dropped then, %" PRId64
                   " in all; the next file noted %" PRId64 ", %" PRId64
                   " ms after the obstacle went; %d warnings",
                   (cleared - planted) / 1000, grown, dropped_while_failing,
                   dropped, noted, resumed / 1000, warnings);
    g_assert_cmpuint(peak, <=, bound);
    /* Liveness, not speed: QMP was never stuck behind the writes. */
    g_assert_cmpint(worst_qmp, <, G_USEC_PER_SEC);
    g_assert_cmpint(cleared, >, 0);
    /* PATH grew beyond size while renames failed, then dropped */
    g_assert_cmpuint(grown, >, MIB);
    g_assert_cmpint(dropped_while_failing, >, dropped_at_plant);
    /* The note counts at least what was dropped while renames failed */
    g_assert_cmpint(noted, >=, dropped_while_failing - dropped_at_plant);
    g_assert_cmpint(noted, <=, dropped);
    g_assert_cmpint(resumed, <, 2500 * 1000);
    g_assert_nonnull(strstr(messages, "chardev 'flood': rotate: "));
    g_assert_nonnull(strstr(messages, "Is a directory"));
    g_assert_nonnull(strstr(messages, "bytes of output lost so far"));
    /* At most one warning every 10 s, though retried every second */
    g_assert_cmpint(warnings, <=,
                    1 + (g_get_monotonic_time() - start) / 10000000);
    kept = log_kept(s->log, 3);
    found = assert_flood_kept(kept, "d1");
    assert_flood_accounted(&found, "d1", lines, dropped, false);
}

static void umount_hook(void *opaque)
{
    umount(opaque);
}

/*
 * 3. A full disk (a small tmpfs): QEMU survives and keeps answering, the
 * guest finishes writing through a serial port, the bytes that do not
 * fit are counted by query-chardev, stderr is not flooded, and when space
 * returns rotation resumes within the bound and keeps the guest's stream.
 */
static void test_enospc(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *mnt = g_build_filename(s->dir, "tmpfs", NULL);
    g_autofree char *log = g_build_filename(mnt, "console.log", NULL);
    g_autofree char *log2 = g_build_filename(mnt, "console.log.2", NULL);
    g_autofree char *filler = g_build_filename(mnt, "filler", NULL);
    g_autofree char *console = g_build_filename(s->dir, "serial.log", NULL);
    g_autofree char *errors = g_build_filename(s->dir, "stderr", NULL);
    g_autofree char *serial = g_strdup_printf("file,path=%s", console);
    g_autofree char *extra = g_strdup_printf(
        "-chardev file,id=flood,path=%s,rotate=3,size=32K "
        "-serial chardev:flood 2>%s", log, errors);
    g_autofree char *big = g_strnfill(160 * 1024, 'f');
    g_autoptr(GString) kept = NULL;
    gint64 start, deadline;
    int64_t dropped_full, dropped;
    QTestState *qts;
    FloodKept found;
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
    qtest_add_abrt_handler(umount_hook, mnt);
    /* 96 KiB left for logs bounded to 5 x 32 KiB: the disk fills up. */
    g_assert(g_file_set_contents(filler, big, -1, NULL));

    start = g_get_monotonic_time();
    qts = start_guest("QTEST_QEMU_BINARY", serial,
                      "bootid=e1 mode=flood port=ttyS1 lines=4000 then=idle",
                      extra);
    wait_flood_done(console, "e1");
    /* The disk is full indeed, and what did not fit is counted */
    g_assert_cmpuint(logs_size(mnt), <=, 96 * 1024);
    dropped_full = query_dropped(qts, "flood");
    warnings = count_in_file(errors, "warning:");
    g_test_message("full disk: %" PRIu64 " bytes kept, %" PRId64 " dropped, "
                   "%d warnings in %" PRId64 " ms", logs_size(mnt),
                   dropped_full, warnings,
                   (g_get_monotonic_time() - start) / 1000);
    g_assert_cmpint(dropped_full, >, 0);
    g_assert_cmpint(warnings, <=,
                    1 + (g_get_monotonic_time() - start) / 10000000);
    /* While the disk is full, too, a warning says output is lost */
    deadline = g_get_monotonic_time() + 15 * G_USEC_PER_SEC;
    while (!count_in_file(errors, "bytes of output lost so far")) {
        if (g_get_monotonic_time() > deadline) {
            g_error("no warning of the %" PRId64 " bytes lost on a full "
                    "disk", query_dropped(qts, "flood"));
        }
        g_usleep(100 * 1000);
    }

    /* Space returns; the guest writes again after a reset. */
    g_assert_cmpint(unlink(filler), ==, 0);
    qtest_qmp_assert_success(qts, "{'execute': 'system_reset'}");
    deadline = g_get_monotonic_time() + BOOT_TIMEOUT_US;
    while (count_in_file(console, "flood done e1") < 2) {
        g_assert(g_get_monotonic_time() < deadline);
        g_usleep(50 * 1000);
    }
    dropped = query_dropped(qts, "flood");
    qtest_quit(qts);

    /* The second flood's end, within the bound */
    assert_log_bounded(log, 3, 32 * 1024);
    g_assert_true(is_regular(log2));
    kept = log_kept(log, 3);
    found = assert_flood_kept(kept, "e1");
    assert_flood_accounted(&found, "e1", 4000, dropped, false);
    if (dropped == dropped_full) {
        g_assert_cmpuint(found.end, ==, flood_bytes("e1", 4000));
    }
    /* A rotation after the full disk warned of what was lost */
    g_assert_cmpint(count_in_file(errors, "bytes of output lost so far"), >=,
                    1);
    g_assert_cmpint(umount(mnt), ==, 0);
    qtest_remove_abrt_handler(mnt);
}

/*
 * 4. Symlinks planted by another process at PATH.k and PATH while the
 * guest floods: nothing is written through them (PATH is created with
 * O_EXCL; a symlink there makes the rotation fail and the next one moves
 * it away), and the files keep the guest's stream.
 */
static void test_symlinks_planted(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *console = g_build_filename(s->dir, "serial.log", NULL);
    g_autofree char *target = g_build_filename(s->dir, "precious", NULL);
    g_autofree char *flood = g_strdup_printf(
        "file,path=%s,rotate=3,size=8K", s->log);
    g_autofree char *precious = NULL;
    const int lines = 200000;
    g_autoptr(GString) kept = NULL;
    QTestState *qts;
    gint64 deadline;
    int planted_before = 0, planted_running = 0, k;
    int64_t dropped;
    FloodKept found;

    g_assert(g_file_set_contents(target, "precious\n", -1, NULL));
    /* Before start, wherever rotation will move files... */
    for (k = 0; k < 4; k++) {
        g_autofree char *name = gen_name(s, k);

        planted_before += symlink(target, name) == 0;
    }
    qts = start_flood("QTEST_QEMU_BINARY", console, flood, "s1", lines,
                      "2>/dev/null");
    deadline = g_get_monotonic_time() + BOOT_TIMEOUT_US;
    /* ... and between renames, wherever a name is free. */
    while (!flood_done(console, "s1", deadline)) {
        for (k = -1; k < 4; k++) {
            g_autofree char *name = gen_name(s, k);

            planted_running += symlink(target, name) == 0;
        }
        g_usleep(2 * 1000);
    }
    dropped = query_dropped(qts, "flood");
    qtest_quit(qts);

    g_test_message("%d symlinks planted before start, %d while the guest "
                   "wrote", planted_before, planted_running);
    g_assert_cmpint(planted_before, ==, 4);
    /* Rotation met symlinks it had not seen at start. */
    g_assert_cmpint(planted_running, >=, 1);
    precious = slurp(target);
    g_assert_cmpstr(precious, ==, "precious\n");
    kept = log_kept(s->log, 3);
    found = assert_flood_kept(kept, "s1");
    assert_flood_accounted(&found, "s1", lines, dropped, false);
}

/*
 * 5. A private console log stays private in every generation: the
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
        "file,path=%s,rotate=3,size=8K", s->log);
    g_autofree char *gen0 = gen_name(s, 0);
    g_autofree char *oldest = gen_name(s, 2);
    g_autofree char *oldest_text = NULL;
    QTestState *qts;
    mode_t old_umask;
    struct stat st;
    int k;

    g_assert(g_file_set_contents(s->log, "previous boot\n", -1, NULL));
    g_assert_cmpint(chmod(s->log, 0600), ==, 0);
    old_umask = umask(carried ? 022 : 077);
    qts = start_flood("QTEST_QEMU_BINARY", console, flood, "m1", 20000, "");
    umask(old_umask);
    /* The previous boot's file, renamed at start */
    g_assert_cmpint(stat(gen0, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 07777, ==, 0600);
    wait_flood_done(console, "m1");
    qtest_quit(qts);
    /* 1.3 MB through 8 KiB files: the previous boot aged out */
    oldest_text = slurp(oldest);
    g_assert_nonnull(oldest_text);
    g_assert_null(strstr(oldest_text, "previous boot"));
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

/* The ticks of the test guest in @text, in order, into @ticks */
static void ticks_in(const char *text, GArray *ticks)
{
    g_auto(GStrv) lines = g_strsplit(text ? text : "", "\n", -1);
    const char *tag = "console-log-guest: tick ";
    int i;

    for (i = 0; lines[i]; i++) {
        const char *tick = strstr(lines[i], tag);

        if (tick && lines[i + 1]) {
            int n = atoi(tick + strlen(tag));

            g_array_append_val(ticks, n);
        }
    }
}

static int ticks_kept(const Scratch *s)
{
    g_autoptr(GString) kept = log_kept(s->log, 3);
    g_autoptr(GArray) ticks = g_array_new(false, false, sizeof(int));

    ticks_in(kept->str, ticks);
    return ticks->len;
}

/*
 * 6. Live migration on shared storage: the destination, started on the
 * same files with rotate=3, neither rotates nor truncates them at start;
 * when the guest runs there, its output goes to a new file.  With
 * @source_rotates, the source starts a new generation after the
 * destination opened the file.  Either way, read oldest first, the files
 * hold every line of the guest's console once, in order.
 */
static void check_migration(bool source_rotates)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *sock = g_build_filename(s->dir, "migrate.sock", NULL);
    g_autofree char *serial = g_strdup_printf("file,path=%s,rotate=3",
                                              s->log);
    g_autofree char *incoming = g_strdup_printf("-incoming unix:%s", sock);
    g_autofree char *contents = NULL;
    g_autofree char *newest = NULL;
    g_autofree char *uri = g_strdup_printf("unix:%s", sock);
    g_autoptr(GString) kept = NULL;
    g_autoptr(GArray) ticks = g_array_new(false, false, sizeof(int));
    g_autoptr(GArray) dst_ticks = g_array_new(false, false, sizeof(int));
    QTestState *src, *dst;
    gint64 deadline = g_get_monotonic_time() + BOOT_TIMEOUT_US;
    int ticks_at_migration, i;

    src = start_guest("QTEST_QEMU_BINARY", serial, "bootid=g1 mode=tick", "");
    while (ticks_kept(s) < 10) {
        g_assert(g_get_monotonic_time() < deadline);
        g_usleep(50 * 1000);
    }
    dst = start_guest("QTEST_QEMU_BINARY", serial, "bootid=g1 mode=tick",
                      incoming);
    /* The destination appended: the source's output is still PATH */
    g_assert_false(g_file_test(gen_name(s, 0), G_FILE_TEST_EXISTS));
    contents = slurp(s->log);
    g_assert_nonnull(strstr(contents, "console-log-guest: boot g1"));
    if (source_rotates) {
        g_autofree char *gen0 = gen_name(s, 0);

        qtest_qmp_assert_success(src, "{'execute': 'chardev-rotate',"
                                 " 'arguments': {'id': 'serial0'}}");
        while (!is_regular(gen0) || !file_size_of(s->log)) {
            g_assert(g_get_monotonic_time() < deadline);
            g_usleep(20 * 1000);
        }
    }
    g_usleep(500 * 1000);
    qtest_qmp_assert_success(src, "{'execute': 'migrate',"
                             " 'arguments': {'uri': %s}}", uri);
    qtest_qmp_eventwait(dst, "RESUME");
    ticks_at_migration = ticks_kept(s);
    qtest_quit(src);
    deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
    while (ticks_kept(s) < ticks_at_migration + 10) {
        if (g_get_monotonic_time() > deadline) {
            g_error("the destination's ticks did not reach the files");
        }
        g_usleep(50 * 1000);
    }
    qtest_quit(dst);

    kept = log_kept(s->log, 3);
    g_assert_cmpint(count_of(kept->str, "Linux version "), ==, 1);
    ticks_in(kept->str, ticks);
    for (i = 0; i < ticks->len; i++) {
        if (g_array_index(ticks, int, i) != i) {
            g_error("tick %d where tick %d belongs, %d ticks before the "
                    "migration", g_array_index(ticks, int, i), i,
                    ticks_at_migration);
        }
    }
    g_test_message("ticks 0 to %d in order, %d before migration",
                   ticks->len - 1, ticks_at_migration);
    g_assert_cmpint(ticks->len, >=, ticks_at_migration + 10);
    /* The destination's output in a file of its own */
    g_assert_true(is_regular(gen_name(s, source_rotates ? 1 : 0)));
    g_assert_false(g_file_test(gen_name(s, source_rotates ? 2 : 1),
                               G_FILE_TEST_EXISTS));
    newest = slurp(s->log);
    ticks_in(newest, dst_ticks);
    g_assert_cmpint(dst_ticks->len, >=, 9);
    g_assert_cmpint(g_array_index(dst_ticks, int, 0), >=,
                    ticks_at_migration);
    g_assert_null(strstr(newest, "boot g1"));
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
 * refuse.
 */
static void test_migration_destination_while_rotating(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *flood = g_strdup_printf(
        "file,path=%s,rotate=90,size=4K", s->log);
    g_autofree char *console = g_build_filename(s->dir, "serial.log", NULL);
    g_autofree char *console2 = g_build_filename(s->dir, "serial2.log",
                                                 NULL);
    g_autofree char *first = gen_name(s, 0);
    gint64 deadline = g_get_monotonic_time() + BOOT_TIMEOUT_US;
    QTestState *src = start_flood("QTEST_QEMU_BINARY", console, flood, "d1",
                                  200000, "");
    int i;

    while (!g_file_test(first, G_FILE_TEST_EXISTS)) {
        g_assert(g_get_monotonic_time() < deadline);
        g_usleep(50 * 1000);
    }
    for (i = 0; i < 4; i++) {
        QTestState *dst = start_flood("QTEST_QEMU_BINARY", console2, flood,
                                      "d1", 200000, "-incoming defer");

        qtest_qmp_assert_success(dst, "{'execute': 'query-status'}");
        qtest_quit(dst);
    }
    qtest_quit(src);
}

/*
 * QEMU with rename() held (hold-rename.c): while @hold exists, a rename
 * waits, and @hold.held exists.
 */
static const char *held_binary_env(const char *hold)
{
    g_autofree char *cmd = g_strdup_printf(
        "env LD_PRELOAD=%s HOLD_RENAME=%s %s", hold_rename_library(),
        hold, getenv("QTEST_QEMU_BINARY"));

    g_setenv("QTEST_HOLD_RENAME_BINARY", cmd, true);
    return "QTEST_HOLD_RENAME_BINARY";
}

/* Wait until a rename waits for @hold to go; see above */
static void wait_rename_held(const char *hold, const char *held)
{
    gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;

    while (!g_file_test(held, G_FILE_TEST_EXISTS)) {
        if (g_get_monotonic_time() > deadline) {
            g_error("no rename began while %s existed", hold);
        }
        g_usleep(10 * 1000);
    }
}

static void new_process_group(gpointer data)
{
    setpgid(0, 0);
}

/*
 * Let renames go on after @seconds, from another process (a group of
 * its own): a QEMU that waits for them must not make the test wait for
 * ever.
 */
static GPid release_later(const char *hold, int seconds)
{
    g_autofree char *cmd = g_strdup_printf("sleep %d; rm -f '%s'", seconds,
                                           hold);
    char *argv[] = { (char *)"/bin/sh", (char *)"-c", cmd, NULL };
    GPid pid;

    g_assert(g_spawn_async(NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                           new_process_group, NULL, &pid, NULL));
    return pid;
}

static void kill_group(void *opaque)
{
    GPid *pid = opaque;

    if (*pid > 0) {
        kill(-*pid, SIGKILL);
        waitpid(*pid, NULL, 0);
        *pid = 0;
    }
}

/* Run a QMP command; return how long it took, in ms */
static int64_t timed_qmp(QTestState *qts, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);

static int64_t timed_qmp(QTestState *qts, const char *fmt, ...)
{
    gint64 start = g_get_monotonic_time();
    QDict *resp;
    va_list ap;

    va_start(ap, fmt);
    resp = qtest_vqmp(qts, fmt, ap);
    va_end(ap);
    if (!qdict_haskey(resp, "return")) {
        g_error("%s failed", fmt);
    }
    qobject_unref(resp);
    return (g_get_monotonic_time() - start) / 1000;
}

/* The QOM path of the one device of type @type the guest has */
static char *device_path(QTestState *qts, const char *type)
{
    QDict *resp = qtest_qmp(qts, "{'execute': 'qom-list', 'arguments':"
                            " {'path': '/machine/peripheral-anon'}}");
    g_autofree char *child = g_strdup_printf("child<%s>", type);
    char *path = NULL;
    QListEntry *e;

    QLIST_FOREACH_ENTRY(qdict_get_qlist(resp, "return"), e) {
        QDict *prop = qobject_to(QDict, qlist_entry_obj(e));

        if (!strcmp(qdict_get_str(prop, "type"), child)) {
            path = g_strdup_printf("/machine/peripheral-anon/%s",
                                   qdict_get_str(prop, "name"));
        }
    }
    qobject_unref(resp);
    g_assert_nonnull(path);
    return path;
}

/*
 * 7. Closing never waits for the file system: with renames held in
 * workers (a disk that takes seconds), chardev-change of the port the
 * guest floods through, chardev-remove after the port is unplugged, and
 * quit return at once; the guest's output goes on meanwhile, and the
 * files keep its stream.
 */
static void test_close_never_waits(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *console = g_build_filename(s->dir, "serial.log", NULL);
    g_autofree char *hold = g_build_filename(s->dir, "hold", NULL);
    g_autofree char *held = g_strdup_printf("%s.held", hold);
    g_autofree char *second = g_build_filename(s->dir, "second.log", NULL);
    g_autofree char *flood = g_strdup_printf("file,path=%s,rotate=2,size=8K",
                                             s->log);
    g_autofree char *port = NULL;
    g_autoptr(GString) kept = NULL;
    int64_t change_ms, remove_ms, query_ms, quit_ms;
    uint64_t grown;
    gint64 deadline, start;
    GPid release;
    QTestState *qts;

    if (!hold_rename_library()) {
        g_test_skip("hold-rename.so is not built beside the test");
        return;
    }
    qts = start_flood(held_binary_env(hold), console, flood, "w1", 400000,
                      "2>/dev/null");
    deadline = g_get_monotonic_time() + BOOT_TIMEOUT_US;
    while (!is_regular(gen_name(s, 0))) {
        g_assert(g_get_monotonic_time() < deadline);
        g_usleep(10 * 1000);
    }
    /* The flood's next rotation waits */
    g_assert(g_file_set_contents(hold, "", -1, NULL));
    wait_rename_held(hold, held);
    release = release_later(hold, 8);
    qtest_add_abrt_handler(kill_group, &release);

    /* The port goes on in another rotating file, its rotation held too */
    change_ms = timed_qmp(qts, "{'execute': 'chardev-change', 'arguments':"
                          " {'id': 'flood', 'backend': {'type': 'file',"
                          " 'data': {'out': %s, 'rotate': 2,"
                          " 'size': 8192}}}}", second);
    g_test_message("chardev-change: %" PRId64 " ms", change_ms);
    g_assert_cmpint(change_ms, <, 1000);
    query_ms = timed_qmp(qts, "{'execute': 'query-status'}");
    g_assert_cmpint(query_ms, <, 1000);
    deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (file_size_of(second) < 8192 && g_get_monotonic_time() < deadline) {
        g_usleep(10 * 1000);
    }
    grown = file_size_of(second);
    /* Unplugged, the port's chardev can go */
    port = device_path(qts, "virtserialport");
    qtest_qmp_assert_success(qts, "{'execute': 'device_del',"
                             " 'arguments': {'id': %s}}", port);
    qtest_qmp_eventwait(qts, "DEVICE_DELETED");
    remove_ms = timed_qmp(qts, "{'execute': 'chardev-remove',"
                          " 'arguments': {'id': 'flood'}}");
    g_test_message("chardev-remove: %" PRId64 " ms", remove_ms);
    g_assert_cmpint(remove_ms, <, 1000);
    /* Renames are still held */
    g_assert_true(g_file_test(hold, G_FILE_TEST_EXISTS));
    start = g_get_monotonic_time();
    qtest_quit(qts);
    quit_ms = (g_get_monotonic_time() - start) / 1000;
    g_test_message("quit: %" PRId64 " ms", quit_ms);
    g_assert_cmpint(quit_ms, <, 2000);
    kill_group(&release);
    qtest_remove_abrt_handler(&release);

    g_test_message("with renames held: chardev-change %" PRId64 " ms, "
                   "query-status %" PRId64 " ms, chardev-remove %" PRId64
                   " ms, quit %" PRId64 " ms; the guest wrote %" PRIu64
                   " bytes to the new file meanwhile", change_ms, query_ms,
                   remove_ms, quit_ms, grown);
    /* The new file reached its size: its rotation was asked for too */
    g_assert_cmpuint(grown, >=, 8192);
    /* What the files hold is the guest's stream */
    kept = log_kept(s->log, 2);
    assert_flood_kept(kept, "w1");
    g_string_free(kept, true);
    kept = log_kept(second, 2);
    assert_flood_kept(kept, "w1");
}

/*
 * 8. Bad input on the command line: exit status 1, a message naming the
 * option (and the path), and the files already there byte-identical.
 */
typedef struct BadInput {
    const char *chardev;    /* @PATH@, @DIR@, @LONG@, @DEEP@ are replaced */
    const char *message;    /* @PATH@, @DIR@, @LONG@, @DEEP@ are replaced */
    bool unprivileged;      /* run QEMU as an unprivileged user */
} BadInput;

static const BadInput bad_inputs[] = {
    { "file,path=@PATH@,rotate=-1", "rotate for '@PATH@' must be 1 to 255, "
      "not -1" },
    { "file,path=@PATH@,rotate=256", "rotate for '@PATH@' must be 1 to 255, "
      "not 256" },
    { "file,path=@PATH@,rotate=two", "Parameter 'rotate' expects a number" },
    { "file,path=@PATH@,rotate=2,size=100", "size for '@PATH@' must be 4K "
      "to 1T" },
    { "file,path=@PATH@,rotate=2,size=4095", "size for '@PATH@' must be 4K "
      "to 1T" },
    { "file,path=@PATH@,rotate=2,size=8E", "size for '@PATH@' must be 4K to "
      "1T" },
    { "file,path=@PATH@,rotate=2,size=-1", "'size'" },
    { "file,path=@PATH@,rotate=2,size=1Q", "'size'" },
    { "file,path=@PATH@,size=8K", "size for '@PATH@' requires rotate" },
    { "pty,logrotate=2", "logrotate requires logfile" },
    { "pty,logsize=8K", "logsize requires logfile" },
    { "pty,logfile=@PATH@,logrotate=256", "logrotate for '@PATH@' must be 1 "
      "to 255, not 256" },
    { "pty,logfile=@PATH@,logrotate=2,logsize=1K", "logsize for '@PATH@' "
      "must be 4K to 1T" },
    { "pty,logfile=@PATH@,logsize=8K", "logsize for '@PATH@' requires "
      "logrotate" },
    /* An option of the file backend, which another one would ignore */
    { "null,rotate=2", "rotate" },
    { "pty,rotate=3", "rotate" },
    /* Only a regular file that QEMU opens by name */
    { "file,path=@DIR@/missing/console.log,rotate=2", "rotate needs a "
      "regular file that QEMU opens by name, not "
      "'@DIR@/missing/console.log': No such file or directory" },
    { "file,path=@DIR@/dir,rotate=2", "rotate needs a regular file that QEMU "
      "opens by name, not '@DIR@/dir'" },
    { "file,path=@DIR@/link,rotate=2", "rotate needs a regular file that "
      "QEMU opens by name, not '@DIR@/link'" },
    { "file,path=@DIR@/fifo,rotate=2", "rotate needs a regular file that "
      "QEMU opens by name, not '@DIR@/fifo'" },
    { "file,path=/dev/null,rotate=2", "rotate needs a regular file that QEMU "
      "opens by name, not '/dev/null'" },
    { "file,path=/dev/fdset/1,rotate=2", "rotate needs a regular file that "
      "QEMU opens by name, not '/dev/fdset/1'" },
    { "pty,logfile=/dev/fdset/1,logrotate=2", "logrotate needs a regular "
      "file that QEMU opens by name, not '/dev/fdset/1'" },
    { "pty,logfile=@DIR@/link,logrotate=1", "logrotate needs a regular file "
      "that QEMU opens by name, not '@DIR@/link'" },
    /* The rename at start fails: a directory where PATH.0 goes */
    { "file,path=@PATH@,rotate=2", "rotate: cannot rename '@PATH@.0' to "
      "'@PATH@.1': Is a directory" },
    /*
     * Generation names that cannot exist: PATH.k beyond NAME_MAX ...
     * (append: no rename at start would fail on them)
     */
    { "file,path=@LONG@,rotate=10,append=on", "rotate for '@LONG@': the "
      "name '@LONG@.9' would be too long" },
    { "file,path=@LONG@,rotate=10", "rotate for '@LONG@': the name "
      "'@LONG@.9' would be too long" },
    { "pty,logfile=@LONG@,logrotate=100,logappend=on", "logrotate for "
      "'@LONG@': the name '@LONG@.99' would be too long" },
    /* ... or beyond PATH_MAX */
    { "file,path=@DEEP@,rotate=1,append=on", "rotate for '@DEEP@': the name "
      "'@DEEP@.0' would be too long" },
    { "file,path=@DEEP@,rotate=1", "rotate for '@DEEP@': the name "
      "'@DEEP@.0' would be too long" },
    /* A directory where QEMU may not create and rename files */
    { "file,path=@DIR@/ro/console.log,rotate=2", "rotate: cannot rename "
      "'@DIR@/ro/console.log' to '@DIR@/ro/console.log.0': Permission "
      "denied", true },
};

/* Write @text to @path in place: no temporary file with a longer name */
static void put_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(write(fd, text, strlen(text)), ==, strlen(text));
    close(fd);
}

static char *replace_all(const char *text, const char *token,
                         const char *value)
{
    g_auto(GStrv) parts = g_strsplit(text, token, -1);

    return g_strjoinv(value, parts);
}

/* @text with @PATH@, @DIR@, @LONG@ and @DEEP@ replaced */
static char *expand(const char *text, const Scratch *s, const char *longest,
                    const char *deep)
{
    g_autofree char *a = replace_all(text, "@PATH@", s->log);
    g_autofree char *b = replace_all(a, "@DIR@", s->dir);
    g_autofree char *c = replace_all(b, "@LONG@", longest);

    return replace_all(c, "@DEEP@", deep);
}

/*
 * A file whose absolute path is PATH_MAX - 2 bytes long, in directories
 * of NAME_MAX-long names: it can be opened, but PATH.0 is one byte too
 * long.  Made with relative paths, as an absolute one is too long for
 * mkdir().
 */
static char *make_deep_file(const char *dir)
{
    g_autoptr(GString) path = g_string_new(dir);
    g_autofree char *cwd = g_get_current_dir();
    g_autofree char *component = g_strnfill(NAME_MAX, 'd');
    g_autofree char *last = NULL;

    g_assert_cmpint(chdir(dir), ==, 0);
    /* The last name short enough for a suffix: only the path is too long */
    while (PATH_MAX - 2 - path->len - 1 > 200) {
        size_t len = MIN(NAME_MAX, PATH_MAX - 2 - path->len - 1 - 101);

        component[len] = '\0';
        g_assert_cmpint(mkdir(component, 0755), ==, 0);
        g_assert_cmpint(chdir(component), ==, 0);
        g_string_append_printf(path, "/%s", component);
    }
    last = g_strnfill(PATH_MAX - 2 - path->len - 1, 'f');
    g_assert(g_file_set_contents(last, "deep\n", -1, NULL));
    g_string_append_printf(path, "/%s", last);
    g_assert_cmpint(chdir(cwd), ==, 0);
    g_assert_cmpuint(path->len, ==, PATH_MAX - 2);
    return g_string_free(g_steal_pointer(&path), false);
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
    g_autofree char *fifo = g_build_filename(s->dir, "fifo", NULL);
    g_autofree char *errors = g_build_filename(s->dir, "stderr", NULL);
    g_autofree char *long_name = g_strnfill(NAME_MAX - 1, 'l');
    g_autofree char *longest = g_build_filename(s->dir, long_name, NULL);
    g_autofree char *deep = make_deep_file(s->dir);
    int i;

    g_assert(g_file_set_contents(s->log, "current\n", -1, NULL));
    g_assert(g_file_set_contents(g0, "previous\n", -1, NULL));
    put_file(longest, "long\n");
    g_assert_cmpint(mkdir(g1, 0755), ==, 0);
    g_assert_cmpint(mkdir(dir, 0755), ==, 0);
    g_assert_cmpint(symlink(s->log, link), ==, 0);
    g_assert_cmpint(mkdir(ro, 0555), ==, 0);
    g_assert_cmpint(mkfifo(fifo, 0644), ==, 0);
    g_assert(g_file_set_contents(ro_log, "read-only dir\n", -1, NULL));
    g_assert_cmpint(chmod(ro_log, 0666), ==, 0);

    /* An unprivileged QEMU must reach the files to fail as expected. */
    g_assert_cmpint(chmod(s->dir, 0755), ==, 0);
    for (i = 0; i < ARRAY_SIZE(bad_inputs); i++) {
        g_autofree char *chardev = expand(bad_inputs[i].chardev, s, longest,
                                          deep);
        g_autofree char *want = expand(bad_inputs[i].message, s, longest,
                                       deep);
        const char *unprivileged =
            bad_inputs[i].unprivileged && geteuid() == 0
            ? "setpriv --reuid=65534 --regid=65534 --clear-groups " : "";
        /* Accepted by mistake, QEMU would run until killed. */
        g_autofree char *cmd = g_strdup_printf(
            "exec timeout -s KILL 20 %s%s -M none -nodefaults -display none "
            "-chardev %s,id=bad >/dev/null 2>%s",
            unprivileged, getenv("QTEST_QEMU_BINARY"), chardev, errors);
        g_autofree char *message = NULL;
        g_autofree char *current = NULL;
        g_autofree char *previous = NULL;
        g_autofree char *ro_text = NULL;
        g_autofree char *long_text = NULL;
        g_autofree char *deep_text = NULL;
        int status;

        if (bad_inputs[i].unprivileged && geteuid() != 0) {
            g_test_message("-chardev %s: needs root", chardev);
            continue;
        }
        status = wait_status(spawn_shell(cmd));
        message = slurp(errors);
        g_test_message("-chardev %.60s: %.300s", chardev, message);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 1) {
            g_error("-chardev %s: QEMU did not refuse it (status %d): %s",
                    chardev, status, message);
        }
        if (!strstr(message, want)) {
            g_error("'%s' lacks '%s'", message, want);
        }
        current = slurp(s->log);
        previous = slurp(g0);
        ro_text = slurp(ro_log);
        long_text = slurp(longest);
        deep_text = slurp(deep);
        g_assert_cmpstr(current, ==, "current\n");
        g_assert_cmpstr(previous, ==, "previous\n");
        g_assert_cmpstr(ro_text, ==, "read-only dir\n");
        g_assert_cmpstr(long_text, ==, "long\n");
        g_assert_cmpstr(deep_text, ==, "deep\n");
        g_assert(g_file_test(g1, G_FILE_TEST_IS_DIR));
        g_assert_false(g_file_test(ro_log0, G_FILE_TEST_EXISTS));
    }
}

static void assert_error_desc(QDict *error, const char *want)
{
    const char *desc = qdict_get_str(error, "desc");

    if (!strstr(desc, want)) {
        g_error("'%s' lacks '%s'", desc, want);
    }
    qobject_unref(error);
}

/* The same through QMP chardev-add, and chardev-rotate's errors. */
static void test_bad_input_qmp(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *g0 = gen_name(s, 0);
    g_autofree char *g1 = gen_name(s, 1);
    g_autofree char *missing = g_build_filename(s->dir, "missing", "log",
                                                NULL);
    g_autofree char *long_name = g_strnfill(NAME_MAX - 1, 'l');
    g_autofree char *longest = g_build_filename(s->dir, long_name, NULL);
    static const struct {
        const char *data;
        const char *message;
    } cases[] = {
        { "'out': %s, 'rotate': -1", "rotate for '@PATH@' must be 1 to 255, "
          "not -1" },
        { "'out': %s, 'rotate': 256", "rotate for '@PATH@' must be 1 to 255, "
          "not 256" },
        { "'out': %s, 'rotate': 2, 'size': 100", "size for '@PATH@' must be "
          "4K to 1T" },
        { "'out': %s, 'size': 8192", "size for '@PATH@' requires rotate" },
        { "'out': %s, 'rotate': 0, 'size': 8192", "size for '@PATH@' "
          "requires rotate" },
        { "'out': %s, 'rotate': 2", "rotate: cannot rename '@PATH@.0' to "
          "'@PATH@.1': Is a directory" },
        { "'out': %s, 'logfile': %s, 'logrotate': 256",
          "logrotate for '@PATH@' must be 1 to 255, not 256" },
        { "'out': %s, 'logfile': %s, 'logsize': 8192",
          "logsize for '@PATH@' requires logrotate" },
        { "'out': %s, 'logrotate': 2", "logrotate requires logfile" },
        { "'out': %s, 'logsize': 8192", "logsize requires logfile" },
        { "'out': '/dev/fdset/1', 'rotate': 2", "rotate needs a regular file "
          "that QEMU opens by name, not '/dev/fdset/1'" },
    };
    QTestState *qts = qtest_init("-M none -nodefaults "
                                 "-chardev null,id=null "
                                 "-chardev file,id=plain,path=/dev/null");
    g_autofree char *want = NULL;
    int i;

    g_assert(g_file_set_contents(s->log, "current\n", -1, NULL));
    g_assert(g_file_set_contents(g0, "previous\n", -1, NULL));
    put_file(longest, "long\n");
    g_assert_cmpint(mkdir(g1, 0755), ==, 0);

    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        g_autofree char *fmt = g_strdup_printf(
            "{'execute': 'chardev-add', 'arguments': {'id': 'bad',"
            " 'backend': {'type': 'file', 'data': {%s}}}}", cases[i].data);
        QDict *error = qtest_qmp_assert_failure_ref(qts, fmt, s->log,
                                                    s->log);
        const char *desc = qdict_get_str(error, "desc");
        g_autofree char *expected = replace_all(cases[i].message, "@PATH@",
                                                s->log);
        g_autofree char *current = slurp(s->log);
        g_autofree char *previous = slurp(g0);

        g_test_message("chardev-add {%s}: %s", cases[i].data, desc);
        if (!strstr(desc, expected)) {
            g_error("'%s' lacks '%s'", desc, expected);
        }
        qobject_unref(error);
        g_assert_cmpstr(current, ==, "current\n");
        g_assert_cmpstr(previous, ==, "previous\n");
    }
    /* Generation names that cannot exist */
    want = g_strdup_printf("rotate for '%s': the name '%s.9' would be too "
                           "long", longest, longest);
    assert_error_desc(qtest_qmp_assert_failure_ref(qts,
        "{'execute': 'chardev-add', 'arguments': {'id': 'bad',"
        " 'backend': {'type': 'file', 'data': {'out': %s,"
        " 'append': true, 'rotate': 10}}}}", longest), want);
    g_clear_pointer(&want, g_free);
    want = g_strdup_printf("rotate needs a regular file that QEMU opens by "
                           "name, not '%s'", missing);
    assert_error_desc(qtest_qmp_assert_failure_ref(qts,
        "{'execute': 'chardev-add', 'arguments': {'id': 'bad',"
        " 'backend': {'type': 'file', 'data': {'out': %s,"
        " 'rotate': 2}}}}", missing), want);
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
        g_autofree char *log_text = NULL;
        g_autofree char *log0_text = NULL;
        int attempt;

        g_assert(g_file_set_contents(logfile, "kept\n", -1, NULL));
        for (attempt = 0; attempt < 3; attempt++) {
            assert_error_desc(qtest_qmp_assert_failure_ref(qts,
                "{'execute': 'chardev-add', 'arguments': {'id': 'bad',"
                " 'backend': {'type': 'file', 'data': {'out': %s,"
                " 'logfile': %s, 'logrotate': 2}}}}", missing, logfile),
                missing);
        }
        log0_text = slurp(logfile0);
        log_text = slurp(logfile);
        g_assert_cmpstr(log0_text, ==, "kept\n");
        g_assert_cmpstr(log_text, ==, "");
        g_assert_false(g_file_test(logfile1, G_FILE_TEST_EXISTS));
    }
    /* Members a backend does not have: chardev-add and chardev-change */
    assert_error_desc(qtest_qmp_assert_failure_ref(qts,
        "{'execute': 'chardev-add', 'arguments': {'id': 'bad',"
        " 'backend': {'type': 'null', 'data': {'rotate': 2}}}}"),
        "'backend.data.rotate' is unexpected");
    assert_error_desc(qtest_qmp_assert_failure_ref(qts,
        "{'execute': 'chardev-change', 'arguments': {'id': 'null',"
        " 'backend': {'type': 'pty', 'data': {'size': 8192}}}}"),
        "'backend.data.size' is unexpected");
    /* chardev-rotate, on chardevs that keep no previous files */
    assert_error_desc(qtest_qmp_assert_failure_ref(qts,
        "{'execute': 'chardev-rotate', 'arguments': {'id': 'nosuch'}}"),
        "Chardev 'nosuch' not found");
    assert_error_desc(qtest_qmp_assert_failure_ref(qts,
        "{'execute': 'chardev-rotate', 'arguments': {'id': 'plain'}}"),
        "Chardev 'plain' keeps no previous files: it has neither rotate "
        "nor logrotate");
    /* No command to open the files again, in QMP or HMP */
    assert_error_desc(qtest_qmp_assert_failure_ref(qts,
        "{'execute': 'chardev-reopen', 'arguments': {'id': 'plain'}}"),
        "The command chardev-reopen has not been found");
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
    qtest_add_func("console-log/faults/symlinks-planted",
                   test_symlinks_planted);
    qtest_add_func("console-log/faults/permissions", test_permissions_kept);
    qtest_add_func("console-log/faults/permissions-carried",
                   test_permissions_carried);
    qtest_add_func("console-log/faults/migration",
                   test_migration_shared_storage);
    qtest_add_func("console-log/faults/migration-source-rotated",
                   test_migration_source_rotated);
    qtest_add_func("console-log/faults/migration-destination-while-rotating",
                   test_migration_destination_while_rotating);
    qtest_add_func("console-log/faults/close-never-waits",
                   test_close_never_waits);

    return g_test_run();
}
