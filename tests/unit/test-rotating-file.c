/*
 * Tests for the rotating output file of chardevs, on real files
 *
 * Copyright (c) 2026 The QEMU console log contributors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#ifdef CONFIG_LINUX
#include <sys/ioctl.h>
#include <linux/fs.h>
#endif
#include "qapi/error.h"
#include "chardev/rotating-file.h"

typedef struct Dir {
    char *dir;
    char *path;                 /* dir/console.log */
} Dir;

static Dir *dir_new(void)
{
    Dir *d = g_new0(Dir, 1);

    d->dir = g_dir_make_tmp("rotating-file-XXXXXX", NULL);
    g_assert(d->dir);
    d->path = g_build_filename(d->dir, "console.log", NULL);
    return d;
}

static void remove_tree(const char *path)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", path);

    g_assert_cmpint(system(cmd), ==, 0);
}

static void dir_free(Dir *d)
{
    remove_tree(d->dir);
    g_free(d->path);
    g_free(d->dir);
    g_free(d);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(Dir, dir_free)

static char *gen(const Dir *d, int k)
{
    return g_strdup_printf("%s.%d", d->path, k);
}

/* Contents of @path, or NULL if it does not exist. */
static char *slurp(const char *path)
{
    char *contents = NULL;

    if (!g_file_get_contents(path, &contents, NULL, NULL)) {
        return NULL;
    }
    return contents;
}

static void put(const char *path, const char *contents)
{
    g_assert(g_file_set_contents(path, contents, -1, NULL));
}

static bool exists(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0;
}

static off_t file_size(const char *path)
{
    struct stat st;

    g_assert_cmpint(lstat(path, &st), ==, 0);
    return st.st_size;
}

static mode_t file_mode(const char *path)
{
    struct stat st;

    g_assert_cmpint(lstat(path, &st), ==, 0);
    return st.st_mode & 07777;
}

static RotatingFileOptions options(const Dir *d, bool append,
                                   int64_t generations, uint64_t max_size)
{
    return (RotatingFileOptions) {
        .path = d->path,
        .append = append,
        .generations = generations,
        .max_size = max_size,
        .path_opt = "path",
        .append_opt = "append",
        .generations_opt = "rotate",
        .max_size_opt = "rotate-size",
    };
}

static RotatingFile *open_ok(const Dir *d, bool append, int64_t generations,
                             uint64_t max_size)
{
    RotatingFileOptions opts = options(d, append, generations, max_size);

    return rotating_file_open(&opts, NULL, NULL, &error_abort);
}

static void write_all(RotatingFile *rf, const void *buf, size_t len)
{
    g_assert_cmpint(rotating_file_write(rf, buf, len), ==, len);
}

static void write_str(RotatingFile *rf, const char *s)
{
    write_all(rf, s, strlen(s));
}

/* One "QEMU process": open, write @text, close. */
static void run_once(const Dir *d, bool append, int generations,
                     const char *text)
{
    RotatingFile *rf = open_ok(d, append, generations, 0);

    write_str(rf, text);
    rotating_file_close(rf);
}

/* PATH.(n-1), ..., PATH.0, PATH concatenated: the kept stream. */
static GString *kept_stream(const Dir *d, int generations)
{
    GString *s = g_string_new("");
    int k;

    for (k = generations - 1; k >= -1; k--) {
        g_autofree char *name = k < 0 ? g_strdup(d->path) : gen(d, k);
        g_autofree char *contents = slurp(name);

        if (contents) {
            g_string_append(s, contents);
        }
    }
    return s;
}

static void assert_file(const char *path, const char *expected)
{
    g_autofree char *contents = slurp(path);

    g_assert_cmpstr(contents, ==, expected);
}

static void assert_gen(const Dir *d, int k, const char *expected)
{
    g_autofree char *name = gen(d, k);

    assert_file(name, expected);
}

/* Without rotation options: exactly what QEMU always did. */
static void test_plain_truncate(void)
{
    g_autoptr(Dir) d = dir_new();

    run_once(d, false, 0, "boot 1\n");
    run_once(d, false, 0, "boot 2\n");
    assert_file(d->path, "boot 2\n");
    g_assert_false(exists(gen(d, 0)));
}

static void test_plain_append(void)
{
    g_autoptr(Dir) d = dir_new();

    run_once(d, true, 0, "boot 1\n");
    run_once(d, true, 0, "boot 2\n");
    assert_file(d->path, "boot 1\nboot 2\n");
}

static void test_start_rotate_1(void)
{
    g_autoptr(Dir) d = dir_new();

    run_once(d, false, 1, "boot 1\n");
    assert_file(d->path, "boot 1\n");
    run_once(d, false, 1, "boot 2\n");
    assert_file(d->path, "boot 2\n");
    assert_gen(d, 0, "boot 1\n");
    run_once(d, false, 1, "boot 3\n");
    assert_file(d->path, "boot 3\n");
    assert_gen(d, 0, "boot 2\n");
    g_assert_false(exists(gen(d, 1)));
}

static void test_start_rotate_3(void)
{
    g_autoptr(Dir) d = dir_new();
    int boot;

    for (boot = 1; boot <= 5; boot++) {
        g_autofree char *text = g_strdup_printf("boot %d\n", boot);

        run_once(d, false, 3, text);
    }
    assert_file(d->path, "boot 5\n");
    assert_gen(d, 0, "boot 4\n");
    assert_gen(d, 1, "boot 3\n");
    assert_gen(d, 2, "boot 2\n");
    g_assert_false(exists(gen(d, 3)));
}

/* An empty PATH is not worth a generation. */
static void test_start_empty_not_shifted(void)
{
    g_autoptr(Dir) d = dir_new();

    put(d->path, "");
    run_once(d, false, 2, "boot 1\n");
    assert_file(d->path, "boot 1\n");
    g_assert_false(exists(gen(d, 0)));
}

static void test_start_append_keeps(void)
{
    g_autoptr(Dir) d = dir_new();

    run_once(d, true, 2, "boot 1\n");
    run_once(d, true, 2, "boot 2\n");
    assert_file(d->path, "boot 1\nboot 2\n");
    g_assert_false(exists(gen(d, 0)));
}

/* Incoming migration: continue the source's file, never rotate it. */
static void test_start_take_over(void)
{
    g_autoptr(Dir) d = dir_new();
    RotatingFileOptions opts = options(d, false, 3, 0);
    RotatingFile *rf;

    put(d->path, "source\n");
    opts.take_over = true;
    rf = rotating_file_open(&opts, NULL, NULL, &error_abort);
    write_str(rf, "destination\n");
    rotating_file_close(rf);
    assert_file(d->path, "source\ndestination\n");
    g_assert_false(exists(gen(d, 0)));
}

static int notified[3];

static void count_notify(void *opaque, const char *path,
                         RotatingFileReason reason)
{
    const Dir *d = opaque;

    g_assert_cmpstr(path, ==, d->path);
    notified[reason]++;
}

static const RotatingFileOps count_ops = {
    .rotated = count_notify,
};

static void test_notify_reasons(void)
{
    g_autoptr(Dir) d = dir_new();
    RotatingFileOptions opts = options(d, false, 2, 4096);
    RotatingFile *rf;
    char line[100];

    memset(notified, 0, sizeof(notified));
    memset(line, 'x', sizeof(line) - 1);
    line[sizeof(line) - 1] = '\n';
    put(d->path, "old\n");
    rf = rotating_file_open(&opts, &count_ops, d, &error_abort);
    g_assert_cmpint(notified[ROTATING_FILE_REASON_START], ==, 1);
    write_all(rf, line, sizeof(line));
    g_assert(rotating_file_rotate(rf, &error_abort));
    g_assert_cmpint(notified[ROTATING_FILE_REASON_COMMAND], ==, 1);
    for (int i = 0; i < 50; i++) {
        write_all(rf, line, sizeof(line));
    }
    g_assert_cmpint(notified[ROTATING_FILE_REASON_SIZE], ==, 1);
    rotating_file_close(rf);
}

/*
 * Deterministic pseudo-random lines "NNNNNN xxxx...\n" of 8 to @max_len
 * bytes, numbered so that gaps and duplicates show.
 */
static GString *numbered_lines(int count, int max_len, unsigned seed)
{
    GRand *rand = g_rand_new_with_seed(seed);
    GString *s = g_string_new("");
    int i;

    for (i = 0; i < count; i++) {
        int len = g_rand_int_range(rand, 8, max_len + 1);
        size_t start = s->len;

        g_string_append_printf(s, "%06d ", i);
        while (s->len - start < len - 1) {
            g_string_append_c(s, 'a' + i % 26);
        }
        g_string_append_c(s, '\n');
    }
    g_rand_free(rand);
    return s;
}

/*
 * Every kept file is within @max_size, every file but PATH ends with a
 * newline when lines are short, and the kept stream is a suffix of what
 * was written that starts at a line.
 */
static void assert_size_invariants(const Dir *d, int generations,
                                   uint64_t max_size, const GString *stream,
                                   bool short_lines)
{
    g_autoptr(GString) kept = kept_stream(d, generations);
    int k;

    g_assert_cmpuint(file_size(d->path), <=, max_size);
    for (k = 0; k < generations; k++) {
        g_autofree char *name = gen(d, k);
        g_autofree char *contents = slurp(name);

        if (!contents) {
            continue;
        }
        g_assert_cmpuint(strlen(contents), <=, max_size);
        g_assert_cmpuint(strlen(contents), >, 0);
        if (short_lines) {
            g_assert_cmpint(contents[strlen(contents) - 1], ==, '\n');
        }
    }
    g_assert_cmpuint(kept->len, <=, stream->len);
    g_assert(memcmp(kept->str, stream->str + stream->len - kept->len,
                    kept->len) == 0);
    g_assert(kept->len == stream->len ||
             stream->str[stream->len - kept->len - 1] == '\n' ||
             !short_lines);
}

static void test_size_4k_writes(void)
{
    g_autoptr(Dir) d = dir_new();
    g_autoptr(GString) stream = numbered_lines(3000, 255, 1);
    RotatingFile *rf = open_ok(d, false, 3, 8192);
    size_t off;

    for (off = 0; off < stream->len; off += 4096) {
        write_all(rf, stream->str + off, MIN(4096, stream->len - off));
    }
    rotating_file_close(rf);
    assert_size_invariants(d, 3, 8192, stream, true);
    g_assert(exists(gen(d, 2)));
}

/* The 16550 serial port writes one byte at a time. */
static void test_size_byte_writes(void)
{
    g_autoptr(Dir) d = dir_new();
    g_autoptr(GString) stream = numbered_lines(1000, 255, 2);
    RotatingFile *rf = open_ok(d, false, 2, 4096);
    size_t off;

    for (off = 0; off < stream->len; off++) {
        write_all(rf, stream->str + off, 1);
    }
    rotating_file_close(rf);
    assert_size_invariants(d, 2, 4096, stream, true);
}

/* Lines longer than the reserve may be split, but never exceed the limit. */
static void test_size_long_lines(void)
{
    g_autoptr(Dir) d = dir_new();
    g_autoptr(GString) stream = g_string_new("");
    RotatingFile *rf = open_ok(d, false, 2, 4096);
    int i;

    for (i = 0; i < 40; i++) {
        g_string_append_printf(stream, "%d", i);
        while (stream->len % 1000) {
            g_string_append_c(stream, 'y');
        }
    }
    g_string_append(stream, "\ntail\n");
    write_all(rf, stream->str, stream->len);
    rotating_file_close(rf);
    assert_size_invariants(d, 2, 4096, stream, false);
    g_assert_cmpint(file_size(d->path), ==, 40006 % 4096);
}

/* An appended file already beyond the limit rotates at the first write. */
static void test_size_existing_too_big(void)
{
    g_autoptr(Dir) d = dir_new();
    g_autofree char *big = g_strnfill(10000, 'z');
    RotatingFile *rf;

    put(d->path, big);
    rf = open_ok(d, true, 1, 4096);
    g_assert_false(exists(gen(d, 0)));
    write_str(rf, "next\n");
    rotating_file_close(rf);
    assert_gen(d, 0, big);
    assert_file(d->path, "next\n");
}

/* Disk used stays within (N + 1) * SIZE however much is written. */
static void test_size_disk_bound(void)
{
    g_autoptr(Dir) d = dir_new();
    g_autoptr(GString) stream = numbered_lines(20000, 200, 3);
    RotatingFile *rf = open_ok(d, false, 3, 4096);
    g_autoptr(GDir) dir = NULL;
    const char *name;
    uint64_t total = 0;
    int files = 0;

    write_all(rf, stream->str, stream->len);
    rotating_file_close(rf);
    dir = g_dir_open(d->dir, 0, NULL);
    while ((name = g_dir_read_name(dir))) {
        g_autofree char *p = g_build_filename(d->dir, name, NULL);

        total += file_size(p);
        files++;
    }
    g_assert_cmpint(files, ==, 4);
    g_assert_cmpuint(total, <=, 4 * 4096);
}

/*
 * Random writes, sizes, and rotation commands: after every step the kept
 * stream is exactly the tail of what was written.
 */
static void test_integrity_random(void)
{
    g_autoptr(Dir) d = dir_new();
    g_autoptr(GString) stream = numbered_lines(4000, 300, 4);
    GRand *rand = g_rand_new_with_seed(5);
    RotatingFile *rf = open_ok(d, false, 4, 4096);
    size_t off = 0;

    while (off < stream->len) {
        size_t len = MIN(g_rand_int_range(rand, 1, 5000), stream->len - off);

        if (g_rand_int_range(rand, 0, 20) == 0) {
            g_assert(rotating_file_rotate(rf, &error_abort));
        }
        write_all(rf, stream->str + off, len);
        off += len;
        {
            g_autoptr(GString) kept = kept_stream(d, 4);

            g_assert_cmpuint(kept->len, <=, off);
            g_assert(memcmp(kept->str, stream->str + off - kept->len,
                            kept->len) == 0);
        }
    }
    g_rand_free(rand);
    rotating_file_close(rf);
}

static void test_mode_kept(void)
{
    g_autoptr(Dir) d = dir_new();
    RotatingFile *rf;
    g_autofree char *big = g_strnfill(5000, 'm');

    put(d->path, "secret\n");
    g_assert_cmpint(chmod(d->path, 0600), ==, 0);
    rf = open_ok(d, false, 2, 4096);
    g_assert_cmpint(file_mode(d->path), ==, 0600);
    write_str(rf, big);
    g_assert(exists(gen(d, 0)));
    g_assert_cmpint(file_mode(d->path), ==, 0600);
    g_assert(rotating_file_rotate(rf, &error_abort));
    g_assert_cmpint(file_mode(d->path), ==, 0600);
    rotating_file_close(rf);

    /* A mode wider than the umask is kept too. */
    put(d->path, "more\n");
    g_assert_cmpint(chmod(d->path, 0666), ==, 0);
    rf = open_ok(d, false, 2, 0);
    g_assert_cmpint(file_mode(d->path), ==, 0666);
    rotating_file_close(rf);
}

/* Symlinks at PATH.k are renamed or removed, never written through. */
static void test_symlink_generation(void)
{
    g_autoptr(Dir) d = dir_new();
    g_autofree char *target = g_build_filename(d->dir, "target", NULL);
    g_autofree char *g0 = gen(d, 0);
    g_autofree char *g1 = gen(d, 1);
    RotatingFile *rf;

    put(target, "precious\n");
    put(d->path, "boot 1\n");
    g_assert_cmpint(symlink(target, g0), ==, 0);
    rf = open_ok(d, false, 2, 0);
    write_str(rf, "boot 2\n");
    g_assert(rotating_file_rotate(rf, &error_abort));
    write_str(rf, "boot 3\n");
    rotating_file_close(rf);
    assert_file(target, "precious\n");
    assert_file(d->path, "boot 3\n");
    assert_file(g0, "boot 2\n");
    assert_file(g1, "boot 1\n");
}

/* A symlink planted at PATH while it is written is moved, not followed. */
static void test_symlink_planted_at_path(void)
{
    g_autoptr(Dir) d = dir_new();
    g_autofree char *target = g_build_filename(d->dir, "target", NULL);
    g_autofree char *g0 = gen(d, 0);
    RotatingFile *rf;
    struct stat st;

    put(target, "precious\n");
    rf = open_ok(d, false, 2, 0);
    write_str(rf, "one\n");
    g_assert_cmpint(unlink(d->path), ==, 0);
    g_assert_cmpint(symlink(target, d->path), ==, 0);
    write_str(rf, "two\n");
    g_assert(rotating_file_rotate(rf, &error_abort));
    write_str(rf, "three\n");
    g_assert(rotating_file_reopen(rf, &error_abort));
    write_str(rf, "four\n");
    rotating_file_close(rf);
    assert_file(target, "precious\n");
    g_assert_cmpint(lstat(g0, &st), ==, 0);
    g_assert(S_ISLNK(st.st_mode));
    assert_file(d->path, "three\nfour\n");
}

/*
 * Bad input: the error names the option and the path, and the files
 * already there are left exactly as they were.
 */
static void assert_refused(const Dir *d, RotatingFileOptions *opts,
                           const char *option, const char *path)
{
    g_autofree char *before = slurp(d->path);
    g_autofree char *g0 = gen(d, 0);
    g_autofree char *before0 = slurp(g0);
    Error *err = NULL;

    g_assert_null(rotating_file_open(opts, NULL, NULL, &err));
    g_assert_nonnull(err);
    if (g_test_verbose()) {
        g_printerr("refused: %s\n", error_get_pretty(err));
    }
    g_assert_nonnull(strstr(error_get_pretty(err), option));
    g_assert_nonnull(strstr(error_get_pretty(err), path));
    error_free(err);
    assert_file(d->path, before);
    assert_file(g0, before0);
}

static Dir *dir_with_files(void)
{
    Dir *d = dir_new();
    g_autofree char *g0 = gen(d, 0);

    put(d->path, "current\n");
    put(g0, "previous\n");
    return d;
}

static void test_bad_generations(void)
{
    g_autoptr(Dir) d = dir_with_files();
    RotatingFileOptions opts = options(d, false, -1, 0);

    assert_refused(d, &opts, "rotate=-1", d->path);
    opts.generations = ROTATING_FILE_MAX_GENERATIONS + 1;
    assert_refused(d, &opts, "rotate=65", d->path);
    opts.generations = INT64_MAX;
    assert_refused(d, &opts, "between 0 and 64", d->path);
}

static void test_bad_size(void)
{
    g_autoptr(Dir) d = dir_with_files();
    RotatingFileOptions opts = options(d, false, 2, 4095);

    assert_refused(d, &opts, "rotate-size=4095", d->path);
    opts.max_size = 1;
    assert_refused(d, &opts, "minimum is 4096", d->path);
    opts.generations = 0;
    opts.max_size = 1 << 20;
    assert_refused(d, &opts, "rotate-size", d->path);
    assert_refused(d, &opts, "requires rotate=N", d->path);
}

static void test_bad_missing_dir(void)
{
    g_autoptr(Dir) d = dir_with_files();
    g_autofree char *missing = g_build_filename(d->dir, "no", "log", NULL);
    RotatingFileOptions opts = options(d, false, 2, 0);

    opts.path = missing;
    assert_refused(d, &opts, "rotate", missing);
}

static void test_bad_path_is_dir(void)
{
    g_autoptr(Dir) d = dir_new();
    g_autofree char *g0 = gen(d, 0);
    RotatingFileOptions opts = options(d, false, 2, 0);
    Error *err = NULL;

    g_assert_cmpint(mkdir(d->path, 0700), ==, 0);
    put(g0, "previous\n");
    g_assert_null(rotating_file_open(&opts, NULL, NULL, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "is a directory"));
    g_assert_nonnull(strstr(error_get_pretty(err), d->path));
    error_free(err);
    assert_file(g0, "previous\n");
}

static void test_bad_dir_at_generation(void)
{
    g_autoptr(Dir) d = dir_new();
    g_autofree char *g1 = gen(d, 1);
    RotatingFileOptions opts = options(d, false, 3, 0);

    put(d->path, "current\n");
    g_assert_cmpint(mkdir(g1, 0700), ==, 0);
    assert_refused(d, &opts, "rotate", g1);
    /* Beyond the generations kept, it is none of our business. */
    opts.generations = 1;
    rotating_file_close(rotating_file_open(&opts, NULL, NULL, &error_abort));
    assert_gen(d, 0, "current\n");
}

static void test_bad_symlink_at_path(void)
{
    g_autoptr(Dir) d = dir_new();
    g_autofree char *target = g_build_filename(d->dir, "target", NULL);
    RotatingFileOptions opts = options(d, false, 2, 0);
    Error *err = NULL;

    put(target, "precious\n");
    g_assert_cmpint(symlink(target, d->path), ==, 0);
    g_assert_null(rotating_file_open(&opts, NULL, NULL, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "symbolic link"));
    error_free(err);
    assert_file(target, "precious\n");
}

static void test_bad_path_too_long(void)
{
    g_autoptr(Dir) d = dir_with_files();
    g_autoptr(GString) long_path = g_string_new(d->dir);
    RotatingFileOptions opts = options(d, false, 10, 0);

    g_string_append_c(long_path, '/');
    while (long_path->len < PATH_MAX - 2) {
        g_string_append_c(long_path, 'l');
    }
    opts.path = long_path->str;
    assert_refused(d, &opts, "PATH_MAX", d->dir);
}

static void test_bad_fdset(void)
{
    g_autoptr(Dir) d = dir_with_files();
    RotatingFileOptions opts = options(d, false, 2, 0);

    opts.path = "/dev/fdset/1";
    assert_refused(d, &opts, "rotate", "/dev/fdset/1");
    /* ... saying what to do instead */
    assert_refused(d, &opts, "-set chardev.ID.path=PATH", "/dev/fdset/1");
}

static bool check_unwritable(const Dir *d, RotatingFileOptions *opts)
{
    Error *err = NULL;
    bool ok;

    g_assert_null(rotating_file_open(opts, NULL, NULL, &err));
    ok = err && strstr(error_get_pretty(err), "rotate") &&
         strstr(error_get_pretty(err), d->dir);
    error_free(err);
    return ok;
}

/* Rotation renames in PATH's directory: refuse at start if it can't. */
static void test_bad_unwritable_dir(void)
{
    g_autoptr(Dir) d = dir_with_files();
    RotatingFileOptions opts = options(d, true, 2, 0);
    pid_t pid;
    int status;

    g_assert_cmpint(chmod(d->dir, 0555), ==, 0);
    g_assert_cmpint(chmod(d->path, 0666), ==, 0);
    if (geteuid() != 0) {
        g_assert(check_unwritable(d, &opts));
    } else {
        /* root may write anywhere: check as an unprivileged user. */
        pid = fork();
        g_assert_cmpint(pid, >=, 0);
        if (pid == 0) {
            if (setgid(65534) < 0 || setuid(65534) < 0) {
                _exit(2);
            }
            _exit(check_unwritable(d, &opts) ? 0 : 1);
        }
        g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
        g_assert(WIFEXITED(status));
        g_assert_cmpint(WEXITSTATUS(status), ==, 0);
    }
    g_assert_cmpint(chmod(d->dir, 0700), ==, 0);
    assert_file(d->path, "current\n");
}

/* /dev/full fails every write with ENOSPC, as a full disk does. */
static void test_fault_enospc(void)
{
    RotatingFileOptions opts = {
        .path = "/dev/full",
        .append = true,
        .path_opt = "path",
        .append_opt = "append",
        .generations_opt = "rotate",
        .max_size_opt = "rotate-size",
    };
    RotatingFile *rf = rotating_file_open(&opts, NULL, NULL, &error_abort);

    g_assert_cmpint(rotating_file_write(rf, "x\n", 2), ==, -1);
    g_assert_cmpint(errno, ==, ENOSPC);
    rotating_file_close(rf);
}

/*
 * A rotation that fails at runtime loses nothing: output goes on to the
 * current file, and rotation resumes once the obstacle is gone.
 */
static void test_fault_rotation_resumes(void)
{
    g_autoptr(Dir) d = dir_new();
    g_autoptr(GString) stream = numbered_lines(400, 100, 6);
    g_autofree char *obstacle = g_strdup_printf("%s.new", d->path);
    g_autofree char *inside = g_build_filename(obstacle, "x", NULL);
    RotatingFile *rf = open_ok(d, false, 2, 4096);
    size_t half = stream->len / 2;

    g_assert_cmpint(mkdir(obstacle, 0700), ==, 0);
    put(inside, "");
    write_all(rf, stream->str, half);
    g_assert_false(exists(gen(d, 0)));
    g_assert_cmpuint(file_size(d->path), ==, half);

    remove_tree(obstacle);
    g_usleep(1100 * 1000);
    write_all(rf, stream->str + half, stream->len - half);
    rotating_file_close(rf);
    g_assert(exists(gen(d, 0)));
    {
        g_autoptr(GString) kept = kept_stream(d, 2);

        g_assert_cmpuint(kept->len, <=, stream->len);
        g_assert(memcmp(kept->str, stream->str + stream->len - kept->len,
                        kept->len) == 0);
    }
}

static void test_command_rotate_needs_generations(void)
{
    g_autoptr(Dir) d = dir_new();
    RotatingFile *rf = open_ok(d, false, 0, 0);
    Error *err = NULL;

    g_assert_false(rotating_file_rotate(rf, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), d->path));
    error_free(err);
    rotating_file_close(rf);
}

