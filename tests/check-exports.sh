#!/bin/sh
# check-exports.sh - does the shim library export the whole MPI surface?
#
# Usage: tests/check-exports.sh [path/to/libmpi_abi.so.1]
#        (default: build/lib/libmpi_abi.so.1 under the source tree)
#
# Every function listed in shim/mpi_api.txt must be a defined dynamic
# symbol twice: as MPI_X for applications and as PMPI_X for profiling
# tools; nothing else but the malloc family may be one.  A function that is marked
# impl but never written, or a stub that lost its weak alias, shows up
# here as a missing name.  Exits 0 when all are present and no helper
# leaks, 1 when any is missing or leaks (each is printed), 2 on a usage
# or tool error.

root=$(cd "$(dirname "$0")/.." && pwd)
lib=${1:-$root/build/lib/libmpi_abi.so.1}
table=$root/shim/mpi_api.txt

fail() {
	echo "dmtcp_mpi: error: $1" >&2
	exit 2
}

[ -r "$lib" ] || fail "cannot read library ($lib): no such file"
[ -r "$table" ] || fail "cannot read function table ($table): no such file"

tmp=$(mktemp -d) || fail "cannot create a temporary directory (mktemp): failed"
trap 'rm -rf "$tmp"' EXIT

# The function name is the MPI_ identifier right before the '(' of the
# prototype on each impl/stub line; every name is wanted with and without P.
awk '$1 == "impl" || $1 == "stub" {
	if (match($0, /[ *]MPI_[A-Za-z0-9_]+[ ]*\(/)) {
		name = substr($0, RSTART + 1, RLENGTH - 2)
		sub(/[ ]+$/, "", name)
		print name
		print "P" name
	}
}' "$table" | sort -u >"$tmp/want"

nfunc=$(grep -c '^MPI_' "$tmp/want")
[ "$nfunc" -gt 0 ] || fail "no functions found ($table): table empty or unreadable"

nm -D --defined-only "$lib" >"$tmp/nm" 2>"$tmp/nm.err" ||
	fail "nm failed ($lib): $(head -n 1 "$tmp/nm.err")"
awk 'NF >= 3 { sub(/@.*/, "", $3); print $3 }' "$tmp/nm" | sort -u >"$tmp/have"

comm -23 "$tmp/want" "$tmp/have" >"$tmp/missing"
nmiss=$(wc -l <"$tmp/missing")

# Exports kept on purpose that the table does not list (mpi.h does not
# declare them): one a line, the name (its PMPI_ twin goes with it), then
# why.
intended='
MPI_Type_hvector   MPI-1 name of MPI_Type_create_hvector, removed in MPI-3.0 but still called (MPICH test suite): an alias, shim/typeops.c
MPI_Type_hindexed  MPI-1 name of MPI_Type_create_hindexed, the same
'
printf '%s\n' "$intended" | awk 'NF { print $1; print "P" $1 }' | sort -u >"$tmp/intended"

# Other names that look like MPI entry points but are not in the table
# are usually typos in a hand-written function; report them without
# failing.
grep -E '^P?MPI_' "$tmp/have" | comm -13 "$tmp/want" - | comm -23 - "$tmp/intended" >"$tmp/extra"
while read -r sym; do
	echo "check-exports: warning: $sym exported but not in shim/mpi_api.txt"
done <"$tmp/extra"

# Everything else is internal (shim_*, chan_*, arena_*, the util/
# helpers dm_*): exported, an application's symbol of the same name would
# bind to ours or collide with it.  shim/exports.map keeps them in.
malloc_family='^(malloc|free|calloc|realloc|reallocarray|memalign|posix_memalign|aligned_alloc|valloc|pvalloc|malloc_usable_size)$'
grep -Ev '^P?MPI_' "$tmp/have" | grep -Ev "$malloc_family" >"$tmp/leaked"
nleak=$(wc -l <"$tmp/leaked")
while read -r sym; do
	echo "check-exports: internal: $sym exported (shim/exports.map lets only MPI_*, PMPI_* and the malloc family out)"
done <"$tmp/leaked"

if [ "$nleak" -ne 0 ]; then
	echo "check-exports: FAIL: $nleak internal symbols exported by $lib"
	exit 1
fi
if [ "$nmiss" -ne 0 ]; then
	while read -r sym; do
		echo "check-exports: missing: $sym"
	done <"$tmp/missing"
	echo "check-exports: FAIL: $nmiss of $((nfunc * 2)) symbols missing from $lib"
	exit 1
fi
echo "check-exports: PASS: all $nfunc functions exported as MPI_ and PMPI_ by $lib"
exit 0
