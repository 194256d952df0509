/*
 * Rotating console logs where operators run QEMU: -daemonize with a
 * relative path, -run-with chroot= and user=, a mux shared with a
 * monitor, a guest that forces rotations as fast as it can, and a rename
 * that keeps failing.  With a real Linux guest under TCG.
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

/*
 * 1. -daemonize with a relative path: QEMU changes its directory to /
 * after opening the chardev; the generations stay where the log is.
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
    bool strays;
    QDict *resp;

    g_assert_cmpint(system(cmd), ==, 0);
    qtest_add_abrt_handler(daemon_abort, &d);
    d.qmp = qmp_connect(sock);
    wait_for(log, "tick 3");
    resp = daemon_qmp(&d, "{'execute': 'chardev-rotate',"
                      " 'arguments': {'id': 'serial0'}}");
    g_test_message("chardev-rotate: %s",
                   qdict_haskey(resp, "error")
                   ? qdict_get_str(qdict_get_qdict(resp, "error"), "desc")
                   : "ok");
    qobject_unref(resp);
    g_usleep(600 * 1000);
    strays = is_regular(stray0);
    unlink(stray0);
    if (is_regular(stray)) {
        unlink(stray);
        strays = true;
    }
    daemon_stop(&d);
    qtest_remove_abrt_handler(&d);

    g_assert_false(strays);
    g_assert(is_regular(log0));
    g_assert_nonnull(strstr(slurp(log0), "console-log-guest: boot d1"));
    g_assert_nonnull(strstr(slurp(log), "tick"));
    g_assert_null(strstr(slurp(log), "boot d1"));
}

/*
 * 2. -run-with chroot=,user=: the log directory is reached through the
 * descriptor opened at start, outside the new root, and written by the
 * unprivileged user; a flood is rotated by size as without them.
 */
static void test_run_with_chroot_user(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *jail = g_build_filename(s->dir, "jail", NULL);
    g_autofree char *logs = g_build_filename(s->dir, "logs", NULL);
    g_autofree char *log = g_build_filename(logs, "console.log", NULL);
    g_autofree char *console = g_build_filename(s->dir, "serial.log", NULL);
    g_autofree char *flood = g_strdup_printf(
        "file,path=%s,rotate=2,rotate-size=16K", log);
    g_autofree char *more = g_strdup_printf("-run-with chroot=%s,user=nobody",
                                            jail);
    const int lines = 3000;     /* 195 KB: a dozen rotations */
    gint64 deadline = g_get_monotonic_time() + BOOT_TIMEOUT_US;
    g_autoptr(GString) kept = NULL;
    QTestState *qts;
    mode_t old_umask;
    int k;

    if (!need_root()) {
        return;
    }
    g_assert_cmpint(mkdir(jail, 0755), ==, 0);
    g_assert_cmpint(mkdir(logs, 0755), ==, 0);
    g_assert_cmpint(chown(logs, NOBODY_ID, NOBODY_ID), ==, 0);
    /* The user needs no access to the directories above the logs. */
    g_assert_cmpint(chmod(s->dir, 0700), ==, 0);
    /* libqtest's sockets are created before QEMU drops privileges. */
    old_umask = umask(0);
    qts = start_flood("QTEST_QEMU_BINARY", console, flood, "c1", lines, more);
    umask(old_umask);
    while (!flood_done(console, "c1", deadline)) {
        g_usleep(50 * 1000);
    }
    qtest_quit(qts);

    for (k = -1; k < 2; k++) {
        g_autofree char *name = k < 0 ? g_strdup(log)
                                      : g_strdup_printf("%s.%d", log, k);

        g_test_message("%s: %" PRIu64 " bytes", name, file_size_of(name));
        g_assert(is_regular(name));
        g_assert_cmpuint(file_size_of(name), <=, 16 * 1024);
    }
    kept = kept_stream(log, 2);
    assert_flood_run(kept, "c1", lines, false);
}

/*
 * 3. mux=on, the console shared with the human monitor: the user's id
 * names the chardev for the commands and in the events.
 */