/* logrotate's "create" method: move PATH away, then ask for a reopen. */
static void test_command_reopen(void)
{
    g_autoptr(Dir) d = dir_new();
    g_autofree char *moved = g_strdup_printf("%s.1", d->path);
    RotatingFile *rf = open_ok(d, true, 0, 0);

    write_str(rf, "before\n");
    g_assert_cmpint(chmod(d->path, 0640), ==, 0);
    g_assert_cmpint(rename(d->path, moved), ==, 0);
    write_str(rf, "late\n");
    g_assert(rotating_file_reopen(rf, &error_abort));
    write_str(rf, "after\n");
    rotating_file_close(rf);
    assert_file(moved, "before\nlate\n");
    assert_file(d->path, "after\n");
    g_assert_cmpint(file_mode(d->path), ==, 0640);
}

/*
 * -daemonize changes the working directory after the chardev is opened:
 * a relative PATH keeps meaning the directory it meant at open.
 */
static void test_dir_cwd_changed(void)
{
    g_autoptr(Dir) d = dir_new();
    g_autoptr(Dir) elsewhere = dir_new();
    g_autofree char *cwd = g_get_current_dir();
    g_autofree char *stray = g_build_filename(elsewhere->dir, "console.log.0",
                                              NULL);
    RotatingFileOptions opts = options(d, false, 2, 0);
    RotatingFile *rf;

    g_assert_cmpint(chdir(d->dir), ==, 0);
    opts.path = "console.log";
    memset(notified, 0, sizeof(notified));
    /* count_notify() checks that events name the absolute path. */
    rf = rotating_file_open(&opts, &count_ops, d, &error_abort);
    write_str(rf, "before chdir\n");
    g_assert_cmpint(chdir(elsewhere->dir), ==, 0);
    g_assert(rotating_file_rotate(rf, &error_abort));
    g_assert_cmpint(notified[ROTATING_FILE_REASON_COMMAND], ==, 1);
    write_str(rf, "after chdir\n");
    g_assert(rotating_file_reopen(rf, &error_abort));
    write_str(rf, "after reopen\n");
    rotating_file_close(rf);
    g_assert_cmpint(chdir(cwd), ==, 0);

    assert_gen(d, 0, "before chdir\n");
    assert_file(d->path, "after chdir\nafter reopen\n");
    g_assert_false(exists(stray));
    g_assert_false(exists(elsewhere->path));
}

