/*
 * Fuzz the rotating output file: random writes, sizes, rotations and
 * injected system call failures, checking after every step that nothing
 * accepted was lost or duplicated.
 *
 * Built with libFuzzer (clang -fsanitize=fuzzer) it fuzzes; built without,
 * it replays the inputs named on its command line, or every file of the
 * directories named there, as a TAP test.  Either way it is linked with
 * -Wl,--wrap for the system calls whose failures it injects.
 *
 * Copyright (c) 2026 The QEMU console log contributors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "chardev/rotating-file.h"
#include "syscall-wrap.h"

/* Failures to inject: the next @count calls of a kind fail with @err. */
typedef enum Syscall { SYS_WRITE, SYS_OPEN, SYS_RENAME, SYS_UNLINK,
                       SYS__MAX } Syscall;

static struct {
    int count;
    int err;
} inject[SYS__MAX];
static bool injected;           /* any failure injected in this input */
static bool commanded;          /* any rotation on request: lines split */

static bool fail_now(Syscall sc)
{
    if (inject[sc].count > 0) {
        inject[sc].count--;
        errno = inject[sc].err;
        injected = true;
        return true;
    }
    return false;
}

ssize_t __wrap_write(int fd, const void *buf, size_t count)
{
    if (fail_now(SYS_WRITE)) {
        return -1;
    }
    /* A short write, as a nearly full disk gives. */
    if (inject[SYS_WRITE].count < 0 && count > 1) {
        inject[SYS_WRITE].count++;
        count /= 2;
    }
    return __real_write(fd, buf, count);
}

ssize_t __wrap_writev(int fd, const struct iovec *iov, int iovcnt)
{
    g_autofree struct iovec *part = g_new(struct iovec, iovcnt);
    size_t total = 0, keep;
    int i, n = 0;

    if (fail_now(SYS_WRITE)) {
        return -1;
    }
    for (i = 0; i < iovcnt; i++) {
        total += iov[i].iov_len;
    }
    /* A short write, as a nearly full disk gives: the first half. */
    keep = total;
    if (inject[SYS_WRITE].count < 0 && total > 1) {
        inject[SYS_WRITE].count++;
        keep = total / 2;
    }
    for (i = 0; i < iovcnt && keep; i++) {
        part[n] = iov[i];
        part[n].iov_len = MIN(iov[i].iov_len, keep);
        keep -= part[n++].iov_len;
    }
    return __real_writev(fd, part, n);
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
    if (fail_now(SYS_OPEN)) {
        return -1;
    }
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
    if (fail_now(SYS_OPEN)) {
        return -1;
    }
    return __real_openat(dir_fd, path, flags, mode);
}

int __wrap_renameat(int from_dir, const char *from, int to_dir,
                    const char *to)
{
    return fail_now(SYS_RENAME) ? -1
                                : __real_renameat(from_dir, from, to_dir, to);
}

int __wrap_unlinkat(int dir_fd, const char *path, int flags)
{
    return fail_now(SYS_UNLINK) ? -1 : __real_unlinkat(dir_fd, path, flags);
}

/* Operations per input: enough for dozens of rotations. */
#define MAX_OPS 400

static char *dir;
static char *path;

static void remove_logs(void)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;

    while ((name = g_dir_read_name(d))) {
        g_autofree char *p = g_build_filename(dir, name, NULL);

        unlink(p);
    }
}

static bool stamped;             /* the writer stamps lines */

/* Whether @p holds the first @n bytes of a time stamp. */
static bool stamp_prefix(const char *p, size_t n)
{
    static const char shape[] = "2999-99-99T99:99:99.999Z ";
    size_t i;

    for (i = 0; i < n; i++) {
        if (shape[i] == '9' ? !g_ascii_isdigit(p[i]) :
            shape[i] == '2' ? p[i] != '2' : p[i] != shape[i]) {
            return false;
        }
    }
    return true;
}

/*
 * Append @contents to @kept without the stamps at its line starts; the
 * file's first line may go on from the previous file, unstamped
 * (*@line_start says whether that one ended a line).  A stamp that a
 * short write cut at the end of a file is dropped: the next write
 * finishes it, or it stays behind when a rotation came first.
 */
