/*
 * Fuzz the rotating output files of chardevs: a file chardev with
 * rotate=N, or a null chardev with logfile= and logrotate=N, written
 * through a frontend that waits for the watch when the chardev holds its
 * output back, with rotations, reopens, restarts of "QEMU", writes from
 * another thread, and injected system call failures (ENOSPC, EACCES,
 * EIO, EDQUOT from write, open, rename and lstat of the files; short
 * writes).  It checks, after every step with no worker running:
 *  - PATH.(N-1) ... PATH.0 PATH together are exactly the last bytes that
 *    write() put in the files, and no other file is there;
 *  - what write() put in the files is what the chardev handed
 *    rotating_file_write() (which returned that many bytes), and that is
 *    exactly what the chardev took from the frontend (for the logfile,
 *    with well-formed time stamps at line starts).  Only a failed
 *    write() (injected) may lose bytes, those of the logfile, which
 *    qemu_chr_write_log() does not report: from the failed write() to
 *    the end of that rotating_file_write() call;
 *  - unless a rename, open or lstat failed: no file is over the size
 *    limit; and unless a write() failed or was short, or a restart cut a
 *    line: no line (all are shorter than ROTATING_FILE_LINE_RESERVE) is
 *    split between two files;
 *  - the watch fires, within 5 s; every worker ends, within 10 s;
 *  - once the chardev is closed, no descriptor of the files is open.
 *
 * Built with libFuzzer (clang -fsanitize=fuzzer, -DFUZZING) it fuzzes;
 * built without, it replays the inputs named on its command line, or
 * every file of the directories named there, or without arguments 300
 * seeded pseudo-random inputs, as a TAP test.  Either way it is linked
 * with -Wl,--wrap=NAME for each NAME it defines __wrap_NAME of.
 *
 * Copyright (c) 2026 The QEMU console log contributors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <sys/time.h>
#include "qapi/error.h"
#include "qemu/config-file.h"
#include "qemu/lockable.h"
#include "qemu/main-loop.h"
#include "qemu/module.h"
#include "qemu/option.h"
#include "qemu/thread.h"
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

/* Failures to inject: the next @count calls of a kind fail with @err */
typedef enum Fault { F_WRITE, F_OPEN, F_RENAME, F_LSTAT, F__MAX } Fault;

static QemuMutex lock;          /* for what the wrappers touch */
static struct {
    int count;
    int err;
} inject[F__MAX];
static int short_writes;        /* the next ones write half */
static int faults[F__MAX];      /* injected in this input */
static int shortened;           /* short writes in this input */
static GString *written;        /* all write()s to the files, in order */
static int64_t clock_offset_us; /* added to QEMU_CLOCK_REALTIME */
static int in_flight;           /* workers submitted and not done */

static bool ours(const char *name)
{
    return dir && g_str_has_prefix(name, dir);
}

