/*
 * Rotating console logs where operators run QEMU: -daemonize with a
 * relative path, -run-with chroot= and user=, a mux shared with a
 * monitor, a guest that forces rotations as fast as it can, events of
 * several chardevs, a rename that keeps failing, and the human monitor
 * writing to a file whose rotation fails.  With a real Linux guest under
 * TCG.
 *
 * CONSOLE_LOG_GUEST_DIR names the guest (see console-log-guest.h); without
 * it the tests are skipped.  The tests of -run-with and of immutable files
 * need root.
 *
 * Copyright (c) 2026 The QEMU console log contributors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <linux/fs.h>
#include "libqtest.h"
#include "libqmp.h"
#include "qobject/qdict.h"
#include "console-log-guest.h"

#define NOBODY_ID 65534

static bool is_regular(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static uint64_t file_size_of(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0 ? st.st_size : 0;
}

/* PATH.(n-1), ..., PATH.0, PATH concatenated, those that exist. */
static GString *kept_stream(const char *log, int generations)
{
    GString *kept = g_string_new("");
    int k;

    for (k = generations - 1; k >= -1; k--) {
        g_autofree char *name = k < 0 ? g_strdup(log)
                                      : g_strdup_printf("%s.%d", log, k);
        size_t len;
        g_autofree char *contents = slurp_len(name, &len);

        if (contents) {
            g_string_append_len(kept, contents, len);
        }
    }
    return kept;
}

/* PATH.k, leaked: for assertions only */
static char *gen_name_of(const char *log, int k)
{
    return g_strdup_printf("%s.%d", log, k);
}

static void wait_for(const char *path, const char *text)
{
    gint64 deadline = g_get_monotonic_time() + BOOT_TIMEOUT_US;

    for (;;) {
        g_autofree char *contents = slurp(path);

        if (contents && strstr(contents, text)) {
            return;
        }
        if (g_get_monotonic_time() > deadline) {
            g_error("'%s' did not appear in %s", text, path);
        }
        g_usleep(50 * 1000);
    }
}

static bool need_root(void)
{
    if (geteuid() != 0) {
        g_test_skip("needs root");
        return false;
    }
    return true;
}

/* A QEMU that daemonized: found by its pid file, driven over QMP. */
typedef struct Daemon {
    char *pidfile;
    int qmp;
} Daemon;

/* Connect to a QMP server socket and read its greeting. */
static int qmp_connect_raw(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    QDict *greeting;

    g_assert_cmpint(fd, >=, 0);
    g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
    g_assert_cmpint(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), ==,
                    0);
    greeting = qmp_fd_receive(fd);
    g_assert(qdict_haskey(greeting, "QMP"));
    qobject_unref(greeting);
    return fd;
}

static int qmp_connect(const char *path)
{
    int fd = qmp_connect_raw(path);

    qobject_unref(qmp_fd(fd, "{'execute': 'qmp_capabilities'}"));
    return fd;
}

/* The reply to a command, events skipped. */
static QDict *daemon_qmp(Daemon *d, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static QDict *daemon_qmp(Daemon *d, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    qmp_fd_vsend(d->qmp, fmt, ap);
    va_end(ap);
    for (;;) {
        QDict *resp = qmp_fd_receive(d->qmp);

        if (!qdict_haskey(resp, "event")) {
            return resp;
        }
        qobject_unref(resp);
    }
}

static pid_t daemon_pid(Daemon *d)
{
    g_autofree char *text = slurp(d->pidfile);

    return text ? atoi(text) : 0;
}

static void daemon_stop(Daemon *d)
{
    pid_t pid = daemon_pid(d);
    gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;

    if (d->qmp >= 0) {
        close(d->qmp);
    }
    if (pid > 0) {
        kill(pid, SIGTERM);
        while (kill(pid, 0) == 0 && g_get_monotonic_time() < deadline) {
            g_usleep(20 * 1000);
        }
        kill(pid, SIGKILL);
    }
    g_free(d->pidfile);
}

static void daemon_abort(void *opaque)
{
    Daemon *d = opaque;
    pid_t pid = daemon_pid(d);

    if (pid > 0) {
        kill(pid, SIGKILL);
    }
}

/* The next event @name on a QMP socket, within 10 seconds, or NULL. */
static QDict *qmp_fd_event(int fd, const char *name)
{
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

    for (;;) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        gint64 left = deadline - g_get_monotonic_time();
        QDict *msg;

        if (left <= 0 || poll(&pfd, 1, left / 1000) != 1) {
            return NULL;
        }
        msg = qmp_fd_receive(fd);
        if (!g_strcmp0(qdict_get_try_str(msg, "event"), name)) {
            return msg;
        }
        qobject_unref(msg);
    }
}

