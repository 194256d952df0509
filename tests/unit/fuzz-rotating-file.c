/*
 * Fuzz the rotating output files of chardevs: a file chardev with
 * rotate=N, or a null chardev with logfile= and logrotate=N (with or
 * without logtimestamp=on), written through a frontend, with
 * chardev-rotate, restarts of "QEMU", writes from another thread, the
 * rotation worker held and released, directories and symbolic links
 * planted among the files, and injected failures of the system calls the
 * writer makes: write (ENOSPC, EIO, EDQUOT, and EINTR, which must lose
 * nothing; short writes), open, rename and lstat, and a symbolic link
 * planted at PATH just after a rename.  It checks:
 *  - each write takes all it is given, and each call of the writer puts
 *    in the file the note of the bytes lost since the last one told, if
 *    any, then the start of what it is handed, in one piece, and counts
 *    the rest as dropped (rotating_file_dropped()), which only a failed
 *    write() or a file at its cap, at least SIZE, may cause;
 *  - what the writer is handed is what the frontend wrote, for the
 *    logfile with well-formed time stamps at line starts;
 *  - with no worker running: PATH.(N-1) ... PATH.0 PATH (their regular
 *    files) are exactly the last bytes that write() put in the files, and
 *    no other regular file is there; with a size limit, none is larger
 *    than twice SIZE, and they take at most (N + 2) x SIZE;
 *  - query-chardev's dropped is what the calls dropped;
 *  - every worker ends, within 10 s, and once the chardev is closed no
 *    descriptor of the files stays open.
 *
 * Built with libFuzzer (clang -fsanitize=fuzzer, -DFUZZING) it fuzzes;
 * built without, it replays the inputs named on its command line, or
 * every file of the directories named there, or without arguments 300
 * seeded pseudo-random inputs, as a TAP test.  Either way it is linked
 * with -Wl,--wrap=NAME for each NAME it defines __wrap_NAME of.
 * FUZZ_KNOWN_BUGS=1 leaves out the bound on disk after a restart, to
 * look for other bugs.
 *
 * Copyright (c) 2026 The QEMU console log contributors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <sys/time.h>
#include "qapi/error.h"
#include "qapi/qapi-commands-char.h"
#include "qemu/config-file.h"
#include "qemu/lockable.h"
#include "qemu/main-loop.h"
#include "qemu/module.h"
#include "qemu/option.h"
#include "qemu/thread.h"
#include "block/aio.h"
#include "block/thread-pool.h"
#include "chardev/char.h"
#include "chardev/char-fe.h"
#include "chardev/rotating-file.h"
#include "system/system.h"
#include "fuzz-rotating-file.h"

/* QEMU 10.2 renamed CharBackend to CharFrontend; this builds on both */
#if QEMU_VERSION_MAJOR == 10 && QEMU_VERSION_MINOR < 2
typedef CharBackend CharFrontend;
#endif

static char *dir;               /* where the files are */
static char *path;              /* PATH */
static char *precious;          /* what planted links point to */

/* Replaying, the TAP result comes first: libFuzzer saves the input */
#ifdef FUZZING
#define TAP_FAIL()
#else
#define TAP_FAIL() printf("not ok 1 - see the messages\n")
#endif
#define FAIL(...) do {                                                  \
        fprintf(stderr, "fuzz-rotating-file: op %d: ", cur_op);         \
        fprintf(stderr, __VA_ARGS__);                                   \
        fprintf(stderr, "\n");                                          \
        TAP_FAIL();                                                     \
        fflush(stdout);                                                 \
        abort();                                                        \
    } while (0)
#define CHECK(cond, ...) do { if (!(cond)) { FAIL(__VA_ARGS__); } } while (0)

static int cur_op;
static bool trace;              /* FUZZ_TRACE=1: print every step */
static bool known_bugs;         /* FUZZ_KNOWN_BUGS=1 */

/*
 * Failures to inject: the next @count calls of a kind fail with @err;
 * F_PLANT: the next renames of PATH are followed by a link planted there
 */
typedef enum Fault {
    F_WRITE, F_OPEN, F_RENAME, F_LSTAT, F_PLANT, F__MAX
} Fault;

