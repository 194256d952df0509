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
#include "qobject/qlist.h"

/*
 * Real-mode boot sector: print a newline (SeaBIOS's last line has none),
 * COUNT lines "NNNNN LABEL\n" numbered from 00000, then "END LABEL\n", to
 * COM1, then halt with interrupts off.  Like a real driver, it waits for
 * the transmitter before each byte.
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
#define HALTED_EIP      "EIP=00007c3d "     /* after the hlt at 0x3c */

#define GUEST_TIMEOUT_US (120 * G_USEC_PER_SEC)

/*
 * Fail with a message.  Unlike g_error(), which traps, this aborts, so
 * that libqtest's SIGABRT hooks end QEMU and remove the test's files.
 */
#define test_fail(...) \
    do { \
        g_test_message(__VA_ARGS__); \
        g_assert_not_reached(); \
    } while (0)

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
    int fd;

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
    /* In place: a guest that QEMU runs may read it at its next reset */
    fd = open(disk, O_WRONLY | O_CREAT, 0644);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(write(fd, sector, sizeof(sector)), ==, sizeof(sector));
    close(fd);
    return disk;
}

/* What the boot sector prints: a newline, the numbered lines, END. */
static GString *guest_output(const char *label, int count)
{
    GString *out = g_string_new("\n");
    int i;

    for (i = 0; i < count; i++) {
        g_string_append_printf(out, "%05d %s\n", i, label);
    }
    g_string_append_printf(out, "END %s\n", label);
    return out;
}

typedef struct Scratch {
    char *dir;
    char *log;              /* dir/console.log */
} Scratch;

/* Also from the handler of SIGABRT: asserts nothing */
static int scratch_remove(Scratch *s)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", s->dir);

    return system(cmd);
}

static void scratch_abort(void *opaque)
{
    scratch_remove(opaque);
}

static Scratch *scratch_new(void)
{
    Scratch *s = g_new0(Scratch, 1);

    s->dir = g_dir_make_tmp("chardev-rotate-XXXXXX", NULL);
    g_assert(s->dir);
    s->log = g_build_filename(s->dir, "console.log", NULL);
    /* A test that fails leaves nothing behind either */
    qtest_add_abrt_handler(scratch_abort, s);
    return s;
}

