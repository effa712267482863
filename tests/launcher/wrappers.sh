#!/bin/sh
# wrappers.sh - dmtcp_mpicc / dmtcp_mpicxx: the prefix comes from the
# script's own place (build tree, a copied prefix, through a symlink), link
# flags only when linking, -show/-showme print instead of running, and a
# real MPI program compiles and links against the shim when it is built.
. "$(dirname "$0")/lib.sh"

CC_W=$BLD/bin/dmtcp_mpicc CXX_W=$BLD/bin/dmtcp_mpicxx
for w in "$CC_W" "$CXX_W"; do
	[ -x "$w" ] || { fail "not built: $w"; exit 1; }
done

P=$BLD
LINK="-L$P/lib -lmpi_abi -Wl,-rpath,$P/lib"
check "-show: compile and link" \
	[ "$("$CC_W" -show -O2 a.c -o a)" = "cc -I$P/include -O2 a.c -o a $LINK" ]
check "-showme: same as -show" \
	[ "$("$CC_W" -showme a.c)" = "cc -I$P/include a.c $LINK" ]
for flag in -c -E -S -M -MM; do
	check "$flag: no link flags" \
		[ "$("$CC_W" -show $flag a.c)" = "cc -I$P/include $flag a.c" ]
done
check "-MD still links" \
	[ "$("$CC_W" -show -MD a.c)" = "cc -I$P/include -MD a.c $LINK" ]
check "DMTCP_MPI_CC picks the compiler, flags allowed" \
	[ "$(DMTCP_MPI_CC='gcc -m64' "$CC_W" -show -c a.c)" = "gcc -m64 -I$P/include -c a.c" ]
check "dmtcp_mpicxx uses c++" \
	[ "$("$CXX_W" -show a.cc)" = "c++ -I$P/include a.cc $LINK" ]
check "DMTCP_MPI_CXX picks the C++ compiler" \
	[ "$(DMTCP_MPI_CXX=g++ "$CXX_W" -show -c a.cc)" = "g++ -I$P/include -c a.cc" ]

# Moved to another prefix, and called through a symlink.
mkdir -p "$T/inst/bin" "$T/elsewhere"
cp "$CC_W" "$CXX_W" "$T/inst/bin/"
ln -s "$T/inst/bin/dmtcp_mpicc" "$T/elsewhere/dmtcp_mpicc"
check "prefix follows the script" \
	[ "$("$T/inst/bin/dmtcp_mpicc" -show -c a.c)" = "cc -I$T/inst/include -c a.c" ]
check "prefix found through a symlink" \
	[ "$("$T/elsewhere/dmtcp_mpicc" -show -c a.c)" = "cc -I$T/inst/include -c a.c" ]
check "dmtcp_mpicxx in another prefix" \
	[ "$("$T/inst/bin/dmtcp_mpicxx" -show -c a.cc)" = "c++ -I$T/inst/include -c a.cc" ]

# The real thing, when the shim and mpi.h are built.
if [ -e "$P/lib/libmpi_abi.so" ] && [ -e "$P/include/mpi.h" ]; then
	cat >"$T/hello.c" <<'EOF'
#include <mpi.h>
int main(int argc, char **argv)
{
	int n = 0;
	MPI_Init(&argc, &argv);
	MPI_Comm_size(MPI_COMM_WORLD, &n);
	MPI_Finalize();
	return n > 0 ? 0 : 1;
}
EOF
	"$CC_W" -Wall -Werror -o "$T/hello" "$T/hello.c" 2>"$T/cc.err"
	check "a C MPI program compiles and links" [ -x "$T/hello" ]
	check "it is linked to the shim with an rpath" \
		sh -c "ldd '$T/hello' | grep -q '$P/lib/libmpi_abi.so'"
	cp "$T/hello.c" "$T/hello.cc"
	"$CXX_W" -Wall -Werror -o "$T/hellocc" "$T/hello.cc" 2>"$T/cxx.err"
	check "a C++ MPI program compiles and links" [ -x "$T/hellocc" ]
	"$CC_W" -c -o "$T/hello.o" "$T/hello.c" && "$CC_W" -o "$T/hello2" "$T/hello.o"
	check "separate compile and link" [ -x "$T/hello2" ]
else
	echo "SKIP: wrappers: shim not built in $P; no real compile"
fi

exit $NFAIL
