#!/bin/sh
# test_cli.sh CLNET - the clnet command's exit codes and messages for the error
# paths of `devices` and `selftest`, and a passing selftest of the device's class.
clnet="$1"
fails=0 passes=0
check() { # name, expected exit ("0" or "nonzero"), pattern, command...
    name=$1 want=$2 pat=$3
    shift 3
    out=$("$@" 2>&1)
    code=$?
    ok=1
    if [ "$want" = 0 ] && [ $code -ne 0 ]; then ok=0; fi
    if [ "$want" = nonzero ] && [ $code -eq 0 ]; then ok=0; fi
    printf '%s' "$out" | grep -q -- "$pat" || ok=0
    if [ $ok = 1 ]; then passes=$((passes + 1)); echo "PASS $name"
    else fails=$((fails + 1)); echo "FAIL $name (exit $code): $out"; fi
}
check devices-lists-a-class 0 "class " "$clnet" devices
check no-platform nonzero "no OpenCL platform" env OCL_ICD_VENDORS=/nonexistent "$clnet" devices
check index-out-of-range nonzero "out of range" "$clnet" selftest --device 99
check unknown-device-name nonzero "no-such-name" "$clnet" selftest --device no-such-name
check bad-class nonzero "expected dgpu, igpu, cpu or all" "$clnet" selftest --class tpu
check bad-env-class nonzero "CLNET_DEVICE_CLASS=tpu" env CLNET_DEVICE_CLASS=tpu "$clnet" selftest
check unknown-command nonzero "unknown command" "$clnet" frobnicate
check selftest-passes 0 "selftest passed" "$clnet" selftest --verbose
check selftest-second-run-compiles-nothing 0 "programs: 0 built from source" "$clnet" selftest --verbose
spec=$(mktemp)
printf '[image]\nop = input\nshape = 28, 28, 1\n[conv]\nop = conv2d\nfilters = 8\nkernel_size = 3\n[pool]\nop = global_avg_pool\n[logits]\nop = dense\nunits = 10\n' >"$spec"
check summary-counts 0 "Total params: 170" "$clnet" summary "$spec"
printf '[image]\nop = input\nshape = 28, 28, 1\n[conv]\nop = conv2d\nkernel_size = 3\n' >"$spec"
check summary-bad-spec nonzero "line 4 \[conv\]: key 'filters'" "$clnet" summary "$spec"
check summary-missing-file nonzero "cannot read" "$clnet" summary /nonexistent/net.spec
rm -f "$spec"
echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
