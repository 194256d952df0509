/*
 * The write path of rotating chardev files, measured on real files
 *
 * Copyright (c) 2026 The QEMU console log contributors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * A writer thread (as a vCPU) writes through a real chardev while the main
 * thread runs QEMU's main loop, which starts the rotations in its thread
 * pool.  It reports, for 4 KiB writes:
 *  - writes refused or short (a rotating file must refuse none), bytes
 *    dropped at the cap (query-chardev's "dropped"), files made;
 *  - the latency of each write with rotation and without (the same file
 *    backend, append=on, no rotate): p50, p99.9, max and the ratios;
 *  - the CPU time per MB of a logfile with logtimestamp=on over a plain
 *    one, 4 KiB writes of 80-byte lines, without and with logrotate.
 * Markdown on stdout.
 *
 *   chardev-rotate-bench [MB-PER-CASE [MB-PER-SECOND [latency]]]
 * With "latency", the CPU of time stamps is not measured.
 *   chardev-rotate-bench feed OPTS|- PATH CHUNK TOTAL
 * "feed" writes TOTAL bytes of numbered lines in CHUNK-byte writes to a
 * chardev made from OPTS (%s for PATH), or to standard output for "-".
 */

#include "qemu/osdep.h"
#include <sys/resource.h>
#include "qapi/error.h"
#include "qapi/qapi-commands-char.h"
#include "qemu/config-file.h"
#include "qemu/cutils.h"
#include "qemu/main-loop.h"
#include "qemu/module.h"
#include "qemu/option.h"
#include "qemu/thread.h"
#include "chardev/char.h"
#include "chardev/char-fe.h"
#include "system/system.h"

#define CHUNK 4096

/* QEMU 10.2 renamed CharBackend to CharFrontend; this builds on both */
#if QEMU_VERSION_MAJOR == 10 && QEMU_VERSION_MINOR < 2
typedef CharBackend CharFrontend;
#endif

typedef struct Run {
    CharFrontend be;
    const char *buf;
    size_t chunk;
    uint64_t total;
    double rate;            /* bytes per ns, paced as a guest; 0: no limit */
    int64_t *lat;           /* ns, one per write */
    size_t writes;
    size_t burst;           /* writes between two sleeps of the pacing */
    uint64_t refused;       /* writes that took less than all */
    struct rusage usage;    /* of the writer thread */
    bool done;
} Run;

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static Chardev *make_chardev(const char *fmt, const char *path)
{
    g_autofree char *text = g_strdup_printf(fmt, path);
    QemuOpts *opts = qemu_opts_parse_noisily(qemu_find_opts("chardev"),
                                             text, true);

    Chardev *chr;

    g_assert(opts);
    chr = qemu_chr_new_from_opts(opts, NULL, &error_abort);
    qemu_opts_del(opts);
    return chr;
}

static void *writer(void *opaque)
{
    Run *r = opaque;
    int64_t start = now_ns();

    for (uint64_t off = 0; off < r->total; off += r->chunk) {
        int64_t t = now_ns(), due = r->rate ? start + off / r->rate : 0;

        if (t < due && !(off % (r->chunk * r->burst))) {
            g_usleep((due - t) / 1000);
            t = now_ns();
        }
        int n = qemu_chr_fe_write(&r->be, (const uint8_t *)r->buf + off %
                                  (CHUNK * 64), r->chunk);

        if (r->lat) {
            r->lat[r->writes] = now_ns() - t;
        }
        r->writes++;
        r->refused += n != (int)r->chunk;
    }
    getrusage(RUSAGE_THREAD, &r->usage);
    qatomic_set(&r->done, true);
    qemu_notify_event();
    return NULL;
}

/* Write @total bytes from a thread while the main loop runs */
static void run(Run *r, Chardev *chr)
{
    QemuThread thread;

    qemu_chr_fe_init(&r->be, chr, &error_abort);
    qemu_thread_create(&thread, "writer", writer, r, QEMU_THREAD_JOINABLE);
    while (!qatomic_read(&r->done)) {
        main_loop_wait(false);
    }
    qemu_thread_join(&thread);
}