/* Whether this process has a descriptor open on directory @dir. */
static bool holds_dir(const char *dir)
{
    g_autoptr(GDir) fds = g_dir_open("/proc/self/fd", 0, NULL);
    const char *name;

    g_assert(fds);
    while ((name = g_dir_read_name(fds))) {
        g_autofree char *link = g_build_filename("/proc/self/fd", name, NULL);
        g_autofree char *target = g_file_read_link(link, NULL);

        if (target && !strcmp(target, dir)) {
            return true;
        }
    }
    return false;
}

/*
 * A plain file (no rotation) holds no descriptor of its directory, which
 * would lead out of a -run-with chroot=; a relative PATH is reopened
 * where it was opened all the same, after -daemonize's chdir.
 */
static void test_dir_plain_not_held(void)
{
    g_autoptr(Dir) d = dir_new();
    g_autoptr(Dir) elsewhere = dir_new();
    g_autofree char *cwd = g_get_current_dir();
    g_autofree char *moved = g_strdup_printf("%s.moved", d->path);
    RotatingFileOptions opts = options(d, false, 0, 0);
    RotatingFile *rf;

    if (!g_file_test("/proc/self/fd", G_FILE_TEST_IS_DIR)) {
        g_test_skip("no /proc/self/fd");
        return;
    }
    g_assert_cmpint(chdir(d->dir), ==, 0);
    opts.path = "console.log";
    rf = rotating_file_open(&opts, NULL, NULL, &error_abort);
    g_assert_false(holds_dir(d->dir));
    write_str(rf, "before chdir\n");
    g_assert_cmpint(chdir(elsewhere->dir), ==, 0);
    g_assert_cmpint(rename(d->path, moved), ==, 0);
    g_assert(rotating_file_reopen(rf, &error_abort));
    write_str(rf, "after reopen\n");
    rotating_file_close(rf);
    g_assert_cmpint(chdir(cwd), ==, 0);
    assert_file(moved, "before chdir\n");
    assert_file(d->path, "after reopen\n");
    g_assert_false(exists(elsewhere->path));

    /* With rotation, the directory is held: that is how it works */
    rf = open_ok(d, false, 2, 0);
    g_assert_true(holds_dir(d->dir));
    rotating_file_close(rf);
}

