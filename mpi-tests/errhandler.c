/*
 * errhandler.c - user error handlers and user error codes.  A handler
 * made by MPI_Comm_create_errhandler is called with the communicator and
 * the code when a call on it fails (a send to a rank that does not
 * exist), the failing call then returns the code; a dup inherits the
 * handler; MPI_Comm_call_errhandler calls it and returns MPI_SUCCESS (and
 * returns MPI_SUCCESS under MPI_ERRORS_RETURN); the handler keeps working
 * after MPI_Errhandler_free.  MPI_Add_error_class/code/string make codes
 * whose class and string come back from MPI_Error_class/string, above
 * MPI_ERR_LASTCODE, with MPI_LASTUSEDCODE following them; a user code
 * reaches a user handler.  MPI_Alloc_mem/MPI_Free_mem give usable memory.
 */
/* ranks: 2 */
#include "mt.h"

static int calls, last_class;
static MPI_Comm last_comm;

static void handler(MPI_Comm *comm, int *code, ...)
{
	calls++;
	last_comm = *comm;
	MPI_Error_class(*code, &last_class);
}

static void test_handler(void)
{
	MPI_Errhandler eh, got;
	MPI_Comm c, d;
	int x = 1, rc;

	MPI_Comm_dup(MPI_COMM_WORLD, &c);
	MPI_Comm_create_errhandler(handler, &eh);
	MPI_Comm_set_errhandler(c, eh);
	rc = MPI_Send(&x, 1, MPI_INT, 99, 0, c);
	MT_EQ(calls, 1, "the handler ran once for the failed send");
	MT_CHECK(last_comm == c, "the handler got another communicator");
	MT_EQ(last_class, MPI_ERR_RANK, "class the handler saw");
	int cls = -1;
	MPI_Error_class(rc, &cls);
	MT_EQ(cls, MPI_ERR_RANK, "the failed send returns the code");
	mt_say("a send to rank 99 called the handler with %s", mt_class_name(last_class));

	MPI_Comm_get_errhandler(c, &got);
	MPI_Comm_dup(c, &d);
	MPI_Errhandler_free(&got);
	rc = MPI_Send(&x, -1, MPI_INT, 0, 0, d);
	MT_EQ(calls, 2, "a dup inherits the handler");
	MT_CHECK(last_comm == d, "the dup's handler got another communicator");
	MT_EQ(last_class, MPI_ERR_COUNT, "class on the dup");
	mt_say("a dup inherits the handler: %s", mt_class_name(last_class));

	rc = MPI_Comm_call_errhandler(c, MPI_ERR_OTHER);
	MT_EQ(rc, MPI_SUCCESS, "Comm_call_errhandler returns MPI_SUCCESS");
	MT_EQ(calls, 3, "Comm_call_errhandler calls the handler");
	MT_EQ(last_class, MPI_ERR_OTHER, "class passed by Comm_call_errhandler");

	/* Freeing the handle leaves the handler with the communicators. */
	MPI_Errhandler_free(&eh);
	MT_CHECK(eh == MPI_ERRHANDLER_NULL, "Errhandler_free sets MPI_ERRHANDLER_NULL");
	MPI_Comm_call_errhandler(d, MPI_ERR_ARG);
	MT_EQ(calls, 4, "the handler works after Errhandler_free");
	mt_say("Comm_call_errhandler: handler called, MPI_SUCCESS; still there after free");

	MPI_Comm_set_errhandler(d, MPI_ERRORS_RETURN);
	rc = MPI_Comm_call_errhandler(d, MPI_ERR_ARG);
	MT_EQ(rc, MPI_SUCCESS, "Comm_call_errhandler under MPI_ERRORS_RETURN");
	MT_EQ(calls, 4, "no handler call under MPI_ERRORS_RETURN");
	MPI_Comm_free(&d);
	MPI_Comm_free(&c);
}

static void test_codes(void)
{
	int cls, code, cls2, got = -1, len = -1, flag, *last;
	char s[MPI_MAX_ERROR_STRING];
	MPI_Errhandler eh;

	MPI_Add_error_class(&cls);
	MPI_Add_error_code(cls, &code);
	MPI_Add_error_class(&cls2);
	MT_CHECK(cls > MPI_ERR_LASTCODE && code > MPI_ERR_LASTCODE && cls2 > MPI_ERR_LASTCODE,
		 "user codes %d %d %d not above MPI_ERR_LASTCODE", cls, code, cls2);
	MT_CHECK(cls != code && cls != cls2 && code != cls2, "user codes not distinct");
	MPI_Error_class(code, &got);
	MT_EQ(got, cls, "class of the new code");
	MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_LASTUSEDCODE, &last, &flag);
	MT_CHECK(flag && *last >= cls2 && *last >= cls, "MPI_LASTUSEDCODE %d", flag ? *last : -1);
	mt_say("two classes and a code above MPI_ERR_LASTCODE, MPI_LASTUSEDCODE follows");

	s[0] = 'x';
	MPI_Error_string(code, s, &len);
	MT_CHECK(len == 0 && s[0] == '\0', "string of a code without one: '%s'", s);
	MPI_Add_error_string(code, "the frobnicator is out of frobs");
	MPI_Error_string(code, s, &len);
	MT_CHECK(!strcmp(s, "the frobnicator is out of frobs") && len == (int)strlen(s),
		 "string of the code: '%s' %d", s, len);
	mt_say("MPI_Error_string of the new code: %s", s);

	MPI_Comm c;
	MPI_Comm_dup(MPI_COMM_WORLD, &c);
	MPI_Comm_create_errhandler(handler, &eh);
	MPI_Comm_set_errhandler(c, eh);
	MPI_Errhandler_free(&eh);
	MPI_Comm_call_errhandler(c, code);
	MT_EQ(last_class, cls, "a user code reaches the handler with its class");
	MPI_Comm_free(&c);
	mt_say("a user code reaches a user handler");
}

static void test_mem(void)
{
	double *p = NULL;

	MT_EQ(MPI_Alloc_mem(1000 * sizeof(double), MPI_INFO_NULL, &p), MPI_SUCCESS,
	      "Alloc_mem");
	for (int i = 0; i < 1000; i++)
		p[i] = i;
	double sum[1000];
	MPI_Allreduce(p, sum, 1000, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
	MT_CHECK(sum[999] == 2 * 999.0, "Allreduce from Alloc_mem memory");
	MT_EQ(MPI_Free_mem(p), MPI_SUCCESS, "Free_mem");
	mt_say("Alloc_mem memory works as a buffer");
}

int main(int argc, char **argv)
{
	MPI_Init(&argc, &argv);
	mt_begin("errhandler");
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
	MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
	test_handler();
	test_codes();
	test_mem();
	return mt_finish();
}
