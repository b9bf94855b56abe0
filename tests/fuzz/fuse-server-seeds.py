#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Writes hand-made seeds for the fuse-server fuzz target into tests/fuzz/corpus/fuse-server/:
# one short session per kind of request, against the share the target builds for every input
# (f, d/g, symlinks u a m l d/p; the root is node 1, and nodes are numbered as looked up: the
# first new one is 2). An input is a flag byte (bit 0: read-only; bit 1: a volume's cache
# policy) and then FUSE requests as the guest sends them.
import os
import struct
import sys

# opcodes of <linux/fuse.h>
LOOKUP, FORGET, GETATTR, SETATTR, READLINK, SYMLINK, MKNOD, MKDIR, UNLINK, RMDIR, RENAME, LINK, \
    OPEN, READ, WRITE, STATFS, RELEASE = 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18
SETXATTR, GETXATTR, LISTXATTR, REMOVEXATTR, FLUSH = 21, 22, 23, 24, 25
OPENDIR, READDIR, RELEASEDIR, CREATE, BATCH_FORGET, FALLOCATE, READDIRPLUS, RENAME2, LSEEK, \
    COPY_FILE_RANGE = 27, 28, 29, 35, 42, 43, 44, 45, 46, 47
unique = 0


def req(op, node, body=b""):
    global unique
    unique += 1
    return struct.pack("<IIQQIIIHH", 40 + len(body), op, unique, node, 0, 0, 1, 0, 0) + body


def name(s): return s.encode() + b"\0"


def read_in(fh, off, size): return struct.pack("<QQIIQII", fh, off, size, 0, 0, 0, 0)


def open_in(flags): return struct.pack("<II", flags, 0)


sessions = {
    "lookup-getattr": [req(LOOKUP, 1, name("f")), req(GETATTR, 2, struct.pack("<IIQ", 0, 0, 0))],
    "escape-links": [req(LOOKUP, 1, name("u")), req(LOOKUP, 2, name("x")), req(READLINK, 2),
                     req(LOOKUP, 1, name("a")), req(OPEN, 3, open_in(0)),
                     req(LOOKUP, 1, name("..")), req(LOOKUP, 1, name("d/p"))],
    "read": [req(LOOKUP, 1, name("f")), req(OPEN, 2, open_in(0)), req(READ, 2, read_in(0, 0, 4096)),
             req(LSEEK, 2, struct.pack("<QQII", 0, 0, 3, 0)), req(FLUSH, 2, struct.pack("<QIIQ", 0, 0, 0, 0)),
             req(RELEASE, 2, struct.pack("<QIIQ", 0, 0, 0, 0))],
    "create-write": [req(CREATE, 1, struct.pack("<IIII", 2, 0o100644, 0, 0) + name("n")),
                     req(WRITE, 2, struct.pack("<QQIIQII", 0, 0, 5, 0, 0, 0, 0) + b"hello"),
                     req(FALLOCATE, 2, struct.pack("<QQQII", 0, 0, 8192, 0, 0)),
                     req(SETATTR, 2, struct.pack("<IIQQQQQQIIIIIIII", 8, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)),
                     req(RELEASE, 2, struct.pack("<QIIQ", 0, 0, 0, 0))],
    "copy": [req(CREATE, 1, struct.pack("<IIII", 2, 0o100644, 0, 0) + name("n")),
             req(LOOKUP, 1, name("f")), req(OPEN, 3, open_in(0)),
             req(COPY_FILE_RANGE, 3, struct.pack("<QQQQQQQ", 1, 0, 2, 0, 4096, 1 << 40, 0)),
             req(COPY_FILE_RANGE, 3, struct.pack("<QQQQQQQ", 1, 1 << 63, 2, 0, 0, 8, 0)),
             req(RELEASE, 3, struct.pack("<QIIQ", 1, 0, 0, 0)), req(RELEASE, 2, struct.pack("<QIIQ", 0, 0, 0, 0))],
    "dirs": [req(MKDIR, 1, struct.pack("<II", 0o755, 0) + name("e")), req(OPENDIR, 1, open_in(0)),
             req(READDIRPLUS, 1, read_in(0, 0, 4096)), req(READDIR, 1, read_in(0, 0, 4096)),
             req(RELEASEDIR, 1, struct.pack("<QIIQ", 0, 0, 0, 0)), req(RMDIR, 1, name("e"))],
    "names": [req(SYMLINK, 1, name("s") + name("/etc/passwd")), req(LOOKUP, 1, name("f")),
              req(LINK, 1, struct.pack("<Q", 3) + name("h")), req(RENAME, 1, struct.pack("<Q", 1) + name("h") + name("i")),
              req(RENAME2, 1, struct.pack("<QII", 1, 1, 0) + name("i") + name("f")),
              req(MKNOD, 1, struct.pack("<IIII", 0o10644, 0, 0, 0) + name("p")),
              req(UNLINK, 1, name("i")), req(STATFS, 1)],
    "xattr-forget": [req(LOOKUP, 1, name("f")),
                     req(SETXATTR, 2, struct.pack("<II", 1, 0) + name("user.a") + b"1"),
                     req(GETXATTR, 2, struct.pack("<II", 0, 0) + name("user.a")),
                     req(LISTXATTR, 2, struct.pack("<II", 256, 0)), req(REMOVEXATTR, 2, name("user.a")),
                     req(FORGET, 2, struct.pack("<Q", 1)), req(GETATTR, 2, struct.pack("<IIQ", 0, 0, 0)),
                     req(BATCH_FORGET, 0, struct.pack("<II", 1, 0) + struct.pack("<QQ", 2, 1))],
}
out = os.path.join(os.path.dirname(os.path.abspath(sys.argv[0])), "corpus", "fuse-server")
os.makedirs(out, exist_ok=True)
for label, reqs in sessions.items():
    for flags in (0, 1, 2):
        with open(os.path.join(out, f"{label}-{flags}"), "wb") as f:
            f.write(bytes([flags]) + b"".join(reqs))
