/*
 * Just enough of qemu/osdep.h (and GLib) for scripts/check-windows.sh to
 * compile chardev/rotating-file.c with MinGW: everything else a source
 * file uses must come from the Windows headers, so that POSIX-only calls
 * and constants outside #ifndef _WIN32 fail to compile.  Declarations
 * only; nothing is linked.
 */
#ifndef WINDOWS_SHIM_OSDEP_H
#define WINDOWS_SHIM_OSDEP_H

#ifndef _WIN32
#error "for MinGW only"
#endif

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <io.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

/* GLib */
typedef char gchar;
typedef int gboolean;
typedef void *gpointer;
#define G_USEC_PER_SEC 1000000
#define G_GNUC_PRINTF(f, a) __attribute__((format(gnu_printf, f, a)))
#define G_NORETURN __attribute__((noreturn))
#define g_new0(type, n) ((type *)g_malloc0_n((n), sizeof(type)))
#define g_renew(type, p, n) ((type *)g_realloc_n((p), (n), sizeof(type)))
void *g_realloc_n(void *p, size_t n, size_t size);
void *g_malloc0_n(size_t n, size_t size);
void g_free(void *p);
void *g_realloc(void *p, size_t size);
char *g_strdup(const char *s);
char *g_strndup(const char *s, size_t n);
char *g_strdup_printf(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
char *g_strdup_vprintf(const char *fmt, va_list ap) G_GNUC_PRINTF(1, 0);
void g_strfreev(char **v);
char *g_path_get_basename(const char *path);
char *g_path_get_dirname(const char *path);
char *g_canonicalize_filename(const char *path, const char *relative_to);
gboolean g_path_is_absolute(const char *file_name);
char *g_get_current_dir(void);
char *g_build_filename(const char *first_element, ...);
gboolean g_str_has_prefix(const char *s, const char *prefix);
int64_t g_get_monotonic_time(void);
int64_t g_get_real_time(void);
G_NORETURN void g_assertion_message_unreached(void);
#define g_assert_not_reached() g_assertion_message_unreached()
void *g_steal_pointer_(void *pp);
#define g_steal_pointer(pp) ((__typeof__(*(pp)))g_steal_pointer_(pp))
#define g_autofree __attribute__((cleanup(g_autofree_cleanup)))
void g_autofree_cleanup(void *pp);
#define G_DEFINE_AUTOPTR_CLEANUP_FUNC(type, func) \
    static inline void glib_autoptr_cleanup_##type(type **p) { func(*p); }
#define g_autoptr(type) \
    __attribute__((cleanup(glib_autoptr_cleanup_##type))) type *
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* QEMU */
typedef struct Error Error;
void error_setg(Error **errp, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
void error_setg_errno(Error **errp, int os_error, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);
void error_setg_file_open(Error **errp, int os_errno, const char *filename);
const char *error_get_pretty(const Error *err);
void error_free(Error *err);
int qemu_create(const char *name, int flags, mode_t mode, Error **errp);
int qemu_close(int fd);
#define RETRY_ON_EINTR(expr) (expr)

/* What qemu/osdep.h and system/os-win32.h give Windows hosts */
struct iovec {
    void *iov_base;
    size_t iov_len;
};
ssize_t writev(int fd, const struct iovec *iov, int iov_cnt);
struct tm *gmtime_r(const time_t *timep, struct tm *result);

#endif
