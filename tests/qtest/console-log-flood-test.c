/*
 * Rotating console logs lose nothing that they do not count, through every
 * frontend, when renames are slow
 *
 * A Linux guest (console-log-guest.h) floods numbered lines through a
 * 16550, a 16550 on a mux with a monitor, a 16550 on a hub of a rotating
 * and a plain file, a virtconsole, a virtserialport, an isa-debugcon, and
 * a second isa-debugcon whose chardev keeps one generation only (the disk
 * bound), one after the other, each on its own file chardev whose output
 * (rotate=, size=) and logfile (logrotate=, logsize=) both keep
 * generations.  QEMU runs with slow-rename.so preloaded, which
 * makes each rename slower on purpose, as on a busy disk.  With
 * CONSOLE_LOG_FLOOD_BUSY_DISK=MiB, a measurement rather than a test, the
 * cases run with a disk kept busy by a writer that fsyncs files of that
 * size beside the logs instead, and renames as fast as it lets them, and
 * one more case floods 20,000 lines into files of 8 KiB.
 *
 * The files of each output, read from the oldest generation to PATH, must
 * be the guest's lines, in order, each once, except where a line
 * "[qemu: N bytes of output lost here]" at the start of a file accounts
 * for exactly the N bytes missing before it; query-chardev's dropped must
 * be the sum of those lines in both outputs; no file may exceed twice its
 * size, nor the files (N + 2) times it.  With a delay that the size cap
 * absorbs, nothing may be lost at all.
 *
 * Copyright (c) 2026 The QEMU console log contributors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/atomic.h"
#include "libqtest.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "console-log-guest.h"

#define LINE_LEN 64             /* of tests/guest/flood.c */
#define KEEP_ALL 255            /* generations: every file of a flood kept */
#define KEEP_FEW 1              /* generations of the bound's chardev */
#define FLOOD_TIMEOUT_US (900 * G_USEC_PER_SEC)
#define SETTLE_TIMEOUT_US (120 * G_USEC_PER_SEC)

typedef struct Frontend {
    const char *name;
    const char *id;
    const char *device;         /* in the guest, for /bin/flood */
    int generations;
} Frontend;

/* In the order of -serial (ttyS0 is the guest's console) */
static const Frontend frontends[] = {
    { "16550", "fl16550", "ttyS1", KEEP_ALL },
    { "mux-monitor", "flmux", "ttyS2", KEEP_ALL },
    { "hub", "flhub", "ttyS3", KEEP_ALL },
    { "virtconsole", "flhvc", "hvc0", KEEP_ALL },
    { "virtserialport", "flport", "vport0p1", KEEP_ALL },
    { "isa-debugcon", "fldebug", "ioport:e9", KEEP_ALL },
    /* An isa-debugcon keeping 1 generation: the disk bound */
    { "bound", "flbound", "ioport:ea", KEEP_FEW },
};
#define N_FRONTENDS ARRAY_SIZE(frontends)

typedef struct FloodCase {
    const char *path;
    uint64_t size;
    int delay_us;               /* added to every rename */
    int lines;                  /* per frontend */
    int rate;                   /* bytes/s the guest keeps below, or 0 */
    int pause;                  /* s between floods: the last rotation */
    bool absorbed;              /* the cap absorbs the delay: no loss */
} FloodCase;

/*
 * A rotation renames every generation, and renames of all files are
 * serialized: the k-th rotation of a chardev's two outputs takes 2k times
 * the delay of a rename.
 * 4096: 50 ms a rename, and the guest writes 64 KiB/s, to have many
 * rotations: each takes longer than the 4.5 KiB the file may still grow
 * take to come, so output is lost, and must be counted, every time.
 * 65536: 100 ms a rename, and the guest writes as fast as it can: virtio
 * ports fill 128 KiB before the first rotation is done, slower frontends
 * may not.
 * Absorbed: 5 ms a rename, and the guest writes at most 256 KiB/s: the
 * 72 KiB the file may still grow take 280 ms, five times the longest
 * rotation: nothing may be lost.
 */