/* The directory renamed under a running writer: it follows. */
static void test_dir_renamed(void)
{
    g_autoptr(Dir) d = dir_new();
    g_autofree char *moved_dir = g_strdup_printf("%s.moved", d->dir);
    g_autofree char *moved = g_build_filename(moved_dir, "console.log", NULL);
    g_autofree char *moved0 = g_strdup_printf("%s.0", moved);
    RotatingFile *rf = open_ok(d, false, 2, 0);

    write_str(rf, "one\n");
    g_assert_cmpint(rename(d->dir, moved_dir), ==, 0);
    g_assert(rotating_file_rotate(rf, &error_abort));
    write_str(rf, "two\n");
    rotating_file_close(rf);
    assert_file(moved0, "one\n");
    assert_file(moved, "two\n");
    g_assert_cmpint(rename(moved_dir, d->dir), ==, 0);
}

/* Rotating an empty file changes nothing (logrotate's notifempty). */
static void test_command_empty_not_rotated(void)
{
    g_autoptr(Dir) d = dir_new();
    RotatingFileOptions opts = options(d, false, 2, 0);
    RotatingFile *rf;
    int i;

    memset(notified, 0, sizeof(notified));
    rf = rotating_file_open(&opts, &count_ops, d, &error_abort);
    write_str(rf, "the boot\n");
    g_assert(rotating_file_rotate(rf, &error_abort));
    for (i = 0; i < 3; i++) {
        g_assert(rotating_file_rotate(rf, &error_abort));
    }
    rotating_file_close(rf);
    g_assert_cmpint(notified[ROTATING_FILE_REASON_COMMAND], ==, 1);
    assert_gen(d, 0, "the boot\n");
    assert_file(d->path, "");
    g_assert_false(exists(gen(d, 1)));
}

