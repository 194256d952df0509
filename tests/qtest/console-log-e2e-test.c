/*
 * Guest console logs across restarts, with a real Linux guest under TCG
 *
 * The scenario of cloud operators: "nova reboot" and libvirt's shutdown
 * and start run a new QEMU process on the same console log.  The guest is
 * a Linux kernel with a busybox initramfs whose init prints a boot id from
 * the kernel command line, then powers off, reboots, or floods lines.
 *
 * CONSOLE_LOG_GUEST_DIR names the directory with vmlinuz and
 * initramfs.gz; without it the tests are skipped.  QTEST_BASELINE_BINARY,
 * if set, is a QEMU built without the rotation patches, to show upstream's
 * behaviour side by side.
 *
 * Copyright (c) 2026 The QEMU console log contributors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "qobject/qdict.h"
#include "console-log-guest.h"
#include "console-log-files.h"

/*
 * logtimestamp=on: "2026-12-01T14:55:23.095822Z " (GLib's
 * g_date_time_format_iso8601(); the microseconds are left out when they
 * are 0)
 */
#define STAMP_RE \
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{6})?Z "

/* One nova-style boot: a new QEMU process, the guest powers off. */
static void boot_once(const char *binary_env, const char *serial, int id)
{
    g_autofree char *cmdline = g_strdup_printf("bootid=b%d mode=poweroff",
                                               id);

    wait_powered_off(start_guest(binary_env, serial, cmdline, ""));
}

/* The boot ids a log holds, in order, e.g. "b1 b2". */
static char *boots_in(const char *contents)
{
    g_autoptr(GString) ids = g_string_new("");
    const char *p = contents ? contents : "";
    const char *tag = "console-log-guest: boot ";

    while ((p = strstr(p, tag))) {
        p += strlen(tag);
        g_string_append_printf(ids, "%s%.*s", ids->len ? " " : "",
                               (int)strcspn(p, " \r\n"), p);
    }
    return g_strdup(ids->str);
}

/* The generation holds these boots, each with its whole kernel log. */
static void assert_holds(const Scratch *s, int k, const char *boots)
{
    g_autofree char *contents = slurp_gen(s, k);
    g_autofree char *found = boots_in(contents);
    g_auto(GStrv) ids = g_strsplit(boots, " ", -1);
    int n = g_strv_length(ids);

    g_assert_nonnull(contents);
    g_assert_cmpstr(found, ==, boots);
    g_assert_cmpint(count_of(contents, "Linux version "), ==, n);
    g_assert_cmpint(count_of(contents, "console-log-guest: powering off"),
                    ==, n);
}

static off_t file_size(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 ? st.st_size : 0;
}

static bool gen_exists(const Scratch *s, int k)
{
    g_autofree char *contents = slurp_gen(s, k);

    return contents != NULL;
}

static void nova_reboots(const Scratch *s, const char *binary_env,
                         const char *serial)
{
    int boot;

    for (boot = 1; boot <= 3; boot++) {
        boot_once(binary_env, serial, boot);
    }
}

/* Upstream QEMU: each new process truncates the log. */
static void test_nova_baseline(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *serial = g_strdup_printf("file,path=%s", s->log);

    if (!getenv("QTEST_BASELINE_BINARY")) {
        g_test_skip("QTEST_BASELINE_BINARY is not set");
        return;
    }
    nova_reboots(s, "QTEST_BASELINE_BINARY", serial);
    assert_holds(s, -1, "b3");
    g_assert_false(gen_exists(s, 0));
}

/* Without the new options, the patched QEMU behaves the same. */
static void test_nova_default(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *serial = g_strdup_printf("file,path=%s", s->log);

    nova_reboots(s, "QTEST_QEMU_BINARY", serial);
    assert_holds(s, -1, "b3");
    g_assert_false(gen_exists(s, 0));
}

static void test_nova_append(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *serial = g_strdup_printf("file,path=%s,append=on",
                                              s->log);

    nova_reboots(s, "QTEST_QEMU_BINARY", serial);
    assert_holds(s, -1, "b1 b2 b3");
    g_assert_false(gen_exists(s, 0));
}