static const FloodCase cases[] = {
    { "/console-log-flood/4096", 4096, 50000, 2048, 64 * 1024, 2 },
    { "/console-log-flood/65536", 65536, 100000, 4096, 0, 1 },
    { "/console-log-flood/65536/absorbed", 65536, 5000, 4096, 256 * 1024, 1,
      true },
};

/* With a busy disk only: the measurement of the issue on the first design */
static const FloodCase busy_case = {
    "/console-log-flood/8192/busy-disk", 8192, 0, 20000, 0, 1
};

/* The two outputs of each chardev that keep generations */
static const char *const outputs[] = { "rotate", "logrotate" };
#define N_OUTPUTS ARRAY_SIZE(outputs)

/* What the files of one chardev hold, read at one moment */
typedef struct Outcome {
    char *error;                /* not the flood, nor accounted for */
    bool complete;              /* every byte arrived or was counted */
    int files;
    uint64_t largest;
    uint64_t start;             /* byte of the flood the files begin at */
    uint64_t arrived;
    uint64_t lost;              /* the sum of the markers */
    int markers;
    int lines_whole;            /* lines that arrived whole */
    int lines_twice;            /* and more than once */
    uint64_t total;             /* bytes in the files */
} Outcome;

/* The files of one output: PATH and its generations */
typedef struct LogFiles {
    const char *what;           /* rotate (file backend), logrotate */
    char *path;
    int generations;
    uint64_t peak_disk;         /* the most they took at one moment */
    uint64_t peak_file;
    Outcome out;
} LogFiles;

typedef struct Instance {
    const Frontend *fe;
    char *dir;
    char *label;                /* its chardev in query-chardev */
    int flood_ms;               /* the guest's time for its flood */
    LogFiles f[N_OUTPUTS];      /* the file backend's output, logfile */
} Instance;

/* The flood: line n is as tests/guest/flood.c writes it */
static GString *flood_stream(int lines)
{
    GString *s = g_string_sized_new((gsize)lines * LINE_LEN);
    int n, i;

    for (n = 0; n < lines; n++) {
        g_string_append_printf(s, "%06d ", n);
        for (i = 7; i < LINE_LEN - 1; i++) {
            g_string_append_c(s, 'a' + (n + i) % 26);
        }
        g_string_append_c(s, '\n');
    }
    return s;
}

static char *gen_name(const char *path, int k)
{
    return k < 0 ? g_strdup(path) : g_strdup_printf("%s.%d", path, k);
}

/* A marker at @p, or 0: its length, with the bytes lost in @n */
static size_t marker_at(const char *p, const char *end, uint64_t *n)
{
    const char *head = "[qemu: ", *tail = " bytes of output lost here]\n";
    char *num_end;

    if ((size_t)(end - p) < strlen(head) || memcmp(p, head, strlen(head))) {
        return 0;
    }
    p += strlen(head);
    if (!g_ascii_isdigit(*p)) {
        return 0;
    }
    *n = g_ascii_strtoull(p, &num_end, 10);
    if ((size_t)(end - num_end) < strlen(tail) ||
        memcmp(num_end, tail, strlen(tail))) {
        return 0;
    }
    return num_end + strlen(tail) - (p - strlen(head));
}

/*
 * Count the flood's lines found whole in @data, wherever they are: what
 * arrived, also where the files are not what they should be.
 */
static void count_lines(const GString *data, const GString *e, Outcome *o)
{
    g_autofree bool *seen = g_new0(bool, e->len / LINE_LEN);
    const char *p = data->str, *end = data->str + data->len, *nl;
    uint64_t n;

    for (; p < end && (nl = memchr(p, '\n', end - p)); p = nl + 1) {
        n = g_ascii_strtoull(p, NULL, 10);
        if (nl + 1 - p == LINE_LEN && g_ascii_isdigit(*p) &&
            n < e->len / LINE_LEN &&
            !memcmp(p, e->str + n * LINE_LEN, LINE_LEN)) {
            o->lines_whole += !seen[n];
            o->lines_twice += seen[n];
            seen[n] = true;
        }
    }
}