static uint64_t dropped(const char *label)
{
    ChardevInfoList *list = qmp_query_chardev(&error_abort), *l;
    uint64_t n = 0;

    for (l = list; l; l = l->next) {
        if (!strcmp(l->value->label, label)) {
            n = l->value->dropped;
        }
    }
    qapi_free_ChardevInfoList(list);
    return n;
}

/* Wait until the main loop finished closing @label's files */
static void remove_chardev(Run *r)
{
    qemu_chr_fe_deinit(&r->be, true);
    for (int i = 0; i < 200; i++) {
        main_loop_wait(true);
        g_usleep(1000);
    }
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return x < y ? -1 : x > y;
}

static int64_t pct(int64_t *v, size_t n, double p)
{
    return v[MIN(n - 1, (size_t)(p * n))];
}

static int count_files(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    int n = 0;

    while (d && g_dir_read_name(d)) {
        n++;
    }
    return n;
}

static char *lines(size_t len, size_t line)
{
    char *buf = g_malloc(len);

    memset(buf, '.', len);
    for (size_t i = 0; i + line <= len; i += line) {
        g_autofree char *num = g_strdup_printf("%08zu console line ",
                                               i / line);

        memcpy(buf + i, num, MIN(strlen(num), line - 1));
        buf[i + line - 1] = '\n';
    }
    return buf;
}

typedef struct Latency {
    int64_t p50, p999, max;
} Latency;

static double rate;     /* bytes per ns of the writer */

