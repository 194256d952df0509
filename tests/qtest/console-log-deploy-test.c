/*
 * Rotating console logs where operators run QEMU: -daemonize with a
 * relative path, -run-with chroot= and user=, a mux shared with a
 * monitor, a rename that keeps failing, and the human monitor writing to
 * a file whose rotation fails.  With a real Linux guest under TCG.
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
#include "console-log-files.h"

#define NOBODY_ID 65534

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

/* Wait until the guest's console shows that flood @id is done. */
static void wait_flood_done(const char *console, const char *id)
{
    gint64 deadline = g_get_monotonic_time() + BOOT_TIMEOUT_US;

    while (!flood_done(console, id, deadline)) {
        g_usleep(50 * 1000);
    }
}

/* Wait until @path is a regular file that holds @text */
static void wait_for_file(const char *path, const char *text)
{
    gint64 deadline = g_get_monotonic_time() + BOOT_TIMEOUT_US;

    while (!is_regular(path)) {
        if (g_get_monotonic_time() > deadline) {
            g_error("%s did not appear", path);
        }
        g_usleep(20 * 1000);
    }
    wait_for(path, text);
}

/*
 * 1. -daemonize with a relative path: QEMU changes its directory to /
 * after opening the chardev; the path was made absolute at open, so the
 * generations stay where the log is.
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
    g_autofree char *older = NULL;
    g_autofree char *newer = NULL;
    bool strays, rotated;
    QDict *resp;

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
    if (rotated) {
        wait_for_file(log0, "tick 3");
        wait_for(log, "tick");
    }
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
    older = slurp(log0);
    newer = slurp(log);
    g_assert_nonnull(strstr(older, "console-log-guest: boot d1"));
    g_assert_nonnull(strstr(newer, "tick"));
    g_assert_null(strstr(newer, "boot d1"));
}

/*
 * QEMU with @chardev and -run-with @run_with refuses to start, with
 * @message on stderr, and leaves @path holding @contents, and no @path.0.
 */
static void assert_refused(const char *dir, const char *chardev,
                           const char *run_with, const char *message,
                           const char *path, const char *contents)
{
    g_autofree char *path0 = g_strdup_printf("%s.0", path);
    g_autofree char *left = NULL;
    g_autofree char *errors = g_build_filename(dir, "stderr", NULL);
    g_autofree char *cmd = g_strdup_printf(
        "exec timeout -s KILL 20 %s -M none -nodefaults -display none "
        "-chardev %s,id=c0 -run-with %s >/dev/null 2>%s",
        getenv("QTEST_QEMU_BINARY"), chardev, run_with, errors);
    g_autofree char *text = NULL;
    int status = system(cmd);

    text = slurp(errors);
    g_test_message("-chardev %s -run-with %s: %s", chardev, run_with, text);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 1) {
        g_error("-chardev %s -run-with %s: QEMU did not refuse it (status "
                "%d): %s", chardev, run_with, status, text);
    }
    left = slurp(path);
    g_assert_cmpstr(left, ==, contents);
    g_assert_false(g_file_test(path0, G_FILE_TEST_EXISTS));
    if (!strstr(text, message)) {
        g_error("'%s' lacks '%s'", text, message);
    }
    unlink(errors);
}

/*
 * 2. -run-with chroot=DIR: a rotating file outside of DIR, which QEMU
 * could not rename once there, is refused at open, before anything is
 * renamed.  With the log directory inside DIR (and QEMU running as the
 * user who owns it, user=), a flood rotates by size there as without
 * them, the user creating the new files; a chardev made at runtime names
 * its file inside DIR, and rotates there.
 */
