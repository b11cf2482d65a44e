# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# --config FILE --watch: the file applied again whenever it changes, by rewrite, by rename (an
# editor) or by a Kubernetes ConfigMap's ..data symlink swap, with zero failed connections on
# the ports that stay; a file that fails keeps the steering as it was, says FILE:LINE, and the
# next good one is applied; a file that goes, SIGHUP, SIGTERM; --serve-metrics in the same
# process shows the file's applies.
. "$(dirname "$0")/lib.sh"

ADDR=127.0.0.1:9917
serve --label=A 127.0.0.1:9000
# steered PORTS: the live steering's ports, as --save has them
steered() { "$SKSTEER" --save | sed -n 's/^tcp 127\.0\.0\.1:9000 \([^ ]*\).*/\1/p'; }
# until_steered PORTS: until the watcher has applied them (5 s at most)
until_steered() { eventually "[ \"\$(steered)\" = $1 ]"; }
# watch_start FILE [ARGS...]: a watcher in the background, in WATCHER, its stderr in watch.err
watch_start() {
	local file=$1
	shift
	"$SKSTEER" --config "$file" --watch "$@" 2>"$WORK/watch.err" &
	WATCHER=$!
	PIDS+=("$WATCHER")
}
sample() { curl -s --max-time 5 "http://$ADDR/metrics" | grep "^$1" | awk '{ print $2 }'; }

# Bad input: one line, exit 64
for args in "--watch" "--config - --watch" "--config $WORK/f --watch --dry-run" \
	"--config $WORK/f --serve-metrics $ADDR" "--config $WORK/f --watch --all-netns"; do
	# shellcheck disable=SC2086 # the words of args
	run_sksteer $args
	is "$args: refused, one line" "64 1" "$RC $(echo "$STDERR" | grep -c '^sksteer: ')"
done

# A plain file: rewritten in place, then renamed over as an editor saves
mkdir "$WORK/etc"
CONF=$WORK/etc/sksteer.conf
echo "tcp 127.0.0.1:9000 80" >"$CONF"
watch_start "$CONF" --serve-metrics "$ADDR"
ok "the file is applied" until_steered 80
loop_start --expect=A:80 127.0.0.1:80
echo "tcp 127.0.0.1:9000 80,81" >"$CONF"
ok "rewritten in place: applied" until_steered 80-81
echo "tcp 127.0.0.1:9000 80,82" >"$WORK/new"
mv "$WORK/new" "$CONF"
ok "renamed over: applied" until_steered 80,82
# written in place slowly, as a shell's '>' does: truncated first, the text 0.5 s later
{
	echo "tcp 127.0.0.1:9000 80,82,87" >"$WORK/slow"
	exec {slow}>"$CONF"
	echo "tcp 127.0.0.1:9000 80,83" >"$WORK/etc/other" # events about another file meanwhile
	sleep 0.5
	cat "$WORK/slow" >&"$slow"
	exec {slow}>&-
}
ok "written slowly in place: read once closed, never half (nothing detached on the way)" \
	until_steered 80,82,87
is "it reaches 82" A:82 "$(dial 127.0.0.1:82)"
is "quiet while all is well" "" "$(cat "$WORK/watch.err")"
is "its own applies, served: 4 took" "1 4 0" \
	"$(sample sksteer_config_last_apply_successful) $(sample 'sksteer_config_applies_total{.*ok') $(sample 'sksteer_config_applies_total{.*failed')"

# A file that fails: the steering as it was, FILE:LINE, and the next good one applied
saved=$("$SKSTEER" --save)
before=$(sample sksteer_last_apply_timestamp_seconds)
printf 'tcp 127.0.0.1:9000 80,83\nbogus\n' >"$WORK/new"
mv "$WORK/new" "$CONF"
eventually '[ -s "$WORK/watch.err" ]'
like "a file that does not parse: one line with FILE:LINE" "^sksteer: $CONF:2: unknown keyword 'bogus'" \
	"$(cat "$WORK/watch.err")"
