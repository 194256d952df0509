/*
 * Output file that keeps numbered generations and bounds their size
 *
 * Copyright (c) 2026 The QEMU console log contributors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/error-report.h"
#include "chardev/rotating-file.h"

/* After a failed rotation, write on to the current file this long. */
#define ROTATE_RETRY_US         (1 * G_USEC_PER_SEC)
/* At most one warning per file this often. */
#define WARN_INTERVAL_US        (10 * G_USEC_PER_SEC)

struct RotatingFile {
    char *path;
    int generations;
    uint64_t max_size;
    char **names;               /* PATH.0 ... PATH.(generations - 1) */
    char *new_name;             /* where the next generation is created */
    bool new_name_may_exist;    /* left by a crash or a failed rotation */
    const char *generations_opt;

    int fd;
    uint64_t size;              /* bytes in the current file */
    bool at_line_start;         /* the last byte written ended a line */

    int64_t rotate_retry_at;    /* monotonic time in us; 0: not failing */
    int64_t quiet_until;
    unsigned warnings_suppressed;

    RotatingFileNotify *notify;
    void *opaque;
};

static char *generation_name(const char *path, int k)
{
    return g_strdup_printf("%s.%d", path, k);
}

static char *new_generation_name(const char *path)
{
    return g_strdup_printf("%s.new", path);
}

#ifndef _WIN32
/* Rotation renames, so nothing but a regular file may be in its way. */
static bool check_rotation_target(const RotatingFileOptions *opts,
                                  const char *name, bool is_path,
                                  Error **errp)
{
    struct stat st;

    if (lstat(name, &st) < 0) {
        if (errno == ENOENT) {
            return true;
        }
        error_setg_errno(errp, errno, "%s: cannot examine '%s'",
                         opts->generations_opt, name);
        return false;
    }
    if (S_ISREG(st.st_mode)) {
        return true;
    }
    if (S_ISLNK(st.st_mode) && !is_path) {
        /* Renamed or removed like a file; never opened. */
        return true;
    }
    error_setg(errp, "%s: '%s' is %s; rotation needs a regular file there",
               opts->generations_opt, name,
               S_ISDIR(st.st_mode) ? "a directory" :
               S_ISLNK(st.st_mode) ? "a symbolic link" :
               "not a regular file");
    return false;
}
#endif

bool rotating_file_check(const RotatingFileOptions *opts, Error **errp)
{
    const char *gen_opt = opts->generations_opt;

    if (opts->generations < 0 ||
        opts->generations > ROTATING_FILE_MAX_GENERATIONS) {
        error_setg(errp, "%s=%" PRId64 " for '%s' is out of range: "
                   "it must be between 0 and %d", gen_opt, opts->generations,
                   opts->path, ROTATING_FILE_MAX_GENERATIONS);
        return false;
    }
    if (opts->max_size && !opts->generations) {
        error_setg(errp, "%s for '%s' requires %s=N with N >= 1",
                   opts->max_size_opt, opts->path, gen_opt);
        return false;
    }
    if (opts->max_size && opts->max_size < ROTATING_FILE_MIN_SIZE) {
        error_setg(errp, "%s=%" PRIu64 " for '%s' is too small: "
                   "the minimum is %d bytes", opts->max_size_opt,
                   opts->max_size, opts->path, ROTATING_FILE_MIN_SIZE);
        return false;
    }
    if (!opts->generations) {
        return true;
    }
#ifdef _WIN32
    error_setg(errp, "%s is not supported on Windows hosts", gen_opt);
    return false;
#else
    g_autofree char *dir = g_path_get_dirname(opts->path);
    g_autofree char *oldest = generation_name(opts->path,
                                              opts->generations - 1);
    g_autofree char *new_name = new_generation_name(opts->path);
    struct stat st;
    int k;

    if (g_str_has_prefix(opts->path, "/dev/fdset/")) {
        error_setg(errp, "%s cannot be used with '%s': a file descriptor "
                   "set cannot be renamed", gen_opt, opts->path);
        return false;
    }
    if (strlen(oldest) >= PATH_MAX || strlen(new_name) >= PATH_MAX) {
        error_setg(errp, "%s: '%s' is too long: the names of its "
                   "generations would exceed PATH_MAX (%d)", gen_opt,
                   opts->path, PATH_MAX);
        return false;
    }
    if (stat(dir, &st) < 0) {
        error_setg_errno(errp, errno, "%s: directory '%s' of '%s'",
                         gen_opt, dir, opts->path);
        return false;
    }
    if (!S_ISDIR(st.st_mode)) {
        error_setg(errp, "%s: '%s' is not a directory", gen_opt, dir);
        return false;
    }
    if (access(dir, W_OK | X_OK) < 0) {
        error_setg_errno(errp, errno, "%s needs to create and rename files "
                         "in '%s'", gen_opt, dir);
        return false;
    }
    if (!check_rotation_target(opts, opts->path, true, errp) ||
        !check_rotation_target(opts, new_name, false, errp)) {
        return false;
    }
    for (k = 0; k < opts->generations; k++) {
        g_autofree char *name = generation_name(opts->path, k);

        if (!check_rotation_target(opts, name, false, errp)) {
            return false;
        }
    }
    return true;
#endif
}

