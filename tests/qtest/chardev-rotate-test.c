/*
 * Rotating chardev output files, with real guest code under TCG
 *
 * SeaBIOS boots a one-sector program that prints numbered lines to the
 * 16550 serial port; QEMU is restarted on the same files the way nova and
 * libvirt restart guests, and the generations are checked.
 *
 * Copyright (c) 2026 The QEMU console log contributors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "qobject/qdict.h"

/*
 * Real-mode boot sector: print a newline (SeaBIOS's last line has none),
 * COUNT lines "NNNNN LABEL\n" numbered from 00000, then "END LABEL\n", to
 * COM1, then halt.  Like a real driver, it waits for the transmitter
 * before each byte: a full chardev holds the output back.
 */
static const uint8_t boot_code[] = {
    0xfa,                   /* cli */
    0xfc,                   /* cld */
    0x31, 0xc0,             /* xor %ax,%ax */
    0x8e, 0xd8,             /* mov %ax,%ds */
    0x8e, 0xd0,             /* mov %ax,%ss */
    0xbc, 0x00, 0x7c,       /* mov $0x7c00,%sp */
    0xb0, 0x0a,             /* mov $'\n',%al */
    0xe8, 0x2f, 0x00,       /* call putc */
    0xbd, 0x00, 0x00,       /* mov $COUNT,%bp */
    0xbe, 0x00, 0x00,       /* 0x13: mov $LINE,%si */
    0xac,                   /* 0x16: lodsb */
    0xe8, 0x25, 0x00,       /* call putc */
    0x3c, 0x0a,             /* cmp $'\n',%al */
    0x75, 0xf8,             /* jne 0x16 */
    0xbe, 0x00, 0x00,       /* mov $LINE+4,%si */
    0xfe, 0x04,             /* 0x21: incb (%si) */
    0x80, 0x3c, 0x3a,       /* cmpb $'9'+1,(%si) */
    0x75, 0x06,             /* jne 0x2e */
    0xc6, 0x04, 0x30,       /* movb $'0',(%si) */
    0x4e,                   /* dec %si */
    0xeb, 0xf3,             /* jmp 0x21 */
    0x4d,                   /* 0x2e: dec %bp */
    0x75, 0xe2,             /* jne 0x13 */
    0xbe, 0x00, 0x00,       /* mov $END,%si */
    0xac,                   /* 0x34: lodsb */
    0xe8, 0x07, 0x00,       /* call putc */
    0x3c, 0x0a,             /* cmp $'\n',%al */
    0x75, 0xf8,             /* jne 0x34 */
    0xf4,                   /* 0x3c: hlt */
    0xeb, 0xfd,             /* jmp 0x3c */
    0x88, 0xc4,             /* 0x3f: putc: mov %al,%ah */
    0xba, 0xfd, 0x03,       /* mov $0x3fd,%dx */
    0xec,                   /* 0x44: in (%dx),%al */
    0xa8, 0x20,             /* test $0x20,%al (THRE) */
    0x74, 0xfb,             /* jz 0x44 */
    0xba, 0xf8, 0x03,       /* mov $0x3f8,%dx */
    0x88, 0xe0,             /* mov %ah,%al */
    0xee,                   /* out %al,(%dx) */
    0xc3,                   /* ret */
};

/*
 * A pty chardev announces its name on QEMU's stdout, which is the TAP
 * stream of the test; QEMU is started by a shell, so redirect it.
 */
#define QUIET_STDOUT    " >/dev/null"

#define BOOT_ADDR       0x7c00
#define COUNT_IMM       0x11
#define LINE_IMM        0x14
#define DIGIT_IMM       0x1f
#define END_IMM         0x32

static void put_imm16(uint8_t *sector, size_t at, uint16_t value)
{
    sector[at] = value & 0xff;
    sector[at + 1] = value >> 8;
}

