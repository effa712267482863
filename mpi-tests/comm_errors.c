/*
 * comm_errors.c - argument errors of the group and communicator functions
 * under MPI_ERRORS_RETURN, and the error-handler bookkeeping of
 * communicators: new communicators inherit their parent's handler,
 * predefined handlers can be "freed" (the handle becomes
 * MPI_ERRHANDLER_NULL), WORLD and SELF cannot be freed, and collective
 * constructors that leave a process out give it MPI_COMM_NULL.
 *
 * MPI-4.0 moved errors that have no communicator (group calls, a
 * communicator argument that is not one) from MPI_COMM_WORLD's handler
 * to MPI_COMM_SELF's; MPICH 4.0 and Open MPI 4.1 still use WORLD's.  So
 * both get MPI_ERRORS_RETURN here.  Only the cases where the standard
 * and both MPIs agree on the class are checked; only class names are
 * printed, since numeric codes differ between MPIs.
 */
/* ranks: 3 */
#include "mt.h"

static int me;

static void expect_class(int rc, int want, const char *what)
{
	int cls = -1;

	if (rc == MPI_SUCCESS)
		cls = MPI_SUCCESS;
	else
		MPI_Error_class(rc, &cls);
	MT_CHECK(cls == want, "%s: expected %s, got %s", what, mt_class_name(want),
		 mt_class_name(cls));
	mt_say("%s: %s", what, mt_class_name(want));
}

static void test_group_errors(void)
{
	MPI_Group world, g = MPI_GROUP_NULL;
	int big[] = { 7 }, in[] = { 0 }, out[1], size, res;

	MPI_Comm_group(MPI_COMM_WORLD, &world);
	expect_class(MPI_Group_incl(world, 1, big, &g), MPI_ERR_RANK, "group_incl rank 7 of 3");
	expect_class(MPI_Group_excl(world, 1, big, &g), MPI_ERR_RANK, "group_excl rank 7 of 3");
	expect_class(MPI_Group_size(MPI_GROUP_NULL, &size), MPI_ERR_GROUP,
		     "group_size MPI_GROUP_NULL");
	expect_class(MPI_Group_compare(MPI_GROUP_NULL, world, &res), MPI_ERR_GROUP,
		     "group_compare MPI_GROUP_NULL");
	expect_class(MPI_Group_translate_ranks(MPI_GROUP_NULL, 1, in, world, out),
		     MPI_ERR_GROUP, "group_translate_ranks MPI_GROUP_NULL");
	expect_class(MPI_Group_free(&g), MPI_ERR_GROUP, "group_free MPI_GROUP_NULL");
	/* Freeing MPI_GROUP_EMPTY itself is left out: Open MPI 4.1 crashes. */
	MPI_Group_free(&world);
}

static void test_comm_errors(void)
{
	MPI_Comm c = MPI_COMM_NULL;
	char name[MPI_MAX_OBJECT_NAME];
	int size, len, res;

	expect_class(MPI_Comm_size(MPI_COMM_NULL, &size), MPI_ERR_COMM, "comm_size MPI_COMM_NULL");
	expect_class(MPI_Comm_rank(MPI_COMM_NULL, &size), MPI_ERR_COMM, "comm_rank MPI_COMM_NULL");
	expect_class(MPI_Comm_compare(MPI_COMM_WORLD, MPI_COMM_NULL, &res), MPI_ERR_COMM,
		     "comm_compare with MPI_COMM_NULL");
	expect_class(MPI_Comm_get_name(MPI_COMM_NULL, name, &len), MPI_ERR_COMM,
		     "comm_get_name MPI_COMM_NULL");
	expect_class(MPI_Comm_free(&c), MPI_ERR_COMM, "comm_free MPI_COMM_NULL");
	c = MPI_COMM_WORLD;
	expect_class(MPI_Comm_free(&c), MPI_ERR_COMM, "comm_free MPI_COMM_WORLD");
	c = MPI_COMM_SELF;
	expect_class(MPI_Comm_free(&c), MPI_ERR_COMM, "comm_free MPI_COMM_SELF");
	MT_CHECK(c == MPI_COMM_SELF, "a failed Comm_free changed the handle");
	expect_class(MPI_Comm_create(MPI_COMM_WORLD, MPI_GROUP_NULL, &c), MPI_ERR_GROUP,
		     "comm_create MPI_GROUP_NULL");
	expect_class(MPI_Comm_split_type(MPI_COMM_WORLD, 12345, 0, MPI_INFO_NULL, &c),
		     MPI_ERR_ARG, "comm_split_type 12345");
	expect_class(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRHANDLER_NULL), MPI_ERR_ARG,
		     "comm_set_errhandler MPI_ERRHANDLER_NULL");
	/* WORLD still works after all that. */
	int one = 1, sum = 0;
	MPI_Allreduce(&one, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
	MT_EQ(sum, 3, "allreduce on world after errors");
}

