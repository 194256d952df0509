/*
 * Chardev output files that keep generations and bound their size: tests
 * on real files in a temporary directory, with the main loop and the
 * thread pool that rotate them in QEMU
 *
 * Copyright (c) 2026 The QEMU console log contributors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <glib/gstdio.h>
#include "qapi/error.h"
#include "qemu/main-loop.h"
#include "qemu/thread.h"
#include "block/aio.h"
#include "block/thread-pool.h"
#include "chardev/rotating-file.h"

#define SIZE 4096
#define LOST "[qemu: %" PRIu64 " bytes of output lost here]\n"

static char *dir;

/* PATH if @k < 0, else PATH.@k */
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

/* In place: g_file_set_contents() would need a longer temporary name */
static void write_gen(const char *name, int k, const char *contents)
{
    g_autofree char *path = gen(name, k);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(write(fd, contents, strlen(contents)), ==,
                    strlen(contents));
    close(fd);
}

static bool gen_exists(const char *name, int k)
{
    g_autofree char *path = gen(name, k);
    struct stat st;

    return !lstat(path, &st);
}

static off_t gen_size(const char *name, int k)
{
    g_autofree char *path = gen(name, k);
    struct stat st;

    return lstat(path, &st) ? -1 : st.st_size;
}

static RotatingFile *open_rf(const char *name, bool append, int64_t n,
                             uint64_t max_size, Error **errp)
{
    g_autofree char *path = gen(name, -1);

    return rotating_file_open("test", "rotate", "size", path, append, n,
                              max_size, errp);
}

/*
 * Numbered lines of letters, of 2 to 120 bytes: no '[', which a note of
 * lost output starts with, and a byte out of place shows
 */
static GString *make_stream(size_t len)
{
    static const char letters[] = "abcdefghijklmnopqrstuvwxyz"
                                  "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                  "abcdefghijklmnopqrstuvwxyz"
                                  "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                  "abcdefghijklmnopqrstuvwxyz";
    GString *s = g_string_sized_new(len + 128);

    for (unsigned i = 0; s->len < len; i++) {
        g_string_append_printf(s, "%u%.*s\n", i, (int)(i * 37 % 112),
                               letters);
    }
    g_string_truncate(s, len);
    return s;
}

/* The bytes lost that the note at the start of @s tells, and its length */
static uint64_t lost_note(const char *s, size_t len, size_t *note_len)
{
    g_autofree char *note = NULL;
    uint64_t lost;
    char *end;

    *note_len = 0;
    if (!g_str_has_prefix(s, "[qemu: ")) {
        return 0;
    }
    lost = g_ascii_strtoull(s + strlen("[qemu: "), &end, 10);
    note = g_strdup_printf(LOST, lost);
    g_assert_cmpuint(len, >=, strlen(note));
    g_assert_cmpmem(s, strlen(note), note, strlen(note));
    g_assert_cmpuint(lost, >, 0);
    *note_len = strlen(note);
    return lost;
}

/*
 * PATH.(@n - 1) ... PATH.0 PATH, with the notes of lost output: the end of
 * @stream, each byte once and in order, except those the notes count,
 * lost just before the file that tells it.  Returns how many bytes of
 * @stream came before the oldest file; *@lost gets the bytes the notes
 * count.  No file is there beyond PATH.(@n - 1), and none exceeds @cap.
 */
static size_t check_files(const char *name, int n, GString *stream,
                          size_t cap, uint64_t *lost)
{
    size_t end = stream->len;

    *lost = 0;
    g_assert_false(gen_exists(name, n));
    for (int k = -1; k < n; k++) {
        g_autofree char *path = gen(name, k);
        g_autofree char *s = NULL;
        size_t len, note_len;
        uint64_t note;

        if (!g_file_get_contents(path, &s, &len, NULL)) {
            continue;
        }
        g_assert_cmpuint(len, <=, cap);
        note = lost_note(s, len, &note_len);
        len -= note_len;
        g_assert_cmpuint(len, <=, end);
        if (memcmp(s + note_len, stream->str + end - len, len)) {
            g_error("%s is not the part of the output it should be", path);
        }
        end -= len;
        g_assert_cmpuint(note, <=, end);
        end -= note;
        *lost += note;
    }
    return end;
}

/* All that was written is in the files, and nothing was lost */
static void check_all_kept(const char *name, int n, GString *stream,
                           size_t cap)
{
    uint64_t lost;

    g_assert_cmpuint(check_files(name, n, stream, cap, &lost), ==, 0);
    g_assert_cmpuint(lost, ==, 0);
}

/* PATH and its generations, in bytes */
static uint64_t disk_use(const char *name, int n)
{
    uint64_t sum = 0;

    for (int k = -1; k < n; k++) {
        sum += MAX(gen_size(name, k), 0);
    }
    return sum;
}

static mode_t gen_mode(const char *name, int k)
{
    g_autofree char *path = gen(name, k);
    struct stat st;

    g_assert_cmpint(lstat(path, &st), ==, 0);
    return st.st_mode & 07777;
}

/* Whether this process has a descriptor of a file in the directory */
static bool any_file_open(void)
{
    g_autoptr(GDir) fds = g_dir_open("/proc/self/fd", 0, NULL);
    const char *fd;

    while (fds && (fd = g_dir_read_name(fds))) {
        g_autofree char *link = g_build_filename("/proc/self/fd", fd, NULL);
        g_autofree char *target = g_file_read_link(link, NULL);

        if (target && g_str_has_prefix(target, dir)) {
            return true;
        }
    }
    return false;
}

/*
 * The main loop's thread pool has a single thread (see main()): a job
 * that waits for an event keeps every rotation queued behind it.
 */
static QemuEvent released;

static int held_work(void *opaque)
{
    qemu_event_wait(&released);
    return 0;
}

