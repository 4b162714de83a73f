#!/usr/bin/python3
"""Writes the test messages of postfix_test.sh into DIR."""
import sys
from email.header import Header

d = sys.argv[1]


def msg(name, subject_header, body=b"hello\r\n", extra=b""):
    data = (b"From: sender@client.example.net\r\nTo: taro@example.jp\r\n"
            b"Subject: " + subject_header + b"\r\n" + extra +
            b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\n"
            b"Content-Transfer-Encoding: 7bit\r\n\r\n" + body)
    open("%s/%s.eml" % (d, name), "wb").write(data)


ad = "未承諾広告※ 激安セール"
msg("ad-jis", Header(ad, "iso-2022-jp").encode().encode())
msg("ad-utf8", Header(ad, "utf-8").encode().encode())
msg("ad-sjis", b"=?Shift_JIS?Q?" + "".join("=%02X" % b for b in ad.encode("cp932")).encode() + b"?=")
msg("ad-raw8bit", ad.encode("utf-8"))
msg("ad-split", b"=?ISO-2022-JP?B?GyRCTCQ+NUJ6GyhC?= =?ISO-2022-JP?B?GyRCOS05cCIoGyhC?=")
plain = "会議のお知らせ"
body = "来週の会議は三時からです。\r\nよろしくお願いします。\r\n".encode("iso-2022-jp")
msg("plain-jp", Header(plain, "iso-2022-jp").encode().encode(), body)
msg("forged", b"ordinary", b"hi\r\n", b"X-Yubin-Spam: no\r\nx-yubin-rule: trust-me\r\nX-Yubin-Spam: no\r\n")
for name, size in (("small", 5000), ("mid", 15000), ("big", 30000)):
    line = b"x" * 76 + b"\r\n"
    msg(name, b"size test", line * (size // len(line)))
