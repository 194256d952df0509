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
 * Wrapped: what chardev/rotating-file.c calls, as compiled with
 * _FILE_OFFSET_BITS=64 (qemu_write_full() calls write(), qemu_open_old()
 * open64(), g_rename() is rename() and g_lstat() lstat64());
 * gettimeofday() is QEMU_CLOCK_REALTIME, which times the retries of
 * failed rotations; thread_pool_submit_aio() to know when workers are in
 * flight; rotating_file_write() to check what each call does.
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
void __real_rotating_file_write(RotatingFile *rf, const void *buf,
                                size_t len);
void __wrap_rotating_file_write(RotatingFile *rf, const void *buf,
                                size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
#endif
