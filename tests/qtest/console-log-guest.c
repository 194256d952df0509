/*
 * The Linux test guest of the console log tests
 *
 * Copyright (c) 2026 The QEMU console log contributors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "console-log-guest.h"

/* QEMU 10.2 replaced qtest_init_with_env*() by qtest_init_ext() */
#if QEMU_VERSION_MAJOR == 10 && QEMU_VERSION_MINOR < 2
#define qtest_init_ext qtest_init_with_env_and_capabilities
#endif

const char *console_log_guest_dir(void)
{
    return getenv("CONSOLE_LOG_GUEST_DIR");
}

static void skip_with_reason(const void *reason)
{
    g_test_skip(reason);
}

/* QEMU's SPEED=slow or thorough, as its test setups export it, too */
static bool slow_tests_asked(void)
{
    const char *speed = getenv("SPEED");

    return g_test_slow() || !g_strcmp0(speed, "slow") ||
           !g_strcmp0(speed, "thorough");
}

bool console_log_guest_ready(const char *path)
{
    const char *reason =
        !slow_tests_asked() ? "boots a Linux guest: slow tests only "
                         "(SPEED=slow, G_TEST_SLOW=1 or -m slow)" :
        !qtest_has_accel("tcg") ? "needs TCG" :
        !console_log_guest_dir() ? "needs the test guest in "
                                   "CONSOLE_LOG_GUEST_DIR (vmlinuz, "
                                   "initramfs.gz)" : NULL;

    if (reason) {
        qtest_add_data_func(path, reason, skip_with_reason);
        return false;
    }
    return true;
}

Scratch *scratch_new(void)
{
    Scratch *s = g_new0(Scratch, 1);

    s->dir = g_dir_make_tmp("console-log-XXXXXX", NULL);
    g_assert(s->dir);
    s->log = g_build_filename(s->dir, "console.log", NULL);
    return s;
}

void scratch_free(Scratch *s)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", s->dir);

    g_assert_cmpint(system(cmd), ==, 0);
    g_free(s->log);
    g_free(s->dir);
    g_free(s);
}

char *slurp(const char *path)
{
    char *contents = NULL;

    g_file_get_contents(path, &contents, NULL, NULL);
    return contents;
}

char *slurp_gen(const Scratch *s, int k)
{
    g_autofree char *name = k < 0 ? g_strdup(s->log)
                                  : g_strdup_printf("%s.%d", s->log, k);

    return slurp(name);
}

int count_of(const char *haystack, const char *needle)
{
    int n = 0;
    const char *p;

    for (p = haystack; p && (p = strstr(p, needle)); p++) {
        n++;
    }
    return n;
}

/*
 * Start QEMU (@binary_env names the variable holding its path) with the
 * guest, the serial port on @serial, and @extra arguments.
 */
char *guest_args(const char *serial, const char *cmdline, const char *extra)
{
    return g_strdup_printf(
        "-M pc -m 256 -nodefaults -accel tcg "
        "-kernel %s/vmlinuz -initrd %s/initramfs.gz "
        "-append 'console=ttyS0 panic=-1 %s' "
        "-chardev %s,id=serial0 -serial chardev:serial0 %s",
        console_log_guest_dir(), console_log_guest_dir(), cmdline, serial,
        extra);
}

QTestState *start_guest(const char *binary_env, const char *serial,
                        const char *cmdline, const char *extra)
{
    g_autofree char *args = guest_args(serial, cmdline, extra);
    /* A pty announces its name on stdout, the TAP stream. */
    g_autofree char *quiet = g_strdup_printf("%s >/dev/null", args);

    return qtest_init_ext(binary_env, quiet, NULL, true);
}

char *slurp_len(const char *path, size_t *len)
{
    char *contents = NULL;

    if (!g_file_get_contents(path, &contents, len, NULL)) {
        *len = 0;
    }
    return contents;
}

/*
 * @stream must be exactly the guest's flood lines @first to @count - 1:
 * no line lost, duplicated or split, no NUL byte.
 */
static char *flood_line(int n, const char *id)
{
    return g_strdup_printf("%08d %s flood line ...................."
                           ".....................\n", n, id);
}