static void test_mux_with_monitor(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *serial = g_strdup_printf("file,path=%s,rotate=2,mux=on",
                                              s->log);
    QTestState *qts = start_guest("QTEST_QEMU_BINARY", serial,
                                  "bootid=m1 mode=tick",
                                  "-mon chardev=serial0,mode=readline");
    QDict *event, *data;

    wait_for(s->log, "tick 2");
    qtest_qmp_assert_success(qts, "{'execute': 'chardev-rotate',"
                             " 'arguments': {'id': 'serial0'}}");
    event = qtest_qmp_eventwait_ref(qts, "CHARDEV_ROTATED");
    data = qdict_get_qdict(event, "data");
    g_assert_cmpstr(qdict_get_str(data, "id"), ==, "serial0");
    g_assert_cmpstr(qdict_get_str(data, "reason"), ==, "command");
    qobject_unref(event);
    qtest_qmp_assert_success(qts, "{'execute': 'chardev-reopen',"
                             " 'arguments': {'id': 'serial0'}}");
    wait_for(s->log, "tick");
    qtest_quit(qts);

    g_assert_nonnull(strstr(slurp_gen(s, 0), "console-log-guest: boot m1"));
    g_assert_null(strstr(slurp_gen(s, -1), "boot m1"));
}

/*
 * 4. A guest forcing a rotation every few kilobytes: CHARDEV_ROTATED
 * reaches QMP clients at most once a second per chardev, the latest one
 * last.
 */
static void test_event_rate_limited(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *console = g_build_filename(s->dir, "serial.log", NULL);
    g_autofree char *flood = g_strdup_printf(
        "file,path=%s,rotate=2,rotate-size=4K", s->log);
    const int lines = 100000;           /* 6.5 MB: 1600 rotations */
    gint64 deadline = g_get_monotonic_time() + BOOT_TIMEOUT_US;
    gint64 start = 0, last = 0, closest = G_MAXINT64;
    QTestState *qts = start_flood("QTEST_QEMU_BINARY", console, flood, "r1",
                                  lines, "");
    int events = 0;
    double seconds;

    for (;;) {
        bool done = flood_done(console, "r1", deadline);
        QDict *event;

        qobject_unref(qtest_qmp(qts, "{'execute': 'query-status'}"));
        while ((event = qtest_qmp_event_ref(qts, "CHARDEV_ROTATED"))) {
            QDict *ts = qdict_get_qdict(event, "timestamp");
            gint64 t = qdict_get_int(ts, "seconds") * G_USEC_PER_SEC +
                       qdict_get_int(ts, "microseconds");

            g_assert_cmpstr(qdict_get_str(qdict_get_qdict(event, "data"),
                                          "id"), ==, "flood");
            if (events) {
                closest = MIN(closest, t - last);
            } else {
                start = t;
            }
            last = t;
            events++;
            qobject_unref(event);
        }
        if (done) {
            break;
        }
        g_usleep(100 * 1000);
    }
    qtest_quit(qts);

    seconds = (double)(last - start) / G_USEC_PER_SEC;
    g_test_message("%d CHARDEV_ROTATED events in %.1f s, closest %.3f s "
                   "apart", events, seconds,
                   (double)closest / G_USEC_PER_SEC);
    g_assert_cmpint(events, >=, 2);
    g_assert_cmpint(events, <=, seconds + 2);
    g_assert_cmpint(closest, >=, 900 * 1000);
}

/*
 * 5. The rate limit is per file: the output file's and the logfile's
 * events of one chardev do not replace each other.  Two chardev-rotate
 * within half a second rotate both files twice: four events, two of
 * them delayed.
 */
