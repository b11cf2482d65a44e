# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The build: one static binary, with --help and --version.
. "$(dirname "$0")/lib.sh"

like "sksteer is one statically linked binary" "statically linked" "$(file -L "$SKSTEER")"
like "--version names the tool" "^sksteer [0-9]+\.[0-9]+" "$("$SKSTEER" --version)"
help=$("$SKSTEER" --help)
for opt in --ports --socket --detach --force --verbose --version; do
	like "--help documents $opt" "$opt" "$help"
done
like "--help has examples" "Examples:.*sksteer -p 80,443,8000-8999 -s 127.0.0.1:9000" "$(echo $help)"

done_testing
