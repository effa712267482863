/*
 * env_mpi41.c - the small calls of MPI-4.1 and the MPI-5.0 ABI chapter,
 * and two older ones with fixed answers.
 *
 *   MPI_Pcontrol succeeds; MPI_Comm_get_parent is MPI_COMM_NULL (nothing
 *   was spawned): everywhere.
 *   MPI-4.1: buffered sends with a buffer attached to one communicator
 *   (used there and not on another communicator, which has none; gone
 *   with the communicator when it is freed), with
 *   MPI_BUFFER_AUTOMATIC, MPI_Buffer_flush/iflush and the communicator
 *   flushes, and the large-count (_c) attach and detach calls;
 *   MPI_Request_get_status_all/any/some on a receive that
 *   cannot have completed yet (its sender waits in a barrier first),
 *   then on it completed, and the request still there to wait for;
 *   MPI_Remove_error_string/code/class in the required order (each one
 *   early is an error); MPI_Type_get_value_index.
 *   MPI-5.0: MPI_Abi_get_info's sizes; the Fortran info and booleans,
 *   unset until set, set once.
 *
 * Neither MPICH 4.0 nor Open MPI 4.1 has the MPI-4.1 and 5.0 calls: their
 * checks run only through dmtcp_mpi (our mpi.h is MPI 5.0) and the same
 * lines are printed natively, so outputs agree.
 */
/* ranks: 2 */
#include "mt.h"

#if MPI_VERSION > 4 || (MPI_VERSION == 4 && MPI_SUBVERSION >= 1)
#define HAVE_MPI41 1
#endif

static int me;

static void fixed_answers(void)
{
	MPI_Comm parent = MPI_COMM_WORLD;

	MT_EQ(MPI_Pcontrol(0), MPI_SUCCESS, "MPI_Pcontrol(0)");
	MT_EQ(MPI_Pcontrol(2, "extra"), MPI_SUCCESS, "MPI_Pcontrol(2, ...)");
	MT_EQ(MPI_Comm_get_parent(&parent), MPI_SUCCESS, "MPI_Comm_get_parent");
	MT_CHECK(parent == MPI_COMM_NULL, "MPI_Comm_get_parent is not MPI_COMM_NULL");
}

#ifdef HAVE_MPI41
static int cls(int err)
{
	int c = err;

	if (err != MPI_SUCCESS)
		MPI_Error_class(err, &c);
	return c;
}

/* Rank 0: the _c twins attach and detach as the int calls do; one
 * message goes to rank 1 through dup's buffer. */
static void large_count_buffers(MPI_Comm dup, char *cbuf, char *pbuf, int room)
{
	MPI_Count size = -1;
	void *back = NULL;
	int one = 10;

	MT_EQ(MPI_Comm_attach_buffer_c(dup, cbuf, room), MPI_SUCCESS, "Comm_attach_buffer_c");
	MT_EQ(MPI_Bsend_c(&one, 1, MPI_INT, 1, 4, dup), MPI_SUCCESS, "Bsend_c on dup");
	MT_EQ(MPI_Comm_detach_buffer_c(dup, &back, &size), MPI_SUCCESS,
	      "Comm_detach_buffer_c");
	MT_CHECK(back == cbuf && size == room, "Comm_detach_buffer_c gave another buffer");
	MT_EQ(MPI_Buffer_attach_c(pbuf, room), MPI_SUCCESS, "Buffer_attach_c");
	MT_EQ(MPI_Buffer_detach_c(&back, &size), MPI_SUCCESS, "Buffer_detach_c");
	MT_CHECK(back == pbuf && size == room, "Buffer_detach_c gave another buffer");
	size = -1;
	MT_EQ(MPI_Buffer_detach_c(&back, &size), MPI_SUCCESS, "Buffer_detach_c, none attached");
	MT_CHECK(!back && size == 0, "Buffer_detach_c with none attached: not NULL and 0");
}

/* Rank 0 sends three ints on dup with dup's buffer, fails on WORLD
 * (no process buffer yet), then one on WORLD with a process buffer and
 * a large one with MPI_BUFFER_AUTOMATIC on dup. */
