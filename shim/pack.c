/*
 * pack.c - typemaps flattened, and everything that walks them: staging
 * copies, MPI_Pack/Unpack, the external32 representation, and element
 * counts of statuses.  Counts and positions are 64 bits inside, so the
 * large-count calls (MPI_Pack_c, ...) are the same functions.
 *
 * shim_type_map() turns the constructor tree of a datatype (shim/typeops.c)
 * into two flat lists for one element, both in typemap order:
 *   blocks[]  contiguous byte ranges (offset from the buffer, length),
 *             merged where one ends where the next begins;
 *   sig[]     the type signature as runs of one predefined type.
 * A parent is flattened from its components' lists, so each list is made
 * once and cached in the record (commit makes it; staging and packing only
 * read it).  Count elements of a type are the element list repeated at
 * multiples of the extent; a type whose one block spans its whole extent
 * ("contig") makes count elements a single run.
 *
 * Packed data is the typemap's bytes in order, native byte order, which
 * is also how both real MPIs pack on a homogeneous system, so data packed
 * here can be sent as MPI_PACKED and received with a real datatype (and
 * back).  external32 is big-endian with the sizes the standard's table
 * fixes (MPI_LONG is 4 bytes there, long double is IEEE quad).
 */
#include "shim.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "util/grow.h"

/* ------------------------------------------------------------ flattening */

struct flat {
	struct shim_block *b;
	int64_t nb;
	size_t capb;
	struct shim_sig *s;
	int64_t ns;
	size_t caps;
};

static int flat_block(struct flat *f, int64_t off, int64_t len)
{
	if (len <= 0)
		return MPI_SUCCESS;
	if (f->nb && f->b[f->nb - 1].off + f->b[f->nb - 1].len == off) {
		f->b[f->nb - 1].len += len;
		return MPI_SUCCESS;
	}
	if (dm_grow((void **)&f->b, &f->capb, (size_t)f->nb + 1, sizeof(*f->b)) < 0)
		return MPI_ERR_NO_MEM;
	f->b[f->nb++] = (struct shim_block){ off, len };
	return MPI_SUCCESS;
}

static int flat_sig(struct flat *f, MPI_Datatype basic, int64_t n)
{
	if (n <= 0)
		return MPI_SUCCESS;
	if (f->ns && f->s[f->ns - 1].basic == basic) {
		f->s[f->ns - 1].n += n;
		return MPI_SUCCESS;
	}
	if (dm_grow((void **)&f->s, &f->caps, (size_t)f->ns + 1, sizeof(*f->s)) < 0)
		return MPI_ERR_NO_MEM;
	f->s[f->ns++] = (struct shim_sig){ basic, n };
	return MPI_SUCCESS;
}

/* bl consecutive elements of k at byte disp. */
static int flat_add(void *arg, int64_t disp, int64_t bl, struct shim_type *k)
{
	struct flat *f = arg;
	int err;

	if (bl <= 0 || (err = shim_type_map(k)))
		return bl <= 0 ? MPI_SUCCESS : err;
	/* Elements of an empty type add nothing, however many (a large-count
	 * call may ask for 2^31 of them). */
	if (k->nblocks == 0 && k->nsig == 0)
		return MPI_SUCCESS;
	if (k->contig) {
		err = flat_block(f, disp + k->blocks[0].off, bl * k->size);
	} else {
		err = MPI_SUCCESS;
		for (int64_t i = 0; i < bl && !err; i++)
			for (int64_t j = 0; j < k->nblocks && !err; j++)
				err = flat_block(f, disp + i * k->extent + k->blocks[j].off,
						 k->blocks[j].len);
	}
	if (k->nsig == 1)
		return err ? err : flat_sig(f, k->sig[0].basic, bl * k->sig[0].n);
	for (int64_t i = 0; i < bl && !err; i++)
		for (int64_t j = 0; j < k->nsig && !err; j++)
			err = flat_sig(f, k->sig[j].basic, k->sig[j].n);
	return err;
}