/*
 * Every line of @contents starts with a logtimestamp stamp, and the
 * stamps never go back, from *@previous on (updated).  Returns the number
 * of lines.
 */
static int assert_stamped(const char *contents, char **previous)
{
    g_autoptr(GRegex) stamp = g_regex_new(STAMP_RE, 0, 0, NULL);
    g_auto(GStrv) lines = g_strsplit(contents, "\n", -1);
    int i;

    g_assert(g_str_has_suffix(contents, "\n"));
    for (i = 0; lines[i + 1]; i++) {
        g_autoptr(GMatchInfo) match = NULL;
        g_autofree char *time = NULL;

        if (g_str_has_prefix(lines[i], "[qemu: ") &&
            g_str_has_suffix(lines[i], " bytes of output lost here]")) {
            /* A rotation fell behind: not a line of the guest's */
            continue;
        }
        if (!g_regex_match(stamp, lines[i], 0, &match)) {
            g_error("line %d has no stamp: '%.80s'", i, lines[i]);
        }
        /* Without the trailing "Z ": ISO 8601 in UTC sorts as text */
        time = g_match_info_fetch(match, 0);
        time[strlen(time) - 2] = '\0';
        if (strcmp(*previous, time) > 0) {
            g_error("line %d: stamp %s before %s", i, time, *previous);
        }
        g_free(*previous);
        *previous = g_steal_pointer(&time);
        /* What an operator greps for */
        if (strstr(lines[i], "Linux version") ||
            strstr(lines[i], "console-log-guest:")) {
            g_test_message("%.120s", lines[i]);
        }
    }
    return i;
}

/*
 * A libvirt-style pty with logfile=,logappend=on,logtimestamp=on across
 * three QEMU processes: the three boots in one file, every line stamped,
 * the stamps in order across the restarts.
 */
static void test_nova_append_stamped(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *serial = g_strdup_printf(
        "pty,logfile=%s,logappend=on,logtimestamp=on", s->log);
    g_autofree char *contents = NULL;
    g_autofree char *previous = g_strdup("");

    nova_reboots(s, "QTEST_QEMU_BINARY", serial);
    assert_holds(s, -1, "b1 b2 b3");
    contents = slurp_gen(s, -1);
    g_assert_cmpint(assert_stamped(contents, &previous), >, 3 * 20);
    g_assert_false(gen_exists(s, 0));
}

/*
 * logrotate=2 and logtimestamp=on across three QEMU processes: one boot
 * per generation, every line stamped, the stamps in order from the
 * oldest generation to the newest.
 */
static void test_nova_rotate_stamped(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *serial = g_strdup_printf(
        "pty,logfile=%s,logrotate=2,logtimestamp=on", s->log);
    g_autofree char *previous = g_strdup("");
    int k;

    nova_reboots(s, "QTEST_QEMU_BINARY", serial);
    assert_holds(s, 1, "b1");
    assert_holds(s, 0, "b2");
    assert_holds(s, -1, "b3");
    g_assert_false(gen_exists(s, 2));
    for (k = 1; k >= -1; k--) {
        g_autofree char *contents = slurp_gen(s, k);

        g_assert_cmpint(assert_stamped(contents, &previous), >, 20);
    }
}

/*
 * logsize with logtimestamp=on: the stamps count in the size, the files
 * switch where the chardev is, mid-line or not, and read oldest first,
 * every line of the boot is stamped once.
 */
static void test_stamped_size(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *serial = g_strdup_printf(
        "pty,logfile=%s,logrotate=20,logsize=8K,logtimestamp=on", s->log);
    g_autofree char *previous = g_strdup("");
    g_autofree char *gen0 = g_strdup_printf("%s.0", s->log);
    g_autoptr(GString) kept = NULL;

    boot_once("QTEST_QEMU_BINARY", serial, 1);
    /* Nothing aged out: the whole boot is kept */
    assert_log_bounded(s->log, 20, 8192);
    g_assert_true(is_regular(gen0));
    kept = log_kept(s->log, 20);
    g_assert_cmpint(assert_stamped(kept->str, &previous), >, 100);
    g_assert_nonnull(strstr(kept->str, "console-log-guest: powering off b1"));
}

