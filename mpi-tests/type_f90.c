/*
 * type_f90.c - MPI_Type_create_f90_real, _complex and _integer: for a
 * table of (p, r), the size the Fortran kind model on x86-64 gives
 * (REAL(4) and REAL(8), INTEGER(1) to INTEGER(8)), lb 0 and extent = size,
 * MPI_Type_get_envelope (MPI_COMBINER_F90_*, 2 or 1 integers) and
 * MPI_Type_get_contents (p and r back, MPI_UNDEFINED included); the same
 * handle for the same (p, r); commit allowed; a dup of one; such types in
 * point-to-point, in a contiguous type, in Bcast and in Allreduce and
 * Reduce_local with MPI_SUM; MPI_Type_match_size agreeing in size; and a
 * request no kind can meet refused.
 *
 * Only what the standard fixes and both real MPIs agree on is printed:
 * MPICH 4.0.2 refuses p > 15 or r > 307, Open MPI 4.1.4 gives long double
 * up to p 18 and r 4931 (so does dmtcp_mpi); both refuse p > 18 and
 * integer ranges above 18, with different error classes.  Type names,
 * MPI_Type_free of such a type (erroneous) and p = r = MPI_UNDEFINED
 * (forbidden, yet MPICH accepts it) are not checked (doc/conformance.md).
 */
/* ranks: 2 */
#include "mt.h"

#include <complex.h>

#define U MPI_UNDEFINED

enum cls { REAL, CPLX, INTG };

struct pr {
	enum cls c;
	int p, r;
};

/* The cases; no two of them are the same once MPI_UNDEFINED reads as 0,
 * since one real MPI may then hand back the other's type. */
static const struct pr cases[] = {
	{ REAL, 6, U }, { REAL, U, 37 }, { REAL, 6, 37 }, { REAL, 7, U }, { REAL, 15, U },
	{ REAL, U, 38 }, { REAL, U, 307 }, { REAL, 15, 307 }, { REAL, 0, 0 }, { REAL, 3, 300 },
	{ REAL, 1, U }, { REAL, U, 1 },
	{ CPLX, 6, U }, { CPLX, U, 37 }, { CPLX, 7, U }, { CPLX, 15, 307 }, { CPLX, U, 300 },
	{ INTG, 0, 0 }, { INTG, 0, 1 }, { INTG, 0, 2 }, { INTG, 0, 3 }, { INTG, 0, 4 },
	{ INTG, 0, 5 }, { INTG, 0, 9 }, { INTG, 0, 10 }, { INTG, 0, 18 },
};
#define NCASES (int)(sizeof cases / sizeof cases[0])

static const char *cls_name(enum cls c)
{
	return c == REAL ? "real" : c == CPLX ? "complex" : "integer";
}

static int combiner_of(enum cls c)
{
	return c == REAL ? MPI_COMBINER_F90_REAL
		: c == CPLX ? MPI_COMBINER_F90_COMPLEX : MPI_COMBINER_F90_INTEGER;
}

/* Bytes of the kind SELECTED_REAL_KIND / SELECTED_INT_KIND picks. */
static int model_size(const struct pr *k)
{
	int single = (k->p == U || k->p <= 6) && (k->r == U || k->r <= 37);
	int real = single ? (int)sizeof(float) : (int)sizeof(double);

	if (k->c == INTG)
		return k->r <= 2 ? 1 : k->r <= 4 ? 2 : k->r <= 9 ? 4 : 8;
	return k->c == REAL ? real : 2 * real;
}

static int make(const struct pr *k, MPI_Datatype *t)
{
	if (k->c == REAL)
		return MPI_Type_create_f90_real(k->p, k->r, t);
	if (k->c == CPLX)
		return MPI_Type_create_f90_complex(k->p, k->r, t);
	return MPI_Type_create_f90_integer(k->r, t);
}

static const char *pr_text(int v, char *buf)
{
	if (v == U)
		return "UNDEF";
	sprintf(buf, "%d", v);
	return buf;
}

