/*
 * Cost of rotating chardev output files on the write path, on real files:
 * the latency of each write, the back-pressure while the next file is not
 * ready, and the CPU of time stamps in the logfile.
 *
 * As in QEMU, a writer thread (a vCPU) writes while the main thread runs
 * the main loop, which schedules the rotations into the thread pool and
 * dispatches the watches that wake the writer.  The writer does not take
 * the BQL: rotating_file_write() has its own lock.
 *
 *   chardev-rotate-bench [latency|stamps]     both parts by default
 *   chardev-rotate-bench feed CHARDEV|- PATH SIZE TOTAL
 *
 * Files go to a new directory under $TMPDIR, or the current directory:
 * use a disk, not tmpfs.  BENCH_QUICK=1 cuts the sizes down; BENCH_DIAG=1
 * also tells how much of the slow writes the writer spent on a CPU.
 *
 * Copyright (c) 2026 The QEMU console log contributors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <glib/gstdio.h>
#include <math.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <sys/syscall.h>
#include "qapi/error.h"
#include "qemu/atomic.h"
#include "qemu/config-file.h"
#include "qemu/main-loop.h"
#include "qemu/module.h"
#include "qemu/option.h"
#include "qemu/thread.h"
#include "chardev/char-fe.h"
#include "chardev/rotating-file.h"
#include "system/system.h"
#include "syscall-wrap.h"

/* QEMU 10.2 renamed CharBackend to CharFrontend; this builds on both */
#if QEMU_VERSION_MAJOR == 10 && QEMU_VERSION_MINOR < 2
typedef CharBackend CharFrontend;
#endif

/*
 * File system calls that would stall the writer: open() and close()
 * through -Wl,--wrap (QEMU's code is linked in statically), rename() by
 * defining it here (glib's g_rename() calls the C library's).  Counted in
 * every thread, and in the writer thread alone.
 */

static __thread bool in_writer;
static unsigned opens, closes, renames, failed_opens;
static unsigned writer_opens, writer_closes, writer_renames;

static int count_open(int ret)
{
    qatomic_inc(ret < 0 ? &failed_opens : &opens);
    if (in_writer) {
        qatomic_inc(&writer_opens);
    }
    return ret;
}

static mode_t open_mode(int flags, va_list ap)
{
    return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ?
           va_arg(ap, int) : 0;
}

int __wrap_open(const char *path, int flags, ...)
{
    va_list ap;
    mode_t mode;

    va_start(ap, flags);
    mode = open_mode(flags, ap);
    va_end(ap);
    return count_open(__real_open(path, flags, mode));
}

/* What open() is with _FILE_OFFSET_BITS=64 */
int __wrap_open64(const char *path, int flags, ...)
{
    va_list ap;
    mode_t mode;

    va_start(ap, flags);
    mode = open_mode(flags, ap);
    va_end(ap);
    return count_open(__real_open64(path, flags, mode));
}

int __wrap_close(int fd)
{
    qatomic_inc(&closes);
    if (in_writer) {
        qatomic_inc(&writer_closes);
    }
    return __real_close(fd);
}

int rename(const char *from, const char *to)
{
    qatomic_inc(&renames);
    if (in_writer) {
        qatomic_inc(&writer_renames);
    }
    return syscall(SYS_renameat, AT_FDCWD, from, AT_FDCWD, to);
}

static char *top;           /* directory of the files, on the disk */

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t thread_cpu_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static double thread_cpu(void)
{
    return thread_cpu_ns() / 1e9;
}

/* BENCH_DIAG=1: how much of the writer's slow (> 20 us) calls is on CPU */
static bool diag;

static double process_sys;  /* of the last run_writer() */

static double process_cpu(double *sys)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    *sys = ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + *sys;
}

/* Console lines of 80 bytes, the newline included; writes of at most 64K */
#define DATA_SPAN (1 << 20)
#define MAX_WRITE 65536
static char *make_lines80(void)
{
    char *data = g_malloc(DATA_SPAN + MAX_WRITE);
    size_t i;

    for (i = 0; i < DATA_SPAN + MAX_WRITE; i++) {
        data[i] = i % 80 == 79 ? '\n' : 'a' + i % 26;
    }
    return data;
}

