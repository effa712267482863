/*
 * type_envelope.c - what a datatype says about itself: for a type made by
 * each constructor, MPI_Type_get_envelope (combiner and counts) and
 * MPI_Type_get_contents (the constructor's arguments back, component
 * types that are new references); a type rebuilt from its contents has
 * the same size, extent and packed bytes; sizes, extents and true extents
 * on which MPICH and Open MPI agree; dup keeps the commit state; names;
 * Type_size_x/get_extent_x; and the error classes both MPIs give for
 * freeing a predefined type, using an uncommitted or null datatype, and
 * negative counts.
 */
/* ranks: 2 */
#include "mt.h"

static const char *combiner_name(int c)
{
	static const struct { int c; const char *n; } t[] = {
		{ MPI_COMBINER_NAMED, "NAMED" }, { MPI_COMBINER_DUP, "DUP" },
		{ MPI_COMBINER_CONTIGUOUS, "CONTIGUOUS" }, { MPI_COMBINER_VECTOR, "VECTOR" },
		{ MPI_COMBINER_HVECTOR, "HVECTOR" }, { MPI_COMBINER_INDEXED, "INDEXED" },
		{ MPI_COMBINER_HINDEXED, "HINDEXED" },
		{ MPI_COMBINER_INDEXED_BLOCK, "INDEXED_BLOCK" },
		{ MPI_COMBINER_HINDEXED_BLOCK, "HINDEXED_BLOCK" },
		{ MPI_COMBINER_STRUCT, "STRUCT" }, { MPI_COMBINER_SUBARRAY, "SUBARRAY" },
		{ MPI_COMBINER_DARRAY, "DARRAY" }, { MPI_COMBINER_RESIZED, "RESIZED" },
	};

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (t[i].c == c)
			return t[i].n;
	return "?";
}

static int is_predefined(MPI_Datatype t)
{
	int ni, na, nd, c;

	MPI_Type_get_envelope(t, &ni, &na, &nd, &c);
	return c == MPI_COMBINER_NAMED;
}

/* Make a new type from t's contents with the constructor it names. */
static MPI_Datatype rebuild(MPI_Datatype t)
{
	int ni, na, nd, c, iv[64];
	MPI_Aint av[32];
	MPI_Datatype dv[8], r = MPI_DATATYPE_NULL;

	MPI_Type_get_envelope(t, &ni, &na, &nd, &c);
	MPI_Type_get_contents(t, ni, na, nd, iv, av, dv);
	switch (c) {
	case MPI_COMBINER_DUP: MPI_Type_dup(dv[0], &r); break;
	case MPI_COMBINER_CONTIGUOUS: MPI_Type_contiguous(iv[0], dv[0], &r); break;
	case MPI_COMBINER_VECTOR: MPI_Type_vector(iv[0], iv[1], iv[2], dv[0], &r); break;
	case MPI_COMBINER_HVECTOR: MPI_Type_create_hvector(iv[0], iv[1], av[0], dv[0], &r); break;
	case MPI_COMBINER_INDEXED: MPI_Type_indexed(iv[0], iv + 1, iv + 1 + iv[0], dv[0], &r); break;
	case MPI_COMBINER_HINDEXED: MPI_Type_create_hindexed(iv[0], iv + 1, av, dv[0], &r); break;
	case MPI_COMBINER_INDEXED_BLOCK:
		MPI_Type_create_indexed_block(iv[0], iv[1], iv + 2, dv[0], &r);
		break;
	case MPI_COMBINER_HINDEXED_BLOCK:
		MPI_Type_create_hindexed_block(iv[0], iv[1], av, dv[0], &r);
		break;
	case MPI_COMBINER_STRUCT: MPI_Type_create_struct(iv[0], iv + 1, av, dv, &r); break;
	case MPI_COMBINER_SUBARRAY: {
		int n = iv[0];
		MPI_Type_create_subarray(n, iv + 1, iv + 1 + n, iv + 1 + 2 * n, iv[1 + 3 * n], dv[0],
					 &r);
		break;
	}
	case MPI_COMBINER_DARRAY: {
		int n = iv[2];
		MPI_Type_create_darray(iv[0], iv[1], n, iv + 3, iv + 3 + n, iv + 3 + 2 * n,
				       iv + 3 + 3 * n, iv[3 + 4 * n], dv[0], &r);
		break;
	}
	case MPI_COMBINER_RESIZED: MPI_Type_create_resized(dv[0], av[0], av[1], &r); break;
	}
	for (int i = 0; i < nd; i++)
		if (!is_predefined(dv[i]))
			MPI_Type_free(&dv[i]);
	MPI_Type_commit(&r);
	return r;
}

/* Integer i of a type's contents; the constants of subarray and darray
 * by name, since each MPI has its own values for them. */
