#!/bin/sh
# deps.sh - make sure the Debian packages dmtcp_mpi builds and tests with
# are installed.  As root: install what is missing with apt-get.  Otherwise
# print the exact command and fail, so nothing half-builds.
set -eu

PKGS="build-essential python3 pkg-config mpich libmpich-dev openmpi-bin libopenmpi-dev libhwloc-dev libzstd-dev libcmocka-dev"
[ -n "${DMTCP_MPI_EXTRA_PKGS:-}" ] && PKGS="$PKGS $DMTCP_MPI_EXTRA_PKGS"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "dmtcp_mpi: error: missing Debian packages:$missing" >&2
	echo "dmtcp_mpi: error: install them with: sudo apt-get install$missing" >&2
	exit 64
fi

echo "dmtcp_mpi: installing missing Debian packages:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