int shim_type_map(struct shim_type *t)
{
	struct flat f;

	if (t->blocks)
		return MPI_SUCCESS;
	memset(&f, 0, sizeof(f));
	int err = shim_type_components(t, flat_add, &f);
	/* An empty type still gets (empty) lists, so it is mapped once. */
	if (!err && ((!f.b && dm_grow((void **)&f.b, &f.capb, 1, sizeof(*f.b)) < 0) ||
		     (!f.s && dm_grow((void **)&f.s, &f.caps, 1, sizeof(*f.s)) < 0)))
		err = MPI_ERR_NO_MEM;
	if (err) {
		free(f.b);
		free(f.s);
		return err;
	}
	t->blocks = f.b;
	t->nblocks = f.nb;
	t->sig = f.s;
	t->nsig = f.ns;
	t->contig = f.nb == 1 && f.b[0].len == t->size && t->extent == t->size;
	return MPI_SUCCESS;
}

/* --------------------------------------------------------------- walking */

enum move { GATHER, SCATTER, COPY_IN, COPY_OUT };

/* Constant sizes compile to a load and a store: a column of doubles is
 * all 8-byte blocks, and a memcpy call per block costs more than its
 * data. */
static void copy_block(unsigned char *to, const unsigned char *from, size_t len)
{
	switch (len) {
	case 4:
		memcpy(to, from, 4);
		break;
	case 8:
		memcpy(to, from, 8);
		break;
	case 16:
		memcpy(to, from, 16);
		break;
	default:
		memcpy(to, from, len);
	}
}

/* Pack or unpack all count elements of t at user (as move's) to or from
 * packed; returns the bytes moved.  The loops of move() without its
 * clipping to a limit and with the direction chosen once, for the
 * staging of every Isend and Irecv of a derived type: a 64-double
 * column went from 130-200 to 65-90 ns each way here. */
static int64_t gather_all(const struct shim_type *t, int64_t count, uintptr_t user,
			  unsigned char *packed)
{
	const unsigned char *start = packed;

	for (int64_t i = 0; i < count; i++, user += (uintptr_t)t->extent)
		for (const struct shim_block *b = t->blocks, *e = b + t->nblocks; b < e; b++) {
			copy_block(packed, (const unsigned char *)(user + (uintptr_t)b->off),
				   (size_t)b->len);
			packed += b->len;
		}
	return packed - start;
}

static int64_t scatter_all(const struct shim_type *t, int64_t count, uintptr_t user,
			   const unsigned char *packed)
{
	const unsigned char *start = packed;

	for (int64_t i = 0; i < count; i++, user += (uintptr_t)t->extent)
		for (const struct shim_block *b = t->blocks, *e = b + t->nblocks; b < e; b++) {
			copy_block((unsigned char *)(user + (uintptr_t)b->off), packed,
				   (size_t)b->len);
			packed += b->len;
		}
	return packed - start;
}

/* Move the typemap bytes of count elements of t at user (byte 0 of the
 * buffer, an address: MPI_BOTTOM is 0) to or from other, at most limit
 * bytes in typemap order.  GATHER packs into other, SCATTER unpacks from
 * it, COPY_IN and COPY_OUT copy to or from an image with the same layout
 * (other is the image's byte 0).  Returns the bytes moved. */
static int64_t move(const struct shim_type *t, int64_t count, uintptr_t user,
		    uintptr_t other, int64_t limit, enum move how)
{
	int64_t done = 0;
	/* count elements of a contig type are one block */
	int64_t nelem = t->contig ? 1 : count;
	int64_t whole = t->contig ? count * t->size : 0;

	if (!t->contig && t->size > 0 && count <= limit / t->size) {
		if (how == GATHER)
			return gather_all(t, count, user, (unsigned char *)other);
		if (how == SCATTER)
			return scatter_all(t, count, user, (const unsigned char *)other);
	}
	for (int64_t i = 0; i < nelem; i++) {
		for (int64_t j = 0; j < t->nblocks; j++) {
			int64_t off = i * t->extent + t->blocks[j].off;
			int64_t len = t->contig ? whole : t->blocks[j].len;
			if (len > limit - done)
				len = limit - done;
			if (len <= 0)
				return done;
			unsigned char *u = (unsigned char *)(user + (uintptr_t)off);
			unsigned char *o = (unsigned char *)(other +
				(uintptr_t)(how >= COPY_IN ? off : done));
			if (how == GATHER || how == COPY_IN)
				copy_block(o, u, (size_t)len);
			else
				copy_block(u, o, (size_t)len);
			done += len;
		}
	}
	return done;
}