static void hold(void)
{
    qemu_event_reset(&released);
    thread_pool_submit_aio(held_work, NULL, NULL, NULL);
}

static void release(void)
{
    qemu_event_set(&released);
}

static gboolean beat(void *opaque)
{
    return G_SOURCE_CONTINUE;
}

static void run_main_loop_until(bool *done)
{
    int64_t give_up = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
    guint heartbeat = g_timeout_add(10, beat, NULL);

    while (!*done) {
        g_assert_cmpint(g_get_monotonic_time(), <, give_up);
        main_loop_wait(false);
    }
    g_source_remove(heartbeat);
}

static int no_work(void *opaque)
{
    return 0;
}

static void work_done(void *opaque, int ret)
{
    *(bool *)opaque = true;
}

/* Every job submitted to the pool before has ended, completion included */
static void pool_barrier(void)
{
    bool done = false;

    main_loop_wait(true);   /* a worker asked for from another thread */
    thread_pool_submit_aio(no_work, NULL, work_done, &done);
    run_main_loop_until(&done);
}

/*
 * Until no rotation of @name is in flight nor due: a completion may ask
 * for the next one, so until PATH stays the same for two barriers
 */
static void settle(const char *name)
{
    g_autofree char *path = gen(name, -1);
    int quiet = 0;

    while (quiet < 2) {
        struct stat before, after;
        bool had = !lstat(path, &before);
        bool has;

        pool_barrier();
        has = !lstat(path, &after);
        if (had == has && (!had || (before.st_ino == after.st_ino &&
                                    before.st_size == after.st_size))) {
            quiet++;
        } else {
            quiet = 0;
        }
    }
}

/* As a chardev of the guest writes: the worker keeps up between writes */
static void write_kept_up(RotatingFile *rf, const char *name,
                          const char *buf, size_t len)
{
    rotating_file_write(rf, buf, len);
    settle(name);
}

typedef struct ThreadWrite {
    RotatingFile *rf;
    const char *buf;
    size_t len, chunk;
    QemuSemaphore done;
} ThreadWrite;

static void *write_thread(void *opaque)
{
    ThreadWrite *tw = opaque;

    for (size_t off = 0; off < tw->len; off += tw->chunk) {
        rotating_file_write(tw->rf, tw->buf + off,
                            MIN(tw->chunk, tw->len - off));
    }
    qemu_sem_post(&tw->done);
    return NULL;
}

/*
 * Write @len bytes in pieces of @chunk from another thread, as a vCPU
 * does, while this one does not run the main loop and the worker is
 * held: the writes must return, as they cannot wait for a rotation
 */
static void write_from_thread(RotatingFile *rf, const char *buf,
                              size_t len, size_t chunk)
{
    ThreadWrite tw = { rf, buf, len, chunk };
    QemuThread thread;

    qemu_sem_init(&tw.done, 0);
    qemu_thread_create(&thread, "writer", write_thread, &tw,
                       QEMU_THREAD_JOINABLE);
    if (qemu_sem_timedwait(&tw.done, 20 * 1000)) {
        g_error("a write waited for the held worker");
    }
    qemu_thread_join(&thread);
    qemu_sem_destroy(&tw.done);
}

/*
 * Close @rf, as the main loop does, while its rotation is held: a thread
 * releases the worker only if that waits, 20 s later, for the test to
 * fail rather than hang
 */
typedef struct Releaser {
    QemuSemaphore cancel;
    bool released;
} Releaser;

static void *release_later(void *opaque)
{
    Releaser *r = opaque;

    if (qemu_sem_timedwait(&r->cancel, 20 * 1000)) {
        qatomic_set(&r->released, true);
        release();
    }
    return NULL;
}

static void close_held(RotatingFile *rf)
{
    Releaser r = { .released = false };
    QemuThread thread;

    qemu_sem_init(&r.cancel, 0);
    qemu_thread_create(&thread, "releaser", release_later, &r,
                       QEMU_THREAD_JOINABLE);
    rotating_file_close(rf);
    if (qatomic_read(&r.released)) {
        g_error("closing waited for the held rotation");
    }
    qemu_sem_post(&r.cancel);
    qemu_thread_join(&thread);
    qemu_sem_destroy(&r.cancel);
}

/* Each restart keeps the previous boot's file; N of them, no more */
static void test_open_restarts(void)
{
    for (int boot = 1; boot <= 5; boot++) {
        g_autofree char *line = g_strdup_printf("boot %d\n", boot);
        RotatingFile *rf = open_rf("restarts", false, 3, 0, &error_abort);

        g_assert_cmpint(gen_size("restarts", -1), ==, 0);
        rotating_file_write(rf, line, strlen(line));
        rotating_file_close(rf);
    }
    for (int k = -1; k < 3; k++) {
        g_autofree char *s = read_gen("restarts", k);
        g_autofree char *want = g_strdup_printf("boot %d\n", 4 - k);

        g_assert_cmpstr(s, ==, want);
    }
    g_assert_false(gen_exists("restarts", 3));
}

static void test_open_append(void)
{
    RotatingFile *rf;
    g_autofree char *s = NULL;
    g_autofree char *s0 = NULL;

    write_gen("append", 0, "zero\n");
    write_gen("append", -1, "one\n");
    rf = open_rf("append", true, 2, SIZE, &error_abort);
    rotating_file_write(rf, "two\n", 4);
    rotating_file_close(rf);
    s = read_gen("append", -1);
    s0 = read_gen("append", 0);
    g_assert_cmpstr(s, ==, "one\ntwo\n");
    g_assert_cmpstr(s0, ==, "zero\n");
    g_assert_false(gen_exists("append", 1));
}

/*
 * A file appended to that is already due for rotation (written with a
 * larger size, or before rotation) is rotated at open, as without
 * append: its first output is not lost, and no file passes its limit.
 */
