/*
 * Output file that keeps numbered generations and bounds their size
 *
 * Copyright (c) 2026 The QEMU console log contributors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "chardev/rotating-file.h"
#ifndef _WIN32
#include "system/os-posix.h"
#endif

/* Windows hosts have no rotation, hence no symlinks to move aside. */
#ifndef O_NOFOLLOW
#define O_NOFOLLOW 0
#endif

/* After a failed rotation, write on to the current file this long. */
#define ROTATE_RETRY_US         (1 * G_USEC_PER_SEC)
/* At most one failure report per file this often. */
#define REPORT_INTERVAL_US      (10 * G_USEC_PER_SEC)

struct RotatingFile {
    char *path;                 /* absolute: for messages and events */
    char *given_path;           /* as given, made absolute: opened by name */
    bool nonblocking;
    int generations;
    uint64_t max_size;
    const char *generations_opt;

    /*
     * PATH's directory, opened with PATH, and the names in it: PATH's
     * last component, PATH.0 ... PATH.(generations - 1) and PATH.new,
     * where the next generation is created.  dir_fd is -1 where PATH
     * is opened by its name only (a /dev/fdset/ path, Windows).
     */
    int dir_fd;
    char *base;
    char **names;
    char *new_name;

    int fd;
    uint64_t size;              /* bytes in the current file */
    bool at_line_start;         /* the last byte written ended a line */
    /*
     * The current file holds QEMU's markers and nothing else: as good as
     * empty, it is not worth a generation.
     */
    bool only_markers;

    /* Time stamps and markers, see RotatingFileOptions */
    bool timestamps;
    char *marker;
    char stamp[ROTATING_FILE_STAMP_LEN + 1];    /* the latest one */
    time_t stamp_secs;          /* the second it was formatted for */
    /* The end of a stamp a short write cut, to write before the line */
    char cut_stamp[ROTATING_FILE_STAMP_LEN];
    size_t cut_stamp_left;
    char *joined;               /* stamps and lines, to write in one go */
    size_t joined_size;
    struct iovec *pieces;       /* what of it is stamps, what lines */
    int pieces_size;
    /* No line shorter than this is split between two files */
    uint64_t line_reserve;
    /*
     * Through a pipe (to virtlogd, say) no writer sees how the file
     * ends: each one leaves its last line ended, see look_at_end().
     */
    bool end_unseen;

    int64_t rotate_retry_at;    /* monotonic time in us; 0: not failing */
    int64_t quiet_until;
    unsigned reports_suppressed;

    const RotatingFileOps *ops;
    void *opaque;
};

static bool is_fdset_path(const char *path)
{
    return g_str_has_prefix(path, "/dev/fdset/");
}

static void rotating_file_failed(RotatingFile *rf, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);

static void rotating_file_failed(RotatingFile *rf, const char *fmt, ...)
{
    int64_t now = g_get_monotonic_time();
    g_autofree char *msg = NULL;
    g_autofree char *full = NULL;
    va_list ap;

    if (now < rf->quiet_until) {
        rf->reports_suppressed++;
        return;
    }
    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (rf->reports_suppressed) {
        full = g_strdup_printf("%s (%u similar failures not reported)", msg,
                               rf->reports_suppressed);
    }
    rf->reports_suppressed = 0;
    rf->quiet_until = now + REPORT_INTERVAL_US;
    if (rf->ops && rf->ops->failed) {
        rf->ops->failed(rf->opaque, full ? full : msg);
    }
}

/*
 * Format the wall-clock time now into rf->stamp: the date and time only
 * when the second changed, the milliseconds always.
 */
static void format_stamp(RotatingFile *rf)
{
    int64_t now = g_get_real_time();
    time_t secs = now / G_USEC_PER_SEC;
    int ms = now / 1000 % 1000;
    struct tm tm;

    if (secs != rf->stamp_secs || !rf->stamp[0]) {
        gmtime_r(&secs, &tm);
        strftime(rf->stamp, sizeof(rf->stamp), "%Y-%m-%dT%H:%M:%S.", &tm);
        rf->stamp_secs = secs;
    }
    rf->stamp[20] = '0' + ms / 100;
    rf->stamp[21] = '0' + ms / 10 % 10;
    rf->stamp[22] = '0' + ms % 10;
    rf->stamp[23] = 'Z';
    rf->stamp[24] = ' ';
    rf->stamp[25] = '\0';
}

/* Unless the file is empty, or a line just ended, end the line. */
static void start_new_line(RotatingFile *rf)
{
    if (!rf->at_line_start && rf->size &&
        RETRY_ON_EINTR(write(rf->fd, "\n", 1)) == 1) {
        rf->size++;
        rf->at_line_start = true;
    }
}

static void rotate_for_marker(RotatingFile *rf);

/* Finish a stamp that a short write cut, rather than leave a fragment */
static void finish_cut_stamp(RotatingFile *rf)
{
    if (rf->cut_stamp_left &&
        RETRY_ON_EINTR(write(rf->fd, rf->cut_stamp + ROTATING_FILE_STAMP_LEN -
                             rf->cut_stamp_left, rf->cut_stamp_left)) ==
        rf->cut_stamp_left) {
        rf->size += rf->cut_stamp_left;
    }
    rf->cut_stamp_left = 0;
}

