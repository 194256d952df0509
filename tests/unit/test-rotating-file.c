/*
 * Chardev output files that keep generations: tests on real files
 *
 * Copyright (c) 2026 The QEMU console log contributors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <glib/gstdio.h>
#include "qapi/error.h"
#include "qemu/main-loop.h"
#include "chardev/rotating-file.h"

static char *dir;

static char *gen(const char *name, int k)
{
    return k < 0 ? g_build_filename(dir, name, NULL)
                 : g_strdup_printf("%s/%s.%d", dir, name, k);
}

static char *read_gen(const char *name, int k)
{
    g_autofree char *path = gen(name, k);
    char *contents = NULL;

    g_file_get_contents(path, &contents, NULL, NULL);
    return contents;
}

static void write_gen(const char *name, int k, const char *contents)
{
    g_autofree char *path = gen(name, k);

    g_assert_true(g_file_set_contents(path, contents, -1, NULL));
}

static RotatingFile *open_rf(const char *name, bool append, unsigned n,
                             uint64_t max, Error **errp)
{
    g_autofree char *path = gen(name, -1);

    return rotating_file_open(NULL, "rotate", path, append, n, max, errp);
}

static gboolean woken(void *unused, GIOCondition cond, void *opaque)
{
    *(bool *)opaque = true;
    return G_SOURCE_REMOVE;
}

/* Write all of @buf as a chardev frontend would: wait for the watch */
static void write_all(RotatingFile *rf, const char *buf, size_t len,
                      int *waits)
{
    while (len) {
        ssize_t ret = rotating_file_write(rf, buf, len,
                                          ROTATING_FILE_WRITE);

        if (ret > 0) {
            buf += ret;
            len -= ret;
        } else {
            GSource *src = rotating_file_create_watch(rf);
            bool ready = false;

            g_assert_true(ret == 0 || errno == EAGAIN);
            g_source_set_callback(src, (GSourceFunc)woken, &ready, NULL);
            g_source_attach(src, NULL);
            g_source_unref(src);
            while (!ready) {
                main_loop_wait(false);
            }
            (*waits)++;
        }
    }
}

/* Let every rotation in flight finish */
static void settle(void)
{
    for (int i = 0; i < 20; i++) {
        main_loop_wait(true);
        g_usleep(1000);
    }
}

static void close_rf(RotatingFile *rf)
{
    settle();
    rotating_file_close(rf);
}

static void test_start_rotation(void)
{
    for (int boot = 1; boot <= 5; boot++) {
        g_autofree char *line = g_strdup_printf("boot %d\n", boot);
        RotatingFile *rf = open_rf("start", false, 3, 0, &error_abort);
        int waits = 0;

        write_all(rf, line, strlen(line), &waits);
        close_rf(rf);
    }
    for (int k = -1; k < 3; k++) {
        g_autofree char *s = read_gen("start", k);
        g_autofree char *want = g_strdup_printf("boot %d\n", 4 - k);

        g_assert_cmpstr(s, ==, want);
    }
    g_assert_null(read_gen("start", 3));
}

static void test_start_empty_and_append(void)
{
    RotatingFile *rf;
    int waits = 0;

    write_gen("empty", -1, "");
    rf = open_rf("empty", false, 2, 0, &error_abort);
    close_rf(rf);
    g_assert_null(read_gen("empty", 0));

    write_gen("app", -1, "one\n");
    rf = open_rf("app", true, 2, 0, &error_abort);
    write_all(rf, "two\n", 4, &waits);
    close_rf(rf);
    g_assert_null(read_gen("app", 0));
    g_assert_cmpstr(read_gen("app", -1), ==, "one\ntwo\n");
}

/*
 * Numbered lines of varying length, written in chunks of @chunk bytes
 * with rotate-size=@max: every file within the bound, no line split
 * (all shorter than the reserve), and the files together the tail of
 * what was written.
 */
