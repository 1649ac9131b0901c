#!/usr/bin/env python3
"""Re-wraps a real Ethernet capture for scripts/bench-encap.sh (standard library only).

    python3 scripts/make-encap-bench.py IN.pcap OUT_DIR

writes, from every frame of IN (classic pcap, Ethernet, IPv4 inside):

  vlan.pcap       each frame with an 802.1Q tag (VID 100) after its addresses
  vxlan.pcap      each frame inside Ethernet + IPv4 + UDP 4789 + VXLAN (VNI 42)
  fragments.pcap  each IPv4 packet with more than 64 bytes of payload cut into
                  two fragments (the first 64 bytes of its payload, then the
                  rest), so every data segment is reassembled
  flood.pcap      IN's packet count of first fragments that never complete
                  (distinct identifications), to show the reassembly table's
                  memory bound (1024 datagrams, 16 MiB)

The TCP inside stays IN's; outer headers use documentation addresses.
"""
import os
import struct
import sys


def frames(path):
    with open(path, "rb") as f:
        head = f.read(24)
        magic = struct.unpack("<I", head[:4])[0]
        if magic not in (0xA1B2C3D4, 0xA1B23C4D):
            sys.exit(f"{path}: not a little-endian classic pcap")
        if struct.unpack("<I", head[20:24])[0] != 1:
            sys.exit(f"{path}: not Ethernet")
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                return
            sec, frac, incl, orig = struct.unpack("<IIII", rec)
            yield sec, frac, incl, orig, f.read(incl)


def checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(payload_len, proto, ident, frag=0, src=b"\xc0\x00\x02\x01", dst=b"\xc6\x33\x64\x01"):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + payload_len, ident, frag, 64, proto, 0, src, dst)
    return h[:10] + struct.pack("!H", checksum(h)) + h[12:]


MACS = b"\x00\x00\x5e\x00\x53\x02\x00\x00\x5e\x00\x53\x01"


def vlan(data):
    return data[:12] + b"\x81\x00\x00\x64" + data[12:]


def vxlan(data, orig, n):
    """`data` (a frame `orig` bytes on the wire) inside VXLAN: the outer
    lengths count the whole inner frame, as the wire had it."""
    udp_len = 8 + 8 + orig
    udp = struct.pack("!HHHH", 49152 + n % 16384, 4789, udp_len, 0)
    vx = b"\x08\x00\x00\x00\x00\x00\x2a\x00"
    return MACS + b"\x08\x00" + ipv4(udp_len, 17, n & 0xFFFF) + udp + vx + data


def fragments(data):
    """Two fragments of the IPv4 packet in Ethernet frame `data`, or the frame."""
    ip = data[14:]
    if len(data) < 34 or data[12:14] != b"\x08\x00" or ip[0] != 0x45:
        return [data]
    # A frame the snaplen cut becomes a whole, shorter packet: its TCP
    # header and the payload bytes kept (the bench measures speed, and a
    # reassembly needs every byte).
    total = min(struct.unpack("!H", ip[2:4])[0], len(ip))
    body = ip[20:total]
    if len(body) <= 64:
        return [data]
    ident, proto, src, dst = ip[4:6], ip[9], ip[12:16], ip[16:20]
    (ident,) = struct.unpack("!H", ident)
    out = []
    for off, part, more in ((0, body[:64], 0x2000), (64, body[64:], 0)):
        out.append(data[:14] + ipv4(len(part), proto, ident, more | off // 8, src, dst) + part)
    return out


def main():
    src, out_dir = sys.argv[1], sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    names = ("vlan", "vxlan", "fragments", "flood")
    files = {n: open(os.path.join(out_dir, f"{n}.pcap"), "wb") for n in names}
    it = frames(src)
    header = None
    for n, (sec, frac, _incl, orig, data) in enumerate(it):
        if header is None:
            with open(src, "rb") as f:
                header = f.read(24)
            for f in files.values():
                f.write(header[:16] + struct.pack("<I", 262144) + header[20:])

        def put(name, b, wire=None):
            wire = len(b) if wire is None else wire
            files[name].write(struct.pack("<IIII", sec, frac, len(b), wire) + b)

        # The wrapped frames keep the snaplen's cut: their wire length grows
        # by the headers added.
        put("vlan", vlan(data), orig + 4)
        wrapped = vxlan(data, orig, n)
        put("vxlan", wrapped, orig + len(wrapped) - len(data))
        for piece in fragments(data):
            put("fragments", piece)
        # Distinct keys: the identification, and the destination every 65,536.
        dst = struct.pack("!I", 0xC6336400 + n // 65536 % 256)
        first = MACS + b"\x08\x00" + ipv4(64, 6, n & 0xFFFF, 0x2000, dst=dst) + bytes(64)
        put("flood", first)
    for f in files.values():
        f.close()


if __name__ == "__main__":
    main()
