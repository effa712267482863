/*
 * coll_types.c - the predefined datatypes that mt_types.h does not sweep:
 * MPI_AINT, MPI_COUNT, MPI_OFFSET, MPI_PACKED, MPI_WCHAR, the C++ types,
 * the Fortran types (LOGICAL, INTEGER, REAL, ... and their sized forms),
 * the Fortran pair types and MPI_LONG_LONG_INT.  Every type moves through
 * Allgather and a gapped Gatherv (bytes compared exactly, gaps must stay
 * untouched); each type is then reduced with the predefined ops that
 * both MPICH 4.0 and Open MPI 4.1 accept for it (SUM MAX BAND on
 * integers, SUM MAX on reals, SUM on complex, LAND on logicals, MAXLOC
 * on the Fortran pairs), against results folded here from the inputs.
 * The sized Fortran LOGICALn types are left out: MPICH does not define
 * them.  REAL16 and COMPLEX32 are moved but not reduced: their C type
 * (long double or __float128) depends on the MPI build.
 */
/* ranks: 3 */
#include <complex.h>
#include <stdbool.h>
#include <stddef.h>
#include "mt.h"

#define N 5          /* elements per rank */
#define POISON 0x5a

enum kind { INT, REAL, CPLX, LOGIC, PAIR_R, PAIR_D, PAIR_I, MOVE };

struct ftype {
	const char *name;
	MPI_Datatype dt;
	size_t size;
	enum kind kind;
	int isize;           /* INT/LOGIC: bytes of the C integer; 0: bool */
};

#define FT(t, sz, k, is) { #t, t, sz, k, is }
static const struct ftype types[] = {
	FT(MPI_AINT, sizeof(MPI_Aint), INT, sizeof(MPI_Aint)),
	FT(MPI_COUNT, sizeof(MPI_Count), INT, sizeof(MPI_Count)),
	FT(MPI_OFFSET, sizeof(MPI_Offset), INT, sizeof(MPI_Offset)),
	FT(MPI_LONG_LONG_INT, sizeof(long long), INT, sizeof(long long)),
	FT(MPI_INTEGER, 4, INT, 4),
	FT(MPI_INTEGER1, 1, INT, 1),
	FT(MPI_INTEGER2, 2, INT, 2),
	FT(MPI_INTEGER4, 4, INT, 4),
	FT(MPI_INTEGER8, 8, INT, 8),
	FT(MPI_REAL, 4, REAL, 4),
	FT(MPI_REAL4, 4, REAL, 4),
	FT(MPI_DOUBLE_PRECISION, 8, REAL, 8),
	FT(MPI_REAL8, 8, REAL, 8),
	FT(MPI_COMPLEX, 8, CPLX, 4),
	FT(MPI_COMPLEX8, 8, CPLX, 4),
	FT(MPI_DOUBLE_COMPLEX, 16, CPLX, 8),
	FT(MPI_COMPLEX16, 16, CPLX, 8),
	FT(MPI_CXX_FLOAT_COMPLEX, 8, CPLX, 4),
	FT(MPI_CXX_DOUBLE_COMPLEX, 16, CPLX, 8),
	FT(MPI_CXX_LONG_DOUBLE_COMPLEX, sizeof(long double _Complex), CPLX, 16),
	FT(MPI_LOGICAL, 4, LOGIC, 4),
	FT(MPI_CXX_BOOL, sizeof(bool), LOGIC, 0),
	FT(MPI_2REAL, 8, PAIR_R, 0),
	FT(MPI_2DOUBLE_PRECISION, 16, PAIR_D, 0),
	FT(MPI_2INTEGER, 8, PAIR_I, 0),
	FT(MPI_REAL16, 16, MOVE, 0),
	FT(MPI_COMPLEX32, 32, MOVE, 0),
	FT(MPI_PACKED, 1, MOVE, 0),
	FT(MPI_WCHAR, sizeof(wchar_t), MOVE, 0),
	FT(MPI_CHARACTER, 1, MOVE, 0),
};
#define NT ((int)(sizeof types / sizeof types[0]))

static int me, np;

/* ------------------------------------------------------------- movement */