static QemuMutex lock;          /* for what the wrappers touch */
static struct {
    int count;
    int err;
} inject[F__MAX];
static int short_writes;        /* the next ones write half */
static int faults[F__MAX];      /* injected in this input */
static int write_losses;        /* failed write()s, EINTR aside */
static GString *written;        /* all write()s to the files, in order */
static int64_t clock_offset_us; /* added to QEMU_CLOCK_REALTIME */
static int in_flight;           /* workers submitted and not done */
static __thread bool in_writer; /* in rotating_file_write() */
static __thread GString *writer_bytes;  /* what write() took there */
static __thread ssize_t writer_failed;  /* there, at the first failure */
static __thread off_t writer_size;      /* of the file, after */

static bool ours(const char *name)
{
    return dir && g_str_has_prefix(name, dir);
}

static bool fail_now(Fault f)
{
    QEMU_LOCK_GUARD(&lock);
    if (inject[f].count > 0) {
        if (trace) {
            fprintf(stderr, "  inject fault %d (%s)\n", f,
                    strerror(inject[f].err));
        }
        inject[f].count--;
        faults[f]++;
        errno = inject[f].err;
        return true;
    }
    return false;
}

ssize_t __wrap_write(int fd, const void *buf, size_t count)
{
    struct stat st;
    ssize_t ret;

    /* Only the files: event notifiers of the main loop are written too */
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        return __real_write(fd, buf, count);
    }
    if (fail_now(F_WRITE)) {
        if (errno != EINTR) {
            qatomic_inc(&write_losses);
            if (in_writer && writer_failed < 0) {
                writer_failed = writer_bytes->len;
            }
        }
        return -1;
    }
    WITH_QEMU_LOCK_GUARD(&lock) {
        /* A short write, as a nearly full disk gives */
        if (short_writes > 0 && count > 1) {
            short_writes--;
            count /= 2;
        }
    }
    ret = __real_write(fd, buf, count);
    if (trace) {
        fprintf(stderr, "  write%s fd %d ino %lu size %ld: %zu -> %zd\n",
                in_writer ? "" : " (worker)", fd, (unsigned long)st.st_ino,
                (long)st.st_size, count, ret);
    }
    if (ret > 0) {
        QEMU_LOCK_GUARD(&lock);
        g_string_append_len(written, buf, ret);
        if (in_writer) {
            g_string_append_len(writer_bytes, buf, ret);
            writer_size = st.st_size + ret;
        }
    }
    return ret;
}

int __wrap_open64(const char *name, int flags, ...)
{
    mode_t mode = 0;
    va_list ap;

    va_start(ap, flags);
    if (flags & (O_CREAT | O_TMPFILE)) {
        mode = va_arg(ap, int);
    }
    va_end(ap);
    if (ours(name) && fail_now(F_OPEN)) {
        return -1;
    }
    if (trace && ours(name)) {
        fprintf(stderr, "  open %s %x\n", name + strlen(dir), flags);
    }
    return __real_open64(name, flags, mode);
}

int __wrap_rename(const char *from, const char *to)
{
    int ret;

    if (ours(from) && fail_now(F_RENAME)) {
        return -1;
    }
    if (trace && ours(from)) {
        fprintf(stderr, "  rename %s %s\n", from + strlen(dir),
                to + strlen(dir));
    }
    ret = __real_rename(from, to);
    /* Someone quick plants a link where the next PATH is to come */
    if (!ret && !strcmp(from, path) && fail_now(F_PLANT)) {
        CHECK(!symlink(precious, path), "cannot plant a link at PATH");
    }
    return ret;
}

int __wrap_lstat64(const char *name, struct stat *st)
{
    if (ours(name) && fail_now(F_LSTAT)) {
        return -1;
    }
    return __real_lstat64(name, st);
}

int __wrap_gettimeofday(struct timeval *tv, void *tz)
{
    int ret = __real_gettimeofday(tv, tz);
    int64_t us = tv->tv_sec * G_USEC_PER_SEC + tv->tv_usec +
                 qatomic_read(&clock_offset_us);

    tv->tv_sec = us / G_USEC_PER_SEC;
    tv->tv_usec = us % G_USEC_PER_SEC;
    return ret;
}