/* Write a disk image whose boot sector prints @count lines. */
static char *make_boot_disk(const char *dir, const char *label, int count)
{
    uint8_t sector[512] = { 0 };
    g_autofree char *line = g_strdup_printf("00000 %s\n", label);
    g_autofree char *end = g_strdup_printf("END %s\n", label);
    size_t line_at = sizeof(boot_code);
    size_t end_at = line_at + strlen(line);
    char *disk = g_build_filename(dir, "boot.img", NULL);

    g_assert(count >= 1 && count <= 0xffff);
    g_assert(end_at + strlen(end) <= 510);
    memcpy(sector, boot_code, sizeof(boot_code));
    memcpy(sector + line_at, line, strlen(line));
    memcpy(sector + end_at, end, strlen(end));
    put_imm16(sector, COUNT_IMM, count);
    put_imm16(sector, LINE_IMM, BOOT_ADDR + line_at);
    put_imm16(sector, DIGIT_IMM, BOOT_ADDR + line_at + 4);
    put_imm16(sector, END_IMM, BOOT_ADDR + end_at);
    sector[510] = 0x55;
    sector[511] = 0xaa;
    g_assert(g_file_set_contents(disk, (char *)sector, sizeof(sector), NULL));
    return disk;
}

typedef struct Scratch {
    char *dir;
    char *log;              /* dir/console.log */
} Scratch;

static Scratch *scratch_new(void)
{
    Scratch *s = g_new0(Scratch, 1);

    s->dir = g_dir_make_tmp("chardev-rotate-XXXXXX", NULL);
    g_assert(s->dir);
    s->log = g_build_filename(s->dir, "console.log", NULL);
    return s;
}

static void scratch_free(Scratch *s)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", s->dir);

    g_assert_cmpint(system(cmd), ==, 0);
    g_free(s->log);
    g_free(s->dir);
    g_free(s);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(Scratch, scratch_free)

static char *gen_name(const Scratch *s, int k)
{
    return k < 0 ? g_strdup(s->log) : g_strdup_printf("%s.%d", s->log, k);
}

static char *slurp(const char *path)
{
    char *contents = NULL;

    g_file_get_contents(path, &contents, NULL, NULL);
    return contents;
}

static char *slurp_gen(const Scratch *s, int k)
{
    g_autofree char *name = gen_name(s, k);

    return slurp(name);
}

static bool gen_exists(const Scratch *s, int k)
{
    g_autofree char *name = gen_name(s, k);

    return g_file_test(name, G_FILE_TEST_EXISTS);
}

/* PATH.(n-1), ..., PATH.0, PATH concatenated. */
static GString *kept_stream(const Scratch *s, int generations)
{
    GString *kept = g_string_new("");
    int k;

    for (k = generations - 1; k >= -1; k--) {
        g_autofree char *contents = slurp_gen(s, k);

        if (contents) {
            g_string_append(kept, contents);
        }
    }
    return kept;
}

#define GUEST_TIMEOUT_US (120 * G_USEC_PER_SEC)

static bool wait_for_text(const Scratch *s, int generations, const char *text)
{
    gint64 deadline = g_get_monotonic_time() + GUEST_TIMEOUT_US;

    while (g_get_monotonic_time() < deadline) {
        g_autoptr(GString) kept = kept_stream(s, generations);

        if (strstr(kept->str, text)) {
            return true;
        }
        g_usleep(20 * 1000);
    }
    return false;
}

static bool wait_for_file_text(const char *path, const char *text)
{
    gint64 deadline = g_get_monotonic_time() + GUEST_TIMEOUT_US;

    while (g_get_monotonic_time() < deadline) {
        g_autofree char *contents = slurp(path);

        if (contents && strstr(contents, text)) {
            return true;
        }
        g_usleep(20 * 1000);
    }
    return false;
}

/*
 * Boot the guest once in a new QEMU process, with the serial port on
 * @chardev ("file,path=..." or "pty,logfile=...", without id), until it
 * has printed @count lines labelled @label; then quit.
 */
static void boot_once(const Scratch *s, const char *chardev, int generations,
                      const char *label, int count)
{
    g_autofree char *disk = make_boot_disk(s->dir, label, count);
    g_autofree char *end = g_strdup_printf("END %s\n", label);
    QTestState *qts;

    qts = qtest_initf("-M pc,graphics=off -nodefaults -accel tcg "
                      "-chardev %s,id=serial0 -serial chardev:serial0 "
                      "-drive file=%s,format=raw,if=ide" QUIET_STDOUT,
                      chardev, disk);
    if (!wait_for_text(s, generations, end)) {
        g_error("guest output '%s' not found in %s", end, s->log);
    }
    qtest_quit(qts);
}