static void rotating_file_warn(RotatingFile *rf, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);

static void rotating_file_warn(RotatingFile *rf, const char *fmt, ...)
{
    int64_t now = g_get_monotonic_time();
    g_autofree char *msg = NULL;
    va_list ap;

    if (now < rf->quiet_until) {
        rf->warnings_suppressed++;
        return;
    }
    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (rf->warnings_suppressed) {
        warn_report("%s (%u similar warnings suppressed)", msg,
                    rf->warnings_suppressed);
    } else {
        warn_report("%s", msg);
    }
    rf->warnings_suppressed = 0;
    rf->quiet_until = now + WARN_INTERVAL_US;
}

#ifdef O_PATH
static void close_in_background(gpointer data, gpointer unused)
{
    close(GPOINTER_TO_INT(data) - 1);
}

/*
 * Freeing the blocks of a large file takes long enough to stall the guest
 * (hundreds of microseconds for a megabyte): hold the oldest generation
 * open while it is unlinked, and drop the last reference in a thread.
 * O_PATH opens nothing that could react to being opened.
 */
static void hold_while_unlinking(const char *name, int *held)
{
    *held = open(name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
}

static void release_in_background(int held)
{
    static GThreadPool *closer;

    if (held < 0) {
        return;
    }
    if (g_once_init_enter(&closer)) {
        g_once_init_leave(&closer, g_thread_pool_new(close_in_background,
                                                     NULL, 1, false, NULL));
    }
    g_thread_pool_push(closer, GINT_TO_POINTER(held + 1), NULL);
}
#else
static void hold_while_unlinking(const char *name, int *held)
{
    *held = -1;
}

static void release_in_background(int held)
{
}
#endif

static bool rename_if_present(const char *from, const char *to, Error **errp)
{
    if (rename(from, to) < 0 && errno != ENOENT) {
        error_setg_errno(errp, errno, "cannot rename '%s' to '%s'", from, to);
        return false;
    }
    return true;
}

/*
 * Create the next generation beside PATH, shift PATH.k to PATH.(k+1) and
 * PATH to PATH.0, then move the new file to PATH.  Creating it first means
 * a failure leaves the current file in place; O_EXCL | O_NOFOLLOW and the
 * final rename mean nothing is ever written through a symlink planted at
 * PATH or PATH.k.
 */
static bool rotating_file_shift(RotatingFile *rf, RotatingFileReason reason,
                                Error **errp)
{
#ifdef _WIN32
    g_assert_not_reached();
#else
    int last = rf->generations - 1;
    bool have_mode;
    struct stat st;
    int new_fd, held = -1;
    int k;

    have_mode = rf->fd >= 0 ? fstat(rf->fd, &st) == 0
                            : lstat(rf->path, &st) == 0;
    if (rf->new_name_may_exist &&
        unlink(rf->new_name) < 0 && errno != ENOENT) {
        error_setg_errno(errp, errno, "cannot remove '%s'", rf->new_name);
        goto fail;
    }
    rf->new_name_may_exist = true;
    new_fd = qemu_create(rf->new_name,
                         O_WRONLY | O_EXCL | O_NOFOLLOW | O_APPEND,
                         have_mode ? st.st_mode & 07777 : 0666, errp);
    if (new_fd < 0) {
        goto fail;
    }
    if (have_mode) {
        /*
         * Undo the umask so the mode is the old file's.  Should this fail,
         * the mode is only stricter.
         */
        (void)fchmod(new_fd, st.st_mode & 07777);
    }

    hold_while_unlinking(rf->names[last], &held);
    if (unlink(rf->names[last]) < 0 && errno != ENOENT) {
        error_setg_errno(errp, errno, "cannot remove '%s'", rf->names[last]);
        goto fail_new;
    }
    for (k = last - 1; k >= 0; k--) {
        if (!rename_if_present(rf->names[k], rf->names[k + 1], errp)) {
            goto fail_new;
        }
    }
    if (!rename_if_present(rf->path, rf->names[0], errp)) {
        goto fail_new;
    }
    if (rename(rf->new_name, rf->path) < 0) {
        error_setg_errno(errp, errno, "cannot rename '%s' to '%s'",
                         rf->new_name, rf->path);
        /* Carry on in the current file, under its name again. */
        (void)rename(rf->names[0], rf->path);
        goto fail_new;
    }

    if (rf->fd >= 0) {
        qemu_close(rf->fd);
    }
    rf->fd = new_fd;
    rf->size = 0;
    rf->rotate_retry_at = 0;
    rf->new_name_may_exist = false;
    release_in_background(held);
    if (rf->notify) {
        rf->notify(rf->opaque, rf->path, reason);
    }
    return true;

fail_new:
    release_in_background(held);
    qemu_close(new_fd);
    unlink(rf->new_name);
fail:
    rf->rotate_retry_at = g_get_monotonic_time() + ROTATE_RETRY_US;
    return false;
#endif
}

static bool path_has_data(const char *path)
{
#ifdef _WIN32
    return false;
#else
    struct stat st;

    return lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
#endif
}

static bool rotating_file_open_path(RotatingFile *rf, int flags, mode_t mode,
                                    Error **errp)
{
    struct stat st;
    int fd;

    fd = qemu_create(rf->path, flags, mode, errp);
    if (fd < 0) {
        return false;
    }
#ifndef _WIN32
    if (!g_unix_set_fd_nonblocking(fd, true, NULL)) {
        error_setg_errno(errp, errno, "cannot make '%s' non-blocking",
                         rf->path);
        qemu_close(fd);
        return false;
    }
#endif
    if (rf->fd >= 0) {
        qemu_close(rf->fd);
    }
    rf->fd = fd;
    rf->size = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? st.st_size : 0;
    return true;
}

RotatingFile *rotating_file_open(const RotatingFileOptions *opts,
                                 RotatingFileNotify *notify, void *opaque,
                                 Error **errp)
{
    g_autoptr(RotatingFile) rf = NULL;
    int flags = O_WRONLY | O_BINARY;
    int k;

    if (!rotating_file_check(opts, errp)) {
        return NULL;
    }

    rf = g_new0(RotatingFile, 1);
    rf->fd = -1;
    rf->at_line_start = true;
    rf->path = g_strdup(opts->path);
    rf->generations = opts->generations;
    rf->max_size = opts->max_size;
    rf->generations_opt = opts->generations_opt;
    rf->notify = notify;
    rf->opaque = opaque;
    rf->names = g_new0(char *, rf->generations + 1);
    for (k = 0; k < rf->generations; k++) {
        rf->names[k] = generation_name(rf->path, k);
    }
    rf->new_name = new_generation_name(rf->path);
    rf->new_name_may_exist = true;

    if (!rf->generations) {
        /* A plain file, opened as QEMU always did. */
        flags |= opts->append ? O_APPEND : O_TRUNC;
    } else if (opts->append || opts->take_over || !path_has_data(rf->path)) {
        flags |= O_APPEND | O_NOFOLLOW;
    } else {
        if (!rotating_file_shift(rf, ROTATING_FILE_REASON_START, errp)) {
            return NULL;
        }
        return g_steal_pointer(&rf);
    }
    if (!rotating_file_open_path(rf, flags, 0666, errp)) {
        return NULL;
    }
    return g_steal_pointer(&rf);
}

void rotating_file_close(RotatingFile *rf)
{
    if (!rf) {
        return;
    }
    if (rf->fd >= 0) {
        qemu_close(rf->fd);
    }
    g_strfreev(rf->names);
    g_free(rf->new_name);
    g_free(rf->path);
    g_free(rf);
}

/*
 * How much of @buf goes to the current file.  Rotate first if the file is
 * full, or if a line would start in it with less room left than
 * ROTATING_FILE_LINE_RESERVE: then no line shorter than that is ever split.
 * Cut the write where a line would start too late, or where the file is
 * full (only lines longer than the reserve get there).  A failed rotation
 * is not retried for a while; meanwhile the file grows beyond the limit
 * rather than lose output.
 */
static size_t rotating_file_fit(RotatingFile *rf, const char *buf, size_t len)
{
    uint64_t last_line_start = rf->max_size - ROTATING_FILE_LINE_RESERVE;
    uint64_t room, late;
    const char *newline;
    Error *err = NULL;

    if (rf->size >= rf->max_size ||
        (rf->at_line_start && rf->size > last_line_start)) {
        if (rf->rotate_retry_at &&
            g_get_monotonic_time() < rf->rotate_retry_at) {
            return len;
        }
        if (!rotating_file_shift(rf, ROTATING_FILE_REASON_SIZE, &err)) {
            rotating_file_warn(rf, "%s: %s; writing on to '%s'",
                               rf->generations_opt, error_get_pretty(err),
                               rf->path);
            error_free(err);
            return len;
        }
    }
    room = rf->max_size - rf->size;

    /* A newline at buf[late] or after starts a line too late for this file */
    late = last_line_start > rf->size ? last_line_start - rf->size : 0;
    if (late < MIN(len, room)) {
        newline = memchr(buf + late, '\n', MIN(len, room) - late);
        if (newline) {
            return newline - buf + 1;
        }
    }
    return MIN(len, room);
}

ssize_t rotating_file_write(RotatingFile *rf, const void *buf, size_t len)
{
    const char *data = buf;
    size_t done = 0;

    while (done < len) {
        size_t chunk = len - done;
        ssize_t ret;

        if (rf->max_size) {
            chunk = rotating_file_fit(rf, data + done, chunk);
        }
        ret = RETRY_ON_EINTR(write(rf->fd, data + done, chunk));
        if (ret < 0) {
            int err = errno;

            if (err != EAGAIN) {
                rotating_file_warn(rf, "cannot write to '%s': %s",
                                   rf->path, strerror(err));
            }
            if (done == 0) {
                errno = err;
                return -1;
            }
            break;
        }
        if (ret == 0) {
            break;
        }
        done += ret;
        rf->size += ret;
        rf->at_line_start = data[done - 1] == '\n';
    }
    return done;
}

bool rotating_file_rotate(RotatingFile *rf, Error **errp)
{
    if (!rf->generations) {
        error_setg(errp, "'%s' keeps no generations", rf->path);
        return false;
    }
    return rotating_file_shift(rf, ROTATING_FILE_REASON_COMMAND, errp);
}

bool rotating_file_reopen(RotatingFile *rf, Error **errp)
{
    int flags = O_WRONLY | O_BINARY | O_APPEND;
    mode_t mode = 0666;
    struct stat st;

    if (rf->generations) {
        flags |= O_NOFOLLOW;
    }
    /* If PATH was moved away, the new one gets the mode of the old. */
    if (fstat(rf->fd, &st) == 0 && S_ISREG(st.st_mode)) {
        mode = st.st_mode & 07777;
    }
    return rotating_file_open_path(rf, flags, mode, errp);
}

bool rotating_file_has_generations(const RotatingFile *rf)
{
    return rf->generations > 0;
}

int rotating_file_fd(const RotatingFile *rf)
{
    return rf->fd;
}