static void buffers(MPI_Comm dup)
{
	enum { BIG = 1 << 16 };
	static int big[BIG];
	int one, size = 0, got, room;
	void *back = NULL;
	MPI_Request q;

	MPI_Pack_size(1, MPI_INT, dup, &room);
	room += MPI_BSEND_OVERHEAD;
	char *cbuf = malloc((size_t)room), *pbuf = malloc((size_t)room);
	if (me == 0) {
		MT_EQ(MPI_Comm_attach_buffer(dup, cbuf, room), MPI_SUCCESS, "Comm_attach_buffer");
		one = 7;
		MT_EQ(MPI_Bsend(&one, 1, MPI_INT, 1, 1, dup), MPI_SUCCESS, "Bsend on dup");
		MT_EQ(cls(MPI_Bsend(&one, 1, MPI_INT, 1, 1, MPI_COMM_WORLD)), MPI_ERR_BUFFER,
		      "Bsend on WORLD with only dup's buffer");
		MT_EQ(MPI_Comm_flush_buffer(dup), MPI_SUCCESS, "Comm_flush_buffer");
		one = 8;
		MT_EQ(MPI_Bsend(&one, 1, MPI_INT, 1, 1, dup), MPI_SUCCESS, "Bsend after flush");
		MT_EQ(MPI_Comm_iflush_buffer(dup, &q), MPI_SUCCESS, "Comm_iflush_buffer");
		MPI_Wait(&q, MPI_STATUS_IGNORE);
		MT_EQ(MPI_Comm_detach_buffer(dup, &back, &size), MPI_SUCCESS, "Comm_detach_buffer");
		MT_CHECK(back == cbuf && size == room, "Comm_detach_buffer gave another buffer");

		MPI_Buffer_attach(pbuf, room);
		one = 9;
		MT_EQ(MPI_Bsend(&one, 1, MPI_INT, 1, 2, MPI_COMM_WORLD), MPI_SUCCESS,
		      "Bsend on WORLD");
		MT_EQ(MPI_Buffer_flush(), MPI_SUCCESS, "Buffer_flush");
		MT_EQ(MPI_Buffer_iflush(&q), MPI_SUCCESS, "Buffer_iflush");
		MPI_Wait(&q, MPI_STATUS_IGNORE);
		MPI_Buffer_detach(&back, &size);
		MT_CHECK(back == pbuf && size == room, "Buffer_detach gave another buffer");

		for (int i = 0; i < BIG; i++)
			big[i] = i ^ 0x5a5a;
		MT_EQ(MPI_Comm_attach_buffer(dup, MPI_BUFFER_AUTOMATIC, 0), MPI_SUCCESS,
		      "Comm_attach_buffer(MPI_BUFFER_AUTOMATIC)");
		MT_EQ(MPI_Bsend(big, BIG, MPI_INT, 1, 3, dup), MPI_SUCCESS, "Bsend, automatic");
		MPI_Comm_detach_buffer(dup, &back, &size);
		MT_CHECK(back == MPI_BUFFER_AUTOMATIC, "automatic buffer not given back");
		large_count_buffers(dup, cbuf, pbuf, room);
	} else {
		MPI_Recv(&got, 1, MPI_INT, 0, 1, dup, MPI_STATUS_IGNORE);
		MT_EQ(got, 7, "first buffered message on dup");
		MPI_Recv(&got, 1, MPI_INT, 0, 1, dup, MPI_STATUS_IGNORE);
		MT_EQ(got, 8, "second buffered message on dup");
		MPI_Recv(&got, 1, MPI_INT, 0, 2, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		MT_EQ(got, 9, "buffered message on WORLD");
		MPI_Recv(big, BIG, MPI_INT, 0, 3, dup, MPI_STATUS_IGNORE);
		for (int i = 0; i < BIG; i++)
			if (big[i] != (i ^ 0x5a5a)) {
				MT_FAIL("automatic buffered message: element %d is %d", i, big[i]);
				break;
			}
		MPI_Recv(&got, 1, MPI_INT, 0, 4, dup, MPI_STATUS_IGNORE);
		MT_EQ(got, 10, "buffered message on dup, buffer attached by the _c call");
	}
	free(cbuf);
	free(pbuf);
}

/* Rank 0's receive cannot complete before the barrier: rank 1 sends
 * only after it. */
static void get_status(void)
{
	MPI_Request q[3] = { MPI_REQUEST_NULL, MPI_REQUEST_NULL, MPI_REQUEST_NULL };
	MPI_Status st[3];
	int v = 0, flag = -1, idx = -1, out = -1, ind[3];

	if (me == 1) {
		MPI_Barrier(MPI_COMM_WORLD);
		v = 42;
		MPI_Send(&v, 1, MPI_INT, 0, 5, MPI_COMM_WORLD);
		return;
	}
	MPI_Request_get_status_any(3, q, &idx, &flag, &st[0]);
	MT_CHECK(flag == 1 && idx == MPI_UNDEFINED, "get_status_any of null requests: %d %d",
		 flag, idx);
	MPI_Request_get_status_some(3, q, &out, ind, st);
	MT_EQ(out, MPI_UNDEFINED, "get_status_some of null requests");
	MPI_Irecv(&v, 1, MPI_INT, 1, 5, MPI_COMM_WORLD, &q[1]);
	MPI_Request_get_status_all(3, q, &flag, st);
	MT_EQ(flag, 0, "get_status_all before the message was sent");
	MPI_Request_get_status_any(3, q, &idx, &flag, &st[0]);
	MT_EQ(flag, 0, "get_status_any before the message was sent");
	MPI_Request_get_status_some(3, q, &out, ind, st);
	MT_EQ(out, 0, "get_status_some before the message was sent");
	MPI_Barrier(MPI_COMM_WORLD);
	do
		MPI_Request_get_status_all(3, q, &flag, st);
	while (!flag);
	MT_EQ(st[1].MPI_SOURCE, 1, "get_status_all source");
	MT_EQ(st[1].MPI_TAG, 5, "get_status_all tag");
	MPI_Request_get_status_any(3, q, &idx, &flag, &st[0]);
	MT_CHECK(flag == 1 && idx == 1, "get_status_any when done: %d %d", flag, idx);
	MPI_Request_get_status_some(3, q, &out, ind, st);
	MT_CHECK(out == 1 && ind[0] == 1 && st[0].MPI_TAG == 5, "get_status_some when done");
	MT_CHECK(q[1] != MPI_REQUEST_NULL, "get_status freed the request");
	MPI_Wait(&q[1], &st[0]);
	MT_EQ(v, 42, "the message");
	MT_EQ(st[0].MPI_SOURCE, 1, "Wait after get_status: source");
}

static void remove_errors(void)
{
	int c, e, len;
	char text[MPI_MAX_ERROR_STRING];

	MPI_Add_error_class(&c);
	MPI_Add_error_code(c, &e);
	MPI_Add_error_string(e, "an error of the test");
	MPI_Error_string(e, text, &len);
	MT_CHECK(strcmp(text, "an error of the test") == 0, "error string %s", text);
	MT_EQ(cls(MPI_Remove_error_class(c)), MPI_ERR_ARG, "Remove_error_class with a code");
	MT_EQ(cls(MPI_Remove_error_code(e)), MPI_ERR_ARG, "Remove_error_code with a string");
	MT_EQ(MPI_Remove_error_string(e), MPI_SUCCESS, "Remove_error_string");
	MT_EQ(cls(MPI_Remove_error_string(e)), MPI_ERR_ARG, "Remove_error_string twice");
	MT_EQ(MPI_Remove_error_code(e), MPI_SUCCESS, "Remove_error_code");
	MT_EQ(MPI_Remove_error_class(c), MPI_SUCCESS, "Remove_error_class");
	MT_EQ(cls(MPI_Remove_error_class(c)), MPI_ERR_ARG, "Remove_error_class twice");
	MT_EQ(cls(MPI_Remove_error_code(MPI_ERR_TYPE)), MPI_ERR_ARG,
	      "Remove_error_code of a predefined code");
}

static void value_index(void)
{
	MPI_Datatype t = MPI_INT;
	struct { double v; int i; } in, out;

	MPI_Type_get_value_index(MPI_DOUBLE, MPI_INT, &t);
	MT_CHECK(t == MPI_DOUBLE_INT, "value_index(DOUBLE, INT) is not MPI_DOUBLE_INT");
	MPI_Type_get_value_index(MPI_INT, MPI_INT, &t);
	MT_CHECK(t == MPI_2INT, "value_index(INT, INT) is not MPI_2INT");
	MPI_Type_get_value_index(MPI_INT, MPI_DOUBLE, &t);
	MT_CHECK(t == MPI_DATATYPE_NULL, "value_index(INT, DOUBLE) is not MPI_DATATYPE_NULL");
	MPI_Type_get_value_index(MPI_DOUBLE, MPI_INT, &t);
	in.v = me == 1 ? 3.5 : 1.5;
	in.i = me;
	MPI_Allreduce(&in, &out, 1, t, MPI_MAXLOC, MPI_COMM_WORLD);
	MT_CHECK(out.v == 3.5 && out.i == 1, "MAXLOC with the pair type");
}
#endif

#if MPI_VERSION >= 5
static void abi(void)
{
	MPI_Info info, f;
	char v[MPI_MAX_INFO_VAL];
	int flag = 0, set = -1;
	int t = 1, fl = 0, t8[2] = { -1, -1 }, f8[2] = { -1, -1 };

	MPI_Abi_get_info(&info);
	MPI_Info_get(info, "mpi_aint_size", MPI_MAX_INFO_VAL, v, &flag);
	MT_CHECK(flag && atoi(v) == (int)sizeof(MPI_Aint), "mpi_aint_size %s", flag ? v : "unset");
	MPI_Info_get(info, "mpi_count_size", MPI_MAX_INFO_VAL, v, &flag);
	MT_CHECK(flag && atoi(v) == (int)sizeof(MPI_Count), "mpi_count_size %s",
		 flag ? v : "unset");
	MPI_Info_get(info, "mpi_offset_size", MPI_MAX_INFO_VAL, v, &flag);
	MT_CHECK(flag && atoi(v) == (int)sizeof(MPI_Offset), "mpi_offset_size %s",
		 flag ? v : "unset");
	MPI_Info_free(&info);

	MPI_Abi_get_fortran_info(&f);
	MT_CHECK(f == MPI_INFO_NULL, "Fortran info before it was set");
	MPI_Info_create(&info);
	MPI_Info_set(info, "mpi_logical_size", "4");
	MT_EQ(MPI_Abi_set_fortran_info(info), MPI_SUCCESS, "Abi_set_fortran_info");
	MT_EQ(cls(MPI_Abi_set_fortran_info(info)), MPI_ERR_ABI, "Abi_set_fortran_info twice");
	MPI_Info_free(&info);
	MPI_Abi_get_fortran_info(&f);
	MPI_Info_get(f, "mpi_logical_size", MPI_MAX_INFO_VAL, v, &flag);
	MT_CHECK(flag && strcmp(v, "4") == 0, "Fortran info as set");
	MPI_Info_free(&f);

	MPI_Abi_get_fortran_booleans(4, t8, f8, &set);
	MT_EQ(set, 0, "Fortran booleans before they were set");
	MT_EQ(MPI_Abi_set_fortran_booleans(4, &t, &fl), MPI_SUCCESS, "set_fortran_booleans");
	MPI_Abi_get_fortran_booleans(4, t8, f8, &set);
	MT_CHECK(set == 1 && t8[0] == 1 && f8[0] == 0, "Fortran booleans as set");
	MPI_Abi_get_fortran_booleans(8, t8, f8, &set);
	MT_EQ(set, 0, "8-byte Fortran booleans were not set");
	MT_EQ(cls(MPI_Abi_get_fortran_booleans(3, t8, f8, &set)), MPI_ERR_ARG,
	      "a LOGICAL of 3 bytes");
}
#endif

#ifdef HAVE_MPI41
/* A freed communicator's buffer goes with it: a new communicator that
 * takes its handle has none.  And a zero-sized buffer, attached before
 * enough others to move the table of buffers, still detaches as NULL. */
static void buffers_freed(void)
{
	enum { MANY = 20 };
	MPI_Comm first, c[MANY], again;
	char room[MPI_BSEND_OVERHEAD + 64];
	void *back = &back;
	int size = -1;

	MPI_Comm_dup(MPI_COMM_WORLD, &first);
	MT_EQ(MPI_Comm_attach_buffer(first, NULL, 0), MPI_SUCCESS,
	      "Comm_attach_buffer(NULL, 0)");
	for (int i = 0; i < MANY; i++) {
		MPI_Comm_dup(MPI_COMM_WORLD, &c[i]);
		MT_EQ(MPI_Comm_attach_buffer(c[i], room, (int)sizeof(room)), MPI_SUCCESS,
		      "Comm_attach_buffer on one of many");
	}
	MT_EQ(MPI_Comm_detach_buffer(first, &back, &size), MPI_SUCCESS,
	      "Comm_detach_buffer of a zero-sized buffer");
	MT_CHECK(back == NULL && size == 0, "a zero-sized buffer detached as %p, %d", back, size);
	for (int i = MANY - 1; i >= 0; i--)
		MPI_Comm_free(&c[i]);
	MPI_Comm_dup(MPI_COMM_WORLD, &again);
	back = &back;
	size = -1;
	MT_EQ(MPI_Comm_detach_buffer(again, &back, &size), MPI_SUCCESS,
	      "Comm_detach_buffer of a new communicator");
	MT_CHECK(back == NULL && size == 0,
		 "a new communicator came with a freed one's buffer (%d bytes)", size);
	MPI_Comm_free(&again);
	MPI_Comm_free(&first);
}
#endif

int main(int argc, char **argv)
{
	MPI_Init(&argc, &argv);
	mt_begin("env_mpi41");
	me = mt_rank();
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
	fixed_answers();
	mt_say("Pcontrol, Comm_get_parent");
#ifdef HAVE_MPI41
	MPI_Comm dup;
	MPI_Comm_dup(MPI_COMM_WORLD, &dup);
	buffers(dup);
	MPI_Comm_free(&dup);
	buffers_freed();
	get_status();
	remove_errors();
	value_index();
#endif
	mt_say("MPI-4.1: communicator buffers and flushes, get_status_all/any/some,"
	       " Remove_error_*, Type_get_value_index");
#if MPI_VERSION >= 5
	abi();
#endif
	mt_say("MPI-5.0: Abi_get_info, Fortran info and booleans");
	return mt_finish();
}
