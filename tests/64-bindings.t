# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The bindings table (issue 27's structure: src/bpf/bindings.bpf.h, src/lib/bindings.c) held to
# a plain model of "most specific wins": 10,000 random bindings, nested and overlapping prefixes
# of every length, port ranges, both families and protocols; 100,000 random lookups through
# BPF_PROG_TEST_RUN of the real lookup, each verdict the model's; the tables read back from the
# kernel's maps; then six switches between sets that differ in 1,000 bindings (routes alone: in
# place; prefixes too: swapped whole) while a thread hammers lookups, every verdict the old
# route or the new. Two fixed seeds and one new each run (its seed is printed, to replay it:
# .output/bindings_check OBJ 10000 100000 SEED).
. "$(dirname "$0")/lib.sh"

check=$TOP/.output/bindings_check
obj=$TOP/.output/bindings.bpf.o
bindings=10000 lookups=100000 seeds="1 2 $(date +%s)"
# an emulated guest's CPU: the model's brute force over 10,000 bindings is its cost
if [ -n "${SKSTEER_VMTEST:-}" ]; then
	lookups=20000 seeds=1
fi

for seed in $seeds; do
	"$check" "$obj" "$bindings" "$lookups" "$seed" >"$WORK/check" 2>&1
	result "seed $seed: $bindings bindings, $lookups lookups and six switches: the program's verdicts are the model's" \
		$? "$(cat "$WORK/check")"
	grep '^# \(IPv\|[0-9]* of\|kernel writes\)' "$WORK/check"
done

done_testing