/* A new generation gets permission bits only, never set-ID or sticky. */
static void test_mode_bits_only(void)
{
    g_autoptr(Dir) d = dir_new();
    RotatingFile *rf;

    put(d->path, "setuid\n");
    g_assert_cmpint(chmod(d->path, 06750), ==, 0);
    rf = open_ok(d, false, 1, 0);
    g_assert_cmpint(file_mode(d->path), ==, 0750);
    rotating_file_close(rf);
}

/* The group of the log is kept, where the process may set it. */
static void test_mode_group_kept(void)
{
    g_autoptr(Dir) d = dir_new();
    gid_t other = getegid() == 65534 ? 4 : 65534;
    RotatingFile *rf;
    struct stat st;

    put(d->path, "adm\n");
    if (chown(d->path, -1, other) < 0) {
        g_test_skip("cannot give a file another group here");
        return;
    }
    rf = open_ok(d, false, 2, 0);
    g_assert_cmpint(lstat(d->path, &st), ==, 0);
    g_assert_cmpint(st.st_gid, ==, other);
    write_str(rf, "more\n");
    g_assert(rotating_file_rotate(rf, &error_abort));
    g_assert_cmpint(lstat(d->path, &st), ==, 0);
    g_assert_cmpint(st.st_gid, ==, other);
    rotating_file_close(rf);
}

/* Whatever is planted at PATH.new is replaced, never written through. */
static void test_new_name_planted(void)
{
    g_autoptr(Dir) d = dir_new();
    g_autofree char *new_name = g_strdup_printf("%s.new", d->path);
    g_autofree char *target = g_build_filename(d->dir, "target", NULL);
    RotatingFile *rf = open_ok(d, false, 2, 0);

    put(target, "precious\n");
    write_str(rf, "one\n");
    g_assert(rotating_file_rotate(rf, &error_abort));
    write_str(rf, "two\n");
    put(new_name, "planted\n");
    g_assert(rotating_file_rotate(rf, &error_abort));
    write_str(rf, "three\n");
    g_assert_cmpint(symlink(target, new_name), ==, 0);
    g_assert(rotating_file_rotate(rf, &error_abort));
    write_str(rf, "four\n");
    rotating_file_close(rf);
    assert_file(d->path, "four\n");
    assert_gen(d, 0, "three\n");
    assert_gen(d, 1, "two\n");
    assert_file(target, "precious\n");
    g_assert_false(exists(new_name));
}

static char *last_failure;
static int failures;

static void record_failure(void *opaque, const char *message)
{
    g_free(last_failure);
    last_failure = g_strdup(message);
    failures++;
}

static const RotatingFileOps failure_ops = {
    .failed = record_failure,
};

/*
 * A failing rotation is reported through the ops, rate-limited, and the
 * writer reports nothing itself.
 */
static void test_fault_reported(void)
{
    g_autoptr(Dir) d = dir_new();
    g_autoptr(GString) stream = numbered_lines(400, 100, 7);
    g_autofree char *obstacle = g_strdup_printf("%s.new", d->path);
    g_autofree char *inside = g_build_filename(obstacle, "x", NULL);
    RotatingFileOptions opts = options(d, false, 2, 4096);
    RotatingFile *rf;

    failures = 0;
    rf = rotating_file_open(&opts, &failure_ops, NULL, &error_abort);
    g_assert_cmpint(mkdir(obstacle, 0700), ==, 0);
    put(inside, "");
    write_all(rf, stream->str, stream->len);
    g_usleep(1100 * 1000);
    write_all(rf, "again\n", 6);
    rotating_file_close(rf);
    g_assert_cmpint(failures, ==, 1);
    g_assert_nonnull(strstr(last_failure, "rotate"));
    g_assert_nonnull(strstr(last_failure, obstacle));
    g_clear_pointer(&last_failure, g_free);
}

#ifdef CONFIG_LINUX
static bool set_immutable(const char *path, bool on)
{
    int fd = open(path, O_RDONLY);
    int flags;
    bool ok;

    g_assert_cmpint(fd, >=, 0);
    ok = ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0;
    if (ok) {
        flags = on ? flags | FS_IMMUTABLE_FL : flags & ~FS_IMMUTABLE_FL;
        ok = ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0;
    }
    close(fd);
    return ok;
}

/*
 * A rotation at start that fails (an immutable PATH.0) does not keep the
 * writer from starting: it appends to PATH and reports the failure.
 */
static void test_fault_start_rotation(void)
{
    g_autoptr(Dir) d = dir_new();
    g_autofree char *g0 = gen(d, 0);
    RotatingFileOptions opts = options(d, false, 2, 0);
    RotatingFile *rf;

    put(d->path, "boot 2\n");
    put(g0, "boot 1\n");
    if (!set_immutable(g0, true)) {
        g_test_skip("cannot make a file immutable here (needs root and "
                    "a file system with the attribute)");
        return;
    }
    failures = 0;
    rf = rotating_file_open(&opts, &failure_ops, NULL, &error_abort);
    write_str(rf, "boot 3\n");
    rotating_file_close(rf);
    g_assert(set_immutable(g0, false));
    g_assert_cmpint(failures, ==, 1);
    g_assert_nonnull(strstr(last_failure, "rotate"));
    g_assert_nonnull(strstr(last_failure, "appending to"));
    g_clear_pointer(&last_failure, g_free);
    assert_file(d->path, "boot 2\nboot 3\n");
    assert_gen(d, 0, "boot 1\n");
}

/*
 * A rename that keeps failing (PATH.1 immutable, as chattr +i makes it):
 * however often the rotation is retried, it deletes no more than one
 * successful rotation would, the oldest generation; once the obstacle is
 * gone, rotation completes and the rest is all there.
 */
static void test_fault_rename_keeps_failing(void)
{
    g_autoptr(Dir) d = dir_new();
    g_autofree char *g1 = gen(d, 1);
    RotatingFile *rf;
    Error *err = NULL;
    int k, i;

    for (k = 0; k < 4; k++) {
        g_autofree char *name = gen(d, k);
        g_autofree char *text = g_strdup_printf("gen %d\n", k);

        put(name, text);
    }
    rf = open_ok(d, true, 4, 0);
    write_str(rf, "current\n");
    if (!set_immutable(g1, true)) {
        rotating_file_close(rf);
        g_test_skip("cannot make a file immutable here (needs root and "
                    "a file system with the attribute)");
        return;
    }
    for (i = 0; i < 5; i++) {
        g_assert_false(rotating_file_rotate(rf, &err));
        g_assert_nonnull(strstr(error_get_pretty(err), g1));
        g_clear_pointer(&err, error_free);
        write_str(rf, "more\n");
    }
    assert_file(d->path, "current\nmore\nmore\nmore\nmore\nmore\n");
    assert_gen(d, 0, "gen 0\n");
    assert_gen(d, 1, "gen 1\n");
    assert_gen(d, 3, "gen 2\n");
    g_assert(set_immutable(g1, false));

    g_assert(rotating_file_rotate(rf, &error_abort));
    write_str(rf, "after\n");
    rotating_file_close(rf);
    assert_file(d->path, "after\n");
    assert_gen(d, 0, "current\nmore\nmore\nmore\nmore\nmore\n");
    assert_gen(d, 1, "gen 0\n");
    assert_gen(d, 2, "gen 1\n");
    assert_gen(d, 3, "gen 2\n");
}
#endif

