#!/bin/sh
# cluster.sh - a private single-node Slurm (munged, slurmctld, slurmd) in
# a scratch directory, for tests/slurm/run.sh.  Sourced, not run:
#
#   . tests/slurm/cluster.sh
#   sc_start DIR       # start the three daemons; exports SLURM_CONF
#   sc_stop            # stop them (by the pids they wrote); idempotent
#
# Nothing outside DIR is written: munged gets its own key, socket, pid,
# log and seed files; slurm.conf points every state, spool, pid and log
# file into DIR and uses ports nobody listens on, so the machine's own
# /etc/slurm and /run/munge (if any) are never touched.  The settings are
# those of /work/shared/reference/slurm-single-node.md; cred_expire is
# lowered because Slurm holds a requeued job back that many seconds
# (120 by default) before it may start again, and the scheduler looks at
# pending jobs every 5 s instead of 60.

SC_DIR=
SC_UP=

sc_log() { echo "slurm-cluster: $*" >&2; }

# sc_free_port: a TCP port nobody listens on (the kernel's choice).
sc_free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# sc_start_munge: munged as the munge user with a fresh key; its files
# live in a directory only munge may write (munged refuses others).
sc_start_munge() {
	m=$SC_DIR/munge
	mkdir -p "$m" || return 1
	dd if=/dev/urandom of="$m/munge.key" bs=1024 count=1 2>/dev/null || return 1
	chown -R munge:munge "$m" && chmod 0700 "$m" && chmod 0400 "$m/munge.key" || return 1
	runuser -u munge -- /usr/sbin/munged --force --socket="$m/socket" \
		--key-file="$m/munge.key" --pid-file="$m/munged.pid" \
		--log-file="$m/munged.log" --seed-file="$m/munged.seed" || return 1
	# munged's pid file appears once it is ready.
	n=50
	while [ ! -s "$m/munged.pid" ] && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
	munge -S "$m/socket" -n | unmunge -S "$m/socket" | grep -q 'STATUS: *Success'
}

# sc_write_conf: slurm.conf for one node named like this host, 2 CPUs
# or what the machine has, one default partition.
sc_write_conf() {
	host=$(uname -n | cut -d. -f1)
	cpus=$(nproc)
	cport=$(sc_free_port) && dport=$(sc_free_port) || return 1
	[ "$cport" = "$dport" ] && dport=$((dport + 1))
	mkdir -p "$SC_DIR/state" "$SC_DIR/spool" || return 1
	cat >"$SC_DIR/slurm.conf" <<CONF
ClusterName=dmtcpmpi
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$cport
SlurmdPort=$dport
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SC_DIR/munge/socket,cred_expire=10
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
StateSaveLocation=$SC_DIR/state
SlurmdSpoolDir=$SC_DIR/spool
SlurmctldPidFile=$SC_DIR/slurmctld.pid
SlurmdPidFile=$SC_DIR/slurmd.pid
SlurmctldLogFile=$SC_DIR/slurmctld.log
SlurmdLogFile=$SC_DIR/slurmd.log
MinJobAge=600
SchedulerParameters=sched_interval=5
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
}

# sc_wait_idle SECONDS: until sinfo shows the node idle.
sc_wait_idle() {
	n=$(($1 * 2))
	while [ $n -gt 0 ]; do
		sinfo -h -o %t 2>/dev/null | grep -qx idle && return 0
		sleep 0.5
		n=$((n - 1))
	done
	return 1
}

sc_start() {
	SC_DIR=$1
	SC_UP=1
	mkdir -p "$SC_DIR" && chmod 0755 "$SC_DIR" || return 1
	sc_start_munge || { sc_log "munged did not start (log: $SC_DIR/munge/munged.log)"; return 1; }
	sc_write_conf || { sc_log "cannot write $SC_DIR/slurm.conf"; return 1; }
	export SLURM_CONF=$SC_DIR/slurm.conf
	/usr/sbin/slurmctld -f "$SLURM_CONF" -i >"$SC_DIR/slurmctld.out" 2>&1 ||
		{ sc_log "slurmctld did not start (log: $SC_DIR/slurmctld.log)"; return 1; }
	/usr/sbin/slurmd -f "$SLURM_CONF" >"$SC_DIR/slurmd.out" 2>&1 ||
		{ sc_log "slurmd did not start (log: $SC_DIR/slurmd.log)"; return 1; }
	sc_wait_idle 60 || { sc_log "the node did not become idle within 60 s"; return 1; }
}

# sc_kill_pidfile FILE: TERM the daemon whose pid FILE holds, KILL it if
# it is still there 5 s later.
sc_kill_pidfile() {
	[ -s "$1" ] || return 0
	pid=$(cat "$1")
	kill -TERM "$pid" 2>/dev/null || return 0
	n=50
	while kill -0 "$pid" 2>/dev/null && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
	kill -KILL "$pid" 2>/dev/null
	return 0
}

sc_stop() {
	[ -n "$SC_UP" ] || return 0
	SC_UP=
	sc_kill_pidfile "$SC_DIR/slurmd.pid"
	sc_kill_pidfile "$SC_DIR/slurmctld.pid"
	sc_kill_pidfile "$SC_DIR/munge/munged.pid"
}