/*
 * 1. -daemonize with a relative path: QEMU changes its directory to /
 * after opening the chardev; the path was made absolute at open, so the
 * generations stay where the log is, and CHARDEV_ROTATED names it.
 */
static void test_daemonize_relative(void)
{
    g_autoptr(Scratch) s = scratch_new();
    /* A name of its own, so that strays in / are ours to remove */
    g_autofree char *name = g_strdup_printf("console-log-deploy-%d.log",
                                            getpid());
    g_autofree char *log = g_build_filename(s->dir, name, NULL);
    g_autofree char *log0 = g_strdup_printf("%s.0", log);
    g_autofree char *stray = g_build_filename("/", name, NULL);
    g_autofree char *stray0 = g_strdup_printf("%s.0", stray);
    g_autofree char *sock = g_build_filename(s->dir, "qmp.sock", NULL);
    g_autofree char *serial = g_strdup_printf("file,path=%s,rotate=2", name);
    g_autofree char *extra = g_strdup_printf(
        "-display none -daemonize -pidfile %s/qemu.pid "
        "-qmp unix:%s,server=on,wait=off", s->dir, sock);
    g_autofree char *args = guest_args(serial, "bootid=d1 mode=tick", extra);
    /* The binary's path may be relative to the directory we leave. */
    g_autofree char *binary = g_canonicalize_filename(
        getenv("QTEST_QEMU_BINARY"), NULL);
    g_autofree char *cmd = g_strdup_printf("cd '%s' && exec %s %s", s->dir,
                                           binary, args);
    Daemon d = { .pidfile = g_strdup_printf("%s/qemu.pid", s->dir),
                 .qmp = -1 };
    g_autofree char *event_path = NULL;
    bool strays, rotated;
    QDict *resp, *event;

    g_assert_cmpint(system(cmd), ==, 0);
    qtest_add_abrt_handler(daemon_abort, &d);
    d.qmp = qmp_connect(sock);
    wait_for(log, "tick 3");
    resp = daemon_qmp(&d, "{'execute': 'chardev-rotate',"
                      " 'arguments': {'id': 'serial0'}}");
    rotated = qdict_haskey(resp, "return");
    g_test_message("chardev-rotate: %s",
                   rotated ? "ok"
                   : qdict_get_str(qdict_get_qdict(resp, "error"), "desc"));
    qobject_unref(resp);
    event = qmp_fd_event(d.qmp, "CHARDEV_ROTATED");
    if (event) {
        event_path = g_strdup(qdict_get_str(qdict_get_qdict(event, "data"),
                                            "path"));
        qobject_unref(event);
    }
    wait_for(log, "tick");
    strays = is_regular(stray0);
    unlink(stray0);
    if (is_regular(stray)) {
        unlink(stray);
        strays = true;
    }
    daemon_stop(&d);
    qtest_remove_abrt_handler(&d);

    g_assert_false(strays);
    g_assert(rotated);
    g_assert_cmpstr(event_path, ==, log);
    g_assert(is_regular(log0));
    g_assert_nonnull(strstr(slurp(log0), "console-log-guest: boot d1"));
    g_assert_nonnull(strstr(slurp(log), "tick"));
    g_assert_null(strstr(slurp(log), "boot d1"));
}

/*
 * QEMU with @chardev and @run_with refuses to start, with @message on
 * stderr, and leaves the files in @dir as they are.
 */
static void assert_refused(const char *dir, const char *chardev,
                           const char *run_with, const char *message)
{
    g_autofree char *errors = g_build_filename(dir, "stderr", NULL);
    g_autofree char *cmd = g_strdup_printf(
        "exec timeout -s KILL 60 %s -M none -nodefaults -display none "
        "-chardev %s,id=c0 -run-with %s >/dev/null 2>%s",
        getenv("QTEST_QEMU_BINARY"), chardev, run_with, errors);
    g_autofree char *text = NULL;
    int status = system(cmd);

    text = slurp(errors);
    g_test_message("-chardev %s -run-with %s: %s", chardev, run_with, text);
    g_assert(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 1);
    if (!strstr(text, message)) {
        g_error("'%s' lacks '%s'", text, message);
    }
    unlink(errors);
}