static void outcome_clear(Outcome *o)
{
    g_free(o->error);
    memset(o, 0, sizeof(*o));
}

/*
 * Read the files of @lf oldest first, and walk them against the flood @e:
 * each stretch between markers must be the flood's next bytes, and each
 * marker, at the start of a file, skips the bytes it counts.  A chardev
 * that keeps few generations may have dropped the oldest: its files then
 * begin at the first whole line.
 */
static void outcome_read(LogFiles *lf, const GString *e, Outcome *o)
{
    g_autoptr(GString) data = g_string_new("");
    g_autoptr(GArray) starts = g_array_new(false, false, sizeof(size_t));
    const char *p, *end;
    uint64_t pos, n, line = 0;
    size_t len;
    int k, oldest = -1;

    outcome_clear(o);
    for (k = lf->generations - 1; k >= 0; k--) {
        g_autofree char *name = gen_name(lf->path, k);

        if (g_file_test(name, G_FILE_TEST_EXISTS)) {
            oldest = oldest < 0 ? k : oldest;
        } else if (oldest >= 0) {
            o->error = g_strdup_printf("%s is missing", name);
            return;
        }
    }
    for (k = oldest; k >= -1; k--) {
        g_autofree char *name = gen_name(lf->path, k);
        g_autofree char *contents = NULL;
        struct stat st;

        if (lstat(name, &st) < 0 || !S_ISREG(st.st_mode) ||
            !g_file_get_contents(name, &contents, &len, NULL)) {
            o->error = g_strdup_printf("cannot read %s", name);
            return;
        }
        g_array_append_val(starts, data->len);
        g_string_append_len(data, contents, len);
        o->largest = MAX(o->largest, len);
        o->files++;
    }
    o->total = data->len;
    count_lines(data, e, o);
    p = data->str;
    end = data->str + data->len;
    pos = 0;
    if (lf->generations != KEEP_ALL) {
        /* The first whole line after a file's start or a newline */
        for (; p < end; p++) {
            bool at_start = p == data->str || p[-1] == '\n';

            line = g_ascii_strtoull(p, NULL, 10);
            if (at_start && g_ascii_isdigit(*p) && line * LINE_LEN < e->len &&
                (size_t)(end - p) >= LINE_LEN &&
                !memcmp(p, e->str + line * LINE_LEN, LINE_LEN)) {
                break;
            }
        }
        pos = o->start = (p - data->str) < (ptrdiff_t)data->len ?
                         line * LINE_LEN : e->len;
    }
    while (p < end) {
        size_t mlen = marker_at(p, end, &n);
        const char *stop;
        uint64_t i;

        if (mlen) {
            size_t at = p - data->str;
            bool file_start = false;

            for (i = 0; i < starts->len; i++) {
                file_start |= g_array_index(starts, size_t, i) == at;
            }
            if (!file_start || n == 0) {
                o->error = g_strdup_printf("marker of %" PRIu64 " bytes at "
                                           "byte %zu of the files is not a "
                                           "file's first line", n, at);
                return;
            }
            o->lost += n;
            o->markers++;
            pos += n;
            p += mlen;
            continue;
        }
        stop = memchr(p, '[', end - p);
        stop = stop ? stop : end;
        for (i = 0; p + i < stop; i++) {
            if (pos + i >= e->len || p[i] != e->str[pos + i]) {
                o->error = g_strdup_printf(
                    "byte %zu of the files ('%.20s') is not byte %" PRIu64
                    " of the flood (line %" PRIu64 ", '%.20s')",
                    (size_t)(p + i - data->str), p + i, pos + i,
                    (pos + i) / LINE_LEN,
                    pos + i < e->len ? e->str + pos + i : "");
                return;
            }
        }
        o->arrived += i;
        pos += i;
        p += i;
        if (p < end && !marker_at(p, end, &n)) {
            o->error = g_strdup_printf("byte %zu of the files is a '[' of no "
                                       "marker", (size_t)(p - data->str));
            return;
        }
    }
    if (pos > e->len) {
        o->error = g_strdup_printf("the markers count %" PRIu64 " bytes more "
                                   "than the flood has", pos - e->len);
        return;
    }
    o->complete = pos == e->len;
}