void shim_type_copy_in(const struct shim_type *t, int64_t count, const void *buf,
		       void *img)
{
	move(t, count, (uintptr_t)buf, (uintptr_t)img, INT64_MAX, COPY_IN);
}

void shim_type_copy_out(const struct shim_type *t, int64_t count, void *buf,
			const void *img, int64_t limit)
{
	move(t, count, (uintptr_t)buf, (uintptr_t)img, limit, COPY_OUT);
}

void shim_type_pack_raw(const struct shim_type *t, int64_t count, const void *buf,
			void *packed)
{
	move(t, count, (uintptr_t)buf, (uintptr_t)packed, INT64_MAX, GATHER);
}

int64_t shim_type_unpack_raw(const struct shim_type *t, int64_t count, const void *packed,
			     void *buf, int64_t limit)
{
	return move(t, count, (uintptr_t)buf, (uintptr_t)packed, limit, SCATTER);
}

/* ---------------------------------------------------------------- counts */

static int64_t basic_size(MPI_Datatype b)
{
	return shim_type_get(b)->size;
}

int64_t shim_type_elements(struct shim_type *t, int64_t bytes)
{
	if (shim_type_map(t))
		return MPI_UNDEFINED;
	if (t->size == 0)
		return bytes == 0 ? 0 : MPI_UNDEFINED;
	int64_t n = bytes / t->size * t->nelems, rem = bytes % t->size;
	for (int64_t j = 0; j < t->nsig && rem > 0; j++) {
		int64_t bs = basic_size(t->sig[j].basic), run = t->sig[j].n * bs;
		if (rem >= run) {
			n += t->sig[j].n;
			rem -= run;
			continue;
		}
		if (rem % bs)
			return MPI_UNDEFINED;
		n += rem / bs;
		rem = 0;
	}
	return n;
}

int64_t shim_type_bytes_of(struct shim_type *t, int64_t elements)
{
	if (shim_type_map(t) || t->nelems == 0)
		return 0;
	int64_t bytes = elements / t->nelems * t->size, rem = elements % t->nelems;
	for (int64_t j = 0; j < t->nsig && rem > 0; j++) {
		int64_t n = rem < t->sig[j].n ? rem : t->sig[j].n;
		bytes += n * basic_size(t->sig[j].basic);
		rem -= n;
	}
	return bytes;
}

/* ------------------------------------------------------- MPI_Pack family */

/* The datatype of a pack call: valid and committed. */
static struct shim_type *pack_type(MPI_Datatype type, MPI_Comm comm, const char *fn,
				   int *err)
{
	struct shim_type *t;

	if ((*err = shim_type_check(type, &t)))
		*err = shim_errorf(comm, MPI_ERR_TYPE, fn, "datatype %#lx is %s",
				   (unsigned long)(uintptr_t)type, shim_type_why(type));
	return *err ? NULL : t;
}

int64_t shim_type_packed_bytes(const struct shim_type *t, int64_t count)
{
	int64_t n;

	return __builtin_mul_overflow(count, t->size, &n) ? -1 : n;
}

/* MPI_Pack and MPI_Pack_c: counts and positions are 64 bits here. */
static int pack(const char *fn, const void *inbuf, int64_t incount, MPI_Datatype datatype,
		void *outbuf, int64_t outsize, int64_t *position, MPI_Comm comm)
{
	struct shim_type *t;
	int err;

	if (!shim_comm_check(comm, fn, &err))
		return err;
	if (incount < 0)
		return shim_errorf(comm, MPI_ERR_COUNT, fn, "incount %lld", (long long)incount);
	if (!(t = pack_type(datatype, comm, fn, &err)))
		return err;
	int64_t n = shim_type_packed_bytes(t, incount);
	if (*position < 0 || n < 0 || *position + n > outsize)
		return shim_errorf(comm, MPI_ERR_TRUNCATE, fn,
				   "%lld bytes do not fit at position %lld of %lld",
				   (long long)n, (long long)*position, (long long)outsize);
	shim_type_pack_raw(t, incount, inbuf, (unsigned char *)outbuf + *position);
	*position += n;
	return MPI_SUCCESS;
}

int PMPI_Pack(const void *inbuf, int incount, MPI_Datatype datatype, void *outbuf,
	      int outsize, int *position, MPI_Comm comm)
{
	int64_t pos = position ? *position : -1;
	int err = pack("MPI_Pack", inbuf, incount, datatype, outbuf, outsize, &pos, comm);

	if (!err)
		*position = (int)pos;
	return err;
}
SHIM_WEAK(Pack)