typedef struct Pending {
    BlockCompletionFunc *cb;
    void *opaque;
} Pending;

static void pending_done(void *opaque, int ret)
{
    Pending p = *(Pending *)opaque;

    g_free(opaque);
    if (trace) {
        fprintf(stderr, "  worker done\n");
    }
    p.cb(p.opaque, ret);
    qatomic_dec(&in_flight);
}

BlockAIOCB *__wrap_thread_pool_submit_aio(ThreadPoolFunc *func, void *arg,
                                          BlockCompletionFunc *cb,
                                          void *opaque)
{
    Pending *p = g_new(Pending, 1);

    p->cb = cb;
    p->opaque = opaque;
    qatomic_inc(&in_flight);
    if (trace) {
        fprintf(stderr, "  worker submitted\n");
    }
    return __real_thread_pool_submit_aio(func, arg, pending_done, p);
}

/*
 * The stream the guest writes: numbered lines of 8 to 207 bytes, of
 * digits, letters and newlines only, so that a time stamp, which has
 * '-', and a note of lost output, which has '[', stand out.
 */
#define STREAM_MAX (256 * 1024)
static char stream[STREAM_MAX];

static void make_stream(void)
{
    size_t pos = 0, col = 0;
    uint64_t line = 0;

    while (pos < STREAM_MAX) {
        size_t target = 8 + ((line * 2654435761u) >> 7) % 200;
        char c;

        if (col == target - 1) {
            c = '\n';
        } else if (col < 8) {
            c = '0' + (line >> (4 * (7 - col))) % 10;
        } else {
            c = 'a' + col % 26;
        }
        stream[pos++] = c;
        if (c == '\n') {
            line++;
            col = 0;
        } else {
            col++;
        }
    }
}

/* One input */
static struct {
    bool log;                   /* logfile of a null chardev, not file */
    bool stamps;                /* logtimestamp=on */
    unsigned generations;
    uint64_t max_size;
    Chardev *chr;
    CharFrontend be;
    size_t pos;                 /* of the stream, written so far */
    bool log_line_start;        /* the chardev's next log byte */
    GString *handed;            /* to rotating_file_write(), by a write */
    uint64_t dropped;           /* by this chardev's writer calls */
    uint64_t note_due;          /* dropped and not told in the file yet */
    bool held;                  /* the worker, by held_work() */
    int restarts;
} in;

/*
 * The main loop's thread pool has one thread (see init()): a job that
 * waits for an event holds the rotations queued behind it.
 */
static QemuEvent released;
static bool holding;            /* held_work() runs: no worker does */

static int held_work(void *opaque)
{
    qatomic_set(&holding, true);
    qemu_event_wait(&released);
    qatomic_set(&holding, false);
    return 0;
}

static void hold(void)
{
    if (!in.held) {
        qemu_event_reset(&released);
        __real_thread_pool_submit_aio(held_work, NULL, NULL, NULL);
        in.held = true;
    }
}

/* Whether no worker renames: none in flight, or all queued behind */
static bool no_worker_runs(void)
{
    return !qatomic_read(&in_flight) || qatomic_read(&holding);
}

static gboolean beat(void *opaque)
{
    return G_SOURCE_CONTINUE;
}

/* Release the worker and let the bottom halves and workers finish */
static void settle(void)
{
    int64_t start = g_get_monotonic_time();
    guint heartbeat = g_timeout_add(5, beat, NULL);

    if (in.held) {
        qemu_event_set(&released);
        in.held = false;
        /* Until held_work() is done, a stale holding would allow checks */
        while (qatomic_read(&holding)) {
            CHECK(g_get_monotonic_time() - start < 10 * G_USEC_PER_SEC,
                  "the held job did not end in 10 s");
            g_usleep(100);
        }
    }
    main_loop_wait(true);
    while (qatomic_read(&in_flight)) {
        /* A worker's end schedules a bottom half, which wakes the loop */
        CHECK(g_get_monotonic_time() - start < 10 * G_USEC_PER_SEC,
              "a worker did not end in 10 s");
        main_loop_wait(false);
    }
    main_loop_wait(true);
    g_source_remove(heartbeat);
}