static void test_run_with_chroot(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *jail = g_build_filename(s->dir, "jail", NULL);
    g_autofree char *logs = g_build_filename(jail, "logs", NULL);
    g_autofree char *log = g_build_filename(logs, "console.log", NULL);
    g_autofree char *added = g_build_filename(logs, "added.log", NULL);
    g_autofree char *added0 = g_strdup_printf("%s.0", added);
    g_autofree char *outside = g_build_filename(s->dir, "outside.log", NULL);
    g_autofree char *console = g_build_filename(s->dir, "serial.log", NULL);
    g_autofree char *flood = g_strdup_printf(
        "file,path=%s,rotate=2,size=16K", log);
    g_autofree char *run_with = g_strdup_printf("chroot=%s,user=nobody",
                                                jail);
    g_autofree char *more = g_strdup_printf("-run-with %s", run_with);
    g_autofree char *chardev = NULL;
    g_autofree char *message = NULL;
    const int lines = 3000;     /* 195 KB: a dozen rotations */
    g_autoptr(GString) kept = NULL;
    QTestState *qts;
    mode_t old_umask;
    struct stat st;
    int64_t dropped;
    FloodKept found;

    if (!need_root()) {
        return;
    }
    g_assert_cmpint(mkdir(jail, 0755), ==, 0);
    g_assert_cmpint(mkdir(logs, 0755), ==, 0);
    g_assert_cmpint(chown(logs, NOBODY_ID, NOBODY_ID), ==, 0);

    /* Outside of the new root, not empty: refused, and left as it is */
    g_assert(g_file_set_contents(outside, "previous boot\n", -1, NULL));
    chardev = g_strdup_printf("file,path=%s,rotate=2", outside);
    message = g_strdup_printf("rotate cannot be used with '%s': it is "
                              "outside of the directory of -run-with "
                              "chroot=%s", outside, jail);
    assert_refused(s->dir, chardev, run_with, message, outside,
                   "previous boot\n");
    g_clear_pointer(&chardev, g_free);
    g_clear_pointer(&message, g_free);
    chardev = g_strdup_printf("null,logfile=%s,logrotate=2", outside);
    message = g_strdup_printf("logrotate cannot be used with '%s': it is "
                              "outside of the directory of -run-with "
                              "chroot=%s", outside, jail);
    assert_refused(s->dir, chardev, run_with, message, outside,
                   "previous boot\n");

    /* The user needs no access to the directories above the new root. */
    g_assert_cmpint(chmod(s->dir, 0700), ==, 0);
    /* libqtest's sockets are created before QEMU drops privileges. */
    old_umask = umask(0);
    qts = start_flood("QTEST_QEMU_BINARY", console, flood, "c1", lines, more);
    umask(old_umask);
    /*
     * At runtime, QEMU is in the new root: paths are inside it.  The
     * console goes to a file added now, which rotates there too.
     */
    qtest_qmp_assert_success(qts, "{'execute': 'chardev-change', 'arguments':"
                             " {'id': 'serial0', 'backend': {'type': 'file',"
                             " 'data': {'out': '/logs/added.log',"
                             " 'rotate': 1}}}}");
    wait_flood_done(added, "c1");
    dropped = query_dropped(qts, "flood");
    qtest_qmp_assert_success(qts, "{'execute': 'chardev-rotate',"
                             " 'arguments': {'id': 'serial0'}}");
    wait_for_file(added0, "flood done c1");
    qtest_quit(qts);

    assert_log_bounded(log, 2, 16 * 1024);
    /* The current file is one that the user made after the switch */
    g_assert_cmpint(stat(log, &st), ==, 0);
    g_assert_cmpint(st.st_uid, ==, NOBODY_ID);
    kept = log_kept(log, 2);
    found = assert_flood_kept(kept, "c1");
    assert_flood_accounted(&found, "c1", lines, dropped, false);
    g_assert_true(is_regular(added));
}

/*
 * 3. -run-with user= for a user who may not write the log's directory:
 * QEMU starts (it cannot know), and once it runs as that user every
 * rotation fails.  It warns, rate-limited, writes on up to twice size,
 * and counts what it drops beyond: exactly what PATH does not hold.
 */