static const char *int_arg(int c, const int *iv, int i)
{
	static char s[16];
	int n = c == MPI_COMBINER_SUBARRAY ? iv[0] : c == MPI_COMBINER_DARRAY ? iv[2] : 0;
	int v = iv[i];

	if ((c == MPI_COMBINER_SUBARRAY && i == 1 + 3 * n) ||
	    (c == MPI_COMBINER_DARRAY && i == 3 + 4 * n))
		return v == MPI_ORDER_C ? "ORDER_C" : v == MPI_ORDER_FORTRAN ? "ORDER_FORTRAN" : "?";
	if (c == MPI_COMBINER_DARRAY && i >= 3 + n && i < 3 + 2 * n)
		return v == MPI_DISTRIBUTE_BLOCK ? "BLOCK" : v == MPI_DISTRIBUTE_CYCLIC ? "CYCLIC"
			: v == MPI_DISTRIBUTE_NONE ? "NONE" : "?";
	if (c == MPI_COMBINER_DARRAY && i >= 3 + 2 * n && i < 3 + 3 * n &&
	    v == MPI_DISTRIBUTE_DFLT_DARG)
		return "DFLT_DARG";
	snprintf(s, sizeof s, "%d", v);
	return s;
}

/* Print t's envelope and contents, compare it with its rebuilt twin. */
static void describe(const char *what, MPI_Datatype t)
{
	int ni, na, nd, c, iv[64], size, size2;
	MPI_Aint av[32], lb, ext, tlb, text, lb2, ext2;
	MPI_Datatype dv[8];
	char line[600];
	int at;

	MPI_Type_commit(&t);
	MPI_Type_get_envelope(t, &ni, &na, &nd, &c);
	MPI_Type_get_contents(t, ni, na, nd, iv, av, dv);
	at = snprintf(line, sizeof line, "%s: %s ints", what, combiner_name(c));
	for (int i = 0; i < ni && at < 500; i++)
		at += snprintf(line + at, sizeof line - (size_t)at, " %s",
			       int_arg(c, iv, i));
	at += snprintf(line + at, sizeof line - (size_t)at, "; addrs");
	for (int i = 0; i < na && at < 500; i++)
		at += snprintf(line + at, sizeof line - (size_t)at, " %ld", (long)av[i]);
	at += snprintf(line + at, sizeof line - (size_t)at, "; types");
	for (int i = 0; i < nd && at < 500; i++) {
		int ci, x;
		MPI_Type_get_envelope(dv[i], &x, &x, &x, &ci);
		at += snprintf(line + at, sizeof line - (size_t)at, " %s", combiner_name(ci));
		if (ci != MPI_COMBINER_NAMED)
			MPI_Type_free(&dv[i]);
	}
	mt_say("%s", line);
	MPI_Type_size(t, &size);
	MPI_Type_get_extent(t, &lb, &ext);
	MPI_Type_get_true_extent(t, &tlb, &text);
	mt_say("  size %d lb %ld extent %ld true lb %ld true extent %ld", size, (long)lb,
	       (long)ext, (long)tlb, (long)text);
	MPI_Datatype r = rebuild(t);
	MPI_Type_size(r, &size2);
	MPI_Type_get_extent(r, &lb2, &ext2);
	MT_EQ(size2, size, "rebuilt size");
	MT_EQ(lb2, lb, "rebuilt lb");
	MT_EQ(ext2, ext, "rebuilt extent");
	/* Same bytes packed from the same buffer. */
	static unsigned char in[8192], a[8192], b[8192];
	for (size_t i = 0; i < sizeof in; i++)
		in[i] = (unsigned char)(i * 13 + 7);
	int pa = 0, pb = 0;
	MPI_Pack(in + 4096, 1, t, a, sizeof a, &pa, MPI_COMM_WORLD);
	MPI_Pack(in + 4096, 1, r, b, sizeof b, &pb, MPI_COMM_WORLD);
	MT_CHECK(pa == pb && memcmp(a, b, (size_t)pa) == 0, "%s: rebuilt type packs the same",
		 what);
	mt_say("  packed %d bytes: %016llx", pa,
	       (unsigned long long)mt_hash(MT_HASH_INIT, a, (size_t)pa));
	MPI_Type_free(&r);
	MPI_Type_free(&t);
}

