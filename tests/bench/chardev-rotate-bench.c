/*
 * Cost of rotating chardev output files: throughput, system calls per
 * write and the latency of the writes that rotate, through real file
 * chardevs on real files
 *
 * Copyright (c) 2026 The QEMU console log contributors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/config-file.h"
#include "qemu/main-loop.h"
#include "qemu/module.h"
#include "qemu/option.h"
#include "qemu/timer.h"
#include "chardev/char-fe.h"
#include "system/system.h"
#include "../unit/syscall-wrap.h"
#include "chardev/rotating-file.h"

/*
 * The file system calls the chardevs make, counted through -Wl,--wrap.
 * Renames tell which writes rotated.
 */
static uint64_t syscalls, renames;

ssize_t __wrap_write(int fd, const void *buf, size_t count)
{
    syscalls++;
    return __real_write(fd, buf, count);
}

ssize_t __wrap_writev(int fd, const struct iovec *iov, int iovcnt)
{
    syscalls++;
    return __real_writev(fd, iov, iovcnt);
}

int __wrap_close(int fd)
{
    syscalls++;
    return __real_close(fd);
}

int __wrap_unlinkat(int dir_fd, const char *path, int flags)
{
    syscalls++;
    return __real_unlinkat(dir_fd, path, flags);
}

int __wrap_fchmod(int fd, mode_t mode)
{
    syscalls++;
    return __real_fchmod(fd, mode);
}

int __wrap_fchown(int fd, uid_t owner, gid_t group)
{
    syscalls++;
    return __real_fchown(fd, owner, group);
}

int __wrap_fstat(int fd, struct stat *st)
{
    syscalls++;
    return __real_fstat(fd, st);
}

int __wrap_fstatat(int dir_fd, const char *path, struct stat *st, int flags)
{
    syscalls++;
    return __real_fstatat(dir_fd, path, st, flags);
}

int __wrap_renameat(int from_dir, const char *from, int to_dir,
                    const char *to)
{
    syscalls++;
    renames++;
    return __real_renameat(from_dir, from, to_dir, to);
}

int __wrap_open(const char *path, int flags, ...)
{
    mode_t mode = 0;
    va_list ap;

    va_start(ap, flags);
    if (flags & O_CREAT) {
        mode = va_arg(ap, int);
    }
    va_end(ap);
    syscalls++;
    return __real_open(path, flags, mode);
}

int __wrap_openat(int dir_fd, const char *path, int flags, ...)
{
    mode_t mode = 0;
    va_list ap;

    va_start(ap, flags);
    if (flags & O_CREAT) {
        mode = va_arg(ap, int);
    }
    va_end(ap);
    syscalls++;
    return __real_openat(dir_fd, path, flags, mode);
}

static char *dir;

static void remove_files(void)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;

    while ((name = g_dir_read_name(d))) {
        g_autofree char *p = g_build_filename(dir, name, NULL);

        unlink(p);
    }
}

typedef struct Chr {
    Chardev *chr;
    CharBackend be;
} Chr;

/* A chardev from -chardev options, %s being the path; NULL if refused. */
static bool chr_open(Chr *c, const char *fmt)
{
    g_autofree char *path = g_build_filename(dir, "console.log", NULL);
    g_autofree char *text = g_strdup_printf(fmt, path);
    QemuOpts *opts = qemu_opts_parse_noisily(qemu_find_opts("chardev"),
                                             text, true);
    Error *err = NULL;

    c->chr = qemu_chr_new_from_opts(opts, NULL, &err);
    qemu_opts_del(opts);
    if (!c->chr) {
        error_free(err);
        return false;
    }
    qemu_chr_fe_init(&c->be, c->chr, &error_abort);
    return true;
}

static void chr_close(Chr *c)
{
    qemu_chr_fe_deinit(&c->be, true);
    remove_files();
}

/* Console-like data: lines of 40 to 120 bytes. */
static char *make_data(size_t len)
{
    char *data = g_malloc(len);
    size_t i, col = 0;

    for (i = 0; i < len; i++) {
        if (col >= 40 + (i / 97) % 80) {
            data[i] = '\n';
            col = 0;
        } else {
            data[i] = 'a' + i % 26;
            col++;
        }
    }
    return data;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    return v[n / 2];
}

typedef struct Variant {
    const char *name;
    const char *chardev;
} Variant;

static const Variant variants[] = {
    { "plain file (upstream behaviour)", "file,id=bench,path=%s" },
    { "rotate=3", "file,id=bench,path=%s,rotate=3" },
    { "rotate=3,rotate-size=1M",
      "file,id=bench,path=%s,rotate=3,rotate-size=1M" },
    { "null + logfile,logrotate=3,logrotate-size=1M",
      "null,id=bench,logfile=%s,logrotate=3,logrotate-size=1M" },
};