static void test_open_append_large(void)
{
    g_autoptr(GString) old = make_stream(5 * SIZE);
    g_autoptr(GString) out = make_stream(SIZE);
    g_autofree char *s = NULL, *s0 = NULL, *s1 = NULL;
    RotatingFile *rf;

    write_gen("applarge", -1, old->str);
    rf = open_rf("applarge", true, 3, SIZE, &error_abort);
    hold();
    rotating_file_write(rf, out->str, out->len);
    release();
    settle("applarge");
    rotating_file_close(rf);
    s = read_gen("applarge", -1);
    s0 = read_gen("applarge", 0);
    s1 = read_gen("applarge", 1);
    g_assert_cmpstr(s, ==, "");
    g_assert_cmpstr(s0, ==, out->str);
    g_assert_cmpstr(s1, ==, old->str);
}

/* An empty PATH is no previous boot: it stays, and no generation moves */
static void test_open_empty(void)
{
    RotatingFile *rf;
    g_autofree char *s = NULL;
    g_autofree char *s0 = NULL;

    write_gen("empty", 0, "zero\n");
    write_gen("empty", -1, "");
    rf = open_rf("empty", false, 2, 0, &error_abort);
    rotating_file_write(rf, "one\n", 4);
    rotating_file_close(rf);
    s = read_gen("empty", -1);
    s0 = read_gen("empty", 0);
    g_assert_cmpstr(s, ==, "one\n");
    g_assert_cmpstr(s0, ==, "zero\n");
    g_assert_false(gen_exists("empty", 1));
}

/*
 * Generations move up only to the first missing one: what is beyond the
 * gap stays, so that a rotation that failed half-way and is tried again
 * deletes nothing.
 */
static void test_open_gap(void)
{
    RotatingFile *rf;
    g_autofree char *s = NULL, *s0 = NULL, *s1 = NULL, *s2 = NULL;

    write_gen("gap", 2, "two\n");
    write_gen("gap", 0, "zero\n");
    write_gen("gap", -1, "boot\n");
    rf = open_rf("gap", false, 4, 0, &error_abort);
    rotating_file_close(rf);
    s = read_gen("gap", -1);
    s0 = read_gen("gap", 0);
    s1 = read_gen("gap", 1);
    s2 = read_gen("gap", 2);
    g_assert_cmpstr(s, ==, "");
    g_assert_cmpstr(s0, ==, "boot\n");
    g_assert_cmpstr(s1, ==, "zero\n");
    g_assert_cmpstr(s2, ==, "two\n");
    g_assert_false(gen_exists("gap", 3));
}

/*
 * A previous boot's file shortens the first file's limit by its size, at
 * most SIZE (how much of it ran over its own limit is not known), so
 * that the files stay within (N + 2) x SIZE: here the first file takes
 * SIZE before output is dropped, not 2 x SIZE.
 */
static void test_open_overrun(void)
{
    g_autoptr(GString) old = make_stream(SIZE + SIZE / 2);
    g_autoptr(GString) out = make_stream(2 * SIZE);
    g_autofree char *s0 = NULL;
    RotatingFile *rf;

    write_gen("overrun", -1, old->str);
    rf = open_rf("overrun", false, 3, SIZE, &error_abort);
    s0 = read_gen("overrun", 0);
    g_assert_cmpstr(s0, ==, old->str);
    hold();
    rotating_file_write(rf, out->str, out->len);
    g_assert_cmpint(gen_size("overrun", -1), ==,
                    2 * SIZE - MIN(old->len, SIZE));
    g_assert_cmpuint(disk_use("overrun", 3), <=, 3 * SIZE);
    release();
    settle("overrun");
    rotating_file_close(rf);
}

/*
 * Writes of many sizes up to SIZE / 8, the worker keeping up: no file
 * above SIZE, a new one when one is 7/8 full, and every byte once, in
 * order.
 */
static void test_size_kept_up(void)
{
    g_autoptr(GString) stream = make_stream(20 * SIZE);
    RotatingFile *rf = open_rf("keptup", false, 40, SIZE, &error_abort);
    size_t off = 0;

    for (size_t i = 0; off < stream->len; i++) {
        size_t len = MIN(1 + i * 97 % (SIZE / 8), stream->len - off);

        write_kept_up(rf, "keptup", stream->str + off, len);
        off += len;
    }
    rotating_file_close(rf);

    check_all_kept("keptup", 40, stream, SIZE);
    for (int k = 0; gen_exists("keptup", k); k++) {
        g_assert_cmpint(gen_size("keptup", k), >=, SIZE - SIZE / 8);
    }
}

/*
 * Writes of many sizes, some larger than a file: whatever the sizes, no
 * file goes beyond twice SIZE, and what does not fit is counted where it
 * was lost.
 */
static void test_size_large_writes(void)
{
    static const size_t sizes[] = {
        1, 700, SIZE - 1, SIZE, SIZE + 1, 3 * SIZE / 2, 2 * SIZE - 1,
        2 * SIZE, 2 * SIZE + 1, 3 * SIZE, 100, 5 * SIZE, 1,
    };
    g_autoptr(GString) stream = make_stream(30 * SIZE);
    size_t off = 0, lost_writing = 0;
    uint64_t lost;
    RotatingFile *rf = open_rf("large", false, 60, SIZE, &error_abort);

    for (int i = 0; i < ARRAY_SIZE(sizes); i++) {
        write_kept_up(rf, "large", stream->str + off, sizes[i]);
        off += sizes[i];
        /* Into an empty file of limit SIZE, or one that runs over less */
        lost_writing += sizes[i] - MIN(sizes[i], 2 * SIZE);
    }
    g_string_truncate(stream, off);
    rotating_file_close(rf);

    g_assert_cmpuint(check_files("large", 60, stream, 2 * SIZE, &lost), ==,
                     0);
    g_assert_cmpuint(lost, >=, lost_writing);
}

