/*
 * info.c - info objects and communicator hints.  Create, set (a new key
 * and an existing one: its value changes in place), get with a valuelen
 * shorter than the value (truncated, not an error), get_valuelen,
 * get_nkeys and get_nthkey in insertion order, delete, dup (independent
 * of the original), free; MPI_INFO_ENV is a valid info; hints given by
 * MPI_Comm_dup_with_info and MPI_Comm_set_info come back from
 * MPI_Comm_get_info.  MPI_Info_get_string (MPI-4, not in
 * Open MPI 4.1) is checked silently where it exists.  Error classes both
 * MPIs agree on: deleting a missing key (MPI_ERR_INFO_NOKEY), an empty
 * key (MPI_ERR_INFO_KEY).
 */
/* ranks: 2 */
#include "mt.h"

static int error_class(int rc)
{
	int cls = -1;

	MPI_Error_class(rc, &cls);
	return cls;
}

static void show_keys(MPI_Info in, const char *what)
{
	int n = -1, flag;
	char line[256], key[MPI_MAX_INFO_KEY + 1], val[64];

	MPI_Info_get_nkeys(in, &n);
	int k = snprintf(line, sizeof line, "%s: %d keys:", what, n);
	for (int i = 0; i < n; i++) {
		MPI_Info_get_nthkey(in, i, key);
		MPI_Info_get(in, key, sizeof val - 1, val, &flag);
		k += snprintf(line + k, sizeof line - k, " %s=%s", key, val);
	}
	mt_say("%s", line);
}

static void test_objects(void)
{
	MPI_Info in, dup;
	char val[16];
	int flag = -1, len = -1;

	MPI_Info_create(&in);
	MPI_Info_set(in, "beta", "2");
	MPI_Info_set(in, "alpha", "one");
	MPI_Info_set(in, "gamma", "33");
	MPI_Info_set(in, "beta", "22");
	show_keys(in, "after 4 sets");

	memset(val, 'x', sizeof val);
	MPI_Info_get(in, "alpha", 2, val, &flag);
	MT_CHECK(flag && !strcmp(val, "on"), "Info_get truncated to 2: '%s'", val);
	MPI_Info_get_valuelen(in, "gamma", &len, &flag);
	MT_CHECK(flag && len == 2, "valuelen of gamma: %d", len);
	MPI_Info_get(in, "delta", sizeof val - 1, val, &flag);
	MT_EQ(flag, 0, "Info_get of a missing key");
	mt_say("Info_get truncates to valuelen, missing keys give flag 0");

#if MPI_VERSION >= 4
	int buflen = 0;
	MPI_Info_get_string(in, "gamma", &buflen, val, &flag);
	MT_CHECK(flag && buflen == 3, "get_string length query: %d", buflen);
	buflen = 2;
	MPI_Info_get_string(in, "gamma", &buflen, val, &flag);
	MT_CHECK(flag && buflen == 3 && !strcmp(val, "3"), "get_string into 2: '%s' %d", val,
		 buflen);
#endif

	MPI_Info_dup(in, &dup);
	MPI_Info_delete(in, "beta");
	show_keys(in, "after deleting beta");
	show_keys(dup, "the dup before");
	MT_EQ(error_class(MPI_Info_delete(in, "beta")), MPI_ERR_INFO_NOKEY,
	      "deleting a missing key");
	MT_EQ(error_class(MPI_Info_set(in, "", "v")), MPI_ERR_INFO_KEY, "an empty key");
	MPI_Info_free(&dup);
	MT_CHECK(dup == MPI_INFO_NULL, "Info_free sets MPI_INFO_NULL");
	MPI_Info_free(&in);
	mt_say("errors: MPI_ERR_INFO_NOKEY, MPI_ERR_INFO_KEY");

	int n = -1;
	MT_EQ(MPI_Info_get_nkeys(MPI_INFO_ENV, &n), MPI_SUCCESS, "MPI_INFO_ENV is an info");
	MT_CHECK(n >= 0, "MPI_INFO_ENV keys: %d", n);
}

static void test_hints(void)
{
	MPI_Info h, got;
	MPI_Comm c;
	char val[16];
	int flag = -1;

	MPI_Info_create(&h);
	MPI_Info_set(h, "mpi_assert_no_any_tag", "true");
	MPI_Comm_dup_with_info(MPI_COMM_WORLD, h, &c);
	MPI_Info_free(&h);
	MPI_Comm_get_info(c, &got);
	MPI_Info_get(got, "mpi_assert_no_any_tag", sizeof val - 1, val, &flag);
	MT_CHECK(flag && !strcmp(val, "true"), "hint from dup_with_info: %d '%s'", flag, val);
	MPI_Info_free(&got);
	mt_say("Comm_dup_with_info: mpi_assert_no_any_tag=%s", flag ? val : "(missing)");

	MPI_Info_create(&h);
	MPI_Info_set(h, "mpi_assert_allow_overtaking", "true");
	MPI_Comm_set_info(c, h);
	MPI_Info_free(&h);
	MPI_Comm_get_info(c, &got);
	MPI_Info_get(got, "mpi_assert_allow_overtaking", sizeof val - 1, val, &flag);
	MT_CHECK(flag && !strcmp(val, "true"), "hint from set_info: %d '%s'", flag, val);
	MPI_Info_free(&got);
	mt_say("Comm_set_info: mpi_assert_allow_overtaking=%s", flag ? val : "(missing)");

	/* The new communicator works. */
	int me, sum = -1;
	MPI_Comm_rank(c, &me);
	MPI_Allreduce(&me, &sum, 1, MPI_INT, MPI_SUM, c);
	MT_EQ(sum, 1, "Allreduce on the dup_with_info");
	MPI_Comm_free(&c);
}

int main(int argc, char **argv)
{
	MPI_Init(&argc, &argv);
	mt_begin("info");
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
	MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
	test_objects();
	test_hints();
	return mt_finish();
}
