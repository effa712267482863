/*
 * mapfile.c - a file mapped MAP_SHARED and written through the mapping,
 * one page per step.  At restart the mapping must be of the file again
 * (not a private copy): the final check reads the file with pread.
 */
#include "tests/ckpt/harness.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define STEPS 128
#define PAGE 4096

int main(void)
{
	char path[2048];
	const char *dir = getenv("DMTCP_MPI_TEST_DIR");
	static char page[PAGE];

	snprintf(path, sizeof(path), "%s/mapfile.dat", dir ? dir : ".");
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, STEPS * PAGE) != 0)
		return 2;
	unsigned char *m = mmap(NULL, STEPS * PAGE, PROT_READ | PROT_WRITE,
				MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return 2;
	close(fd);
	th_start("mapfile");
	for (long k = 0; k < STEPS; k++) {
		for (int i = 0; i < PAGE; i++)
			m[k * PAGE + i] = (unsigned char)(k * 31 + i * 7);
		if (k)   /* depends on the previous page: order matters */
			m[k * PAGE] ^= m[(k - 1) * PAGE + 5];
		th_step(k);
		usleep(2000);
	}
	th_done();
	fd = open(path, O_RDONLY);
	uint64_t h = 1469598103934665603ULL;
	for (long k = 0; k < STEPS; k++) {
		if (pread(fd, page, PAGE, k * PAGE) != PAGE)
			return 2;
		for (int i = 0; i < PAGE; i++)
			h = (h ^ (unsigned char)page[i]) * 1099511628211ULL;
	}
	printf("mapfile: %d pages hash %016llx\n", STEPS,
	       (unsigned long long)h);
	return 0;
}
