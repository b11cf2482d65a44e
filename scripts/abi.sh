#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# make abi: libsksteer's ABI (an abidw dump) against the committed baseline.
#   scripts/abi.sh BASELINE CURRENT
# Fails when a function or variable of the baseline is removed or changed, the types it
# reaches included. abidiff's own verdict is too lenient for that: it calls only a removal
# incompatible (exit bit 8), and a field's type changed within the struct's padding, which
# breaks every caller, a mere change (bit 4). Functions only added: a warning that the
# baseline wants updating (make abi-update), since the next change must be measured from them.
set -u
baseline=$1 current=$2

if [ ! -f "$baseline" ]; then
	echo "make abi: no baseline $baseline for this architecture: make abi-update writes it" >&2
	exit 1
fi
report=$(abidiff "$baseline" "$current" 2>&1)
rc=$?
if [ $((rc & 3)) != 0 ]; then
	printf '%s\n' "$report" >&2
	echo "make abi: abidiff failed (exit $rc)" >&2
	exit 1
fi
[ "$rc" = 0 ] && exit 0
printf '%s\n' "$report"
if [ $((rc & 8)) != 0 ] ||
	printf '%s\n' "$report" | grep -q -E '\b[1-9][0-9]* (Removed|Changed)\b|SONAME changed'; then
	echo "make abi: libsksteer's ABI changed (above): programs built against $baseline" \
		"may break. Keep what it has and add instead; if the change is compatible after all" \
		"(a field added at the end of a struct the header lets grow), make abi-update" \
		"and commit $baseline" >&2
	exit 1
fi
echo "make abi: warning: libsksteer's ABI grew (above): run make abi-update and commit $baseline" >&2