int PMPI_Pack_c(const void *inbuf, MPI_Count incount, MPI_Datatype datatype, void *outbuf,
		MPI_Count outsize, MPI_Count *position, MPI_Comm comm)
{
	int64_t pos = position ? *position : -1;
	int err = pack("MPI_Pack_c", inbuf, incount, datatype, outbuf, outsize, &pos, comm);

	if (!err)
		*position = pos;
	return err;
}
SHIM_WEAK(Pack_c)

static int unpack(const char *fn, const void *inbuf, int64_t insize, int64_t *position,
		  void *outbuf, int64_t outcount, MPI_Datatype datatype, MPI_Comm comm)
{
	struct shim_type *t;
	int err;

	if (!shim_comm_check(comm, fn, &err))
		return err;
	if (outcount < 0)
		return shim_errorf(comm, MPI_ERR_COUNT, fn, "outcount %lld",
				   (long long)outcount);
	if (!(t = pack_type(datatype, comm, fn, &err)))
		return err;
	int64_t n = shim_type_packed_bytes(t, outcount);
	if (*position < 0 || n < 0 || *position + n > insize)
		return shim_errorf(comm, MPI_ERR_TRUNCATE, fn,
				   "%lld bytes are not there at position %lld of %lld",
				   (long long)n, (long long)*position, (long long)insize);
	shim_type_unpack_raw(t, outcount, (const unsigned char *)inbuf + *position, outbuf,
			     n);
	*position += n;
	return MPI_SUCCESS;
}

int PMPI_Unpack(const void *inbuf, int insize, int *position, void *outbuf, int outcount,
		MPI_Datatype datatype, MPI_Comm comm)
{
	int64_t pos = position ? *position : -1;
	int err = unpack("MPI_Unpack", inbuf, insize, &pos, outbuf, outcount, datatype, comm);

	if (!err)
		*position = (int)pos;
	return err;
}
SHIM_WEAK(Unpack)

int PMPI_Unpack_c(const void *inbuf, MPI_Count insize, MPI_Count *position, void *outbuf,
		  MPI_Count outcount, MPI_Datatype datatype, MPI_Comm comm)
{
	int64_t pos = position ? *position : -1;
	int err = unpack("MPI_Unpack_c", inbuf, insize, &pos, outbuf, outcount, datatype,
			 comm);

	if (!err)
		*position = pos;
	return err;
}
SHIM_WEAK(Unpack_c)

static int pack_size(const char *fn, int64_t incount, MPI_Datatype datatype, MPI_Comm comm,
		     int64_t *size)
{
	struct shim_type *t;
	int err;

	if (!shim_comm_check(comm, fn, &err))
		return err;
	if (incount < 0)
		return shim_errorf(comm, MPI_ERR_COUNT, fn, "incount %lld", (long long)incount);
	if (!(t = pack_type(datatype, comm, fn, &err)))
		return err;
	if ((*size = shim_type_packed_bytes(t, incount)) < 0)
		return shim_errorf(comm, MPI_ERR_VALUE_TOO_LARGE, fn,
				   "%lld elements take more than 2^63 bytes", (long long)incount);
	return MPI_SUCCESS;
}

int PMPI_Pack_size(int incount, MPI_Datatype datatype, MPI_Comm comm, int *size)
{
	static const char fn[] = "MPI_Pack_size";
	int64_t n;
	int err = pack_size(fn, incount, datatype, comm, &n);

	if (err)
		return err;
	if (n > INT_MAX)
		return shim_errorf(comm, MPI_ERR_VALUE_TOO_LARGE, fn,
				   "%d elements take more than INT_MAX bytes", incount);
	*size = (int)n;
	return MPI_SUCCESS;
}
SHIM_WEAK(Pack_size)

int PMPI_Pack_size_c(MPI_Count incount, MPI_Datatype datatype, MPI_Comm comm,
		     MPI_Count *size)
{
	return pack_size("MPI_Pack_size_c", incount, datatype, comm, size);
}
SHIM_WEAK(Pack_size_c)

/* ------------------------------------------------------------ external32 */

/* How one predefined type looks in external32: units of `unit` bytes
 * (complex types have two), converted as `conv`. */
