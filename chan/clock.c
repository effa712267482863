/*
 * clock.c - the clock the waits read (chan/wait.c, proxy/progress.c).
 *
 * A hand-off between an application and its proxy sharing a CPU reads
 * the clock before and after its sched_yield (a long gap means other
 * threads took the CPU: wait.c, "Crowded CPUs"), and the proxy reads it
 * between two tests while it spins: about ten reads per 8-byte round
 * trip on each CPU.  clock_gettime costs 22 ns on the KVM guest we
 * measure on (vDSO), the time-stamp counter alone 10 ns.  So when the
 * kernel keeps time with the counter itself (its clocksource is "tsc":
 * the counter then runs at a constant rate, in step on every CPU),
 * chan_clock_ns reads the counter and scales it by the rate measured
 * against CLOCK_MONOTONIC at chan_clock_init; otherwise, and on other
 * architectures, it is clock_gettime.  The waits compare intervals of
 * microseconds with bounds of microseconds: a rate off by a part in a
 * thousand changes nothing.
 *
 * chan_attach calls chan_clock_init, so a restored application measures
 * the counter of the machine it now runs on.  Until then, and when the
 * measurement was disturbed three times (a preemption between two
 * reads), the clock is clock_gettime.
 */
#include "chan/chan.h"
#include "util/hot.h"

#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CLOCK_CAL_NS 100000u   /* measure the rate over this long */
#define CLOCK_PAIR_NS 1000u    /* a pair of reads taking longer was disturbed */
#define CLOCK_TRIES 3
#define CLOCKSOURCE "/sys/devices/system/clocksource/clocksource0/current_clocksource"

/* ns = ns0 + ((tsc - tsc0) * mult >> 32); mult 0: use clock_gettime. */
static struct {
	uint64_t tsc0, ns0;
	uint64_t mult;
} rate;

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#if defined(__x86_64__)
static uint64_t tsc(void)
{
	return __builtin_ia32_rdtsc();
}

/* Plain open and read, no stdio: chan_attach_at runs in the shim's
 * restart hook, while the engine still holds the application's threads,
 * and a FILE is a malloc (the shim's own, in the application). */
static int kernel_uses_tsc(void)
{
	char name[32];
	int fd = open(CLOCKSOURCE, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	ssize_t n = read(fd, name, sizeof(name) - 1);
	close(fd);
	if (n < 0)
		n = 0;
	name[n] = '\0';
	return strcmp(name, "tsc\n") == 0;
}

/* One (counter, ns) pair read close together: 0, or -1 if disturbed. */
static int read_pair(uint64_t *t, uint64_t *ns)
{
	uint64_t before = mono_ns();

	*t = tsc();
	*ns = mono_ns();
	return *ns - before <= CLOCK_PAIR_NS ? 0 : -1;
}

/* The rate over CLOCK_CAL_NS, as ns per tick << 32; 0 if disturbed. */
static uint64_t measure(uint64_t *t0, uint64_t *n0)
{
	uint64_t t1, n1;

	if (read_pair(t0, n0) < 0)
		return 0;
	while (mono_ns() - *n0 < CLOCK_CAL_NS)
		;
	if (read_pair(&t1, &n1) < 0 || t1 <= *t0)
		return 0;
	return (uint64_t)(((unsigned __int128)(n1 - *n0) << 32) / (t1 - *t0));
}

void chan_clock_init(void)
{
	uint64_t t0 = 0, n0 = 0, mult = 0;

	rate.mult = 0;
	if (!kernel_uses_tsc())
		return;
	for (int i = 0; i < CLOCK_TRIES && mult == 0; i++)
		mult = measure(&t0, &n0);
	rate.tsc0 = t0;
	rate.ns0 = n0;
	rate.mult = mult;
}

DM_HOT uint64_t chan_clock_ns(void)
{
	if (rate.mult == 0)
		return mono_ns();
	return rate.ns0 + (uint64_t)(((unsigned __int128)(tsc() - rate.tsc0) * rate.mult) >> 32);
}
#else
void chan_clock_init(void)
{
}

DM_HOT uint64_t chan_clock_ns(void)
{
	return mono_ns();
}
#endif
