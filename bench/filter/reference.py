#!/usr/bin/python3
# Python reference filter: email.header + unicodedata NFKC, in-process.
# Usage: reference.py SECONDS FILE...   prints "python N msg/s hits=H/M"
# Time is this process's CPU time, as bench_filter measures its own.
import email, email.header, re, sys, time, unicodedata
WS = re.compile(r"\s+")
def is_ad(raw):
    msg = email.message_from_bytes(raw)
    for v in msg.get_all("Subject") or []:
        try:
            parts = email.header.decode_header(str(v))
            text = "".join(p.decode(c or "utf-8", "replace") if isinstance(p, bytes) else p
                           for p, c in parts)
        except (LookupError, ValueError):
            text = str(v)
        if "未承諾広告" in WS.sub("", unicodedata.normalize("NFKC", text)):
            return True
    return False
secs = float(sys.argv[1]); files = sys.argv[2:]
data = [open(f, "rb").read() for f in files]
n = hits = 0; t0 = time.process_time()
while time.process_time() - t0 < secs:
    for d in data:
        hits += is_ad(d); n += 1
el = time.process_time() - t0
print("python %.0f msg/s hits=%d/%d" % (n / el, hits // (n // len(data)), len(data)))
