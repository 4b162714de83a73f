# Shared helpers for integration tests: numbered checks, a temp directory
# cleaned on exit, and a final "N passed, M failed" line.
set -u
passed=0
failed=0
T=$(mktemp -d /tmp/yubin-test.XXXXXX)
chmod 0755 "$T"
cleanup_hooks=()
on_exit() {
    local h
    for h in "${cleanup_hooks[@]}"; do eval "$h" || true; done
    rm -rf "$T"
}
trap on_exit EXIT

ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }

# check DESCRIPTION WANT_STATUS COMMAND...: runs COMMAND, compares its exit status.
check_status() {
    local desc=$1 want=$2
    shift 2
    local got=0
    "$@" >"$T/out" 2>"$T/err" || got=$?
    if [[ $got == "$want" ]]; then ok "$desc"; else
        not_ok "$desc: exit status $got, want $want"
        sed 's/^/#   out: /' "$T/out" | head -20
        sed 's/^/#   err: /' "$T/err" | head -20
    fi
}
# check_output DESCRIPTION WANT_SUBSTRING FILE
check_contains() {
    local desc=$1 want=$2 file=$3
    if grep -qF -- "$want" "$file"; then ok "$desc"; else
        not_ok "$desc: \"$want\" not in $(basename "$file")"
        sed 's/^/#   /' "$file" | head -20
    fi
}
check_eq() {
    local desc=$1 got=$2 want=$3
    if [[ "$got" == "$want" ]]; then ok "$desc"; else not_ok "$desc: got \"$got\", want \"$want\""; fi
}
finish() {
    echo "$passed passed, $failed failed"
    [[ $failed -eq 0 && $passed -gt 0 ]]
}
