#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Circles between the sources of src/lib and src/cli, after a build: prints each one and
# exits 1, or prints nothing and exits 0. Run as scripts/cycles.sh [OUTPUT] (default .output).
#
# The graph's nodes are the .c files. A.c -> B.c when A.c includes B.h itself (a header
# stands for the .c of its name; one without such a .c, as live.h, declares only types and
# inline code, and stands for nothing), or when A.o uses a symbol that B.o defines (nm: calls
# and data). A circle is a strongly connected set of two or more files: each reaches the
# others, so none can be read, tested or changed without them all.
set -eu

out=$(realpath "${1:-$(dirname "$0")/../.output}")
cd "$(dirname "$0")/.."
[ -d "$out" ] || { echo "cycles.sh: no $out: build first" >&2; exit 2; }

edges=$(mktemp)
trap 'rm -f "$edges" "$edges.nm"' EXIT

for c in src/lib/*.c src/cli/*.c; do
	a=$(basename "$c" .c)
	sed -n 's/^#include "\([^"]*\)\.h".*/\1/p' "$c" | while read -r h; do
		if [ "$h" != "$a" ] && { [ -f "src/lib/$h.c" ] || [ -f "src/cli/$h.c" ]; }; then
			echo "$a $h include $h.h"
		fi
	done
done >"$edges"

# symbols each object defines, then those each one uses
objs=""
for c in src/lib/*.c src/cli/*.c; do
	o="$out/$(basename "$c" .c).o"
	[ -f "$o" ] || { echo "cycles.sh: no $o: build first" >&2; exit 2; }
	objs="$objs $o"
done
# shellcheck disable=SC2086
nm -A --defined-only -g $objs | awk '{ n = split($1, p, "/"); o = p[n]; sub(/\.o:.*/, "", o);
	print "D", o, $3 }' >"$edges.nm"
# shellcheck disable=SC2086
nm -A -u $objs | awk '{ n = split($1, p, "/"); o = p[n]; sub(/\.o:.*/, "", o);
	print "U", o, $NF }' >>"$edges.nm"
awk '$1 == "D" { def[$3] = $2; next }
     $1 == "U" && ($3 in def) && def[$3] != $2 { print $2, def[$3], "call", $3 }' \
	"$edges.nm" >>"$edges"

# Tarjan's strongly connected components; each edge's first reason is kept to name it.
awk '
function visit(v,    i, w) {
	idx[v] = low[v] = ++counter
	stack[++sp] = v
	on[v] = 1
	for (i = 1; i <= nout[v]; i++) {
		w = out[v, i]
		if (!(w in idx)) {
			visit(w)
			if (low[w] < low[v])
				low[v] = low[w]
		} else if (on[w] && idx[w] < low[v]) {
			low[v] = idx[w]
		}
	}
	if (low[v] == idx[v]) {
		n = 0
		do {
			w = stack[sp--]
			on[w] = 0
			member[++n] = w
			comp[w] = v
		} while (w != v)
		if (n > 1) {
			found++
			line = ""
			for (i = n; i >= 1; i--)
				line = line " " member[i]
			print "circle:" line
			for (i = n; i >= 1; i--)
				for (j = 1; j <= nout[member[i]]; j++)
					if (comp[out[member[i], j]] == v)
						print "  " member[i] " -> " out[member[i], j] ": " \
							why[member[i], out[member[i], j]]
		}
	}
}
{
	if (!(($1, $2) in why)) {
		why[$1, $2] = $3 " " $4
		out[$1, ++nout[$1]] = $2
	} else if (++more[$1, $2] < 3) {
		why[$1, $2] = why[$1, $2] ", " $3 " " $4
	} else if (more[$1, $2] == 3) {
		why[$1, $2] = why[$1, $2] ", ..."
	}
	node[$1] = node[$2] = 1
}
END {
	for (v in node)
		if (!(v in idx))
			visit(v)
	exit found ? 1 : 0
}' "$edges"