/* PATH.(@n - 1) ... PATH.0 PATH, oldest first */
static GString *read_all(const char *name, int n)
{
    GString *all = g_string_new("");

    for (int k = n - 1; k >= -1; k--) {
        g_autofree char *s = read_gen(name, k);

        g_string_append(all, s ? s : "");
    }
    return all;
}

/*
 * The worker held: the file grows to twice SIZE, what comes beyond is
 * dropped, and the output that goes on after tells the exact count.
 * Nothing is dropped before.
 */
static void test_hold_cap(void)
{
    g_autoptr(GString) stream = make_stream(5 * SIZE);
    g_autoptr(GString) all = NULL;
    g_autofree char *note = g_strdup_printf(LOST "end\n",
                                            (uint64_t)3 * SIZE);
    RotatingFile *rf = open_rf("cap", false, 3, SIZE, &error_abort);

    hold();
    for (size_t off = 0; off < stream->len; off += 1000) {
        rotating_file_write(rf, stream->str + off,
                            MIN(1000, stream->len - off));
        g_assert_cmpint(gen_size("cap", -1), ==,
                        MIN(off + 1000, 2 * SIZE));
    }
    g_assert_false(gen_exists("cap", 0));
    release();
    settle("cap");
    write_kept_up(rf, "cap", "end\n", 4);
    rotating_file_close(rf);

    all = read_all("cap", 3);
    g_assert_cmpuint(all->len, ==, 2 * SIZE + strlen(note));
    g_assert_cmpmem(all->str, 2 * SIZE, stream->str, 2 * SIZE);
    g_assert_cmpstr(all->str + 2 * SIZE, ==, note);
}

/*
 * The output kept before a loss stays a generation of its own: the file
 * where output goes on, with the count, is not rotated at its first line.
 */
static void test_hold_note(void)
{
    g_autoptr(GString) stream = make_stream(3 * SIZE);
    g_autofree char *note = g_strdup_printf(LOST "on\n", (uint64_t)SIZE);
    g_autofree char *s = NULL;
    RotatingFile *rf = open_rf("note", false, 1, SIZE, &error_abort);

    hold();
    rotating_file_write(rf, stream->str, stream->len);
    release();
    settle("note");
    write_kept_up(rf, "note", "on\n", 3);
    rotating_file_close(rf);
    g_assert_cmpint(gen_size("note", 0), ==, 2 * SIZE);
    s = read_gen("note", -1);
    g_assert_cmpstr(s, ==, note);
}

/*
 * Floods while the worker is held, again and again: PATH and its N
 * generations never take more than (N + 2) x SIZE, and every file that
 * is there is the output in order, with the losses counted.
 */
static void test_hold_bound(void)
{
    g_autoptr(GString) stream = make_stream(64 * SIZE);
    size_t off = 0;
    uint64_t lost;
    RotatingFile *rf = open_rf("bound", false, 3, SIZE, &error_abort);

    for (int round = 0; round < 12; round++) {
        /* Stalls of many lengths, and outputs that keep up between */
        size_t stalled = (round * 1237) % (3 * SIZE) + 1;
        size_t kept_up = (round * 3119) % (2 * SIZE);

        hold();
        rotating_file_write(rf, stream->str + off, stalled);
        off += stalled;
        g_assert_cmpuint(disk_use("bound", 3), <=, 5 * SIZE);
        release();
        settle("bound");
        g_assert_cmpuint(disk_use("bound", 3), <=, 5 * SIZE);
        for (size_t end = off + kept_up; off < end; off += 300) {
            write_kept_up(rf, "bound", stream->str + off, 300);
            g_assert_cmpuint(disk_use("bound", 3), <=, 5 * SIZE);
        }
    }
    g_string_truncate(stream, off);
    rotating_file_close(rf);
    check_files("bound", 3, stream, 2 * SIZE, &lost);
}

/*
 * A rotation held in the worker never holds a write back, from the main
 * loop's thread or another one: each takes all that fits.  The next file
 * comes when the worker is free, and nothing written is lost.
 */
static void test_hold_no_wait(void)
{
    g_autoptr(GString) stream = make_stream(SIZE + SIZE / 2);
    RotatingFile *rf = open_rf("nowait", false, 2, SIZE, &error_abort);

    hold();
    write_from_thread(rf, stream->str, SIZE, 100);
    g_assert_cmpint(gen_size("nowait", -1), ==, SIZE);
    rotating_file_write(rf, stream->str + SIZE, SIZE / 2);
    g_assert_cmpint(gen_size("nowait", -1), ==, stream->len);
    g_assert_false(gen_exists("nowait", 0));
    release();
    settle("nowait");
    g_assert_cmpint(gen_size("nowait", 0), ==, stream->len);
    rotating_file_close(rf);
    check_all_kept("nowait", 2, stream, 2 * SIZE);
}

/*
 * Closing does not wait for a held rotation either; the files are
 * complete once it ends, and the last completion closes them.
 */
static void test_hold_close(void)
{
    g_autoptr(GString) stream = make_stream(SIZE);
    RotatingFile *rf = open_rf("close", false, 2, SIZE, &error_abort);

    hold();
    rotating_file_write(rf, stream->str, stream->len);
    g_assert_true(any_file_open());
    close_held(rf);
    release();
    settle("close");
    check_all_kept("close", 2, stream, SIZE);
    g_assert_false(any_file_open());

    /* Without a rotation in flight, at once */
    rf = open_rf("close", false, 2, SIZE, &error_abort);
    rotating_file_close(rf);
    g_assert_false(any_file_open());
}

/*
 * A chardev opened on the files of one that was just closed (a restart
 * of the backend, chardev-change to the same path) writes PATH: a
 * rotation of the closed one, still held, does not move its files.
 */
