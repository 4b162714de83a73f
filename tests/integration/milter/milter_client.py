#!/usr/bin/python3
"""A protocol-level milter client (what Postfix's milter8 does), for input
miltertest cannot send: its buffers crash on header values over ~60 KB.

  milter_client.py unix:PATH load N       N ordinary messages on one connection
  milter_client.py unix:PATH conns N      N connections of one ordinary message each
                                          (what Postfix does for smtp-source)
  milter_client.py unix:PATH hostile      prints one line per scenario:
                                          "<name>: <reply>"  (reply: continue,
                                          reject, tempfail, "550 5.7.1 text", closed)
"""
import socket
import struct
import sys
import time

NR = 0x1000 | 0x80 | 0x80000  # NR_CONN, NR_HDR, NR_BODY


class Milter:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(120)
        self.s.connect(path)
        self.send(b"O", struct.pack(">III", 6, 0x1FF, 0x1FFFFF))
        cmd, data = self.read()
        assert cmd == b"O", cmd
        _, self.actions, self.proto = struct.unpack(">III", data[:12])

    closed = False

    def send(self, cmd, data=b""):
        if self.closed:
            return
        try:
            self.s.sendall(struct.pack(">I", len(data) + 1) + cmd + data)
        except (BrokenPipeError, ConnectionResetError):
            self.closed = True

    def read(self):
        if self.closed:
            return b"", b""
        hdr = b""
        while len(hdr) < 4:
            chunk = self.s.recv(4 - len(hdr))
            if not chunk:
                return b"", b""
            hdr += chunk
        n = struct.unpack(">I", hdr)[0]
        data = b""
        while len(data) < n:
            chunk = self.s.recv(n - len(data))
            if not chunk:
                return b"", b""
            data += chunk
        return data[:1], data[1:]

    def reply(self):
        """Reads until a final reply; returns it as text."""
        while True:
            cmd, data = self.read()
            if cmd == b"":
                return "closed"
            if cmd in (b"h", b"m", b"i", b"q", b"p", b"+", b"-"):
                continue
            return {b"c": "continue", b"r": "reject", b"t": "tempfail", b"a": "accept",
                    b"d": "discard"}.get(cmd, data.rstrip(b"\0").decode(errors="replace"))

    def step(self, cmd, data, flag):
        self.send(cmd, data)
        if self.proto & flag:
            return "continue"
        return self.reply()

    def connect(self, ip="198.51.100.7"):
        return self.step(b"C", b"client.example.net\0" + b"4" + struct.pack(">H", 25) +
                         ip.encode() + b"\0", 0x1000)

    def mail(self, sender):
        self.send(b"M", sender.encode() + b"\0")
        return self.reply()

    def rcpt(self, r):
        self.send(b"R", r.encode() + b"\0")
        return self.reply()

    def header(self, name, value):
        return self.step(b"L", name + b"\0" + value + b"\0", 0x80)

    def body(self, data):
        if self.proto & 0x10:  # NOBODY
            return "continue"
        return self.step(b"B", data, 0x80000)

    def eom(self):
        self.send(b"E")
        return self.reply()


def begin(m, first=False):
    if first:
        m.connect()
    assert m.mail("<a@client.example.net>") == "continue"
    assert m.rcpt("<taro@example.jp>") == "continue"


def hostile(path):
    ad = b"=?UTF-8?B?5pyq5om/6Ku+5bqD5ZGK?="
    m = Milter(path)
    begin(m, True)
    m.header(b"X-Huge", b"a" * 1000000)
    for _ in range(100000):
        m.header(b"X-Filler", b"v")
    m.header(b"Subject", ad)
    m.body(b"x\r\n")
    print("1 MB field + 100,000 fields + ad:", m.eom())

    m2 = Milter(path)
    begin(m2, True)
    m2.header(b"X-Over", b"a" * (2 * 1024 * 1024))
    print("2 MB field (over the packet limit):", m2.eom())

    begin(m)
    m.header(b"Subject", b"=?ISO-2022-JP?B?GyRC!!!?= =?x?Q?=ZZ?= \xff\xfe =?UTF-8?B?")
    print("broken encodings:", m.eom())

    begin(m)
    m.header(b"Subject", b"big")
    chunk = (b"y" * 78 + b"\r\n") * 800
    t = time.time()
    for _ in range(50 * 1024 * 1024 // len(chunk) + 1):
        m.body(chunk)
    print("50 MB body:", m.eom())
    print("# 50 MB streamed in %.1f s" % (time.time() - t), file=sys.stderr)

    begin(m)
    m.header(b"Subject", b"after all that")
    print("next message on the same connection:", m.eom())


def ordinary(m, body):
    assert m.mail("<sender@client.example.net>") == "continue"
    assert m.rcpt("<taro@example.jp>") == "continue"
    m.header(b"From", b"sender@client.example.net")
    m.header(b"Subject", b"=?ISO-2022-JP?B?GyRCMnFENSROJCpDTiRpJDsbKEI=?=")
    m.body(body)
    assert m.eom() == "continue"


def load(path, n):
    """n ordinary messages on one connection, as Postfix sends them."""
    m = Milter(path)
    m.connect()
    body = (b"z" * 78 + b"\r\n") * 50
    for _ in range(n):
        ordinary(m, body)


def conns(path, n):
    """n connections with one ordinary message each, closed as Postfix does."""
    body = (b"z" * 78 + b"\r\n") * 50
    for _ in range(n):
        m = Milter(path)
        m.connect()
        ordinary(m, body)
        m.send(b"Q")
        m.s.close()


if __name__ == "__main__":
    if sys.argv[2] in ("load", "conns"):
        {"load": load, "conns": conns}[sys.argv[2]](sys.argv[1][len("unix:"):], int(sys.argv[3]))
    else:
        {"hostile": hostile}[sys.argv[2]](sys.argv[1][len("unix:"):])
