# dmtcp_mpi - one GNU Makefile for the whole tree.
#
#   make              install missing Debian packages (root) and build into build/
#   make check        unit tests (ASan/UBSan) + MPI tests under both MPIs
#   make bench        benchmarks, ratios against native runs in the same run
#   make check-mpich-suite  MPICH's own test suite through dmtcp_mpi (doc/conformance.md)
#   make check-mpich-suite-ckpt  the same, checkpointed at random moments
#   make demo         run, checkpoint and restart an MPI job (see README.md)
#   make gen          regenerate the checked-in generated files
#   make gen-check    fail if the generated files are stale
#   make install PREFIX=/usr/local
#
# Local overrides go in config.mak (not tracked).  V=1 shows commands.

-include config.mak

B        ?= build
PREFIX   ?= /usr/local
PYTHON   ?= python3
CC       ?= gcc
MPICC_mpich   ?= mpicc.mpich
MPICC_openmpi ?= mpicc.openmpi
MPIS     ?= mpich openmpi

WARN     = -Wall -Wextra -Werror
CSTD     = -std=gnu11 -D_GNU_SOURCE
OPT      ?= -O2 -g
CFLAGS_ALL = $(CSTD) $(WARN) $(OPT) -fPIC -MMD -MP -I.
SAN      = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

ifeq ($(V),1)
Q =
msg = @true
else
Q = @
msg = @printf '  %-6s %s\n'
endif

.PHONY: ckpt-build ckpt-check ckpt-bench fuzz-image
# Keep intermediate objects (sanitizer builds, generated blobs) between runs.
.SECONDARY:

.PHONY: all deps gen gen-check check unit-check mpi-check coord-check bench demo install clean
all: deps build-all

deps:
	$(Q)sh scripts/deps.sh

