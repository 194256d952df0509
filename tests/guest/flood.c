/*
 * The test guest's flood: numbered lines to a device, as fast as it takes
 * them, then a line saying how many bytes were written and how fast.
 *   flood DEVICE LINES [BYTES_PER_SECOND]
 * With a rate, it waits after each write to keep below it.
 * DEVICE is a name in /dev (ttyS1, hvc0, vport0p1), a tty being set to
 * raw output, or ioport:HEX, written a byte at a time (isa-debugcon).
 * Line n is FLOOD_LINE_LEN bytes: "%06d ", letters that depend on n, and a
 * newline; tests/qtest/console-log-flood-test.c makes the same.
 *
 * Copyright (c) 2026 The QEMU console log contributors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define FLOOD_LINE_LEN 64
#define LINES_PER_WRITE 64

static void flood_line(char *buf, long n)
{
    int i;

    snprintf(buf, FLOOD_LINE_LEN, "%06ld ", n);
    for (i = 7; i < FLOOD_LINE_LEN - 1; i++) {
        buf[i] = 'a' + (n + i) % 26;
    }
    buf[FLOOD_LINE_LEN - 1] = '\n';
}

/* The node can be missing, or answer ENXIO, a moment after a driver binds */
static int open_device(const char *name)
{
    char path[64];
    int i, fd = -1;

    snprintf(path, sizeof(path), "/dev/%s", name);
    for (i = 0; i < 200; i++) {
        fd = open(path, O_WRONLY | O_NOCTTY);
        if (fd >= 0 || (errno != ENOENT && errno != ENXIO)) {
            break;
        }
        usleep(100 * 1000);
    }
    if (fd < 0) {
        fprintf(stdout, "flood: cannot open %s: %s\n", path, strerror(errno));
        exit(1);
    }
    return fd;
}

static long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
    static char buf[FLOOD_LINE_LEN * LINES_PER_WRITE];
    unsigned long port = 0;
    long lines, rate, n, k, start, bytes = 0;
    struct termios tio;
    int fd = -1;

    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: flood DEVICE LINES [BYTES_PER_SECOND]\n");
        return 2;
    }
    lines = atol(argv[2]);
    rate = argc == 4 ? atol(argv[3]) : 0;
    if (!strncmp(argv[1], "ioport:", 7)) {
        if (sscanf(argv[1] + 7, "%lx", &port) != 1 ||
            ioperm(port, 1, 1) < 0) {
            printf("flood: ioperm 0x%lx: %s\n", port, strerror(errno));
            return 1;
        }
    } else {
        fd = open_device(argv[1]);
        if (tcgetattr(fd, &tio) == 0) {
            tio.c_oflag &= ~OPOST;
            tcsetattr(fd, TCSANOW, &tio);
        }
    }
    start = now_ms();
    for (n = 0; n < lines; n += k) {
        size_t len, off;

        for (k = 0; k < LINES_PER_WRITE && n + k < lines; k++) {
            flood_line(buf + k * FLOOD_LINE_LEN, n + k);
        }
        len = k * FLOOD_LINE_LEN;
        if (fd < 0) {
            for (off = 0; off < len; off++) {
                outb(buf[off], port);
            }
        } else {
            for (off = 0; off < len; ) {
                ssize_t ret = write(fd, buf + off, len - off);

                if (ret < 0 && errno != EINTR && errno != EAGAIN) {
                    printf("flood: %s after %ld bytes: %s\n", argv[1],
                           bytes + (long)off, strerror(errno));
                    return 1;
                }
                off += ret > 0 ? ret : 0;
            }
        }
        bytes += len;
        if (rate > 0) {
            long ahead = bytes * 1000 / rate - (now_ms() - start);

            if (ahead > 0) {
                usleep(ahead * 1000);
            }
        }
    }
    if (fd >= 0) {
        tcdrain(fd);
        close(fd);
    }
    printf("flood done %s %ld lines %ld bytes %ld ms\n", argv[1], lines,
           bytes, now_ms() - start);
    return 0;
}