static void test_hold_close_reopen(void)
{
    g_autoptr(GString) stream = make_stream(SIZE);
    RotatingFile *rf = open_rf("reopen", false, 3, SIZE, &error_abort);
    g_autofree char *s = NULL;
    g_autofree char *s0 = NULL;

    hold();
    rotating_file_write(rf, stream->str, stream->len);
    close_held(rf);
    rf = open_rf("reopen", false, 3, SIZE, &error_abort);
    rotating_file_write(rf, "new\n", 4);
    release();
    settle("reopen");
    s = read_gen("reopen", -1);
    s0 = read_gen("reopen", 0);
    g_assert_cmpstr(s, ==, "new\n");
    g_assert_cmpstr(s0, ==, stream->str);
    rotating_file_close(rf);
}

/*
 * A rename that keeps failing (PATH.2 is a directory that is not empty:
 * PATH.1 cannot replace it, even for root) deletes nothing, however
 * often it is tried; the file grows beyond its limit meanwhile, and
 * rotates once the way is clear.
 */
static void test_rename_fails_subprocess(void)
{
    g_autoptr(GString) stream = make_stream(SIZE + SIZE / 2 + 2);
    g_autofree char *blocker = gen("fail", 2);
    g_autofree char *inside = g_build_filename(blocker, "x", NULL);
    g_autofree char *s = NULL, *s0 = NULL, *s1 = NULL, *s2 = NULL;
    RotatingFile *rf;

    write_gen("fail", 1, "one\n");
    write_gen("fail", 0, "zero\n");
    g_assert_cmpint(g_mkdir(blocker, 0700), ==, 0);
    g_assert_true(g_file_set_contents(inside, "x\n", -1, NULL));
    rf = open_rf("fail", false, 3, SIZE, &error_abort);
    write_kept_up(rf, "fail", stream->str, SIZE);
    for (int i = 1; i <= 2; i++) {
        /* A second later, the next write tries again */
        g_usleep(1100 * 1000);
        write_kept_up(rf, "fail", stream->str + SIZE + i - 1, 1);
        s0 = read_gen("fail", 0);
        s1 = read_gen("fail", 1);
        g_assert_cmpstr(s0, ==, "zero\n");
        g_assert_cmpstr(s1, ==, "one\n");
        g_assert_true(g_file_test(inside, G_FILE_TEST_IS_REGULAR));
        g_assert_cmpint(gen_size("fail", -1), ==, SIZE + i);
        g_clear_pointer(&s0, g_free);
        g_clear_pointer(&s1, g_free);
    }

    g_assert_cmpint(g_unlink(inside), ==, 0);
    g_assert_cmpint(g_rmdir(blocker), ==, 0);
    g_usleep(1100 * 1000);
    write_kept_up(rf, "fail", stream->str + SIZE + 2, SIZE / 2);
    rotating_file_close(rf);
    s = read_gen("fail", -1);
    s1 = read_gen("fail", 1);
    s2 = read_gen("fail", 2);
    g_assert_cmpstr(s, ==, "");
    g_assert_cmpstr(s1, ==, "zero\n");
    g_assert_cmpstr(s2, ==, "one\n");
    s0 = read_gen("fail", 0);
    g_assert_cmpstr(s0, ==, stream->str);
}

/* One warning for the two failures, naming the chardev and the error */
static void test_rename_fails(void)
{
    g_test_trap_subprocess("/rotating-file/fault/rename-fails/subprocess",
                           0, 0);
    g_test_trap_assert_passed();
    g_test_trap_assert_stderr("*warning: chardev 'test': rotate: cannot "
                              "rename '*/fail.1' to '*/fail.2': *\n");
    g_test_trap_assert_stderr_unmatched("*cannot rename*cannot rename*");
}

/*
 * Output lost is warned about with the total so far, at most once in
 * ten seconds
 */
static void test_warning_subprocess(void)
{
    g_autoptr(GString) stream = make_stream(6 * SIZE);
    RotatingFile *rf = open_rf("warn", false, 3, SIZE, &error_abort);

    hold();
    rotating_file_write(rf, stream->str, 3 * SIZE);
    release();
    settle("warn");
    hold();
    rotating_file_write(rf, stream->str + 3 * SIZE, 3 * SIZE);
    release();
    settle("warn");
    rotating_file_close(rf);
}

static void test_warning(void)
{
    g_test_trap_subprocess("/rotating-file/warning/subprocess", 0, 0);
    g_test_trap_assert_passed();
    g_test_trap_assert_stderr("*warning: chardev 'test': rotate: 4096 bytes "
                              "of output lost so far\n");
    g_test_trap_assert_stderr_unmatched("*lost so far*lost so far*");
}

/*
 * A new file asked for while a rename fails comes when it succeeds, as
 * one due by size does.
 */
static void test_rotate_fails(void)
{
    g_autofree char *blocker = gen("rfail", 0);
    g_autofree char *inside = g_build_filename(blocker, "x", NULL);
    RotatingFile *rf = open_rf("rfail", false, 1, 0, &error_abort);
    g_autofree char *s0 = NULL;
    g_autofree char *s = NULL;

    g_assert_cmpint(g_mkdir(blocker, 0700), ==, 0);
    g_assert_true(g_file_set_contents(inside, "x\n", -1, NULL));
    rotating_file_write(rf, "one\n", 4);
    rotating_file_rotate(rf);
    settle("rfail");
    g_assert_cmpint(gen_size("rfail", -1), ==, 4);
    g_assert_cmpint(g_unlink(inside), ==, 0);
    g_assert_cmpint(g_rmdir(blocker), ==, 0);
    g_usleep(1100 * 1000);
    /* The next write, a second later, tries again */
    write_kept_up(rf, "rfail", "two\n", 4);
    rotating_file_close(rf);
    s0 = read_gen("rfail", 0);
    s = read_gen("rfail", -1);
    g_assert_cmpstr(s0, ==, "one\ntwo\n");
    g_assert_cmpstr(s, ==, "");
}