/* One case: size, bounds, envelope, contents, same handle again. */
static MPI_Datatype check_case(const struct pr *k)
{
	MPI_Datatype t = MPI_DATATYPE_NULL, again = MPI_DATATYPE_NULL;
	int size = -1, ni, na, nd, comb, ints[2] = { -1, -1 };
	MPI_Aint lb = -1, ext = -1;
	char pb[16], rb[16];
	int want_ni = k->c == INTG ? 1 : 2;

	if (make(k, &t) != MPI_SUCCESS) {
		MT_FAIL("%s(%d, %d) refused", cls_name(k->c), k->p, k->r);
		return MPI_DATATYPE_NULL;
	}
	MPI_Type_size(t, &size);
	MPI_Type_get_extent(t, &lb, &ext);
	MPI_Type_get_envelope(t, &ni, &na, &nd, &comb);
	MT_EQ(size, model_size(k), "size");
	MT_CHECK(lb == 0 && ext == size, "%s(%d, %d): lb %ld extent %ld", cls_name(k->c), k->p,
		 k->r, (long)lb, (long)ext);
	MT_CHECK(ni == want_ni && na == 0 && nd == 0 && comb == combiner_of(k->c),
		 "%s(%d, %d): envelope %d/%d/%d combiner %d", cls_name(k->c), k->p, k->r, ni,
		 na, nd, comb);
	if (ni == want_ni &&
	    MPI_Type_get_contents(t, 2, 0, 0, ints, NULL, NULL) == MPI_SUCCESS) {
		if (k->c == INTG)
			MT_EQ(ints[0], k->r, "contents r");
		else
			MT_CHECK(ints[0] == k->p && ints[1] == k->r, "contents %d %d", ints[0],
				 ints[1]);
	}
	make(k, &again);
	MT_CHECK(again == t, "%s(%d, %d): a second call gave another handle", cls_name(k->c),
		 k->p, k->r);
	MT_EQ(MPI_Type_commit(&t), MPI_SUCCESS, "commit");
	if (k->c == INTG)
		mt_say("integer r=%s: %d bytes, extent %ld", pr_text(k->r, rb), size,
		       (long)ext);
	else
		mt_say("%s p=%s r=%s: %d bytes, extent %ld", cls_name(k->c), pr_text(k->p, pb),
		       pr_text(k->r, rb), size, (long)ext);
	return t;
}

/* Every case's type from rank 0 to rank 1: 5 elements, bytes compared. */
static void check_p2p(MPI_Datatype *types)
{
	unsigned char out[5 * 16], in[5 * 16];
	int bad = 0;

	for (int i = 0; i < NCASES; i++) {
		int size = model_size(&cases[i]);
		mt_pattern(out, sizeof out, (uint32_t)i + 1);
		memset(in, 0, sizeof in);
		if (mt_rank() == 0) {
			MPI_Send(out, 5, types[i], 1, i, MPI_COMM_WORLD);
		} else if (mt_rank() == 1) {
			MPI_Status st;
			int n = -1;
			MPI_Recv(in, 5, types[i], 0, i, MPI_COMM_WORLD, &st);
			MPI_Get_count(&st, types[i], &n);
			MT_EQ(n, 5, "Get_count");
			bad += memcmp(in, out, (size_t)(5 * size)) != 0;
		}
	}
	MT_EQ(bad, 0, "types whose data arrived changed");
	mt_say("point-to-point: %d types, 5 elements each", NCASES);
}