static bool fail_now(Fault f)
{
    QEMU_LOCK_GUARD(&lock);
    if (inject[f].count > 0) {
        if (trace) {
            fprintf(stderr, "  inject fault %d\n", f);
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
        return -1;
    }
    WITH_QEMU_LOCK_GUARD(&lock) {
        /* A short write, as a nearly full disk gives */
        if (short_writes > 0 && count > 1) {
            short_writes--;
            shortened++;
            count /= 2;
        }
    }
    ret = __real_write(fd, buf, count);
    if (trace) {
        fprintf(stderr, "  write fd %d ino %lu size %ld: %zu -> %zd\n", fd,
                (unsigned long)st.st_ino, (long)st.st_size, count, ret);
    }
    if (ret > 0) {
        QEMU_LOCK_GUARD(&lock);
        g_string_append_len(written, buf, ret);
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
    if (ours(from) && fail_now(F_RENAME)) {
        return -1;
    }
    if (trace && ours(from)) {
        fprintf(stderr, "  rename %s %s\n", from + strlen(dir),
                to + strlen(dir));
    }
    return __real_rename(from, to);
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
 * The stream the guest writes: numbered lines of 8 to 207 bytes (all
 * shorter than ROTATING_FILE_LINE_RESERVE), of digits, letters and
 * newlines only, so that a time stamp, which has '-', stands out.  What
 * the chardev does not take is offered again, so what it took is always
 * the first bytes of the stream.
 */
#define STREAM_MAX (192 * 1024)
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
    size_t pos;                 /* of the stream, accepted so far */
    bool log_line_start;        /* the chardev's next log byte */
    bool split_ok;              /* a restart cut a line */
    bool unbounded;             /* qemu_chr_fe_write_all() went past SIZE */
    GString *handed;            /* to rotating_file_write(), by a write */
    bool reopened;
    int restarts, waits;
} in;

static bool any_fault(void)
{
    return faults[F_OPEN] || faults[F_RENAME] || faults[F_LSTAT];
}

static void start(bool append)
{
    g_autofree char *size = in.max_size ?
        g_strdup_printf(",%s=%" PRIu64, in.log ? "logrotate-size"
                        : "rotate-size", in.max_size) : g_strdup("");
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
        /* Only with an injected failure; QEMU would not start */
        CHECK(faults[F_OPEN] || faults[F_RENAME] || faults[F_LSTAT],
              "%s: %s", spec, error_get_pretty(err));
        error_free(err);
        memset(inject, 0, sizeof(inject));
        in.chr = qemu_chr_new_from_opts(opts, NULL, &error_abort);
    }
    qemu_opts_del(opts);
    qemu_chr_fe_init(&in.be, in.chr, &error_abort);
    in.log_line_start = true;
    if (in.pos && stream[in.pos - 1] != '\n') {
        in.split_ok = true;
    }
}

static void settle(void);

static void stop(void)
{
    qemu_chr_fe_deinit(&in.be, true);
    in.chr = NULL;
    CHECK(!qatomic_read(&in_flight), "a worker is still in flight");
}

static gboolean beat(void *opaque)
{
    return G_SOURCE_CONTINUE;
}

/* Run the main loop until *@done or, with @give_up_ms, that many ms */
static bool run_until(bool *done, int give_up_ms, const char *what)
{
    int64_t start = g_get_monotonic_time();
    guint heartbeat = g_timeout_add(5, beat, NULL);   /* to look again */
    bool ret = true;

    while (!qatomic_read(done)) {
        int64_t ms = (g_get_monotonic_time() - start) / 1000;

        if (give_up_ms && ms > give_up_ms) {
            ret = false;
            break;
        }
        CHECK(ms < 5000, "%s in 5 s", what);
        main_loop_wait(false);
    }
    g_source_remove(heartbeat);
    return ret;
}

/* Let the bottom halves and the workers in flight finish */
static void settle(void)
{
    int64_t start = g_get_monotonic_time();
    guint heartbeat = g_timeout_add(5, beat, NULL);

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

static gboolean writable(void *unused, GIOCondition cond, void *opaque)
{
    *(bool *)opaque = true;
    return G_SOURCE_REMOVE;
}

/* As a frontend: wait until the chardev takes bytes again */
static void wait_writable(void)
{
    bool ready = false;
    guint tag = qemu_chr_fe_add_watch(&in.be, G_IO_OUT | G_IO_HUP,
                                      writable, &ready);

    in.waits++;
    if (trace) {
        fprintf(stderr, "  wait: tag %u\n", tag);
    }
    if (!tag) {
        return;         /* none: the logfile took bytes again already */
    }
    run_until(&ready, 0, "the watch did not fire");
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
 * The chardev took @len bytes of the stream at in.pos: check what it gave
 * rotating_file_write() meanwhile, in.handed: exactly those bytes, for
 * the logfile with time stamps at line starts.
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
              "wrong or extra (%zu taken)", in.log ? "logfile" : "file",
              i, n, len);
        in.log_line_start = data[j] == '\n';
        i++;
        j++;
    }
    CHECK(j == len, "the chardev took %zu bytes, and gave %zu to the %s",
          len, j, in.log ? "logfile" : "file");
}

/*
 * What the chardev hands the writer, and what the writer does with it:
 * write() puts in the files exactly what it says it wrote, from the
 * start of @buf; with @whole (the logfile), all of @buf unless a write()
 * failed.  For the file, only what it took counts as handed.
 */