static Latency latency_case(const char *opts, uint64_t total, char *buf,
                            uint64_t *refused, uint64_t *lost, int *files)
{
    g_autofree char *dir = g_dir_make_tmp("rotate-bench.XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "console.log", NULL);
    g_autofree char *rm = g_strdup_printf("rm -rf %s", dir);
    Run r = { .buf = buf, .chunk = CHUNK, .total = total, .rate = rate,
              .burst = 1 };
    Latency l;

    r.lat = g_new(int64_t, total / CHUNK + 1);
    run(&r, make_chardev(opts, path));
    *refused = r.refused;
    *lost = dropped("bench");
    remove_chardev(&r);
    *files = count_files(dir);
    qsort(r.lat, r.writes, sizeof(int64_t), cmp64);
    l.p50 = pct(r.lat, r.writes, 0.5);
    l.p999 = pct(r.lat, r.writes, 0.999);
    l.max = r.lat[r.writes - 1];
    g_free(r.lat);
    g_assert(system(rm) == 0);
    return l;
}

static double seconds(struct rusage *ru)
{
    return ru->ru_utime.tv_sec + ru->ru_utime.tv_usec / 1e6 +
           ru->ru_stime.tv_sec + ru->ru_stime.tv_usec / 1e6;
}

/* ms per MB of the writer thread (the guest's cost), and of the process */
static double cpu_case(const char *opts, uint64_t total, char *buf,
                       double *process, uint64_t *lost)
{
    g_autofree char *dir = g_dir_make_tmp("rotate-bench.XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "console.log", NULL);
    g_autofree char *rm = g_strdup_printf("rm -rf %s", dir);
    /* In bursts of 64 KiB, so that sleeping costs the writer little CPU */
    Run r = { .buf = buf, .chunk = CHUNK, .total = total, .rate = rate,
              .burst = 16 };
    struct rusage before, after;

    getrusage(RUSAGE_SELF, &before);
    run(&r, make_chardev(opts, path));
    getrusage(RUSAGE_SELF, &after);
    *lost = dropped("bench");
    remove_chardev(&r);
    g_assert(system(rm) == 0);
    *process = (seconds(&after) - seconds(&before)) * 1048576.0 / total * 1e3;
    return seconds(&r.usage) * 1048576.0 / total * 1e3;
}

static int feed(int argc, char **argv)
{
    uint64_t chunk = 0, total = 0;
    g_autofree char *buf = NULL;
    Run r;

    g_assert(!qemu_strtou64(argv[4], NULL, 0, &chunk));
    g_assert(!qemu_strtou64(argv[5], NULL, 0, &total));
    buf = lines(CHUNK * 64 + chunk, 80);
    r = (Run) { .buf = buf, .chunk = chunk, .total = total, .burst = 1 };

    if (!strcmp(argv[2], "-")) {
        for (uint64_t off = 0; off < total; off += chunk) {
            if (fwrite(buf + off % (CHUNK * 64), 1, chunk, stdout) != chunk) {
                return 1;
            }
        }
        return fflush(stdout) != 0;
    }
    run(&r, make_chardev(argv[2], argv[3]));
    remove_chardev(&r);
    return r.refused != 0;
}

int main(int argc, char **argv)
{
    uint64_t mb = argc > 1 && strcmp(argv[1], "feed") ? atoi(argv[1]) : 32;
    double mbps = argc > 2 ? atof(argv[2]) : 16;
    static const struct {
        const char *name, *opts;
    } rot[] = {
        { "N=3, 4 KiB", "file,id=bench,path=%s,rotate=3,size=4096" },
        { "N=64, 4 KiB", "file,id=bench,path=%s,rotate=64,size=4096" },
        { "N=3, 1 MiB", "file,id=bench,path=%s,rotate=3,size=1M" },
        { "N=64, 1 MiB", "file,id=bench,path=%s,rotate=64,size=1M" },
    };
    g_autofree char *buf = NULL;
    Latency base;
    uint64_t refused, lost;
    int files;
    double plain, stamped, rplain, rstamped, pp, ps, prp, prs;

    qemu_init_main_loop(&error_abort);
    module_call_init(MODULE_INIT_QOM);
    qemu_add_opts(&qemu_chardev_opts);
    if (argc == 6 && !strcmp(argv[1], "feed")) {
        return feed(argc, argv);
    }
    buf = lines(CHUNK * 64 + CHUNK, 80);
    rate = mbps * 1048576 / 1e9;

    printf("## Write path, %" PRIu64 " MiB per case in %d-byte writes at "
           "%g MiB/s\n\n", mb, CHUNK, mbps);
    base = latency_case("file,id=bench,path=%s,append=on", mb << 20, buf,
                        &refused, &lost, &files);
    printf("| file | refused writes | bytes dropped | files | p50 us | "
           "p99.9 us | max us | p99.9 ratio | max ratio |\n");
    printf("|---|---|---|---|---|---|---|---|---|\n");
    printf("| no rotation | %" PRIu64 " | - | %d | %.1f | %.1f | %.1f | 1 "
           "| 1 |\n", refused, files, base.p50 / 1e3, base.p999 / 1e3,
           base.max / 1e3);
    for (int i = 0; i < ARRAY_SIZE(rot); i++) {
        Latency l = latency_case(rot[i].opts, mb << 20, buf, &refused,
                                 &lost, &files);

        printf("| %s | %" PRIu64 " | %" PRIu64 " | %d | %.1f | %.1f | %.1f "
               "| %.2f | %.2f |\n", rot[i].name, refused, lost, files,
               l.p50 / 1e3, l.p999 / 1e3, l.max / 1e3,
               (double)l.p999 / base.p999, (double)l.max / base.max);
    }

    if (argc > 3 && !strcmp(argv[3], "latency")) {
        return 0;
    }
    plain = cpu_case("null,id=bench,logfile=%s", mb << 20, buf, &pp, &lost);
    stamped = cpu_case("null,id=bench,logfile=%s,logtimestamp=on", mb << 20,
                       buf, &ps, &lost);
    rplain = cpu_case("null,id=bench,logfile=%s,logrotate=3,logsize=1M",
                      mb << 20, buf, &prp, &lost);
    rstamped = cpu_case("null,id=bench,logfile=%s,logrotate=3,logsize=1M,"
                        "logtimestamp=on", mb << 20, buf, &prs, &lost);
    if (lost) {
        printf("(the rotating logfile dropped %" PRIu64 " bytes)\n", lost);
    }
    printf("\n## CPU of time stamps, 4 KiB writes of 80-byte lines at "
           "%g MiB/s\n\n", mbps);
    printf("| logfile | plain ms/MB | logtimestamp ms/MB | ratio | "
           "process ratio |\n");
    printf("|---|---|---|---|---|\n");
    printf("| no rotation | %.2f | %.2f | %.2f | %.2f |\n", plain, stamped,
           stamped / plain, ps / pp);
    printf("| logrotate=3,logsize=1M | %.2f | %.2f | %.2f | %.2f |\n",
           rplain, rstamped, rstamped / rplain, prs / prp);
    return 0;
}