/* Wait for CHARDEV_ROTATED: it names chardev @id and file @path. */
static void assert_rotated_event(QTestState *qts, const char *id,
                                 const char *path)
{
    QDict *event = qtest_qmp_eventwait_ref(qts, "CHARDEV_ROTATED");
    QDict *data = qdict_get_qdict(event, "data");

    g_assert_cmpstr(qdict_get_str(data, "id"), ==, id);
    g_assert_cmpstr(qdict_get_str(data, "path"), ==, path);
    g_assert_false(qdict_haskey(data, "reason"));
    qobject_unref(event);
}

/*
 * 2. -run-with chroot=,user=: after the switch QEMU refuses to start with
 * a rotating file outside of the new root, or in a directory where the
 * user may not create and rename files.  With the log directory inside
 * the new root and the user's, a flood is rotated by size as without
 * them, the user creating the new files, and the events name the file
 * by the path the user gave.
 */
static void test_run_with_chroot_user(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *jail = g_build_filename(s->dir, "jail", NULL);
    g_autofree char *logs = g_build_filename(jail, "logs", NULL);
    g_autofree char *log = g_build_filename(logs, "console.log", NULL);
    g_autofree char *outside = g_build_filename(s->dir, "outside.log", NULL);
    g_autofree char *root_logs = g_build_filename(jail, "root-logs", NULL);
    g_autofree char *console = g_build_filename(s->dir, "serial.log", NULL);
    g_autofree char *flood = g_strdup_printf(
        "file,path=%s,rotate=2,rotate-size=16K", log);
    g_autofree char *run_with = g_strdup_printf("chroot=%s,user=nobody",
                                                jail);
    g_autofree char *more = g_strdup_printf("-run-with %s", run_with);
    g_autofree char *chardev = NULL;
    g_autofree char *message = NULL;
    const int lines = 3000;     /* 195 KB: a dozen rotations */
    gint64 deadline = g_get_monotonic_time() + BOOT_TIMEOUT_US;
    g_autoptr(GString) kept = NULL;
    QTestState *qts;
    mode_t old_umask;
    struct stat st;
    int k;

    if (!need_root()) {
        return;
    }
    g_assert_cmpint(mkdir(jail, 0755), ==, 0);
    g_assert_cmpint(mkdir(logs, 0755), ==, 0);
    g_assert_cmpint(mkdir(root_logs, 0755), ==, 0);
    g_assert_cmpint(chown(logs, NOBODY_ID, NOBODY_ID), ==, 0);

    /* Outside of the new root */
    chardev = g_strdup_printf("file,path=%s,rotate=2", outside);
    message = g_strdup_printf("rotate: '%s' is outside of QEMU's root "
                              "directory (-run-with chroot=)", outside);
    assert_refused(s->dir, chardev, run_with, message);
    g_clear_pointer(&chardev, g_free);
    g_clear_pointer(&message, g_free);
    chardev = g_strdup_printf("null,logfile=%s,logrotate=2", outside);
    message = g_strdup_printf("logrotate: '%s' is outside of QEMU's root "
                              "directory (-run-with chroot=)", outside);
    assert_refused(s->dir, chardev, run_with, message);
    g_clear_pointer(&chardev, g_free);
    g_clear_pointer(&message, g_free);
    /* Inside, in root's directory: the user may not make files there */
    chardev = g_strdup_printf("file,path=%s/console.log,rotate=2",
                              root_logs);
    assert_refused(s->dir, chardev, run_with,
                   "rotate: QEMU, running as user 65534, may not create "
                   "and rename files in '/root-logs'");

    /* The user needs no access to the directories above the new root. */
    g_assert_cmpint(chmod(s->dir, 0700), ==, 0);
    /* libqtest's sockets are created before QEMU drops privileges. */
    old_umask = umask(0);
    qts = start_flood("QTEST_QEMU_BINARY", console, flood, "c1", lines, more);
    umask(old_umask);
    while (!flood_done(console, "c1", deadline)) {
        g_usleep(50 * 1000);
    }
    wait_flood_written(log, 2, "c1", lines);
    assert_rotated_event(qts, "flood", log);
    qtest_quit(qts);

    for (k = -1; k < 2; k++) {
        g_autofree char *name = k < 0 ? g_strdup(log)
                                      : g_strdup_printf("%s.%d", log, k);

        g_test_message("%s: %" PRIu64 " bytes", name, file_size_of(name));
        g_assert(is_regular(name));
        g_assert_cmpuint(file_size_of(name), <=, 16 * 1024);
    }
    /* The current file is one that the user made after the switch */
    g_assert_cmpint(stat(log, &st), ==, 0);
    g_assert_cmpint(st.st_uid, ==, NOBODY_ID);
    kept = kept_stream(log, 2);
    assert_flood_run(kept, "c1", lines, false);
}

