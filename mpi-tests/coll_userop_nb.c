/*
 * coll_userop_nb.c - nonblocking reductions with user operations must not
 * block at initiation.  In every round rank 0 starts the reduction, then
 * sends rank 1 a token, then waits; rank 1 receives the token first and
 * only then starts its part.  MPI lets rank 0 leave the start at once, so
 * this completes; an implementation that computes the reduction at its
 * start deadlocks here (the test's timeout ends it).  Each of Ireduce (at
 * each root), Iallreduce, Iscan, Iexscan, Ireduce_scatter_block and
 * Ireduce_scatter, with a non-commutative operation (2x2 integer matrix
 * product, rank order matters) and a commutative one (sum); then two
 * reductions pending at once, completed by one Waitall, and one finished
 * by a Test loop after its operation and datatype were freed.  Expected
 * values are computed here directly from the inputs.
 */
/* ranks: 2 */
#include "mt.h"

#define N 3                      /* matrices per rank in most calls */

static int me, np;
static MPI_Datatype mat_t;       /* one 2x2 int matrix */

/* Rank r's matrix number i; products of these depend on the order. */
static void input(int r, int i, int m[4])
{
	m[0] = r + 2 + i;
	m[1] = 1;
	m[2] = i % 2;
	m[3] = 1;
}

static void mul(const int a[4], const int b[4], int out[4])
{
	int t[4] = { a[0] * b[0] + a[1] * b[2], a[0] * b[1] + a[1] * b[3],
		     a[2] * b[0] + a[3] * b[2], a[2] * b[1] + a[3] * b[3] };

	memcpy(out, t, sizeof(t));
}

/* inout = in * inout: MPI's order, so the result is M0 M1 ... M(n-1). */
static void matmul(void *in, void *inout, int *len, MPI_Datatype *dt)
{
	int *a = in, *b = inout;

	MT_CHECK(*dt == mat_t, "user function given another datatype");
	for (int i = 0; i < *len; i++)
		mul(a + 4 * i, b + 4 * i, b + 4 * i);
}

/* The same as a sum of the entries: commutative. */
static void matsum(void *in, void *inout, int *len, MPI_Datatype *dt)
{
	(void)dt;
	for (int i = 0; i < *len * 4; i++)
		((int *)inout)[i] += ((int *)in)[i];
}

/* Ranks first..last of matrix number i folded with op (mul or sum). */
static void expect(int commute, int first, int last, int i, int m[4])
{
	int x[4];

	if (commute)
		memset(m, 0, 4 * sizeof(int));
	else
		m[0] = m[3] = 1, m[1] = m[2] = 0;
	for (int r = first; r <= last; r++) {
		input(r, i, x);
		if (commute)
			for (int k = 0; k < 4; k++)
				m[k] += x[k];
		else
			mul(m, x, m);
	}
}

static void fill(int *buf, int i0, int n)
{
	for (int i = 0; i < n; i++)
		input(me, i0 + i, buf + 4 * i);
}

/* n results at buf: matrices i0.. folded over ranks first..last. */
static void check(const int *buf, int commute, int n, int i0, int first, int last,
		  const char *what)
{
	int want[4];

	for (int i = 0; i < n; i++) {
		expect(commute, first, last, i0 + i, want);
		MT_CHECK(!memcmp(buf + 4 * i, want, sizeof(want)), "%s: matrix %d is "
			 "[%d %d %d %d], expected [%d %d %d %d]", what, i, buf[4 * i],
			 buf[4 * i + 1], buf[4 * i + 2], buf[4 * i + 3], want[0], want[1],
			 want[2], want[3]);
	}
}

enum kind { K_REDUCE0, K_REDUCE1, K_ALLREDUCE, K_SCAN, K_EXSCAN, K_RSB, K_RS, K_COUNT };
static const char *const kind_name[K_COUNT] = {
	"Ireduce root 0", "Ireduce root 1", "Iallreduce", "Iscan", "Iexscan",
	"Ireduce_scatter_block", "Ireduce_scatter",
};

static int sbuf[4 * N * 8], rbuf[4 * N * 8];
static int counts[64];

static void start(enum kind k, MPI_Op op, MPI_Request *req)
{
	int root = k == K_REDUCE1 ? np - 1 : 0;

	switch (k) {
	case K_REDUCE0:
	case K_REDUCE1:
		MPI_Ireduce(sbuf, rbuf, N, mat_t, op, root, MPI_COMM_WORLD, req);
		break;
	case K_ALLREDUCE:
		MPI_Iallreduce(sbuf, rbuf, N, mat_t, op, MPI_COMM_WORLD, req);
		break;
	case K_SCAN:
		MPI_Iscan(sbuf, rbuf, N, mat_t, op, MPI_COMM_WORLD, req);
		break;
	case K_EXSCAN:
		MPI_Iexscan(sbuf, rbuf, N, mat_t, op, MPI_COMM_WORLD, req);
		break;
	case K_RSB:
		MPI_Ireduce_scatter_block(sbuf, rbuf, N, mat_t, op, MPI_COMM_WORLD, req);
		break;
	default:
		MPI_Ireduce_scatter(sbuf, rbuf, counts, mat_t, op, MPI_COMM_WORLD, req);
		break;
	}
}