/* A symbolic link at PATH is refused, and nothing is written through it */
static void test_symlink_open(void)
{
    g_autofree char *target = gen("target", -1);
    g_autofree char *link = gen("link", -1);
    g_autofree char *dangling = gen("dangling", -1);
    g_autofree char *nowhere = gen("nowhere", -1);
    g_autofree char *s = NULL;
    Error *err = NULL;

    write_gen("target", -1, "target\n");
    g_assert_cmpint(symlink(target, link), ==, 0);
    g_assert_cmpint(symlink(nowhere, dangling), ==, 0);
    g_assert_null(open_rf("link", false, 2, 0, &err));
    g_assert_true(g_str_has_prefix(error_get_pretty(err), "rotate needs a "
                                   "regular file that QEMU opens by name"));
    g_clear_pointer(&err, error_free);
    g_assert_null(open_rf("dangling", false, 2, 0, &err));
    g_clear_pointer(&err, error_free);
    s = read_gen("target", -1);
    g_assert_cmpstr(s, ==, "target\n");
    g_assert_false(gen_exists("nowhere", -1));
    g_assert_false(gen_exists("link", 0));
    g_assert_false(gen_exists("dangling", 0));
}

/*
 * Symbolic links planted while the chardev runs, at PATH (the file
 * moved away) and at a generation, are renamed as links, never written
 * through; the next PATH is a new regular file.
 */
static void test_symlink_planted(void)
{
    g_autofree char *target = gen("precious", -1);
    g_autofree char *path = gen("planted", -1);
    g_autofree char *moved = gen("moved", -1);
    g_autofree char *path0 = gen("planted", 0);
    g_autofree char *path1 = gen("planted", 1);
    g_autofree char *s = NULL, *s0 = NULL, *m = NULL, *p = NULL;
    g_autofree char *link1 = NULL;
    RotatingFile *rf = open_rf("planted", false, 3, 0, &error_abort);
    struct stat st;

    write_gen("precious", -1, "precious\n");
    rotating_file_write(rf, "one\n", 4);
    g_assert_cmpint(rename(path, moved), ==, 0);
    g_assert_cmpint(symlink(target, path), ==, 0);
    rotating_file_write(rf, "two\n", 4);
    rotating_file_rotate(rf);
    settle("planted");
    rotating_file_write(rf, "three\n", 6);

    /* The link is PATH.0 now; a link at PATH.0 when the next one comes */
    g_assert_cmpint(lstat(path0, &st), ==, 0);
    g_assert_true(S_ISLNK(st.st_mode));
    rotating_file_rotate(rf);
    settle("planted");
    rotating_file_write(rf, "four\n", 5);
    rotating_file_close(rf);

    p = read_gen("precious", -1);
    g_assert_cmpstr(p, ==, "precious\n");
    m = read_gen("moved", -1);
    g_assert_cmpstr(m, ==, "one\ntwo\n");
    link1 = g_file_read_link(path1, NULL);
    g_assert_cmpstr(link1, ==, target);
    g_assert_cmpint(lstat(path0, &st), ==, 0);
    g_assert_true(S_ISREG(st.st_mode));
    s0 = read_gen("planted", 0);
    g_assert_cmpstr(s0, ==, "three\n");
    g_assert_cmpint(lstat(path, &st), ==, 0);
    g_assert_true(S_ISREG(st.st_mode));
    s = read_gen("planted", -1);
    g_assert_cmpstr(s, ==, "four\n");
}

static void check_refused(const char *name, const char *path, int64_t n,
                          uint64_t max_size, const char *want, int err1,
                          int err2)
{
    Error *err = NULL;
    RotatingFile *rf = rotating_file_open("test", "logrotate", "logsize",
                                          path, false, n, max_size, &err);
    const char *msg;

    g_assert_null(rf);
    g_assert_nonnull(err);
    msg = error_get_pretty(err);
    if (!err1) {
        g_assert_cmpstr(msg, ==, want);
    } else {
        g_autofree char *want1 = g_strdup_printf("%s: %s", want,
                                                 g_strerror(err1));
        g_autofree char *want2 = g_strdup_printf("%s: %s", want,
                                                 g_strerror(err2));

        if (strcmp(msg, want1) && strcmp(msg, want2)) {
            g_error("%s: '%s', not '%s'", name, msg, want1);
        }
    }
    error_free(err);
}