static MPI_Errhandler handler_of(MPI_Comm c)
{
	MPI_Errhandler eh = MPI_ERRHANDLER_NULL;

	MPI_Comm_get_errhandler(c, &eh);
	return eh;
}

static void test_inheritance(void)
{
	MPI_Comm d, dd, s;
	MPI_Errhandler eh;

	MPI_Comm_dup(MPI_COMM_WORLD, &d);
	MT_CHECK(handler_of(d) == MPI_ERRORS_RETURN, "dup did not inherit MPI_ERRORS_RETURN");
	MPI_Comm_set_errhandler(d, MPI_ERRORS_ARE_FATAL);
	MPI_Comm_dup(d, &dd);
	MPI_Comm_split(d, me % 2, 0, &s);
	MT_CHECK(handler_of(dd) == MPI_ERRORS_ARE_FATAL, "dup of dup did not inherit FATAL");
	MT_CHECK(handler_of(s) == MPI_ERRORS_ARE_FATAL, "split did not inherit FATAL");
	MT_CHECK(handler_of(MPI_COMM_WORLD) == MPI_ERRORS_RETURN,
		 "setting a dup's handler changed world's");
	mt_say("dup and split inherit the parent's error handler");

	eh = handler_of(d);
	expect_class(MPI_Errhandler_free(&eh), MPI_SUCCESS, "errhandler_free of a predefined one");
	MT_CHECK(eh == MPI_ERRHANDLER_NULL, "Errhandler_free did not null the handle");
	MT_CHECK(handler_of(d) == MPI_ERRORS_ARE_FATAL, "Errhandler_free changed the comm");
	expect_class(MPI_Errhandler_free(&eh), MPI_ERR_ARG, "errhandler_free MPI_ERRHANDLER_NULL");
	MPI_Comm_free(&s);
	MPI_Comm_free(&dd);
	MPI_Comm_free(&d);
}

static void test_null_results(void)
{
	MPI_Comm c;
	char name[MPI_MAX_OBJECT_NAME];
	int len = -1;

	MPI_Comm_create(MPI_COMM_WORLD, MPI_GROUP_EMPTY, &c);
	MT_CHECK(c == MPI_COMM_NULL, "Comm_create with MPI_GROUP_EMPTY gave a communicator");
	MPI_Comm_split(MPI_COMM_WORLD, MPI_UNDEFINED, me, &c);
	MT_CHECK(c == MPI_COMM_NULL, "Comm_split with MPI_UNDEFINED gave a communicator");
	MPI_Comm_split_type(MPI_COMM_WORLD, MPI_UNDEFINED, 0, MPI_INFO_NULL, &c);
	MT_CHECK(c == MPI_COMM_NULL, "Comm_split_type MPI_UNDEFINED gave a communicator");
	mt_say("create with the empty group and split(_type) with MPI_UNDEFINED: MPI_COMM_NULL");

	/* A dup has no name; world can be renamed. */
	MPI_Comm_dup(MPI_COMM_SELF, &c);
	MPI_Comm_get_name(c, name, &len);
	MT_EQ(len, 0, "name length of a dup");
	MT_CHECK(name[0] == '\0', "a dup is named '%s'", name);
	MPI_Comm_free(&c);
	MPI_Comm_set_name(MPI_COMM_WORLD, "everyone");
	MPI_Comm_get_name(MPI_COMM_WORLD, name, &len);
	mt_say("dup of self unnamed; world renamed to '%s' (%d)", name, len);
}

int main(int argc, char **argv)
{
	int size = 0;

	MPI_Init(&argc, &argv);
	mt_begin("comm_errors");
	MPI_Comm_rank(MPI_COMM_WORLD, &me);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (size != 3) {
		MT_FAIL("needs 3 ranks, got %d", size);
		return mt_finish();
	}
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
	MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
	test_group_errors();
	test_comm_errors();
	test_inheritance();
	test_null_results();
	return mt_finish();
}
