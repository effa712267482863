/*
 * toint.c - handle serialisation (MPI_<X>_toint / MPI_<X>_fromint).
 *
 * Our handles are small integers already (predefined ABI values, or
 * kind << 24 | index below 2^31), so the conversion is a cast both ways
 * and toint of a predefined handle is exactly the ABI constant.  The
 * Fortran conversions (MPI_X_c2f / MPI_X_f2c, MPI_Fint a C int) are the
 * same casts: a Fortran handle is the integer a C handle is.
 */
#include "shim.h"

#define TOINT(Name, Type)                              \
	int PMPI_##Name##_toint(Type h)                \
	{                                              \
		return (int)(intptr_t)h;               \
	}                                              \
	SHIM_WEAK(Name##_toint)                        \
	Type PMPI_##Name##_fromint(int i)              \
	{                                              \
		return (Type)(intptr_t)i;              \
	}                                              \
	SHIM_WEAK(Name##_fromint)                      \
	MPI_Fint PMPI_##Name##_c2f(Type h)             \
	{                                              \
		return (MPI_Fint)(intptr_t)h;          \
	}                                              \
	SHIM_WEAK(Name##_c2f)                          \
	Type PMPI_##Name##_f2c(MPI_Fint i)             \
	{                                              \
		return (Type)(intptr_t)i;              \
	}                                              \
	SHIM_WEAK(Name##_f2c)

TOINT(Comm, MPI_Comm)
TOINT(Errhandler, MPI_Errhandler)
TOINT(File, MPI_File)
TOINT(Group, MPI_Group)
TOINT(Info, MPI_Info)
TOINT(Message, MPI_Message)
TOINT(Op, MPI_Op)
TOINT(Request, MPI_Request)
TOINT(Session, MPI_Session)
TOINT(Type, MPI_Datatype)
TOINT(Win, MPI_Win)