/*
 * Before going on in another file: a line that goes on there gets a
 * stamp of its own.
 */
static void leave_file(RotatingFile *rf)
{
    finish_cut_stamp(rf);
    /* The next writer through a pipe starts on a new line */
    if (rf->end_unseen && !rf->at_line_start &&
        RETRY_ON_EINTR(write(rf->fd, "\n", 1)) == 1) {
        rf->size++;
    }
    if (rf->timestamps) {
        rf->at_line_start = true;
    }
}

/*
 * QEMU's own line, stamped: what happened to the file and who wrote it.
 * It starts a line, and the guest's next byte starts another one.
 */
static void write_marker(RotatingFile *rf, const char *what)
{
    g_autofree char *line = NULL;
    ssize_t ret;

    if (!rf->marker) {
        return;
    }
    finish_cut_stamp(rf);
    start_new_line(rf);
    format_stamp(rf);
    line = g_strdup_printf("%s" ROTATING_FILE_MARKER_PREFIX "%s: %s ====\n",
                           rf->stamp, rf->marker, what);
    /* Markers count towards the size limit too */
    if (rf->max_size && rf->size + strlen(line) > rf->max_size) {
        rotate_for_marker(rf);
    }
    ret = RETRY_ON_EINTR(write(rf->fd, line, strlen(line)));
    if (ret > 0) {
        rf->size += ret;
        rf->at_line_start = ret == strlen(line);
    }
}

#ifndef _WIN32
/*
 * O_PATH opens a directory for *at() calls without needing permission to
 * read it, and without opening anything that could react to being opened.
 */
#ifdef O_PATH
#define DIR_OPEN_FLAGS (O_PATH | O_DIRECTORY | O_CLOEXEC)
#else
#define DIR_OPEN_FLAGS (O_RDONLY | O_DIRECTORY | O_CLOEXEC)
#endif

static int open_dir_of(const char *path, const char *opt, Error **errp)
{
    g_autofree char *dir = g_path_get_dirname(path);
    int fd = RETRY_ON_EINTR(open(dir, DIR_OPEN_FLAGS));

    if (fd < 0) {
        if (errno == ENOTDIR) {
            error_setg(errp, "%s: '%s' is not a directory", opt, dir);
        } else {
            error_setg_errno(errp, errno, "%s: directory '%s' of '%s'",
                             opt, dir, path);
        }
    }
    return fd;
}

/* "PATH.k" for messages, from the name relative to PATH's directory. */
static char *display_name(const char *path, const char *name)
{
    g_autofree char *dir = g_path_get_dirname(path);

    return g_build_filename(dir, name, NULL);
}

/* Rotation renames, so nothing but a regular file may be in its way. */
static bool check_rotation_target(const RotatingFileOptions *opts,
                                  int dir_fd, const char *name, bool is_path,
                                  Error **errp)
{
    g_autofree char *shown = display_name(opts->path, name);
    struct stat st;

    if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT) {
            return true;
        }
        error_setg_errno(errp, errno, "%s: cannot examine '%s'",
                         opts->generations_opt, shown);
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
               opts->generations_opt, shown,
               S_ISDIR(st.st_mode) ? "a directory" :
               S_ISLNK(st.st_mode) ? "a symbolic link" :
               "not a regular file");
    return false;
}

/*
 * QEMU opens its files as the user it starts as; with -run-with user= it
 * rotates them as another user.  Rotation needs that user to create and
 * rename files in PATH's directory: check it now rather than start in a
 * state where every rotation fails.
 */
static bool check_runas_user(const RotatingFileOptions *opts, int dir_fd,
                             Error **errp)
{
    g_autofree char *dir = g_path_get_dirname(opts->path);
    g_autofree char *user = NULL;
    struct stat st;
    uid_t uid;
    int err;

    err = os_runas_access(dir_fd, W_OK | X_OK, &uid, &user);
    if (err) {
        error_setg_errno(errp, err, "%s needs to create and rename files "
                         "in '%s', which -run-with user=%s may not",
                         opts->generations_opt, dir, user);
        return false;
    }
    /*
     * In a sticky directory, only a file's owner renames it, and QEMU
     * creates PATH before it becomes that user.
     */
    if (user && uid && fstat(dir_fd, &st) == 0 && (st.st_mode & S_ISVTX) &&
        st.st_uid != uid) {
        error_setg(errp, "%s needs to rename files in '%s', which "
                   "-run-with user=%s may not: the directory is sticky "
                   "(mode %04o) and not that user's",
                   opts->generations_opt, dir, user,
                   (unsigned)(st.st_mode & 07777));
        return false;
    }
    return true;
}