static void test_run_with_user_failing(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *console = g_build_filename(s->dir, "serial.log", NULL);
    g_autofree char *errors = g_build_filename(s->dir, "stderr", NULL);
    g_autofree char *flood = g_strdup_printf(
        "file,path=%s,rotate=2,size=16K", s->log);
    g_autofree char *more = g_strdup_printf("-run-with user=nobody 2>%s",
                                            errors);
    g_autofree char *gen0 = log_gen_name(s->log, 0);
    g_autofree char *messages = NULL;
    g_autofree char *want = NULL;
    const int lines = 20000;    /* 1.3 MB */
    g_autoptr(GString) kept = NULL;
    gint64 start = g_get_monotonic_time();
    QTestState *qts;
    mode_t old_umask;
    int64_t dropped;
    FloodKept found;
    int warnings;

    if (!need_root()) {
        return;
    }
    /* The directory is root's; the user may reach it, not write it */
    g_assert_cmpint(chmod(s->dir, 0755), ==, 0);
    old_umask = umask(0);
    qts = start_flood("QTEST_QEMU_BINARY", console, flood, "u1", lines, more);
    umask(old_umask);
    wait_flood_done(console, "u1");
    dropped = query_dropped(qts, "flood");
    qtest_qmp_assert_success(qts, "{'execute': 'query-status'}");
    qtest_quit(qts);
    messages = slurp(errors);
    warnings = count_of(messages, "warning:");
    g_test_message("%" PRId64 " bytes dropped; %d warnings: %s", dropped,
                   warnings, messages);

    want = g_strdup_printf("warning: chardev 'flood': rotate: cannot rename "
                           "'%s' to '%s': Permission denied", s->log, gen0);
    g_assert_nonnull(strstr(messages, want));
    g_assert_nonnull(strstr(messages, "bytes of output lost so far"));
    /* Of each kind, the failure and the loss, one every 10 s */
    g_assert_cmpint(warnings, <=,
                    2 * (1 + (g_get_monotonic_time() - start) / 10000000));
    g_assert_false(g_file_test(gen0, G_FILE_TEST_EXISTS));
    assert_log_bounded(s->log, 2, 16 * 1024);
    /* Every rotation failed: PATH holds the start, the rest is counted */
    kept = log_kept(s->log, 2);
    found = assert_flood_kept(kept, "u1");
    assert_flood_accounted(&found, "u1", lines, dropped, true);
    g_assert_cmpuint(found.end, ==, 2 * 16 * 1024);
}

/*
 * 4. mux=on, the console shared with the human monitor: the user's id
 * names the chardev for the QMP and HMP commands.
 */
