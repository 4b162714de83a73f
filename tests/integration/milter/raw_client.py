#!/usr/bin/python3
"""Malformed milter protocol input, which libmilter and yubin-milter must
survive: absurd declared lengths, truncated packets, unknown commands,
close right after connect or after negotiation only.
  raw_client.py unix:PATH
"""
import socket
import struct
import sys

path = sys.argv[1][len("unix:"):]


def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    return s


def packet(cmd, data=b""):
    return struct.pack(">I", len(data) + 1) + cmd + data


def negotiate(s):
    # version 6, all actions, no protocol flags offered
    s.sendall(packet(b"O", struct.pack(">III", 6, 0x1FF, 0)))
    hdr = s.recv(4)
    return len(hdr) == 4


cases = []
s = conn(); s.close(); cases.append("close right after connect")
s = conn(); ok = negotiate(s); s.close(); cases.append("close after negotiate only: %s" % ok)
s = conn(); s.sendall(b"\xff\xff\xff\xff" + b"O" * 100); s.close(); cases.append("length 4 GB")
s = conn(); s.sendall(struct.pack(">I", 100) + b"O\x00\x00"); s.close(); cases.append("truncated packet")
s = conn(); s.sendall(struct.pack(">I", 0)); s.close(); cases.append("zero length")
s = conn(); negotiate(s); s.sendall(packet(b"Z", b"junk")); s.close(); cases.append("unknown command")
s = conn(); negotiate(s); s.sendall(packet(b"M", b"no-nul-terminator")); s.close(); cases.append("MAIL without NUL")
s = conn(); negotiate(s); s.sendall(packet(b"R", b"")); s.close(); cases.append("empty RCPT")
s = conn(); negotiate(s); s.sendall(packet(b"L", b"\x00\x00")); s.close(); cases.append("header of two NULs")
s = conn(); negotiate(s); s.sendall(packet(b"E")); s.close(); cases.append("EOM with nothing before")
for c in cases:
    print("sent:", c)