/* The checks that need PATH's directory, opened as @dir_fd. */
static bool check_in_dir(const RotatingFileOptions *opts, int dir_fd,
                         Error **errp)
{
    const char *gen_opt = opts->generations_opt;
    g_autofree char *base = g_path_get_basename(opts->path);
    g_autofree char *new_name = g_strdup_printf("%s.new", base);
    int k;

    if (faccessat(dir_fd, ".", W_OK | X_OK, 0) < 0) {
        g_autofree char *dir = g_path_get_dirname(opts->path);

        error_setg_errno(errp, errno, "%s needs to create and rename files "
                         "in '%s'", gen_opt, dir);
        return false;
    }
    if (!check_runas_user(opts, dir_fd, errp)) {
        return false;
    }
    if (!check_rotation_target(opts, dir_fd, base, true, errp) ||
        !check_rotation_target(opts, dir_fd, new_name, false, errp)) {
        return false;
    }
    for (k = 0; k < opts->generations; k++) {
        g_autofree char *name = g_strdup_printf("%s.%d", base, k);

        if (!check_rotation_target(opts, dir_fd, name, false, errp)) {
            return false;
        }
    }
    return true;
}
#endif

/* The checks that need no file system. */
static bool check_values(const RotatingFileOptions *opts, Error **errp)
{
    const char *gen_opt = opts->generations_opt;
#ifndef _WIN32
    g_autofree char *oldest = NULL;
    g_autofree char *base = NULL;
    size_t longest;
#endif

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
    if (is_fdset_path(opts->path)) {
        /* Management applications pass descriptors: say what works. */
        error_setg(errp, "%s cannot be used with '%s': a file descriptor "
                   "cannot be renamed; give QEMU the file's path instead "
                   "(with libvirt: -set chardev.ID.%s=PATH -set "
                   "chardev.ID.%s=off, see QEMU's documentation on keeping "
                   "guest console logs)", gen_opt, opts->path,
                   opts->path_opt, opts->append_opt);
        return false;
    }
    /* The longest names rotation uses: PATH.new and PATH.(N-1) */
    oldest = g_strdup_printf("%s.%" PRId64, opts->path, opts->generations - 1);
    longest = MAX(strlen(oldest), strlen(opts->path) + strlen(".new"));
    if (longest >= PATH_MAX) {
        error_setg(errp, "%s: '%s' is too long: the names of its "
                   "generations would exceed PATH_MAX (%d)", gen_opt,
                   opts->path, PATH_MAX);
        return false;
    }
    base = g_path_get_basename(opts->path);
    if (strlen(base) + longest - strlen(opts->path) > NAME_MAX) {
        error_setg(errp, "%s: '%s' is too long: the names of its "
                   "generations would exceed NAME_MAX (%d)", gen_opt,
                   opts->path, NAME_MAX);
        return false;
    }
    return true;
#endif
}

bool rotating_file_check(const RotatingFileOptions *opts, Error **errp)
{
    if (!check_values(opts, errp)) {
        return false;
    }
#ifndef _WIN32
    if (opts->generations) {
        int dir_fd = open_dir_of(opts->path, opts->generations_opt, errp);
        bool ok;

        if (dir_fd < 0) {
            return false;
        }
        ok = check_in_dir(opts, dir_fd, errp);
        close(dir_fd);
        return ok;
    }
    if (!is_fdset_path(opts->path)) {
        /*
         * A plain file fails to open, as QEMU always said, without a
         * directory; say it before another file of the chardev rotates.
         */
        g_autofree char *dir = g_path_get_dirname(opts->path);
        struct stat st;

        if (stat(dir, &st) < 0) {
            error_setg_file_open(errp, errno, opts->path);
            return false;
        }
        if (!S_ISDIR(st.st_mode)) {
            error_setg_file_open(errp, ENOTDIR, opts->path);
            return false;
        }
    }
#endif
    return true;
}

#ifndef _WIN32
#ifdef O_PATH
static void close_in_background(gpointer data, gpointer unused)
{
    close(GPOINTER_TO_INT(data) - 1);
}

/*
 * Freeing the blocks of a large file takes long enough to stall the guest
 * (hundreds of microseconds for a megabyte): hold the oldest generation
 * open while it is replaced, and drop the last reference in a thread.
 */