/*
 * 3. mux=on, the console shared with the human monitor: the user's id
 * names the chardev for the QMP and HMP commands and in the events; the
 * rotation at start is not announced; HMP has no chardev-reopen.
 */
static void test_mux_with_monitor(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *serial = g_strdup_printf("file,path=%s,rotate=3,mux=on",
                                              s->log);
    g_autofree char *moved = g_strdup_printf("%s.moved", s->log);
    g_autofree char *out = NULL;
    QTestState *qts;

    g_assert(g_file_set_contents(s->log, "previous boot\n", -1, NULL));
    qts = start_guest("QTEST_QEMU_BINARY", serial, "bootid=m1 mode=tick",
                      "-mon chardev=serial0,mode=readline");
    wait_for(s->log, "tick 2");
    /* The previous boot became PATH.0 at start, without an event */
    g_assert_cmpstr(slurp_gen(s, 0), ==, "previous boot\n");
    qtest_qmp_assert_success(qts, "{'execute': 'query-status'}");
    g_assert_null(qtest_qmp_event_ref(qts, "CHARDEV_ROTATED"));

    qtest_qmp_assert_success(qts, "{'execute': 'chardev-rotate',"
                             " 'arguments': {'id': 'serial0'}}");
    assert_rotated_event(qts, "serial0", s->log);
    /* A new line in PATH: QEMU writes to the new file */
    wait_for(s->log, "tick");
    out = qtest_hmp(qts, "chardev-rotate serial0");
    g_assert_cmpstr(out, ==, "");
    /* Within a second of the first: delayed, not dropped */
    assert_rotated_event(qts, "serial0", s->log);
    wait_for(s->log, "tick");
    g_free(out);
    out = qtest_hmp(qts, "chardev-reopen serial0");
    g_assert_nonnull(strstr(out, "unknown command"));
    /* An external rotator moves PATH away; QEMU makes a new one */
    g_assert_cmpint(rename(s->log, moved), ==, 0);
    qtest_qmp_assert_success(qts, "{'execute': 'chardev-reopen',"
                             " 'arguments': {'id': 'serial0'}}");
    wait_for(s->log, "tick");
    qtest_quit(qts);

    /* PATH.2: the previous boot; PATH.1: this boot; then ticks only */
    g_assert_cmpstr(slurp_gen(s, 2), ==, "previous boot\n");
    g_assert_nonnull(strstr(slurp_gen(s, 1), "console-log-guest: boot m1"));
    g_assert_nonnull(strstr(slurp_gen(s, 0), "tick"));
    g_assert_null(strstr(slurp_gen(s, 0), "boot m1"));
    g_assert_nonnull(strstr(slurp_gen(s, -1), "tick"));
    g_assert_null(strstr(slurp_gen(s, -1), "boot m1"));
    g_assert_nonnull(strstr(slurp(moved), "tick"));
    g_assert_false(g_file_test(gen_name_of(s->log, 3), G_FILE_TEST_EXISTS));
}

/*
 * 4. A guest forcing a rotation every few kilobytes: CHARDEV_ROTATED
 * reaches QMP clients at most once a second per chardev, and the latest
 * one is not dropped: the last event tells of the last rotation.
 */