static char *file_opts(const Scratch *s, const char *extra)
{
    return g_strdup_printf("file,path=%s%s", s->log, extra);
}

/* Which of the labels @labels the file holds, in order, space-separated. */
static char *boots_in(const char *contents, const char *const *labels)
{
    g_autoptr(GString) found = g_string_new("");
    const char *p = contents ? contents : "";

    for (;;) {
        const char *next = NULL;
        const char *which = NULL;
        int i;

        for (i = 0; labels[i]; i++) {
            g_autofree char *end = g_strdup_printf("END %s\n", labels[i]);
            const char *at = strstr(p, end);

            if (at && (!next || at < next)) {
                next = at;
                which = labels[i];
            }
        }
        if (!next) {
            break;
        }
        g_string_append_printf(found, "%s%s", found->len ? " " : "", which);
        p = next + 1;
    }
    return g_strdup(found->str);
}

static const char *const boot_labels[] = {
    "boot-1", "boot-2", "boot-3", "boot-4", "boot-5", NULL
};

static void assert_gen_holds(const Scratch *s, int k, const char *boots)
{
    g_autofree char *contents = slurp_gen(s, k);
    g_autofree char *found = boots_in(contents, boot_labels);

    g_auto(GStrv) boot_list = g_strsplit(boots, " ", -1);
    int banners = 0;
    const char *p;

    g_assert_nonnull(contents);
    g_assert_cmpstr(found, ==, boots);
    /* SeaBIOS printed its banner once per boot kept here. */
    for (p = contents; (p = strstr(p, "SeaBIOS")); p++) {
        banners++;
    }
    g_assert_cmpint(banners, ==, g_strv_length(boot_list));
}

/* Restart the guest @boots times with @extra options on the file. */
static void restart_file(const Scratch *s, const char *extra, int boots,
                         int generations)
{
    g_autofree char *chardev = file_opts(s, extra);
    int i;

    for (i = 0; i < boots; i++) {
        boot_once(s, chardev, generations, boot_labels[i], 3);
    }
}

/* Upstream behaviour without options: only the last boot survives. */
static void test_restart_default_truncates(void)
{
    g_autoptr(Scratch) s = scratch_new();

    restart_file(s, "", 3, 0);
    assert_gen_holds(s, -1, "boot-3");
    g_assert_false(gen_exists(s, 0));
}

static void test_restart_append(void)
{
    g_autoptr(Scratch) s = scratch_new();

    restart_file(s, ",append=on", 3, 0);
    assert_gen_holds(s, -1, "boot-1 boot-2 boot-3");
    g_assert_false(gen_exists(s, 0));
}

static void test_restart_rotate_1(void)
{
    g_autoptr(Scratch) s = scratch_new();

    restart_file(s, ",rotate=1", 3, 1);
    assert_gen_holds(s, -1, "boot-3");
    assert_gen_holds(s, 0, "boot-2");
    g_assert_false(gen_exists(s, 1));
}

static void test_restart_rotate_3(void)
{
    g_autoptr(Scratch) s = scratch_new();

    restart_file(s, ",rotate=3", 5, 3);
    assert_gen_holds(s, -1, "boot-5");
    assert_gen_holds(s, 0, "boot-4");
    assert_gen_holds(s, 1, "boot-3");
    assert_gen_holds(s, 2, "boot-2");
    g_assert_false(gen_exists(s, 3));
}

/* A pty's logfile: libvirt-style shutdown and start. */
static void test_restart_pty_logfile(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *chardev = g_strdup_printf("pty,logfile=%s,logrotate=1",
                                               s->log);
    int i;

    for (i = 0; i < 3; i++) {
        boot_once(s, chardev, 1, boot_labels[i], 3);
    }
    assert_gen_holds(s, -1, "boot-3");
    assert_gen_holds(s, 0, "boot-2");
    g_assert_false(gen_exists(s, 1));
}

/*
 * The kept files hold a contiguous run of the guest's numbered lines that
 * ends with its last line; every file is within @max_size and ends with a
 * complete line (but for an empty PATH).
 */
