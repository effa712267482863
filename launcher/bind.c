/*
 * bind.c - where the application and its proxy run (hwloc).
 *
 * Every MPI call is a hand-off between the app and its proxy, so where the
 * two run decides the call latency:
 *   - On two PUs that share a core (SMT siblings) or at least a package,
 *     both can spin briefly and a hand-off costs a cache-line transfer.
 *   - When there are fewer than two PUs per local rank, spinning peers on
 *     an oversubscribed machine livelock; then the app and its proxy share
 *     one PU (hdr->same_cpu = 1, the channel yields instead of spinning) so
 *     a hand-off is one context switch, and ranks are spread over PUs.
 *
 * The rule.  Start from the launcher's own binding (mpirun may have bound
 * it).  If that binding is the whole machine, allows >= 2 PUs, and the
 * machine has two PUs for every local rank, local rank r gets the r-th
 * pair of PUs, pairs taken first within a core, then within a package,
 * then anywhere.  Otherwise both children go on PU (r mod n) of the n PUs
 * the binding allows.  --no-bind / DMTCP_MPI_BIND=none keeps the inherited
 * binding for both; same_cpu is then 1 only if that binding is one PU.
 */
#include "launcher/launcher.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

/* One PU of the machine, in topology order. */
struct pu {
	int os;           /* OS cpu number */
	hwloc_obj_t core; /* enclosing core, NULL if the topology has none */
	hwloc_obj_t pkg;  /* enclosing package, NULL if none */
	int used;         /* already in a pair */
};

/* Pairing stages, most to least preferred. */
enum pair_stage { PAIR_CORE, PAIR_PACKAGE, PAIR_ANY, PAIR_STAGES };

static const char *const stage_name[PAIR_STAGES] = {
	"SMT siblings", "same package", "different packages"
};

static int pairable(enum pair_stage st, const struct pu *a, const struct pu *b)
{
	switch (st) {
	case PAIR_CORE:
		return a->core != NULL && a->core == b->core;
	case PAIR_PACKAGE:
		return a->pkg == b->pkg;
	default:
		return 1;
	}
}

/* Fill pair[] with the index-th pair of PUs in preference order.
 * Returns the stage it came from, or -1 if there are not that many. */
static int nth_pair(struct pu *pus, int n, int index, int pair[2])
{
	int found = 0;

	for (int st = 0; st < PAIR_STAGES; st++) {
		for (int i = 0; i < n; i++) {
			if (pus[i].used)
				continue;
			for (int j = i + 1; j < n; j++) {
				if (pus[j].used || !pairable(st, &pus[i], &pus[j]))
					continue;
				if (found++ == index) {
					pair[0] = pus[i].os;
					pair[1] = pus[j].os;
					return st;
				}
				pus[i].used = pus[j].used = 1;
				break;
			}
		}
	}
	return -1;
}

/* Separate PUs for local rank r; -1 if the topology cannot be read. */
static int choose_pair(hwloc_topology_t topo, int r, struct ln_bind *b,
		       char *how, size_t how_len)
{
	int n = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU);
	struct pu *pus = calloc((size_t)(n > 0 ? n : 1), sizeof(*pus));
	int pair[2], st;

	if (pus == NULL)
		return -1;
	for (int i = 0; i < n; i++) {
		hwloc_obj_t o = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PU, (unsigned)i);

		pus[i].os = (int)o->os_index;
		pus[i].core = hwloc_get_ancestor_obj_by_type(topo, HWLOC_OBJ_CORE, o);
		pus[i].pkg = hwloc_get_ancestor_obj_by_type(topo,
							    HWLOC_OBJ_PACKAGE, o);
	}
	st = nth_pair(pus, n, r, pair);
	free(pus);
	if (st < 0)
		return -1;
	b->app_pu = pair[0];
	b->proxy_pu = pair[1];
	b->same_cpu = 0;
	snprintf(how, how_len, "%s", stage_name[st]);
	return 0;
}

