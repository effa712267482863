/*
 * type_match.c - MPI_Type_match_size: for each type class (INTEGER, REAL,
 * COMPLEX) and each size 1 to 32, which predefined type comes back, its
 * size, or that the pair is refused.  run.sh compares the lines with the
 * native run, so ours must hand back the type the real MPI does: the
 * Fortran type of that class and size (MPI_REAL8 for REAL 8, not
 * MPI_DOUBLE, whose layout is the same but whose class is not).
 *
 * MPICH 4.0.2 always returns the sized types (MPI_INTEGER4, MPI_REAL4,
 * MPI_COMPLEX8); Open MPI 4.1.4 returns the default kinds (MPI_INTEGER,
 * MPI_REAL, MPI_COMPLEX) for those three sizes, the sized types for the
 * others.  A default kind is printed under its sized name (gfortran's
 * default INTEGER and REAL have 4 bytes) so that both native runs print
 * the same; dmtcp_mpi returns MPICH's under both (doc/conformance.md).
 * A refusal is printed without its error class, which differs.
 */
/* ranks: 1 */
#include "mt.h"

#define T(h, shown) { h, #h, shown }

/* Every predefined type a match could be, and the name printed for it. */
static const struct {
	MPI_Datatype t;
	const char *name, *shown;
} known[] = {
	T(MPI_INTEGER1, NULL), T(MPI_INTEGER2, NULL), T(MPI_INTEGER4, NULL),
	T(MPI_INTEGER8, NULL),
	T(MPI_REAL4, NULL), T(MPI_REAL8, NULL), T(MPI_REAL16, NULL),
	T(MPI_COMPLEX8, NULL), T(MPI_COMPLEX16, NULL), T(MPI_COMPLEX32, NULL),
	T(MPI_INTEGER, "MPI_INTEGER4"), T(MPI_REAL, "MPI_REAL4"), T(MPI_COMPLEX, "MPI_COMPLEX8"),
	T(MPI_DOUBLE_PRECISION, "MPI_REAL8"), T(MPI_DOUBLE_COMPLEX, "MPI_COMPLEX16"),
	T(MPI_INT8_T, NULL), T(MPI_INT16_T, NULL), T(MPI_INT32_T, NULL), T(MPI_INT64_T, NULL),
	T(MPI_INT, NULL), T(MPI_LONG, NULL), T(MPI_LONG_LONG, NULL),
	T(MPI_FLOAT, NULL), T(MPI_DOUBLE, NULL), T(MPI_LONG_DOUBLE, NULL),
	T(MPI_C_FLOAT_COMPLEX, NULL), T(MPI_C_DOUBLE_COMPLEX, NULL),
	T(MPI_C_LONG_DOUBLE_COMPLEX, NULL),
};

static const char *shown_name(MPI_Datatype t)
{
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (known[i].t == t)
			return known[i].shown ? known[i].shown : known[i].name;
	return "a type of no known name";
}

/* One line per class (each line is a pause under MT_PAUSE_US): every
 * size's type, or "refused". */
static void match_class(int cls, const char *cname)
{
	char line[512];
	int len = snprintf(line, sizeof line, "%s:", cname);

	for (int size = 1; size <= 32; size *= 2) {
		MPI_Datatype t = MPI_DATATYPE_NULL;
		int got = -1;
		const char *what = "refused";
		if (MPI_Type_match_size(cls, size, &t) == MPI_SUCCESS) {
			MPI_Type_size(t, &got);
			MT_EQ(got, size, "size of the matched type");
			what = shown_name(t);
		}
		len += snprintf(line + len, sizeof line - (size_t)len, " %d %s", size, what);
	}
	mt_say("%s", line);
}

int main(int argc, char **argv)
{
	MPI_Init(&argc, &argv);
	mt_begin("type_match");
	/* A refusal is not associated with a communicator: MPI-4 raises it on
	 * MPI_COMM_SELF, MPI-3 MPIs on MPI_COMM_WORLD. */
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
	MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
	match_class(MPI_TYPECLASS_INTEGER, "INTEGER");
	match_class(MPI_TYPECLASS_REAL, "REAL");
	match_class(MPI_TYPECLASS_COMPLEX, "COMPLEX");
	return mt_finish();
}