/*
 * The bytes that the files of @lf take now.  They are looked at newest
 * first, the way a rotation moves them (from the oldest down to PATH, then
 * a new PATH): a file is counted once (by its inode), and never with the
 * oldest that a rotation has removed meanwhile, so that a rotation while
 * they are looked at makes the sum smaller than the disk use, not larger.
 */
static void sample_disk(LogFiles *lf)
{
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_int64_hash,
                                                       g_int64_equal,
                                                       g_free, NULL);
    uint64_t disk = 0;
    int k, missing = 0;

    /* A rotation leaves one name missing at a time: two end the files */
    for (k = -1; k < lf->generations && missing < 2; k++) {
        g_autofree char *name = gen_name(lf->path, k);
        struct stat st;
        gint64 *ino;

        if (lstat(name, &st) < 0) {
            missing++;
            continue;
        }
        missing = 0;
        if (g_hash_table_contains(seen, &(gint64){ st.st_ino })) {
            continue;
        }
        ino = g_new(gint64, 1);
        *ino = st.st_ino;
        g_hash_table_add(seen, ino);
        disk += st.st_size;
        lf->peak_file = MAX(lf->peak_file, (uint64_t)st.st_size);
    }
    lf->peak_disk = MAX(lf->peak_disk, disk);
}

/* query-chardev's dropped for @label: false if it has none */
static bool chardev_dropped(QTestState *qts, const char *label,
                            uint64_t *dropped)
{
    g_autoptr(QDict) resp = qtest_qmp(qts, "{'execute': 'query-chardev'}");
    QListEntry *entry;
    bool found = false;

    g_assert(qdict_haskey(resp, "return"));
    QLIST_FOREACH_ENTRY(qdict_get_qlist(resp, "return"), entry) {
        QDict *info = qobject_to(QDict, qlist_entry_obj(entry));

        if (!strcmp(qdict_get_str(info, "label"), label) &&
            qdict_haskey(info, "dropped")) {
            *dropped = qdict_get_int(info, "dropped");
            found = true;
        }
    }
    return found;
}

/* Renames that started a new PATH, as slow-rename.so lists them */
static int rotations_of(const char *renames, const char *path)
{
    g_autofree char *line = g_strdup_printf("\n%s %s.0\n", path, path);
    g_autofree char *log = g_strdup_printf("\n%s", renames ? renames : "");

    return count_of(log, line);
}

/* -chardev options of a file with @id whose output and logfile rotate */
static char *rotating_chardev(const FloodCase *c, const char *id,
                              const Instance *in)
{
    return g_strdup_printf("file,id=%s,path=%s,rotate=%d,size=%" PRIu64
                           ",logfile=%s,logrotate=%d,logsize=%" PRIu64,
                           id, in->f[0].path, in->f[0].generations, c->size,
                           in->f[1].path, in->f[1].generations, c->size);
}