static void test_event_rate_limited(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *console = g_build_filename(s->dir, "serial.log", NULL);
    g_autofree char *flood = g_strdup_printf(
        "file,path=%s,rotate=2,rotate-size=4K", s->log);
    g_autofree char *gen0 = g_strdup_printf("%s.0", s->log);
    const int lines = 300000;           /* 19.5 MB: 4800 rotations */
    gint64 deadline = g_get_monotonic_time() + BOOT_TIMEOUT_US;
    gint64 first = 0, last = 0, closest = G_MAXINT64, settled = 0;
    gint64 last_stamp = 0, last_rename;
    QTestState *qts = start_flood("QTEST_QEMU_BINARY", console, flood, "r1",
                                  lines, "");
    int events = 0;
    struct stat st;
    double seconds;

    /* Until a second and a half after the flood: delayed events come */
    while (!settled || g_get_monotonic_time() < settled) {
        QDict *event;
        gint64 now;

        if (!settled && flood_done(console, "r1", deadline)) {
            wait_flood_written(s->log, 2, "r1", lines);
            settled = g_get_monotonic_time() + 1500 * 1000;
        }
        qobject_unref(qtest_qmp(qts, "{'execute': 'query-status'}"));
        now = g_get_monotonic_time();
        while ((event = qtest_qmp_event_ref(qts, "CHARDEV_ROTATED"))) {
            QDict *ts = qdict_get_qdict(event, "timestamp");

            g_assert_cmpstr(qdict_get_str(qdict_get_qdict(event, "data"),
                                          "id"), ==, "flood");
            g_assert_cmpstr(qdict_get_str(qdict_get_qdict(event, "data"),
                                          "path"), ==, s->log);
            if (events) {
                closest = MIN(closest, now - last);
            } else {
                first = now;
            }
            last = now;
            last_stamp = qdict_get_int(ts, "seconds") * G_USEC_PER_SEC +
                         qdict_get_int(ts, "microseconds");
            events++;
            qobject_unref(event);
        }
        g_usleep(20 * 1000);
    }
    /* The last rotation renamed PATH to PATH.0 */
    g_assert_cmpint(stat(gen0, &st), ==, 0);
    last_rename = st.st_ctim.tv_sec * G_USEC_PER_SEC +
                  st.st_ctim.tv_nsec / 1000;
    qtest_quit(qts);

    seconds = (double)(last - first) / G_USEC_PER_SEC;
    g_test_message("%d CHARDEV_ROTATED events in %.1f s, closest %.3f s "
                   "apart; the last one %" PRId64 " ms after the last "
                   "rename", events, seconds,
                   (double)closest / G_USEC_PER_SEC,
                   (last_stamp - last_rename) / 1000);
    g_assert_cmpint(events, >=, 3);
    g_assert_cmpint(events, <=, seconds + 2);
    /* Arrival times, polled every 20 ms or so */
    g_assert_cmpint(closest, >=, 850 * 1000);
    g_assert_cmpint(last_stamp, >=, last_rename - 100 * 1000);
}

/*
 * 5. The rate limit is per chardev id: chardev-rotate on serial0, which
 * has a rotating output file and a rotating logfile, makes two events,
 * the second delivered a second later (with the time stamp of when it
 * happened); chardev-rotate on the monitor's chardev right after gets
 * its event at once, not held back by serial0's.
 */
