/*
 * bindplan.c - run the launcher's placement rule (ln_bind_choose) on a
 * synthetic hwloc topology, so bind.sh can check machines this one is not
 * (SMT cores, several packages, many PUs).
 *
 *   bindplan SYNTHETIC BINDING LOCAL_RANK LOCAL_SIZE
 *     SYNTHETIC  hwloc synthetic description, e.g. "pack:2 core:2 pu:2"
 *     BINDING    "all", or a PU list such as "0-3,6"
 *   prints: APP_PU PROXY_PU SAME_CPU (how)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "launcher/launcher.h"

int main(int argc, char **argv)
{
	hwloc_topology_t topo;
	hwloc_bitmap_t binding = hwloc_bitmap_alloc();
	struct ln_bind b;
	char how[128];

	if (argc != 5) {
		fprintf(stderr, "usage: bindplan SYNTHETIC BINDING LOCAL_RANK "
				"LOCAL_SIZE\n");
		return 2;
	}
	if (hwloc_topology_init(&topo) < 0 ||
	    hwloc_topology_set_synthetic(topo, argv[1]) < 0 ||
	    hwloc_topology_load(topo) < 0) {
		fprintf(stderr, "bindplan: bad synthetic topology %s\n", argv[1]);
		return 2;
	}
	if (strcmp(argv[2], "all") == 0)
		hwloc_bitmap_copy(binding, hwloc_topology_get_topology_cpuset(topo));
	else if (hwloc_bitmap_list_sscanf(binding, argv[2]) < 0) {
		fprintf(stderr, "bindplan: bad PU list %s\n", argv[2]);
		return 2;
	}
	ln_bind_choose(topo, binding, atoi(argv[3]), atoi(argv[4]), &b, how,
		       sizeof(how));
	printf("%d %d %d (%s)\n", b.app_pu, b.proxy_pu, b.same_cpu, how);
	hwloc_bitmap_free(binding);
	hwloc_topology_destroy(topo);
	return 0;
}