/* Bad input: an error naming the option and path, and no file touched */
static void test_bad_input(void)
{
    g_autofree char *file = gen("bad", -1);
    g_autofree char *adir = gen("adir", -1);
    g_autofree char *fifo = gen("fifo", -1);
    g_autofree char *link = gen("badlink", -1);
    g_autofree char *nodir = g_build_filename(dir, "nodir", "file", NULL);
    const char *needs = "logrotate needs a regular file that QEMU opens by "
                        "name, not '%s'";
    struct {
        const char *path;
        int64_t n;
        uint64_t max_size;
        char *want;
        int err1, err2;
    } cases[] = {
        { file, 0, 0, g_strdup_printf("logrotate for '%s' must be 1 to 255, "
                                      "not 0", file) },
        { file, 256, SIZE, g_strdup_printf("logrotate for '%s' must be 1 to "
                                           "255, not 256", file) },
        { file, -1, SIZE, g_strdup_printf("logrotate for '%s' must be 1 to "
                                          "255, not -1", file) },
        { file, 3, SIZE - 1, g_strdup_printf("logsize for '%s' must be 4K "
                                             "to 1T", file) },
        /* where twice the size would overflow */
        { file, 3, UINT64_C(1) << 63, g_strdup_printf("logsize for '%s' must "
                                                      "be 4K to 1T", file) },
        { file, 3, (UINT64_C(1) << 40) + 1,
          g_strdup_printf("logsize for '%s' must be 4K to 1T", file) },
        { adir, 3, SIZE, g_strdup_printf(needs, adir), EISDIR, EISDIR },
        { fifo, 3, SIZE, g_strdup_printf(needs, fifo), ENXIO, ENXIO },
        /* FreeBSD tells EMLINK for O_NOFOLLOW */
        { link, 3, SIZE, g_strdup_printf(needs, link), ELOOP, EMLINK },
        { "/dev/null", 3, SIZE, g_strdup_printf(needs, "/dev/null"),
          EINVAL, EINVAL },
        { "/dev/fdset/1", 3, SIZE, g_strdup_printf(needs, "/dev/fdset/1"),
          EBADF, EBADF },
        { nodir, 3, SIZE, g_strdup_printf(needs, nodir), ENOENT, ENOENT },
    };
    g_autofree char *s = NULL;
    g_autofree char *t = NULL;

    write_gen("bad", -1, "bad\n");
    write_gen("badtarget", -1, "target\n");
    g_assert_cmpint(g_mkdir(adir, 0700), ==, 0);
    g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
    t = gen("badtarget", -1);
    g_assert_cmpint(symlink(t, link), ==, 0);
    g_clear_pointer(&t, g_free);
    for (int i = 0; i < ARRAY_SIZE(cases); i++) {
        check_refused(cases[i].path, cases[i].path, cases[i].n,
                      cases[i].max_size, cases[i].want, cases[i].err1,
                      cases[i].err2);
        g_free(cases[i].want);
    }
    s = read_gen("bad", -1);
    g_assert_cmpstr(s, ==, "bad\n");
    t = read_gen("badtarget", -1);
    g_assert_cmpstr(t, ==, "target\n");
    g_assert_false(gen_exists("bad", 0));
    g_assert_false(gen_exists("adir", 0));
    g_assert_false(gen_exists("fifo", 0));
    g_assert_false(gen_exists("badlink", 0));
    g_assert_false(g_file_test(nodir, G_FILE_TEST_EXISTS));
}

/*
 * A PATH whose last generation's name would be too long, in its last
 * component (NAME_MAX) or whole (PATH_MAX), is refused at open; one
 * generation less is not.
 */
static void test_name_too_long(void)
{
    g_autofree char *name = g_strnfill(NAME_MAX - 3, 'n');
    g_autofree char *path = gen(name, -1);
    g_autofree char *last = g_strdup_printf("%s.100", path);
    g_autofree char *want = g_strdup_printf("logrotate for '%s': the name "
                                            "'%s' would be too long", path,
                                            last);
    g_autoptr(GString) deep = g_string_new(dir);
    g_autofree char *deep_last = NULL;
    g_autofree char *deep_want = NULL;
    g_autofree char *s = NULL;
    g_autofree char *s0 = NULL;
    RotatingFile *rf;
    Error *err = NULL;

    write_gen(name, -1, "long\n");
    check_refused(name, path, 101, 0, want, 0, 0);
    s = read_gen(name, -1);
    g_assert_cmpstr(s, ==, "long\n");
    g_assert_false(gen_exists(name, 0));
    rf = open_rf(name, false, 100, 0, &error_abort);
    rotating_file_close(rf);
    s0 = read_gen(name, 0);
    g_assert_cmpstr(s0, ==, "long\n");

    /* Directories that do not exist: the name alone is refused */
    while (deep->len < PATH_MAX - 4 - 1 - 100) {
        g_string_append(deep, "/directory");
    }
    g_string_append_c(deep, '/');
    while (deep->len < PATH_MAX - 4) {
        g_string_append_c(deep, 'f');
    }
    deep_last = g_strdup_printf("%s.100", deep->str);
    g_assert_cmpuint(strlen(deep_last), ==, PATH_MAX);
    deep_want = g_strdup_printf("logrotate for '%s': the name '%s' would be "
                                "too long", deep->str, deep_last);
    check_refused(deep->str, deep->str, 101, 0, deep_want, 0, 0);
    g_assert_null(rotating_file_open("test", "logrotate", "logsize",
                                     deep->str, false, 100, 0, &err));
    g_assert_null(strstr(error_get_pretty(err), "too long"));
    error_free(err);
}

/*
 * A new PATH has the permission bits of the file it follows, less the
 * umask: a private log stays private, and a umask that hides more is
 * followed.  The previous boot's file keeps its own.
 */
static void test_mode(void)
{
    mode_t old_umask = umask(077);
    g_autofree char *path = gen("mode", -1);
    g_autoptr(GString) stream = make_stream(SIZE);
    RotatingFile *rf;

    write_gen("mode", -1, "previous boot\n");
    g_assert_cmpint(chmod(path, 0644), ==, 0);
    rf = open_rf("mode", false, 3, SIZE, &error_abort);
    g_assert_cmpint(gen_mode("mode", 0), ==, 0644);
    g_assert_cmpint(gen_mode("mode", -1), ==, 0600);
    write_kept_up(rf, "mode", stream->str, SIZE);
    g_assert_cmpint(gen_mode("mode", 0), ==, 0600);
    g_assert_cmpint(gen_mode("mode", -1), ==, 0600);

    /* Under umask 022, 0640 is carried (not 0644) */
    umask(022);
    g_assert_cmpint(chmod(path, 0640), ==, 0);
    rotating_file_write(rf, "x\n", 2);
    rotating_file_rotate(rf);
    settle("mode");
    g_assert_cmpint(gen_mode("mode", 0), ==, 0640);
    g_assert_cmpint(gen_mode("mode", -1), ==, 0640);
    rotating_file_close(rf);
    umask(old_umask);
}

