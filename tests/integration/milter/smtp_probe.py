#!/usr/bin/python3
"""SMTP driver for the milter integration tests.

  smtp_probe.py rcpts PORT SENDER < rcpt-list     one RCPT per input line, RSET between;
                                                  prints "<code> <text>\t<rcpt>" per line
  smtp_probe.py route PORT SENDER < rcpt-list     like rcpts, but each accepted recipient
                                                  gets a small message (DATA), so that
                                                  Postfix routes it; the DATA reply
                                                  carries the queue id
  smtp_probe.py send PORT SENDER RCPT FILE [--no-size] [--stage]
                                                  sends FILE as the message (RCPT may be
                                                  several addresses, comma separated);
                                                  prints the final reply "<code> <text>",
                                                  with --stage prefixed by the command
                                                  that got it: "MAIL ", "RCPT " or "DATA "
"""
import os
import smtplib
import sys


def connect(port):
    # PROBE_SOURCE: the client address to connect from (e.g. 127.0.0.2)
    src = os.environ.get("PROBE_SOURCE")
    s = smtplib.SMTP("127.0.0.1", int(port), timeout=30,
                     source_address=(src, 0) if src else None)
    s.ehlo("client.example.net")
    # PROBE_LOGIN=user:password authenticates (SASL PLAIN) before sending
    login = os.environ.get("PROBE_LOGIN")
    if login:
        user, password = login.split(":", 1)
        s.login(user, password)
    return s


def rcpts(port, sender):
    s = connect(port)
    for line in sys.stdin.read().split("\n"):
        if line == "":
            continue
        s.rset()
        code, msg = s.docmd("MAIL FROM:<%s>" % sender)
        if code != 250:
            print("%d %s\t%s" % (code, msg.decode(errors="replace"), line))
            continue
        code, msg = s.docmd("RCPT TO:" + line)
        print("%d %s\t%s" % (code, msg.decode(errors="replace").replace("\n", " "), line))
    s.quit()


def route(port, sender):
    s = connect(port)
    for line in sys.stdin.read().split("\n"):
        if line == "":
            continue
        s.rset()
        code, msg = s.docmd("MAIL FROM:<%s>" % sender)
        if code == 250:
            code, msg = s.docmd("RCPT TO:" + line)
        if code == 250:
            code, msg = s.data(b"Subject: route test\r\n\r\nhello\r\n")
        print("%d %s\t%s" % (code, msg.decode(errors="replace").replace("\n", " "), line))
    s.quit()


def send(port, sender, rcpt, path, declare_size=True, stage=False):
    def show(cmd, code, msg):
        print("%s%d %s" % (cmd + " " if stage else "", code, msg.decode(errors="replace")))

    data = open(path, "rb").read()
    s = connect(port)
    mail = "MAIL FROM:<%s>" % sender
    if declare_size:
        mail += " SIZE=%d" % len(data)
    code, msg = s.docmd(mail)
    if code != 250:
        show("MAIL", code, msg)
        return
    for r in rcpt.split(","):
        code, msg = s.docmd("RCPT TO:<%s>" % r)
        if code != 250:
            show("RCPT", code, msg)
            return
    code, msg = s.data(data)
    show("DATA", code, msg)
    s.quit()


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "rcpts":
        rcpts(sys.argv[2], sys.argv[3])
    elif cmd == "route":
        route(sys.argv[2], sys.argv[3])
    elif cmd == "send":
        send(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], "--no-size" not in sys.argv,
             "--stage" in sys.argv)
    else:
        sys.exit("unknown command " + cmd)