enum conv { X_NONE, X_SWAP, X_SINT, X_UINT, X_QUAD };
struct x32 {
	uint8_t unit;
	uint8_t units;
	uint8_t conv;
};
static struct x32 x32_table[256];

#define X32(h, u, n, c) x32_table[(uintptr_t)(h) & 0xff] = (struct x32){ (u), (n), (c) }

static void x32_init(void)
{
	static const MPI_Datatype one[] = {
		MPI_CHAR, MPI_SIGNED_CHAR, MPI_UNSIGNED_CHAR, MPI_BYTE, MPI_C_BOOL,
		MPI_CXX_BOOL, MPI_INT8_T, MPI_UINT8_T, MPI_CHARACTER, MPI_LOGICAL1,
		MPI_INTEGER1, MPI_PACKED,
	};
	static const MPI_Datatype swap[] = {
		MPI_SHORT, MPI_UNSIGNED_SHORT, MPI_INT16_T, MPI_UINT16_T, MPI_INTEGER2,
		MPI_LOGICAL2, MPI_REAL2, MPI_INT, MPI_UNSIGNED, MPI_FLOAT, MPI_INT32_T,
		MPI_UINT32_T, MPI_INTEGER, MPI_LOGICAL, MPI_REAL, MPI_INTEGER4, MPI_REAL4,
		MPI_LOGICAL4, MPI_LONG_LONG, MPI_UNSIGNED_LONG_LONG, MPI_DOUBLE,
		MPI_INT64_T, MPI_UINT64_T, MPI_AINT, MPI_COUNT, MPI_OFFSET,
		MPI_DOUBLE_PRECISION, MPI_INTEGER8, MPI_REAL8, MPI_LOGICAL8,
		MPI_INTEGER16, MPI_REAL16, MPI_LOGICAL16,
	};
	static const MPI_Datatype cplx[] = {
		MPI_C_FLOAT_COMPLEX, MPI_CXX_FLOAT_COMPLEX, MPI_COMPLEX, MPI_COMPLEX4,
		MPI_COMPLEX8, MPI_C_DOUBLE_COMPLEX, MPI_CXX_DOUBLE_COMPLEX,
		MPI_DOUBLE_COMPLEX, MPI_COMPLEX16, MPI_COMPLEX32,
	};

	for (size_t i = 0; i < sizeof(one) / sizeof(one[0]); i++)
		X32(one[i], 1, 1, X_NONE);
	for (size_t i = 0; i < sizeof(swap) / sizeof(swap[0]); i++)
		X32(swap[i], basic_size(swap[i]), 1, X_SWAP);
	for (size_t i = 0; i < sizeof(cplx) / sizeof(cplx[0]); i++)
		X32(cplx[i], basic_size(cplx[i]) / 2, 2, X_SWAP);
	X32(MPI_LONG, 4, 1, X_SINT);
	X32(MPI_UNSIGNED_LONG, 4, 1, X_UINT);
	X32(MPI_WCHAR, 2, 1, X_UINT);
	X32(MPI_LONG_DOUBLE, 16, 1, X_QUAD);
	X32(MPI_C_LONG_DOUBLE_COMPLEX, 16, 2, X_QUAD);
	X32(MPI_CXX_LONG_DOUBLE_COMPLEX, 16, 2, X_QUAD);
}

static const struct x32 *x32_of(MPI_Datatype b)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, x32_init);
	return &x32_table[(uintptr_t)b & 0xff];
}

static void reverse(unsigned char *dst, const unsigned char *src, int n)
{
	for (int i = 0; i < n; i++)
		dst[i] = src[n - 1 - i];
}

/* x87 80-bit extended (in 16 bytes, little-endian) <-> big-endian IEEE
 * binary128: same sign and biased exponent; the quad fraction is the x87
 * mantissa without its explicit integer bit. */
static void ld_to_quad(unsigned char *q, const unsigned char *x)
{
	uint64_t m;
	uint16_t se;
	unsigned char le[16] = { 0 };

	memcpy(&m, x, 8);
	memcpy(&se, x + 8, 2);
	uint64_t frac = m & ~(1ull << 63);
	uint64_t hi = (uint64_t)se << 48 | frac >> 15, lo = frac << 49;
	memcpy(le, &lo, 8);
	memcpy(le + 8, &hi, 8);
	reverse(q, le, 16);
}