static void append_unstamped(GString *kept, const char *contents, size_t len,
                             bool *line_start)
{
    size_t pos = 0;

    while (pos < len) {
        const char *newline = memchr(contents + pos, '\n', len - pos);
        size_t end = newline ? newline - contents + 1 : len;

        /* (The stream has no '-': what has one is a stamp) */
        if (end - pos >= ROTATING_FILE_STAMP_LEN &&
            stamp_prefix(contents + pos, ROTATING_FILE_STAMP_LEN)) {
            pos += ROTATING_FILE_STAMP_LEN;
        } else if (!newline && (pos || *line_start || end - pos > 4) &&
                   stamp_prefix(contents + pos, end - pos)) {
            pos = end;
        }
        g_string_append_len(kept, contents + pos, end - pos);
        pos = end;
    }
    if (len) {
        *line_start = contents[len - 1] == '\n';
    }
}

static void remove_dir(void)
{
    remove_logs();
    rmdir(dir);
}

/* The regular files PATH.(n-1), ..., PATH.0, PATH concatenated. */
static GString *kept_stream(int generations, uint64_t max_size,
                            bool check_sizes, bool check_lines)
{
    GString *kept = g_string_new("");
    bool line_start = false;
    int k;

    for (k = generations - 1; k >= -1; k--) {
        g_autofree char *name = k < 0 ? g_strdup(path)
                                      : g_strdup_printf("%s.%d", path, k);
        g_autofree char *contents = NULL;
        size_t len;

        if (!g_file_get_contents(name, &contents, &len, NULL)) {
            continue;
        }
        if (check_sizes && max_size) {
            g_assert_cmpuint(len, <=, max_size);
        }
        if (check_lines && max_size) {
            /* Lines are short: no line was split. */
            g_assert(k < 0 || len == 0 || contents[len - 1] == '\n');
        }
        if (stamped) {
            append_unstamped(kept, contents, len, &line_start);
        } else {
            g_string_append_len(kept, contents, len);
        }
    }
    return kept;
}

static void check_invariant(const GString *accepted, int generations,
                            uint64_t max_size)
{
    g_autoptr(GString) kept = kept_stream(generations, max_size, !injected,
                                          !injected && !commanded);

    /* The kept stream is the end of what was accepted, byte for byte. */
    g_assert_cmpuint(kept->len, <=, accepted->len);
    g_assert(memcmp(kept->str, accepted->str + accepted->len - kept->len,
                    kept->len) == 0);
}

/*
 * The next @len bytes of the stream: numbered lines of 8 to 207 bytes, a
 * length that depends on the line number only, so that the stream is
 * the same however it is cut into writes.
 */