is "... and the steering is as it was" "$saved" "$("$SKSTEER" --save)"
is "... failed, served: the file's and the namespace's record" "0 1 0" \
	"$(sample sksteer_config_last_apply_successful) $(sample 'sksteer_config_applies_total{.*failed') $(sample sksteer_last_apply_successful)"
printf 'tcp 127.0.0.1:9999 84\ntcp 127.0.0.1:9000 80,84\n' >"$WORK/new"
mv "$WORK/new" "$CONF"
eventually '[ "$(grep -c . "$WORK/watch.err")" = 2 ]'
like "a file that does not apply (a target not listening): one line" \
	"127\.0\.0\.1:9999" "$(tail -n 1 "$WORK/watch.err")"
is "... and the steering is as it was" "$saved" "$("$SKSTEER" --save)"
echo "tcp 127.0.0.1:9000 80,85" >"$CONF"
ok "the next good file is applied" until_steered 80,85
is "... took: the file's and the namespace's record" "1 1" \
	"$(sample sksteer_config_last_apply_successful) $(sample sksteer_last_apply_successful)"

# A file that goes: one line, the steering as it was; back, it is applied
rm "$CONF"
eventually '[ "$(grep -c . "$WORK/watch.err")" = 3 ]'
like "a file that goes: one line" "$CONF.*the steering stays as it was$" "$(tail -n 1 "$WORK/watch.err")"
is "... and it stays" 80,85 "$(steered)"
echo "tcp 127.0.0.1:9000 80,86" >"$CONF"
ok "back: applied" until_steered 80,86

# An apply that fails for a cause that goes (a target's server not started yet): tried again,
# the same bytes, until it takes; its failure said once
echo "tcp 127.0.0.1:9000 80,86
tcp 127.0.0.1:9001 91" >"$CONF"
eventually '[ "$(grep -c . "$WORK/watch.err")" = 4 ]'
like "a target not listening yet: one line" "127\.0\.0\.1:9001" "$(tail -n 1 "$WORK/watch.err")"
serve --label=B 127.0.0.1:9001
eventually '[ "$(dial 127.0.0.1:91)" = B:91 ]' 500
is "once it listens, the unchanged file is applied (tried again)" B:91 "$(dial 127.0.0.1:91)"
is "... its failure said once" 4 "$(grep -c . "$WORK/watch.err")"
echo "tcp 127.0.0.1:9000 80,86" >"$CONF"
ok "(B's line gone again)" until_steered 80,86

# Gone, and back with the very same bytes: applied, its failure undone in the record
cp "$CONF" "$WORK/same"
rm "$CONF"
eventually '[ "$(sample sksteer_last_apply_successful)" = 0 ]'
is "gone: the failure recorded" 0 "$(sample sksteer_last_apply_successful)"
cp "$WORK/same" "$CONF"
eventually '[ "$(sample sksteer_last_apply_successful)" = 1 ]'
is "back, the same: applied, recorded as taken" "1 80,86" "$(sample sksteer_last_apply_successful) $(steered)"

# A plain file replaced by a symlink to another directory's, then that one rewritten
mkdir "$WORK/elsewhere"
echo "tcp 127.0.0.1:9000 80,92" >"$WORK/elsewhere/real.conf"
ln -sfn "$WORK/elsewhere/real.conf" "$WORK/link"
mv -T "$WORK/link" "$CONF"
ok "replaced by a symlink: applied" until_steered 80,92
echo "tcp 127.0.0.1:9000 80,93" >"$WORK/new"
mv "$WORK/new" "$WORK/elsewhere/real.conf"
ok "where it leads, renamed over: applied" until_steered 80,93
# that directory made anew (no event reaches a watch of the old one: seen by looking)
rm -rf "$WORK/elsewhere"
mkdir "$WORK/elsewhere"
echo "tcp 127.0.0.1:9000 80,94" >"$WORK/elsewhere/real.conf"
ok "its directory made anew: applied" until_steered 80,94
echo "tcp 127.0.0.1:9000 80,95" >"$WORK/new"
mv "$WORK/new" "$WORK/elsewhere/real.conf"
ok "... and watched again" until_steered 80,95