/* MB/s and system calls per write of writing @total bytes in @size writes */
static void run_throughput(const Variant *v, size_t size, size_t total,
                           const char *data, double *mbps, double *calls)
{
    Chr c;
    int64_t start;
    size_t done;
    uint64_t before;

    g_assert(chr_open(&c, v->chardev));
    before = syscalls;
    start = g_get_monotonic_time();
    for (done = 0; done < total; done += size) {
        qemu_chr_fe_write_all(&c.be, (const uint8_t *)data + done % (1 << 20),
                              size);
    }
    *calls = (syscalls - before) / (double)(total / size);
    /*
     * Rotation deletes old generations as it goes; for the same work,
     * every variant deletes what it wrote within the time measured.
     */
    chr_close(&c);
    *mbps = total / (double)(g_get_monotonic_time() - start);
}

static void throughput(int reps, size_t total_1, size_t total_4k)
{
    static const size_t sizes[] = { 1, 4096 };
    g_autofree char *data = make_data((1 << 20) + 4096);
    int nv = ARRAY_SIZE(variants), s, r, i;

    printf("## Throughput through a file chardev\n\n"
           "%d repetitions, interleaved; medians.  1-byte writes: %zu MB, "
           "4 KiB writes: %zu MB; the time includes deleting the files "
           "written.\n\n", reps, total_1 >> 20, total_4k >> 20);
    printf("| variant | write size | MB/s | vs plain | syscalls/write |\n"
           "|---|---:|---:|---:|---:|\n");
    for (s = 0; s < ARRAY_SIZE(sizes); s++) {
        size_t total = sizes[s] == 1 ? total_1 : total_4k;
        g_autofree double *mbps = g_new0(double, nv * reps);
        g_autofree double *calls = g_new0(double, nv * reps);
        double plain = 0;

        for (r = 0; r < reps; r++) {
            for (i = 0; i < nv; i++) {
                run_throughput(&variants[i], sizes[s], total, data,
                               &mbps[i * reps + r], &calls[i * reps + r]);
            }
        }
        for (i = 0; i < nv; i++) {
            double m = median(&mbps[i * reps], reps);
            double c = median(&calls[i * reps], reps);

            if (i == 0) {
                plain = m;
            }
            printf("| %s | %zu | %.1f | %.3f | %.4f |\n", variants[i].name,
                   sizes[s], m, m / plain, c);
            fflush(stdout);
        }
    }
    printf("\n");
}

/* Console lines of 80 bytes, the newline included */
static char *make_lines80(size_t len)
{
    char *data = g_malloc(len);
    size_t i;

    for (i = 0; i < len; i++) {
        data[i] = i % 80 == 79 ? '\n' : 'a' + i % 26;
    }
    return data;
}

static double cpu_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Writing @total bytes of 80-byte lines in @size writes through
 * @chardev: MB/s, CPU milliseconds per MB and system calls per write,
 * the deletion of the file not counted.
 */
static void run_stamps(const char *chardev, size_t size, size_t total,
                       const char *data, double *mbps, double *cpu_per_mb,
                       double *calls)
{
    int64_t start;
    uint64_t before;
    double cpu;
    size_t done;
    Chr c;

    g_assert(chr_open(&c, chardev));
    before = syscalls;
    cpu = cpu_seconds();
    start = g_get_monotonic_time();
    for (done = 0; done < total; done += size) {
        qemu_chr_fe_write_all(&c.be, (const uint8_t *)data + done % (1 << 20),
                              size);
    }
    *mbps = total / (double)(g_get_monotonic_time() - start);
    *cpu_per_mb = (cpu_seconds() - cpu) * 1000 / (total / 1e6);
    *calls = (syscalls - before) / (double)(total / size);
    chr_close(&c);
}

static void stamps(int reps, size_t total_1, size_t total_4k)
{
    static const size_t sizes[] = { 1, 4096 };
    static const Variant stamp_variants[] = {
        { "plain file", "file,id=bench,path=%s" },
        { "timestamp=on", "file,id=bench,path=%s,timestamp=on" },
        { "timestamp=on,marker=on,rotate=3,rotate-size=1M",
          "file,id=bench,path=%s,timestamp=on,marker=on,rotate=3,"
          "rotate-size=1M" },
    };
    int nv = ARRAY_SIZE(stamp_variants), s, r, i;
    g_autofree char *data = make_lines80((1 << 20) + 4096);

    printf("## Time stamps\n\n"
           "80-byte lines; %d repetitions, interleaved; medians.  1-byte "
           "writes: %zu MB, 4 KiB writes: %zu MB; CPU of the writing "
           "process.\n\n", reps, total_1 >> 20, total_4k >> 20);
    printf("| variant | write size | MB/s | CPU ms/MB | CPU vs plain | "
           "syscalls/write |\n|---|---:|---:|---:|---:|---:|\n");
    for (s = 0; s < ARRAY_SIZE(sizes); s++) {
        size_t total = sizes[s] == 1 ? total_1 : total_4k;
        g_autofree double *mbps = g_new0(double, nv * reps);
        g_autofree double *cpu = g_new0(double, nv * reps);
        g_autofree double *calls = g_new0(double, nv * reps);
        double plain = 0;

        for (r = 0; r < reps; r++) {
            for (i = 0; i < nv; i++) {
                run_stamps(stamp_variants[i].chardev, sizes[s], total, data,
                           &mbps[i * reps + r], &cpu[i * reps + r],
                           &calls[i * reps + r]);
            }
        }
        for (i = 0; i < nv; i++) {
            double m = median(&mbps[i * reps], reps);
            double c = median(&cpu[i * reps], reps);

            if (i == 0) {
                plain = c;
            }
            printf("| %s | %zu | %.1f | %.2f | %.3f | %.4f |\n",
                   stamp_variants[i].name, sizes[s], m, c, c / plain,
                   median(&calls[i * reps], reps));
            fflush(stdout);
        }
    }
    printf("\n");
}

