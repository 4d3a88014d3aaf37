#!/bin/sh
# Prints the layout table entries of interp/pylayout.c, one per CPython found under PREFIX...
# (default: every pyenv version): each is interp/gen/pyoffsets.c built against that version's
# headers, internal ones included. Usage: sh interp/gen/pyoffsets.sh [PREFIX...]
set -eu
dir=$(dirname "$0")
out=${TMPDIR:-/tmp}/ctrace-pyoffsets.$$
trap 'rm -f "$out"' EXIT
[ $# -gt 0 ] || set -- "$HOME"/.pyenv/versions/3.*
for prefix; do
	inc=$(ls -d "$prefix"/include/python3* 2>/dev/null | head -n 1)
	[ -n "$inc" ] || { echo "# $prefix: no include/python3.X" >&2; continue; }
	${CC:-cc} -w -I"$inc" -I"$inc/internal" -o "$out" "$dir/pyoffsets.c"
	echo "{"; "$out"; echo "},"
done