static char *frontend_args(const FloodCase *c, Instance *in)
{
    const Frontend *fe = in->fe;
    g_autofree char *spec = NULL;

    if (!strcmp(fe->name, "hub")) {
        g_autofree char *rid = g_strdup_printf("%s-rot", fe->id);

        spec = rotating_chardev(c, rid, in);
        in->label = g_steal_pointer(&rid);
        return g_strdup_printf(
            "-chardev %s -chardev file,id=%s-plain,path=%s/plain.log "
            "-chardev hub,id=%s,chardevs.0=%s,chardevs.1=%s-plain "
            "-serial chardev:%s ", spec, fe->id, in->dir, fe->id,
            in->label, fe->id, fe->id);
    }
    spec = rotating_chardev(c, fe->id, in);
    if (!strcmp(fe->name, "mux-monitor")) {
        in->label = g_strdup_printf("%s-base", fe->id);
        return g_strdup_printf("-chardev %s,mux=on -serial chardev:%s "
                               "-mon chardev=%s,mode=readline ", spec,
                               fe->id, fe->id);
    }
    in->label = g_strdup(fe->id);
    if (!strcmp(fe->name, "16550")) {
        return g_strdup_printf("-chardev %s -serial chardev:%s ", spec,
                               fe->id);
    }
    if (g_str_has_prefix(fe->device, "ioport:")) {
        return g_strdup_printf("-chardev %s -device isa-debugcon,"
                               "iobase=0x%s,chardev=%s ", spec,
                               fe->device + strlen("ioport:"), fe->id);
    }
    return g_strdup_printf("-chardev %s -device %s,chardev=%s ", spec,
                           !strcmp(fe->name, "virtconsole") ? "virtconsole"
                                                            : "virtserialport",
                           fe->id);
}

/* A writer that keeps the disk of the logs busy */
typedef struct BusyDisk {
    char *dir;
    size_t mib;
    bool stop;
    uint64_t written;
    GThread *thread;
} BusyDisk;

static gpointer busy_disk_run(gpointer opaque)
{
    BusyDisk *b = opaque;
    g_autofree char *name = g_build_filename(b->dir, "busy", NULL);
    g_autofree char *chunk = g_malloc(1024 * 1024);
    size_t i;

    memset(chunk, 'x', 1024 * 1024);
    while (!qatomic_read(&b->stop)) {
        int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0600);

        g_assert(fd >= 0);
        for (i = 0; i < b->mib && !qatomic_read(&b->stop); i++) {
            g_assert(write(fd, chunk, 1024 * 1024) == 1024 * 1024);
            b->written += 1024 * 1024;
        }
        fsync(fd);
        close(fd);
        unlink(name);
    }
    return NULL;
}

static void remove_dir_hook(void *dir)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", (char *)dir);

    if (system(cmd)) {
        fprintf(stderr, "cannot remove %s\n", (char *)dir);
    }
}

/* "flood done DEV LINES lines BYTES bytes MS ms" for each device */
static bool floods_done(const char *console, Instance *ins, int lines)
{
    g_autofree char *text = slurp(console);
    size_t i;

    g_assert_null(text ? strstr(text, "flood: ") : NULL);
    if (!text || !strstr(text, "floods done")) {
        return false;
    }
    for (i = 0; i < N_FRONTENDS; i++) {
        g_autofree char *head = g_strdup_printf("flood done %s %d lines %"
                                                PRIu64 " bytes ",
                                                ins[i].fe->device, lines,
                                                (uint64_t)lines * LINE_LEN);
        const char *at = strstr(text, head);

        if (!at) {
            /* Not g_error(): its SIGTRAP would skip the clean-up */
            g_test_message("the guest's flood of %s did not report %s: %s",
                           ins[i].fe->device, head, text);
            g_assert_not_reached();
        }
        ins[i].flood_ms = atoi(at + strlen(head));
    }
    return true;
}

static bool outcome_equal(const Outcome *a, const Outcome *b)
{
    return a->complete == b->complete && !g_strcmp0(a->error, b->error) &&
           a->files == b->files && a->total == b->total &&
           a->lost == b->lost && a->start == b->start;
}

/*
 * Read until the files stay the same: every byte accounted for, and
 * query-chardev's dropped counted in them (the last marker comes when the
 * last rotation is done), or the same error for 5 s (a read while a
 * rotation renames files is not what they will be).
 */