static int hold_while_replacing(int dir_fd, const char *name)
{
    return openat(dir_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
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
static int hold_while_replacing(int dir_fd, const char *name)
{
    return -1;
}

static void release_in_background(int held)
{
}
#endif

static bool rename_in_dir(RotatingFile *rf, const char *from, const char *to,
                          bool missing_ok, Error **errp)
{
    if (renameat(rf->dir_fd, from, rf->dir_fd, to) < 0 &&
        !(missing_ok && errno == ENOENT)) {
        g_autofree char *shown_from = display_name(rf->path, from);
        g_autofree char *shown_to = display_name(rf->path, to);

        error_setg_errno(errp, errno, "cannot rename '%s' to '%s'",
                         shown_from, shown_to);
        return false;
    }
    return true;
}

/*
 * Give @fd, a file just created to succeed @st, its permission bits and,
 * where this process may, its group.  Should either fail, the new file
 * is only less accessible.
 */
static void inherit_access(int fd, const struct stat *st)
{
    if (fchown(fd, -1, st->st_gid) < 0) {
        /* Not a member of that group: the file keeps ours. */
    }
    /* Undo the umask; never copy set-user-ID, set-group-ID or sticky. */
    if (fchmod(fd, st->st_mode & 0777) < 0) {
        /* The mode from the umask stays, which is stricter. */
    }
}

/* The first of PATH.0 ... PATH.(generations - 2) that does not exist. */
static int first_gap(RotatingFile *rf)
{
    struct stat st;
    int k;

    for (k = 0; k < rf->generations - 1; k++) {
        if (fstatat(rf->dir_fd, rf->names[k], &st, AT_SYMLINK_NOFOLLOW) < 0 &&
            errno == ENOENT) {
            break;
        }
    }
    return k;
}

static const char *const marker_reasons[] = {
    [ROTATING_FILE_REASON_START] = "opened, new generation (start)",
    [ROTATING_FILE_REASON_SIZE] = "new generation (size)",
    [ROTATING_FILE_REASON_COMMAND] = "new generation (command)",
};

/*
 * Create the next generation as PATH.new, rename PATH.k to PATH.(k+1)
 * from the first gap down and PATH to PATH.0, then PATH.new to PATH.
 * Creating it first means a failure leaves the current file in place;
 * O_EXCL | O_NOFOLLOW and the final rename mean nothing is ever written
 * through a symlink planted at PATH, PATH.new or PATH.k.
 */
static bool rotating_file_shift(RotatingFile *rf, RotatingFileReason reason,
                                Error **errp)
{
    int oldest = rf->generations - 1;
    bool have_stat;
    struct stat st;
    int new_fd, held = -1;
    int gap, k;

    /* QEMU's markers alone are not worth a generation: start over */
    if (rf->only_markers && rf->fd >= 0 && ftruncate(rf->fd, 0) == 0) {
        rf->size = 0;
        rf->at_line_start = true;
        rf->rotate_retry_at = 0;
        write_marker(rf, marker_reasons[reason]);
        return true;
    }

    have_stat = rf->fd >= 0
        ? fstat(rf->fd, &st) == 0
        : fstatat(rf->dir_fd, rf->base, &st, AT_SYMLINK_NOFOLLOW) == 0;

    /* Whatever is at PATH.new (left by a crash, or planted) goes. */
    if (unlinkat(rf->dir_fd, rf->new_name, 0) < 0 && errno != ENOENT) {
        g_autofree char *shown = display_name(rf->path, rf->new_name);

        error_setg_errno(errp, errno, "cannot remove '%s'", shown);
        goto fail;
    }
    new_fd = RETRY_ON_EINTR(openat(rf->dir_fd, rf->new_name,
                                   O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
                                   O_APPEND | O_CLOEXEC, 0666));
    if (new_fd < 0) {
        g_autofree char *shown = display_name(rf->path, rf->new_name);

        error_setg_errno(errp, errno, "Could not create '%s'", shown);
        goto fail;
    }
    if (have_stat) {
        inherit_access(new_fd, &st);
    }
    if (rf->nonblocking) {
        /* (Writes to a regular file do not block anyway) */
        g_unix_set_fd_nonblocking(new_fd, true, NULL);
    }

    gap = first_gap(rf);
    if (gap == oldest) {
        held = hold_while_replacing(rf->dir_fd, rf->names[oldest]);
    }
    for (k = gap - 1; k >= 0; k--) {
        if (!rename_in_dir(rf, rf->names[k], rf->names[k + 1], true, errp)) {
            goto fail_new;
        }
    }
    if (!rename_in_dir(rf, rf->base, rf->names[0], true, errp)) {
        goto fail_new;
    }
    if (!rename_in_dir(rf, rf->new_name, rf->base, false, errp)) {
        /* Carry on in the current file, under its name again. */
        (void)renameat(rf->dir_fd, rf->names[0], rf->dir_fd, rf->base);
        goto fail_new;
    }

    if (rf->fd >= 0) {
        leave_file(rf);
        qemu_close(rf->fd);
    }
    rf->fd = new_fd;
    rf->size = 0;
    rf->only_markers = true;
    rf->rotate_retry_at = 0;
    release_in_background(held);
    write_marker(rf, marker_reasons[reason]);
    if (rf->ops && rf->ops->rotated) {
        rf->ops->rotated(rf->opaque, rf->path, reason);
    }
    return true;

fail_new:
    release_in_background(held);
    qemu_close(new_fd);
    unlinkat(rf->dir_fd, rf->new_name, 0);
fail:
    rf->rotate_retry_at = g_get_monotonic_time() + ROTATE_RETRY_US;
    return false;
}

/* A line that write_marker() wrote */
static bool is_marker_line(const char *line, size_t len)
{
    const size_t prefix = ROTATING_FILE_STAMP_LEN +
                          strlen(ROTATING_FILE_MARKER_PREFIX);

    return len > prefix + 5 && line[4] == '-' && line[10] == 'T' &&
           line[23] == 'Z' && line[24] == ' ' &&
           !memcmp(line + ROTATING_FILE_STAMP_LEN,
                   ROTATING_FILE_MARKER_PREFIX,
                   strlen(ROTATING_FILE_MARKER_PREFIX)) &&
           !memcmp(line + len - 5, " ====", 5);
}

/*
 * Whether PATH holds anything worth a generation: not if it is empty or
 * holds only QEMU's markers (a start that failed after opening it, say).
 */
static bool path_has_data(RotatingFile *rf)
{
    g_autofree char *contents = NULL;
    struct stat st;
    const char *line, *end;
    ssize_t got;
    int fd;

    if (fstatat(rf->dir_fd, rf->base, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
        !S_ISREG(st.st_mode) || st.st_size == 0) {
        return false;
    }
    if (st.st_size > ROTATING_FILE_MARKERS_MAX) {
        return true;
    }
    fd = openat(rf->dir_fd, rf->base,
                O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        return true;
    }
    contents = g_malloc(st.st_size);
    got = pread(fd, contents, st.st_size, 0);
    close(fd);
    if (got != st.st_size) {
        return true;
    }
    for (line = contents; line < contents + got; line = end + 1) {
        end = memchr(line, '\n', contents + got - line);
        if (!end || !is_marker_line(line, end - line)) {
            return true;
        }
    }
    return false;
}
#else
static bool rotating_file_shift(RotatingFile *rf, RotatingFileReason reason,
                                Error **errp)
{
    g_assert_not_reached();
}

static bool path_has_data(RotatingFile *rf)
{
    return false;
}
#endif

/*
 * Where the current file, written by others before, ends: in the middle
 * of a line or not; only when stamps or markers need to know.  Through a
 * pipe (to libvirt's virtlogd, say) the end cannot be seen: the writer
 * before, if it stamped or marked, ended its last line when it closed
 * (rotating_file_close()), and so will this one.  Writing a line end here
 * instead would leave an empty line in the usual case, a clean end.
 */
static void look_at_end(RotatingFile *rf)
{
    struct stat st;
#ifndef _WIN32
    char last;
    int fd = -1;
#endif

    if (!rf->timestamps && !rf->marker) {
        return;
    }
    rf->end_unseen = fstat(rf->fd, &st) == 0 && !S_ISREG(st.st_mode);
    if (rf->end_unseen) {
        rf->at_line_start = true;
        return;
    }
    if (!rf->size) {
        rf->at_line_start = true;
        return;
    }
#ifdef CONFIG_LINUX
    {
        /* The file open for writing, whatever its name now */
        g_autofree char *self = g_strdup_printf("/proc/self/fd/%d", rf->fd);

        fd = open(self, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    }
#endif
#ifndef _WIN32
    if (fd < 0 && rf->dir_fd >= 0) {
        fd = openat(rf->dir_fd, rf->base, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    }
    if (fd >= 0) {
        if (pread(fd, &last, 1, rf->size - 1) == 1) {
            rf->at_line_start = last == '\n';
            close(fd);
            return;
        }
        close(fd);
    }
#endif
    /* Unreadable (no read permission, no /proc): unseen, as a pipe's */
    rf->end_unseen = true;
    rf->at_line_start = true;
}

/*
 * Open PATH with @flags: in its directory when it has one open, else by
 * its name.  With @inherit (POSIX), a file that this creates gets the
 * access of @inherit instead of the umask's.
 */
static int open_path(RotatingFile *rf, int flags, mode_t mode,
                     const struct stat *inherit, Error **errp)
{
#ifndef _WIN32
    int fd;

    if (rf->dir_fd >= 0) {
        fd = -1;
        if (inherit && (flags & O_CREAT)) {
            fd = RETRY_ON_EINTR(openat(rf->dir_fd, rf->base,
                                       flags | O_EXCL | O_CLOEXEC, mode));
            if (fd >= 0) {
                inherit_access(fd, inherit);
            }
        }
        if (fd < 0) {
            fd = RETRY_ON_EINTR(openat(rf->dir_fd, rf->base,
                                       flags | O_CLOEXEC, mode));
        }
        if (fd < 0) {
            error_setg_file_open(errp, errno, rf->path);
        }
        return fd;
    }
    /* (A /dev/fdset/ path creates nothing: its file is not ours to chmod) */
    if (inherit && (flags & O_CREAT) && !is_fdset_path(rf->given_path)) {
        fd = qemu_create(rf->given_path, (flags & ~O_CREAT) | O_EXCL, mode,
                         NULL);
        if (fd >= 0) {
            inherit_access(fd, inherit);
            return fd;
        }
    }
#endif
    return qemu_create(rf->given_path, flags & ~O_CREAT, mode, errp);
}

/* Make @fd, opened by open_path(), the current file. */
static bool use_fd(RotatingFile *rf, int fd, Error **errp)
{
    struct stat st;

#ifndef _WIN32
    if (rf->nonblocking && !g_unix_set_fd_nonblocking(fd, true, NULL)) {
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
                                 const RotatingFileOps *ops, void *opaque,
                                 Error **errp)
{
    g_autoptr(RotatingFile) rf = NULL;
    int flags = O_WRONLY | O_BINARY | O_CREAT;
    int fd, k;

    if (!check_values(opts, errp)) {
        return NULL;
    }

    rf = g_new0(RotatingFile, 1);
    rf->fd = -1;
    rf->dir_fd = -1;
    rf->at_line_start = true;
    /* Messages and events name the file, wherever QEMU goes later. */
    rf->path = is_fdset_path(opts->path) ? g_strdup(opts->path)
                                         : g_canonicalize_filename(opts->path,
                                                                   NULL);
    rf->generations = opts->generations;
    rf->max_size = opts->max_size;
    rf->generations_opt = opts->generations_opt;
    rf->timestamps = opts->timestamps;
    /* (A marker longer than a file could hold would rotate forever) */
    rf->marker = opts->marker ? g_strndup(opts->marker, 200) : NULL;
    rf->line_reserve = ROTATING_FILE_LINE_RESERVE +
                       (rf->timestamps ? ROTATING_FILE_STAMP_LEN : 0);
    rf->ops = ops;
    rf->opaque = opaque;
    /* Relative to the directory QEMU started in, whatever -daemonize does */
    if (g_path_is_absolute(opts->path) || is_fdset_path(opts->path)) {
        rf->given_path = g_strdup(opts->path);
    } else {
        g_autofree char *cwd = g_get_current_dir();

        rf->given_path = g_build_filename(cwd, opts->path, NULL);
    }
    rf->nonblocking = opts->nonblocking;
    rf->base = g_path_get_basename(opts->path);
    rf->names = g_new0(char *, rf->generations + 1);
    for (k = 0; k < rf->generations; k++) {
        rf->names[k] = g_strdup_printf("%s.%d", rf->base, k);
    }
    rf->new_name = g_strdup_printf("%s.new", rf->base);

#ifndef _WIN32
    if (rf->generations) {
        rf->dir_fd = open_dir_of(opts->path, rf->generations_opt, errp);
        if (rf->dir_fd < 0 || !check_in_dir(opts, rf->dir_fd, errp)) {
            return NULL;
        }
    }
    /*
     * A plain file is opened, and reopened, by its name, as QEMU always
     * did.  Its directory is not held open: after -run-with chroot= that
     * would be a way out of the new root.
     */
#endif

    if (!rf->generations) {
        /* A plain file, opened as QEMU always did. */
        flags |= opts->append ? O_APPEND : O_TRUNC;
        fd = qemu_create(opts->path, flags & ~O_CREAT, 0666, errp);
    } else if (!path_has_data(rf)) {
        /* Nothing worth a generation: go on after QEMU's markers, if any */
        rf->only_markers = true;
        fd = open_path(rf, flags | O_APPEND | O_NOFOLLOW, 0666, NULL, errp);
    } else if (opts->append || opts->take_over) {
        fd = open_path(rf, flags | O_APPEND | O_NOFOLLOW, 0666, NULL, errp);
    } else {
        Error *err = NULL;

        if (rotating_file_shift(rf, ROTATING_FILE_REASON_START, &err)) {
            return g_steal_pointer(&rf);
        }
        /* As at runtime: keep the guest's output, in the current file. */
        rotating_file_failed(rf, "%s: %s; appending to '%s'",
                             rf->generations_opt, error_get_pretty(err),
                             rf->path);
        error_free(err);
        fd = open_path(rf, flags | O_APPEND | O_NOFOLLOW, 0666, NULL, errp);
    }
    if (fd < 0 || !use_fd(rf, fd, errp)) {
        return NULL;
    }
    /*
     * A new writer starts on a new line; not so a destination of
     * migration, whose source may still be writing.
     */
    if (!opts->take_over) {
        look_at_end(rf);
        if (rf->marker) {
            write_marker(rf, "opened");
        } else if (rf->timestamps) {
            start_new_line(rf);
        }
    }
    return g_steal_pointer(&rf);
}

void rotating_file_close(RotatingFile *rf)
{
    if (!rf) {
        return;
    }
    if (rf->fd >= 0) {
        leave_file(rf);
        qemu_close(rf->fd);
    }
    if (rf->dir_fd >= 0) {
        close(rf->dir_fd);
    }
    g_strfreev(rf->names);
    g_free(rf->new_name);
    g_free(rf->marker);
    g_free(rf->joined);
    g_free(rf->pieces);
    g_free(rf->base);
    g_free(rf->given_path);
    g_free(rf->path);
    g_free(rf);
}

/*
 * Before writing at rf->size, @line_start saying whether a line starts
 * there: rotate first if the file is full, or if a line would start in
 * it with less room left than ROTATING_FILE_LINE_RESERVE (and a stamp),
 * so that no line shorter than that is ever split.  Returns whether the
 * size limit holds for what follows: a failed rotation is not retried
 * for a while, and meanwhile the file grows beyond the limit rather than
 * lose output.
 */
static bool rotate_if_due(RotatingFile *rf, bool line_start)
{
    Error *err = NULL;

    if (rf->size < rf->max_size &&
        !(line_start && rf->size > rf->max_size - rf->line_reserve)) {
        return true;
    }
    if (rf->rotate_retry_at && g_get_monotonic_time() < rf->rotate_retry_at) {
        return false;
    }
    if (!rotating_file_shift(rf, ROTATING_FILE_REASON_SIZE, &err)) {
        rotating_file_failed(rf, "%s: %s; writing on to '%s'",
                             rf->generations_opt, error_get_pretty(err),
                             rf->path);
        error_free(err);
        return false;
    }
    return true;
}

/* Before a marker that would not fit in the current file */
static void rotate_for_marker(RotatingFile *rf)
{
    Error *err = NULL;

    if (!rf->generations ||
        (rf->rotate_retry_at && g_get_monotonic_time() < rf->rotate_retry_at)) {
        return;
    }
    if (!rotating_file_shift(rf, ROTATING_FILE_REASON_SIZE, &err)) {
        rotating_file_failed(rf, "%s: %s; writing on to '%s'",
                             rf->generations_opt, error_get_pretty(err),
                             rf->path);
        error_free(err);
    }
}

/*
 * How much of @buf goes to the current file, without stamps: cut where a
 * line would start too late (see rotate_if_due()), or where the file is
 * full (only lines longer than the reserve get there).
 */
static size_t fit_plain(RotatingFile *rf, const char *buf, size_t len)
{
    uint64_t last_line_start = rf->max_size - rf->line_reserve;
    uint64_t room, late;
    const char *newline;

    if (!rotate_if_due(rf, rf->at_line_start)) {
        return len;
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

/* The pieces of one write: stamps and lines, in rf->pieces */
typedef struct Plan {
    RotatingFile *rf;
    struct iovec *iov;
    int n;
} Plan;

static void plan_init(Plan *p, RotatingFile *rf)
{
    p->rf = rf;
    p->iov = rf->pieces;
    p->n = 0;
}

static void plan_add(Plan *p, const void *base, size_t len)
{
    RotatingFile *rf = p->rf;

    if (p->n == rf->pieces_size) {
        rf->pieces_size = MAX(64, 2 * rf->pieces_size);
        rf->pieces = g_renew(struct iovec, rf->pieces, rf->pieces_size);
        p->iov = rf->pieces;
    }
    p->iov[p->n].iov_base = (void *)base;
    p->iov[p->n].iov_len = len;
    p->n++;
}

static bool is_stamp(RotatingFile *rf, const struct iovec *iov)
{
    const char *base = iov->iov_base;

    return (base >= rf->stamp && base < rf->stamp + sizeof(rf->stamp)) ||
           (base >= rf->cut_stamp && base < rf->cut_stamp +
                                             sizeof(rf->cut_stamp));
}

/*
 * Plan what of @buf goes to the current file with stamps: each line that
 * starts gets rf->stamp, which counts towards the size limit and is never
 * separated from its line.  Returns the bytes of @buf planned.
 */
static size_t plan_stamped(RotatingFile *rf, Plan *p, const char *buf,
                           size_t len)
{
    /* A stamp that a short write cut is finished before anything else. */
    bool limited = !rf->max_size || rf->cut_stamp_left ||
                   rotate_if_due(rf, rf->at_line_start);
    /* (A rotation may have ended a line with its marker) */
    bool line_start = rf->at_line_start && !rf->cut_stamp_left;
    bool stamped = false;
    uint64_t size = rf->size;
    size_t pos = 0;

    plan_init(p, rf);
    if (rf->cut_stamp_left) {
        plan_add(p, rf->cut_stamp + ROTATING_FILE_STAMP_LEN -
                    rf->cut_stamp_left, rf->cut_stamp_left);
        size += rf->cut_stamp_left;
    }
    while (pos < len) {
        const char *newline;
        size_t seg;

        if (line_start) {
            if (rf->max_size && limited && p->n &&
                size > rf->max_size - rf->line_reserve) {
                break;          /* rotate before this line */
            }
            if (rf->max_size && limited &&
                size + ROTATING_FILE_STAMP_LEN >= rf->max_size) {
                break;          /* (a file full of markers) */
            }
            /* All lines of one write came at the same time */
            if (!stamped) {
                format_stamp(rf);
                stamped = true;
            }
            plan_add(p, rf->stamp, ROTATING_FILE_STAMP_LEN);
            size += ROTATING_FILE_STAMP_LEN;
        }
        newline = memchr(buf + pos, '\n', len - pos);
        seg = newline ? newline - (buf + pos) + 1 : len - pos;
        if (rf->max_size && limited) {
            /* Only lines longer than the reserve get to the limit */
            seg = MIN(seg, size < rf->max_size ? rf->max_size - size : 0);
            if (!seg) {
                break;
            }
        }
        plan_add(p, buf + pos, seg);
        size += seg;
        pos += seg;
        line_start = buf[pos - 1] == '\n';
    }
    return pos;
}

/*
 * The bytes of plan @p in one piece, to write with one write(): for the
 * kernel, many short pieces of a writev() cost more than copying them.
 */
static const char *plan_bytes(RotatingFile *rf, const Plan *p, size_t *len)
{
    size_t total = 0;
    int i;

    if (p->n == 1) {
        *len = p->iov[0].iov_len;
        return p->iov[0].iov_base;
    }
    for (i = 0; i < p->n; i++) {
        total += p->iov[i].iov_len;
    }
    if (total > rf->joined_size) {
        rf->joined_size = MAX(total, 2 * rf->joined_size);
        rf->joined = g_realloc(rf->joined, rf->joined_size);
    }
    for (*len = 0, i = 0; i < p->n; i++) {
        memcpy(rf->joined + *len, p->iov[i].iov_base, p->iov[i].iov_len);
        *len += p->iov[i].iov_len;
    }
    return rf->joined;
}

/*
 * Account for @written bytes of plan @p: the file's size, the bytes of
 * @buf written (returned), where the last line stands, and a stamp that
 * the write cut, to finish before the line goes on.
 */
static size_t account(RotatingFile *rf, const Plan *p, size_t written,
                      size_t planned_bytes, size_t planned)
{
    const struct iovec *last = &p->iov[p->n - 1];
    size_t done = 0;
    int i;

    rf->size += written;
    if (written == planned_bytes) {
        /* All of it, as almost always: a plan ends with the guest's bytes */
        rf->cut_stamp_left = 0;
        rf->at_line_start = ((const char *)last->iov_base)[last->iov_len - 1]
                            == '\n';
        return planned;
    }
    for (i = 0; i < p->n && written; i++) {
        size_t part = MIN(written, p->iov[i].iov_len);
        const char *base = p->iov[i].iov_base;

        written -= part;
        if (is_stamp(rf, &p->iov[i])) {
            if (part < p->iov[i].iov_len) {
                memmove(rf->cut_stamp + ROTATING_FILE_STAMP_LEN -
                        (p->iov[i].iov_len - part), base + part,
                        p->iov[i].iov_len - part);
            }
            rf->cut_stamp_left = p->iov[i].iov_len - part;
            rf->at_line_start = false;
        } else {
            done += part;
            rf->at_line_start = base[part - 1] == '\n';
        }
    }
    return done;
}

ssize_t rotating_file_write(RotatingFile *rf, const void *buf, size_t len)
{
    const char *data = buf;
    size_t done = 0;
    Plan plan;

    while (done < len) {
        size_t planned, bytes;
        const char *joined;
        ssize_t ret, wrote;

        if (rf->timestamps) {
            planned = plan_stamped(rf, &plan, data + done, len - done);
        } else {
            planned = rf->max_size ? fit_plain(rf, data + done, len - done)
                                   : len - done;
            plan_init(&plan, rf);
            plan_add(&plan, data + done, planned);
        }
        if (!plan.n) {
            break;              /* nothing fits, not even after rotating */
        }
        joined = plan_bytes(rf, &plan, &bytes);
        ret = RETRY_ON_EINTR(write(rf->fd, joined, bytes));
        if (ret < 0) {
            int err = errno;

            if (err != EAGAIN) {
                rotating_file_failed(rf, "cannot write to '%s': %s",
                                     rf->path, strerror(err));
            }
            if (done == 0) {
                errno = err;
                return -1;
            }
            break;
        }
        wrote = ret;
        ret = account(rf, &plan, wrote, bytes, planned);
        if (ret) {
            rf->only_markers = false;
        }
        done += ret;
        /* A short write stops here, unless it wrote just (part of) a stamp */
        if (ret < planned && (ret || !wrote)) {
            break;
        }
    }
    return done;
}

bool rotating_file_rotate(RotatingFile *rf, Error **errp)
{
    struct stat st;

    if (!rf->generations) {
        error_setg(errp, "'%s' keeps no generations", rf->path);
        return false;
    }
    if ((fstat(rf->fd, &st) == 0 && st.st_size == 0) || rf->only_markers) {
        return true;
    }
    return rotating_file_shift(rf, ROTATING_FILE_REASON_COMMAND, errp);
}

bool rotating_file_reopen(RotatingFile *rf, Error **errp)
{
    int flags = O_WRONLY | O_BINARY | O_APPEND | O_CREAT;
    uint64_t old_size = rf->size;
    struct stat st, new_st;
    bool have_stat, same;
    int fd;

    if (rf->generations) {
        flags |= O_NOFOLLOW;
    }
    /* If PATH was moved away, the new one succeeds the old. */
    have_stat = fstat(rf->fd, &st) == 0 && S_ISREG(st.st_mode);
    fd = open_path(rf, flags, 0666, have_stat ? &st : NULL, errp);
    if (fd < 0) {
        return false;
    }
    same = have_stat && fstat(fd, &new_st) == 0 &&
           new_st.st_dev == st.st_dev && new_st.st_ino == st.st_ino;
    if (!same) {
        leave_file(rf);
    }
    if (!use_fd(rf, fd, errp)) {
        return false;
    }
    /*
     * Another file, or this one grown or cut by others (a migration's
     * source, copytruncate), may hold what others wrote.
     */
    if (!same || rf->size != old_size) {
        rf->only_markers = rf->size == 0;
        look_at_end(rf);
        if (rf->timestamps) {
            start_new_line(rf);
        }
    }
    write_marker(rf, "reopened");
    return true;
}

bool rotating_file_has_generations(const RotatingFile *rf)
{
    return rf->generations > 0;
}

int rotating_file_fd(const RotatingFile *rf)
{
    return rf->fd;
}