/* @contents with every time stamp replaced by "S|" */
static char *unstamped(const char *contents)
{
    g_autoptr(GRegex) stamp = g_regex_new(
        "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z ",
        0, 0, NULL);

    return g_regex_replace_literal(stamp, contents ? contents : "", -1, 0,
                                   "S|", 0, NULL);
}

static void assert_stamped(const char *path, const char *expected)
{
    g_autofree char *contents = slurp(path);
    g_autofree char *got = unstamped(contents);

    g_assert_cmpstr(got, ==, expected);
}

static RotatingFile *open_stamped(const Dir *d, bool append,
                                  int64_t generations, uint64_t max_size,
                                  const char *marker)
{
    RotatingFileOptions opts = options(d, append, generations, max_size);

    opts.timestamps = true;
    opts.marker = marker;
    return rotating_file_open(&opts, NULL, NULL, &error_abort);
}

/* The format: UTC, milliseconds, one width, one space; the time now. */
static void test_stamp_format(void)
{
    g_autoptr(Dir) d = dir_new();
    g_autoptr(GDateTime) before = g_date_time_new_now_utc();
    RotatingFile *rf = open_stamped(d, false, 0, 0, NULL);
    g_autofree char *contents = NULL;
    g_autoptr(GDateTime) stamped = NULL;
    g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
    g_autoptr(GDateTime) after = NULL;
    g_autofree char *iso = NULL;

    write_str(rf, "line\n");
    rotating_file_close(rf);
    after = g_date_time_new_now_utc();
    contents = slurp(d->path);
    g_assert_cmpint(strlen(contents), ==, ROTATING_FILE_STAMP_LEN + 5);
    g_assert_cmpint(contents[23], ==, 'Z');
    g_assert_cmpint(contents[24], ==, ' ');
    iso = g_strndup(contents, 24);
    stamped = g_date_time_new_from_iso8601(iso, utc);
    g_assert_nonnull(stamped);
    g_assert_cmpint(g_date_time_difference(stamped, before), >=, -1000);
    g_assert_cmpint(g_date_time_difference(after, stamped), >=, 0);
    assert_stamped(d->path, "S|line\n");
}

/*
 * A line split over many writes gets one stamp; "\r\n" ends a line once;
 * the 16550's one-byte writes too.
 */
static void test_stamp_split_writes(void)
{
    g_autoptr(Dir) d = dir_new();
    const char *text = "hello\r\nworld\n\nlast\r\n";
    RotatingFile *rf = open_stamped(d, false, 0, 0, NULL);
    size_t i;

    write_str(rf, "hel");
    write_str(rf, "lo\r\nwor");
    write_str(rf, "ld\n");
    write_str(rf, "\nlast\r\n");
    for (i = 0; i < strlen(text); i++) {
        write_all(rf, text + i, 1);
    }
    rotating_file_close(rf);
    assert_stamped(d->path, "S|hello\r\nS|world\nS|\nS|last\r\n"
                            "S|hello\r\nS|world\nS|\nS|last\r\n");
}

/*
 * Output that never ends a line is stamped once; the next writer starts
 * on a line of its own.
 */
static void test_stamp_partial_last_line(void)
{
    g_autoptr(Dir) d = dir_new();
    RotatingFile *rf = open_stamped(d, true, 0, 0, NULL);

    write_str(rf, "no newline");
    write_str(rf, " yet");
    rotating_file_close(rf);
    assert_stamped(d->path, "S|no newline yet");
    rf = open_stamped(d, true, 0, 0, NULL);
    write_str(rf, "next\n");
    rotating_file_close(rf);
    assert_stamped(d->path, "S|no newline yet\nS|next\n");
}

/*
 * Stamps count towards the size limit, and a short line is never split
 * from its stamp: every file within the limit, every line of every file
 * stamped.
 */
static void test_stamp_size_limit(void)
{
    g_autoptr(Dir) d = dir_new();
    g_autoptr(GString) stream = numbered_lines(2000, 200, 8);
    g_autoptr(GString) kept = g_string_new("");
    RotatingFile *rf = open_stamped(d, false, 3, 4096, NULL);
    size_t off;
    int k;

    for (off = 0; off < stream->len; off += 4096) {
        write_all(rf, stream->str + off, MIN(4096, stream->len - off));
    }
    for (off = 0; off < 3000; off++) {
        write_all(rf, "x", 1);
        g_string_append_c(stream, 'x');
        if (off % 79 == 78) {
            write_all(rf, "\n", 1);
            g_string_append_c(stream, '\n');
        }
    }
    write_all(rf, "\n", 1);
    g_string_append_c(stream, '\n');
    rotating_file_close(rf);
    for (k = 2; k >= -1; k--) {
        g_autofree char *name = k < 0 ? g_strdup(d->path) : gen(d, k);
        g_autofree char *contents = slurp(name);
        g_autofree char *plain = unstamped(contents);
        g_auto(GStrv) lines = g_strsplit(plain, "\n", -1);
        int i;

        g_assert_nonnull(contents);
        g_assert_cmpuint(strlen(contents), <=, 4096);
        g_assert_cmpint(contents[strlen(contents) - 1], ==, '\n');
        for (i = 0; lines[i + 1]; i++) {
            g_assert(g_str_has_prefix(lines[i], "S|"));
            g_string_append_printf(kept, "%s\n", lines[i] + 2);
        }
    }
    /* Without the stamps, the end of what was written */
    g_assert_cmpuint(kept->len, <=, stream->len);
    g_assert(memcmp(kept->str, stream->str + stream->len - kept->len,
                    kept->len) == 0);
}

/*
 * Markers: one at open, one at the top of each new generation with its
 * reason, one at reopening; after a partial line, on a new line.
 */
static void test_marker(void)
{
    g_autoptr(Dir) d = dir_new();
    g_autofree char *moved = g_strdup_printf("%s.moved", d->path);
    RotatingFileOptions opts = options(d, false, 2, 0);
    RotatingFile *rf;

    put(d->path, "the previous boot\n");
    opts.marker = "QEMU test, pid 1, chardev c0";
    rf = rotating_file_open(&opts, NULL, NULL, &error_abort);
    write_str(rf, "one\n");
    g_assert(rotating_file_rotate(rf, &error_abort));
    write_str(rf, "two, no newline");
    g_assert_cmpint(rename(d->path, moved), ==, 0);
    g_assert(rotating_file_reopen(rf, &error_abort));
    write_str(rf, "three\n");
    rotating_file_close(rf);
    assert_gen(d, 1, "the previous boot\n");
    assert_stamped(gen(d, 0), "S|==== QEMU test, pid 1, chardev c0: opened, "
                   "new generation (start) ====\none\n");
    assert_stamped(moved, "S|==== QEMU test, pid 1, chardev c0: new "
                   "generation (command) ====\ntwo, no newline");
    assert_stamped(d->path, "S|==== QEMU test, pid 1, chardev c0: reopened "
                   "====\nthree\n");
}