static void test_move(const struct ftype *t)
{
	unsigned char s[N * 32], r[3 * 8 * N * 32], want[N * 32];
	int cnt[8], dsp[8];

	mt_pattern(s, N * t->size, (uint32_t)(me * 131 + (int)t->size));
	memset(r, POISON, sizeof r);
	MPI_Allgather(s, N, t->dt, r, N, t->dt, MPI_COMM_WORLD);
	for (int p = 0; p < np; p++) {
		mt_pattern(want, N * t->size, (uint32_t)(p * 131 + (int)t->size));
		MT_CHECK(memcmp(r + (size_t)p * N * t->size, want, N * t->size) == 0,
			 "%s allgather: block of rank %d differs", t->name, p);
	}

	/* Gatherv to the last rank: rank p's p+1 elements at 2N*(np-1-p). */
	for (int p = 0; p < np; p++) {
		cnt[p] = p + 1;
		dsp[p] = 2 * N * (np - 1 - p);
	}
	memset(r, POISON, sizeof r);
	MPI_Gatherv(s, me + 1, t->dt, r, cnt, dsp, t->dt, np - 1, MPI_COMM_WORLD);
	for (int p = 0; me == np - 1 && p < np; p++) {
		const unsigned char *blk = r + (size_t)dsp[p] * t->size;
		mt_pattern(want, N * t->size, (uint32_t)(p * 131 + (int)t->size));
		MT_CHECK(memcmp(blk, want, (size_t)cnt[p] * t->size) == 0,
			 "%s gatherv: block of rank %d differs", t->name, p);
		for (size_t b = (size_t)cnt[p] * t->size; b < 2 * N * t->size; b++)
			MT_CHECK(blk[b] == POISON, "%s gatherv: gap after block %d written",
				 t->name, p);
	}
}

/* ------------------------------------------------------------ reductions */

/* Integer element i of rank p. */
static long ival(int p, int i)
{
	return (long)((p + 1) * (i + 2)) ^ (long)(i * 5);
}

static void iset(void *b, int isize, int i, long v)
{
	switch (isize) {
	case 1: ((int8_t *)b)[i] = (int8_t)v; break;
	case 2: ((int16_t *)b)[i] = (int16_t)v; break;
	case 4: ((int32_t *)b)[i] = (int32_t)v; break;
	case 8: ((int64_t *)b)[i] = (int64_t)v; break;
	default: ((bool *)b)[i] = v != 0; break;
	}
}

static long iget(const void *b, int isize, int i)
{
	switch (isize) {
	case 1: return ((const int8_t *)b)[i];
	case 2: return ((const int16_t *)b)[i];
	case 4: return ((const int32_t *)b)[i];
	case 8: return (long)((const int64_t *)b)[i];
	default: return ((const bool *)b)[i];
	}
}

static void reduce_int(const struct ftype *t)
{
	static const MPI_Op ops[] = { MPI_SUM, MPI_MAX, MPI_BAND };
	static const char *names[] = { "SUM", "MAX", "BAND" };
	unsigned char s[N * 8], r[N * 8];

	for (int i = 0; i < N; i++)
		iset(s, t->isize, i, ival(me, i));
	for (int o = 0; o < 3; o++) {
		MPI_Allreduce(s, r, N, t->dt, ops[o], MPI_COMM_WORLD);
		for (int i = 0; i < N; i++) {
			long want = ival(0, i);
			for (int p = 1; p < np; p++) {
				long v = ival(p, i);
				want = o == 0 ? want + v : o == 1 ? (v > want ? v : want) : want & v;
			}
			MT_EQ(iget(r, t->isize, i), want, names[o]);
		}
	}
}

static void reduce_real(const struct ftype *t)
{
	double s8[N], r8[N];
	float s4[N], r4[N];

	for (int i = 0; i < N; i++) {
		s8[i] = (me + 1) * 0.5 * (i + 1);
		s4[i] = (float)s8[i];
	}
	for (int o = 0; o < 2; o++) {
		MPI_Op op = o ? MPI_MAX : MPI_SUM;
		if (t->isize == 8)
			MPI_Allreduce(s8, r8, N, t->dt, op, MPI_COMM_WORLD);
		else
			MPI_Allreduce(s4, r4, N, t->dt, op, MPI_COMM_WORLD);
		for (int i = 0; i < N; i++) {
			double want = o ? np * 0.5 * (i + 1) : np * (np + 1) / 2 * 0.5 * (i + 1);
			double got = t->isize == 8 ? r8[i] : r4[i];
			MT_CHECK(got == want, "%s %s[%d]: got %g, expected %g", t->name,
				 o ? "MAX" : "SUM", i, got, want);
		}
	}
}