static void test_each_constructor(void)
{
	MPI_Datatype t, v;
	int bl[3] = { 2, 1, 3 }, d[3] = { 4, 0, 9 };
	MPI_Aint ad[3] = { 16, 0, 40 };

	MPI_Type_contiguous(3, MPI_SHORT, &t);
	describe("contiguous", t);
	MPI_Type_vector(3, 2, 4, MPI_INT, &t);
	describe("vector", t);
	MPI_Type_create_hvector(2, 3, 40, MPI_DOUBLE, &t);
	describe("hvector", t);
	MPI_Type_indexed(3, bl, d, MPI_FLOAT, &t);
	describe("indexed", t);
	MPI_Type_create_hindexed(3, bl, ad, MPI_INT, &t);
	describe("hindexed", t);
	MPI_Type_create_indexed_block(3, 2, d, MPI_DOUBLE, &t);
	describe("indexed_block", t);
	MPI_Type_create_hindexed_block(3, 1, ad, MPI_LONG_LONG, &t);
	describe("hindexed_block", t);
	MPI_Type_vector(2, 1, 3, MPI_DOUBLE, &v);
	MPI_Datatype types[3] = { MPI_CHAR, v, MPI_INT };
	MPI_Aint sd[3] = { 0, 8, 64 };
	MPI_Type_create_struct(3, bl, sd, types, &t);
	MPI_Type_free(&v); /* the struct still holds it */
	describe("struct", t);
	int sizes[3] = { 5, 4, 3 }, sub[3] = { 2, 3, 2 }, st[3] = { 1, 0, 1 };
	MPI_Type_create_subarray(3, sizes, sub, st, MPI_ORDER_FORTRAN, MPI_SHORT, &t);
	describe("subarray", t);
	int g[2] = { 9, 8 }, dist[2] = { MPI_DISTRIBUTE_CYCLIC, MPI_DISTRIBUTE_BLOCK };
	int darg[2] = { 2, MPI_DISTRIBUTE_DFLT_DARG }, ps[2] = { 2, 2 };
	MPI_Type_create_darray(4, 3, 2, g, dist, darg, ps, MPI_ORDER_C, MPI_INT, &t);
	describe("darray", t);
	MPI_Type_create_resized(MPI_INT, -4, 12, &t);
	describe("resized", t);
	MPI_Type_vector(2, 2, 3, MPI_INT, &v);
	MPI_Type_commit(&v);
	MPI_Type_dup(v, &t);
	int ni, na, nd, c;
	MPI_Type_get_envelope(t, &ni, &na, &nd, &c);
	MPI_Type_free(&v);
	/* A dup of a committed type is committed: usable at once. */
	int in[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, out[4];
	MPI_Sendrecv(in, 1, t, 0, 0, out, 4, MPI_INT, 0, 0, MPI_COMM_SELF, MPI_STATUS_IGNORE);
	MT_CHECK(out[0] == 1 && out[1] == 2 && out[2] == 4 && out[3] == 5,
		 "dup of a committed vector sends at once");
	describe("dup", t);
}

static void expect_class(int rc, int cls, const char *what)
{
	int got = rc;

	if (rc != MPI_SUCCESS)
		MPI_Error_class(rc, &got);
	MT_CHECK(got == cls, "%s: got %s, expected %s", what, mt_class_name(got),
		 mt_class_name(cls));
	mt_say("error: %s -> %s", what, mt_class_name(got));
}

static void test_errors_and_queries(void)
{
	MPI_Datatype t = MPI_INT, u;
	int buf[4] = { 0 }, size;
	MPI_Count sx, lbx, extx;
	char name[MPI_MAX_OBJECT_NAME];
	int len;

	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
	MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
	expect_class(MPI_Type_free(&t), MPI_ERR_TYPE, "Type_free(MPI_INT)");
	t = MPI_DATATYPE_NULL;
	expect_class(MPI_Type_free(&t), MPI_ERR_TYPE, "Type_free(MPI_DATATYPE_NULL)");
	expect_class(MPI_Type_commit(&t), MPI_ERR_TYPE, "Type_commit(MPI_DATATYPE_NULL)");
	expect_class(MPI_Type_contiguous(-1, MPI_INT, &u), MPI_ERR_COUNT, "contiguous(-1)");
	expect_class(MPI_Type_contiguous(2, MPI_DATATYPE_NULL, &u), MPI_ERR_TYPE,
		     "contiguous of MPI_DATATYPE_NULL");
	expect_class(MPI_Type_size(MPI_DATATYPE_NULL, &size), MPI_ERR_TYPE,
		     "Type_size(MPI_DATATYPE_NULL)");
	MPI_Type_contiguous(2, MPI_INT, &u);
	expect_class(MPI_Send(buf, 1, u, MPI_PROC_NULL, 0, MPI_COMM_WORLD), MPI_ERR_TYPE,
		     "Send with an uncommitted type");
	expect_class(MPI_Send(buf, 1, MPI_DATATYPE_NULL, 1, 0, MPI_COMM_WORLD), MPI_ERR_TYPE,
		     "Send with MPI_DATATYPE_NULL");
	expect_class(MPI_Type_size(u, &size), MPI_SUCCESS, "Type_size of an uncommitted type");
	MT_EQ(size, 8, "its size");
	MPI_Type_set_name(u, "pair of ints");
	MPI_Type_get_name(u, name, &len);
	MT_CHECK(strcmp(name, "pair of ints") == 0 && len == 12, "type name %s", name);
	MPI_Type_commit(&u);
	MPI_Type_size_x(u, &sx);
	MPI_Type_get_extent_x(u, &lbx, &extx);
	MT_CHECK(sx == 8 && lbx == 0 && extx == 8, "_x queries");
	MPI_Type_free(&u);
	MT_CHECK(u == MPI_DATATYPE_NULL, "Type_free nulls the handle");
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
}

int main(int argc, char **argv)
{
	int me;

	MPI_Init(&argc, &argv);
	mt_begin("type_envelope");
	MPI_Comm_rank(MPI_COMM_WORLD, &me);
	test_each_constructor();
	test_errors_and_queries();
	return mt_finish();
}