/* With append and after a partial line, the marker starts a new line. */
static void test_marker_after_partial_line(void)
{
    g_autoptr(Dir) d = dir_new();
    RotatingFile *rf;

    put(d->path, "killed mid-li");
    rf = open_stamped(d, true, 0, 0, "QEMU test, pid 2, chardev c0");
    write_str(rf, "ne? no: a new boot\n");
    rotating_file_close(rf);
    assert_stamped(d->path, "killed mid-li\nS|==== QEMU test, pid 2, "
                   "chardev c0: opened ====\nS|ne? no: a new boot\n");
}

/* The line reserve counts the stamp: a 239-byte line is not split. */
static void test_stamp_reserve(void)
{
    g_autoptr(Dir) d = dir_new();
    RotatingFile *rf = open_stamped(d, false, 2, 4096, NULL);
    /* With its stamp and newline, it ends where the old reserve began */
    g_autofree char *filler = g_strnfill(4096 - 256 - 25 - 1, 'f');
    g_autofree char *line = g_strnfill(239, 'l');
    g_autofree char *expected = NULL;

    write_str(rf, filler);
    write_str(rf, "\n");
    write_str(rf, line);
    write_str(rf, "\n");
    rotating_file_close(rf);
    expected = g_strdup_printf("S|%s\n", line);
    assert_stamped(d->path, expected);
    g_free(expected);
    expected = g_strdup_printf("S|%s\n", filler);
    assert_stamped(gen(d, 0), expected);
}

/* Markers count towards the size limit: restarts never grow a file. */
static void test_marker_size_limit(void)
{
    g_autoptr(Dir) d = dir_new();
    g_autofree char *nearly = g_strnfill(4090, 'n');
    int i, k;

    put(d->path, nearly);
    for (i = 0; i < 3; i++) {
        rotating_file_close(open_stamped(d, true, 3, 4096,
                                         "QEMU test, pid 3, chardev c0"));
    }
    for (k = -1; k < 3; k++) {
        g_autofree char *name = k < 0 ? g_strdup(d->path) : gen(d, k);

        if (exists(name)) {
            g_assert_cmpuint(file_size(name), <=, 4096);
        }
    }
    g_assert(exists(gen(d, 0)));
}

/* A marker far longer than a file can hold is cut, not rotated forever */
static void test_marker_too_long(void)
{
    g_autoptr(Dir) d = dir_new();
    g_autofree char *who = g_strnfill(5000, 'w');
    RotatingFile *rf = open_stamped(d, false, 2, 4096, who);

    write_str(rf, "guest\n");
    g_assert(rotating_file_rotate(rf, &error_abort));
    write_str(rf, "more\n");
    rotating_file_close(rf);
    g_assert_cmpuint(file_size(d->path), <, 512);
}

/*
 * Through a pipe (to virtlogd, say) no writer sees how the file ends:
 * each ends its last line when it closes, so that the next one's marker
 * starts a line, and no empty line is left after a clean end.
 */
static void test_marker_pipe(void)
{
    g_autoptr(Dir) d = dir_new();
    RotatingFileOptions opts = options(d, true, 0, 0);
    g_autofree char *got = NULL;
    char buf[1024];
    RotatingFile *rf;
    ssize_t n;
    int reader;

    g_assert_cmpint(mkfifo(d->path, 0600), ==, 0);
    reader = open(d->path, O_RDONLY | O_NONBLOCK);
    g_assert_cmpint(reader, >=, 0);
    opts.marker = "QEMU test, pid 4, chardev c0";
    rf = rotating_file_open(&opts, NULL, NULL, &error_abort);
    write_str(rf, "boot 1\r\nlast words");
    rotating_file_close(rf);
    opts.marker = "QEMU test, pid 5, chardev c0";
    rf = rotating_file_open(&opts, NULL, NULL, &error_abort);
    write_str(rf, "boot 2\n");
    rotating_file_close(rf);
    opts.timestamps = true;
    opts.marker = "QEMU test, pid 6, chardev c0";
    rf = rotating_file_open(&opts, NULL, NULL, &error_abort);
    write_str(rf, "boot 3");
    rotating_file_close(rf);
    n = read(reader, buf, sizeof(buf) - 1);
    close(reader);
    g_assert_cmpint(n, >, 0);
    buf[n] = '\0';
    got = unstamped(buf);
    g_assert_cmpstr(got, ==,
                    "S|==== QEMU test, pid 4, chardev c0: opened ====\n"
                    "boot 1\r\nlast words\n"
                    "S|==== QEMU test, pid 5, chardev c0: opened ====\n"
                    "boot 2\n"
                    "S|==== QEMU test, pid 6, chardev c0: opened ====\n"
                    "S|boot 3\n");
}

/*
 * A file holding only QEMU's markers is as good as empty: chardev-rotate
 * in a row pushes no output out of the generations.
 */
static void test_marker_only_not_rotated(void)
{
    g_autoptr(Dir) d = dir_new();
    RotatingFileOptions opts = options(d, true, 2, 0);
    g_autofree char *g0 = gen(d, 0);
    g_autofree char *g1 = gen(d, 1);
    g_autofree char *kept = NULL;
    RotatingFile *rf;

    put(d->path, "precious boot output\n");
    opts.marker = "QEMU test, pid 7, chardev c0";
    rf = rotating_file_open(&opts, NULL, NULL, &error_abort);
    g_assert(rotating_file_rotate(rf, &error_abort));
    g_assert(rotating_file_rotate(rf, &error_abort));
    g_assert(rotating_file_rotate(rf, &error_abort));
    rotating_file_close(rf);
    kept = slurp(g0);
    g_assert(kept && g_str_has_prefix(kept, "precious boot output\n"));
    g_assert(!exists(g1));
    assert_stamped(d->path, "S|==== QEMU test, pid 7, chardev c0: new "
                   "generation (command) ====\n");
}

/*
 * Starts that fail after opening the file (a later -device error, say)
 * leave only markers: the next start appends to them instead of pushing
 * the last boot out.  A guest line that only looks like a marker is
 * output like any other.
 */
static void test_marker_only_after_failed_starts(void)
{
    g_autoptr(Dir) d = dir_new();
    RotatingFileOptions opts = options(d, false, 2, 0);
    g_autofree char *g1 = gen(d, 1);
    int start;

    put(d->path, "the last boot\n");
    opts.marker = "QEMU test, pid 8, chardev c0";
    for (start = 0; start < 3; start++) {
        rotating_file_close(rotating_file_open(&opts, NULL, NULL,
                                               &error_abort));
    }
    assert_gen(d, 0, "the last boot\n");
    g_assert(!exists(g1));
    assert_stamped(d->path,
                   "S|==== QEMU test, pid 8, chardev c0: opened, new "
                   "generation (start) ====\n"
                   "S|==== QEMU test, pid 8, chardev c0: opened ====\n"
                   "S|==== QEMU test, pid 8, chardev c0: opened ====\n");

    put(d->path, "==== QEMU look-alike ====\n");
    rotating_file_close(rotating_file_open(&opts, NULL, NULL, &error_abort));
    assert_gen(d, 0, "==== QEMU look-alike ====\n");
    assert_gen(d, 1, "the last boot\n");
}

/*
 * A reopen finds the same file grown by another writer (a migration's
 * source): what it wrote is output, and its last line is ended before
 * the marker.
 */
static void test_marker_only_then_other_writer(void)
{
    g_autoptr(Dir) d = dir_new();
    g_autofree char *g0 = gen(d, 0);
    RotatingFile *rf;
    FILE *other;

    put(d->path, "2026-11-26T11:14:17.887Z ==== QEMU test, pid 1, chardev "
        "c0: opened ====\n");
    rf = open_stamped(d, true, 2, 0, "QEMU test, pid 9, chardev c0");
    other = fopen(d->path, "a");
    g_assert(other);
    fputs("source line\nsource partial", other);
    fclose(other);
    g_assert(rotating_file_reopen(rf, &error_abort));
    g_assert(rotating_file_rotate(rf, &error_abort));
    rotating_file_close(rf);
    assert_stamped(g0, "S|==== QEMU test, pid 1, chardev c0: opened ====\n"
                   "S|==== QEMU test, pid 9, chardev c0: opened ====\n"
                   "source line\nsource partial\n"
                   "S|==== QEMU test, pid 9, chardev c0: reopened ====\n");
}