static void settle(QTestState *qts, const GString *e, Instance *in)
{
    gint64 now, deadline = g_get_monotonic_time() + SETTLE_TIMEOUT_US;
    gint64 same_since = 0;
    Outcome before[N_OUTPUTS] = { 0 };
    uint64_t dropped = 0, lost;
    bool same, good, erred, has;
    size_t j;

    for (;;) {
        same = good = true;
        erred = false;
        lost = 0;
        for (j = 0; j < N_OUTPUTS; j++) {
            outcome_read(&in->f[j], e, &in->f[j].out);
            same &= outcome_equal(&in->f[j].out, &before[j]);
            good &= in->f[j].out.complete && !in->f[j].out.error;
            erred |= !!in->f[j].out.error;
            lost += in->f[j].out.lost;
        }
        has = chardev_dropped(qts, in->label, &dropped);
        now = g_get_monotonic_time();
        same_since = same ? same_since : now;
        if (same && good &&
            (!has || in->fe->generations != KEEP_ALL || dropped == lost)) {
            break;
        }
        if ((erred && now - same_since > 5 * G_USEC_PER_SEC) ||
            now > deadline) {
            break;              /* the checks say what is wrong */
        }
        for (j = 0; j < N_OUTPUTS; j++) {
            outcome_clear(&before[j]);
            before[j] = in->f[j].out;
            before[j].error = g_strdup(in->f[j].out.error);
        }
        g_usleep(500 * 1000);
    }
    for (j = 0; j < N_OUTPUTS; j++) {
        outcome_clear(&before[j]);
    }
}

static void report(const FloodCase *c, const Instance *in,
                   const LogFiles *lf, int rotations)
{
    const Outcome *o = &lf->out;
    g_autofree char *from = o->start ?
        g_strdup_printf(" from line %" PRIu64, o->start / LINE_LEN) :
        g_strdup("");

    g_test_message("%s %s %s: %d lines sent in %d ms, %d arrived whole%s, "
                   "%d missing; %" PRIu64 " bytes in %d files, markers "
                   "count %" PRIu64 " bytes lost in %d lines; %d rotations, "
                   "largest file %" PRIu64 " (peak %" PRIu64 "), peak disk %"
                   PRIu64 " of %" PRIu64 "%s%s", c->path, in->fe->name,
                   lf->what, c->lines, in->flood_ms, o->lines_whole, from,
                   c->lines - (int)(o->start / LINE_LEN) - o->lines_whole,
                   o->total, o->files, o->lost, o->markers, rotations,
                   o->largest, lf->peak_file, lf->peak_disk,
                   (uint64_t)(lf->generations + 2) * c->size,
                   o->error ? "; " : "", o->error ? o->error : "");
}

/* The checks of one output; returns the bytes its markers count */
static uint64_t check_files(const FloodCase *c, const LogFiles *lf,
                            int rotations, bool absorbed)
{
    const Outcome *o = &lf->out;

    g_assert_null(o->error);
    g_assert_true(o->complete);
    g_assert_cmpint(o->lines_twice, ==, 0);
    /* The size cap, and the bound on the disk */
    g_assert_cmpuint(o->largest, <=, 2 * c->size);
    g_assert_cmpuint(lf->peak_file, <=, 2 * c->size);
    g_assert_cmpuint(lf->peak_disk, <=, (lf->generations + 2) * c->size);
    /* The flood rotated, and slow-rename.so saw every rename */
    g_assert_cmpint(rotations, >=, 1);
    if (lf->generations == KEEP_ALL) {
        g_assert_cmpuint(o->start, ==, 0);
        g_assert_cmpint(o->files, ==, rotations + 1);
    } else {
        /* The files that the bound deleted */
        g_assert_cmpuint(o->start, >, 0);
    }
    if (absorbed) {
        g_assert_cmpuint(o->lost, ==, 0);
        g_assert_cmpint(o->lines_whole, ==, c->lines - o->start / LINE_LEN);
    }
    return o->lost;
}