/* rotate starts a new file, unless the current one is empty */
static void test_rotate(void)
{
    RotatingFile *rf = open_rf("rotate", false, 3, 0, &error_abort);
    g_autofree char *s0 = NULL;
    g_autofree char *s = NULL;

    rotating_file_rotate(NULL);
    rotating_file_rotate(rf);
    settle("rotate");
    g_assert_false(gen_exists("rotate", 0));
    rotating_file_write(rf, "one\n", 4);
    rotating_file_rotate(rf);
    settle("rotate");
    rotating_file_rotate(rf);
    settle("rotate");
    rotating_file_write(rf, "two\n", 4);
    rotating_file_close(rf);
    s0 = read_gen("rotate", 0);
    s = read_gen("rotate", -1);
    g_assert_cmpstr(s0, ==, "one\n");
    g_assert_cmpstr(s, ==, "two\n");
    g_assert_false(gen_exists("rotate", 1));
}

/*
 * A restart after a stall: the files that ran over their limits shorten
 * the next one's, also when it is opened by another QEMU, so that the
 * bound holds across restarts.
 */
static void test_restart_bound(void)
{
    g_autoptr(GString) stream = make_stream(4 * SIZE);
    RotatingFile *rf = open_rf("restart", false, 1, SIZE, &error_abort);

    /* Stopped after the stall, with an empty PATH */
    hold();
    rotating_file_write(rf, stream->str, 2 * SIZE);
    release();
    settle("restart");
    g_assert_cmpint(gen_size("restart", 0), ==, 2 * SIZE);
    g_assert_cmpint(gen_size("restart", -1), ==, 0);
    rotating_file_close(rf);

    rf = open_rf("restart", false, 1, SIZE, &error_abort);
    hold();
    rotating_file_write(rf, stream->str + 2 * SIZE, 2 * SIZE);
    g_assert_cmpuint(disk_use("restart", 1), <=, 3 * SIZE);
    release();
    settle("restart");
    rotating_file_close(rf);
}

/*
 * The files a QEMU leaves when it is killed during a stall, its next
 * rotation held: PATH at the cap of a file whose limit was 0, after one
 * that ran a whole SIZE over.
 */
static void test_restart_killed_bound(void)
{
    g_autoptr(GString) stream = make_stream(4 * SIZE);
    RotatingFile *rf;

    g_string_truncate(stream, 2 * SIZE);
    write_gen("killed", 0, stream->str);
    g_string_truncate(stream, SIZE);
    write_gen("killed", -1, stream->str);
    rf = open_rf("killed", false, 2, SIZE, &error_abort);
    hold();
    rotating_file_write(rf, stream->str, SIZE);
    rotating_file_write(rf, stream->str, SIZE);
    g_assert_cmpuint(disk_use("killed", 2), <=, 4 * SIZE);
    release();
    settle("killed");
    rotating_file_close(rf);
}

int main(int argc, char **argv)
{
    g_autofree char *tmpl = g_build_filename(g_get_tmp_dir(),
                                             "test-rotating-file-XXXXXX",
                                             NULL);
    g_autofree char *rm = NULL;
    int ret;

    g_test_init(&argc, &argv, NULL);
    qemu_init_main_loop(&error_abort);
    /* One worker, before any: a held job keeps the rotations queued */
    aio_context_set_thread_pool_params(qemu_get_aio_context(), 0, 1,
                                       &error_abort);
    qemu_event_init(&released, false);
    dir = g_mkdtemp(tmpl);
    g_assert_nonnull(dir);

    g_test_add_func("/rotating-file/open/restarts", test_open_restarts);
    g_test_add_func("/rotating-file/open/append", test_open_append);
    g_test_add_func("/rotating-file/open/append-large",
                    test_open_append_large);
    g_test_add_func("/rotating-file/open/empty", test_open_empty);
    g_test_add_func("/rotating-file/open/gap", test_open_gap);
    g_test_add_func("/rotating-file/open/overrun", test_open_overrun);
    g_test_add_func("/rotating-file/size/kept-up", test_size_kept_up);
    g_test_add_func("/rotating-file/size/large-writes",
                    test_size_large_writes);
    g_test_add_func("/rotating-file/hold/cap", test_hold_cap);
    g_test_add_func("/rotating-file/hold/note", test_hold_note);
    g_test_add_func("/rotating-file/hold/bound", test_hold_bound);
    g_test_add_func("/rotating-file/hold/no-wait", test_hold_no_wait);
    g_test_add_func("/rotating-file/hold/close", test_hold_close);
    g_test_add_func("/rotating-file/hold/close-reopen",
                    test_hold_close_reopen);
    g_test_add_func("/rotating-file/hold/restart-bound", test_restart_bound);
    g_test_add_func("/rotating-file/hold/restart-killed-bound",
                    test_restart_killed_bound);
    g_test_add_func("/rotating-file/fault/rename-fails", test_rename_fails);
    g_test_add_func("/rotating-file/fault/rename-fails/subprocess",
                    test_rename_fails_subprocess);
    g_test_add_func("/rotating-file/fault/rotate-fails", test_rotate_fails);
    g_test_add_func("/rotating-file/fault/symlink-open", test_symlink_open);
    g_test_add_func("/rotating-file/fault/symlink-planted",
                    test_symlink_planted);
    g_test_add_func("/rotating-file/bad-input/options", test_bad_input);
    g_test_add_func("/rotating-file/bad-input/name-too-long",
                    test_name_too_long);
    g_test_add_func("/rotating-file/warning", test_warning);
    g_test_add_func("/rotating-file/warning/subprocess",
                    test_warning_subprocess);
    g_test_add_func("/rotating-file/mode", test_mode);
    g_test_add_func("/rotating-file/rotate", test_rotate);
    ret = g_test_run();

    rm = g_strdup_printf("rm -rf %s", dir);
    g_assert_cmpint(system(rm), ==, 0);
    return ret;
}