static void check_flood(const char *name, size_t chunk, uint64_t max,
                        unsigned n)
{
    g_autoptr(GString) all = g_string_new("");
    g_autoptr(GString) kept = g_string_new("");
    RotatingFile *rf = open_rf(name, false, n, max, &error_abort);
    uint64_t disk = 0;
    int waits = 0;

    for (int i = 0; i < 3000; i++) {
        g_string_append_printf(all, "%06d %.*s\n", i, i % 97,
                               "abcdefghijklmnopqrstuvwxyz"
                               "abcdefghijklmnopqrstuvwxyz"
                               "abcdefghijklmnopqrstuvwxyz"
                               "abcdefghijklmnopqrstuvwxyz");
    }
    for (size_t off = 0; off < all->len; off += chunk) {
        write_all(rf, all->str + off, MIN(chunk, all->len - off), &waits);
    }
    close_rf(rf);

    for (int k = n - 1; k >= -1; k--) {
        g_autofree char *s = read_gen(name, k);

        g_assert_nonnull(s);
        g_assert_cmpuint(strlen(s), <=, max);
        if (k == -1 && !*s) {
            continue;   /* made by the last rotation, not used yet */
        }
        g_assert_true(s[strlen(s) - 1] == '\n');
        disk += strlen(s);
        g_string_append(kept, s);
    }
    g_assert_null(read_gen(name, n));
    g_assert_cmpuint(disk, <=, (n + 1) * max);
    g_assert_true(g_str_has_suffix(all->str, kept->str));
    g_assert_true(kept->len == all->len || all->str[all->len - kept->len - 1]
                  == '\n');
    g_test_message("%s: %d waits for a new file", name, waits);
}

static void test_size_chunks(void)
{
    check_flood("chunks", 4096, 8192, 3);
}

static void test_size_bytes(void)
{
    check_flood("bytes", 1, 4096, 4);
}

static void test_size_big_writes(void)
{
    /* Each write larger than a file: spread over several */
    check_flood("big", 20000, 4096, 40);
}

/* A line longer than a file is split; nothing else is */
static void test_size_long_line(void)
{
    g_autofree char *line = g_strnfill(10000, 'x');
    RotatingFile *rf = open_rf("long", false, 3, 4096, &error_abort);
    g_autofree char *p = NULL, *p0 = NULL, *p1 = NULL;
    int waits = 0;

    write_all(rf, "short\n", 6, &waits);
    write_all(rf, line, 10000, &waits);
    write_all(rf, "\n", 1, &waits);
    close_rf(rf);
    p = read_gen("long", -1);
    p0 = read_gen("long", 0);
    p1 = read_gen("long", 1);
    g_assert_cmpuint(strlen(p1), ==, 4096);
    g_assert_true(g_str_has_prefix(p1, "short\nxxx"));
    g_assert_cmpuint(strlen(p0), ==, 4096);
    g_assert_cmpuint(strlen(p), ==, 10007 - 8192);
}

/* A line that never ends, from a caller that cannot wait, still rotates */
static void test_size_long_line_write_all(void)
{
    g_autofree char *line = g_strnfill(10000, 'x');
    RotatingFile *rf = open_rf("nowait", false, 3, 4096, &error_abort);
    g_autoptr(GString) kept = g_string_new("");

    for (int i = 0; i < 10000; i += 100) {
        g_assert_cmpint(rotating_file_write(rf, line, 100,
                                            ROTATING_FILE_WRITE_ALL), ==, 100);
        settle();
    }
    close_rf(rf);
    for (int k = 2; k >= -1; k--) {
        g_autofree char *s = read_gen("nowait", k);

        g_assert_cmpuint(strlen(s ?: ""), <=, 4096);
        g_string_append(kept, s ?: "");
    }
    g_assert_cmpstr(kept->str, ==, line);
}

/*
 * A rotation that cannot rename (a directory where PATH.1 must go)
 * deletes nothing, however often it is tried; the file grows beyond its
 * limit meanwhile and rotates once the way is clear.
 */
static void test_rename_keeps_failing(void)
{
    g_autofree char *blocker = gen("fail", 1);
    g_autofree char *inside = g_build_filename(blocker, "x", NULL);
    g_autofree char *block = g_strnfill(1000, 'b');
    RotatingFile *rf;
    int waits = 0;

    write_gen("fail", 2, "oldest\n");
    write_gen("fail", 0, "older\n");
    g_assert_cmpint(g_mkdir(blocker, 0700), ==, 0);
    g_assert_true(g_file_set_contents(inside, "", 0, NULL));
    rf = open_rf("fail", false, 3, 4096, &error_abort);
    block[999] = '\n';
    for (int i = 0; i < 12; i++) {
        write_all(rf, block, 1000, &waits);
        settle();
        g_usleep(300 * 1000);   /* a retry every second */
    }
    g_assert_cmpstr(read_gen("fail", 2), ==, "oldest\n");
    g_assert_cmpstr(read_gen("fail", 0), ==, "older\n");
    g_assert_cmpuint(strlen(read_gen("fail", -1)), ==, 12000);

    g_assert_cmpint(g_unlink(inside), ==, 0);
    g_assert_cmpint(g_rmdir(blocker), ==, 0);
    g_usleep(1100 * 1000);
    write_all(rf, block, 1000, &waits);
    close_rf(rf);
    g_assert_cmpstr(read_gen("fail", 2), ==, "oldest\n");
    g_assert_cmpstr(read_gen("fail", 1), ==, "older\n");
    g_assert_cmpuint(strlen(read_gen("fail", 0)), ==, 13000);
}

