/*
 * p2p_allocmem.c - communication from and into MPI_Alloc_mem memory,
 * which dmtcp_mpi hands to the real MPI in place instead of staging it
 * (shim/mem.c, shim/stage.c): contiguous, vector and struct types (holes
 * of the receive buffer must keep their bytes), nonblocking requests
 * completed by Waitall, persistent requests over several rounds, a
 * truncated receive, a buffer whose span is only partly inside a block
 * (staged as usual), Sendrecv_replace and a buffered send whose buffer
 * is overwritten at once (both must copy), blocks freed and allocated
 * again, and collectives on such memory.  Every value is computed here.
 */
/* ranks: 2 */
#include <stddef.h>

#include "mt.h"

static int me, peer;

static int val(int round, int i)
{
	return round * 100003 + i * 7 + 1;
}

static void *alloc(MPI_Aint bytes)
{
	void *p = NULL;

	if (MPI_Alloc_mem(bytes, MPI_INFO_NULL, &p) != MPI_SUCCESS || !p)
		MT_FAIL("MPI_Alloc_mem(%ld) failed", (long)bytes);
	return p;
}

/* 1 MiB exchanged both ways, then 8 ints at an odd place in a block. */
static void test_contig(void)
{
	enum { N = 1 << 18 };
	int *s = alloc(N * sizeof(int)), *r = alloc(N * sizeof(int)), bad = 0;

	for (int i = 0; i < N; i++) {
		s[i] = val(me, i);
		r[i] = -1;
	}
	MPI_Sendrecv(s, N, MPI_INT, peer, 1, r, N, MPI_INT, peer, 1, MPI_COMM_WORLD,
		     MPI_STATUS_IGNORE);
	for (int i = 0; i < N; i++)
		bad += r[i] != val(peer, i);
	MT_EQ(bad, 0, "1 MiB Sendrecv: wrong ints");
	if (me == 0)
		MPI_Send(s + 3, 8, MPI_INT, 1, 2, MPI_COMM_WORLD);
	else
		MPI_Recv(r + 5, 8, MPI_INT, 0, 2, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
	if (me == 1) {
		for (int i = 0; i < 8; i++)
			MT_EQ(r[5 + i], val(0, 3 + i), "8 ints inside a block");
		MT_EQ(r[4], val(0, 4), "the int before them");
		MT_EQ(r[13], val(0, 13), "the int after them");
	}
	MPI_Free_mem(s);
	MPI_Free_mem(r);
	mt_say("contiguous: ok");
}

/* A column of a matrix (sparse: staged packed when not in place) into
 * another column; the rest of the receiving matrix keeps its values. */
static void test_vector(void)
{
	enum { M = 512 };
	double *a = alloc(M * M * sizeof(double));
	MPI_Datatype col;
	int bad = 0;

	MPI_Type_vector(M, 1, M, MPI_DOUBLE, &col);
	MPI_Type_commit(&col);
	for (int i = 0; i < M * M; i++)
		a[i] = me == 0 ? val(2, i) : -1.0;
	if (me == 0)
		MPI_Send(a + 5, 1, col, 1, 3, MPI_COMM_WORLD);
	else
		MPI_Recv(a + 7, 1, col, 0, 3, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
	for (int i = 0; me == 1 && i < M * M; i++)
		bad += a[i] != (i % M == 7 ? (double)val(2, i - 2) : -1.0);
	MT_EQ(bad, 0, "column into column: wrong doubles");
	MPI_Type_free(&col);
	MPI_Free_mem(a);
	mt_say("vector: ok");
}

struct rec {
	int a;
	double b;
	char c;
};

/* Records with holes; the receiver's holes keep their bytes. */
static void test_struct(void)
{
	enum { N = 100 };
	struct rec *v = alloc(N * sizeof(struct rec));
	int bl[3] = { 1, 1, 1 }, bad = 0;
	MPI_Aint disp[3] = { offsetof(struct rec, a), offsetof(struct rec, b),
			     offsetof(struct rec, c) };
	MPI_Datatype ts[3] = { MPI_INT, MPI_DOUBLE, MPI_CHAR }, t, rt;

	MPI_Type_create_struct(3, bl, disp, ts, &t);
	MPI_Type_create_resized(t, 0, sizeof(struct rec), &rt);
	MPI_Type_commit(&rt);
	memset(v, 0x5a, N * sizeof(struct rec));
	for (int i = 0; me == 0 && i < N; i++) {
		v[i].a = val(3, i);
		v[i].b = val(4, i) / 4.0;
		v[i].c = (char)('a' + i % 26);
	}
	if (me == 0)
		MPI_Send(v, N, rt, 1, 4, MPI_COMM_WORLD);
	else
		MPI_Recv(v, N, rt, 0, 4, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
	for (int i = 0; me == 1 && i < N; i++) {
		const unsigned char *p = (const unsigned char *)&v[i];
		bad += v[i].a != val(3, i) || v[i].b != val(4, i) / 4.0 ||
		       v[i].c != (char)('a' + i % 26);
		for (size_t k = offsetof(struct rec, a) + sizeof(int);
		     k < offsetof(struct rec, b); k++)
			bad += p[k] != 0x5a;
		for (size_t k = offsetof(struct rec, c) + 1; k < sizeof(struct rec); k++)
			bad += p[k] != 0x5a;
	}
	MT_EQ(bad, 0, "struct records: wrong fields or holes written");
	MPI_Type_free(&t);
	MPI_Type_free(&rt);
	MPI_Free_mem(v);
	mt_say("struct: ok");
}

/* K messages each way into parts of one block, completed by Waitall. */
static void test_nonblocking(void)
{
	enum { K = 4, N = 20000 };
	int *s = alloc(K * N * sizeof(int)), *r = alloc(K * N * sizeof(int)), bad = 0;
	MPI_Request q[2 * K];
	MPI_Status st[2 * K];

	for (int i = 0; i < K * N; i++) {
		s[i] = val(5 + me, i);
		r[i] = -1;
	}
	for (int k = 0; k < K; k++)
		MPI_Irecv(r + k * N, N, MPI_INT, peer, 10 + k, MPI_COMM_WORLD, &q[k]);
	for (int k = 0; k < K; k++)
		MPI_Isend(s + (K - 1 - k) * N, N, MPI_INT, peer, 10 + K - 1 - k, MPI_COMM_WORLD,
			  &q[K + k]);
	MT_EQ(MPI_Waitall(2 * K, q, st), MPI_SUCCESS, "Waitall");
	for (int k = 0; k < K; k++) {
		int n = -1;
		MPI_Get_count(&st[k], MPI_INT, &n);
		MT_EQ(n, N, "count of a receive");
		MT_EQ(st[k].MPI_TAG, 10 + k, "tag of a receive");
	}
	for (int i = 0; i < K * N; i++)
		bad += r[i] != val(5 + peer, i);
	MT_EQ(bad, 0, "Waitall: wrong ints");
	MPI_Free_mem(s);
	MPI_Free_mem(r);
	mt_say("nonblocking: ok");
}

/* Persistent send and receive on blocks, new data every round. */
static void test_persistent(void)
{
	enum { N = 5000, ROUNDS = 3 };
	int *s = alloc(N * sizeof(int)), *r = alloc(N * sizeof(int));
	MPI_Request q[2];

	MPI_Recv_init(r, N, MPI_INT, peer, 20, MPI_COMM_WORLD, &q[0]);
	MPI_Send_init(s, N, MPI_INT, peer, 20, MPI_COMM_WORLD, &q[1]);
	for (int k = 0; k < ROUNDS; k++) {
		int bad = 0;
		for (int i = 0; i < N; i++) {
			s[i] = val(10 * k + me, i);
			r[i] = -1;
		}
		MPI_Startall(2, q);
		MPI_Waitall(2, q, MPI_STATUSES_IGNORE);
		for (int i = 0; i < N; i++)
			bad += r[i] != val(10 * k + peer, i);
		MT_EQ(bad, 0, "persistent round: wrong ints");
	}
	MPI_Request_free(&q[0]);
	MPI_Request_free(&q[1]);
	MPI_Free_mem(s);
	MPI_Free_mem(r);
	mt_say("persistent: %d rounds ok", ROUNDS);
}

/* 16 ints into room for 8: MPI_ERR_TRUNCATE, the bytes past the room
 * untouched. */
static void test_truncate(void)
{
	int *b = alloc(32 * sizeof(int)), cls = -1;

	for (int i = 0; i < 32; i++)
		b[i] = me == 0 ? val(7, i) : -1;
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
	if (me == 0) {
		MPI_Send(b, 16, MPI_INT, 1, 30, MPI_COMM_WORLD);
	} else {
		int err = MPI_Recv(b, 8, MPI_INT, 0, 30, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		MPI_Error_class(err, &cls);
		MT_EQ(cls, MPI_ERR_TRUNCATE, "error class of a truncated receive");
		for (int i = 8; i < 32; i++)
			MT_EQ(b[i], -1, "an int past the receive's room");
	}
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
	MPI_Free_mem(b);
	mt_say("truncated receive: ok");
}

/* One message whose typemap is half in a block, half in heap memory
 * (absolute addresses from MPI_BOTTOM): staged, still delivered whole. */
static void test_half_outside(void)
{
	enum { N = 300 };
	int *in = alloc(N * sizeof(int)), *out = malloc(N * sizeof(int)), bl[2] = { N, N };
	MPI_Aint at[2];
	MPI_Datatype t;

	MPI_Get_address(in, &at[0]);
	MPI_Get_address(out, &at[1]);
	MPI_Type_create_hindexed(2, bl, at, MPI_INT, &t);
	MPI_Type_commit(&t);
	for (int i = 0; i < N; i++) {
		in[i] = me == 0 ? val(8, i) : -1;
		out[i] = me == 0 ? val(9, i) : -1;
	}
	if (me == 0)
		MPI_Send(MPI_BOTTOM, 1, t, 1, 40, MPI_COMM_WORLD);
	else
		MPI_Recv(MPI_BOTTOM, 1, t, 0, 40, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
	int bad = 0;
	for (int i = 0; me == 1 && i < N; i++)
		bad += in[i] != val(8, i) || out[i] != val(9, i);
	MT_EQ(bad, 0, "half in a block: wrong ints");
	MPI_Type_free(&t);
	free(out);
	MPI_Free_mem(in);
	mt_say("span half outside a block: ok");
}

/* Sendrecv_replace in a block, and a buffered send (its attached buffer
 * a block too) whose data is overwritten as soon as it returns. */
static void test_copies(void)
{
	enum { N = 1 << 17 }; /* past the eager limits: sent after the call */
	int *b = alloc(N * sizeof(int)), bad = 0, size;

	for (int i = 0; i < N; i++)
		b[i] = val(11 + me, i);
	MPI_Sendrecv_replace(b, N, MPI_INT, peer, 50, peer, 50, MPI_COMM_WORLD,
			     MPI_STATUS_IGNORE);
	for (int i = 0; i < N; i++)
		bad += b[i] != val(11 + peer, i);
	MT_EQ(bad, 0, "Sendrecv_replace: wrong ints");
	MPI_Pack_size(N, MPI_INT, MPI_COMM_WORLD, &size);
	size += MPI_BSEND_OVERHEAD;
	void *att = alloc(size);
	MPI_Buffer_attach(att, size);
	for (int i = 0; i < N; i++)
		b[i] = val(13 + me, i);
	MPI_Bsend(b, N, MPI_INT, peer, 51, MPI_COMM_WORLD);
	for (int i = 0; i < N; i++)
		b[i] = -7;
	MPI_Recv(b, N, MPI_INT, peer, 51, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
	bad = 0;
	for (int i = 0; i < N; i++)
		bad += b[i] != val(13 + peer, i);
	MT_EQ(bad, 0, "Bsend from a block overwritten at once: wrong ints");
	MPI_Buffer_detach(&att, &size);
	MPI_Free_mem(att);
	MPI_Free_mem(b);
	mt_say("Sendrecv_replace and Bsend: ok");
}

/* Blocks of changing sizes freed in another order than made, and made
 * again, each round carrying a message; plus an empty block. */
static void test_realloc(void)
{
	enum { ROUNDS = 6 };
	void *z = NULL; /* NULL under Open MPI, a pointer under MPICH */

	MT_EQ(MPI_Alloc_mem(0, MPI_INFO_NULL, &z), MPI_SUCCESS, "MPI_Alloc_mem of 0 bytes");

	for (int k = 0; k < ROUNDS; k++) {
		int n = 1000 + 3001 * k, bad = 0;
		int *x = alloc(64 * (k + 1)), *s = alloc(n * sizeof(int));
		int *r = alloc(n * sizeof(int));
		for (int i = 0; i < n; i++) {
			s[i] = val(20 + k + me, i);
			r[i] = -1;
		}
		MPI_Free_mem(x);
		MPI_Sendrecv(s, n, MPI_INT, peer, 60, r, n, MPI_INT, peer, 60, MPI_COMM_WORLD,
			     MPI_STATUS_IGNORE);
		for (int i = 0; i < n; i++)
			bad += r[i] != val(20 + k + peer, i);
		MT_EQ(bad, 0, "realloc round: wrong ints");
		MPI_Free_mem(r);
		MPI_Free_mem(s);
	}
	MT_EQ(MPI_Free_mem(z), MPI_SUCCESS, "MPI_Free_mem of an empty block");
	mt_say("free and allocate again: %d rounds ok", ROUNDS);
}

/* Alltoall, Bcast, Allreduce (also in place) and Iallreduce on blocks. */
static void test_colls(void)
{
	enum { N = 1 << 16 };
	int *s = alloc(2 * N * sizeof(int)), *r = alloc(2 * N * sizeof(int)), bad = 0;
	MPI_Request q;

	for (int i = 0; i < 2 * N; i++) {
		s[i] = val(30 + me, i);
		r[i] = -1;
	}
	MPI_Alltoall(s, N, MPI_INT, r, N, MPI_INT, MPI_COMM_WORLD);
	for (int j = 0; j < 2; j++)
		for (int i = 0; i < N; i++)
			bad += r[j * N + i] != val(30 + j, me * N + i);
	MT_EQ(bad, 0, "Alltoall: wrong ints");
	MPI_Bcast(s, N, MPI_INT, 1, MPI_COMM_WORLD);
	bad = 0;
	for (int i = 0; i < N; i++)
		bad += s[i] != val(31, i);
	MT_EQ(bad, 0, "Bcast: wrong ints");
	for (int i = 0; i < N; i++)
		s[i] = val(me, i);
	MPI_Allreduce(s, r, N, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
	bad = 0;
	for (int i = 0; i < N; i++)
		bad += r[i] != val(0, i) + val(1, i);
	MT_EQ(bad, 0, "Allreduce: wrong sums");
	MPI_Allreduce(MPI_IN_PLACE, s, N, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
	bad = 0;
	for (int i = 0; i < N; i++)
		bad += s[i] != val(1, i);
	MT_EQ(bad, 0, "Allreduce in place: wrong maxima");
	for (int i = 0; i < N; i++)
		s[i] = val(40 + me, i);
	MPI_Iallreduce(s, r + N, N, MPI_INT, MPI_MIN, MPI_COMM_WORLD, &q);
	MPI_Wait(&q, MPI_STATUS_IGNORE);
	bad = 0;
	for (int i = 0; i < N; i++)
		bad += r[N + i] != val(40, i);
	MT_EQ(bad, 0, "Iallreduce: wrong minima");
	MPI_Free_mem(s);
	MPI_Free_mem(r);
	mt_say("collectives: ok");
}

int main(int argc, char **argv)
{
	MPI_Init(&argc, &argv);
	mt_begin("p2p_allocmem");
	me = mt_rank();
	peer = 1 - me;
	test_contig();
	test_vector();
	test_struct();
	test_nonblocking();
	test_persistent();
	test_truncate();
	test_half_outside();
	test_copies();
	test_realloc();
	test_colls();
	return mt_finish();
}