static void scratch_free(Scratch *s)
{
    qtest_remove_abrt_handler(s);
    g_assert_cmpint(scratch_remove(s), ==, 0);
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

static int count_of(const char *haystack, const char *needle)
{
    int n = 0;
    const char *p;

    for (p = haystack; p && (p = strstr(p, needle)); p++) {
        n++;
    }
    return n;
}

static off_t file_size(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0 ? st.st_size : -1;
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

/* Wait until the boot sector has printed all and halted. */
static void wait_halted(QTestState *qts)
{
    gint64 deadline = g_get_monotonic_time() + GUEST_TIMEOUT_US;

    for (;;) {
        g_autofree char *regs = qtest_hmp(qts, "info registers");

        if (strstr(regs, HALTED_EIP) && strstr(regs, "HLT=1")) {
            return;
        }
        if (g_get_monotonic_time() > deadline) {
            test_fail("the guest did not finish: %s", regs);
        }
        g_usleep(50 * 1000);
    }
}

static QTestState *start_guest(const Scratch *s, const char *label, int count,
                               const char *chardevs)
{
    g_autofree char *disk = make_boot_disk(s->dir, label, count);

    return qtest_initf("-M pc,graphics=off -nodefaults -accel tcg %s "
                       "-drive file=%s,format=raw,if=ide" QUIET_STDOUT,
                       chardevs, disk);
}

/*
 * Boot the guest once in a new QEMU process, with the serial port on
 * @chardev ("file,path=..." or "pty,logfile=...", without id), until it
 * has printed @count lines labelled @label and halted; then quit.
 */
static void boot_once(const Scratch *s, const char *chardev,
                      const char *label, int count)
{
    g_autofree char *chardevs = g_strdup_printf(
        "-chardev %s,id=serial0 -serial chardev:serial0", chardev);
    QTestState *qts = start_guest(s, label, count, chardevs);

    wait_halted(qts);
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
static void restart_file(const Scratch *s, const char *extra, int boots)
{
    g_autofree char *chardev = file_opts(s, extra);
    int i;

    for (i = 0; i < boots; i++) {
        boot_once(s, chardev, boot_labels[i], 3);
    }
}

/* Upstream behaviour without options: only the last boot survives. */
static void test_restart_default_truncates(void)
{
    g_autoptr(Scratch) s = scratch_new();

    restart_file(s, "", 3);
    assert_gen_holds(s, -1, "boot-3");
    g_assert_false(gen_exists(s, 0));
}

static void test_restart_append(void)
{
    g_autoptr(Scratch) s = scratch_new();

    restart_file(s, ",append=on", 3);
    assert_gen_holds(s, -1, "boot-1 boot-2 boot-3");
    g_assert_false(gen_exists(s, 0));
}

static void test_restart_rotate_1(void)
{
    g_autoptr(Scratch) s = scratch_new();

    restart_file(s, ",rotate=1", 3);
    assert_gen_holds(s, -1, "boot-3");
    assert_gen_holds(s, 0, "boot-2");
    g_assert_false(gen_exists(s, 1));
}

static void test_restart_rotate_3(void)
{
    g_autoptr(Scratch) s = scratch_new();

    restart_file(s, ",rotate=3", 5);
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
        boot_once(s, chardev, boot_labels[i], 3);
    }
    assert_gen_holds(s, -1, "boot-3");
    assert_gen_holds(s, 0, "boot-2");
    g_assert_false(gen_exists(s, 1));
}

#define NOTE_RE "\\[qemu: ([0-9]+) bytes of output lost here\\]\n"

/*
 * Where in @out, the guest's output of lines "NNNNN @label", the bytes
 * @seg of length @len start: found from the first whole line in them.
 * Bytes before @out (SeaBIOS) give a negative offset.
 */
static ssize_t align_in_output(const char *seg, size_t len, const char *label,
                               int count)
{
    g_autofree char *end = g_strdup_printf("END %s\n", label);
    size_t line_len = 6 + strlen(label) + 1;
    const char *p = seg, *stop = seg + len, *nl;

    while ((nl = memchr(p, '\n', stop - p)) && nl + 1 < stop) {
        const char *line = nl + 1;
        size_t left = stop - line;
        int n;

        if (left >= line_len && g_ascii_isdigit(line[0]) &&
            strspn(line, "0123456789") == 5 && line[5] == ' ' &&
            !memcmp(line + 6, label, strlen(label)) &&
            line[line_len - 1] == '\n') {
            n = atoi(line);
            g_assert_cmpint(n, <, count);
            return 1 + (ssize_t)n * line_len - (line - seg);
        }
        if (left >= strlen(end) && !memcmp(line, end, strlen(end))) {
            return 1 + (ssize_t)count * line_len - (line - seg);
        }
        p = line;
    }
    test_fail("no whole line of the guest's in '%.*s'", (int)len, seg);
}

/*
 * @kept, the generations read oldest first, is the guest's output (@count
 * lines labelled @label) from some point on, but where a file starts with
 * a note that N bytes were lost: there, the N bytes before it are missing.
 * SeaBIOS's output may come first.  Returns the bytes that the notes
 * count, and in *@end how much of the output the files reach.
 */
static uint64_t assert_output_kept(const GString *kept, const char *label,
                                   int count, size_t *end)
{
    g_autoptr(GString) out = guest_output(label, count);
    g_autoptr(GRegex) note_re = g_regex_new(NOTE_RE, 0, 0, NULL);
    g_autoptr(GMatchInfo) match = NULL;
    const char *p = kept->str, *stop = kept->str + kept->len;
    uint64_t noted = 0;
    ssize_t at = -1;

    g_regex_match_full(note_re, kept->str, kept->len, 0, 0, &match, NULL);
    while (p < stop) {
        const char *seg_end = stop, *next = stop;
        gint from, to;
        size_t len;

        if (g_match_info_matches(match)) {
            g_match_info_fetch_pos(match, 0, &from, &to);
            seg_end = kept->str + from;
            next = kept->str + to;
        }
        len = seg_end - p;
        if (at < 0 && len) {
            /* The oldest bytes kept, or the first after a note there */
            at = align_in_output(p, len, label, count);
            if (at < 0) {
                /* SeaBIOS before the guest's output: the oldest file */
                g_assert_true(p == kept->str);
                p -= at;
                len += at;
                at = 0;
            }
        }
        if (len && (at + len > out->len ||
                    memcmp(p, out->str + at, len) != 0)) {
            test_fail("the files differ from the guest's output at its byte "
                    "%zd: '%.40s'", at, p);
        }
        at += len;
        if (seg_end < stop) {
            g_autofree char *n = g_match_info_fetch(match, 1);

            noted += g_ascii_strtoull(n, NULL, 10);
            if (at >= 0) {
                at += g_ascii_strtoull(n, NULL, 10);
            }
            g_match_info_next(match, NULL);
        }
        p = next;
    }
    g_assert_cmpint(at, >=, 0);
    *end = at;
    return noted;
}

/* query-chardev's @dropped of chardev @id, or -1 without it */
static int64_t query_dropped(QTestState *qts, const char *id)
{
    QDict *resp = qtest_qmp(qts, "{'execute': 'query-chardev'}");
    QList *list = qdict_get_qlist(resp, "return");
    int64_t dropped = -2;
    QListEntry *e;

    QLIST_FOREACH_ENTRY(list, e) {
        QDict *info = qobject_to(QDict, qlist_entry_obj(e));

        if (!strcmp(qdict_get_str(info, "label"), id)) {
            dropped = qdict_haskey(info, "dropped")
                      ? qdict_get_int(info, "dropped") : -1;
        }
    }
    qobject_unref(resp);
    g_assert_cmpint(dropped, !=, -2);
    return dropped;
}

/*
 * No file is larger than twice @size, the @generations + 1 files (or
 * fewer) take at most (@generations + 2) x @size, and there are no more
 * of them.
 */
static void assert_files_bounded(const Scratch *s, int generations,
                                 off_t size)
{
    off_t total = 0;
    int k;

    for (k = -1; k < generations; k++) {
        g_autofree char *name = gen_name(s, k);
        off_t len = file_size(name);

        g_test_message("%s: %jd bytes", name, (intmax_t)len);
        g_assert_cmpint(len, <=, 2 * size);
        total += MAX(len, 0);
    }
    g_assert_cmpint(total, <=, (generations + 2) * size);
    g_assert_false(gen_exists(s, generations));
}

/*
 * The guest on chardev @chardev ("...,id=serial0") prints @count lines
 * labelled @label; the files of @s, @generations + 1 at most, keep the
 * end of its output within the bounds of @size, with nothing lost.
 */
static void check_size_limit(const Scratch *s, const char *chardev,
                             int generations, off_t size, const char *label,
                             int count)
{
    g_autofree char *chardevs = g_strdup_printf(
        "-chardev %s -serial chardev:serial0", chardev);
    g_autoptr(GString) out = guest_output(label, count);
    g_autoptr(GString) kept = NULL;
    QTestState *qts = start_guest(s, label, count, chardevs);
    uint64_t noted;
    int64_t dropped;
    size_t end;

    wait_halted(qts);
    dropped = query_dropped(qts, "serial0");
    qtest_quit(qts);

    /* The guest wrote enough to go through every generation */
    g_assert_cmpuint(out->len, >, (generations + 2) * size);
    g_assert_true(gen_exists(s, generations - 1));
    assert_files_bounded(s, generations, size);
    kept = kept_stream(s, generations);
    noted = assert_output_kept(kept, label, count, &end);
    g_test_message("%zu bytes kept of %zu; %" PRId64 " dropped, %" PRIu64
                   " of them noted in the files kept", kept->len, out->len,
                   dropped, noted);
    g_assert_cmpint(dropped, >=, 0);
    g_assert_cmpuint(noted, <=, dropped);
    /*
     * Up to the guest's last byte, but for what was dropped at the end
     * (a rotation that fell behind on a busy host), which query-chardev
     * counts with what the notes kept and those of older files count.
     */
    g_assert_cmpuint(end + (dropped - noted), >=, out->len);
    g_assert_cmpuint(end, <=, out->len);
    if (!dropped) {
        g_assert_cmpuint(end, ==, out->len);
    }
}

/* The guest writes far more than size. */
static void test_size_guest_writes(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *chardev = file_opts(s, ",rotate=3,size=8K,id=serial0");

    check_size_limit(s, chardev, 3, 8192, "size-test-line-with-padding",
                     3000);
}

static void test_size_pty_logfile(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *chardev = g_strdup_printf(
        "pty,id=serial0,logfile=%s,logrotate=2,logsize=4096", s->log);

    check_size_limit(s, chardev, 2, 4096, "logfile-size-test", 1000);
}

/* append=on across processes, bounded by size. */
static void test_size_append_across_restarts(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *chardev = file_opts(s, ",append=on,rotate=3,size=4K");
    g_autoptr(GString) out = guest_output("boot-2", 600);
    g_autoptr(GString) kept = NULL;
    size_t end;

    boot_once(s, chardev, "boot-1", 600);
    g_assert_false(gen_exists(s, 2));
    boot_once(s, chardev, "boot-2", 600);
    g_assert_true(gen_exists(s, 2));
    assert_files_bounded(s, 3, 4096);
    kept = kept_stream(s, 3);
    g_assert_cmpuint(assert_output_kept(kept, "boot-2", 600, &end), ==, 0);
    g_assert_cmpuint(end, ==, out->len);
    /* The first boot's end, in the same file as the second's start */
    g_assert_nonnull(strstr(kept->str, "END boot-1\n"));
}

/*
 * Renames that fail (a directory, not empty, where PATH.0 would go):
 * PATH grows to twice size, and what goes beyond is dropped
 * and counted, by query-chardev, a warning, and a note where the output
 * goes on, in the next file, once renames work again.  A chardev without
 * rotation has no count.
 */
static void test_size_rename_fails(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *older = gen_name(s, 0);
    g_autofree char *obstacle = gen_name(s, 1);
    g_autofree char *inside = g_build_filename(obstacle, "file", NULL);
    g_autofree char *plain = g_build_filename(s->dir, "plain.log", NULL);
    g_autofree char *errors = g_build_filename(s->dir, "stderr", NULL);
    g_autofree char *chardevs = g_strdup_printf(
        "-chardev file,id=serial0,path=%s,rotate=2,size=4K "
        "-serial chardev:serial0 -chardev file,id=plain,path=%s 2>%s",
        s->log, plain, errors);
    g_autoptr(GString) out = guest_output("drop-test", 1000);
    g_autofree char *full = NULL;
    g_autofree char *note = NULL;
    g_autofree char *warnings = NULL;
    g_autofree char *want = NULL;
    g_autofree char *lost = NULL;
    g_autofree char *kept = NULL;
    g_autoptr(GString) stream = NULL;
    gint64 deadline;
    int64_t dropped;
    const char *at;
    QTestState *qts;

    g_assert_cmpint(mkdir(obstacle, 0700), ==, 0);
    g_assert(g_file_set_contents(inside, "x", -1, NULL));
    g_assert(g_file_set_contents(older, "older\n", -1, NULL));
    qts = start_guest(s, "drop-test", 1000, chardevs);
    wait_halted(qts);
    dropped = query_dropped(qts, "serial0");
    g_assert_cmpint(query_dropped(qts, "plain"), ==, -1);

    /*
     * PATH ran up to twice size, less the size of PATH.0, which the first
     * file of a QEMU counts as run over; the rest of the output was dropped
     */
    full = slurp(s->log);
    g_assert_cmpint(file_size(s->log), ==, 2 * 4096 - strlen("older\n"));
    at = strstr(full, out->str);
    g_assert_null(at);
    at = g_strstr_len(full, -1, "\n00000 drop-test\n");
    g_assert_nonnull(at);
    g_assert_cmpmem(at, strlen(full) - (at - full), out->str,
                    strlen(full) - (at - full));
    g_assert_cmpint(dropped, ==,
                    (at - full) + out->len - file_size(s->log));
    g_assert_cmpint(query_dropped(qts, "serial0"), ==, dropped);

    /*
     * A warning says why the rotation failed, and one that output is
     * being lost, as soon as it is (query-chardev has the count)
     */
    want = g_strdup_printf("warning: chardev 'serial0': rotate: cannot "
                           "rename '%s' to '%s': Is a directory", older,
                           obstacle);
    lost = g_strdup(" bytes of output lost so far\n");
    deadline = g_get_monotonic_time() + 15 * G_USEC_PER_SEC;
    do {
        g_free(warnings);
        warnings = slurp(errors);
        if (strstr(warnings, lost)) {
            break;
        }
        g_usleep(100 * 1000);
    } while (g_get_monotonic_time() < deadline);
    g_test_message("%" PRId64 " bytes dropped; %s", dropped, warnings);
    g_assert_nonnull(strstr(warnings, want));
    g_assert_nonnull(strstr(warnings, lost));
    g_assert_cmpint(count_of(warnings, "warning:"), <=, 2);

    /*
     * Renames work again: the full file is kept, and where the output
     * goes on, in the next file, a note says what was lost before.
     */
    g_assert_cmpint(unlink(inside), ==, 0);
    g_assert_cmpint(rmdir(obstacle), ==, 0);
    qtest_qmp_assert_success(qts, "{'execute': 'chardev-rotate',"
                             " 'arguments': {'id': 'serial0'}}");
    deadline = g_get_monotonic_time() + GUEST_TIMEOUT_US;
    for (;;) {
        g_free(kept);
        kept = slurp_gen(s, 0);
        if (kept && !strcmp(kept, full)) {
            break;
        }
        if (g_get_monotonic_time() > deadline) {
            test_fail("the full file did not become PATH.0");
        }
        g_usleep(20 * 1000);
    }
    g_free(make_boot_disk(s->dir, "again", 1));
    qtest_qmp_assert_success(qts, "{'execute': 'system_reset'}");
    g_assert_true(wait_for_file_text(s->log, "END again\n"));
    wait_halted(qts);
    /*
     * The note's file may have been rotated at once (its limit is size
     * less what the file before ran over): read the files in order.
     */
    note = g_strdup_printf("[qemu: %" PRId64 " bytes of output lost here]\n",
                           dropped);
    stream = kept_stream(s, 2);
    at = strstr(stream->str, full);
    g_assert_nonnull(at);
    at += strlen(full);
    if (!g_str_has_prefix(at, note)) {
        test_fail("after the full file comes '%.80s', not %s", at, note);
    }
    g_assert_cmpint(count_of(stream->str, "[qemu: "), ==, 1);
    g_assert_true(g_str_has_suffix(at, "\n00000 again\nEND again\n"));
    g_assert_nonnull(strstr(at, "SeaBIOS"));
    g_assert_cmpint(query_dropped(qts, "serial0"), ==, dropped);
    qtest_quit(qts);
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
        test_fail("QMP error '%s' lacks '%s'", desc, text);
    }
    qobject_unref(error);
}

/* Wait until generation @k of @s exists and holds @text. */
static void wait_gen_holds(const Scratch *s, int k, const char *text)
{
    g_autofree char *name = gen_name(s, k);

    if (!wait_for_file_text(name, text)) {
        test_fail("'%s' did not reach %s", text, name);
    }
}

/*
 * After system_reset: wait for the new boot in the files of @s, then for
 * its end.  The files were empty at the reset.
 */
static void wait_rebooted(QTestState *qts, const Scratch *s, int generations)
{
    gint64 deadline = g_get_monotonic_time() + GUEST_TIMEOUT_US;

    for (;;) {
        g_autoptr(GString) kept = kept_stream(s, generations);

        if (strstr(kept->str, "SeaBIOS")) {
            break;
        }
        if (g_get_monotonic_time() > deadline) {
            test_fail("no new boot in %s", s->log);
        }
        g_usleep(20 * 1000);
    }
    wait_halted(qts);
}

/* chardev-add takes the new members, and rotates a file it finds. */
static void test_qmp_chardev_add(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *logfile = g_build_filename(s->dir, "pty.log", NULL);
    g_autofree char *log0 = g_strdup_printf("%s.0", logfile);
    g_autofree char *want = NULL;
    QTestState *qts = start_guest(s, "idle", 1, "");

    g_assert(g_file_set_contents(s->log, "previous\n", -1, NULL));
    qtest_qmp_assert_success(qts,
        "{'execute': 'chardev-add', 'arguments': {'id': 'out',"
        " 'backend': {'type': 'file', 'data': {'out': %s,"
        " 'rotate': 2, 'size': 65536}}}}", s->log);
    g_assert_cmpstr(slurp_gen(s, 0), ==, "previous\n");
    g_assert_cmpstr(slurp_gen(s, -1), ==, "");
    g_assert_cmpint(query_dropped(qts, "out"), ==, 0);

    g_assert(g_file_set_contents(logfile, "old log\n", -1, NULL));
    qtest_qmp_assert_success(qts,
        "{'execute': 'chardev-add', 'arguments': {'id': 'pty',"
        " 'backend': {'type': 'pty', 'data': {'logfile': %s,"
        " 'logrotate': 1}}}}", logfile);
    g_assert_cmpstr(slurp(log0), ==, "old log\n");
    g_assert_cmpint(query_dropped(qts, "pty"), ==, 0);

    /* Bad members: an error naming them, and the files untouched. */
    g_assert(g_file_set_contents(s->log, "current\n", -1, NULL));
    want = g_strdup_printf("rotate for '%s' must be 1 to 255, not 300",
                           s->log);
    assert_qmp_error(qts, want,
        "{'execute': 'chardev-add', 'arguments': {'id': 'bad',"
        " 'backend': {'type': 'file', 'data': {'out': %s,"
        " 'rotate': 300}}}}", s->log);
    g_free(want);
    want = g_strdup_printf("size for '%s' requires rotate", s->log);
    assert_qmp_error(qts, want,
        "{'execute': 'chardev-add', 'arguments': {'id': 'bad',"
        " 'backend': {'type': 'file', 'data': {'out': %s,"
        " 'size': 65536}}}}", s->log);
    g_free(want);
    want = g_strdup_printf("size for '%s' must be 4K to 1T", s->log);
    assert_qmp_error(qts, want,
        "{'execute': 'chardev-add', 'arguments': {'id': 'bad',"
        " 'backend': {'type': 'file', 'data': {'out': %s,"
        " 'rotate': 1, 'size': 100}}}}", s->log);
    assert_qmp_error(qts, "logrotate requires logfile",
        "{'execute': 'chardev-add', 'arguments': {'id': 'bad',"
        " 'backend': {'type': 'null', 'data': {'logrotate': 2}}}}");
    g_assert_cmpstr(slurp_gen(s, -1), ==, "current\n");
    g_assert_cmpstr(slurp_gen(s, 0), ==, "previous\n");
    g_assert_false(gen_exists(s, 1));

    qtest_quit(qts);
}

/*
 * chardev-change moves a running guest's serial port to a rotating file;
 * after system_reset the guest's output lands there, bounded.
 */
static void test_qmp_chardev_change(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *first = g_build_filename(s->dir, "first.log", NULL);
    g_autofree char *chardevs = g_strdup_printf(
        "-chardev file,id=serial0,path=%s -serial chardev:serial0", first);
    QTestState *qts = start_guest(s, "changed", 500, chardevs);
    g_autoptr(GString) out = guest_output("changed", 500);
    g_autoptr(GString) kept = NULL;
    g_autofree char *left = NULL;
    size_t end;

    wait_halted(qts);
    g_assert(g_file_set_contents(s->log, "before change\n", -1, NULL));
    qtest_qmp_assert_success(qts,
        "{'execute': 'chardev-change', 'arguments': {'id': 'serial0',"
        " 'backend': {'type': 'file', 'data': {'out': %s,"
        " 'rotate': 2, 'size': 4096}}}}", s->log);
    g_assert_cmpstr(slurp_gen(s, 0), ==, "before change\n");
    g_assert_cmpstr(slurp_gen(s, -1), ==, "");
    qtest_qmp_assert_success(qts, "{'execute': 'system_reset'}");
    wait_rebooted(qts, s, 2);
    qtest_quit(qts);
    assert_files_bounded(s, 2, 4096);
    kept = kept_stream(s, 2);
    g_assert_cmpuint(assert_output_kept(kept, "changed", 500, &end), ==, 0);
    g_assert_cmpuint(end, ==, out->len);
    /* The first file, which the change left, is as it was */
    left = slurp(first);
    g_assert_cmpint(count_of(left, "END changed\n"), ==, 1);
}

/*
 * chardev-change to the file the chardev writes already: without append,
 * the new chardev starts a new file as at any open, and the old output
 * becomes PATH.0; with append=on it goes on in PATH.
 */
static void test_qmp_chardev_change_same_path(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *chardevs = g_strdup_printf(
        "-chardev file,id=serial0,path=%s,rotate=2 -serial chardev:serial0",
        s->log);
    static const char *const labels[] = { "first", "second", "third", NULL };
    QTestState *qts = start_guest(s, "first", 3, chardevs);
    g_autofree char *disk = NULL;
    g_autofree char *older = NULL;
    g_autofree char *newer = NULL;
    g_autofree char *in_older = NULL;
    g_autofree char *in_newer = NULL;

    wait_halted(qts);
    qtest_qmp_assert_success(qts,
        "{'execute': 'chardev-change', 'arguments': {'id': 'serial0',"
        " 'backend': {'type': 'file', 'data': {'out': %s,"
        " 'rotate': 2}}}}", s->log);
    g_assert_cmpstr(slurp_gen(s, -1), ==, "");
    /* The next boot prints other lines */
    disk = make_boot_disk(s->dir, "second", 3);
    qtest_qmp_assert_success(qts, "{'execute': 'system_reset'}");
    wait_rebooted(qts, s, 0);

    qtest_qmp_assert_success(qts,
        "{'execute': 'chardev-change', 'arguments': {'id': 'serial0',"
        " 'backend': {'type': 'file', 'data': {'out': %s,"
        " 'append': true, 'rotate': 2}}}}", s->log);
    g_free(disk);
    disk = make_boot_disk(s->dir, "third", 3);
    qtest_qmp_assert_success(qts, "{'execute': 'system_reset'}");
    g_assert_true(wait_for_file_text(s->log, "END third\n"));
    qtest_quit(qts);

    older = slurp_gen(s, 0);
    newer = slurp_gen(s, -1);
    in_older = boots_in(older, labels);
    in_newer = boots_in(newer, labels);
    g_assert_cmpstr(in_older, ==, "first");
    g_assert_cmpstr(in_newer, ==, "second third");
    g_assert_false(gen_exists(s, 1));
}

/*
 * chardev-rotate by QMP and HMP, on the output and the logfile, and its
 * errors: new files now, the guest's next output in them.
 */
static void test_qmp_rotate(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *plain = g_build_filename(s->dir, "plain.log", NULL);
    g_autofree char *logfile = g_build_filename(s->dir, "serial.log", NULL);
    g_autofree char *logfile0 = g_strdup_printf("%s.0", logfile);
    g_autofree char *chardevs = g_strdup_printf(
        "-chardev file,id=serial0,path=%s,rotate=2,logfile=%s,logrotate=1 "
        "-serial chardev:serial0 -chardev file,id=plain,path=%s,append=on "
        "-chardev null,id=null -chardev null,id=nullmux,mux=on",
        s->log, logfile, plain);
    QTestState *qts = start_guest(s, "rotated", 3, chardevs);
    g_autofree char *out = NULL;
    g_autofree char *gen1 = NULL;

    wait_halted(qts);
    qtest_qmp_assert_success(qts,
        "{'execute': 'chardev-rotate', 'arguments': {'id': 'serial0'}}");
    wait_gen_holds(s, 0, "END rotated\n");
    g_assert_true(wait_for_file_text(logfile0, "END rotated\n"));
    g_assert_cmpstr(slurp_gen(s, -1), ==, "");

    /* The guest's output after a reset goes to the new files. */
    qtest_qmp_assert_success(qts, "{'execute': 'system_reset'}");
    wait_rebooted(qts, s, 0);
    g_assert_true(wait_for_file_text(logfile, "END rotated\n"));
    out = qtest_hmp(qts, "chardev-rotate serial0");
    g_assert_cmpstr(out, ==, "");
    wait_gen_holds(s, 1, "END rotated\n");
    wait_gen_holds(s, 0, "END rotated\n");
    gen1 = slurp_gen(s, 1);
    g_assert_cmpint(count_of(gen1, "SeaBIOS"), ==, 1);
    g_assert_false(gen_exists(s, 2));

    assert_qmp_error(qts, "Chardev 'plain' keeps no previous files: it has "
                     "neither rotate nor logrotate",
        "{'execute': 'chardev-rotate', 'arguments': {'id': 'plain'}}");
    assert_qmp_error(qts, "Chardev 'nosuch' not found",
        "{'execute': 'chardev-rotate', 'arguments': {'id': 'nosuch'}}");
    assert_qmp_error(qts, "Chardev 'null' keeps no previous files",
        "{'execute': 'chardev-rotate', 'arguments': {'id': 'null'}}");
    assert_qmp_error(qts, "Chardev 'nullmux' keeps no previous files",
        "{'execute': 'chardev-rotate', 'arguments': {'id': 'nullmux'}}");
    g_free(out);
    out = qtest_hmp(qts, "chardev-rotate plain");
    g_assert_nonnull(strstr(out, "Chardev 'plain' keeps no previous files"));
    qtest_quit(qts);
}

/*
 * chardev-rotate of an empty file changes nothing: three in a row after a
 * boot keep that boot's output, and three more find PATH empty.
 */
static void test_qmp_rotate_empty(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *chardevs = g_strdup_printf(
        "-chardev file,id=serial0,path=%s,rotate=2 -serial chardev:serial0",
        s->log);
    QTestState *qts = start_guest(s, "idle", 1, chardevs);
    int i;

    wait_halted(qts);
    for (i = 0; i < 3; i++) {
        qtest_qmp_assert_success(qts,
            "{'execute': 'chardev-rotate', 'arguments': {'id': 'serial0'}}");
    }
    wait_gen_holds(s, 0, "END idle\n");
    for (i = 0; i < 3; i++) {
        qtest_qmp_assert_success(qts,
            "{'execute': 'chardev-rotate', 'arguments': {'id': 'serial0'}}");
    }
    /* What a rotation would have done, it would have done by now */
    qtest_qmp_assert_success(qts, "{'execute': 'query-status'}");
    g_usleep(200 * 1000);
    qtest_quit(qts);
    g_assert_nonnull(strstr(slurp_gen(s, 0), "END idle\n"));
    g_assert_cmpstr(slurp_gen(s, -1), ==, "");
    g_assert_false(gen_exists(s, 1));
}

/*
 * With mux=on, the commands take the id the user gave, not that of the
 * chardev beneath the multiplexer; a monitor on the same chardev keeps
 * answering.
 */
static void test_mux_with_monitor(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *chardevs = g_strdup_printf(
        "-chardev file,id=serial0,path=%s,rotate=2,mux=on "
        "-serial chardev:serial0 -mon chardev=serial0,mode=readline",
        s->log);
    QTestState *qts = start_guest(s, "idle", 1, chardevs);
    g_autofree char *out = NULL;

    wait_halted(qts);
    qtest_qmp_assert_success(qts,
        "{'execute': 'chardev-rotate', 'arguments': {'id': 'serial0'}}");
    wait_gen_holds(s, 0, "END idle\n");
    g_assert_cmpint(query_dropped(qts, "serial0"), ==, 0);
    out = qtest_hmp(qts, "chardev-rotate serial0");
    g_assert_cmpstr(out, ==, "");
    qtest_quit(qts);
    g_assert_false(gen_exists(s, 1));
}

/*
 * A file without the new options is the upstream file backend: opened
 * through a symbolic link, truncated, and without a count of dropped
 * bytes.
 */
static void test_plain_file_untouched(void)
{
    g_autoptr(Scratch) s = scratch_new();
    g_autofree char *target = g_build_filename(s->dir, "target.log", NULL);
    g_autofree char *chardevs = g_strdup_printf(
        "-chardev file,id=serial0,path=%s -serial chardev:serial0",
        s->log);
    g_autofree char *contents = NULL;
    QTestState *qts;

    g_assert(g_file_set_contents(target, "previous boot\n", -1, NULL));
    g_assert_cmpint(symlink(target, s->log), ==, 0);
    qts = start_guest(s, "plain", 3, chardevs);
    wait_halted(qts);
    g_assert_cmpint(query_dropped(qts, "serial0"), ==, -1);
    qtest_quit(qts);
    contents = slurp(target);
    g_assert_null(strstr(contents, "previous boot"));
    g_assert_nonnull(strstr(contents, "END plain\n"));
    g_assert_false(gen_exists(s, 0));
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
    qtest_add_func("chardev-rotate/size/rename-fails",
                   test_size_rename_fails);
    qtest_add_func("chardev-rotate/qmp/chardev-add", test_qmp_chardev_add);
    qtest_add_func("chardev-rotate/qmp/chardev-change",
                   test_qmp_chardev_change);
    qtest_add_func("chardev-rotate/qmp/chardev-change-same-path",
                   test_qmp_chardev_change_same_path);
    qtest_add_func("chardev-rotate/qmp/rotate", test_qmp_rotate);
    qtest_add_func("chardev-rotate/qmp/rotate-empty", test_qmp_rotate_empty);
    qtest_add_func("chardev-rotate/mux-with-monitor", test_mux_with_monitor);
    qtest_add_func("chardev-rotate/plain-file-untouched",
                   test_plain_file_untouched);

    return g_test_run();
}