/* Three REAL(8) in a contiguous type, and a dup of REAL(8). */
static void check_derived(MPI_Datatype r8)
{
	MPI_Datatype triple, dup, inner = MPI_DATATYPE_NULL;
	double v[6] = { 0 };
	int ni, na, nd, comb, size = -1;

	MPI_Type_contiguous(3, r8, &triple);
	MPI_Type_commit(&triple);
	MPI_Type_size(triple, &size);
	MT_EQ(size, 3 * (int)sizeof(double), "contiguous of 3 REAL(8)");
	if (mt_rank() == 0) {
		for (int i = 0; i < 6; i++)
			v[i] = 0.25 * (i + 1);
		MPI_Send(v, 2, triple, 1, 7, MPI_COMM_WORLD);
	} else if (mt_rank() == 1) {
		MPI_Recv(v, 2, triple, 0, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		for (int i = 0; i < 6; i++)
			MT_CHECK(v[i] == 0.25 * (i + 1), "v[%d] = %g", i, v[i]);
	}
	MPI_Type_free(&triple);
	MPI_Type_dup(r8, &dup);
	MPI_Type_get_envelope(dup, &ni, &na, &nd, &comb);
	MT_CHECK(comb == MPI_COMBINER_DUP && nd == 1, "dup: combiner %d", comb);
	MPI_Type_get_contents(dup, 0, 0, 1, NULL, NULL, &inner);
	MT_CHECK(inner == r8, "the dup's contents are not the REAL(8) type");
	MPI_Type_free(&dup);
	mt_say("contiguous and dup of REAL(8): fine");
}

/* Sums in the real MPI and in the application. */
static void check_reductions(void)
{
	MPI_Datatype r8, i4, c4;
	double d = 1.5 + mt_rank(), dsum = 0;
	int32_t n[2] = { 10 * (mt_rank() + 1), -3 }, nsum[2] = { 0, 0 };
	float complex c = 1.0f + 2.0f * I * (float)(mt_rank() + 1), csum = 0;
	int size = 0;

	MPI_Type_create_f90_real(15, U, &r8);
	MPI_Type_create_f90_integer(9, &i4);
	MPI_Type_create_f90_complex(6, U, &c4);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	MPI_Allreduce(&d, &dsum, 1, r8, MPI_SUM, MPI_COMM_WORLD);
	MPI_Allreduce(n, nsum, 2, i4, MPI_SUM, MPI_COMM_WORLD);
	MPI_Allreduce(&c, &csum, 1, c4, MPI_SUM, MPI_COMM_WORLD);
	MT_CHECK(dsum == 1.5 * size + size * (size - 1) / 2.0, "REAL(8) sum %g", dsum);
	MT_CHECK(nsum[0] == 10 * size * (size + 1) / 2 && nsum[1] == -3 * size,
		 "INTEGER(4) sums %d %d", nsum[0], nsum[1]);
	MT_CHECK(crealf(csum) == (float)size && cimagf(csum) == size * (size + 1.0f),
		 "COMPLEX(4) sum %g%+gi", crealf(csum), cimagf(csum));
	double bc = mt_rank() == 0 ? 42.5 : 0;
	MPI_Bcast(&bc, 1, r8, 0, MPI_COMM_WORLD);
	MT_CHECK(bc == 42.5, "Bcast gave %g", bc);
	int32_t a[2] = { 5, 6 }, b[2] = { 7, 8 };
	MT_EQ(MPI_Reduce_local(a, b, 2, i4, MPI_SUM), MPI_SUCCESS, "Reduce_local");
	MT_CHECK(b[0] == 12 && b[1] == 14, "Reduce_local gave %d %d", b[0], b[1]);
	mt_say("Allreduce, Bcast and Reduce_local: fine");
}

/* Type_match_size gives a type of the f90 type's size and class. */
static void check_match_size(void)
{
	static const struct { int cls; struct pr k; } m[] = {
		{ MPI_TYPECLASS_REAL, { REAL, 6, U } }, { MPI_TYPECLASS_REAL, { REAL, 15, U } },
		{ MPI_TYPECLASS_COMPLEX, { CPLX, 15, U } },
		{ MPI_TYPECLASS_INTEGER, { INTG, 0, 4 } },
		{ MPI_TYPECLASS_INTEGER, { INTG, 0, 18 } },
	};

	for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
		MPI_Datatype f, t = MPI_DATATYPE_NULL;
		int fs = -1, ts = -2;
		make(&m[i].k, &f);
		MPI_Type_size(f, &fs);
		MT_EQ(MPI_Type_match_size(m[i].cls, fs, &t), MPI_SUCCESS, "Type_match_size");
		if (t != MPI_DATATYPE_NULL)
			MPI_Type_size(t, &ts);
		MT_EQ(ts, fs, "size of the matched type");
	}
	mt_say("Type_match_size: %d sizes match", (int)(sizeof m / sizeof m[0]));
}

/* No kind has these: refused (the class differs between the real MPIs). */
static void check_refused(void)
{
	static const struct pr bad[] = {
		{ REAL, 19, U }, { REAL, U, 4932 }, { REAL, 34, 5000 }, { CPLX, 19, U },
		{ CPLX, U, 4932 }, { INTG, 0, 19 }, { INTG, 0, 39 },
	};
	int refused = 0;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		MPI_Datatype t = MPI_DATATYPE_NULL;
		refused += make(&bad[i], &t) != MPI_SUCCESS;
	}
	MT_EQ(refused, (int)(sizeof bad / sizeof bad[0]), "refused requests");
	mt_say("impossible precision or range: %d of %d refused", refused,
	       (int)(sizeof bad / sizeof bad[0]));
}

int main(int argc, char **argv)
{
	MPI_Datatype types[NCASES];

	MPI_Init(&argc, &argv);
	mt_begin("type_f90");
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
	MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
	for (int i = 0; i < NCASES; i++)
		types[i] = check_case(&cases[i]);
	check_p2p(types);
	check_derived(types[4]);
	check_reductions();
	check_match_size();
	check_refused();
	return mt_finish();
}