static void test_nova_rotate(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *serial = g_strdup_printf("file,path=%s,rotate=2",
                                              s->log);

    nova_reboots(s, "QTEST_QEMU_BINARY", serial);
    assert_holds(s, -1, "b3");
    assert_holds(s, 0, "b2");
    assert_holds(s, 1, "b1");
    g_assert_false(gen_exists(s, 2));
}

/* libvirt-style shutdown and start of a pty chardev with a logfile. */
static void test_libvirt_pty_logfile(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *serial = g_strdup_printf("pty,logfile=%s,logrotate=1",
                                              s->log);

    nova_reboots(s, "QTEST_QEMU_BINARY", serial);
    assert_holds(s, -1, "b3");
    assert_holds(s, 0, "b2");
    g_assert_false(gen_exists(s, 1));
}

/* A reboot inside the guest is the same process: one file, both boots. */
static void test_guest_reboot(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *serial = g_strdup_printf(
        "file,path=%s,rotate=2,size=1M", s->log);
    QTestState *qts = start_guest("QTEST_QEMU_BINARY", serial,
                                  "bootid=r1 mode=reboot", "");
    gint64 deadline = g_get_monotonic_time() + 2 * BOOT_TIMEOUT_US;
    g_autofree char *contents = NULL;

    for (;;) {
        g_free(contents);
        contents = slurp(s->log);
        if (count_of(contents, "console-log-guest: rebooting r1") >= 2) {
            break;
        }
        g_assert(g_get_monotonic_time() < deadline);
        g_usleep(100 * 1000);
    }
    qtest_quit(qts);
    contents = slurp(s->log);
    g_assert_cmpint(count_of(contents, "Linux version "), >=, 2);
    g_assert_false(gen_exists(s, 0));
}

/*
 * The guest writes 5 MB through a virtio-serial port into a file with
 * rotate=3,size=1M: no file beyond 2 MiB, 5 MiB in all, and the lines
 * kept are the end of the guest's stream, but for what query-chardev
 * counts as dropped.
 */
static void test_flood_bounded(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *console = g_build_filename(s->dir, "serial.log", NULL);
    g_autofree char *flood = g_strdup_printf("file,path=%s,rotate=3,size=1M",
                                             s->log);
    const int lines = 80000;    /* 65 bytes each: 5.2 MB */
    gint64 deadline = g_get_monotonic_time() + BOOT_TIMEOUT_US;
    QTestState *qts = start_flood("QTEST_QEMU_BINARY", console, flood, "f1",
                                  lines, "");
    g_autoptr(GString) kept = NULL;
    FloodKept found;
    int64_t dropped;

    while (!flood_done(console, "f1", deadline)) {
        g_usleep(100 * 1000);
    }
    dropped = query_dropped(qts, "flood");
    qtest_quit(qts);
    assert_log_bounded(s->log, 3, 1024 * 1024);
    kept = log_kept(s->log, 3);
    g_assert_cmpuint(kept->len, >=, 2 * 1024 * 1024);
    found = assert_flood_kept(kept, "f1");
    assert_flood_accounted(&found, "f1", lines, dropped, false);
    g_assert_cmpuint(found.start, >, 0);
}

/*
 * chardev-rotate while the guest writes: the generations, read oldest
 * first, hold exactly the guest's stream; a command that finds the file
 * empty, or a rotation under way, makes no generation.
 */
