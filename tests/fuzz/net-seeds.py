#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Writes hand-made seeds for the net fuzz target into tests/fuzz/corpus/net/: a receive queue
# with four 2 KiB buffers and a transmit queue with one frame, in a 64 KiB RAM, and a backend
# stream of two frames (one larger than a buffer: merged, or dropped without MRG_RXBUF), or a
# stream that breaks the framing; a tap's backend (one frame behind a virtio-net header that
# asks for TSO, no length before it: the driver took TSO, or did not and the frame is dropped);
# a transmitted frame whose UDP checksum the guest left to the device. The input layout is
# fuzz_net.c's struct state, the stream, then RAM. Rerun this only when that layout changes.
import os
import struct
import sys

RAM = 64 << 10
NEXT, WRITE = 1, 2


def state(mrg, ready, stream_len):
    # desc[2], avail[2], used[2] (u64), size[2], last_avail[2], used_idx[2] (u16), mrg, ready (u8), stream_len (u16)
    return struct.pack("<6Q6HBBH", 0x0000, 0x3000, 0x1000, 0x4000, 0x2000, 0x5000,
                       8, 8, 0, 0, 0, 0, mrg, ready, stream_len)


def ram(csum=False):
    m = bytearray(RAM)

    def desc(base, i, addr, length, flags, nxt):
        struct.pack_into("<QIHH", m, base + 16 * i, addr, length, flags, nxt)

    for i in range(4):  # receive: four writable 2 KiB buffers
        desc(0x0000, i, 0x8000 + i * 0x800, 0x800, WRITE, 0)
    struct.pack_into("<HH4H", m, 0x1000, 0, 4, 0, 1, 2, 3)
    desc(0x3000, 0, 0x6000, 12, NEXT, 1)  # transmit: the header, then a 60-byte frame
    desc(0x3000, 1, 0x6100, 60, 0, 0)
    m[0x6100:0x6100 + 60] = bytes(range(60))
    if csum:  # NEEDS_CSUM: the sum from byte 34 (a UDP header) to the end, stored at 34 + 6
        struct.pack_into("<BBHHHH", m, 0x6000, 1, 0, 0, 0, 34, 6)
    struct.pack_into("<HHH", m, 0x4000, 0, 1, 0)
    return bytes(m)


def frame(n):
    return struct.pack(">I", n) + bytes((i * 7) & 0xff for i in range(n))


out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "net")
os.makedirs(out, exist_ok=True)
good = frame(100) + frame(3000)
# flags NEEDS_CSUM, gso_type TCPv4, hdr_len 54, gso_size 1448, csum_start 34, csum_offset 16
tso_hdr = struct.pack("<BBHHHHH", 1, 1, 54, 1448, 34, 16, 0)
seeds = {
    "merged": state(1, 3, len(good)) + good + ram(),
    "unmerged": state(0, 3, len(good)) + good + ram(),
    "bad-length": state(1, 3, 8) + b"\xff\xff\xff\xff\x00\x00\x00\x00" + ram(),
    "tx-only": state(1, 2, 0) + ram(),
    "tap": state(1 | 2 | 4 | 8, 3, 3012) + tso_hdr + frame(3000)[4:] + ram(),
    "tap-tso-not-taken": state(1 | 2, 3, 3012) + tso_hdr + frame(3000)[4:] + ram(),
    "csum": state(1 | 4, 3, 0) + ram(csum=True),
}
for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