ssize_t __wrap_rotating_file_write(RotatingFile *rf, const void *buf,
                                   size_t len, RotatingFileMode mode)
{
    bool whole = mode == ROTATING_FILE_WRITE_ALL;
    size_t before = written->len, seglen;
    int write_faults = faults[F_WRITE];
    ssize_t ret = __real_rotating_file_write(rf, buf, len, mode);
    int err = errno;

    QEMU_LOCK_GUARD(&lock);
    seglen = written->len - before;
    if (mode == ROTATING_FILE_COUNT) {
        CHECK(!seglen, "counting wrote %zu bytes", seglen);
        errno = err;
        return ret;
    }
    CHECK(seglen <= len && !memcmp(written->str + before, buf, seglen),
          "write() got other bytes than the writer was given");
    CHECK(seglen == MAX(ret, 0), "the writer wrote %zu bytes and returned "
          "%zd", seglen, ret);
    CHECK(!whole || ret == len || faults[F_WRITE] > write_faults,
          "the logfile lost %zd of %zu bytes, and no write() failed",
          len - MAX(ret, 0), len);
    /* The logfile copies what the backend took; the file takes itself */
    g_string_append_len(in.handed, buf, whole && in.log ? len : MAX(ret, 0));
    errno = err;
    return ret;
}

typedef struct ThreadWrite {
    CharFrontend *be;
    const uint8_t *buf;
    int len;
    int ret;
    int err;
} ThreadWrite;

static void *thread_write(void *opaque)
{
    ThreadWrite *tw = opaque;

    /* Like a vCPU without the BQL: a worker starts through a BH */
    tw->ret = qemu_chr_fe_write(tw->be, tw->buf, tw->len);
    tw->err = errno;
    return NULL;
}

typedef enum How { FE_WRITE, FE_WRITE_ALL, FROM_THREAD } How;

/* Offer the next @len bytes until the chardev took them all */
static void offer(size_t len, How how)
{
    len = MIN(len, STREAM_MAX - in.pos);
    while (len) {
        int write_faults = faults[F_WRITE];
        const uint8_t *buf = (const uint8_t *)stream + in.pos;
        int ret, err;

        if (how == FROM_THREAD) {
            ThreadWrite tw = { &in.be, buf, len };
            QemuThread thread;

            qemu_thread_create(&thread, "writer", thread_write, &tw,
                               QEMU_THREAD_JOINABLE);
            qemu_thread_join(&thread);
            ret = tw.ret;
            err = tw.err;
        } else if (how == FE_WRITE_ALL) {
            ret = qemu_chr_fe_write_all(&in.be, buf, len);
            err = errno;
            /* Never held back: it cannot wait */
            CHECK(ret == len || faults[F_WRITE] > write_faults,
                  "qemu_chr_fe_write_all() took %d of %zu bytes", ret, len);
            in.unbounded = true;
        } else {
            ret = qemu_chr_fe_write(&in.be, buf, len);
            err = errno;
        }
        if (trace) {
            fprintf(stderr, "  offer %zu at %zu (%d): %d%s%s\n", len, in.pos,
                    how, ret, ret < 0 ? " " : "", ret < 0 ? strerror(err) : "");
        }
        CHECK(ret <= (int)len, "took %d of %zu bytes", ret, len);
        check_handed(MAX(ret, 0));
        g_string_truncate(in.handed, 0);
        if (ret > 0) {
            in.pos += ret;
            len -= ret;
        } else if (ret < 0 && err != EAGAIN) {
            CHECK(faults[F_WRITE] > write_faults,
                  "a write failed with %s, and none was made to",
                  strerror(err));
            return;     /* a frontend gives up; the bytes come later */
        } else {
            wait_writable();
        }
    }
}

/* PATH.(N-1) ... PATH.0 PATH: the end of what write() wrote, exactly */
static void check_files(void)
{
    g_autoptr(GString) kept = g_string_new("");
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    bool sizes = !any_fault() && !in.unbounded;
    bool lines = !any_fault() && !faults[F_WRITE] && !shortened &&
                 !in.split_ok && !in.unbounded;
    const char *entry;
    int k;

    while ((entry = g_dir_read_name(d))) {
        const char *tail = entry + strlen("console.log");
        char *end;

        if (!strcmp(entry, "console.log")) {
            continue;
        }
        CHECK(g_str_has_prefix(entry, "console.log.") &&
              g_ascii_isdigit(tail[1]) &&
              g_ascii_strtoull(tail + 1, &end, 10) < in.generations &&
              !*end, "unexpected file %s with rotate=%u", entry,
              in.generations);
    }
    for (k = in.generations - 1; k >= -1; k--) {
        g_autofree char *name = k < 0 ? g_strdup(path)
                                      : g_strdup_printf("%s.%d", path, k);
        g_autofree char *contents = NULL;
        size_t len;

        if (!g_file_get_contents(name, &contents, &len, NULL) || !len) {
            continue;
        }
        CHECK(!sizes || !in.max_size || len <= in.max_size,
              "%s has %zu bytes, more than %" PRIu64, name, len,
              in.max_size);
        /*
         * The file before this one is complete: the writer writes to
         * the newest non-empty one, PATH or, until its next line starts,
         * PATH.0, where a rotation moved it.
         */
        CHECK(!lines || !kept->len || kept->str[kept->len - 1] == '\n',
              "the file before %s ends in a line that goes on in %s: "
              "'...%.*s'", name, name, (int)MIN(kept->len, 40),
              kept->str + kept->len - MIN(kept->len, 40));
        g_string_append_len(kept, contents, len);
    }
    CHECK(kept->len <= written->len &&
          !memcmp(kept->str, written->str + written->len - kept->len,
                  kept->len),
          "the files (%zu bytes) are not the end of what was written "
          "(%zu bytes)", kept->len, written->len);
}