/* A directory that is not empty, that no rename can replace */
static void plant_dir(unsigned k)
{
    g_autofree char *name = g_strdup_printf("%s.%u", path, k);
    g_autofree char *inside = g_build_filename(name, "x", NULL);
    struct stat st;

    if (!__real_lstat64(name, &st) || mkdir(name, 0700)) {
        return;
    }
    CHECK(g_file_set_contents(inside, "x\n", -1, NULL), "cannot fill %s",
          name);
}

/* The directories planted, wherever rotations moved them */
static bool remove_planted(void)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *entry;
    bool any = false;

    while ((entry = g_dir_read_name(d))) {
        g_autofree char *p = g_build_filename(dir, entry, NULL);
        g_autofree char *x = g_build_filename(p, "x", NULL);

        if (g_file_test(x, G_FILE_TEST_EXISTS)) {
            CHECK(!unlink(x) && !rmdir(p), "cannot remove %s", p);
            any = true;
        }
    }
    return any;
}

static void plant_link(unsigned k)
{
    g_autofree char *name = g_strdup_printf("%s.%u", path, k);
    struct stat st;

    if (__real_lstat64(name, &st)) {
        CHECK(!symlink(precious, name), "cannot plant %s", name);
    }
}

static void start(bool append)
{
    g_autofree char *size = in.max_size ?
        g_strdup_printf(",%s=%" PRIu64, in.log ? "logsize" : "size",
                        in.max_size) : g_strdup("");
    g_autofree char *spec = in.log ?
        g_strdup_printf("null,id=fuzz,logfile=%s,logrotate=%u%s,"
                        "logappend=%s,logtimestamp=%s", path,
                        in.generations, size, append ? "on" : "off",
                        in.stamps ? "on" : "off") :
        g_strdup_printf("file,id=fuzz,path=%s,rotate=%u%s,append=%s",
                        path, in.generations, size, append ? "on" : "off");
    QemuOpts *opts = qemu_opts_parse_noisily(qemu_find_opts("chardev"),
                                             spec, true);
    Error *err = NULL;

    CHECK(opts, "cannot parse %s", spec);
    in.chr = qemu_chr_new_from_opts(opts, NULL, &err);
    if (!in.chr) {
        struct stat st;
        bool link = !__real_lstat64(path, &st) && S_ISLNK(st.st_mode);

        /*
         * Only with an injected failure, a link at PATH or a directory in
         * the way: QEMU would not start, and someone removes it
         */
        CHECK(remove_planted() || link || faults[F_OPEN] ||
              faults[F_RENAME] || faults[F_LSTAT],
              "%s: %s", spec, error_get_pretty(err));
        error_free(err);
        WITH_QEMU_LOCK_GUARD(&lock) {
            memset(inject, 0, sizeof(inject));
        }
        if (link) {
            CHECK(!unlink(path), "cannot remove the link at PATH");
        }
        in.chr = qemu_chr_new_from_opts(opts, NULL, &error_abort);
    }
    qemu_opts_del(opts);
    qemu_chr_fe_init(&in.be, in.chr, &error_abort);
    in.log_line_start = true;
    in.dropped = 0;
    in.note_due = 0;
}

/* The dropped bytes query-chardev tells for the chardev */
static uint64_t query_dropped(void)
{
    ChardevInfoList *list = qmp_query_chardev(&error_abort);
    uint64_t dropped = UINT64_MAX;

    for (ChardevInfoList *l = list; l; l = l->next) {
        if (!strcmp(l->value->label, "fuzz")) {
            CHECK(l->value->has_dropped, "query-chardev: no dropped");
            dropped = l->value->dropped;
        }
    }
    qapi_free_ChardevInfoList(list);
    CHECK(dropped != UINT64_MAX, "query-chardev: no chardev 'fuzz'");
    return dropped;
}

static void stop(void)
{
    uint64_t dropped = query_dropped();

    CHECK(dropped == in.dropped, "query-chardev tells %" PRIu64 " bytes "
          "dropped, the writer's calls %" PRIu64, dropped, in.dropped);
    qemu_chr_fe_deinit(&in.be, true);
    in.chr = NULL;
}

