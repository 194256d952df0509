/*
 * The files of a rotating console log, read and checked
 *
 * Copyright (c) 2026 The QEMU console log contributors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "console-log-files.h"

#define NOTE_RE "\\[qemu: ([0-9]+) bytes of output lost here\\]\n"

char *log_gen_name(const char *log, int k)
{
    return k < 0 ? g_strdup(log) : g_strdup_printf("%s.%d", log, k);
}

bool is_regular(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

uint64_t file_size_of(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0 ? st.st_size : 0;
}

GString *log_kept(const char *log, int generations)
{
    GString *kept = g_string_new("");
    int k;

    for (k = generations - 1; k >= -1; k--) {
        g_autofree char *name = log_gen_name(log, k);
        g_autofree char *contents = NULL;
        size_t len;

        if (is_regular(name) &&
            g_file_get_contents(name, &contents, &len, NULL)) {
            g_string_append_len(kept, contents, len);
        }
    }
    return kept;
}

/* A rotation moves a file to a higher number: no file is counted twice. */
uint64_t log_gens_size(const char *log, int generations)
{
    uint64_t total = 0;
    int k;

    for (k = generations - 1; k >= -1; k--) {
        g_autofree char *name = log_gen_name(log, k);

        if (is_regular(name)) {
            total += file_size_of(name);
        }
    }
    return total;
}

void assert_log_bounded(const char *log, int generations, uint64_t size)
{
    g_autofree char *beyond = log_gen_name(log, generations);
    uint64_t total = 0;
    int k;

    for (k = -1; k < generations; k++) {
        g_autofree char *name = log_gen_name(log, k);
        uint64_t len = is_regular(name) ? file_size_of(name) : 0;

        if (len > 2 * size) {
            g_error("%s: %" PRIu64 " bytes, more than twice %" PRIu64, name,
                    len, size);
        }
        total += len;
    }
    if (total > (generations + 2) * size) {
        g_error("%s and its generations: %" PRIu64 " bytes, more than "
                "%d x %" PRIu64, log, total, generations + 2, size);
    }
    g_assert_false(g_file_test(beyond, G_FILE_TEST_EXISTS));
}

/* Line @n of the flood of guest @id, as its init prints it */
static int flood_line(char *buf, size_t size, int n, const char *id)
{
    return snprintf(buf, size, "%08d %s flood line ...................."
                    ".....................\n", n, id);
}

uint64_t flood_bytes(const char *id, int lines)
{
    char buf[128];

    return (uint64_t)flood_line(buf, sizeof(buf), 0, id) * lines;
}

/* Where in the flood stream the bytes @seg start, from a whole line. */
static int64_t flood_align(const char *seg, size_t len, const char *id)
{
    const char *line = seg, *stop = seg + len, *nl;
    char buf[128];
    int line_len = flood_line(buf, sizeof(buf), 0, id);

    for (;;) {
        if (stop - line >= line_len && strspn(line, "0123456789") == 8 &&
            !memcmp(line + 8, buf + 8, line_len - 8)) {
            return (int64_t)atoi(line) * line_len - (line - seg);
        }
        nl = memchr(line, '\n', stop - line);
        if (!nl) {
            g_error("no whole flood line of %s to find where '%.*s' is",
                    id, (int)MIN(len, 80), seg);
        }
        line = nl + 1;
    }
}

/* Compare @seg with the flood stream from byte @at on. */
static void flood_compare(const char *seg, size_t len, const char *id,
                          uint64_t at)
{
    char buf[128];
    int line_len = flood_line(buf, sizeof(buf), 0, id);
    size_t done = 0;

    while (done < len) {
        uint64_t n = (at + done) / line_len;
        size_t col = (at + done) % line_len;
        size_t chunk = MIN(len - done, line_len - col);

        flood_line(buf, sizeof(buf), n, id);
        if (memcmp(seg + done, buf + col, chunk)) {
            g_error("the files differ from the flood of %s at its byte %"
                    PRIu64 " (line %" PRIu64 "): '%.*s' is not '%.*s'", id,
                    at + done, n, (int)chunk, seg + done, (int)chunk,
                    buf + col);
        }
        done += chunk;
    }
}