/*
 * Markers of many failed starts fill the file: it starts over rather
 * than push a boot out of the generations.
 */
static void test_marker_only_full(void)
{
    g_autoptr(Dir) d = dir_new();
    g_autoptr(GString) markers = g_string_new(NULL);
    RotatingFileOptions opts = options(d, false, 2, 4096);
    g_autofree char *g0 = gen(d, 0);
    g_autofree char *g1 = gen(d, 1);
    RotatingFile *rf;

    put(g1, "boot A\n");
    put(g0, "boot B\n");
    while (markers->len < 4096 - 100) {
        g_string_append(markers, "2026-11-26T11:14:17.887Z ==== QEMU test, "
                        "pid 1, chardev c0: opened ====\n");
    }
    put(d->path, markers->str);
    opts.marker = "QEMU test, pid 10, chardev c0";
    rf = rotating_file_open(&opts, NULL, NULL, &error_abort);
    write_str(rf, "boot C\n");
    rotating_file_close(rf);
    assert_gen(d, 1, "boot A\n");
    assert_gen(d, 0, "boot B\n");
    assert_stamped(d->path, "S|==== QEMU test, pid 10, chardev c0: new "
                   "generation (size) ====\n"
                   "S|==== QEMU test, pid 10, chardev c0: opened ====\n"
                   "boot C\n");
}

/* A line that goes on in a new file gets a stamp there. */
static void test_stamp_continued_in_new_file(void)
{
    g_autoptr(Dir) d = dir_new();
    g_autofree char *moved = g_strdup_printf("%s.moved", d->path);
    RotatingFile *rf = open_stamped(d, false, 2, 0, NULL);

    write_str(rf, "abc");
    g_assert(rotating_file_rotate(rf, &error_abort));
    write_str(rf, "def");
    g_assert_cmpint(rename(d->path, moved), ==, 0);
    g_assert(rotating_file_reopen(rf, &error_abort));
    write_str(rf, "ghi\n");
    rotating_file_close(rf);
    assert_stamped(gen(d, 0), "S|abc");
    assert_stamped(moved, "S|def");
    assert_stamped(d->path, "S|ghi\n");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    umask(022);

    g_test_add_func("/rotating-file/plain/truncate", test_plain_truncate);
    g_test_add_func("/rotating-file/plain/append", test_plain_append);
    g_test_add_func("/rotating-file/start/rotate-1", test_start_rotate_1);
    g_test_add_func("/rotating-file/start/rotate-3", test_start_rotate_3);
    g_test_add_func("/rotating-file/start/empty-not-shifted",
                    test_start_empty_not_shifted);
    g_test_add_func("/rotating-file/start/append-keeps",
                    test_start_append_keeps);
    g_test_add_func("/rotating-file/start/take-over", test_start_take_over);
    g_test_add_func("/rotating-file/notify/reasons", test_notify_reasons);
    g_test_add_func("/rotating-file/size/4k-writes", test_size_4k_writes);
    g_test_add_func("/rotating-file/size/byte-writes", test_size_byte_writes);
    g_test_add_func("/rotating-file/size/long-lines", test_size_long_lines);
    g_test_add_func("/rotating-file/size/existing-too-big",
                    test_size_existing_too_big);
    g_test_add_func("/rotating-file/size/disk-bound", test_size_disk_bound);
    g_test_add_func("/rotating-file/integrity/random", test_integrity_random);
    g_test_add_func("/rotating-file/mode/kept", test_mode_kept);
    g_test_add_func("/rotating-file/symlink/generation",
                    test_symlink_generation);
    g_test_add_func("/rotating-file/symlink/planted-at-path",
                    test_symlink_planted_at_path);
    g_test_add_func("/rotating-file/bad/generations", test_bad_generations);
    g_test_add_func("/rotating-file/bad/size", test_bad_size);
    g_test_add_func("/rotating-file/bad/missing-dir", test_bad_missing_dir);
    g_test_add_func("/rotating-file/bad/path-is-dir", test_bad_path_is_dir);
    g_test_add_func("/rotating-file/bad/dir-at-generation",
                    test_bad_dir_at_generation);
    g_test_add_func("/rotating-file/bad/symlink-at-path",
                    test_bad_symlink_at_path);
    g_test_add_func("/rotating-file/bad/path-too-long",
                    test_bad_path_too_long);
    g_test_add_func("/rotating-file/bad/fdset", test_bad_fdset);
    g_test_add_func("/rotating-file/bad/unwritable-dir",
                    test_bad_unwritable_dir);
    g_test_add_func("/rotating-file/fault/enospc", test_fault_enospc);
    g_test_add_func("/rotating-file/fault/rotation-resumes",
                    test_fault_rotation_resumes);
    g_test_add_func("/rotating-file/command/rotate-needs-generations",
                    test_command_rotate_needs_generations);
    g_test_add_func("/rotating-file/command/reopen", test_command_reopen);
    g_test_add_func("/rotating-file/command/empty-not-rotated",
                    test_command_empty_not_rotated);
    g_test_add_func("/rotating-file/dir/cwd-changed", test_dir_cwd_changed);
    g_test_add_func("/rotating-file/dir/plain-not-held",
                    test_dir_plain_not_held);
    g_test_add_func("/rotating-file/dir/renamed", test_dir_renamed);
    g_test_add_func("/rotating-file/mode/bits-only", test_mode_bits_only);
    g_test_add_func("/rotating-file/mode/group-kept", test_mode_group_kept);
    g_test_add_func("/rotating-file/new-name/planted",
                    test_new_name_planted);
    g_test_add_func("/rotating-file/fault/reported", test_fault_reported);
    g_test_add_func("/rotating-file/stamp/format", test_stamp_format);
    g_test_add_func("/rotating-file/stamp/split-writes",
                    test_stamp_split_writes);
    g_test_add_func("/rotating-file/stamp/partial-last-line",
                    test_stamp_partial_last_line);
    g_test_add_func("/rotating-file/stamp/size-limit", test_stamp_size_limit);
    g_test_add_func("/rotating-file/marker/reasons", test_marker);
    g_test_add_func("/rotating-file/stamp/reserve", test_stamp_reserve);
    g_test_add_func("/rotating-file/stamp/continued-in-new-file",
                    test_stamp_continued_in_new_file);
    g_test_add_func("/rotating-file/marker/size-limit",
                    test_marker_size_limit);
    g_test_add_func("/rotating-file/marker/too-long", test_marker_too_long);
    g_test_add_func("/rotating-file/marker/pipe", test_marker_pipe);
    g_test_add_func("/rotating-file/marker/only-markers-not-rotated",
                    test_marker_only_not_rotated);
    g_test_add_func("/rotating-file/marker/only-markers-after-failed-starts",
                    test_marker_only_after_failed_starts);
    g_test_add_func("/rotating-file/marker/only-markers-then-other-writer",
                    test_marker_only_then_other_writer);
    g_test_add_func("/rotating-file/marker/only-markers-full",
                    test_marker_only_full);
    g_test_add_func("/rotating-file/marker/after-partial-line",
                    test_marker_after_partial_line);
#ifdef CONFIG_LINUX
    g_test_add_func("/rotating-file/fault/rename-keeps-failing",
                    test_fault_rename_keeps_failing);
    g_test_add_func("/rotating-file/fault/start-rotation",
                    test_fault_start_rotation);
#endif

    return g_test_run();
}