static void test_events_per_chardev(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *logfile = g_build_filename(s->dir, "log.log", NULL);
    g_autofree char *monlog = g_build_filename(s->dir, "monitor.log", NULL);
    g_autofree char *serial = g_strdup_printf(
        "file,path=%s,rotate=2,logfile=%s,logrotate=2", s->log, logfile);
    g_autofree char *more = g_strdup_printf(
        "-chardev file,id=mon0,path=%s,rotate=1 "
        "-mon chardev=mon0,mode=readline", monlog);
    QTestState *qts = start_guest("QTEST_QEMU_BINARY", serial,
                                  "bootid=e1 mode=tick", more);
    gint64 out_at = 0, log_at = 0, mon_at = 0, start, first;
    int out_events = 0, log_events = 0, mon_events = 0;
    QDict *event;

    wait_for(s->log, "tick 2");
    wait_for(logfile, "tick 2");
    /* The monitor's greeting */
    wait_for(monlog, "QEMU");
    start = g_get_monotonic_time();
    qtest_qmp_assert_success(qts, "{'execute': 'chardev-rotate',"
                             " 'arguments': {'id': 'serial0'}}");
    qtest_qmp_assert_success(qts, "{'execute': 'chardev-rotate',"
                             " 'arguments': {'id': 'mon0'}}");
    /* Delayed events come within a second: note when each arrives. */
    while (g_get_monotonic_time() < start + 2000 * 1000) {
        gint64 now;

        qobject_unref(qtest_qmp(qts, "{'execute': 'query-status'}"));
        now = g_get_monotonic_time() - start;
        while ((event = qtest_qmp_event_ref(qts, "CHARDEV_ROTATED"))) {
            QDict *data = qdict_get_qdict(event, "data");
            const char *id = qdict_get_str(data, "id");
            const char *path = qdict_get_str(data, "path");

            g_test_message("CHARDEV_ROTATED %s %s after %" PRId64 " ms", id,
                           path, now / 1000);
            if (!strcmp(path, s->log)) {
                g_assert_cmpstr(id, ==, "serial0");
                out_events++;
                out_at = now;
            } else if (!strcmp(path, logfile)) {
                g_assert_cmpstr(id, ==, "serial0");
                log_events++;
                log_at = now;
            } else {
                g_assert_cmpstr(path, ==, monlog);
                g_assert_cmpstr(id, ==, "mon0");
                mon_events++;
                mon_at = now;
            }
            qobject_unref(event);
        }
        g_usleep(20 * 1000);
    }
    qtest_quit(qts);
    g_test_message("events: %d for the output file, %d for the logfile, "
                   "%d for the monitor's file", out_events, log_events,
                   mon_events);
    g_assert_cmpint(out_events, ==, 1);
    g_assert_cmpint(log_events, ==, 1);
    g_assert_cmpint(mon_events, ==, 1);
    /* serial0: one at once, the other about a second later */
    first = MIN(out_at, log_at);
    g_assert_cmpint(first, <, 500 * 1000);
    g_assert_cmpint(MAX(out_at, log_at) - first, >=, 700 * 1000);
    /* mon0: at once */
    g_assert_cmpint(mon_at, <, 500 * 1000);
    /* Each file rotated once */
    g_assert_nonnull(strstr(slurp(gen_name_of(s->log, 0)), "boot e1"));
    g_assert_nonnull(strstr(slurp(gen_name_of(logfile, 0)), "boot e1"));
    g_assert_nonnull(strstr(slurp(gen_name_of(monlog, 0)), "QEMU"));
}

/*
 * Set or clear the immutable flag of the file open as @fd; 0 or -errno.
 */
static int set_immutable(int fd, bool on)
{
    int flags;

    if (ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0) {
        return -errno;
    }
    flags = on ? flags | FS_IMMUTABLE_FL : flags & ~FS_IMMUTABLE_FL;
    return ioctl(fd, FS_IOC_SETFLAGS, &flags) < 0 ? -errno : 0;
}

/*
 * Make @path immutable, and return its fd, to clear the flag through
 * whatever its name is then; or -errno.  A rotation shifting the
 * generations leaves a moment without @path: try again then.
 */
static int make_immutable(const char *path, gint64 deadline)
{
    int fd, ret;

    while ((fd = open(path, O_RDONLY | O_NOFOLLOW)) < 0 && errno == ENOENT &&
           g_get_monotonic_time() < deadline) {
        g_usleep(1000);
    }
    if (fd < 0) {
        return -errno;
    }
    ret = set_immutable(fd, true);
    if (ret < 0) {
        close(fd);
        return ret;
    }
    return fd;
}

/*
 * 6. A rename that keeps failing while the guest writes: PATH.1 made
 * immutable (chattr +i) with rotate=4,rotate-size=8K.  The first attempt
 * renames PATH.2 over PATH.3 (dropping the oldest generation, as a
 * successful rotation would) and fails at PATH.1; the retries, one a
 * second, delete nothing more, PATH grows beyond rotate-size, and one
 * warning is printed.  When the obstacle goes, rotation resumes within
 * about a second and the kept stream is whole.
 */