static void test_runtime_rotate_under_flood(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *console = g_build_filename(s->dir, "serial.log", NULL);
    g_autofree char *flood = g_strdup_printf("file,path=%s,rotate=64",
                                             s->log);
    const int lines = 100000;
    QTestState *qts = start_flood("QTEST_QEMU_BINARY", console, flood, "r2",
                                  lines, "");
    gint64 deadline = g_get_monotonic_time() + BOOT_TIMEOUT_US;
    g_autoptr(GString) stream = g_string_new("");
    int rotations = 0, generations = 0, k;
    int64_t dropped;
    FloodKept found;

    while (!flood_done(console, "r2", deadline)) {
        /*
         * Stay below 64 generations: nothing may age out here.  An empty
         * file is not rotated: wait for the guest to write.
         */
        if (rotations < 60 && file_size(s->log) > 0) {
            qtest_qmp_assert_success(qts, "{'execute': 'chardev-rotate',"
                                     " 'arguments': {'id': 'flood'}}");
            rotations++;
        }
        g_usleep(50 * 1000);
    }
    wait_flood_written(s->log, 64, "r2", lines);
    dropped = query_dropped(qts, "flood");
    qtest_quit(qts);

    /* Commands that found the file empty made no generation. */
    for (k = 63; k >= 0; k--) {
        g_autofree char *name = g_strdup_printf("%s.%d", s->log, k);

        if (g_file_test(name, G_FILE_TEST_EXISTS)) {
            generations = MAX(generations, k + 1);
        }
    }
    g_test_message("%d chardev-rotate during the flood, %d generations",
                   rotations, generations);
    g_assert_cmpint(generations, >=, 10);
    g_assert_cmpint(generations, <=, rotations);
    for (k = generations - 1; k >= -1; k--) {
        g_autofree char *name = k < 0 ? g_strdup(s->log)
                                      : g_strdup_printf("%s.%d", s->log, k);

        append_file(stream, name);
    }
    /* Without size, nothing is ever dropped */
    g_assert_cmpint(dropped, ==, 0);
    found = assert_flood_kept(stream, "r2");
    assert_flood_accounted(&found, "r2", lines, dropped, true);
}

/* The number of the last whole flood line in @path, or -1 */
static int last_flood_line(const char *path)
{
    g_autofree char *contents = slurp(path);
    char *end = contents ? strrchr(contents, '\n') : NULL;
    char *start;

    if (!end) {
        return -1;
    }
    *end = '\0';
    start = strrchr(contents, '\n');
    return atoi(start ? start + 1 : contents);
}

/*
 * Run the real logrotate with copytruncate on @logs (paths separated by
 * spaces, the first one checked) every 200 ms until the guest's flood is
 * done, or it reached line @stop (so that its end is not lost in
 * copytruncate's window).  Returns how many times it rotated.
 */
static int logrotate_during_flood(const Scratch *s, const char *console,
                                  const char *id, const char *logs, int stop)
{
    g_auto(GStrv) paths = g_strsplit(logs, " ", -1);
    g_autofree char *conf = g_build_filename(s->dir, "logrotate.conf", NULL);
    g_autofree char *state = g_build_filename(s->dir, "logrotate.state",
                                              NULL);
    g_autofree char *text = g_strdup_printf("%s {\n  rotate 1000\n"
                                            "  copytruncate\n  nocompress\n"
                                            "}\n", logs);
    gint64 deadline = g_get_monotonic_time() + BOOT_TIMEOUT_US;
    int runs = 0;

    g_assert(g_file_set_contents(conf, text, -1, NULL));
    while (!flood_done(console, id, deadline)) {
        g_autofree char *cmd = g_strdup_printf(
            "/usr/sbin/logrotate -f -s %s %s", state, conf);

        if (stop < 0 || last_flood_line(paths[0]) < stop) {
            g_assert_cmpint(system(cmd), ==, 0);
            runs++;
        }
        g_usleep(200 * 1000);
    }
    return runs;
}

/* logrotate's rotated files of @log, oldest first, then @log itself. */
static GString *logrotated_stream(const char *log, int runs)
{
    GString *stream = g_string_new("");
    int k;

    for (k = runs; k >= 1; k--) {
        g_autofree char *name = g_strdup_printf("%s.%d", log, k);

        append_file(stream, name);
    }
    append_file(stream, log);
    return stream;
}