# ---------------------------------------------------------------- sources
UTIL_SRC  = $(wildcard util/*.c)
CHAN_SRC  = $(wildcard chan/*.c)
SHIM_SRC  = $(wildcard shim/*.c)
PROXY_SRC = $(wildcard proxy/*.c)
LAUNCH_SRC = $(wildcard launcher/*.c)
COMMON_SRC = $(UTIL_SRC) $(CHAN_SRC)

obj = $(patsubst %.c,$(B)/obj/$(1)/%.o,$(2))

LIBDIR   = $(B)/lib
BINDIR   = $(B)/bin
EXECDIR  = $(B)/libexec/dmtcp_mpi
INCDIR   = $(B)/include
SHIM_SO  = $(LIBDIR)/libmpi_abi.so.1

PROXIES  = $(foreach m,$(MPIS),$(EXECDIR)/proxy-$(m))
SCRIPTS  = $(BINDIR)/dmtcp_mpicc $(BINDIR)/dmtcp_mpicxx
COORD_BINS = $(BINDIR)/dmtcp_mpi_coordinator $(BINDIR)/dmtcp_mpi_command

build-all: $(SHIM_SO) $(INCDIR)/mpi.h $(PROXIES) $(BINDIR)/dmtcp_mpi $(SCRIPTS) \
	$(COORD_BINS)

# Generic object rule for host-compiled code (shim, launcher, util, chan).
# Thread-locals in the initial-exec model: the shim's few dozen bytes of them
# are then reached without a __tls_get_addr call, which every MPI call
# paid (a library dlopen'ed late still finds room: glibc keeps spare
# static TLS for such small ones).
HOST_CFLAGS = -ftls-model=initial-exec
$(B)/obj/host/%.o: %.c
	$(msg) CC $<
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS_ALL) $(HOST_CFLAGS) -c $< -o $@

# ---------------------------------------------------------------- shim
$(SHIM_SO): $(call obj,host,$(SHIM_SRC) $(COMMON_SRC)) shim/interpose.list shim/exports.map
	$(msg) LD $@
	@mkdir -p $(LIBDIR)
	$(Q)$(CC) -shared -Wl,-soname,libmpi_abi.so.1 -Wl,--no-undefined \
		-Wl,--dynamic-list=shim/interpose.list -Wl,--version-script=shim/exports.map \
		-o $@ $(filter %.o,$^) -lpthread
	$(Q)ln -sf libmpi_abi.so.1 $(LIBDIR)/libmpi_abi.so
	$(Q)ln -sf libmpi_abi.so.1 $(LIBDIR)/libmpi.so

$(INCDIR)/mpi.h: shim/mpi.h
	@mkdir -p $(INCDIR)
	$(Q)cp $< $@

# ---------------------------------------------------------------- proxy
# One source tree, compiled once per installed MPI with that MPI's mpicc.
define proxy_rules
$(B)/obj/proxy-$(1)/%.o: %.c
	$$(msg) CC-$(1) $$<
	@mkdir -p $$(dir $$@)
	$$(Q)$$(MPICC_$(1)) $$(CFLAGS_ALL) -DPX_BACKEND_$(1) -c $$< -o $$@

$(EXECDIR)/proxy-$(1): $(call obj,proxy-$(1),$(PROXY_SRC) $(COMMON_SRC))
	$$(msg) LD $$@
	@mkdir -p $(EXECDIR)
	$$(Q)$$(MPICC_$(1)) -o $$@ $$^ -lpthread

# Unit tests of proxy code (tests/unit/px_test_*.c), one binary per MPI.
$(B)/tests/px_test_%-$(1): tests/unit/px_test_%.c $(call obj,proxy-$(1),$(filter-out proxy/main.c,$(PROXY_SRC)) $(COMMON_SRC))
	$$(msg) LD $$@
	@mkdir -p $$(dir $$@)
	$$(Q)$$(MPICC_$(1)) $$(CFLAGS_ALL) -o $$@ $$^ -lcmocka
endef
$(foreach m,$(MPIS),$(eval $(call proxy_rules,$(m))))
PX_UNIT_BIN = $(foreach m,$(MPIS),$(patsubst tests/unit/%.c,$(B)/tests/%-$(m),$(wildcard tests/unit/px_test_*.c)))

# ---------------------------------------------------------------- launcher
$(BINDIR)/dmtcp_mpi: $(call obj,host,$(LAUNCH_SRC) $(COMMON_SRC))
	$(msg) LD $@
	@mkdir -p $(BINDIR)
	$(Q)$(CC) -o $@ $^ -lhwloc

$(BINDIR)/%: scripts/%.in
	@mkdir -p $(BINDIR)
	$(Q)cp $< $@ && chmod 755 $@

# Launcher and wrapper tests (fake proxies; e2e.sh uses the real ones).
.PHONY: launcher-check
launcher-check: build-all
	$(Q)B=$(B) sh tests/launcher/run.sh

# The proxy's checkpoint protocol (PARK, DRAIN, RESUME, CHAN_RETRY) driven
# by a fake application over the channel, under each MPI.
CKMPI_T = $(B)/tests/ckpt-mpi
$(CKMPI_T)/fake_app: $(call obj,host,tests/ckpt-mpi/fake_app.c $(COMMON_SRC))
	$(msg) LD $@
	@mkdir -p $(dir $@)
	$(Q)$(CC) -o $@ $^ -lpthread

.PHONY: ckpt-mpi-check
ckpt-mpi-check: $(PROXIES) $(BINDIR)/dmtcp_mpi $(CKMPI_T)/fake_app
	$(Q)MPIS="$(MPIS)" sh tests/ckpt-mpi/run.sh $(B)

# ---------------------------------------------------------------- coordinator
# The daemon and dmtcp_mpi_command.  CK_CLIENT_SRC is the engine's
# coordinator client: the engine library (libdmtcp_ckpt.so) links it.
COORD_SRC = $(filter-out coordinator/command.c,$(wildcard coordinator/*.c))
CK_CLIENT_SRC = ckpt/client.c coordinator/wire.c util/crc32c.c

$(BINDIR)/dmtcp_mpi_coordinator: $(call obj,host,$(COORD_SRC) util/grow.c util/log.c)
	$(msg) LD $@
	@mkdir -p $(BINDIR)
	$(Q)$(CC) -o $@ $^

$(BINDIR)/dmtcp_mpi_command: $(call obj,host,coordinator/command.c coordinator/wire.c util/log.c)
	$(msg) LD $@
	@mkdir -p $(BINDIR)
	$(Q)$(CC) -o $@ $^

# tests/coord: a fake engine (the real client thread over a stub
# ck_checkpoint) preloaded by linking into a small app.
COORD_T = $(B)/tests/coord
$(COORD_T)/lib/libfake_ckpt.so: $(call obj,host,tests/coord/fake_engine.c $(CK_CLIENT_SRC) util/log.c)
	$(msg) LD $@
	@mkdir -p $(dir $@)
	$(Q)$(CC) -shared -Wl,--no-undefined -o $@ $^ -lpthread -ldl

$(COORD_T)/bin/fake_app: $(call obj,host,tests/coord/fake_app.c) $(COORD_T)/lib/libfake_ckpt.so
	$(msg) LD $@
	@mkdir -p $(dir $@)
	$(Q)$(CC) -o $@ $< -Wl,--no-as-needed -L$(COORD_T)/lib -lfake_ckpt -Wl,-rpath,'$$ORIGIN/../lib'

$(COORD_T)/bin/counter: $(call obj,host,tests/coord/counter.c)
	$(msg) LD $@
	@mkdir -p $(dir $@)
	$(Q)$(CC) -o $@ $^

# The end-to-end part runs the real engine (rules in the ckpt section).
coord-check: $(COORD_BINS) $(COORD_T)/bin/fake_app $(COORD_T)/bin/counter \
		$(LIBDIR)/libdmtcp_ckpt.so $(BINDIR)/dmtcp_mpi_restart
	$(Q)sh tests/coord/run.sh $(B)

# A real MPI job checkpointed and restarted under the other MPI, the same
# MPI, and in a chain (tests/ckpt-mpi/restart_ring.sh); topologies, an
# intercommunicator and an attribute across a restart (restart_topo.sh);
# nonblocking collectives outstanding at the checkpoint (restart_nbc.sh),
# one a Test is completing when it comes (restart_finishwin.sh, ~10 s);
# threads inside MPI under MPI_THREAD_MULTIPLE (restart_thread.sh).
# Thousands of messages in flight (stress.sh), five generations alternating
# the MPIs (chain.sh), ranks and the coordinator dying mid-checkpoint and
# bad restart input (faults.sh), nothing printed twice across a
# --checkpoint-and-exit (exit_once.sh), large-count datatypes across a
# restart (restart_bigc.sh), a collective on an idup'd communicator at the
# checkpoint (restart_idup.sh), a checkpoint between two leaders'
# Intercomm_create under Open MPI (restart_icc.sh; at MPI_THREAD_MULTIPLE
# with late constructor threads, restart_iccmt.sh), an idup'd communicator
# whose parent was freed, checkpointed again after each restart
# (restart_gidroot.sh), one rank inside MPI_Finalize while the other
# computes (restart_fin.sh), a checkpoint after MPI_Finalize
# (restart_final.sh), communicators each rank made in another order
# (restart_xorder.sh), a checkpoint before MPI_Init, whose restart's
# proxies start MPI before the ranks ask (restart_preinit.sh), a
# communicator made after the checkpoint's INTENT (restart_late.sh), one
# rank inside a Cartesian Neighbor_alltoall at the checkpoint
# (restart_topohold.sh), MPI_Alloc_mem memory and receives pending into
# it (restart_allocmem.sh), an MPI_Comm_idup held at the gate
# (restart_idupheld.sh), nonblocking and persistent neighbourhood
# collectives pending on Cartesian communicators whose blocks the proxy
# exchanges itself (restart_nbrwait.sh), a blocking 1 MiB send in flight,
# its receiver outside MPI (restart_heldsend.sh, ~15 s), a thread
# holding the shim's f90 lock at the checkpoint (restart_f90lock.sh,
# ~5 s), the application's recursive and error-checking mutexes and a
# write-locked rwlock held by their threads across a restart and a restart
# of a restarted job (restart_tidlock.sh, ~5 s idle, ~80 s loaded), large malloc'ed arrays in the shared heap with receives pending
# into them (restart_heap.sh), ranks forking in a loop at every checkpoint
# (restart_fork.sh, ~10 s), synchronous sends whose receive is posted only
# after the checkpoint (restart_issend.sh, ~20 s), and only after
# checkpoints that fail after PARK or after DRAIN (restart_failckpt.sh,
# ~15 s), a chunked reduction one rank is inside at the checkpoint,
# restarted without the chunk knob the program set (restart_redchunk.sh,
# ~15 s), messages in flight at a checkpoint whose arena heap blocks and
# pending sends mostly fill (restart_drainfit.sh, ~10 s): about 6.5
# minutes together.
.PHONY: restart-check
restart-check: build-all
	$(Q)sh tests/ckpt-mpi/restart_ring.sh $(B)
	$(Q)sh tests/ckpt-mpi/restart_topo.sh $(B)
	$(Q)sh tests/ckpt-mpi/restart_p2p.sh $(B)
	$(Q)sh tests/ckpt-mpi/restart_nbc.sh $(B)
	$(Q)sh tests/ckpt-mpi/restart_finishwin.sh $(B)
	$(Q)sh tests/ckpt-mpi/restart_thread.sh $(B)
	$(Q)sh tests/ckpt-mpi/restart_outside.sh $(B)
	$(Q)sh tests/ckpt-mpi/restart_truncpark.sh $(B)
	$(Q)sh tests/ckpt-mpi/stress.sh $(B)
	$(Q)sh tests/ckpt-mpi/chain.sh $(B)
	$(Q)sh tests/ckpt-mpi/faults.sh $(B)
	$(Q)sh tests/ckpt-mpi/exit_once.sh $(B)
	$(Q)sh tests/ckpt-mpi/restart_bigc.sh $(B)
	$(Q)sh tests/ckpt-mpi/restart_idup.sh $(B)
	$(Q)sh tests/ckpt-mpi/restart_icc.sh $(B)
	$(Q)sh tests/ckpt-mpi/restart_iccmt.sh $(B)
	$(Q)sh tests/ckpt-mpi/restart_gidroot.sh $(B)
	$(Q)sh tests/ckpt-mpi/restart_fin.sh $(B)
	$(Q)sh tests/ckpt-mpi/restart_final.sh $(B)
	$(Q)sh tests/ckpt-mpi/restart_xorder.sh $(B)
	$(Q)sh tests/ckpt-mpi/restart_preinit.sh $(B)
	$(Q)sh tests/ckpt-mpi/restart_late.sh $(B)
	$(Q)sh tests/ckpt-mpi/restart_topohold.sh $(B)
	$(Q)sh tests/ckpt-mpi/restart_allocmem.sh $(B)
	$(Q)sh tests/ckpt-mpi/restart_idupheld.sh $(B)
	$(Q)sh tests/ckpt-mpi/restart_nbrwait.sh $(B)
	$(Q)sh tests/ckpt-mpi/restart_heldsend.sh $(B)
	$(Q)sh tests/ckpt-mpi/restart_drainfail.sh $(B)
	$(Q)sh tests/ckpt-mpi/restart_f90lock.sh $(B)
	$(Q)sh tests/ckpt-mpi/restart_tidlock.sh $(B)
	$(Q)sh tests/ckpt-mpi/restart_heap.sh $(B)
	$(Q)sh tests/ckpt-mpi/restart_fork.sh $(B)
	$(Q)sh tests/ckpt-mpi/restart_issend.sh $(B)
	$(Q)sh tests/ckpt-mpi/restart_failckpt.sh $(B)
	$(Q)sh tests/ckpt-mpi/restart_redchunk.sh $(B)
	$(Q)sh tests/ckpt-mpi/restart_drainfit.sh $(B)
	$(Q)sh tests/ckpt-mpi/restart_freedup.sh $(B)
	$(Q)sh tests/ckpt-mpi/restart_freepersist.sh $(B)

# scripts/dmtcp_mpi_run under faults: ranks killed at random, the
# coordinator killed, a full checkpoint disk, bad input (tests/ft/run.sh).
.PHONY: ft-check
ft-check: build-all
	$(Q)bash tests/ft/run.sh $(B)

# The Slurm batch template (scripts/slurm/) on a real single-node Slurm
# the test starts and stops (tests/slurm/run.sh; as root it installs
# slurm-wlm and munge if missing, else it skips).
.PHONY: slurm-check
slurm-check: build-all
	$(Q)sh tests/slurm/run.sh $(B)

# Every mpi-tests program checkpointed at two random moments under MPICH and
# restarted under Open MPI (tests/ckpt-mpi/ckpt_all.sh; CKPT_ALL_SEED repeats
# a run, CKPT_ALL_MOMENTS=3 checks more moments).
.PHONY: ckpt-all-check
ckpt-all-check: build-all
	$(Q)CKPT_ALL_MOMENTS=$${CKPT_ALL_MOMENTS:-2} sh tests/ckpt-mpi/ckpt_all.sh $(B)

# ---------------------------------------------------------------- checkpoint engine
# libdmtcp_ckpt.so (preloaded into the app; links the coordinator client
# when that is in the tree), dmtcp_mpi_restart with the libc-free
# restorer embedded, and their tests (ckpt-check).
CK_LIB_SRC = ckpt/init.c ckpt/threads.c ckpt/state.c ckpt/write.c \
	ckpt/checkpoint.c ckpt/ctx.c ckpt/alloc.c ckpt/mutexown.c ckpt/maps.c \
	ckpt/image.c ckpt/hash.c
CK_RESTART_SRC = ckpt/restart.c ckpt/plan.c ckpt/feed.c ckpt/info.c \
	ckpt/image.c ckpt/hash.c util/fault.c util/log.c
CK_SO = $(LIBDIR)/libdmtcp_ckpt.so
CK_RESTORER = $(B)/obj/ckpt/restorer.elf
CK_RESTORER_FLAGS = $(CSTD) $(WARN) -O2 -I. -fPIE -ffreestanding \
	-fno-stack-protector -fno-asynchronous-unwind-tables \
	-fcf-protection=none -nostdlib -static-pie -Wl,--no-dynamic-linker \
	-Wl,-z,norelro -Wl,-z,noseparate-code -Wl,--build-id=none \
	-Wl,-z,max-page-size=4096
CK_UNIT_SRC = ckpt/maps.c ckpt/image.c ckpt/hash.c

$(CK_SO): $(call obj,host,$(CK_LIB_SRC) $(CK_CLIENT_SRC) util/fault.c util/log.c)
	$(msg) LD $@
	@mkdir -p $(LIBDIR)
	$(Q)$(CC) -shared -Wl,--no-undefined -o $@ $^ -lzstd -lpthread -ldl

# The restorer is moved to another address at restart: it must have no
# relocations at all.
$(CK_RESTORER): ckpt/restore/restorer.c ckpt/restore/plan.h ckpt/sys.h \
		ckpt/image.h util/exitcode.h
	$(msg) CC-PIE $@
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CK_RESTORER_FLAGS) -o $@ $<
	$(Q)readelf -r $@ | grep -q 'no relocations' || \
	    { echo "$@ has relocations" >&2; rm -f $@; exit 1; }

$(B)/obj/ckpt/restorer_blob.o: ckpt/restorer_blob.S $(CK_RESTORER)
	$(msg) AS $@
	$(Q)$(CC) -c -DCK_RESTORER_PATH='"$(CK_RESTORER)"' $< -o $@

$(BINDIR)/dmtcp_mpi_restart: $(call obj,host,$(CK_RESTART_SRC)) \
		$(B)/obj/ckpt/restorer_blob.o
	$(msg) LD $@
	@mkdir -p $(BINDIR)
	$(Q)$(CC) -o $@ $^ -lzstd -lpthread

CK_TEST_SRC = $(filter-out tests/ckpt/harness.c,$(wildcard tests/ckpt/*.c))
CK_TEST_BIN = $(patsubst tests/ckpt/%.c,$(B)/tests/ckpt/%,$(CK_TEST_SRC))

$(B)/tests/ckpt/%: tests/ckpt/%.c tests/ckpt/harness.c tests/ckpt/harness.h $(CK_SO)
	$(msg) CC $@
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CSTD) $(WARN) $(OPT) -I. -o $@ $< tests/ckpt/harness.c \
	    -L$(LIBDIR) -ldmtcp_ckpt -Wl,-rpath,'$$ORIGIN/../../lib' -lpthread

build-all: $(CK_SO) $(BINDIR)/dmtcp_mpi_restart

# The engine's unit tests link its pure parts too.
$(B)/tests/test_maps $(B)/tests/test_image: $(call obj,san,$(CK_UNIT_SRC))
$(B)/tests/test_mutexown: $(call obj,san,ckpt/mutexown.c)

ckpt-build: $(CK_SO) $(BINDIR)/dmtcp_mpi_restart $(CK_TEST_BIN)

ckpt-check: ckpt-build
	$(Q)bash tests/ckpt/run.sh $(B)

# bench/ckpt_bench.sh: checkpoint/restart speed against write+fsync.
$(B)/bench/ckpt_bench: bench/ckpt_bench.c $(CK_SO)
	$(msg) CC $@
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CSTD) $(WARN) $(OPT) -I. -o $@ $< -L$(LIBDIR) \
	    -ldmtcp_ckpt -Wl,-rpath,'$$ORIGIN/../lib' -lpthread

ckpt-bench: $(B)/bench/ckpt_bench $(BINDIR)/dmtcp_mpi_restart
	$(Q)bash bench/ckpt_bench.sh $(B)

# bench/mutex_cost.sh: an uncontended mutex lock/unlock with and without
# the engine's wrappers (ckpt/mutexown.c) before any restart.
.PHONY: ckpt-mutex-bench
$(B)/bench/mutex_cost: bench/mutex_cost.c bench/timing.h
	$(msg) CC $@
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CSTD) $(WARN) $(OPT) -I. -o $@ $< -lpthread

ckpt-mutex-bench: $(B)/bench/mutex_cost $(CK_SO)
	$(Q)sh bench/mutex_cost.sh $(B)

# The checkpoint of a whole job, restart under either MPI, and the cost of
# the consistency bookkeeping (bench/job_ckpt.sh, doc/performance.md).
.PHONY: ckpt-job-bench
ckpt-job-bench: build-all
	$(Q)bash bench/job_ckpt.sh $(B)

# Fuzz the image reader with libFuzzer (clang), seeded from
# tests/ckpt/corpus; FUZZ_TIME seconds (default 60).  New inputs go to
# $(B)/fuzz/corpus, crashes to $(B)/fuzz/.
FUZZ_CC ?= clang
FUZZ_TIME ?= 60
$(B)/fuzz/fuzz_image: tests/ckpt/fuzz/fuzz_image.c ckpt/image.c ckpt/hash.c
	$(msg) FUZZ $@
	@mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(CSTD) -g -O1 -I. -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION \
	    -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=all -o $@ $^

fuzz-image: $(B)/fuzz/fuzz_image
	@mkdir -p $(B)/fuzz/corpus
	$(Q)cd $(B)/fuzz && ./fuzz_image -max_total_time=$(FUZZ_TIME) \
	    -max_len=65536 corpus $(CURDIR)/tests/ckpt/corpus

# ---------------------------------------------------------------- generated
gen:
	$(Q)$(PYTHON) scripts/gen_mpi.py

gen-check:
	$(Q)$(PYTHON) scripts/gen_mpi.py --check

# ---------------------------------------------------------------- tests
# Unit tests: each tests/unit/test_NAME.c is linked with the host objects
# (built again with sanitizers); tests/unit/px_test_NAME.c with a proxy.
# shim/malloc.c replaces malloc, which the sanitizers' runtime owns:
# test_heap links it into a binary of its own, built without them.
UNIT_SRC   = $(filter-out tests/unit/px_% tests/unit/test_heap.c,$(wildcard tests/unit/test_*.c))
UNIT_BIN   = $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRC))
UNIT_LIBSRC = $(filter-out shim/malloc.c,$(SHIM_SRC)) $(COMMON_SRC)

$(B)/obj/san/%.o: %.c
	$(msg) CC-SAN $<
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS_ALL) $(SAN) -c $< -o $@

$(B)/tests/test_%: $(B)/obj/san/tests/unit/test_%.o $(call obj,san,$(UNIT_LIBSRC))
	$(msg) LD $@
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(SAN) -o $@ $^ -lcmocka -lpthread

$(B)/tests/test_heap: $(call obj,host,tests/unit/test_heap.c $(SHIM_SRC) $(COMMON_SRC))
	$(msg) LD $@
	@mkdir -p $(dir $@)
	$(Q)$(CC) -rdynamic -o $@ $^ -lcmocka -lpthread

unit-check: $(UNIT_BIN) $(PX_UNIT_BIN) $(B)/tests/test_heap
	$(Q)sh scripts/run-unit-tests.sh $(UNIT_BIN) $(PX_UNIT_BIN) $(B)/tests/test_heap

mpi-check: build-all
	$(Q)B=$(B) sh mpi-tests/run.sh

# Every function of the table exported as MPI_ and PMPI_.
.PHONY: exports-check
exports-check: build-all
	$(Q)sh tests/check-exports.sh $(SHIM_SO)

# MPICH's own test suite (scripts/mpich-suite.sh; fetched with apt-get
# source into $(B)/mpich-suite): the green subset listed in
# scripts/mpich-suite.subset is part of make check; check-mpich-suite runs
# all of it and wants 95% of what passes natively to pass through us.
# suite-cache-check: the runner's native cache and --resume on two small
# entries (tests/suite/cache.sh).
# check-mpich-suite-ckpt checkpoints every entry at a random moment and
# restarts it under the other MPI (scripts/mpich-suite-ckpt.sh; a hunt
# for bugs, too long for make check; SUITE_CKPT_ARGS="--seed 7 --dirs
# pt2pt" passes options).
.PHONY: mpich-suite-check check-mpich-suite check-mpich-suite-ckpt suite-cache-check
mpich-suite-check: build-all
	$(Q)B=$(B) bash scripts/mpich-suite.sh --subset

check-mpich-suite: build-all
	$(Q)B=$(B) bash scripts/mpich-suite.sh

check-mpich-suite-ckpt: build-all
	$(Q)B=$(B) bash scripts/mpich-suite-ckpt.sh $(SUITE_CKPT_ARGS)

suite-cache-check: build-all
	$(Q)B=$(B) bash tests/suite/cache.sh

check: all gen-check unit-check exports-check mpi-check coord-check launcher-check ckpt-check \
	ckpt-mpi-check restart-check mpich-suite-check suite-cache-check ft-check slurm-check \
	ckpt-all-check bench-smoke

# MPI benchmarks (bench/run.sh): mpibench built natively with each MPI's
# mpicc and once with dmtcp_mpicc; the chain floor needs no MPI.
BENCH_DIR = $(B)/bench
BENCH_CFLAGS = $(CSTD) $(WARN) -O2 -g
BENCH_BINS = $(BENCH_DIR)/chain_floor $(BENCH_DIR)/chan_pingpong $(BENCH_DIR)/mpibench-ours \
	$(foreach m,$(MPIS),$(BENCH_DIR)/mpibench-$(m))
# Defined before bench-smoke, which names them: make expands a rule's
# prerequisites as it reads the rule.
HALO_MAP_BINS = $(foreach m,$(MPIS),$(BENCH_DIR)/halo_map-$(m))

$(BENCH_DIR)/chain_floor: $(call obj,host,bench/chain_floor.c util/log.c)
	$(msg) LD $@
	@mkdir -p $(dir $@)
	$(Q)$(CC) -o $@ $^

$(BENCH_DIR)/mpibench-ours: bench/mpibench.c bench/timing.h $(SHIM_SO) $(INCDIR)/mpi.h $(SCRIPTS)
	$(msg) CC-ABI $@
	@mkdir -p $(dir $@)
	$(Q)$(BINDIR)/dmtcp_mpicc $(BENCH_CFLAGS) -o $@ $<

$(BENCH_DIR)/mpibench-%: bench/mpibench.c bench/timing.h
	$(msg) CC-$* $@
	@mkdir -p $(dir $@)
	$(Q)$(MPICC_$*) $(BENCH_CFLAGS) -o $@ $<

bench: all $(BENCH_BINS)
	$(Q)B=$(B) bash bench/run.sh

# Every benchmark once at its least, both MPIs, nothing measured
# (bench/smoke.sh): they and their helpers still run.  About 20 s.
# Then bench/table.awk's paired ratios on a handmade raw file.
.PHONY: bench-smoke
bench-smoke: build-all $(BENCH_BINS) $(HALO_MAP_BINS)
	$(Q)bash bench/smoke.sh $(B)
	$(Q)sh tests/bench/table.sh

# The real MPI's halo exchange on a malloc'ed, a MAP_SHARED (as the
# arena) and a huge-page grid, natively (bench/halo_map.c).
$(BENCH_DIR)/halo_map-%: bench/halo_map.c bench/timing.h
	$(msg) CC-$* $@
	@mkdir -p $(dir $@)
	$(Q)$(MPICC_$*) $(BENCH_CFLAGS) -o $@ $<

.PHONY: bench-halo-map
bench-halo-map: $(HALO_MAP_BINS)
	$(Q)bash bench/halo_map.sh $(B)

# Channel round trip alone, no MPI (bench/chan_pingpong.c).
BENCH_CHAN = $(B)/bench/chan_pingpong
$(BENCH_CHAN): $(call obj,host,bench/chan_pingpong.c $(COMMON_SRC))
	$(msg) LD $@
	@mkdir -p $(dir $@)
	$(Q)$(CC) -o $@ $^

.PHONY: bench-chan
bench-chan: $(BENCH_CHAN)
	$(Q)timeout 300 $(BENCH_CHAN)

demo: all
	$(Q)sh scripts/demo.sh

# ---------------------------------------------------------------- install
install: build-all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib \
	    $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/libexec/dmtcp_mpi \
	    $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(BINDIR)/* $(DESTDIR)$(PREFIX)/bin/
	install -m 755 scripts/dmtcp_mpi_run $(DESTDIR)$(PREFIX)/bin/
	install -m 755 $(SHIM_SO) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(CK_SO) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libmpi_abi.so.1 $(DESTDIR)$(PREFIX)/lib/libmpi_abi.so
	install -m 644 shim/mpi.h $(DESTDIR)$(PREFIX)/include/
	install -m 755 $(PROXIES) $(DESTDIR)$(PREFIX)/libexec/dmtcp_mpi/
	install -m 644 doc/man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/

clean:
	rm -rf $(B)

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
