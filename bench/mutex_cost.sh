#!/bin/sh
# mutex_cost.sh - what the engine's mutex wrappers (ckpt/mutexown.c) add
# to an uncontended lock/unlock pair before any restart: bench/mutex_cost
# run alone and with libdmtcp_ckpt.so preloaded, interleaved, ROUNDS
# times each (default 5); prints every run (each its fastest batch,
# bench/mutex_cost.c), then per mode the median and the fastest run.
#
#   sh bench/mutex_cost.sh [BUILD_DIR] [ROUNDS]
set -u

B=${1:-build}
ROUNDS=${2:-5}
X=$B/bench/mutex_cost
export DMTCP_MPI_NO_CLIENT=1

# summary FIELD FILE: "median fastest" of FIELD=value over the lines of FILE.
summary() {
	sed -n "s/.*$1=\([0-9.]*\).*/\1/p" "$2" | sort -n |
		awk '{ v[NR] = $1 } END { printf "%.2f %.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2, v[1] }'
}

D=$(mktemp -d "${TMPDIR:-/tmp}/dmtcp_mpi-mutex.XXXXXX") || exit 1
trap 'rm -rf "$D"' EXIT
printf 'mutex_cost: %s rounds, %s cores, load %s\n' "$ROUNDS" "$(nproc)" \
	"$(cut -d' ' -f1-3 /proc/loadavg)"
i=0
while [ $i -lt "$ROUNDS" ]; do
	"$X" | tee -a "$D/glibc" | sed 's/^/glibc   /'
	LD_PRELOAD=$B/lib/libdmtcp_ckpt.so "$X" | tee -a "$D/engine" | sed 's/^/engine  /'
	i=$((i + 1))
done
for k in normal recursive; do
	set -- $(summary $k "$D/glibc") $(summary $k "$D/engine")
	printf '%-9s ns/pair: median glibc %s, engine %s (+%s); fastest glibc %s, engine %s (+%s)\n' \
		"$k" "$1" "$3" "$(awk -v a="$3" -v b="$1" 'BEGIN { printf "%.2f", a - b }')" \
		"$2" "$4" "$(awk -v a="$4" -v b="$2" 'BEGIN { printf "%.2f", a - b }')"
done