/* Let the main loop finish what is in flight: rotations, completions */
static void settle(int ms)
{
    int64_t end = now_ns() + ms * 1000000LL;

    while (now_ns() < end) {
        main_loop_wait(true);
        g_usleep(1000);
    }
}

static char *case_dir(void)
{
    static int n;
    char *d = g_strdup_printf("%s/run%d", top, n++);

    g_assert(g_mkdir(d, 0700) == 0);
    return d;
}

static void remove_dir(char *d)
{
    g_autoptr(GDir) dir = g_dir_open(d, 0, NULL);
    const char *name;

    while ((name = g_dir_read_name(dir))) {
        g_autofree char *p = g_build_filename(d, name, NULL);

        unlink(p);
    }
    rmdir(d);
    g_free(d);
}

/*
 * One writer thread writing @total bytes in writes of @wsize to a
 * RotatingFile, a chardev, or a file descriptor, and waiting on a watch
 * when the write is refused.
 */
typedef struct Writer {
    RotatingFile *rf;
    CharFrontend *be;
    int fd;
    const char *data;
    size_t wsize, total;

    GArray *lat;                /* ns, of each call that wrote, or NULL */
    uint64_t calls, refused, refused_eagain;
    int64_t refused_max;        /* ns, of a call that wrote nothing */
    uint64_t waits;
    int64_t wait_total, wait_max;
    double cpu;                 /* of the writer thread */
    int64_t wall;
    uint64_t nvcsw, nivcsw;     /* the writer's context switches */
    uint64_t slow;              /* BENCH_DIAG */
    int64_t slow_ns, slow_cpu_ns;

    QemuMutex lock;
    QemuCond cond;
    bool woken;
    bool done;
} Writer;

static gboolean woken(void *chan, GIOCondition cond, void *opaque)
{
    Writer *w = opaque;

    qemu_mutex_lock(&w->lock);
    w->woken = true;
    qemu_cond_signal(&w->cond);
    qemu_mutex_unlock(&w->lock);
    return G_SOURCE_REMOVE;
}

static void wait_for_room(Writer *w)
{
    int64_t start = now_ns(), t;
    bool attached = true;

    w->woken = false;
    if (w->rf) {
        GSource *src = rotating_file_create_watch(w->rf);

        g_source_set_callback(src, (GSourceFunc)woken, w, NULL);
        g_source_attach(src, NULL);
        g_source_unref(src);
    } else {
        /* 0: the chardev takes bytes again already */
        attached = qemu_chr_fe_add_watch(w->be, G_IO_OUT | G_IO_HUP,
                                         woken, w) != 0;
    }
    if (attached) {
        qemu_mutex_lock(&w->lock);
        while (!w->woken) {
            qemu_cond_wait(&w->cond, &w->lock);
        }
        qemu_mutex_unlock(&w->lock);
    }
    t = now_ns() - start;
    w->waits++;
    w->wait_total += t;
    w->wait_max = MAX(w->wait_max, t);
}

static ssize_t writer_write(Writer *w, const char *p, size_t len)
{
    if (w->rf) {
        return rotating_file_write(w->rf, p, len, ROTATING_FILE_WRITE);
    } else if (w->be) {
        return qemu_chr_fe_write(w->be, (const uint8_t *)p, len);
    }
    return write(w->fd, p, len);
}