/*
 * The files logrotate made of @log with copytruncate, and @log: each is
 * a contiguous part of the flood of guest @id, without NUL bytes, each
 * after the one before, from the first line to the last.  Returns the
 * bytes lost between the copies and the truncations.
 */
static uint64_t assert_copytruncated(const char *log, int runs,
                                     const char *id, int lines)
{
    uint64_t total = flood_bytes(id, lines), end = 0, kept = 0;
    bool first = true;
    int k;

    for (k = runs; k >= 0; k--) {
        g_autofree char *name = k ? g_strdup_printf("%s.%d", log, k)
                                  : g_strdup(log);
        g_autoptr(GString) piece = g_string_new("");
        FloodKept found;

        append_file(piece, name);
        if (!piece->len) {
            continue;
        }
        if (!k && piece->len < total - end &&
            !memchr(piece->str, '\n', piece->len - 1)) {
            /* What came after the last truncation: the last line's end */
            g_autofree char *tail = g_strdup_printf(" %s flood line", id);

            g_assert_null(memchr(piece->str, '\0', piece->len));
            g_assert_null(strstr(piece->str, tail));
            g_assert_cmpint(piece->str[piece->len - 1], ==, '\n');
            found.start = total - piece->len;
            found.end = total;
            found.noted = 0;
        } else {
            found = assert_flood_kept(piece, id);
        }
        g_assert_cmpuint(found.noted, ==, 0);
        if (first) {
            g_assert_cmpuint(found.start, ==, 0);
        }
        if (found.start < end) {
            g_error("%s: bytes %" PRIu64 " to %" PRIu64 " of the flood, "
                    "before the end of the file before it (%" PRIu64 ")",
                    name, found.start, found.end, end);
        }
        end = found.end;
        kept += piece->len;
        first = false;
    }
    g_assert_cmpuint(end, ==, total);
    return total - kept;
}

/*
 * logrotate's copytruncate, run again and again while the guest floods,
 * is how a rotator outside QEMU works with it: QEMU has no command to
 * open its files again.  With append=on, and logappend=on for a logfile,
 * QEMU writes on at the start of a truncated file: no hole of NUL bytes,
 * every file a contiguous part of the guest's stream, in order, to the
 * last line.  What the guest writes between logrotate's copy and its
 * truncation is lost: copytruncate's own window, reported.
 */
static void test_logrotate_copytruncate_append(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *console = g_build_filename(s->dir, "serial.log", NULL);
    g_autofree char *logfile = g_build_filename(s->dir, "flood.log", NULL);
    g_autofree char *flood = g_strdup_printf(
        "file,path=%s,append=on,logfile=%s,logappend=on", s->log, logfile);
    g_autofree char *logs = g_strdup_printf("%s %s", s->log, logfile);
    const int lines = 100000;
    QTestState *qts;
    QDict *error;
    int runs;

    if (!g_file_test("/usr/sbin/logrotate", G_FILE_TEST_IS_EXECUTABLE)) {
        g_test_skip("logrotate is not installed");
        return;
    }
    qts = start_flood("QTEST_QEMU_BINARY", console, flood, "t1", lines, "");
    /* No command to open the files again: copytruncate is the way */
    error = qtest_qmp_assert_failure_ref(qts,
        "{'execute': 'chardev-reopen', 'arguments': {'id': 'flood'}}");
    g_assert_cmpstr(qdict_get_str(error, "class"), ==, "CommandNotFound");
    qobject_unref(error);
    runs = logrotate_during_flood(s, console, "t1", logs, lines * 9 / 10);
    wait_flood_written(s->log, 1, "t1", lines);
    wait_flood_written(logfile, 1, "t1", lines);
    qtest_quit(qts);

    g_test_message("copytruncate with append=on: %d rotations; %" PRIu64
                   " bytes of the output lost, %" PRIu64 " of the logfile, "
                   "of %" PRIu64, runs,
                   assert_copytruncated(s->log, runs, "t1", lines),
                   assert_copytruncated(logfile, runs, "t1", lines),
                   flood_bytes("t1", lines));
    g_assert_cmpint(runs, >=, 3);
}

