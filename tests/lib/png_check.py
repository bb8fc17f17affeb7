#!/usr/bin/env python3
"""png_check.py PNG MIN_WIDTH MIN_HEIGHT: decode a PNG (8-bit gray, RGB or RGBA, not
interlaced, as rsvg-convert writes) with zlib alone and check that it is an image of at least
that size with something drawn on it: some dark pixels (lines, text), most of it light
(the background). Prints "PNG WxH, N dark pixels" and exits 0, or says why and exits 1."""
import struct
import sys
import zlib


def fail(msg):
    print(f"png_check: {msg}", file=sys.stderr)
    sys.exit(1)


def main():
    path, min_w, min_h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail(f"{path} is not a PNG")
    pos, idat, head = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        if zlib.crc32(kind + body) != struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0]:
            fail(f"bad CRC in chunk {kind!r}")
        if kind == b"IHDR":
            head = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    if head is None:
        fail("no IHDR")
    width, height, depth, color, _, _, interlace = head
    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(color)
    if depth != 8 or channels is None or interlace:
        fail(f"unexpected format: depth {depth}, color type {color}, interlace {interlace}")
    if width < min_w or height < min_h:
        fail(f"{width}x{height} is smaller than {min_w}x{min_h}")
    raw = zlib.decompress(idat)
    stride = width * channels
    prev = bytearray(stride)
    dark = light = 0
    for y in range(height):
        ftype = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 0xFF
            elif ftype == 2:
                line[i] = (line[i] + b) & 0xFF
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pred) & 0xFF
        for x in range(0, stride, channels):
            px = line[x:x + channels]
            alpha = px[3] if channels == 4 else px[1] if channels == 2 else 255
            level = sum(px[:3]) / 3 if channels >= 3 else px[0]
            if alpha > 128 and level < 128:
                dark += 1
            elif alpha > 128 and level > 200:
                light += 1
        prev = line
    total = width * height
    if dark < 200:
        fail(f"{width}x{height} looks blank: {dark} dark pixels")
    if light < total // 2:
        fail(f"{width}x{height} has no light background: {light} light pixels of {total}")
    print(f"PNG {width}x{height}, {dark} dark pixels")


main()
