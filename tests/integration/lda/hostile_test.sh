#!/bin/bash
# yubin-lda on hostile messages, run as Postfix's local(8) would run it:
# delivered unchanged (behind the two added headers) or failed cleanly,
# never truncated silently.
source "$(dirname "$0")/../lib/tap.sh"
BIN=${YUBIN_BIN:?}
home=$T/home
mkdir -p "$home"; chown nobody "$home"
printf 'lda_message_size_limit = 62914560\n' >"$T/yubin.cf"
chmod 0644 "$T/yubin.cf"

deliver() {  # deliver FILE: exit status of one delivery
    setpriv --reuid=nobody --regid=nogroup --clear-groups \
        env HOME="$home" USER=nobody RECIPIENT=u@example.test SENDER=s@example.org \
        "$BIN/yubin-lda" -c "$T/yubin.cf" <"$1"
}
deliver_pipe() {  # deliver_pipe FILE: the same through a pipe, as local(8) and pipe(8) give it
    cat "$1" | setpriv --reuid=nobody --regid=nogroup --clear-groups \
        env HOME="$home" USER=nobody RECIPIENT=u@example.test SENDER=s@example.org \
        "$BIN/yubin-lda" -c "$T/yubin.cf"
}
newest() { ls -t "$home/Maildir/new/"* 2>/dev/null | head -1; }
same() {  # same SENT: the newest file is the added headers + SENT, byte for byte
    local f
    f=$(newest)
    [[ -n $f ]] || return 1
    cmp -s "$f" <(printf 'Return-Path: <s@example.org>\nDelivered-To: u@example.test\n'; cat "$1")
}

printf 'Subject: no separator\nX-A: b' >"$T/nosep"
check_status "no header/body separator: delivered" 0 deliver "$T/nosep"
check_status "no header/body separator: unchanged" 0 same "$T/nosep"

printf 'Subject: nul\0bytes\n\nbody\0with\0nuls\n' >"$T/nul"
check_status "NUL bytes: delivered" 0 deliver "$T/nul"
check_status "NUL bytes: unchanged" 0 same "$T/nul"

{ printf 'Subject: long line\n\n'; head -c 1048576 /dev/zero | tr '\0' 'L'; printf '\nend\n'; } >"$T/long"
check_status "1 MB line: delivered" 0 deliver "$T/long"
check_status "1 MB line: unchanged" 0 same "$T/long"

{ printf 'Subject: big\n\n'; head -c 52428800 /dev/zero | tr '\0' 'B' | fold -w 998; } >"$T/big"
check_status "50 MB body: delivered" 0 deliver "$T/big"
check_status "50 MB body: unchanged" 0 same "$T/big"
check_status "50 MB body through a pipe (streamed): delivered" 0 deliver_pipe "$T/big"
check_status "50 MB body through a pipe: unchanged" 0 same "$T/big"
check_status "1 MB line through a pipe: delivered" 0 deliver_pipe "$T/long"
check_status "1 MB line through a pipe: unchanged" 0 same "$T/long"

printf 'From someone@example.org Sun Nov 29 10:00:00 2026\n' >"$T/fromonly"
check_status "a From_ line only: delivered" 0 deliver "$T/fromonly"
check_eq "a From_ line only: just the added headers" "$(cat "$(newest)")" \
    "$(printf 'Return-Path: <s@example.org>\nDelivered-To: u@example.test')"

count=$(ls "$home/Maildir/new" | wc -l)
{ printf 'Subject: too big\n\n'; head -c 70000000 /dev/zero | tr '\0' 'T'; } >"$T/toobig"
check_status "over lda_message_size_limit: 5.3.4, exit 65" 65 deliver "$T/toobig"
check_contains "over the limit: the reason is on stdout for Postfix" "5.3.4 message too big" "$T/out"
check_eq "over the limit: nothing delivered" "$(ls "$home/Maildir/new" | wc -l)" "$count"
check_status "over the limit through a pipe (streamed): exit 65" 65 deliver_pipe "$T/toobig"
check_contains "over the limit through a pipe: 5.3.4 on stdout" "5.3.4 message too big" "$T/out"
check_eq "over the limit through a pipe: nothing delivered" "$(ls "$home/Maildir/new" | wc -l)" "$count"
check_eq "nothing left in tmp/" "$(ls "$home/Maildir/tmp" | wc -l)" "0"

check_status "run as root: refused with 75" 75 env HOME="$home" "$BIN/yubin-lda" -c "$T/yubin.cf" </dev/null
finish