static void assert_lines_kept(const Scratch *s, int generations,
                              uint64_t max_size, const char *label,
                              int count)
{
    g_autoptr(GString) kept = kept_stream(s, generations);
    g_autofree char *end = g_strdup_printf("END %s\n", label);
    g_auto(GStrv) lines = NULL;
    int k, n, first = -1, expect;

    for (k = -1; k < generations; k++) {
        g_autofree char *contents = slurp_gen(s, k);

        g_assert_nonnull(contents);
        g_assert_cmpuint(strlen(contents), <=, max_size);
        /* PATH may be new, made by the last rotation and not used yet */
        g_assert_true((k == -1 && !*contents) ||
                      g_str_has_suffix(contents, "\n"));
    }
    g_assert_false(gen_exists(s, generations));
    g_assert(g_str_has_suffix(kept->str, end));

    lines = g_strsplit(kept->str, "\n", -1);
    n = g_strv_length(lines);
    /* Skip SeaBIOS's lines: find the first numbered line of ours. */
    for (k = 0; k < n; k++) {
        g_autofree char *suffix = g_strdup_printf(" %s", label);

        if (strlen(lines[k]) > 6 && g_str_has_suffix(lines[k], suffix)) {
            first = k;
            break;
        }
    }
    g_assert_cmpint(first, >=, 0);
    expect = atoi(lines[first]);
    for (k = first; k < n - 2; k++) {
        g_autofree char *want = g_strdup_printf("%05d %s", expect, label);

        g_assert_cmpstr(lines[k], ==, want);
        expect++;
    }
    g_assert_cmpint(expect, ==, count);
}

/* The guest writes far more than rotate-size. */
static void test_size_guest_writes(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *chardev = file_opts(s, ",rotate=3,rotate-size=8K");
    const char *label = "size-test-line-with-some-padding";

    boot_once(s, chardev, 3, label, 3000);
    assert_lines_kept(s, 3, 8192, label, 3000);
}

static void test_size_pty_logfile(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *chardev = g_strdup_printf(
        "pty,logfile=%s,logrotate=2,logrotate-size=4096", s->log);
    const char *label = "logfile-size-test";

    boot_once(s, chardev, 2, label, 1000);
    assert_lines_kept(s, 2, 4096, label, 1000);
}

/* append=on across processes, bounded by size. */
static void test_size_append_across_restarts(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *chardev = file_opts(s,
                                         ",append=on,rotate=2,rotate-size=4K");
    g_autoptr(GString) kept = NULL;

    boot_once(s, chardev, 2, "boot-1", 400);
    boot_once(s, chardev, 2, "boot-2", 400);
    assert_lines_kept(s, 2, 4096, "boot-2", 400);
    kept = kept_stream(s, 2);
    g_assert_nonnull(strstr(kept->str, "END boot-1\n"));
}