/* The k-th set bit of set (k < weight). */
static int nth_bit(hwloc_const_bitmap_t set, int k)
{
	int bit = hwloc_bitmap_first(set);

	while (k-- > 0)
		bit = hwloc_bitmap_next(set, bit);
	return bit;
}

void ln_bind_choose(hwloc_topology_t topo, hwloc_const_cpuset_t binding,
		    int local_rank, int local_size, struct ln_bind *b,
		    char *how, size_t how_len)
{
	hwloc_const_cpuset_t machine = hwloc_topology_get_allowed_cpuset(topo);
	hwloc_bitmap_t usable = hwloc_bitmap_alloc();
	int n_machine = hwloc_bitmap_weight(machine);

	b->app_pu = b->proxy_pu = -1;
	b->same_cpu = 0;
	if (usable == NULL) {
		snprintf(how, how_len, "not bound: out of memory");
		return;
	}
	hwloc_bitmap_and(usable, binding, machine);
	int n_usable = hwloc_bitmap_weight(usable);
	if (n_usable <= 0) {
		snprintf(how, how_len, "not bound: binding outside the machine");
	} else if (n_usable >= 2 && hwloc_bitmap_isincluded(machine, binding) &&
		   (long)local_size * 2 <= n_machine &&
		   choose_pair(topo, local_rank, b, how, how_len) == 0) {
		/* done: separate PUs */
	} else {
		b->app_pu = b->proxy_pu = nth_bit(usable, local_rank % n_usable);
		b->same_cpu = 1;
		snprintf(how, how_len, "shared PU: %d local rank%s, %d usable PU%s",
			 local_size, local_size == 1 ? "" : "s", n_usable,
			 n_usable == 1 ? "" : "s");
	}
	hwloc_bitmap_free(usable);
}

/* Unbound: the children inherit our binding; do they end up on one CPU? */
static int inherited_single_cpu(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return 0;
	return CPU_COUNT(&set) == 1;
}

static void plan_unbound(struct ln_bind *b, const char *why, int verbose,
			 int rank)
{
	b->app_pu = b->proxy_pu = -1;
	b->same_cpu = inherited_single_cpu();
	if (verbose)
		dm_info("rank %d: app and proxy not bound (%s)%s", rank, why,
			b->same_cpu ? "; they share the one inherited CPU" : "");
}

void ln_bind_plan(struct ln_bind *b, const struct ln_where *w, int no_bind,
		  int verbose)
{
	hwloc_topology_t topo;
	hwloc_bitmap_t binding;
	char how[128];

	if (no_bind) {
		plan_unbound(b, "--no-bind or DMTCP_MPI_BIND=none", verbose,
			     w->rank);
		return;
	}
	if (hwloc_topology_init(&topo) < 0) {
		dm_warn("cannot read the machine topology (hwloc, rank %d): %s; "
			"not binding", w->rank, strerror(errno));
		plan_unbound(b, "no topology", verbose, w->rank);
		return;
	}
	binding = hwloc_bitmap_alloc();
	if (hwloc_topology_load(topo) < 0 || binding == NULL ||
	    hwloc_get_cpubind(topo, binding, HWLOC_CPUBIND_PROCESS) < 0) {
		dm_warn("cannot read the machine topology or our binding "
			"(hwloc, rank %d): %s; not binding", w->rank,
			strerror(errno));
		plan_unbound(b, "no topology", verbose, w->rank);
	} else {
		ln_bind_choose(topo, binding, w->local_rank, w->local_size, b,
			       how, sizeof(how));
		if (b->app_pu < 0)
			plan_unbound(b, how, verbose, w->rank);
		else if (verbose)
			dm_info("rank %d (local %d of %d): app on PU %d, proxy on "
				"PU %d (%s)", w->rank, w->local_rank,
				w->local_size, b->app_pu, b->proxy_pu, how);
	}
	hwloc_bitmap_free(binding);
	hwloc_topology_destroy(topo);
}