static void test_rename_keeps_failing(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *console = g_build_filename(s->dir, "serial.log", NULL);
    g_autofree char *flood = g_strdup_printf(
        "file,path=%s,rotate=4,rotate-size=8K", s->log);
    g_autofree char *g1 = g_strdup_printf("%s.1", s->log);
    g_autofree char *g3 = g_strdup_printf("%s.3", s->log);
    g_autofree char *errors = g_build_filename(s->dir, "stderr", NULL);
    g_autofree char *more = g_strdup_printf("2>%s", errors);
    g_autofree char *g3_before = NULL, *g3_after = NULL;
    const int lines = 300000;   /* writing goes on after the obstacle */
    gint64 deadline = g_get_monotonic_time() + BOOT_TIMEOUT_US;
    g_autoptr(GString) failing = NULL;
    g_autoptr(GString) kept = NULL;
    QTestState *qts;
    bool g3_kept;
    uint64_t grown;
    gint64 cleared, resumed = 0;
    int immutable, warnings;

    if (!need_root()) {
        return;
    }
    qts = start_flood("QTEST_QEMU_BINARY", console, flood, "f1", lines,
                      more);
    while (!is_regular(g3)) {
        g_assert(g_get_monotonic_time() < deadline);
        g_usleep(10 * 1000);
    }
    immutable = make_immutable(g1, deadline);
    if (immutable < 0) {
        g_autofree char *why = g_strdup_printf(
            "cannot make a file immutable here: %s", strerror(-immutable));

        qtest_quit(qts);
        g_test_skip(why);
        return;
    }
    /* Rotation attempts fail for 3.5 s, retried every second. */
    g_usleep(1000 * 1000);
    g3_before = slurp(g3);
    g_usleep(2500 * 1000);
    g3_after = slurp(g3);
    g3_kept = is_regular(g3);
    grown = file_size_of(s->log);
    failing = kept_stream(s->log, 4);
    g_assert_cmpint(set_immutable(immutable, false), ==, 0);
    close(immutable);
    cleared = g_get_monotonic_time();
    while (file_size_of(s->log) > 8 * 1024 &&
           g_get_monotonic_time() < cleared + 10 * G_USEC_PER_SEC) {
        g_usleep(10 * 1000);
    }
    resumed = g_get_monotonic_time() - cleared;

    while (!flood_done(console, "f1", deadline)) {
        g_usleep(50 * 1000);
    }
    wait_flood_written(s->log, 4, "f1", lines);
    qtest_quit(qts);
    warnings = count_of(slurp(errors), "rotate: cannot rename");

    g_test_message("while failing: PATH grew to %" PRIu64 " bytes, PATH.3 "
                   "%s, %zu bytes kept, %d warnings; rotation resumed %"
                   PRId64 " ms after the obstacle went", grown,
                   g3_kept ? "kept" : "deleted", failing->len, warnings,
                   resumed / 1000);
    g_assert_cmpuint(grown, >, 8 * 1024);
    g_assert(g3_kept);
    /* The retries renamed nothing more */
    g_assert_cmpstr(g3_before, ==, g3_after);
    g_assert_cmpint(warnings, ==, 1);
    g_assert_cmpint(resumed, <, 2500 * 1000);
    assert_flood_run(failing, "f1", -1, true);
    kept = kept_stream(s->log, 4);
    assert_flood_run(kept, "f1", lines, false);
}

static void kill_child(void *opaque)
{
    GPid *pid = opaque;

    kill(*pid, SIGKILL);
    waitpid(*pid, NULL, 0);
}

/* Whether QMP answers a command within 10 seconds. */
static bool qmp_answers(int fd, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static bool qmp_answers(int fd, const char *fmt, ...)
{
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    g_autoptr(GString) got = g_string_new("");
    va_list ap;

    va_start(ap, fmt);
    qmp_fd_vsend(fd, fmt, ap);
    va_end(ap);
    /* Read lines, not JSON: a QEMU that hangs must not hang the test. */
    for (;;) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        gint64 left = deadline - g_get_monotonic_time();
        char buf[4096];
        char *line_end;
        ssize_t n;

        while ((line_end = strchr(got->str, '\n'))) {
            g_autofree char *line = g_strndup(got->str,
                                              line_end - got->str);

            g_string_erase(got, 0, line_end + 1 - got->str);
            /* The greeting's line end, events: not the reply. */
            if (strchr(line, '{') && !strstr(line, "\"event\"")) {
                return strstr(line, "\"return\"") != NULL;
            }
        }
        if (left <= 0 || poll(&pfd, 1, left / 1000) != 1) {
            return false;
        }
        n = read(fd, buf, sizeof(buf));
        if (n <= 0) {
            return false;
        }
        g_string_append_len(got, buf, n);
    }
}

