#!/bin/bash
# ckpt_bench.sh - checkpoint and restart speed of the engine, next to a
# plain write(2)+fsync of the same bytes to the same directory, same run.
#
#   bash bench/ckpt_bench.sh [BUILD_DIR] [MIB] [DIR]
#
# For 1 GiB (default) of touched memory, compressible (doubles) and
# random: checkpoint time and image size with zstd level 1 and without
# compression, restart time (dmtcp_mpi_restart until ck_checkpoint
# returns in the restored process; page cache warm), and the pause of a
# forked (copy-on-write) checkpoint.  Prints a table.  Timings on a busy
# machine vary: the load average is printed with it.
set -u

B=${1:-build}
MIB=${2:-1024}
D=${3:-$(mktemp -d "${TMPDIR:-/tmp}/dmtcp_mpi-bench.XXXXXX")}
X=$B/bench/ckpt_bench
R=$B/bin/dmtcp_mpi_restart
export DMTCP_MPI_NO_CLIENT=1
mkdir -p "$D"

field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" | head -1; }
# Arithmetic in awk: bc is not among the packages scripts/deps.sh installs.
# rate A B: A/B rounded ("-" when B is not positive, a run that failed).
rate() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0) printf "%.0f\n", a / b; else print "-" }'; }
# since T1 T0: seconds from T0 to T1, both seconds since the epoch.
since() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", a - b }'; }

printf 'dmtcp_mpi checkpoint benchmark: %s MiB, dir %s, %s cores, load %s\n' \
	"$MIB" "$D" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-13s %-9s %9s %9s %9s %10s %9s\n' data mode "ckpt s" "pause s" \
	"restart s" "image MB" "MB/s"
for data in compressible random; do
	out=$("$X" write "$data" "$MIB" "$D")
	t=$(echo "$out" | field total)
	printf '%-13s %-9s %9s %9s %9s %10s %9s\n' "$data" write+fsync "$t" \
		- - "$MIB" "$(rate "$MIB" "$t")"
	for mode in zstd1 raw fork; do
		level=1 how=ckpt
		[ $mode = raw ] && level=0
		[ $mode = fork ] && how=fork
		out=$({ "$X" "$how" "$data" "$MIB" "$D" "$level"; } 2>/dev/null)
		total=$(echo "$out" | field total)
		pause=$(echo "$out" | field pause)
		image=$(echo "$out" | field image)
		rs=-
		if [ $mode != fork ]; then
			t0=$(date +%s.%N)
			rout=$("$R" "$D/bench.img" 2>&1)
			t1=$(echo "$rout" | field restarted_at)
			echo "$rout" | grep -q 'verify=ok' || rs=BAD
			[ "$rs" = - ] && rs=$(since "$t1" "$t0")
		fi
		printf '%-13s %-9s %9s %9s %9s %10s %9s\n' "$data" "$mode" \
			"$total" "$pause" "$rs" "$(rate "$image" 1000000)" \
			"$(rate "$MIB" "$total")"
	done
done
rm -f "$D/bench.img"
