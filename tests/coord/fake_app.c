/*
 * fake_app.c - the application of tests/coord: it only lives, linked with
 * the fake engine (whose constructor starts the coordinator client).
 *
 *   fake_app SECONDS [--ignore-term]
 * sleeps SECONDS (so nothing outlives a broken test for long) and exits
 * 0; with --ignore-term, SIGTERM is ignored and only SIGKILL ends it.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int main(int argc, char **argv)
{
	time_t end = time(NULL) + (argc > 1 ? atoi(argv[1]) : 60);

	if (argc > 2 && strcmp(argv[2], "--ignore-term") == 0)
		signal(SIGTERM, SIG_IGN);
	while (time(NULL) < end) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	return 0;
}