/* Lines "%08d ID flood line" found in @stream, and NUL bytes. */
static void count_flood(const GString *stream, const char *id, int *found,
                        size_t *nuls)
{
    g_autofree char *tag = g_strdup_printf(" %s flood line", id);
    const char *p = stream->str, *end = stream->str + stream->len;

    *found = 0;
    *nuls = 0;
    for (; p < end; p++) {
        if (*p == '\0') {
            (*nuls)++;
        } else if (p + 8 + strlen(tag) <= end &&
                   memcmp(p + 8, tag, strlen(tag)) == 0 &&
                   (p == stream->str || p[-1] == '\n' || p[-1] == '\0')) {
            (*found)++;
        }
    }
}

/*
 * For the documentation, not a judgement: copytruncate against upstream's
 * plain file backend (no append) and against append=on.  The numbers are
 * reported; the test checks only that rotation really ran.
 */
static void test_logrotate_copytruncate_report(void)
{
    static const struct {
        const char *binary_env;
        const char *opts;
    } setups[] = {
        { "QTEST_BASELINE_BINARY", "" },
        { "QTEST_QEMU_BINARY", ",append=on" },
    };
    const int lines = 100000;
    int i;

    if (!g_file_test("/usr/sbin/logrotate", G_FILE_TEST_IS_EXECUTABLE)) {
        g_test_skip("logrotate is not installed");
        return;
    }
    for (i = 0; i < ARRAY_SIZE(setups); i++) {
        g_autoptr(Scratch) s = scratch_new();
        g_autofree char *console = g_build_filename(s->dir, "serial.log",
                                                    NULL);
        g_autofree char *flood = g_strdup_printf("file,path=%s%s", s->log,
                                                 setups[i].opts);
        g_autoptr(GString) stream = NULL;
        QTestState *qts;
        size_t nuls;
        int runs, found;

        if (!getenv(setups[i].binary_env)) {
            continue;
        }
        qts = start_flood(setups[i].binary_env, console, flood, "c1", lines,
                          "");
        runs = logrotate_during_flood(s, console, "c1", s->log, -1);
        qtest_quit(qts);
        stream = logrotated_stream(s->log, runs);
        count_flood(stream, "c1", &found, &nuls);
        g_test_message("copytruncate, %s%s: %d rotations, %d of %d lines "
                       "kept, %zu NUL bytes",
                       i ? "patched QEMU" : "upstream QEMU",
                       setups[i].opts, runs, found, lines, nuls);
        g_assert_cmpint(runs, >=, 3);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    if (!console_log_guest_ready("console-log/e2e")) {
        return g_test_run();
    }
    qtest_add_func("console-log/nova-reboot/baseline", test_nova_baseline);
    qtest_add_func("console-log/nova-reboot/default", test_nova_default);
    qtest_add_func("console-log/nova-reboot/append", test_nova_append);
    qtest_add_func("console-log/nova-reboot/rotate", test_nova_rotate);
    qtest_add_func("console-log/nova-reboot/append-stamped",
                   test_nova_append_stamped);
    qtest_add_func("console-log/nova-reboot/rotate-stamped",
                   test_nova_rotate_stamped);
    qtest_add_func("console-log/nova-reboot/stamped-size",
                   test_stamped_size);
    qtest_add_func("console-log/libvirt/pty-logfile",
                   test_libvirt_pty_logfile);
    qtest_add_func("console-log/guest-reboot", test_guest_reboot);
    qtest_add_func("console-log/flood-bounded", test_flood_bounded);
    qtest_add_func("console-log/runtime/rotate-under-flood",
                   test_runtime_rotate_under_flood);
    qtest_add_func("console-log/logrotate/copytruncate-append",
                   test_logrotate_copytruncate_append);
    qtest_add_func("console-log/logrotate/copytruncate-report",
                   test_logrotate_copytruncate_report);

    return g_test_run();
}