static void reduce_cplx(const struct ftype *t)
{
	float _Complex s4[N], r4[N];
	double _Complex s8[N], r8[N];
	long double _Complex s16[N], r16[N];

	for (int i = 0; i < N; i++) {
		s4[i] = (float)(me + i) + (float)(i - me) * I;
		s8[i] = s4[i];
		s16[i] = s4[i];
	}
	void *s = t->isize == 4 ? (void *)s4 : t->isize == 8 ? (void *)s8 : (void *)s16;
	void *r = t->isize == 4 ? (void *)r4 : t->isize == 8 ? (void *)r8 : (void *)r16;
	MPI_Allreduce(s, r, N, t->dt, MPI_SUM, MPI_COMM_WORLD);
	for (int i = 0; i < N; i++) {
		long double re = 0, im = 0;
		for (int p = 0; p < np; p++) {
			re += p + i;
			im += i - p;
		}
		long double _Complex got = t->isize == 4 ? r4[i] : t->isize == 8 ? r8[i] : r16[i];
		MT_CHECK(creall(got) == re && cimagl(got) == im, "%s SUM[%d]: got %Lg%+Lgi",
			 t->name, i, creall(got), cimagl(got));
	}
}

static void reduce_logic(const struct ftype *t)
{
	unsigned char s[N * 4], r[N * 4];

	/* element i is false on rank i % (np + 1): the last ones stay true */
	for (int i = 0; i < N; i++)
		iset(s, t->isize, i, i % (np + 1) != me);
	MPI_Allreduce(s, r, N, t->dt, MPI_LAND, MPI_COMM_WORLD);
	for (int i = 0; i < N; i++)
		MT_EQ(iget(r, t->isize, i) != 0, i % (np + 1) >= np, "LAND");
}

static void reduce_pair(const struct ftype *t)
{
	float sr[2 * N], rr[2 * N];
	double sd[2 * N], rd[2 * N];
	int si[2 * N], ri[2 * N];

	for (int i = 0; i < N; i++) {
		int v = (me * 7 + i) % 4, idx = 10 - me;
		sr[2 * i] = (float)v, sr[2 * i + 1] = (float)idx;
		sd[2 * i] = v, sd[2 * i + 1] = idx;
		si[2 * i] = v, si[2 * i + 1] = idx;
	}
	void *s = t->kind == PAIR_R ? (void *)sr : t->kind == PAIR_D ? (void *)sd : (void *)si;
	void *r = t->kind == PAIR_R ? (void *)rr : t->kind == PAIR_D ? (void *)rd : (void *)ri;
	MPI_Allreduce(s, r, N, t->dt, MPI_MAXLOC, MPI_COMM_WORLD);
	for (int i = 0; i < N; i++) {
		int best = -1, at = 0;
		for (int p = 0; p < np; p++) {
			int v = (p * 7 + i) % 4, idx = 10 - p;
			if (v > best || (v == best && idx < at))
				best = v, at = idx;
		}
		double gv = t->kind == PAIR_R ? rr[2 * i] : t->kind == PAIR_D ? rd[2 * i] : ri[2 * i];
		double gi = t->kind == PAIR_R ? rr[2 * i + 1] : t->kind == PAIR_D ? rd[2 * i + 1]
			: ri[2 * i + 1];
		MT_CHECK(gv == best && gi == at, "%s MAXLOC[%d]: got (%g, %g), expected (%d, %d)",
			 t->name, i, gv, gi, best, at);
	}
}

static const char *reduce(const struct ftype *t)
{
	switch (t->kind) {
	case INT: reduce_int(t); return "SUM MAX BAND";
	case REAL: reduce_real(t); return "SUM MAX";
	case CPLX: reduce_cplx(t); return "SUM";
	case LOGIC: reduce_logic(t); return "LAND";
	case PAIR_R: case PAIR_D: case PAIR_I: reduce_pair(t); return "MAXLOC";
	case MOVE: break;
	}
	return "none";
}

int main(int argc, char **argv)
{
	MPI_Init(&argc, &argv);
	mt_begin("coll_types");
	MPI_Comm_rank(MPI_COMM_WORLD, &me);
	MPI_Comm_size(MPI_COMM_WORLD, &np);
	if (np > 8) {
		mt_say("needs at most 8 ranks");
		MPI_Abort(MPI_COMM_WORLD, 1);
	}
	for (int k = 0; k < NT; k++) {
		const struct ftype *t = &types[k];
		int size = -1;

		MPI_Type_size(t->dt, &size);
		MT_EQ(size, t->size, t->name);
		test_move(t);
		mt_say("%s: size %d, moved, reduced with %s", t->name, size, reduce(t));
	}
	return mt_finish();
}
