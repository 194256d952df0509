/*
 * The system and QEMU functions that fuzz-rotating-file wraps with the
 * linker's --wrap: the real ones and the wrappers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef FUZZ_ROTATING_FILE_H
#define FUZZ_ROTATING_FILE_H

#include "block/thread-pool.h"
#include "chardev/rotating-file.h"

/*
 * Wrapped: what chardev/rotating-file.c and qemu_create() call, as
 * compiled with _FILE_OFFSET_BITS=64 (g_rename() is rename(), g_lstat()
 * is lstat()); gettimeofday() is QEMU_CLOCK_REALTIME, which times the
 * retries of failed rotations; thread_pool_submit_aio() to know when
 * workers are in flight.
 */

ssize_t __real_write(int fd, const void *buf, size_t count);
ssize_t __wrap_write(int fd, const void *buf, size_t count);
int __real_open64(const char *path, int flags, ...);
int __wrap_open64(const char *path, int flags, ...);
int __real_rename(const char *from, const char *to);
int __wrap_rename(const char *from, const char *to);
int __real_lstat64(const char *path, struct stat *st);
int __wrap_lstat64(const char *path, struct stat *st);
int __real_gettimeofday(struct timeval *tv, void *tz);
int __wrap_gettimeofday(struct timeval *tv, void *tz);
BlockAIOCB *__real_thread_pool_submit_aio(ThreadPoolFunc *func, void *arg,
                                          BlockCompletionFunc *cb,
                                          void *opaque);
BlockAIOCB *__wrap_thread_pool_submit_aio(ThreadPoolFunc *func, void *arg,
                                          BlockCompletionFunc *cb,
                                          void *opaque);
ssize_t __real_rotating_file_write(RotatingFile *rf, const void *buf,
                                   size_t len, RotatingFileMode mode);
ssize_t __wrap_rotating_file_write(RotatingFile *rf, const void *buf,
                                   size_t len, RotatingFileMode mode);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
#endif