static void *writer_thread(void *opaque)
{
    Writer *w = opaque;
    double cpu = thread_cpu();
    int64_t start = now_ns();
    size_t off = 0;
    struct rusage ru0, ru1;

    getrusage(RUSAGE_THREAD, &ru0);

    in_writer = true;
    while (off < w->total) {
        const char *p = w->data + off % DATA_SPAN;
        size_t left = MIN(w->wsize, w->total - off);

        while (left) {
            int64_t t = now_ns(), c = diag ? thread_cpu_ns() : 0;
            ssize_t ret = writer_write(w, p, left);

            t = now_ns() - t;
            if (diag && t > 20000) {
                w->slow++;
                w->slow_ns += t;
                w->slow_cpu_ns += thread_cpu_ns() - c;
            }
            w->calls++;
            if (ret > 0) {
                if (w->lat) {
                    g_array_append_val(w->lat, t);
                }
                p += ret;
                left -= ret;
                off += ret;
                continue;
            }
            g_assert(ret == 0 || errno == EAGAIN);
            w->refused++;
            w->refused_eagain += ret < 0;
            w->refused_max = MAX(w->refused_max, t);
            wait_for_room(w);
        }
    }
    in_writer = false;
    getrusage(RUSAGE_THREAD, &ru1);
    w->nvcsw += ru1.ru_nvcsw - ru0.ru_nvcsw;
    w->nivcsw += ru1.ru_nivcsw - ru0.ru_nivcsw;
    w->wall = now_ns() - start;
    w->cpu = thread_cpu() - cpu;
    qatomic_store_release(&w->done, true);
    qemu_notify_event();
    return NULL;
}

/* Write in a thread, with the main loop running here; CPU of the process */
static double run_writer(Writer *w)
{
    double sys, sys1, cpu = process_cpu(&sys);
    QemuThread thread;

    qemu_mutex_init(&w->lock);
    qemu_cond_init(&w->cond);
    w->done = false;
    qemu_thread_create(&thread, "bench-writer", writer_thread, w,
                       QEMU_THREAD_JOINABLE);
    while (!qatomic_load_acquire(&w->done)) {
        main_loop_wait(false);
    }
    qemu_thread_join(&thread);
    qemu_cond_destroy(&w->cond);
    qemu_mutex_destroy(&w->lock);
    cpu = process_cpu(&sys1) - cpu;
    process_sys = sys1 - sys;
    return cpu;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return x < y ? -1 : x > y;
}

/* Nearest rank, in microseconds */
static double pct(GArray *a, double q)
{
    size_t i = (size_t)ceil(q * a->len);

    return g_array_index(a, int64_t, i ? i - 1 : 0) / 1000.0;
}

/* --- 1 and 2: latency of the write path, and back-pressure --- */

static const char *size_name(uint64_t max_size)
{
    return max_size >= (1 << 20) ? "1M" : "4096";
}

static const char *const file_name[] = { "no rotation", "rotating" };

typedef struct Case {
    unsigned generations;
    uint64_t max_size;
    size_t total;               /* bytes written in each repetition */
    Writer plain, rot;
    unsigned rotations;         /* files made by rotations */
    unsigned failed;            /* opens that failed */
    unsigned writer_fs;         /* opens, closes, renames by the writer */
    unsigned plain_writer_fs;
} Case;

static void run_case(Case *c, Writer *w, uint64_t max_size,
                     const char *data)
{
    char *d = case_dir();
    g_autofree char *path = g_build_filename(d, "console.log", NULL);
    unsigned o, f, wfs;

    w->rf = rotating_file_open(NULL, "rotate", path, false, c->generations,
                               max_size, &error_abort);
    w->data = data;
    w->wsize = 4096;
    w->total = c->total;
    if (!w->lat) {
        w->lat = g_array_sized_new(false, false, sizeof(int64_t),
                                   w->total / w->wsize * 2);
    }
    o = qatomic_read(&opens);
    f = qatomic_read(&failed_opens);
    wfs = writer_opens + writer_closes + writer_renames;
    run_writer(w);
    settle(20);
    if (max_size) {
        c->rotations += qatomic_read(&opens) - o;
        c->failed += qatomic_read(&failed_opens) - f;
        c->writer_fs += writer_opens + writer_closes + writer_renames - wfs;
    } else {
        c->plain_writer_fs += writer_opens + writer_closes + writer_renames -
                              wfs;
    }
    rotating_file_close(w->rf);
    w->rf = NULL;
    settle(10);
    remove_dir(d);
}

