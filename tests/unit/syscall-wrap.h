/*
 * File system calls wrapped for tests that count them or make them fail:
 * link with -Wl,--wrap=NAME for each NAME a test defines __wrap_NAME of.
 *
 * Copyright (c) 2026 The QEMU console log contributors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef TESTS_SYSCALL_WRAP_H
#define TESTS_SYSCALL_WRAP_H

ssize_t __real_write(int fd, const void *buf, size_t count);
ssize_t __wrap_write(int fd, const void *buf, size_t count);
ssize_t __real_writev(int fd, const struct iovec *iov, int iovcnt);
ssize_t __wrap_writev(int fd, const struct iovec *iov, int iovcnt);
int __real_open(const char *path, int flags, ...);
int __wrap_open(const char *path, int flags, ...);
int __real_close(int fd);
int __wrap_close(int fd);
int __real_openat(int dir_fd, const char *path, int flags, ...);
int __wrap_openat(int dir_fd, const char *path, int flags, ...);
int __real_renameat(int from_dir, const char *from, int to_dir,
                    const char *to);
int __wrap_renameat(int from_dir, const char *from, int to_dir,
                    const char *to);
int __real_unlinkat(int dir_fd, const char *path, int flags);
int __wrap_unlinkat(int dir_fd, const char *path, int flags);
int __real_fchmod(int fd, mode_t mode);
int __wrap_fchmod(int fd, mode_t mode);
int __real_fstat(int fd, struct stat *st);
int __wrap_fstat(int fd, struct stat *st);
int __real_fstatat(int dir_fd, const char *path, struct stat *st, int flags);
int __wrap_fstatat(int dir_fd, const char *path, struct stat *st, int flags);
int __real_fchown(int fd, uid_t owner, gid_t group);
int __wrap_fchown(int fd, uid_t owner, gid_t group);

/* The entry point of libFuzzer's fuzz targets */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif /* TESTS_SYSCALL_WRAP_H */