static void quad_to_ld(unsigned char *x, const unsigned char *q)
{
	unsigned char le[16];
	uint64_t hi, lo;

	reverse(le, q, 16);
	memcpy(&lo, le, 8);
	memcpy(&hi, le + 8, 8);
	uint16_t se = (uint16_t)(hi >> 48);
	uint64_t m = (hi & 0xffffffffffffull) << 15 | lo >> 49;
	if (se & 0x7fff)
		m |= 1ull << 63;
	memset(x, 0, 16);
	memcpy(x, &m, 8);
	memcpy(x + 8, &se, 2);
}

/* One unit, native (n bytes) to external (e bytes) or back. */
static void unit_convert(unsigned char *dst, const unsigned char *src, int n, int e,
			 enum conv cv, int to_ext)
{
	unsigned char tmp[16];

	switch (cv) {
	case X_NONE:
		memcpy(dst, src, (size_t)n);
		break;
	case X_SWAP:
		reverse(dst, src, n);
		break;
	case X_QUAD:
		if (to_ext)
			ld_to_quad(dst, src);
		else
			quad_to_ld(dst, src);
		break;
	case X_SINT:
	case X_UINT:
		if (to_ext) {
			reverse(dst, src, e); /* the low e bytes */
			break;
		}
		reverse(tmp, src, e);
		memset(tmp + e, cv == X_SINT && (tmp[e - 1] & 0x80) ? 0xff : 0, (size_t)(n - e));
		memcpy(dst, tmp, (size_t)n);
		break;
	}
}

static int64_t external_size(const struct shim_type *t)
{
	int64_t n = 0;

	for (int64_t j = 0; j < t->nsig; j++) {
		const struct x32 *x = x32_of(t->sig[j].basic);
		n += t->sig[j].n * x->unit * x->units;
	}
	return n;
}

/* Convert count elements' packed native data to external32 or back. */
static void external_convert(const struct shim_type *t, int64_t count, unsigned char *ext,
			     unsigned char *nat, int to_ext)
{
	for (int64_t i = 0; i < count; i++) {
		for (int64_t j = 0; j < t->nsig; j++) {
			const struct x32 *x = x32_of(t->sig[j].basic);
			int n = (int)(basic_size(t->sig[j].basic) / x->units);
			for (int64_t k = 0; k < t->sig[j].n * x->units; k++) {
				if (to_ext)
					unit_convert(ext, nat, n, x->unit, x->conv, 1);
				else
					unit_convert(nat, ext, n, x->unit, x->conv, 0);
				ext += x->unit;
				nat += n;
			}
		}
	}
}

static int check_datarep(const char *datarep, const char *fn)
{
	if (datarep && strcmp(datarep, "external32") == 0)
		return MPI_SUCCESS;
	return shim_errorf(SHIM_NOCOMM, MPI_ERR_ARG, fn,
			   "data representation \"%s\": only \"external32\" exists",
			   datarep ? datarep : "(null)");
}

/* Checks shared by the external32 calls; *bytes gets the external size
 * of count elements. */
static struct shim_type *external_args(const char *datarep, int64_t count,
				       MPI_Datatype datatype, int64_t *bytes,
				       const char *fn, int *err)
{
	struct shim_type *t;

	if ((*err = check_datarep(datarep, fn)))
		return NULL;
	if (count < 0) {
		*err = shim_errorf(SHIM_NOCOMM, MPI_ERR_COUNT, fn, "count %lld",
				   (long long)count);
		return NULL;
	}
	if (!(t = pack_type(datatype, SHIM_NOCOMM, fn, err)))
		return NULL;
	if (__builtin_mul_overflow(count, external_size(t), bytes)) {
		*err = shim_errorf(SHIM_NOCOMM, MPI_ERR_VALUE_TOO_LARGE, fn,
				   "%lld elements", (long long)count);
		return NULL;
	}
	return t;
}

int PMPI_Pack_external_size(const char *datarep, int incount, MPI_Datatype datatype,
			    MPI_Aint *size)
{
	int64_t n;
	int err;

	if (!external_args(datarep, incount, datatype, &n, "MPI_Pack_external_size", &err))
		return err;
	*size = (MPI_Aint)n;
	return MPI_SUCCESS;
}
SHIM_WEAK(Pack_external_size)