static void remove_files(void)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;

    while ((name = g_dir_read_name(d))) {
        g_autofree char *p = g_build_filename(dir, name, NULL);

        unlink(p);
    }
}

static void remove_dir(void)
{
    remove_files();
    rmdir(dir);
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
    qemu_mutex_init(&lock);
    qemu_init_main_loop(&error_abort);
    module_call_init(MODULE_INIT_QOM);
    qemu_add_opts(&qemu_chardev_opts);
    tmpl = g_build_filename(g_get_tmp_dir(), "fuzz-rotating-file-XXXXXX",
                            NULL);
    dir = g_mkdtemp(g_steal_pointer(&tmpl));
    CHECK(dir, "cannot make a directory");
    path = g_build_filename(dir, "console.log", NULL);
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
    static const int errs[] = { ENOSPC, EACCES, EIO, EDQUOT };
    static const uint64_t sizes[] = { 0, 4096, 5000, 8192 };
    size_t i;

    if (size < 2) {
        return 0;
    }
    init();
    remove_files();
    memset(inject, 0, sizeof(inject));
    memset(faults, 0, sizeof(faults));
    memset(&in, 0, sizeof(in));
    in.handed = g_string_new("");
    short_writes = shortened = 0;
    g_string_truncate(written, 0);
    cur_op = -1;

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
            fprintf(stderr, "op %d: %d %d\n", cur_op, op % 13, arg);
        }
        switch (op % 13) {
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
            CHECK(in.chr->out || in.chr->log, "no rotating file");
            rotating_file_rotate(in.chr->out ? in.chr->out : in.chr->log,
                                 false);
            in.split_ok = true;     /* asked for: at once, even in a line */
            break;
        case 7:         /* chardev-reopen */
            CHECK(in.chr->out || in.chr->log, "no rotating file");
            rotating_file_rotate(in.chr->out ? in.chr->out : in.chr->log,
                                 true);
            in.reopened = true;
            in.split_ok = true;
            break;
        case 8:         /* make the next calls of a kind fail */
            WITH_QEMU_LOCK_GUARD(&lock) {
                inject[arg % F__MAX].count = 1 + arg / 64;
                inject[arg % F__MAX].err = errs[arg / 4 % ARRAY_SIZE(errs)];
            }
            break;
        case 9:         /* short writes */
            WITH_QEMU_LOCK_GUARD(&lock) {
                short_writes = 1 + arg % 4;
            }
            break;
        case 10:        /* the workers finish; a second or more passes */
            settle();
            if (arg & 1) {
                qatomic_add(&clock_offset_us, 1100 * 1000);
            }
            break;
        case 11:        /* QEMU stops and starts again */
            stop();
            check_no_fd();
            in.restarts++;
            start(arg & 1);
            break;
        case 12:        /* the main loop runs once */
            main_loop_wait(true);
            break;
        }
        /*
         * Not while a worker renames (none starts meanwhile: they are
         * submitted from this thread).  Without a size limit files grow:
         * check less often.
         */
        if (!qatomic_read(&in_flight) && (in.max_size || cur_op % 16 == 0)) {
            check_files();
        }
    }
    cur_op = -1;
    stop();
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
                /* A third without failures, where all checks apply */
                if (n % 3 == 0 && i % 2 == 0 && i &&
                    (input[i] % 13 == 8 || input[i] % 13 == 9)) {
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