/* Latency of the writes that rotate, with rotate=N,rotate-size=SIZE */
static void rotation_latency_row(int generations, size_t max_size,
                                 int rotations, const char *data)
{
    g_autofree char *fmt = g_strdup_printf(
        "file,id=bench,path=%%s,rotate=%d,rotate-size=%zu",
        generations, max_size);
    g_autofree double *lat = g_new(double, rotations);
    uint64_t calls_before, rotating_calls = 0;
    int n = 0, w = 0;
    Chr c;

    g_assert(chr_open(&c, fmt));
    while (n < rotations) {
        uint64_t renames_before = renames;
        int64_t start;
        double us;

        calls_before = syscalls;
        start = get_clock();
        qemu_chr_fe_write_all(&c.be, (const uint8_t *)data + w++ % 4096,
                              4096);
        us = (get_clock() - start) / 1000.0;
        if (renames != renames_before) {
            lat[n++] = us;
            rotating_calls += syscalls - calls_before;
        }
    }
    chr_close(&c);
    qsort(lat, rotations, sizeof(*lat), cmp_double);
    printf("| %d | %zuK | %.1f | %.1f | %.1f | %.1f | %.1f |\n", generations,
           max_size >> 10, lat[rotations / 2], lat[rotations * 99 / 100],
           lat[rotations * 999 / 1000], lat[rotations - 1],
           rotating_calls / (double)rotations);
    fflush(stdout);
}

static void rotation_latency(int rotations)
{
    static const int generations[] = { 1, 3, 32,
                                       ROTATING_FILE_MAX_GENERATIONS };
    g_autofree char *data = make_data(4096 + 4096);
    int g;

    printf("## Latency of the writes that rotate\n\n"
           "4 KiB writes of lines into rotate=N,rotate-size=SIZE; %d "
           "rotations each (with 1M, %d); microseconds.\n\n", rotations,
           rotations / 10);
    printf("| N | SIZE | p50 | p99 | p99.9 | max | syscalls/rotation |\n"
           "|---:|---:|---:|---:|---:|---:|---:|\n");
    for (g = 0; g < ARRAY_SIZE(generations); g++) {
        rotation_latency_row(generations[g], 4096, rotations, data);
    }
    rotation_latency_row(3, 1 << 20, rotations / 10, data);
    printf("\n");
}

/*
 * Feed @total bytes of console-like data in @size writes to a file
 * chardev with -chardev options @chardev (%s being PATH), or to stdout
 * for a log rotator reading a pipe: the same work, done in process or
 * by another program.
 */
static void feed(const char *chardev, const char *path, size_t size,
                 size_t total)
{
    g_autofree char *data = make_data((1 << 20) + 4096);
    g_autofree char *text = g_strdup_printf(chardev, path);
    size_t done;
    Chr c;

    if (!strcmp(chardev, "-")) {
        for (done = 0; done < total; done += size) {
            const char *p = data + done % (1 << 20);
            size_t left = size;

            while (left) {
                ssize_t ret = __real_write(1, p, left);

                g_assert(ret > 0);
                p += ret;
                left -= ret;
            }
        }
        return;
    }
    c.chr = qemu_chr_new_from_opts(
        qemu_opts_parse_noisily(qemu_find_opts("chardev"), text, true),
        NULL, &error_abort);
    qemu_chr_fe_init(&c.be, c.chr, &error_abort);
    for (done = 0; done < total; done += size) {
        qemu_chr_fe_write_all(&c.be, (const uint8_t *)data + done % (1 << 20),
                              size);
    }
    qemu_chr_fe_deinit(&c.be, true);
}

int main(int argc, char **argv)
{
    /* Sizes can be cut down for a quick look: BENCH_QUICK=1. */
    bool quick = getenv("BENCH_QUICK") != NULL;

    qemu_init_main_loop(&error_abort);
    module_call_init(MODULE_INIT_QOM);
    qemu_add_opts(&qemu_chardev_opts);

    /* feed CHARDEV|- PATH WRITE-SIZE TOTAL-BYTES */
    if (argc == 6 && !strcmp(argv[1], "feed")) {
        feed(argv[2], argv[3], atol(argv[4]), atol(argv[5]));
        return 0;
    }
    dir = g_dir_make_tmp("chardev-rotate-bench-XXXXXX", NULL);

    throughput(quick ? 3 : 5, (quick ? 2 : 4) << 20,
               (quick ? 64 : 512) << 20);
    stamps(quick ? 3 : 7, (quick ? 2 : 4) << 20, (quick ? 64 : 256) << 20);
    rotation_latency(quick ? 1000 : 10000);
    rmdir(dir);
    return 0;
}
