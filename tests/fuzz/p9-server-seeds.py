#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Writes hand-made seeds for the p9-server fuzz target into tests/fuzz/corpus/p9-server/: one
# short session per kind of request, against the share the target builds for every input (f,
# d/g, symlinks u a m l d/p; fid 0 attached at its root). An input is a flag byte (bit 0: the
# share is read-only) and then 9P2000.L requests as the guest sends them. The fuzzer finds the
# rest from these; rerun this only when the share or the protocol coverage changes.
import os
import struct
import sys

TAG = 1


def msg(kind, body):
    return struct.pack("<IBH", 7 + len(body), kind, TAG) + body


def s(text):
    b = text.encode()
    return struct.pack("<H", len(b)) + b


def u8(v): return struct.pack("<B", v)
def u16(v): return struct.pack("<H", v)
def u32(v): return struct.pack("<I", v)
def u64(v): return struct.pack("<Q", v)


def walk(fid, newfid, *names):
    return msg(110, u32(fid) + u32(newfid) + u16(len(names)) + b"".join(s(n) for n in names))


def lopen(fid, flags): return msg(12, u32(fid) + u32(flags))
def read(fid, off, count): return msg(116, u32(fid) + u64(off) + u32(count))
def write(fid, off, data): return msg(118, u32(fid) + u64(off) + u32(len(data)) + data)
def clunk(fid): return msg(120, u32(fid))
def remove(fid): return msg(122, u32(fid))
def getattr(fid): return msg(24, u32(fid) + u64(0x3fff))
def readlink(fid): return msg(22, u32(fid))
def statfs(fid): return msg(8, u32(fid))
def fsync(fid, data_only): return msg(50, u32(fid) + u32(data_only))


def setattr(fid, valid, mode=0, uid=0, gid=0, size=0, atime=(0, 0), mtime=(0, 0)):
    return msg(26, u32(fid) + u32(valid) + u32(mode) + u32(uid) + u32(gid) + u64(size) +
               u64(atime[0]) + u64(atime[1]) + u64(mtime[0]) + u64(mtime[1]))


def xattrwalk(fid, newfid, name): return msg(30, u32(fid) + u32(newfid) + s(name))
def xattrcreate(fid, name, size, flags): return msg(32, u32(fid) + s(name) + u64(size) + u32(flags))
def readdir(fid, off, count): return msg(40, u32(fid) + u64(off) + u32(count))
def lcreate(fid, name, flags, mode): return msg(14, u32(fid) + s(name) + u32(flags) + u32(mode) + u32(0))
def symlink(fid, name, target): return msg(16, u32(fid) + s(name) + s(target) + u32(0))
def mknod(fid, name, mode, major, minor): return msg(18, u32(fid) + s(name) + u32(mode) + u32(major) + u32(minor) + u32(0))
def rename(fid, dfid, name): return msg(20, u32(fid) + u32(dfid) + s(name))
def mkdir(fid, name, mode): return msg(72, u32(fid) + s(name) + u32(mode) + u32(0))
def renameat(ofid, oname, nfid, nname): return msg(74, u32(ofid) + s(oname) + u32(nfid) + s(nname))
def unlinkat(fid, name, flags): return msg(76, u32(fid) + s(name) + u32(flags))
def link(dfid, fid, name): return msg(70, u32(dfid) + u32(fid) + s(name))
def flush(tag): return msg(108, u16(tag))
def version(msize, name): return msg(100, u32(msize) + s(name))
def attach(fid, afid, uname, aname, uid): return msg(104, u32(fid) + u32(afid) + s(uname) + s(aname) + u32(uid))
def auth(afid, uname, aname, uid): return msg(102, u32(afid) + s(uname) + s(aname) + u32(uid))


def lock(fid, kind, flags, start, length, proc, client, getlock=False):
    if getlock:
        return msg(54, u32(fid) + u8(kind) + u64(start) + u64(length) + u32(proc) + s(client))
    return msg(52, u32(fid) + u8(kind) + u32(flags) + u64(start) + u64(length) + u32(proc) + s(client))


