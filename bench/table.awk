# table.awk - the results table of `make bench` from raw samples.
#
#   awk -v mpis="mpich openmpi" -f bench/table.awk build/bench/raw.txt
#
# Input lines: "mpi impl rep key value" (impl native|ours; the chain
# floor as "floor floor rep floor_8 us").  For each (mpi, impl, key) the
# median over repetitions; the ratio column is the median over
# repetitions of ours/native within each repetition, except on the floor
# row: there the first column is the chain floor and the ratio is our
# 8-byte latency over it, paired the same way.  Paired, because the
# machine drifts between modes for whole stretches (at 1 MiB a run is
# either ~4.4 or ~9.5 GB/s, native and ours alike), and a ratio of two
# medians could take each side from a different mode.  The target
# column checks the goals of bench/run.sh; bench/plot.py reads the
# "ratio" lines this prints.

function median(list,    n, v, i, j, t) {
	n = split(list, v, " ")
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) {
			t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
		}
	if (n == 0)
		return ""
	return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}

function med(mpi, impl, key) {
	return ((mpi, impl, key) in s) ? median(s[mpi, impl, key]) : ""
}

function fmt(v) {
	if (v == "")
		return sprintf("%9s", "-")
	return sprintf(v >= 100 ? "%9.0f" : v >= 1 ? "%9.2f" : "%9.3f", v)
}

function ratio(a, b) {
	return (a == "" || b == "" || a + 0 == 0) ? "" : b / a
}

# Median over repetitions of (m2, i2, key2) / (m1, i1, key1), each ratio
# taken within one repetition; "" if no repetition has both.
function paired(m1, i1, key1, m2, i2, key2,    rep, r, list) {
	list = ""
	for (rep = 1; rep <= maxrep; rep++) {
		if (!((m1, i1, key1, rep) in v) || !((m2, i2, key2, rep) in v))
			continue
		r = ratio(v[m1, i1, key1, rep], v[m2, i2, key2, rep])
		if (r != "")
			list = list " " r
	}
	return list == "" ? "" : median(list)
}

# One table row: label, key, and the target test on the ratio
# ("le"/"ge" limit) or on ours' absolute value ("abs_le" limit).
function row(label, key, test, limit,    i, m, nat, our, r, line, verdict, v) {
	line = sprintf("%-24s", label)
	verdict = ""
	for (i = 1; i <= nm; i++) {
		m = mpi[i]
		nat = med(m, "native", key)
		our = med(m, "ours", key)
		r = paired(m, "native", key, m, "ours", key)
		line = line fmt(nat) fmt(our) (r == "" ? sprintf("%8s", "-") : sprintf("%7.2fx", r))
		if (r != "")
			ratios = ratios sprintf("ratio %s %s %.4f\n", m, key, r)
		v = test == "le" ? r : test == "ge" ? r : our
		if (test != "" && v != "")
			verdict = verdict " " m ":" (check(test, v, limit) ? "met" : "MISSED")
	}
	if (test != "")
		line = line sprintf("   %s %s%s", test == "ge" ? ">=" : "<=",
				    limit (test == "abs_le" ? " us" : "x"), verdict)
	print line
}

function check(test, v, limit) {
	return test == "ge" ? v >= limit : v <= limit
}

function floor_row(    f, i, m, our, r, line, verdict) {
	f = med("floor", "floor", "floor_8")
	line = sprintf("%-24s", "8 B: floor, ours (us)")
	verdict = ""
	for (i = 1; i <= nm; i++) {
		m = mpi[i]
		our = med(m, "ours", "lat_8")
		r = paired("floor", "floor", "floor_8", m, "ours", "lat_8")
		line = line fmt(f) fmt(our) (r == "" ? sprintf("%8s", "-") : sprintf("%7.2fx", r))
		if (r != "") {
			ratios = ratios sprintf("ratio %s floor %.4f\n", m, r)
			verdict = verdict " " m ":" (r <= 1.25 ? "met" : "MISSED")
		}
	}
	print line "   <= 1.25x" verdict
}

{
	s[$1, $2, $4] = s[$1, $2, $4] " " $5
	v[$1, $2, $4, $3] = $5
	if ($3 > maxrep)
		maxrep = $3
}

END {
	nm = split(mpis, mpi, " ")
	head = sprintf("%-24s", "")
	sub_ = sprintf("%-24s", "benchmark")
	for (i = 1; i <= nm; i++) {
		head = head sprintf("%-26s", "   " mpi[i])
		sub_ = sub_ sprintf("%9s%9s%8s", "native", "ours", "ratio")
	}
	print ""
	print head
	print sub_ "   target (ours)"
	row("null Iprobe 1 rank (us)", "null_0", "abs_le", 0.5)
	split("8 1024 65536 1048576 16777216", sz, " ")
	split("8 B,1 KiB,64 KiB,1 MiB,16 MiB", nm_, ",")
	for (k = 1; k <= 5; k++)
		row("latency " nm_[k] " (us)", "lat_" sz[k])
	floor_row()
	for (k = 1; k <= 5; k++)
		row("pingpong bw " nm_[k] " MB/s", "bw_" sz[k], k >= 4 ? "ge" : "", 0.8)
	row("pingpong 1MiB Alloc_mem", "bwmem_1048576", "ge", 0.8)
	for (k = 1; k <= 5; k++)
		row("window bw " nm_[k] " MB/s", "bwwin_" sz[k], k >= 4 ? "ge" : "", 0.8)
	row("Allreduce 8 B (us)", "allreduce_8")
	row("compute+Allreduce (s)", "compute_0", "le", 1.02)
	split("64 512 2048", g, " ")
	for (k = 1; k <= 3; k++)
		row("halo " g[k] "x" g[k] " exch/s", "halo_" g[k], "ge", 0.8)
	row("halo 2048 Alloc_mem /s", "halomem_2048", "ge", 0.8)
	split("8 65536 1048576", sz, " ")
	split("8 B,64 KiB,1 MiB", nm_, ",")
	for (k = 1; k <= 3; k++)
		row("Alltoall " nm_[k] " MB/s", "a2a_" sz[k], "ge", 0.8)
	row("Alltoall 1MiB Alloc_mem", "a2amem_1048576", "ge", 0.8)
	print ""
	print "chain floor (app0->proxy0->proxy1->app1, yield hand-off): " \
		fmt(med("floor", "floor", "floor_8")) " us one way"
	print "channel round trip alone (chan_pingpong, 2 CPUs, no MPI):  " \
		fmt(med("chan", "chan", "chan_rt")) " us"
	print "native, ours: medians over repetitions; ratio: median of ours/native per repetition"
	print ""
	printf "%s", ratios
}