/* The length of the time stamp at @p, or 0 if there is none */
static size_t stamp_len(const char *p, size_t n)
{
    static const char shape[] = "9999-99-99T99:99:99.999999Z ";
    size_t i;

    for (i = 0; i < sizeof(shape) - 1 && i < n; i++) {
        if (i == 19 && p[i] == 'Z') {
            /* No microseconds: "...:SSZ " */
            return n > 20 && p[20] == ' ' ? 21 : 0;
        }
        if (shape[i] == '9' ? !g_ascii_isdigit(p[i]) : p[i] != shape[i]) {
            return 0;
        }
    }
    return i == sizeof(shape) - 1 ? i : 0;
}

/*
 * The frontend wrote @len bytes of the stream at in.pos: what the writer
 * was handed meanwhile, in.handed, is exactly those bytes, for the
 * logfile with time stamps at line starts.
 */
static void check_handed(size_t len)
{
    const char *data = stream + in.pos, *p = in.handed->str;
    size_t i = 0, j = 0, n = in.handed->len;

    while (i < n) {
        if (in.stamps && in.log_line_start) {
            size_t stamp = stamp_len(p + i, n - i);

            CHECK(stamp, "no time stamp at a line start of the logfile: "
                  "'%.*s'", (int)MIN(n - i, 28), p + i);
            i += stamp;
            in.log_line_start = false;
            continue;
        }
        CHECK(j < len && p[i] == data[j], "the %s got byte %zu of %zu "
              "wrong or extra (%zu written)", in.log ? "logfile" : "file",
              i, n, len);
        in.log_line_start = data[j] == '\n';
        i++;
        j++;
    }
    CHECK(j == len, "the frontend wrote %zu bytes, and the %s got %zu",
          len, in.log ? "logfile" : "file", j);
    g_string_truncate(in.handed, 0);
}

/*
 * What the writer does with what it is handed: after a loss, first the
 * note of what was lost (all of it, or what a failed write() left), then
 * the start of @buf in the file, the rest dropped and counted, and a loss
 * only from a failed write() or at the cap.
 */
void __wrap_rotating_file_write(RotatingFile *rf, const void *buf,
                                size_t len)
{
    uint64_t before = rotating_file_dropped(rf), dropped;
    int losses = qatomic_read(&write_losses);
    g_autoptr(GString) bytes = g_string_new("");
    g_autofree char *note = g_strdup_printf("[qemu: %" PRIu64 " bytes of "
                                            "output lost here]\n",
                                            in.note_due);
    size_t note_len = 0;

    writer_bytes = bytes;
    writer_failed = -1;
    writer_size = -1;
    in_writer = true;
    __real_rotating_file_write(rf, buf, len);
    in_writer = false;
    dropped = rotating_file_dropped(rf) - before;

    QEMU_LOCK_GUARD(&lock);
    if (in.note_due && g_str_has_prefix(bytes->str, note)) {
        note_len = strlen(note);
        in.note_due = 0;
    } else if (in.note_due && writer_failed >= 0 &&
               writer_failed < strlen(note) &&
               !memcmp(bytes->str, note, writer_failed)) {
        note_len = writer_failed;       /* torn: told again */
    }
    in.note_due += dropped;
    CHECK(bytes->len - note_len + dropped == len, "the writer was handed "
          "%zu bytes, wrote %zu and dropped %" PRIu64, len,
          bytes->len - note_len, dropped);
    CHECK(!memcmp(bytes->str + note_len, buf, bytes->len - note_len),
          "write() got other bytes than the start of what the writer was "
          "handed");
    CHECK(!dropped || qatomic_read(&write_losses) > losses ||
          (in.max_size && (writer_size < 0 || writer_size >= in.max_size)),
          "%" PRIu64 " bytes dropped, in a file of %ld bytes, and no "
          "write() failed", dropped, (long)writer_size);
    g_string_append_len(in.handed, buf, len);
    in.dropped += dropped;
}

typedef struct ThreadWrite {
    CharFrontend *be;
    const uint8_t *buf;
    int len;
    int ret;
} ThreadWrite;