O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND, O_DIRECTORY = 0, 1, 2, 0o100, 0o1000, 0o2000, 0o200000
SIZE, MODE, UID, GID, ATIME, MTIME, ATIME_SET, MTIME_SET = 8, 1, 2, 4, 16, 32, 128, 256
RD, WR, UN = 0, 1, 2

seeds = {
    "read-file": [walk(0, 1, "f"), lopen(1, O_RDONLY), read(1, 0, 100), read(1, 1 << 40, 10), clunk(1)],
    "read-nested": [walk(0, 1, "d", "g"), lopen(1, O_RDONLY), read(1, 2, 4), getattr(1), clunk(1)],
    "write-file": [walk(0, 1, "f"), lopen(1, O_RDWR | O_APPEND), write(1, 0, b"more"), fsync(1, 0),
                   fsync(1, 1), read(1, 0, 64), getattr(1), clunk(1)],
    "truncate-closed": [walk(0, 1, "f"), setattr(1, SIZE, size=2), setattr(1, SIZE, size=1 << 63),
                        getattr(1), clunk(1)],
    "truncate-open": [walk(0, 1, "f"), lopen(1, O_RDONLY), setattr(1, SIZE, size=3), clunk(1),
                      walk(0, 2, "f"), lopen(2, O_WRONLY | O_TRUNC), setattr(2, SIZE, size=9), clunk(2)],
    "setattr-times": [walk(0, 1, "d"), setattr(1, ATIME | MTIME), setattr(1, ATIME | ATIME_SET, atime=(5, 6)),
                      setattr(1, MTIME | MTIME_SET, mtime=(7, 8)), setattr(1, ATIME | MTIME_SET | MTIME),
                      setattr(1, MODE, mode=0o700), setattr(1, UID | GID, uid=1000, gid=1000),
                      setattr(1, UID, uid=0xffffffff), getattr(1)],
    "readlink": [walk(0, 1, "u"), readlink(1), walk(0, 2, "a"), readlink(2), walk(0, 3, "m"), readlink(3),
                 walk(0, 4, "d", "p"), readlink(4), walk(0, 5, "f"), readlink(5)],
    "walk-out": [walk(0, 1, ".."), walk(0, 2, "d", "..", ".."), walk(0, 3, "u"), walk(0, 4, "l", "f"),
                 walk(0, 5, "d", "p", "f"), walk(0, 6, "a", "x"), walk(0, 7), walk(7, 7, "d"),
                 walk(0, 8, "f", "f"), getattr(6), getattr(7)],
    "open-links": [walk(0, 1, "u"), lopen(1, O_RDONLY), walk(0, 2, "m"), lopen(2, O_RDWR),
                   walk(0, 3, "l"), lopen(3, O_RDONLY | O_DIRECTORY), readdir(3, 0, 512)],
    "xattr-set-get": [walk(0, 1, "f"), xattrcreate(1, "user.t", 3, 0), write(1, 0, b"abc"), clunk(1),
                      walk(0, 2, "f"), xattrwalk(2, 3, "user.t"), read(3, 0, 10), read(3, 2, 10),
                      read(3, 9, 10), clunk(3), xattrwalk(2, 4, ""), read(4, 0, 100), clunk(4),
                      xattrwalk(2, 5, "trusted.x"), xattrwalk(2, 6, "user.none")],
    "xattr-remove": [walk(0, 1, "d"), xattrcreate(1, "user.r", 1, 0), write(1, 0, b"z"), clunk(1),
                     walk(0, 2, "d"), xattrcreate(2, "user.r", 0, 2), clunk(2),
                     walk(0, 3, "d"), xattrcreate(3, "user.s", 4, 0), write(3, 2, b"zz"), write(3, 3, b"zz"),
                     clunk(3), walk(0, 4, "d"), lopen(4, O_RDONLY), xattrcreate(4, "user.q", 1, 0)],
    "lock": [walk(0, 1, "f"), lopen(1, O_RDWR), lock(1, WR, 0, 0, 10, 1, "c"),
             lock(1, RD, 0, 0, 10, 2, "c", getlock=True), lock(1, UN, 0, 0, 10, 1, "c"),
             lock(1, RD, 1, 5, 0, 3, "c"), lock(1, WR, 0, 0, 0, 4, "c", getlock=True), clunk(1)],
    "link": [walk(0, 1, "f"), link(0, 1, "h"), walk(0, 2, "u"), link(0, 2, "v"), walk(0, 3, "d"),
             link(0, 3, "w"), link(3, 1, "h2"), walk(0, 4, "h"), getattr(4)],
    "create": [walk(0, 1), lcreate(1, "n", O_RDWR | O_CREAT, 0o644), write(1, 0, b"new"), read(1, 0, 8),
               clunk(1), walk(0, 2, "d"), lcreate(2, "n", O_WRONLY | O_CREAT, 0o600), clunk(2),
               walk(0, 3), lcreate(3, "f", O_RDWR | O_CREAT, 0o644), lcreate(3, "u", O_RDWR | O_CREAT, 0o644)],
    "make": [mkdir(0, "e", 0o755), symlink(0, "s", "../../x"), mknod(0, "k", 0o10644, 0, 0),
             mknod(0, "c", 0o20644, 1, 3), mknod(0, "b", 0o60644, 8, 0), mknod(0, "r", 0o100644, 0, 0),
             walk(0, 1, "e"), mkdir(1, "inner", 0o700), walk(0, 2, "s"), readlink(2), walk(0, 3, "k"),
             lopen(3, O_RDONLY)],
    "rename": [walk(0, 1, "f"), rename(1, 0, "f2"), walk(0, 2, "d"), rename(1, 2, "f3"), getattr(1),
               renameat(0, "d", 0, "d2"), renameat(0, "u", 2, "u2"), renameat(2, "g", 0, ".."),
               renameat(0, "l", 0, "d2/x"), walk(0, 3, "d2", "f3"), getattr(3)],
    "unlink": [unlinkat(0, "f", 0), unlinkat(0, "d", 0), unlinkat(0, "d", 0x200), walk(0, 1, "d"),
               unlinkat(1, "g", 0), unlinkat(1, "p", 0), unlinkat(0, "d", 0x200), unlinkat(0, "..", 0x200),
               walk(0, 2, "u"), remove(2), walk(0, 3, "l"), remove(3)],
    "readdir": [walk(0, 1), lopen(1, O_RDONLY | O_DIRECTORY), readdir(1, 0, 4096), readdir(1, 2, 40),
                readdir(1, 0, 8), readdir(1, 1 << 62, 100), clunk(1), walk(0, 2, "d"), lopen(2, O_RDONLY),
                readdir(2, 0, 200), walk(0, 3, "f"), readdir(3, 0, 100)],
    "session": [statfs(0), flush(1), auth(9, "u", "", 0), version(512, "9P2000.L"), attach(5, 0xffffffff, "u", "", 0),
                walk(5, 6, "f"), version(4096, "9P2000.u"), attach(7, 0xffffffff, "u", "x", 1000), getattr(7)],
    "clunk-twice": [walk(0, 1, "f"), lopen(1, O_RDONLY), lopen(1, O_RDONLY), clunk(1), clunk(1), read(1, 0, 4),
                    walk(0, 0xffffffff, "f"), clunk(0), getattr(0)],
}

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "p9-server")
for name, msgs in seeds.items():
    for ro in (0, 1):
        with open(os.path.join(out, f"seed-{name}{'-ro' if ro else ''}"), "wb") as f:
            f.write(bytes([ro]) + b"".join(msgs))
print(f"{2 * len(seeds)} seeds written to {out}", file=sys.stderr)
