#!/usr/bin/python3
"""Compares, recipient by recipient, where Postfix routes an address with
what yubin-milter decided about it (relay_diff_test.sh).

  relay_diff.py VARIANTS POSTFIX_OUT MILTER_OUT POSTFIX_LOG MILTER_LOG

POSTFIX_OUT: smtp_probe.py route through Postfix without the milter;
MILTER_OUT: smtp_probe.py rcpts through Postfix with the milter (run -v, so
that accepted recipients are logged too). Postfix's side of each address:
  refused   Postfix itself refused it at RCPT or DATA;
  ours      delivered by local(8) or virtual(8): a domain of this server;
  foreign   handed to the default transport (discard), whose status text
            is the next hop: Postfix would relay it there.
The milter's side: accept or reject, with the domain it read ("local
domain D" / "foreign domain D") or why it refused without one.
Prints one line per address and a summary line
  "holes=N foreign_domain_mismatch=N ours_domain_mismatch=N
   ours_refused_without_routing=N foreign=N ours=N refused=N stricter=N"
where everything up to ours_refused_without_routing must be 0.
"""
import re
import sys


def logged_form(rcpt):
    """The recipient as the milter logs it: trimmed, one pair of <> removed."""
    r = rcpt.strip()
    if len(r) >= 2 and r[0] == "<" and r[-1] == ">":
        r = r[1:-1]
    return "".join(c if 0x20 <= ord(c) < 0x7F or ord(c) >= 0x80 else "?" for c in r)


def main(variants_path, pf_out, milter_out, pf_log, milter_log):
    variants = [l for l in open(variants_path).read().split("\n") if l]
    # Postfix alone: reply per variant, queue id of the accepted ones
    pf = {}
    for line in open(pf_out).read().split("\n"):
        if not line:
            continue
        reply, rcpt = line.split("\t", 1)
        m = re.search(r"queued as ([0-9A-Za-z]+)", reply)
        pf[rcpt] = (reply, m.group(1) if m else None)
    deliveries = {}
    for line in open(pf_log, errors="replace"):
        m = re.search(r" ([0-9A-F]{6,}): to=<([^>]*)>.*?relay=([^,]+),.*status=(\w+) \((.*)\)",
                      line)
        if m and m.group(1) not in deliveries:
            deliveries[m.group(1)] = (m.group(2), m.group(3), m.group(4), m.group(5))
    # the milter: decision per logged recipient
    decided = {}
    for line in open(milter_log, errors="replace"):
        m = re.search(r"(accept|reject|defer): RCPT from .*to=<(.*)> \(([^()]*)\)(?: limit=\S+)?$",
                      line.rstrip("\n"))
        if m:
            decided[m.group(2)] = (m.group(1), m.group(3))
    milter_reply = {}
    for line in open(milter_out).read().split("\n"):
        if line:
            reply, rcpt = line.split("\t", 1)
            milter_reply[rcpt] = reply

    counts = dict(holes=0, foreign_domain_mismatch=0, ours_domain_mismatch=0,
                  ours_refused_without_routing=0, foreign=0, ours=0, refused=0, stricter=0)
    for v in variants:
        reply, qid = pf.get(v, ("(no answer)", None))
        if qid is None or qid not in deliveries:
            side, pdomain, detail = "refused", "", reply[:60]
        else:
            to, relay, status, text = deliveries[qid]
            if relay.startswith("local") or relay.startswith("virtual"):
                side, pdomain = "ours", to.rsplit("@", 1)[-1].lower().rstrip(".")
                detail = "%s -> %s (%s)" % (to, relay, status)
            else:
                side, pdomain = "foreign", text.lower().rstrip(".")
                detail = "%s -> next hop %s" % (to, text)
        counts[side] += 1
        verdict, reason = decided.get(logged_form(v), ("not asked", ""))
        mreply = milter_reply.get(v, "")[:3]
        mdomain = ""
        m = re.match(r"(?:local|foreign) domain (\S+)$", reason)
        if m:
            mdomain = m.group(1).rstrip(".")
        problem = ""
        if side == "foreign" and not mreply.startswith("5") and not mreply.startswith("4"):
            counts["holes"] += 1
            problem = "HOLE: Postfix relays it, the milter let it through"
        elif side == "foreign" and mdomain and mdomain != pdomain:
            counts["foreign_domain_mismatch"] += 1
            problem = "DOMAIN: Postfix routes to %s, the milter read %s" % (pdomain, mdomain)
        elif side == "ours" and verdict == "accept" and mdomain and mdomain != pdomain:
            counts["ours_domain_mismatch"] += 1
            problem = "DOMAIN: Postfix delivers in %s, the milter read %s" % (pdomain, mdomain)
        elif side == "ours" and verdict != "accept":
            if reason.startswith("foreign domain") or reason == "":
                counts["ours_refused_without_routing"] += 1
                problem = "FALSE REFUSAL: Postfix delivers it locally"
            else:
                counts["stricter"] += 1
        print("%-8s %-60s | milter %s %s (%s) | %s%s" % (
            side, v, mreply or "-", verdict, reason, detail, "  <== " + problem if problem else ""))
    print(" ".join("%s=%d" % kv for kv in counts.items()))


if __name__ == "__main__":
    main(*sys.argv[1:6])
