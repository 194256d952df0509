/*
 * config-host.h of a Windows (x86_64, MinGW) build of QEMU, for
 * scripts/check-windows.sh: only what the headers that the checked files
 * include ask for.  Nothing POSIX (CONFIG_POSIX, CONFIG_LINUX, HAVE_*
 * of POSIX functions) is defined, so that QEMU's headers give exactly
 * what they give a Windows build: qemu/osdep.h includes
 * system/os-win32.h, qemu/thread.h qemu/thread-win32.h, and so on.
 */
#define CONFIG_WIN32 1
#define HOST_X86_64 1
#define HOST_DSOSUF ".dll"
#define QEMU_VERSION "10.0.0"
#define QEMU_VERSION_MAJOR 10
#define QEMU_VERSION_MINOR 0
#define QEMU_VERSION_MICRO 0