/* What rank me holds after kind k; Reduce_scatter gives rank i i+1. */
static void verify(enum kind k, int commute, const char *what)
{
	switch (k) {
	case K_REDUCE0:
	case K_REDUCE1:
		if (me == (k == K_REDUCE1 ? np - 1 : 0))
			check(rbuf, commute, N, 0, 0, np - 1, what);
		break;
	case K_ALLREDUCE:
		check(rbuf, commute, N, 0, 0, np - 1, what);
		break;
	case K_SCAN:
		check(rbuf, commute, N, 0, 0, me, what);
		break;
	case K_EXSCAN:
		if (me > 0)
			check(rbuf, commute, N, 0, 0, me - 1, what);
		break;
	case K_RSB:
		check(rbuf, commute, N, me * N, 0, np - 1, what);
		break;
	default:
		check(rbuf, commute, me + 1, me * (me + 1) / 2, 0, np - 1, what);
		break;
	}
}

/* Rank 0 starts, then sends; rank 1 receives, then starts. */
static void round_trip(enum kind k, MPI_Op op, int commute)
{
	char what[80];
	MPI_Request req;
	int token = 0;

	snprintf(what, sizeof(what), "%s %s", kind_name[k], commute ? "sum" : "product");
	fill(sbuf, 0, (int)(sizeof(sbuf) / sizeof(sbuf[0]) / 4));
	memset(rbuf, 0, sizeof(rbuf));
	if (me == 1)
		MPI_Recv(&token, 1, MPI_INT, 0, 5, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
	start(k, op, &req);
	if (me == 0)
		MPI_Send(&me, 1, MPI_INT, 1, 5, MPI_COMM_WORLD);
	MPI_Wait(&req, MPI_STATUS_IGNORE);
	MT_CHECK(req == MPI_REQUEST_NULL, "%s: Wait left the request", what);
	verify(k, commute, what);
	mt_say("%s: started before a message its peer waits for", what);
}

/* Two pending at once, the later one waited for first by Waitall. */
static void two_pending(MPI_Op prod)
{
	static int s2[4 * N], r2[4 * N];
	MPI_Request req[2];

	fill(sbuf, 0, N);
	fill(s2, 0, N);
	memset(rbuf, 0, sizeof(rbuf));
	MPI_Iscan(sbuf, rbuf, N, mat_t, prod, MPI_COMM_WORLD, &req[1]);
	MPI_Iallreduce(s2, r2, N, mat_t, prod, MPI_COMM_WORLD, &req[0]);
	MPI_Waitall(2, req, MPI_STATUSES_IGNORE);
	check(rbuf, 0, N, 0, 0, me, "pending Iscan");
	check(r2, 0, N, 0, 0, np - 1, "pending Iallreduce");
	mt_say("two pending user reductions completed by one Waitall");
}

/* The operation and the datatype may be freed while it is pending. */
static void freed_meanwhile(void)
{
	MPI_Datatype t;
	MPI_Op op;
	MPI_Request req;
	int flag = 0, token = 0;

	MPI_Type_contiguous(4, MPI_INT, &t);
	MPI_Type_commit(&t);
	MPI_Op_create(matsum, 1, &op);
	fill(sbuf, 0, N);
	memset(rbuf, 0, sizeof(rbuf));
	if (me == 1)
		MPI_Recv(&token, 1, MPI_INT, 0, 6, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
	MPI_Iallreduce(sbuf, rbuf, N, t, op, MPI_COMM_WORLD, &req);
	MPI_Op_free(&op);
	MPI_Type_free(&t);
	if (me == 0)
		MPI_Send(&me, 1, MPI_INT, 1, 6, MPI_COMM_WORLD);
	while (!flag)
		MPI_Test(&req, &flag, MPI_STATUS_IGNORE);
	check(rbuf, 1, N, 0, 0, np - 1, "Iallreduce, op and type freed");
	mt_say("Iallreduce completed by Test after its op and datatype were freed");
}

int main(int argc, char **argv)
{
	MPI_Op prod, sum;

	MPI_Init(&argc, &argv);
	mt_begin("coll_userop_nb");
	me = mt_rank();
	MPI_Comm_size(MPI_COMM_WORLD, &np);
	for (int i = 0; i < np; i++)
		counts[i] = i + 1;
	MPI_Type_contiguous(4, MPI_INT, &mat_t);
	MPI_Type_commit(&mat_t);
	MPI_Op_create(matmul, 0, &prod);
	MPI_Op_create(matsum, 1, &sum);
	for (int k = 0; k < K_COUNT; k++) {
		round_trip((enum kind)k, prod, 0);
		round_trip((enum kind)k, sum, 1);
	}
	two_pending(prod);
	freed_meanwhile();
	MPI_Op_free(&prod);
	MPI_Op_free(&sum);
	MPI_Type_free(&mat_t);
	return mt_finish();
}