static void *thread_write(void *opaque)
{
    ThreadWrite *tw = opaque;

    /* Like a vCPU without the BQL: a worker starts through a BH */
    tw->ret = qemu_chr_fe_write(tw->be, tw->buf, tw->len);
    return NULL;
}

typedef enum How { FE_WRITE, FE_WRITE_ALL, FROM_THREAD } How;

/* The next @len bytes of the stream, all taken at once */
static void offer(size_t len, How how)
{
    const uint8_t *buf = (const uint8_t *)stream + in.pos;
    int ret;

    len = MIN(len, STREAM_MAX - in.pos);
    if (!len) {
        return;
    }
    if (how == FROM_THREAD) {
        ThreadWrite tw = { &in.be, buf, len };
        QemuThread thread;

        qemu_thread_create(&thread, "writer", thread_write, &tw,
                           QEMU_THREAD_JOINABLE);
        qemu_thread_join(&thread);
        ret = tw.ret;
    } else if (how == FE_WRITE_ALL) {
        ret = qemu_chr_fe_write_all(&in.be, buf, len);
    } else {
        ret = qemu_chr_fe_write(&in.be, buf, len);
    }
    if (trace) {
        fprintf(stderr, "  offer %zu at %zu (%d): %d\n", len, in.pos, how,
                ret);
    }
    CHECK(ret == len, "took %d of %zu bytes", ret, len);
    check_handed(len);
    in.pos += len;
}

static bool is_regular(const char *name, off_t *size)
{
    struct stat st;

    if (__real_lstat64(name, &st) || !S_ISREG(st.st_mode)) {
        return false;
    }
    *size = st.st_size;
    return true;
}

/*
 * PATH.(N-1) ... PATH.0 PATH: the end of what write() wrote, exactly;
 * each within twice SIZE, all within (N + 2) x SIZE
 */
static void check_files(void)
{
    g_autoptr(GString) kept = g_string_new("");
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    uint64_t disk = 0;
    const char *entry;

    while ((entry = g_dir_read_name(d))) {
        g_autofree char *name = g_build_filename(dir, entry, NULL);
        const char *tail = entry + strlen("console.log");
        off_t size;
        char *end;

        if (!strcmp(entry, "console.log") || !is_regular(name, &size) ||
            !strcmp(entry, "precious")) {
            continue;
        }
        CHECK(g_str_has_prefix(entry, "console.log.") &&
              g_ascii_isdigit(tail[1]) &&
              g_ascii_strtoull(tail + 1, &end, 10) < in.generations &&
              !*end, "unexpected file %s with rotate=%u", entry,
              in.generations);
    }
    for (int k = in.generations - 1; k >= -1; k--) {
        g_autofree char *name = k < 0 ? g_strdup(path)
                                      : g_strdup_printf("%s.%d", path, k);
        g_autofree char *contents = NULL;
        off_t size;
        size_t len;

        if (!is_regular(name, &size) ||
            !g_file_get_contents(name, &contents, &len, NULL)) {
            continue;
        }
        CHECK(!in.max_size || len <= 2 * in.max_size,
              "%s has %zu bytes, more than twice %" PRIu64, name, len,
              in.max_size);
        disk += len;
        g_string_append_len(kept, contents, len);
    }
    CHECK(!in.max_size || disk <= (in.generations + 2) * in.max_size ||
          (known_bugs && in.restarts),
          "the files take %" PRIu64 " bytes, more than (%u + 2) x %" PRIu64,
          disk, in.generations, in.max_size);
    CHECK(kept->len <= written->len &&
          !memcmp(kept->str, written->str + written->len - kept->len,
                  kept->len),
          "the files (%zu bytes) are not the end of what was written "
          "(%zu bytes)", kept->len, written->len);
}

static void remove_files(void)
{
    g_autofree char *rm = g_strdup_printf("rm -rf %s/%s", dir, "*");

    CHECK(!system(rm), "cannot clean %s", dir);
}

static void remove_dir(void)
{
    g_autofree char *rm = g_strdup_printf("rm -rf %s", dir);

    if (system(rm)) {
        fprintf(stderr, "fuzz-rotating-file: cannot remove %s\n", dir);
    }
}