static void test_mux_with_monitor(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *serial = g_strdup_printf("file,path=%s,rotate=3,mux=on",
                                              s->log);
    g_autofree char *gen0 = log_gen_name(s->log, 0);
    g_autofree char *gen1 = log_gen_name(s->log, 1);
    g_autofree char *gen2 = log_gen_name(s->log, 2);
    g_autofree char *gen3 = log_gen_name(s->log, 3);
    g_autofree char *out = NULL;
    g_autofree char *text = NULL;
    QTestState *qts;

    g_assert(g_file_set_contents(s->log, "previous boot\n", -1, NULL));
    qts = start_guest("QTEST_QEMU_BINARY", serial, "bootid=m1 mode=tick",
                      "-mon chardev=serial0,mode=readline");
    wait_for(s->log, "tick 2");
    /* The previous boot became PATH.0 at start */
    text = slurp(gen0);
    g_assert_cmpstr(text, ==, "previous boot\n");

    qtest_qmp_assert_success(qts, "{'execute': 'chardev-rotate',"
                             " 'arguments': {'id': 'serial0'}}");
    wait_for_file(gen1, "previous boot");
    wait_for(gen0, "boot m1");
    /* A new line in PATH: QEMU writes to the new file */
    wait_for(s->log, "tick");
    out = qtest_hmp(qts, "chardev-rotate serial0");
    g_assert_cmpstr(out, ==, "");
    wait_for_file(gen2, "previous boot");
    wait_for(s->log, "tick");
    g_free(out);
    out = qtest_hmp(qts, "chardev-reopen serial0");
    g_assert_nonnull(strstr(out, "unknown command"));
    qtest_quit(qts);

    /* PATH.2: the previous boot; PATH.1: this boot; then ticks only */
    g_clear_pointer(&text, g_free);
    text = slurp(gen1);
    g_assert_nonnull(strstr(text, "console-log-guest: boot m1"));
    g_clear_pointer(&text, g_free);
    text = slurp(gen0);
    g_assert_nonnull(strstr(text, "tick"));
    g_assert_null(strstr(text, "boot m1"));
    g_clear_pointer(&text, g_free);
    text = slurp(s->log);
    g_assert_nonnull(strstr(text, "tick"));
    g_assert_null(strstr(text, "boot m1"));
    g_assert_false(g_file_test(gen3, G_FILE_TEST_EXISTS));
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
 * 5. A rename that keeps failing while the guest writes: PATH.1 made
 * immutable (chattr +i) with rotate=4,size=8K.  The first attempt
 * renames PATH.2 over PATH.3 (dropping the oldest generation, as a
 * successful rotation would) and fails at PATH.1; the retries, one a
 * second, delete nothing more, PATH grows up to twice size (less what
 * the file before ran over), what goes beyond is counted, and one
 * warning is printed.  When the
 * obstacle goes, rotation resumes within about a second, and the next
 * file says how much was lost.
 */
static void test_rename_keeps_failing(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *console = g_build_filename(s->dir, "serial.log", NULL);
    g_autofree char *flood = g_strdup_printf(
        "file,path=%s,rotate=4,size=8K", s->log);
    g_autofree char *g1 = g_strdup_printf("%s.1", s->log);
    g_autofree char *g3 = g_strdup_printf("%s.3", s->log);
    g_autofree char *errors = g_build_filename(s->dir, "stderr", NULL);
    g_autofree char *more = g_strdup_printf("2>%s", errors);
    g_autofree char *g3_before = NULL, *g3_after = NULL;
    g_autofree char *messages = NULL;
    const int lines = 300000;   /* writing goes on after the obstacle */
    gint64 deadline = g_get_monotonic_time() + BOOT_TIMEOUT_US;
    g_autoptr(GString) failing = NULL;
    g_autoptr(GString) kept = NULL;
    QTestState *qts;
    bool g3_kept;
    uint64_t grown;
    gint64 cleared, resumed = 0;
    int64_t dropped_failing, dropped;
    int immutable, warnings;
    struct stat st;
    FloodKept found;

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
    failing = log_kept(s->log, 4);
    dropped_failing = query_dropped(qts, "flood");
    g_assert_cmpint(lstat(s->log, &st), ==, 0);
    g_assert_cmpint(set_immutable(immutable, false), ==, 0);
    close(immutable);
    cleared = g_get_monotonic_time();
    /* A new PATH: the retry after the obstacle went worked */
    while (g_get_monotonic_time() < cleared + 10 * G_USEC_PER_SEC) {
        struct stat now;

        if (lstat(s->log, &now) == 0 && now.st_ino != st.st_ino) {
            break;
        }
        g_usleep(10 * 1000);
    }
    resumed = g_get_monotonic_time() - cleared;

    wait_flood_done(console, "f1");
    dropped = query_dropped(qts, "flood");
    qtest_quit(qts);
    messages = slurp(errors);
    warnings = count_of(messages, "rotate: cannot rename");

    g_test_message("while failing: PATH grew to %" PRIu64 " bytes, PATH.3 "
                   "%s, %zu bytes kept, %" PRId64 " dropped, %d warnings; "
                   "rotation resumed %" PRId64 " ms after the obstacle "
                   "went", grown, g3_kept ? "kept" : "deleted",
                   failing->len, dropped_failing, warnings, resumed / 1000);
    /* Its limit is size less what the file before ran over */
    g_assert_cmpuint(grown, <=, 2 * 8 * 1024);
    g_assert_cmpint(dropped_failing, >, 0);
    g_assert(g3_kept);
    /* The retries renamed nothing more */
    g_assert_cmpstr(g3_before, ==, g3_after);
    g_assert_cmpint(warnings, ==, 1);
    g_assert_nonnull(strstr(messages, "Operation not permitted"));
    g_assert_cmpint(resumed, <, 2500 * 1000);
    /* While failing: contiguous, the oldest generation shifted once */
    assert_flood_kept(failing, "f1");
    assert_log_bounded(s->log, 4, 8 * 1024);
    kept = log_kept(s->log, 4);
    found = assert_flood_kept(kept, "f1");
    assert_flood_accounted(&found, "f1", lines, dropped, false);
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
 * 6. The human monitor shares the failing file (mux=on, commands read
 * from input-path), and is asked to rotate it: its output needs a
 * rotation that fails (a directory planted at PATH.1, where PATH.0 is to
 * go), the failure must not be reported back into that output, which
 * would deadlock QEMU's main loop, and what goes beyond twice size is
 * dropped and counted.
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
        "-chardev file,id=c0,path=%s,input-path=%s,rotate=2,size=4K,"
        "mux=on -mon chardev=c0,mode=readline "
        "-qmp unix:%s,server=on,wait=off >/dev/null 2>%s",
        getenv("QTEST_QEMU_BINARY"),
        s->log, fifo, sock, errors);
    char *argv[] = { (char *)"/bin/sh", (char *)"-c", cmd, NULL };
    gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
    g_autofree char *previous = NULL;
    g_autofree char *messages = NULL;
    g_autofree char *output = NULL;
    bool answered = false, rotated = false;
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

    /*
     * Rotation fails from now on; HMP writes far more than 4 KiB, and
     * asks for rotations of its own file.
     */
    g_assert_cmpint(mkdir(obstacle, 0700), ==, 0);
    g_assert(g_file_set_contents(inside, "", -1, NULL));
    for (i = 0; i < 3; i++) {
        const char *line = "info qtree\nchardev-rotate c0\nhelp\n";

        g_assert_cmpint(write(in, line, strlen(line)), ==, strlen(line));
    }
    g_usleep(2 * G_USEC_PER_SEC);
    answered = qmp_answers(qmp, "{'execute': 'query-status'}");
    rotated = qmp_answers(qmp, "{'execute': 'human-monitor-command',"
                          " 'arguments': {'command-line': "
                          "'chardev-rotate c0'}}");
    kill_child(&pid);
    qtest_remove_abrt_handler(&pid);
    close(qmp);
    close(in);

    messages = slurp(errors);
    output = slurp(s->log);
    previous = slurp(gen0);
    g_test_message("%s: %" PRIu64 " bytes; QMP %s; %s", s->log,
                   file_size_of(s->log),
                   answered ? "answered" : "did not answer", messages);
    g_assert(answered);
    g_assert(rotated);
    /*
     * Up to twice size less the size of PATH.0 (the first file of a QEMU
     * counts it as run over), the rest dropped
     */
    g_assert_cmpuint(file_size_of(s->log), ==, 2 * 4096 - strlen(previous));
    g_assert_cmpstr(previous, ==, "previous\n");
    /* By the chardev that writes the file, as query-chardev lists it */
    g_assert_nonnull(strstr(messages, "warning: chardev 'c0-base': rotate: "
                            "cannot rename"));
    g_assert_nonnull(strstr(messages, "Is a directory"));
    g_assert_nonnull(strstr(messages, "bytes of output lost so far"));
    /* The warning went to stderr, not into the monitor's output */
    g_assert_null(strstr(output, "cannot rename"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    if (!console_log_guest_ready("console-log/deploy")) {
        return g_test_run();
    }
    qtest_add_func("console-log/deploy/daemonize-relative",
                   test_daemonize_relative);
    qtest_add_func("console-log/deploy/run-with-chroot",
                   test_run_with_chroot);
    qtest_add_func("console-log/deploy/run-with-user-failing",
                   test_run_with_user_failing);
    qtest_add_func("console-log/deploy/mux-with-monitor",
                   test_mux_with_monitor);
    qtest_add_func("console-log/deploy/rename-keeps-failing",
                   test_rename_keeps_failing);
    qtest_add_func("console-log/deploy/hmp-on-failing-file",
                   test_hmp_on_failing_file);

    return g_test_run();
}
