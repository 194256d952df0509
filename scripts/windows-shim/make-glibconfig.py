#!/usr/bin/python3
# Write the glibconfig.h of a Windows (x86_64, MinGW) GLib from the host's,
# for scripts/check-windows.sh: Debian packages no MinGW GLib, but GLib's
# other headers serve every platform (#ifdef G_OS_WIN32).  These are the
# lines in which glibconfig.h of a 64-bit Windows GLib differs: LLP64
# types, G_OS_WIN32, Win32 threads, paths and process ids.
#   make-glibconfig.py HOST-GLIBCONFIG.H OUT
import re
import sys

src = open(sys.argv[1]).read()
LL = "G_GNUC_EXTENSION typedef signed long long {0};\n" \
     "G_GNUC_EXTENSION typedef unsigned long long {1};"
replace = [
    (r"#define GLIB_HAVE_ALLOCA_H\n", ""),
    (r"typedef signed long gint64;\ntypedef unsigned long guint64;",
     LL.format("gint64", "guint64")),
    (r"typedef signed long gssize;\ntypedef unsigned long gsize;",
     LL.format("gssize", "gsize")),
    (r"typedef signed long gintptr;\ntypedef unsigned long guintptr;",
     LL.format("gintptr", "guintptr")),
    (r"\(val##L\)", "(G_GNUC_EXTENSION (val##LL))"),
    (r"\(val##UL\)", "(G_GNUC_EXTENSION (val##ULL))"),
    # "l" modifiers and formats of 64-bit types: "ll"
    (r'(#define G_G\w*(MODIFIER|FORMAT)\s+)"l', r'\1"ll'),
    (r"GLIB_SIZEOF_LONG   8", "GLIB_SIZEOF_LONG   4"),
    (r"G_MAXSIZE\tG_MAXULONG", "G_MAXSIZE\tG_MAXUINT64"),
    (r"G_MINSSIZE\tG_MINLONG", "G_MINSSIZE\tG_MININT64"),
    (r"G_MAXSSIZE\tG_MAXLONG", "G_MAXSSIZE\tG_MAXINT64"),
    (r'G_POLLFD_FORMAT "%d"', 'G_POLLFD_FORMAT "%#llx"'),
    (r"\(glong\) \(p\)", "(gint64) (p)"),
    (r"\(gulong\) \(p\)", "(guint64) (p)"),
    (r"\(glong\) \(i\)", "(gint64) (i)"),
    (r"\(gulong\) \(u\)", "(guint64) (u)"),
    (r"#define G_OS_UNIX\n", "#define G_PLATFORM_WIN32\n#define G_OS_WIN32\n"),
    (r"G_THREADS_IMPL_POSIX", "G_THREADS_IMPL_WIN32"),
    (r"\(\(glong\) GINT64_TO_(LE|BE)", r"((glong) GINT32_TO_\1"),
    (r"\(\(gulong\) GUINT64_TO_(LE|BE)", r"((gulong) GUINT32_TO_\1"),
    (r'G_MODULE_SUFFIX "so"', 'G_MODULE_SUFFIX "dll"'),
    (r'typedef int GPid;\n#define G_PID_FORMAT "i"',
     'typedef void * GPid;\n#define G_PID_FORMAT "p"'),
    (r"GLIB_SYSDEF_AF_INET6 10", "GLIB_SYSDEF_AF_INET6 23"),
    (r"G_DIR_SEPARATOR '/'", r"G_DIR_SEPARATOR '\\\\'"),
    (r'G_DIR_SEPARATOR_S "/"', r'G_DIR_SEPARATOR_S "\\\\"'),
    (r"G_SEARCHPATH_SEPARATOR ':'", "G_SEARCHPATH_SEPARATOR ';'"),
    (r'G_SEARCHPATH_SEPARATOR_S ":"', 'G_SEARCHPATH_SEPARATOR_S ";"'),
]
for pattern, repl in replace:
    src, n = re.subn(pattern, repl, src)
    if not n:
        sys.exit("%s: no '%s': a GLib this script does not know"
                 % (sys.argv[1], pattern))
open(sys.argv[2], "w").write("/* Made by %s from %s */\n%s"
                             % (sys.argv[0], sys.argv[1], src))
