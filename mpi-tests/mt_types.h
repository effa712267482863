/*
 * mt_types.h - the predefined MPI datatypes the collective tests sweep
 * over, each with accessors that store and load an element as a long
 * double pair (real, imaginary).  long double holds every 64-bit integer
 * exactly, so one generic checker covers all types; comparing values,
 * never raw bytes, also keeps the padding of long double out of results.
 * The kind decides which predefined reduction ops the standard allows.
 */
#ifndef MT_TYPES_H
#define MT_TYPES_H

#include <complex.h>
#include <stdbool.h>
#include "mt.h"

enum mt_kind {
	MT_SIGNED,   /* C integer, signed: every op but the LOC ones */
	MT_UNSIGNED, /* C integer, unsigned */
	MT_FLOAT,    /* SUM PROD MIN MAX */
	MT_COMPLEX,  /* SUM PROD */
	MT_BOOL,     /* LAND LOR LXOR */
	MT_BYTE,     /* BAND BOR BXOR */
	MT_CHAR,     /* no reductions: MPI_CHAR is for characters */
};

struct mt_type {
	const char *name;
	MPI_Datatype dt;
	enum mt_kind kind;
	size_t size;
	void (*set)(void *buf, size_t i, long double re, long double im);
	void (*get)(const void *buf, size_t i, long double *re, long double *im);
};

#define MT_REAL(tag, ctype) \
	static void mt_set_##tag(void *b, size_t i, long double re, long double im) \
	{ (void)im; ((ctype *)b)[i] = (ctype)re; } \
	static void mt_get_##tag(const void *b, size_t i, long double *re, long double *im) \
	{ *re = ((const ctype *)b)[i]; *im = 0; }
#define MT_CPLX(tag, ctype, rtype) \
	static void mt_set_##tag(void *b, size_t i, long double re, long double im) \
	{ ctype z; __real__ z = (rtype)re; __imag__ z = (rtype)im; ((ctype *)b)[i] = z; } \
	static void mt_get_##tag(const void *b, size_t i, long double *re, long double *im) \
	{ ctype z = ((const ctype *)b)[i]; *re = __real__ z; *im = __imag__ z; }

MT_REAL(char, char)
MT_REAL(schar, signed char)
MT_REAL(uchar, unsigned char)
MT_REAL(short, short)
MT_REAL(ushort, unsigned short)
MT_REAL(int, int)
MT_REAL(uint, unsigned)
MT_REAL(long, long)
MT_REAL(ulong, unsigned long)
MT_REAL(llong, long long)
MT_REAL(ullong, unsigned long long)
MT_REAL(i8, int8_t)
MT_REAL(i16, int16_t)
MT_REAL(i32, int32_t)
MT_REAL(i64, int64_t)
MT_REAL(u8, uint8_t)
MT_REAL(u16, uint16_t)
MT_REAL(u32, uint32_t)
MT_REAL(u64, uint64_t)
MT_REAL(float, float)
MT_REAL(double, double)
MT_REAL(ldouble, long double)
MT_REAL(bool, bool)
MT_CPLX(fcplx, float _Complex, float)
MT_CPLX(dcplx, double _Complex, double)
MT_CPLX(ldcplx, long double _Complex, long double)

#define MT_T(mpi, kind, tag, ctype) \
	{ #mpi, mpi, kind, sizeof(ctype), mt_set_##tag, mt_get_##tag }

static const struct mt_type mt_types[] = {
	MT_T(MPI_CHAR, MT_CHAR, char, char),
	MT_T(MPI_SIGNED_CHAR, MT_SIGNED, schar, signed char),
	MT_T(MPI_UNSIGNED_CHAR, MT_UNSIGNED, uchar, unsigned char),
	MT_T(MPI_SHORT, MT_SIGNED, short, short),
	MT_T(MPI_UNSIGNED_SHORT, MT_UNSIGNED, ushort, unsigned short),
	MT_T(MPI_INT, MT_SIGNED, int, int),
	MT_T(MPI_UNSIGNED, MT_UNSIGNED, uint, unsigned),
	MT_T(MPI_LONG, MT_SIGNED, long, long),
	MT_T(MPI_UNSIGNED_LONG, MT_UNSIGNED, ulong, unsigned long),
	MT_T(MPI_LONG_LONG, MT_SIGNED, llong, long long),
	MT_T(MPI_UNSIGNED_LONG_LONG, MT_UNSIGNED, ullong, unsigned long long),
	MT_T(MPI_INT8_T, MT_SIGNED, i8, int8_t),
	MT_T(MPI_INT16_T, MT_SIGNED, i16, int16_t),
	MT_T(MPI_INT32_T, MT_SIGNED, i32, int32_t),
	MT_T(MPI_INT64_T, MT_SIGNED, i64, int64_t),
	MT_T(MPI_UINT8_T, MT_UNSIGNED, u8, uint8_t),
	MT_T(MPI_UINT16_T, MT_UNSIGNED, u16, uint16_t),
	MT_T(MPI_UINT32_T, MT_UNSIGNED, u32, uint32_t),
	MT_T(MPI_UINT64_T, MT_UNSIGNED, u64, uint64_t),
	MT_T(MPI_FLOAT, MT_FLOAT, float, float),
	MT_T(MPI_DOUBLE, MT_FLOAT, double, double),
	MT_T(MPI_LONG_DOUBLE, MT_FLOAT, ldouble, long double),
	MT_T(MPI_C_BOOL, MT_BOOL, bool, bool),
	MT_T(MPI_C_FLOAT_COMPLEX, MT_COMPLEX, fcplx, float _Complex),
	MT_T(MPI_C_DOUBLE_COMPLEX, MT_COMPLEX, dcplx, double _Complex),
	MT_T(MPI_C_LONG_DOUBLE_COMPLEX, MT_COMPLEX, ldcplx, long double _Complex),
	MT_T(MPI_BYTE, MT_BYTE, uchar, unsigned char),
};
#define MT_NTYPES ((int)(sizeof mt_types / sizeof mt_types[0]))

#endif