static void test_flood(const void *opaque)
{
    const FloodCase *c = opaque;
    const char *busy_env = getenv("CONSOLE_LOG_FLOOD_BUSY_DISK");
    size_t busy_mib = busy_env ? atoi(busy_env) : 0;
    int delay_us = busy_mib ? 0 : c->delay_us;
    bool absorbed = c->absorbed && !busy_mib;
    g_autoptr(Scratch) s = scratch_new();
    g_autoptr(GString) e = flood_stream(c->lines);
    g_autoptr(GString) args = g_string_new("-device virtio-serial-pci ");
    g_autoptr(GString) devices = g_string_new("");
    g_autofree char *shim = NULL, *built = NULL, *renames_path = NULL;
    g_autofree char *serial = NULL, *cmdline = NULL, *qemu = NULL;
    g_autofree char *renames = NULL;
    Instance ins[N_FRONTENDS] = { 0 };
    uint64_t all_dropped = 0;
    BusyDisk busy = { .dir = s->dir, .mib = busy_mib };
    gint64 start = g_get_monotonic_time(), flooded, deadline;
    QTestState *qts;
    size_t i, j;

    built = g_test_build_filename(G_TEST_BUILT, "slow-rename.so", NULL);
    shim = g_canonicalize_filename(built, NULL);
    g_assert_true(g_file_test(shim, G_FILE_TEST_IS_REGULAR));
    g_assert_nonnull(getenv("QTEST_QEMU_BINARY"));
    renames_path = g_build_filename(s->dir, "renames", NULL);
    qemu = g_strdup_printf("env LD_PRELOAD=%s SLOW_RENAME_US=%d "
                           "SLOW_RENAME_LOG=%s %s", shim, delay_us,
                           renames_path, getenv("QTEST_QEMU_BINARY"));
    g_setenv("CONSOLE_LOG_FLOOD_QEMU", qemu, true);

    for (i = 0; i < N_FRONTENDS; i++) {
        Instance *in = &ins[i];
        g_autofree char *fe_args = NULL;

        in->fe = &frontends[i];
        in->dir = g_build_filename(s->dir, frontends[i].name, NULL);
        g_assert_cmpint(mkdir(in->dir, 0700), ==, 0);
        for (j = 0; j < N_OUTPUTS; j++) {
            in->f[j].what = outputs[j];
            in->f[j].generations = frontends[i].generations;
            in->f[j].path = g_strdup_printf("%s/%s.log", in->dir,
                                            j ? "log" : "out");
        }
        fe_args = frontend_args(c, in);
        g_string_append(args, fe_args);
        g_string_append_printf(devices, "%s%s", i ? "," : "",
                               frontends[i].device);
    }
    serial = g_strdup_printf("file,path=%s", s->log);
    cmdline = g_strdup_printf("bootid=flood mode=floods floods=%s lines=%d "
                              "rate=%d pause=%d", devices->str, c->lines,
                              c->rate, c->pause);

    /* Registered first, so run last: after libqtest killed QEMU */
    qtest_add_abrt_handler(remove_dir_hook, s->dir);
    qts = start_guest("CONSOLE_LOG_FLOOD_QEMU", serial, cmdline, args->str);
    g_unsetenv("CONSOLE_LOG_FLOOD_QEMU");
    if (busy_mib) {
        busy.thread = g_thread_new("busy-disk", busy_disk_run, &busy);
    }

    /* The guest floods; the files are measured meanwhile */
    deadline = g_get_monotonic_time() + FLOOD_TIMEOUT_US;
    while (!floods_done(s->log, ins, c->lines)) {
        for (i = 0; i < N_FRONTENDS * N_OUTPUTS; i++) {
            sample_disk(&ins[i / N_OUTPUTS].f[i % N_OUTPUTS]);
        }
        if (g_get_monotonic_time() > deadline || !qtest_probe_child(qts)) {
            g_autofree char *text = slurp(s->log);

            g_test_message("the guest did not finish its floods (a guest "
                           "without /bin/flood, from before "
                           "tests/guest/flood.c, powers off): %s", text);
            g_assert_not_reached();
        }
        g_usleep(20 * 1000);
    }
    flooded = g_get_monotonic_time();
    for (i = 0; i < N_FRONTENDS; i++) {
        settle(qts, e, &ins[i]);
        for (j = 0; j < N_OUTPUTS; j++) {
            sample_disk(&ins[i].f[j]);
        }
    }
    renames = slurp(renames_path);
    if (busy.thread) {
        qatomic_set(&busy.stop, true);
        g_thread_join(busy.thread);
        g_test_message("%s: the busy disk took %" PRIu64 " MiB meanwhile",
                       c->path, busy.written >> 20);
    }

    /* Every number first, then the checks */
    for (i = 0; i < N_FRONTENDS * N_OUTPUTS; i++) {
        LogFiles *lf = &ins[i / N_OUTPUTS].f[i % N_OUTPUTS];

        report(c, &ins[i / N_OUTPUTS], lf, rotations_of(renames, lf->path));
    }
    for (i = 0; i < N_FRONTENDS; i++) {
        uint64_t dropped = 0;

        if (chardev_dropped(qts, ins[i].label, &dropped)) {
            g_test_message("%s %s: query-chardev dropped %" PRIu64, c->path,
                           ins[i].fe->name, dropped);
        }
    }
    for (i = 0; i < N_FRONTENDS; i++) {
        Instance *in = &ins[i];
        uint64_t dropped = 0, lost = 0;

        for (j = 0; j < N_OUTPUTS; j++) {
            lost += check_files(c, &in->f[j],
                                rotations_of(renames, in->f[j].path),
                                absorbed);
        }
        g_assert_true(chardev_dropped(qts, in->label, &dropped));
        if (in->fe->generations == KEEP_ALL) {
            g_assert_cmpuint(dropped, ==, lost);
        } else {
            g_assert_cmpuint(dropped, >=, lost);
        }
        all_dropped += dropped;
        if (!strcmp(in->fe->name, "hub")) {
            /* The hub's plain file has what the frontend delivered */
            g_autofree char *plain = g_strdup_printf("%s/plain.log",
                                                     in->dir);
            size_t len;
            g_autofree char *text = slurp_len(plain, &len);

            g_assert_cmpuint(len, ==, e->len);
            g_assert_true(!memcmp(text, e->str, e->len));
        }
    }
    if (!c->absorbed && !busy_mib) {
        /* Else the delay was too short to test what it is meant to */
        g_assert_cmpuint(all_dropped, >, 0);
    }

    qtest_quit(qts);
    qtest_remove_abrt_handler(s->dir);
    for (i = 0; i < N_FRONTENDS; i++) {
        for (j = 0; j < N_OUTPUTS; j++) {
            outcome_clear(&ins[i].f[j].out);
            g_free(ins[i].f[j].path);
        }
        g_free(ins[i].dir);
        g_free(ins[i].label);
    }
    g_test_message("%s: booted and flooded in %" PRId64 " s, settled in %"
                   PRId64 " s", c->path, (flooded - start) / G_USEC_PER_SEC,
                   (g_get_monotonic_time() - flooded) / G_USEC_PER_SEC);
}

/* A timeout's SIGTERM: QEMU and the files go as on a failed check */
static void abort_on_term(int sig)
{
    abort();
}

int main(int argc, char **argv)
{
    size_t i;

    g_test_init(&argc, &argv, NULL);
    sigaction(SIGTERM, &(struct sigaction) { .sa_handler = abort_on_term },
              NULL);
    if (console_log_guest_ready("/console-log-flood")) {
        for (i = 0; i < ARRAY_SIZE(cases); i++) {
            qtest_add_data_func(cases[i].path, &cases[i], test_flood);
        }
        if (getenv("CONSOLE_LOG_FLOOD_BUSY_DISK")) {
            qtest_add_data_func(busy_case.path, &busy_case, test_flood);
        }
    }
    return g_test_run();
}