FloodKept assert_flood_kept(const GString *kept, const char *id)
{
    g_autoptr(GRegex) note_re = g_regex_new(NOTE_RE, 0, 0, NULL);
    g_autoptr(GMatchInfo) match = NULL;
    const char *p = kept->str, *stop = kept->str + kept->len;
    FloodKept res = { 0 };
    int64_t at = -1;

    g_assert_null(memchr(kept->str, '\0', kept->len));
    g_regex_match_full(note_re, kept->str, kept->len, 0, 0, &match, NULL);
    while (p < stop) {
        const char *seg_end = stop, *next = stop;
        gint from, to;
        size_t len;

        if (g_match_info_matches(match)) {
            g_match_info_fetch_pos(match, 0, &from, &to);
            seg_end = kept->str + from;
            next = kept->str + to;
        }
        len = seg_end - p;
        if (at < 0 && len) {
            /* The oldest bytes kept, or the first after a note there */
            at = flood_align(p, len, id);
            g_assert_cmpint(at, >=, 0);
            res.start = at;
        }
        if (len) {
            flood_compare(p, len, id, at);
            at += len;
        }
        if (seg_end < stop) {
            g_autofree char *n = g_match_info_fetch(match, 1);
            uint64_t lost = g_ascii_strtoull(n, NULL, 10);

            res.noted += lost;
            res.notes++;
            if (at >= 0) {
                at += lost;
            }
            g_match_info_next(match, NULL);
        }
        p = next;
    }
    res.end = MAX(at, 0);
    return res;
}

void assert_flood_accounted(const FloodKept *kept, const char *id, int lines,
                            int64_t dropped, bool all_kept)
{
    uint64_t total = flood_bytes(id, lines);

    g_test_message("flood %s: bytes %" PRIu64 " to %" PRIu64 " of %" PRIu64
                   " kept, %d notes of %" PRIu64 " bytes lost; query-chardev:"
                   " %" PRId64 " dropped", id, kept->start, kept->end, total,
                   kept->notes, kept->noted, dropped);
    g_assert_cmpint(dropped, >=, 0);
    g_assert_cmpuint(kept->end, <=, total);
    g_assert_cmpuint(kept->noted, <=, dropped);
    if (all_kept) {
        /* From the first byte, and every byte lost is counted */
        g_assert_cmpuint(kept->start, ==, 0);
        g_assert_cmpuint(kept->noted + (total - kept->end), ==, dropped);
    } else {
        /* Older files, and their notes, aged out */
        g_assert_cmpuint(kept->end + (dropped - kept->noted), >=, total);
    }
    if (!dropped) {
        g_assert_cmpuint(kept->end, ==, total);
    }
}

int64_t query_dropped(QTestState *qts, const char *id)
{
    QDict *resp = qtest_qmp(qts, "{'execute': 'query-chardev'}");
    QList *list = qdict_get_qlist(resp, "return");
    int64_t dropped = -2;
    QListEntry *e;

    QLIST_FOREACH_ENTRY(list, e) {
        QDict *info = qobject_to(QDict, qlist_entry_obj(e));

        if (!strcmp(qdict_get_str(info, "label"), id)) {
            dropped = qdict_haskey(info, "dropped")
                      ? qdict_get_int(info, "dropped") : -1;
        }
    }
    qobject_unref(resp);
    if (dropped == -2) {
        g_error("query-chardev has no chardev '%s'", id);
    }
    return dropped;
}

const char *hold_rename_library(void)
{
    static char *path;

    if (!path) {
        g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
        g_autofree char *dir = exe ? g_path_get_dirname(exe) : NULL;

        path = dir ? g_build_filename(dir, "hold-rename.so", NULL) : NULL;
    }
    return path && g_file_test(path, G_FILE_TEST_EXISTS) ? path : NULL;
}