/* Send @cmd, expect an error whose description contains @text. */
static void assert_qmp_error(QTestState *qts, const char *text,
                             const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static void assert_qmp_error(QTestState *qts, const char *text,
                             const char *fmt, ...)
{
    QDict *error;
    const char *desc;
    va_list ap;

    va_start(ap, fmt);
    error = qtest_vqmp_assert_failure_ref(qts, fmt, ap);
    va_end(ap);
    desc = qdict_get_str(error, "desc");
    if (!strstr(desc, text)) {
        g_error("QMP error '%s' lacks '%s'", desc, text);
    }
    qobject_unref(error);
}

static QTestState *start_idle(const Scratch *s, const char *chardevs)
{
    g_autofree char *disk = make_boot_disk(s->dir, "idle", 1);

    return qtest_initf("-M pc,graphics=off -nodefaults -accel tcg %s "
                       "-drive file=%s,format=raw,if=ide" QUIET_STDOUT,
                       chardevs, disk);
}

static void assert_rotated_event(QTestState *qts, const char *id,
                                 const char *path)
{
    QDict *event = qtest_qmp_eventwait_ref(qts, "CHARDEV_ROTATED");
    QDict *data = qdict_get_qdict(event, "data");

    g_assert_cmpstr(qdict_get_str(data, "id"), ==, id);
    g_assert_cmpstr(qdict_get_str(data, "path"), ==, path);
    qobject_unref(event);
}

/* chardev-add takes the new members, and rotates a file it finds. */
static void test_qmp_chardev_add(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *logfile = g_build_filename(s->dir, "pty.log", NULL);
    g_autofree char *log0 = g_strdup_printf("%s.0", logfile);
    QTestState *qts = start_idle(s, "");

    g_assert(g_file_set_contents(s->log, "previous\n", -1, NULL));
    qtest_qmp_assert_success(qts,
        "{'execute': 'chardev-add', 'arguments': {'id': 'out',"
        " 'backend': {'type': 'file', 'data': {'out': %s,"
        " 'rotate': 2, 'rotate-size': 65536}}}}", s->log);
    g_assert_cmpstr(slurp_gen(s, 0), ==, "previous\n");
    g_assert_cmpstr(slurp_gen(s, -1), ==, "");

    g_assert(g_file_set_contents(logfile, "old log\n", -1, NULL));
    qtest_qmp_assert_success(qts,
        "{'execute': 'chardev-add', 'arguments': {'id': 'pty',"
        " 'backend': {'type': 'pty', 'data': {'logfile': %s,"
        " 'logrotate': 1}}}}", logfile);
    g_assert_cmpstr(slurp(log0), ==, "old log\n");

    /* Bad members: an error naming them, and the files untouched. */
    assert_qmp_error(qts, "rotate",
        "{'execute': 'chardev-add', 'arguments': {'id': 'bad',"
        " 'backend': {'type': 'file', 'data': {'out': %s,"
        " 'rotate': 300}}}}", s->log);
    assert_qmp_error(qts, "rotate-size for",
        "{'execute': 'chardev-add', 'arguments': {'id': 'bad',"
        " 'backend': {'type': 'file', 'data': {'out': %s,"
        " 'rotate-size': 65536}}}}", s->log);
    assert_qmp_error(qts, "logrotate requires logfile",
        "{'execute': 'chardev-add', 'arguments': {'id': 'bad',"
        " 'backend': {'type': 'null', 'data': {'logrotate': 2}}}}");
    assert_qmp_error(qts, "rotate-size",
        "{'execute': 'chardev-add', 'arguments': {'id': 'bad',"
        " 'backend': {'type': 'file', 'data': {'out': %s,"
        " 'rotate': 1, 'rotate-size': 100}}}}", s->log);
    g_assert_cmpstr(slurp_gen(s, 0), ==, "previous\n");
    g_assert_false(gen_exists(s, 1));

    qtest_quit(qts);
}

/*
 * chardev-change moves a running guest's serial port to a rotating file;
 * after system_reset the guest's output lands there.
 */
static void test_qmp_chardev_change(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *first = g_build_filename(s->dir, "first.log", NULL);
    g_autofree char *chardevs = g_strdup_printf(
        "-chardev file,id=serial0,path=%s -serial chardev:serial0", first);
    g_autofree char *disk = make_boot_disk(s->dir, "changed", 500);
    QTestState *qts;

    qts = qtest_initf("-M pc,graphics=off -nodefaults -accel tcg %s "
                      "-drive file=%s,format=raw,if=ide" QUIET_STDOUT,
                       chardevs, disk);
    g_assert(wait_for_file_text(first, "END changed\n"));
    g_assert(g_file_set_contents(s->log, "before change\n", -1, NULL));
    qtest_qmp_assert_success(qts,
        "{'execute': 'chardev-change', 'arguments': {'id': 'serial0',"
        " 'backend': {'type': 'file', 'data': {'out': %s,"
        " 'rotate': 2, 'rotate-size': 4096}}}}", s->log);
    qtest_qmp_assert_success(qts, "{'execute': 'system_reset'}");
    g_assert(wait_for_text(s, 2, "END changed\n"));
    qtest_quit(qts);
    assert_lines_kept(s, 2, 4096, "changed", 500);
}

/* chardev-rotate, its event and its errors. */
static void test_qmp_rotate(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *plain = g_build_filename(s->dir, "plain.log", NULL);
    g_autofree char *chardevs = g_strdup_printf(
        "-chardev file,id=serial0,path=%s,rotate=2 -serial chardev:serial0 "
        "-chardev file,id=plain,path=%s,append=on "
        "-chardev null,id=null", s->log, plain);
    QTestState *qts = start_idle(s, chardevs);

    g_assert(wait_for_text(s, 0, "END idle\n"));
    qtest_qmp_assert_success(qts,
        "{'execute': 'chardev-rotate', 'arguments': {'id': 'serial0'}}");
    assert_rotated_event(qts, "serial0", s->log);
    g_assert_nonnull(strstr(slurp_gen(s, 0), "END idle\n"));
    g_assert_cmpstr(slurp_gen(s, -1), ==, "");

    /* The guest's output after a reset goes to the new generation. */
    qtest_qmp_assert_success(qts, "{'execute': 'system_reset'}");
    g_assert(wait_for_text(s, 0, "END idle\n"));

    assert_qmp_error(qts, "keeps no previous files",
        "{'execute': 'chardev-rotate', 'arguments': {'id': 'plain'}}");
    assert_qmp_error(qts, "not found",
        "{'execute': 'chardev-rotate', 'arguments': {'id': 'nosuch'}}");
    assert_qmp_error(qts, "keeps no previous files",
        "{'execute': 'chardev-rotate', 'arguments': {'id': 'null'}}");

    qtest_quit(qts);
}

/*
 * chardev-rotate of an empty file changes nothing: three in a row after a
 * boot keep that boot's output.
 */
static void test_qmp_rotate_empty(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *chardevs = g_strdup_printf(
        "-chardev file,id=serial0,path=%s,rotate=2 -serial chardev:serial0",
        s->log);
    QTestState *qts = start_idle(s, chardevs);
    int i;

    g_assert(wait_for_text(s, 0, "END idle\n"));
    for (i = 0; i < 3; i++) {
        qtest_qmp_assert_success(qts,
            "{'execute': 'chardev-rotate', 'arguments': {'id': 'serial0'}}");
    }
    assert_rotated_event(qts, "serial0", s->log);
    qtest_quit(qts);
    g_assert_nonnull(strstr(slurp_gen(s, 0), "END idle\n"));
    g_assert_cmpstr(slurp_gen(s, -1), ==, "");
    g_assert_false(gen_exists(s, 1));
}

/*
 * With mux=on, the commands and the event use the id the user gave, not
 * that of the chardev beneath the multiplexer; a monitor on the same
 * chardev keeps answering.
 */
static void test_mux_with_monitor(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *chardevs = g_strdup_printf(
        "-chardev file,id=serial0,path=%s,rotate=2,mux=on "
        "-serial chardev:serial0 -mon chardev=serial0,mode=readline",
        s->log);
    QTestState *qts = start_idle(s, chardevs);

    g_assert(wait_for_text(s, 0, "END idle\n"));
    qtest_qmp_assert_success(qts,
        "{'execute': 'chardev-rotate', 'arguments': {'id': 'serial0'}}");
    assert_rotated_event(qts, "serial0", s->log);
    g_assert_nonnull(strstr(slurp_gen(s, 0), "END idle\n"));
    qtest_quit(qts);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    if (!qtest_has_accel("tcg")) {
        g_test_skip("TCG is needed to run guest code");
        return g_test_run();
    }
    qtest_add_func("chardev-rotate/restart/default-truncates",
                   test_restart_default_truncates);
    qtest_add_func("chardev-rotate/restart/append", test_restart_append);
    qtest_add_func("chardev-rotate/restart/rotate-1", test_restart_rotate_1);
    qtest_add_func("chardev-rotate/restart/rotate-3", test_restart_rotate_3);
    qtest_add_func("chardev-rotate/restart/pty-logfile",
                   test_restart_pty_logfile);
    qtest_add_func("chardev-rotate/size/guest-writes", test_size_guest_writes);
    qtest_add_func("chardev-rotate/size/pty-logfile", test_size_pty_logfile);
    qtest_add_func("chardev-rotate/size/append-across-restarts",
                   test_size_append_across_restarts);
    qtest_add_func("chardev-rotate/qmp/chardev-add", test_qmp_chardev_add);
    qtest_add_func("chardev-rotate/qmp/chardev-change",
                   test_qmp_chardev_change);
    qtest_add_func("chardev-rotate/qmp/rotate-reopen",
                   test_qmp_rotate);
    qtest_add_func("chardev-rotate/qmp/rotate-empty", test_qmp_rotate_empty);
    qtest_add_func("chardev-rotate/mux-with-monitor", test_mux_with_monitor);

    return g_test_run();
}