/* Symlinks at generations are renamed, never written through */
static void test_symlink_generation(void)
{
    g_autofree char *target = gen("precious", -1);
    g_autofree char *link = gen("sym", 1);
    RotatingFile *rf;

    write_gen("precious", -1, "precious\n");
    g_assert_cmpint(symlink(target, link), ==, 0);
    write_gen("sym", -1, "boot 1\n");
    write_gen("sym", 0, "boot 0\n");
    rf = open_rf("sym", false, 3, 0, &error_abort);
    close_rf(rf);
    g_assert_cmpstr(read_gen("precious", -1), ==, "precious\n");
    g_assert_cmpstr(read_gen("sym", 0), ==, "boot 1\n");
    g_assert_cmpstr(read_gen("sym", 1), ==, "boot 0\n");
    g_assert_cmpstr(read_gen("sym", 2), ==, "precious\n");
}

/* Bad input: an error naming option and path, and nothing changed */
static void test_bad_input(void)
{
    g_autofree char *d = gen("adir", -1);
    g_autofree char *fifo = gen("fifo", -1);
    g_autofree char *link = gen("link", -1);
    g_autofree char *target = gen("target", -1);
    struct {
        const char *name;
        uint64_t max;
        const char *error;
    } cases[] = {
        { "small", 4095, "rotate-size=4095 for '" },
        { "adir", 0, "rotate=2 cannot be used with '" },
        { "fifo", 0, "rotate=2 cannot be used with '" },
        { "link", 0, "rotate=2 cannot be used with '" },
        { "nodir/file", 0, "Could not create '" },
    };
    Error *err = NULL;

    g_assert_cmpint(g_mkdir(d, 0700), ==, 0);
    g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
    write_gen("target", -1, "target\n");
    g_assert_cmpint(symlink(target, link), ==, 0);
    write_gen("small", -1, "small\n");
    for (int i = 0; i < ARRAY_SIZE(cases); i++) {
        g_autofree char *path = gen(cases[i].name, -1);
        g_autofree char *path0 = gen(cases[i].name, 0);

        g_assert_null(open_rf(cases[i].name, false, 2, cases[i].max, &err));
        g_assert_nonnull(strstr(error_get_pretty(err), cases[i].error));
        g_assert_nonnull(strstr(error_get_pretty(err), path));
        g_clear_pointer(&err, error_free);
        g_assert_false(g_file_test(path0, G_FILE_TEST_EXISTS));
    }
    g_assert_null(rotating_file_open(NULL, "logrotate", "/dev/fdset/1",
                                     false, 1, 0, &err));
    g_assert_nonnull(strstr(error_get_pretty(err),
                            "logrotate=1 cannot be used with '/dev/fdset/1'"));
    error_free(err);
    g_assert_cmpstr(read_gen("small", -1), ==, "small\n");
    g_assert_cmpstr(read_gen("target", -1), ==, "target\n");
}

int main(int argc, char **argv)
{
    g_autofree char *tmpl = g_build_filename(g_get_tmp_dir(),
                                             "rotating-file-XXXXXX", NULL);
    int ret;

    g_test_init(&argc, &argv, NULL);
    qemu_init_main_loop(&error_abort);
    dir = g_mkdtemp(tmpl);
    g_assert_nonnull(dir);

    g_test_add_func("/rotating-file/start/rotation", test_start_rotation);
    g_test_add_func("/rotating-file/start/empty-and-append",
                    test_start_empty_and_append);
    g_test_add_func("/rotating-file/size/chunks", test_size_chunks);
    g_test_add_func("/rotating-file/size/bytes", test_size_bytes);
    g_test_add_func("/rotating-file/size/big-writes", test_size_big_writes);
    g_test_add_func("/rotating-file/size/long-line", test_size_long_line);
    g_test_add_func("/rotating-file/size/long-line-write-all",
                    test_size_long_line_write_all);
    g_test_add_func("/rotating-file/fault/rename-keeps-failing",
                    test_rename_keeps_failing);
    g_test_add_func("/rotating-file/fault/symlink-generation",
                    test_symlink_generation);
    g_test_add_func("/rotating-file/bad-input", test_bad_input);
    ret = g_test_run();

    g_autofree char *rm = g_strdup_printf("rm -rf %s", dir);
    g_assert_cmpint(system(rm), ==, 0);
    return ret;
}