int PMPI_Pack_external_size_c(const char *datarep, MPI_Count incount, MPI_Datatype datatype,
			      MPI_Count *size)
{
	int64_t n;
	int err;

	if (!external_args(datarep, incount, datatype, &n, "MPI_Pack_external_size_c", &err))
		return err;
	*size = n;
	return MPI_SUCCESS;
}
SHIM_WEAK(Pack_external_size_c)

static int pack_external(const char *fn, const char *datarep, const void *inbuf,
			 int64_t incount, MPI_Datatype datatype, void *outbuf,
			 int64_t outsize, int64_t *position)
{
	int64_t n;
	int err;
	struct shim_type *t = external_args(datarep, incount, datatype, &n, fn, &err);

	if (!t)
		return err;
	if (*position < 0 || *position + n > outsize)
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_TRUNCATE, fn,
				   "%lld bytes do not fit at position %lld of %lld",
				   (long long)n, (long long)*position, (long long)outsize);
	unsigned char *nat = malloc((size_t)(incount * t->size) + 1);
	if (!nat)
		return shim_error(SHIM_NOCOMM, MPI_ERR_NO_MEM, fn, NULL);
	shim_type_pack_raw(t, incount, inbuf, nat);
	external_convert(t, incount, (unsigned char *)outbuf + *position, nat, 1);
	free(nat);
	*position += n;
	return MPI_SUCCESS;
}

int PMPI_Pack_external(const char *datarep, const void *inbuf, int incount,
		       MPI_Datatype datatype, void *outbuf, MPI_Aint outsize,
		       MPI_Aint *position)
{
	int64_t pos = position ? *position : -1;
	int err = pack_external("MPI_Pack_external", datarep, inbuf, incount, datatype, outbuf,
				outsize, &pos);

	if (!err)
		*position = (MPI_Aint)pos;
	return err;
}
SHIM_WEAK(Pack_external)

int PMPI_Pack_external_c(const char *datarep, const void *inbuf, MPI_Count incount,
			 MPI_Datatype datatype, void *outbuf, MPI_Count outsize,
			 MPI_Count *position)
{
	int64_t pos = position ? *position : -1;
	int err = pack_external("MPI_Pack_external_c", datarep, inbuf, incount, datatype,
				outbuf, outsize, &pos);

	if (!err)
		*position = pos;
	return err;
}
SHIM_WEAK(Pack_external_c)

static int unpack_external(const char *fn, const char *datarep, const void *inbuf,
			   int64_t insize, int64_t *position, void *outbuf, int64_t outcount,
			   MPI_Datatype datatype)
{
	int64_t n;
	int err;
	struct shim_type *t = external_args(datarep, outcount, datatype, &n, fn, &err);

	if (!t)
		return err;
	if (*position < 0 || *position + n > insize)
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_TRUNCATE, fn,
				   "%lld bytes are not there at position %lld of %lld",
				   (long long)n, (long long)*position, (long long)insize);
	unsigned char *nat = malloc((size_t)(outcount * t->size) + 1);
	if (!nat)
		return shim_error(SHIM_NOCOMM, MPI_ERR_NO_MEM, fn, NULL);
	external_convert(t, outcount, (unsigned char *)(uintptr_t)inbuf + *position, nat, 0);
	shim_type_unpack_raw(t, outcount, nat, outbuf, INT64_MAX);
	free(nat);
	*position += n;
	return MPI_SUCCESS;
}

int PMPI_Unpack_external(const char datarep[], const void *inbuf, MPI_Aint insize,
			 MPI_Aint *position, void *outbuf, int outcount,
			 MPI_Datatype datatype)
{
	int64_t pos = position ? *position : -1;
	int err = unpack_external("MPI_Unpack_external", datarep, inbuf, insize, &pos, outbuf,
				  outcount, datatype);

	if (!err)
		*position = (MPI_Aint)pos;
	return err;
}
SHIM_WEAK(Unpack_external)

int PMPI_Unpack_external_c(const char datarep[], const void *inbuf, MPI_Count insize,
			   MPI_Count *position, void *outbuf, MPI_Count outcount,
			   MPI_Datatype datatype)
{
	int64_t pos = position ? *position : -1;
	int err = unpack_external("MPI_Unpack_external_c", datarep, inbuf, insize, &pos,
				  outbuf, outcount, datatype);

	if (!err)
		*position = pos;
	return err;
}
SHIM_WEAK(Unpack_external_c)
