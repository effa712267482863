/*
 * env.c - the environment calls: Initialized/Finalized before, during and
 * after the MPI lifetime, Init_thread with Query_thread and Is_thread_main,
 * Get_version (callable before Init), Get_processor_name, Wtime/Wtick.
 * Values that differ between MPIs (thread level granted, version, host
 * name) are checked for validity but never printed.
 */
/* ranks: 2 */
#include <time.h>
#include "mt.h"

static void check_thread_level(int provided)
{
	int queried = -1, is_main = 0;

	MT_CHECK(provided == MPI_THREAD_SINGLE || provided == MPI_THREAD_FUNNELED ||
		 provided == MPI_THREAD_SERIALIZED || provided == MPI_THREAD_MULTIPLE,
		 "Init_thread gave an unknown thread level");
	MT_CHECK(MPI_THREAD_SINGLE < MPI_THREAD_FUNNELED &&
		 MPI_THREAD_FUNNELED < MPI_THREAD_SERIALIZED &&
		 MPI_THREAD_SERIALIZED < MPI_THREAD_MULTIPLE, "thread levels not ordered");
	MPI_Query_thread(&queried);
	MT_EQ(queried, provided, "Query_thread vs Init_thread provided");
	MPI_Is_thread_main(&is_main);
	MT_EQ(is_main, 1, "Is_thread_main on the main thread");
	mt_say("thread level: query matches init, main thread recognised");
}

static void check_version(void)
{
	int v = 0, sv = 0;

	MPI_Get_version(&v, &sv);
	MT_CHECK(v > 3 || (v == 3 && sv >= 1), "Get_version %d.%d is older than 3.1", v, sv);
	MT_CHECK(MPI_VERSION >= 3, "MPI_VERSION macro %d < 3", MPI_VERSION);
	mt_say("version: at least 3.1");
}

static void check_processor_name(void)
{
	char name[MPI_MAX_PROCESSOR_NAME];
	int len = -1;

	memset(name, 'x', sizeof name);
	MPI_Get_processor_name(name, &len);
	MT_CHECK(len > 0 && len < MPI_MAX_PROCESSOR_NAME, "processor name length %d", len);
	if (len > 0 && len < MPI_MAX_PROCESSOR_NAME)
		MT_EQ(strlen(name), len, "processor name strlen vs resultlen");
	mt_say("processor name: non-empty, terminated, length matches");
}

static void check_wtime(void)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	double tick = MPI_Wtick(), prev = MPI_Wtime(), start = prev;
	int backwards = 0;

	MT_CHECK(tick > 0.0 && tick < 1.0, "Wtick %g out of (0, 1)", tick);
	for (int i = 0; i < 10000; i++) {
		double t = MPI_Wtime();

		backwards += t < prev;
		prev = t;
	}
	MT_EQ(backwards, 0, "Wtime went backwards (times)");
	nanosleep(&ts, NULL);
	double slept = MPI_Wtime() - start;
	MT_CHECK(slept >= 0.019 && slept < 60.0, "Wtime across a 20 ms sleep advanced %g s", slept);
	mt_say("wtime: monotonic, follows a 20 ms sleep, tick in (0, 1)");
}

int main(int argc, char **argv)
{
	int flag = -1, provided = -1, v = 0, sv = 0, size = 0;

	/* Allowed before MPI_Init: remember results, report once we can. */
	MPI_Initialized(&flag);
	int init_before = flag;
	MPI_Finalized(&flag);
	int fin_before = flag;
	MPI_Get_version(&v, &sv);

	MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
	mt_begin("env");
	MT_EQ(init_before, 0, "Initialized before Init");
	MT_EQ(fin_before, 0, "Finalized before Init");
	MT_CHECK(v >= 3, "Get_version before Init gave %d", v);
	MPI_Initialized(&flag);
	MT_EQ(flag, 1, "Initialized after Init");
	MPI_Finalized(&flag);
	MT_EQ(flag, 0, "Finalized after Init");
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	mt_say("world size %d", size);
	mt_say("initialized: before 0, after init 1; finalized: before 0, after init 0");

	check_thread_level(provided);
	check_version();
	check_processor_name();
	check_wtime();

	int total = mt_collect();
	MPI_Finalize();
	MPI_Finalized(&flag);
	if (flag != 1)
		MT_FAIL("Finalized after Finalize is %d", flag), total++;
	MPI_Initialized(&flag);
	if (flag != 1)
		MT_FAIL("Initialized after Finalize is %d", flag), total++;
	mt_say("after finalize: initialized 1, finalized 1");
	return mt_report(total);
}
