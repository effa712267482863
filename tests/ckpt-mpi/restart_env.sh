# restart_env.sh - the start of the restart scripts that build their own
# application (restart_app.sh, restart_fin.sh, restart_final.sh,
# restart_preinit.sh, restart_ring.sh), on top of lib.sh: the environment
# of a private job, PASS/FAIL accounting (check, pass, fail, NFAIL), the
# scratch directory T and a cleanup that leaves no process behind
# (CKMPI_KEEP=1 keeps T), FAIL if a program is not built and SKIP if an
# MPI is missing, cmd and start_coord.  Here: T/ref, T/run and T/tmp
# (DMTCP_MPI_TMPDIR), the application tests/ckpt-mpi/$NAME.c built twice
# (T/app with dmtcp_mpicc, T/app-native with mpicc.mpich), TMO, and
# native_ref for the reference run.
#
# The sourcing script sets first NAME (restart_X: the application's name
# and the name in messages), B (the build directory, relative to the
# tree's root or absolute; empty means build) and TMO (the bound of each
# run in seconds, which DMTCP_MPI_TEST_TIMEOUT overrides).

. "$(dirname -- "$0")/lib.sh"

lib_start "$B"
TMO=${DMTCP_MPI_TEST_TIMEOUT:-$TMO}
mkdir -p "$T/ref" "$T/run" && mkdir -m 700 "$T/tmp" || exit 1
SRC=$ROOT/tests/ckpt-mpi/$NAME.c
"$B/bin/dmtcp_mpicc" -O1 -I"$ROOT" -I"$ROOT/tests/ckpt-mpi" -o "$T/app" "$SRC" &&
	mpicc.mpich -O1 -I"$ROOT" -I"$ROOT/tests/ckpt-mpi" -o "$T/app-native" "$SRC" ||
	{ fail "cannot build $SRC"; exit 1; }

# native_ref ARG...: the application run natively under MPICH, never
# interrupted, writing T/ref (its arguments: T/ref ARG...).
native_ref() {
	timeout "$TMO" mpirun.mpich -n 2 "$T/app-native" "$T/ref" "$@" >/dev/null 2>"$T/ref.err"
}
