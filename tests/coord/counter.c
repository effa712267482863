/*
 * counter.c - the application of the end-to-end test with the real
 * engine (tests/coord/run.sh, test_real_engine).
 *
 *   counter FILE TICKS
 * counts to TICKS, one tick per 50 ms, appending "<pid> <count>" to FILE
 * at each tick.  The count lives only in memory and FILE is opened anew
 * for every line, so after a restart the lines go on from the count the
 * image holds, under the restored process's pid, whatever the engine
 * does with open files.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long count = 0, ticks = argc > 2 ? atol(argv[2]) : 0;

	if (argc != 3 || ticks <= 0) {
		fprintf(stderr, "usage: counter FILE TICKS\n");
		return 64;
	}
	while (count < ticks) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		count++;
		int fd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
			      0644);
		if (fd < 0 || dprintf(fd, "%d %ld\n", (int)getpid(), count) < 0)
			return 1;
		close(fd);
	}
	return 0;
}