static void latency(bool quick)
{
    g_autofree char *data = make_lines80();
    Case cases[] = {
        { 3, 1 << 20, (quick ? 32 : 128) << 20 },
        { 64, 1 << 20, (quick ? 32 : 128) << 20 },
        { 3, ROTATING_FILE_MIN_SIZE, (quick ? 2 : 16) << 20 },
        { 64, ROTATING_FILE_MIN_SIZE, (quick ? 2 : 16) << 20 },
    };
    int reps = quick ? 1 : 5, rep, i;

    for (rep = 0; rep < reps; rep++) {
        for (i = 0; i < ARRAY_SIZE(cases); i++) {
            run_case(&cases[i], &cases[i].plain, 0, data);
            run_case(&cases[i], &cases[i].rot, cases[i].max_size, data);
        }
    }

    printf("## Latency of the write path\n\n"
           "4 KiB writes of 80-byte lines from a writer thread (as a vCPU) "
           "while the main thread runs QEMU's main loop; clock_gettime() "
           "around each rotating_file_write() that wrote bytes; "
           "microseconds.  *no rotation*: the same writer, same "
           "generations, no size limit.  %d repetitions, interleaved, "
           "pooled.  *writer fs calls*: open/close/rename made by the "
           "writer thread itself.\n\n", reps);
    printf("| N | size | file | writes | MB | p50 | p99 | p99.9 | max | "
           "files made | writer fs calls | writer ctx sw vol/invol |\n"
           "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        Case *c = &cases[i];
        Writer *ws[] = { &c->plain, &c->rot };
        int k;

        for (k = 0; k < 2; k++) {
            GArray *a = ws[k]->lat;
            char made[32] = "-";

            if (k && c->failed) {
                snprintf(made, sizeof(made), "%u (%u failed)", c->rotations,
                         c->failed);
            } else if (k) {
                snprintf(made, sizeof(made), "%u", c->rotations);
            }
            g_array_sort(a, cmp_i64);
            printf("| %u | %s | %s | %u | %zu | %.1f | %.1f | %.1f | %.1f | "
                   "%s | %u | %" PRIu64 "/%" PRIu64 " |\n", c->generations,
                   size_name(c->max_size),
                   file_name[k], a->len,
                   reps * c->total >> 20, pct(a, 0.5), pct(a, 0.99),
                   pct(a, 0.999), pct(a, 1.0),
                   made,
                   k ? c->writer_fs : c->plain_writer_fs,
                   ws[k]->nvcsw, ws[k]->nivcsw);
        }
    }
    if (diag) {
        printf("\nBENCH_DIAG: calls over 20 us, and the share of their "
               "time the writer was on a CPU.\n\n"
               "| N | size | file | calls > 20 us | us each | on CPU |\n"
               "|---:|---:|---|---:|---:|---:|\n");
        for (i = 0; i < ARRAY_SIZE(cases); i++) {
            Writer *ws[] = { &cases[i].plain, &cases[i].rot };
            int k;

            for (k = 0; k < 2; k++) {
                double n = MAX(ws[k]->slow, 1), ns = MAX(ws[k]->slow_ns, 1);

                printf("| %u | %s | %s | %" PRIu64 " | %.1f | %.0f%% |\n",
                       cases[i].generations,
                       size_name(cases[i].max_size), file_name[k],
                       ws[k]->slow, ws[k]->slow_ns / 1e3 / n,
                       100.0 * ws[k]->slow_cpu_ns / ns);
            }
        }
    }
    printf("\n| N | size | p99.9 rotating / no rotation | "
           "max rotating / no rotation |\n|---:|---:|---:|---:|\n");
    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        Case *c = &cases[i];

        printf("| %u | %s | %.2f | %.2f |\n", c->generations,
               size_name(c->max_size),
               pct(c->rot.lat, 0.999) / pct(c->plain.lat, 0.999),
               pct(c->rot.lat, 1.0) / pct(c->plain.lat, 1.0));
    }

    printf("\n## Back-pressure\n\n"
           "Calls refused (0, or -1 with EAGAIN) because the next file was "
           "not ready, and the writer's waits on the watch "
           "(rotating_file_create_watch(), attached to the main context) "
           "until it fired.  Wall: the writer's time for all its bytes.\n\n");
    printf("| N | size | calls | refused | of which EAGAIN | max refused "
           "call us | waits | wait total ms | wait max ms | wall s "
           "| wall s no rotation |\n"
           "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        Case *c = &cases[i];
        Writer *w = &c->rot;

        printf("| %u | %s | %" PRIu64 " | %" PRIu64 " | %" PRIu64
               " | %.1f | %" PRIu64 " | %.1f | %.2f | %.2f | %.2f |\n",
               c->generations, size_name(c->max_size),
               w->calls, w->refused, w->refused_eagain,
               w->refused_max / 1000.0, w->waits, w->wait_total / 1e6,
               w->wait_max / 1e6, w->wall / 1e9, c->plain.wall / 1e9);
        g_array_free(c->plain.lat, true);
        g_array_free(c->rot.lat, true);
    }
    printf("\n");
    fflush(stdout);
}