static void next_bytes(GString *out, uint64_t *line, size_t *col,
                       size_t len)
{
    while (len--) {
        size_t target = 8 + ((*line * 2654435761u) >> 7) % 200;
        char c;

        if (*col == target - 1) {
            c = '\n';
        } else if (*col < 8) {
            c = '0' + (*line >> (4 * (7 - *col))) % 10;
        } else {
            c = 'a' + *col % 26;
        }
        g_string_append_c(out, c);
        if (c == '\n') {
            (*line)++;
            *col = 0;
        } else {
            (*col)++;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int errs[] = { ENOSPC, EACCES, EIO, EDQUOT };
    RotatingFileOptions opts = {
        .path_opt = "path",
        .append_opt = "append",
        .generations_opt = "rotate",
        .max_size_opt = "rotate-size",
    };
    g_autoptr(GString) accepted = g_string_new("");
    g_autoptr(GString) chunk = g_string_new("");
    RotatingFile *rf;
    uint64_t line = 0, saved_line;
    size_t col = 0, saved_col, i;

    if (size < 3) {
        return 0;
    }
    if (!dir) {
        dir = g_dir_make_tmp("fuzz-rotating-file-XXXXXX", NULL);
        path = g_build_filename(dir, "console.log", NULL);
        atexit(remove_dir);
    }
    remove_logs();
    memset(inject, 0, sizeof(inject));
    injected = false;
    commanded = false;

    opts.path = path;
    opts.generations = 1 + data[0] % 4;
    opts.max_size = data[1] % 3 ? ROTATING_FILE_MIN_SIZE +
                                  (data[1] % 3 - 1) * 1000 : 0;
    opts.append = data[2] & 1;
    opts.timestamps = stamped = data[2] & 2;
    /* Failures are expected here: nothing to report them to. */
    rf = rotating_file_open(&opts, NULL, NULL, &error_abort);

    for (i = 3; i + 1 < size && i < 3 + 2 * MAX_OPS; i += 2) {
        uint8_t op = data[i], arg = data[i + 1];
        ssize_t ret;

        switch (op % 8) {
        case 0:         /* a 16550's one-byte writes, a burst of them */
        case 1:
        case 2:         /* larger writes, up to 4 KiB as virtio-serial */
        case 3:
            g_string_truncate(chunk, 0);
            saved_line = line;
            saved_col = col;
            next_bytes(chunk, &line, &col,
                       op % 8 == 0 ? 1 : 1 + arg * (op % 8) * 5);
            ret = rotating_file_write(rf, chunk->str, chunk->len);
            if (ret > 0) {
                g_string_append_len(accepted, chunk->str, ret);
            }
            if (ret < (ssize_t)chunk->len) {
                /* The rest is offered again, as a frontend would. */
                line = saved_line;
                col = saved_col;
                g_string_truncate(chunk, 0);
                next_bytes(chunk, &line, &col, MAX(ret, 0));
            }
            break;
        case 4:
            if (rotating_file_has_generations(rf)) {
                rotating_file_rotate(rf, NULL);
                commanded = true;
            }
            break;
        case 5:
            rotating_file_reopen(rf, NULL);
            break;
        case 6:         /* make the next calls of a kind fail */
            inject[arg % SYS__MAX].count = 1 + arg / 64;
            inject[arg % SYS__MAX].err = errs[(arg / 4) % ARRAY_SIZE(errs)];
            break;
        case 7:         /* short writes */
            inject[SYS_WRITE].count = -(1 + arg % 4);
            break;
        }
        /* Without a size limit files grow: check less often. */
        if (opts.max_size || i % 32 == 3) {
            check_invariant(accepted, opts.generations, opts.max_size);
        }
    }
    rotating_file_close(rf);
    check_invariant(accepted, opts.generations, opts.max_size);
    return 0;
}

#ifndef FUZZING
static void replay_file(const char *name)
{
    g_autofree char *contents = NULL;
    size_t len;

    g_assert(g_file_get_contents(name, &contents, &len, NULL));
    LLVMFuzzerTestOneInput((const uint8_t *)contents, len);
}

/*
 * Replay the inputs named on the command line, and every file of the
 * directories named there; without arguments, inputs from a seeded
 * pseudo-random generator.
 */
int main(int argc, char **argv)
{
    int i, n = 0;

    for (i = 1; i < argc; i++) {
        if (g_file_test(argv[i], G_FILE_TEST_IS_DIR)) {
            g_autoptr(GDir) d = g_dir_open(argv[i], 0, NULL);
            const char *name;

            while ((name = g_dir_read_name(d))) {
                g_autofree char *p = g_build_filename(argv[i], name, NULL);

                replay_file(p);
                n++;
            }
        } else {
            replay_file(argv[i]);
            n++;
        }
    }
    if (argc == 1) {
        GRand *rand = g_rand_new_with_seed(1);
        uint8_t input[2 * MAX_OPS + 3];

        for (n = 0; n < 300; n++) {
            size_t len = g_rand_int_range(rand, 3, sizeof(input));

            for (i = 0; i < len; i++) {
                input[i] = g_rand_int_range(rand, 0, 256);
            }
            LLVMFuzzerTestOneInput(input, len);
        }
        g_rand_free(rand);
    }
    printf("1..1\nok 1 - replayed %d inputs\n", n);
    return n ? 0 : 1;
}
#endif