/* No descriptor of a file is left once the chardev is gone */
static void check_no_fd(void)
{
    g_autoptr(GDir) d = g_dir_open("/proc/self/fd", 0, NULL);
    const char *name;

    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *link = g_strdup_printf("/proc/self/fd/%s", name);
        g_autofree char *target = g_file_read_link(link, NULL);

        CHECK(!target || !ours(target), "%s still open", target);
    }
}

static void init(void)
{
    static bool done;
    g_autofree char *tmpl = NULL;

    if (done) {
        return;
    }
    done = true;
    trace = getenv("FUZZ_TRACE");
    known_bugs = getenv("FUZZ_KNOWN_BUGS");
    qemu_mutex_init(&lock);
    qemu_event_init(&released, false);
    qemu_init_main_loop(&error_abort);
    aio_context_set_thread_pool_params(qemu_get_aio_context(), 0, 1,
                                       &error_abort);
    module_call_init(MODULE_INIT_QOM);
    qemu_add_opts(&qemu_chardev_opts);
    tmpl = g_build_filename(g_get_tmp_dir(), "fuzz-rotating-file-XXXXXX",
                            NULL);
    dir = g_mkdtemp(g_steal_pointer(&tmpl));
    CHECK(dir, "cannot make a directory");
    path = g_build_filename(dir, "console.log", NULL);
    precious = g_build_filename(dir, "precious", NULL);
    written = g_string_new("");
    make_stream();
    atexit(remove_dir);
}

/* Steps per input: enough for dozens of rotations */
#define MAX_OPS 256

/*
 * An input: a byte of settings (rotate=1 + b % 4; b & 4: logfile of a
 * null chardev instead of a file chardev; b & 8: append; b & 16: time
 * stamps), a byte for the size limit (none, 4096, 5000, 8192), then
 * steps of two bytes, an operation and its argument.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int errs[] = { ENOSPC, EINTR, EIO, EDQUOT };
    static const uint64_t sizes[] = { 0, 4096, 5000, 8192 };
    size_t i;

    if (size < 2) {
        return 0;
    }
    init();
    remove_files();
    WITH_QEMU_LOCK_GUARD(&lock) {
        memset(inject, 0, sizeof(inject));
        memset(faults, 0, sizeof(faults));
        short_writes = 0;
        g_string_truncate(written, 0);
    }
    write_losses = 0;
    memset(&in, 0, sizeof(in));
    in.handed = g_string_new("");
    cur_op = -1;
    CHECK(g_file_set_contents(precious, "precious\n", -1, NULL),
          "cannot write %s", precious);

    in.generations = 1 + data[0] % 4;
    in.log = data[0] & 4;
    in.stamps = in.log && (data[0] & 16);
    in.max_size = sizes[data[1] % 4];
    if (trace) {
        fprintf(stderr, "rotate=%u size=%" PRIu64 " %s%s%s\n", in.generations,
                in.max_size, in.log ? "logfile" : "file",
                data[0] & 8 ? " append" : "", in.stamps ? " stamps" : "");
    }
    start(data[0] & 8);

    for (i = 2; i + 1 < size && i < 2 + 2 * MAX_OPS; i += 2) {
        uint8_t op = data[i], arg = data[i + 1];

        cur_op = (i - 2) / 2;
        if (trace) {
            fprintf(stderr, "op %d: %d %d\n", cur_op, op % 14, arg);
        }
        switch (op % 14) {
        case 0:         /* a 16550's one-byte writes, a burst of them */
            for (int n = 0; n <= arg % 32; n++) {
                offer(1, FE_WRITE);
            }
            break;
        case 1:         /* up to a line */
            offer(1 + arg, FE_WRITE);
            break;
        case 2:         /* up to 4 KiB, as virtio-serial */
            offer(1 + arg * 16, FE_WRITE);
            break;
        case 3:         /* up to 16 KiB: more than a file holds */
            offer(1 + arg * 64, FE_WRITE);
            break;
        case 4:
            offer(1 + arg * 16, FE_WRITE_ALL);
            break;
        case 5:
            offer(1 + arg * 8, FROM_THREAD);
            break;
        case 6:         /* chardev-rotate */
            qmp_chardev_rotate("fuzz", &error_abort);
            break;
        case 7:         /* make the next calls of a kind fail */
            WITH_QEMU_LOCK_GUARD(&lock) {
                inject[arg % F__MAX].count = 1 + arg / 128;
                inject[arg % F__MAX].err = errs[arg / 8 % ARRAY_SIZE(errs)];
            }
            break;
        case 8:         /* short writes */
            WITH_QEMU_LOCK_GUARD(&lock) {
                short_writes = 1 + arg % 4;
            }
            break;
        case 9:         /* the worker is held: as by a slow disk */
            hold();
            break;
        case 10:        /* the worker is free; a second or more passes */
            settle();
            if (arg & 1) {
                qatomic_add(&clock_offset_us, 1100 * 1000);
            }
            break;
        case 11:        /* QEMU stops and starts again */
            stop();
            /*
             * The worker of the chardev stopped ends first.  One that
             * renames when the next chardev opens the files makes it
             * append, and may move its PATH to PATH.0: not checked here.
             */
            settle();
            check_no_fd();
            in.restarts++;
            start(arg & 1);
            break;
        case 12:        /* something in the way of the generations */
            if (!no_worker_runs()) {
                break;
            } else if (arg % 3 == 0) {
                plant_dir(arg / 3 % in.generations);
            } else if (arg % 3 == 1) {
                remove_planted();
            } else {
                plant_link(arg / 3 % in.generations);
            }
            break;
        case 13:        /* the main loop runs once */
            main_loop_wait(true);
            break;
        }
        /* Not while a worker renames */
        if (no_worker_runs()) {
            check_files();
        }
    }
    cur_op = -1;
    stop();
    settle();
    check_no_fd();
    check_files();
    g_string_free(in.handed, true);
    return 0;
}