/* --- 3: CPU of time stamps in the logfile --- */

typedef struct Chr {
    Chardev *chr;
    CharFrontend be;
} Chr;

/* A chardev from -chardev options, %s being @path */
static void chr_open(Chr *c, const char *fmt, const char *path)
{
    g_autofree char *text = g_strdup_printf(fmt, path);
    QemuOpts *opts = qemu_opts_parse_noisily(qemu_find_opts("chardev"),
                                             text, true);

    c->chr = qemu_chr_new_from_opts(opts, NULL, &error_abort);
    qemu_opts_del(opts);
    qemu_chr_fe_init(&c->be, c->chr, &error_abort);
}

static void chr_close(Chr *c)
{
    qemu_chr_fe_deinit(&c->be, true);
}

static uint64_t dir_bytes(const char *d)
{
    g_autoptr(GDir) dir = g_dir_open(d, 0, NULL);
    const char *name;
    uint64_t sum = 0;
    struct stat st;

    while ((name = g_dir_read_name(dir))) {
        g_autofree char *p = g_build_filename(d, name, NULL);

        if (!stat(p, &st)) {
            sum += st.st_size;
        }
    }
    return sum;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void stamps(bool quick)
{
    static const char *const configs[][2] = {
        { "logfile", "null,id=bench,logfile=%s" },
        { "logfile,logrotate=3,logrotate-size=1M",
          "null,id=bench,logfile=%s,logrotate=3,logrotate-size=1M" },
    };
    g_autofree char *data = make_lines80();
    int reps = quick ? 2 : 4, r, i, ts;
    size_t total = (quick ? 20 : 50) << 20;

    printf("## CPU of time stamps in the logfile\n\n"
           "A null chardev with a logfile; the writer thread writes 4 KiB "
           "of 80-byte lines at a time with qemu_chr_fe_write(), waiting "
           "on qemu_chr_fe_add_watch() when refused.  %d runs of %zu MB "
           "each per variant, interleaved; medians per MB the guest "
           "wrote.  *process*: getrusage() user+sys of all threads (the "
           "writer, the main loop, the thread pool); *writer*: "
           "CLOCK_THREAD_CPUTIME_ID of the writer thread.\n\n",
           reps, total >> 20);
    printf("| logfile | logtimestamp | MB in | MB in files at end | "
           "process CPU ms/MB | of which sys | writer CPU ms/MB | MB/s |\n"
           "|---|---|---:|---:|---:|---:|---:|---:|\n");
    for (i = 0; i < ARRAY_SIZE(configs); i++) {
        double proc[2][8], sys[2][8], thr[2][8], mbps[2][8];
        double out[2] = { 0, 0 };
        double mproc[2], mthr[2];
        g_autofree char *fmt[2];

        fmt[0] = g_strdup(configs[i][1]);
        fmt[1] = g_strdup_printf("%s,logtimestamp=on", configs[i][1]);
        for (r = 0; r < reps; r++) {
            for (ts = 0; ts < 2; ts++) {
                char *d = case_dir();
                g_autofree char *path = g_build_filename(d, "console.log",
                                                         NULL);
                Writer w = { .data = data, .wsize = 4096, .total = total };
                double cpu;
                Chr c;

                chr_open(&c, fmt[ts], path);
                w.be = &c.be;
                cpu = run_writer(&w);
                settle(20);
                proc[ts][r] = cpu * 1000 / (total / 1e6);
                sys[ts][r] = process_sys * 1000 / (total / 1e6);
                thr[ts][r] = w.cpu * 1000 / (total / 1e6);
                mbps[ts][r] = total / 1e6 / (w.wall / 1e9);
                out[ts] += dir_bytes(d);
                chr_close(&c);
                settle(10);
                remove_dir(d);
            }
        }
        for (ts = 0; ts < 2; ts++) {
            mproc[ts] = median(proc[ts], reps);
            mthr[ts] = median(thr[ts], reps);
            printf("| %s | %s | %zu | %.0f | %.3f | %.3f | %.3f | %.0f |\n",
                   configs[i][0], ts ? "on" : "off", reps * total >> 20,
                   out[ts] / (1 << 20), mproc[ts], median(sys[ts], reps),
                   mthr[ts], median(mbps[ts], reps));
        }
        printf("| %s | **on / off** | | | **%.2f** | | **%.2f** | |\n",
               configs[i][0], mproc[1] / mproc[0], mthr[1] / mthr[0]);
        fflush(stdout);
    }
    printf("\n");
}

/*
 * Feed @total bytes of 80-byte lines in @size writes to a chardev made
 * from -chardev options @chardev (%s being PATH), or to stdout ("-") for
 * a log rotator reading a pipe: the same work, done in process or by
 * another program.  For scripts/bench-rotators.py.
 */
static void feed(const char *chardev, const char *path, size_t size,
                 size_t total)
{
    g_autofree char *data = make_lines80();
    Writer w = { .data = data, .wsize = size, .total = total };
    Chr c;

    g_assert(size > 0 && size <= MAX_WRITE);
    if (!strcmp(chardev, "-")) {
        w.fd = 1;
    } else {
        chr_open(&c, chardev, path);
        w.be = &c.be;
    }
    run_writer(&w);
    if (w.be) {
        settle(20);
        chr_close(&c);
        settle(10);
    }
}

int main(int argc, char **argv)
{
    /* BENCH_QUICK=1 cuts the sizes down for a quick look */
    bool quick = getenv("BENCH_QUICK") != NULL;

    diag = getenv("BENCH_DIAG") != NULL;
    qemu_thread_naming(true);   /* for perf and top */
    const char *tmp = getenv("TMPDIR");
    g_autofree char *tmpl = NULL;
    struct statfs fs;

    qemu_init_main_loop(&error_abort);
    module_call_init(MODULE_INIT_QOM);
    qemu_add_opts(&qemu_chardev_opts);

    /* feed CHARDEV|- PATH WRITE-SIZE TOTAL-BYTES */
    if (argc == 6 && !strcmp(argv[1], "feed")) {
        feed(argv[2], argv[3], atol(argv[4]), atol(argv[5]));
        return 0;
    }
    if (argc > 2 || (argc == 2 && strcmp(argv[1], "latency") &&
                     strcmp(argv[1], "stamps"))) {
        fprintf(stderr, "usage: %s [latency|stamps]\n"
                "       %s feed CHARDEV|- PATH SIZE TOTAL\n"
                "Files go to a new directory in $TMPDIR (not tmpfs!), or "
                "the current directory\n", argv[0], argv[0]);
        return 1;
    }
    tmpl = g_build_filename(tmp ? tmp : ".", "chardev-rotate-bench-XXXXXX",
                            NULL);
    top = g_mkdtemp(tmpl);
    g_assert(top);
    if (statfs(top, &fs) == 0 && fs.f_type == TMPFS_MAGIC) {
        fprintf(stderr, "warning: %s is on tmpfs; measure on a disk\n",
                top);
    }
    if (argc == 1 || !strcmp(argv[1], "latency")) {
        latency(quick);
    }
    if (argc == 1 || !strcmp(argv[1], "stamps")) {
        stamps(quick);
    }
    g_assert(rmdir(top) == 0);
    if (!renames || !closes) {
        printf("warning: rename() or close() was not counted: the writer "
               "fs calls above are meaningless\n");
    }
    return 0;
}
