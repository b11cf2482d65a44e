# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The fuzzers' committed corpus, replayed: every input under tests/fuzz-corpus through every fuzz
# target (each takes any bytes, and an input written for one is a fair test of the others), built
# as make fuzz builds them, with ASan and UBSan, every report fatal. A crash or a failed check
# names the input. This file owns the replay only: fuzzing, for minutes, is make fuzz's.
. "$(dirname "$0")/lib.sh"
# a sub-make of its own, not a part of the make test that may have started this file
unset MAKEFLAGS MFLAGS MAKELEVEL

# The targets are the loader's parsers, the same bytes on every kernel: an emulated CPU would
# spend minutes building them for nothing the host's run does not check.
if [ -n "${SKSTEER_VMTEST:-}" ]; then
	skip_all "the fuzz corpus: in a vmtest guest, the host's run replays it (no kernel in it)"
fi

# Without clang's libFuzzer runtime nothing here can be built: say so, rather than fail on it.
CLANG=${CLANG:-clang}
echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }' >"$WORK/probe.c"
if ! "$CLANG" -fsanitize=fuzzer,address,undefined "$WORK/probe.c" -o "$WORK/probe" \
	>"$WORK/probe.out" 2>&1; then
	why=$(head -1 "$WORK/probe.out") # without the runtime, the linker's "cannot find ..."
	skip "$CLANG cannot build libFuzzer targets${why:+ ($why)}:" \
		"install clang's runtime, libclang-rt-dev ('make deps')"
	done_testing
	exit
fi

ok "make fuzz-build builds the fuzz targets" make -C "$TOP" -s fuzz-build
fuzzers=()
for src in "$TOP"/tests/fuzz_*.c; do
	name=$(basename "$src" .c)
	fuzzers+=("$name")
	ok "tests/$name.c is one of make fuzz's (FUZZERS): $name is built" test -x "$TOP/.output/$name"
done

mapfile -t inputs < <(cd "$TOP" && find tests/fuzz-corpus -type f | sort)
like "tests/fuzz-corpus has inputs" "^[1-9]" "${#inputs[@]}"

# Given files rather than directories, libFuzzer runs each once and writes nothing but a crash's
# input (-artifact_prefix: here, not in the tree); each input is reported as Executed.
for name in "${fuzzers[@]}"; do
	[ -x "$TOP/.output/$name" ] || continue
	out=$WORK/$name.out
	(cd "$TOP" && timeout 120 ".output/$name" -timeout=10 -artifact_prefix="$WORK/$name-" \
		"${inputs[@]}") >"$out" 2>&1
	rc=$?
	ran=$(grep -ac '^Executed ' "$out")
	if [ "$rc" = 0 ] && [ "$ran" = "${#inputs[@]}" ]; then
		result "$name runs the ${#inputs[@]} inputs of tests/fuzz-corpus" 0
	else
		# the input it was on; then its report, less libFuzzer's chatter (and with the bytes
		# a check quotes made visible: TAP is lines of text)
		last=$(grep -a '^Running: ' "$out" | tail -1)
		result "$name runs the ${#inputs[@]} inputs of tests/fuzz-corpus" 1 \
			"$name failed (exit $rc, $ran of ${#inputs[@]} run) on ${last#Running: }" \
			"$(grep -aEv '^(INFO: |Running|Executed |NOTE: libFuzzer| +Combine libFuzzer)' "$out" |
				head -25 | cat -v)"
	fi
done

done_testing