#ifndef FUZZING
static int replayed;
static int with_fault;

static void replay(const uint8_t *input, size_t len)
{
    const char *save = getenv("FUZZ_SAVE");

    /* FUZZ_SAVE=FILE: each input goes there first, to replay a failure */
    if (save) {
        g_file_set_contents(save, (const char *)input, len, NULL);
    }
    LLVMFuzzerTestOneInput(input, len);
    replayed++;
    for (int f = 0; f < F__MAX; f++) {
        if (faults[f]) {
            with_fault++;
            break;
        }
    }
}

static void replay_file(const char *name)
{
    g_autofree char *contents = NULL;
    size_t len;

    if (!g_file_get_contents(name, &contents, &len, NULL)) {
        FAIL("cannot read %s", name);
    }
    replay((const uint8_t *)contents, len);
}

int main(int argc, char **argv)
{
    printf("1..1\n");
    fflush(stdout);
    for (int i = 1; i < argc; i++) {
        if (g_file_test(argv[i], G_FILE_TEST_IS_DIR)) {
            g_autoptr(GDir) d = g_dir_open(argv[i], 0, NULL);
            const char *name;

            while ((name = g_dir_read_name(d))) {
                g_autofree char *p = g_build_filename(argv[i], name, NULL);

                replay_file(p);
            }
        } else {
            replay_file(argv[i]);
        }
    }
    if (argc == 1) {
        GRand *rand = g_rand_new_with_seed(1);
        uint8_t input[2 + 2 * MAX_OPS];

        for (int n = 0; n < 300; n++) {
            size_t len = g_rand_int_range(rand, 2, sizeof(input) + 1);

            for (size_t i = 0; i < len; i++) {
                input[i] = g_rand_int_range(rand, 0, 256);
                /* A third without failures injected */
                if (n % 3 == 0 && i % 2 == 0 && i &&
                    (input[i] % 14 == 7 || input[i] % 14 == 8)) {
                    input[i] += 2;
                }
            }
            replay(input, len);
        }
        g_rand_free(rand);
    }
    printf("%s 1 - replayed %d inputs (%d with injected failures)\n",
           replayed ? "ok" : "not ok", replayed, with_fault);
    return replayed ? 0 : 1;
}
#endif