/*
 * 7. The human monitor shares the failing file (mux=on, commands read
 * from input-path): its output needs a rotation that fails (a directory
 * planted at PATH.1, where PATH.0 is to go), and the failure must not be
 * reported back into that output, which would deadlock QEMU's main loop.
 */
static void test_hmp_on_failing_file(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *fifo = g_build_filename(s->dir, "hmp.in", NULL);
    g_autofree char *sock = g_build_filename(s->dir, "qmp.sock", NULL);
    g_autofree char *gen0 = g_strdup_printf("%s.0", s->log);
    g_autofree char *obstacle = g_strdup_printf("%s.1", s->log);
    g_autofree char *inside = g_build_filename(obstacle, "x", NULL);
    g_autofree char *errors = g_build_filename(s->dir, "stderr", NULL);
    g_autofree char *cmd = g_strdup_printf(
        "exec %s -M none -nodefaults -display none "
        "-chardev file,id=c0,path=%s,input-path=%s,rotate=2,rotate-size=4K,"
        "mux=on -mon chardev=c0,mode=readline "
        "-qmp unix:%s,server=on,wait=off >/dev/null 2>%s",
        getenv("QTEST_QEMU_BINARY"),
        s->log, fifo, sock, errors);
    char *argv[] = { (char *)"/bin/sh", (char *)"-c", cmd, NULL };
    gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
    bool answered = false;
    int in, qmp, i;
    GPid pid;

    g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
    g_assert(g_file_set_contents(gen0, "previous\n", -1, NULL));
    /* A writer exists, so QEMU's open of input-path does not block. */
    in = open(fifo, O_RDWR);
    g_assert_cmpint(in, >=, 0);
    g_assert(g_spawn_async(NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                           NULL, NULL, &pid, NULL));
    qtest_add_abrt_handler(kill_child, &pid);
    while (!g_file_test(sock, G_FILE_TEST_EXISTS)) {
        g_assert(g_get_monotonic_time() < deadline);
        g_usleep(20 * 1000);
    }
    qmp = qmp_connect_raw(sock);
    g_assert(qmp_answers(qmp, "{'execute': 'qmp_capabilities'}"));

    /* Rotation fails from now on; HMP writes far more than 4 KiB. */
    g_assert_cmpint(mkdir(obstacle, 0700), ==, 0);
    g_assert(g_file_set_contents(inside, "", -1, NULL));
    for (i = 0; i < 3; i++) {
        const char *line = "info qtree\nhelp\n";

        g_assert_cmpint(write(in, line, strlen(line)), ==, strlen(line));
    }
    g_usleep(2 * G_USEC_PER_SEC);
    answered = qmp_answers(qmp, "{'execute': 'query-status'}");
    kill_child(&pid);
    qtest_remove_abrt_handler(&pid);
    close(qmp);
    close(in);

    g_test_message("%s: %" PRIu64 " bytes; QMP %s", s->log,
                   file_size_of(s->log),
                   answered ? "answered" : "did not answer");
    g_assert(answered);
    g_assert_cmpuint(file_size_of(s->log), >, 8 * 1024);
    g_assert_cmpstr(slurp(gen0), ==, "previous\n");
    g_assert_nonnull(strstr(slurp(errors), "rotate: cannot rename"));
    g_assert_nonnull(strstr(slurp(errors), "Is a directory"));
    /* The warning went to stderr, not into the monitor's output */
    g_assert_null(strstr(slurp(s->log), "cannot rename"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    if (!console_log_guest_ready("console-log/deploy")) {
        return g_test_run();
    }
    qtest_add_func("console-log/deploy/daemonize-relative",
                   test_daemonize_relative);
    qtest_add_func("console-log/deploy/run-with-chroot-user",
                   test_run_with_chroot_user);
    qtest_add_func("console-log/deploy/mux-with-monitor",
                   test_mux_with_monitor);
    qtest_add_func("console-log/deploy/event-rate-limited",
                   test_event_rate_limited);
    qtest_add_func("console-log/deploy/events-per-chardev",
                   test_events_per_chardev);
    qtest_add_func("console-log/deploy/rename-keeps-failing",
                   test_rename_keeps_failing);
    qtest_add_func("console-log/deploy/hmp-on-failing-file",
                   test_hmp_on_failing_file);

    return g_test_run();
}