static void test_events_per_file(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *logfile = g_build_filename(s->dir, "log.log", NULL);
    g_autofree char *serial = g_strdup_printf(
        "file,path=%s,rotate=2,logfile=%s,logrotate=2", s->log, logfile);
    QTestState *qts = start_guest("QTEST_QEMU_BINARY", serial,
                                  "bootid=e1 mode=tick", "");
    int out_events = 0, log_events = 0;
    QDict *event;

    wait_for(s->log, "tick 2");
    qtest_qmp_assert_success(qts, "{'execute': 'chardev-rotate',"
                             " 'arguments': {'id': 'serial0'}}");
    wait_for(s->log, "tick");
    qtest_qmp_assert_success(qts, "{'execute': 'chardev-rotate',"
                             " 'arguments': {'id': 'serial0'}}");
    /* Delayed events come within a second. */
    g_usleep(1500 * 1000);
    qobject_unref(qtest_qmp(qts, "{'execute': 'query-status'}"));
    while ((event = qtest_qmp_event_ref(qts, "CHARDEV_ROTATED"))) {
        const char *path = qdict_get_str(qdict_get_qdict(event, "data"),
                                         "path");

        out_events += !strcmp(path, s->log);
        log_events += !strcmp(path, logfile);
        qobject_unref(event);
    }
    qtest_quit(qts);
    g_test_message("events: %d for the output file, %d for the logfile",
                   out_events, log_events);
    g_assert_cmpint(out_events, ==, 2);
    g_assert_cmpint(log_events, ==, 2);
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
 * immutable (chattr +i) with rotate=4,rotate-size=8K.  The retries, one a
 * second, delete nothing more than the first attempt did (the oldest
 * generation, as a successful rotation would); when the obstacle goes,
 * rotation resumes and the kept stream is whole.
 */
static void test_rename_keeps_failing(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *console = g_build_filename(s->dir, "serial.log", NULL);
    g_autofree char *flood = g_strdup_printf(
        "file,path=%s,rotate=4,rotate-size=8K", s->log);
    g_autofree char *g1 = g_strdup_printf("%s.1", s->log);
    g_autofree char *g3 = g_strdup_printf("%s.3", s->log);
    const int lines = 300000;   /* writing goes on after the obstacle */
    gint64 deadline = g_get_monotonic_time() + BOOT_TIMEOUT_US;
    g_autoptr(GString) failing = NULL;
    g_autoptr(GString) kept = NULL;
    QTestState *qts;
    bool g3_kept;
    uint64_t grown;
    int immutable;

    if (!need_root()) {
        return;
    }
    qts = start_flood("QTEST_QEMU_BINARY", console, flood, "f1", lines,
                      "2>/dev/null");
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
    g_usleep(3500 * 1000);
    g3_kept = is_regular(g3);
    grown = file_size_of(s->log);
    failing = kept_stream(s->log, 4);
    g_assert_cmpint(set_immutable(immutable, false), ==, 0);
    close(immutable);

    while (!flood_done(console, "f1", deadline)) {
        g_usleep(50 * 1000);
    }
    qtest_quit(qts);

    g_test_message("while failing: PATH grew to %" PRIu64 " bytes, PATH.3 "
                   "%s, %zu bytes kept", grown,
                   g3_kept ? "kept" : "deleted", failing->len);
    g_assert_cmpuint(grown, >, 8 * 1024);
    g_assert(g3_kept);
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
 * from input-path): its output needs a rotation that fails, and the
 * failure must not be reported back into that output, which would
 * deadlock QEMU's main loop.
 */
static void test_hmp_on_failing_file(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *fifo = g_build_filename(s->dir, "hmp.in", NULL);
    g_autofree char *sock = g_build_filename(s->dir, "qmp.sock", NULL);
    g_autofree char *obstacle = g_strdup_printf("%s.new", s->log);
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
    g_assert_nonnull(strstr(slurp(errors), "rotate: cannot remove"));
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
    qtest_add_func("console-log/deploy/events-per-file",
                   test_events_per_file);
    qtest_add_func("console-log/deploy/rename-keeps-failing",
                   test_rename_keeps_failing);
    qtest_add_func("console-log/deploy/hmp-on-failing-file",
                   test_hmp_on_failing_file);

    return g_test_run();
}