int assert_flood_run(const GString *stream, const char *id, int count,
                     bool partial_end)
{
    const char *p = stream->str, *end = stream->str + stream->len;
    int first, n;

    g_assert_null(memchr(stream->str, '\0', stream->len));
    g_assert_cmpuint(stream->len, >, 0);
    first = atoi(p);
    for (n = first; p < end; n++) {
        g_autofree char *want = flood_line(n, id);
        size_t left = end - p;

        if (left < strlen(want) && partial_end &&
            memcmp(p, want, left) == 0) {
            break;              /* the line being written when it stopped */
        }
        if (left < strlen(want) || memcmp(p, want, strlen(want)) != 0) {
            g_error("at byte %zu, line %d: '%.40s' is not '%.30s'",
                    (size_t)(p - stream->str), n, p, want);
        }
        p += strlen(want);
    }
    if (count >= 0) {
        g_assert_cmpint(n, ==, count);
    }
    return n - first;
}

void assert_exact_flood(const GString *stream, const char *id,
                        int first, int count)
{
    g_assert_cmpint(atoi(stream->str), ==, first);
    assert_flood_run(stream, id, count, false);
}

void append_file(GString *stream, const char *path)
{
    size_t len;
    g_autofree char *contents = slurp_len(path, &len);

    g_assert_nonnull(contents);
    g_string_append_len(stream, contents, len);
}

/*
 * Start a guest that floods @lines numbered lines through a virtio-serial
 * port into chardev "flood" (@flood_chardev, without id), then idles.
 * Its console goes to @console.
 */
QTestState *start_flood(const char *binary_env, const char *console,
                               const char *flood_chardev, const char *id,
                               int lines, const char *more)
{
    g_autofree char *serial = g_strdup_printf("file,path=%s", console);
    g_autofree char *extra = g_strdup_printf(
        "-device virtio-serial-pci -chardev %s,id=flood "
        "-device virtserialport,chardev=flood,name=flood %s",
        flood_chardev, more);
    g_autofree char *cmdline = g_strdup_printf(
        "bootid=%s mode=flood port=vport lines=%d then=idle", id, lines);

    return start_guest(binary_env, serial, cmdline, extra);
}

/* Is the guest's flood finished?  Fails if it takes too long. */
bool flood_done(const char *console, const char *id, gint64 deadline)
{
    g_autofree char *contents = slurp(console);
    g_autofree char *done = g_strdup_printf("flood done %s", id);

    g_assert(g_get_monotonic_time() < deadline);
    return contents && strstr(contents, done);
}

bool has_complete_line(const char *path, const char *start)
{
    g_autofree char *contents = NULL;
    const char *at;

    if (!g_file_get_contents(path, &contents, NULL, NULL)) {
        return false;
    }
    at = strstr(contents, start);
    return at && strchr(at, '\n');
}

/*
 * Wait until the last flood line of guest @id is in @log or one of its
 * generations @log.0 ... @log.(@generations - 1).  The guest's "flood
 * done" on the console can come before QEMU wrote the last bytes of the
 * port: a full file holds the port back until the next one is ready.
 */
void wait_flood_written(const char *log, int generations, const char *id,
                        int lines)
{
    g_autofree char *last = g_strdup_printf("%08d %s flood line", lines - 1,
                                            id);
    gint64 deadline = g_get_monotonic_time() + BOOT_TIMEOUT_US;
    int k;

    for (;;) {
        for (k = -1; k < generations; k++) {
            g_autofree char *name = k < 0 ? g_strdup(log)
                                          : g_strdup_printf("%s.%d", log, k);
            struct stat st;

            if (lstat(name, &st) == 0 && S_ISREG(st.st_mode) &&
                has_complete_line(name, last)) {
                return;
            }
        }
        if (g_get_monotonic_time() > deadline) {
            g_error("the last flood line of %s never reached %s", id, log);
        }
        g_usleep(50 * 1000);
    }
}

/* Wait until QEMU exits: the guest powered off. */
void wait_powered_off(QTestState *qts)
{
    gint64 deadline = g_get_monotonic_time() + BOOT_TIMEOUT_US;

    while (qtest_probe_child(qts)) {
        if (g_get_monotonic_time() > deadline) {
            g_error("guest did not power off");
        }
        g_usleep(50 * 1000);
    }
    qtest_quit(qts);
}
