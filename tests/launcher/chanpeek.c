/*
 * chanpeek.c - look at (or poke) the channel header from a shell script.
 *
 * The launcher tests stand in for the proxy and the app with small shell
 * scripts; this tool lets them see what the launcher wrote into the channel
 * named by $DMTCP_MPI_CHAN_FD, using the real struct layout from chan.h:
 *
 *   chanpeek magic|rank|same_cpu|state   print the field in decimal
 *   chanpeek finalize                    record an answered MPI_Finalize
 *                                        call, as the shim and proxy would
 *   chanpeek wait-state S SECONDS        exit 0 once state == S, 1 on timeout
 *   chanpeek fds                         list the fds this process inherited
 *
 * It maps the header only, with no code from chan/ so a bug there cannot
 * hide a launcher bug.
 */
#include <dirent.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "chan/calls.h"
#include "chan/chan.h"

static struct chan_hdr *map_header(void)
{
	const char *s = getenv(CHAN_ENV_FD);

	if (s == NULL) {
		fprintf(stderr, "chanpeek: %s not set\n", CHAN_ENV_FD);
		exit(2);
	}
	void *p = mmap(NULL, sizeof(struct chan_hdr), PROT_READ | PROT_WRITE,
		       MAP_SHARED, atoi(s), 0);
	if (p == MAP_FAILED) {
		perror("chanpeek: mmap");
		exit(2);
	}
	return p;
}

/* Print the open fds other than the one used to read the list. */
static int list_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	const char *sep = "";

	if (d == NULL) {
		perror("chanpeek: /proc/self/fd");
		return 2;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || atoi(e->d_name) == dirfd(d))
			continue;
		printf("%s%s", sep, e->d_name);
		sep = " ";
	}
	printf("\n");
	closedir(d);
	return 0;
}

static int wait_state(struct chan_hdr *h, unsigned want, double seconds)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };

	for (double t = 0; t < seconds; t += 0.01) {
		if (atomic_load(&h->state) == want)
			return 0;
		nanosleep(&tick, NULL);
	}
	return 1;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: chanpeek FIELD | finalize | "
				"wait-state S SECONDS\n");
		return 2;
	}
	const char *what = argv[1];

	if (strcmp(what, "fds") == 0)
		return list_fds();
	struct chan_hdr *h = map_header();

	if (strcmp(what, "magic") == 0)
		printf("%u\n", h->magic);
	else if (strcmp(what, "rank") == 0)
		printf("%u\n", h->rank);
	else if (strcmp(what, "same_cpu") == 0)
		printf("%u\n", h->same_cpu);
	else if (strcmp(what, "state") == 0)
		printf("%u\n", atomic_load(&h->state));
	else if (strcmp(what, "finalize") == 0) {
		h->call.id = CALL_FINALIZE;
		atomic_fetch_add(&h->seq[CHAN_REQ], 1);
		atomic_fetch_add(&h->seq[CHAN_RSP], 1);
	} else if (strcmp(what, "wait-state") == 0 && argc == 4)
		return wait_state(h, (unsigned)atoi(argv[2]), atof(argv[3]));
	else {
		fprintf(stderr, "chanpeek: unknown request %s\n", what);
		return 2;
	}
	return 0;
}