# SIGHUP applies the file again (the same: nothing changes, but the apply is recorded)
took=$(sample sksteer_last_apply_success_timestamp_seconds)
kill -HUP "$WATCHER"
eventually '[ "$(sample sksteer_last_apply_success_timestamp_seconds)" != "$took" ]'
ok "SIGHUP: applied again" test "$(sample sksteer_last_apply_success_timestamp_seconds)" != "$took"
ok "... and still running" kill -0 "$WATCHER"

# SIGTERM: exit 0, the steering left in place
loop_check "port 80, kept throughout, never failed"
saved=$("$SKSTEER" --save)
kill -TERM "$WATCHER"
wait "$WATCHER"
is "SIGTERM: exit 0" 0 $?
is "the steering left in place" "$saved" "$("$SKSTEER" --save)"

# A Kubernetes ConfigMap: FILE -> ..data/FILE, ..data -> a directory swapped at each update
K8S=$WORK/configmap
mkdir -p "$K8S/..2026_12_06_00_00_01.1"
echo "tcp 127.0.0.1:9000 80" >"$K8S/..2026_12_06_00_00_01.1/sksteer.conf"
ln -s ..2026_12_06_00_00_01.1 "$K8S/..data"
ln -s ..data/sksteer.conf "$K8S/sksteer.conf"
watch_start "$K8S/sksteer.conf"
ok "a ConfigMap's file is applied" until_steered 80
loop_start --expect=A:80 127.0.0.1:80
# update: as the kubelet does it (a new directory, ..data_tmp, renamed over ..data, the old gone)
configmap() { # configmap N TEXT
	mkdir "$K8S/..$1"
	printf '%s\n' "$2" >"$K8S/..$1/sksteer.conf"
	ln -s "..$1" "$K8S/..data_tmp"
	mv -T "$K8S/..data_tmp" "$K8S/..data"
	find "$K8S" -maxdepth 1 -name '..2026*' ! -name "..$1" -exec rm -rf {} +
}
configmap 2026_12_06_00_00_02.2 "tcp 127.0.0.1:9000 80,81"
ok "..data swapped: applied" until_steered 80-81
configmap 2026_12_06_00_00_03.3 "tcp 127.0.0.1:9000 80,88"
ok "swapped again: applied" until_steered 80,88
configmap 2026_12_06_00_00_04.4 "tcp 127.0.0.1:9000 80,89 bogus"
eventually '[ -s "$WORK/watch.err" ]'
like "a bad one: FILE:LINE" "^sksteer: $K8S/sksteer.conf:1: " "$(cat "$WORK/watch.err")"
is "... the steering as it was" 80,88 "$(steered)"
configmap 2026_12_06_00_00_05.5 "tcp 127.0.0.1:9000 80,90"
ok "the next good one: applied" until_steered 80,90
loop_check "port 80, kept throughout the swaps, never failed"
kill -TERM "$WATCHER"
wait "$WATCHER"
is "SIGTERM: exit 0" 0 $?

# --serve-metrics on a port in use: one line, nothing applied
serve "$ADDR"
echo "tcp 127.0.0.1:9000 80" >"$CONF"
run_sksteer --config "$CONF" --watch --serve-metrics "$ADDR"
is "a metrics port in use: one line, exit 1" \
	"1 sksteer: --serve-metrics $ADDR: Address already in use: another socket is bound there ('ss -tlnp' shows which): stop it, or give another port" \
	"$RC $STDERR"
is "... nothing applied" 80,90 "$(steered)"

done_testing
