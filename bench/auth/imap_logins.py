#!/usr/bin/python3
"""IMAP logins/s against one server: imap_logins.py PORT USERS_FILE SECONDS CLIENTS

USERS_FILE has "user password" lines. CLIENTS processes each log in over and
over for SECONDS (connect, LOGIN, LOGOUT; plaintext on loopback, so that the
figure is the cost of authentication and of Dovecot's login processes, not of
TLS), cycling through the users. Prints "<ok logins/s> <failed logins>"."""
import multiprocessing
import socket
import sys
import time


def read_until(sock, buf, tag):
    while True:
        for line in buf.split(b"\r\n")[:-1]:
            if line.startswith(tag + b" "):
                return line, buf
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk


def worker(args):
    port, users, seconds, offset = args
    ok = failed = 0
    end = time.monotonic() + seconds
    i = offset
    while time.monotonic() < end:
        user, pw = users[i % len(users)]
        i += 1
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
                buf = b""
                while b"\r\n" not in buf:
                    buf += s.recv(4096)
                buf = b""
                s.sendall(b'a LOGIN "%s" "%s"\r\n' % (user.encode(), pw.encode()))
                line, buf = read_until(s, buf, b"a")
                if not line.startswith(b"a OK"):
                    failed += 1
                    continue
                s.sendall(b"b LOGOUT\r\n")
                read_until(s, b"", b"b")
                ok += 1
        except (OSError, ConnectionError):
            failed += 1
    return ok, failed


def main():
    port, users_file, seconds, clients = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
    users = [tuple(l.split()) for l in open(users_file) if l.strip()]
    start = time.monotonic()
    with multiprocessing.Pool(clients) as p:
        res = p.map(worker, [(port, users, seconds, k * 7) for k in range(clients)])
    took = time.monotonic() - start
    ok = sum(r[0] for r in res)
    failed = sum(r[1] for r in res)
    print("%.1f %d" % (ok / took, failed))


if __name__ == "__main__":
    main()
