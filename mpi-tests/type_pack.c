/*
 * type_pack.c - MPI_Pack and MPI_Unpack: several items of different
 * datatypes (an int count, a vector of doubles, structs with holes) packed
 * into one buffer, sent as MPI_PACKED, unpacked in the same order with
 * positions advancing; packed data received with the matching datatype
 * and typed data received as MPI_PACKED and unpacked; Pack_size; partial
 * unpacking from the middle; and the external32 representation: the
 * big-endian bytes of ints, shorts and doubles, their sizes, and the
 * round trip (derived types in external32 crash MPICH 4.0.2 natively;
 * tests/unit/test_type.c covers them).  Only what the standard fixes is printed (external32
 * bytes are fixed by it; native packed bytes are not).
 */
/* ranks: 2 */
#include <stddef.h>
#include "mt.h"

static int me;

struct pt {
	char kind;
	double xyz[3];
	int id;
};

static MPI_Datatype pt_type(void)
{
	int bl[3] = { 1, 3, 1 };
	MPI_Aint d[3] = { offsetof(struct pt, kind), offsetof(struct pt, xyz),
			  offsetof(struct pt, id) };
	MPI_Datatype t[3] = { MPI_CHAR, MPI_DOUBLE, MPI_INT }, r;

	MPI_Type_create_struct(3, bl, d, t, &r);
	MPI_Type_commit(&r);
	return r;
}

static void pt_set(struct pt *p, int k)
{
	memset(p, 0x5c, sizeof(*p));
	p->kind = (char)('p' + k);
	for (int j = 0; j < 3; j++)
		p->xyz[j] = k * 3 + j + 0.75;
	p->id = 40 + k;
}

static void test_pack_messages(void)
{
	char buf[1024];
	struct pt pts[4];
	double m[5][3];
	MPI_Datatype pt = pt_type(), col;
	int pos = 0, n, size;

	MPI_Type_vector(5, 1, 3, MPI_DOUBLE, &col);
	MPI_Type_commit(&col);
	MPI_Pack_size(1, col, MPI_COMM_WORLD, &size);
	MT_EQ(size, 5 * 8, "Pack_size of a column");
	MPI_Pack_size(4, pt, MPI_COMM_WORLD, &size);
	MT_EQ(size, 4 * (1 + 24 + 4), "Pack_size of 4 structs");
	if (me == 0) {
		n = 4;
		for (int k = 0; k < 4; k++)
			pt_set(&pts[k], k);
		for (int i = 0; i < 5; i++)
			for (int j = 0; j < 3; j++)
				m[i][j] = i * 10 + j;
		MPI_Pack(&n, 1, MPI_INT, buf, sizeof(buf), &pos, MPI_COMM_WORLD);
		MPI_Pack(&m[0][1], 1, col, buf, sizeof(buf), &pos, MPI_COMM_WORLD);
		MPI_Pack(pts, n, pt, buf, sizeof(buf), &pos, MPI_COMM_WORLD);
		MT_EQ(pos, 4 + 40 + 4 * 29, "packed bytes");
		MPI_Send(buf, pos, MPI_PACKED, 1, 1, MPI_COMM_WORLD);
		/* The same items received as typed data on the other side. */
		MPI_Send(buf + 4 + 40, 4 * 29, MPI_PACKED, 1, 2, MPI_COMM_WORLD);
		/* Typed data sent, received as packed bytes. */
		MPI_Send(pts, 4, pt, 1, 3, MPI_COMM_WORLD);
	} else {
		MPI_Status st;
		struct pt want;
		MPI_Recv(buf, sizeof(buf), MPI_PACKED, 0, 1, MPI_COMM_WORLD, &st);
		MPI_Get_count(&st, MPI_PACKED, &size);
		MT_EQ(size, 4 + 40 + 4 * 29, "packed message size");
		MPI_Unpack(buf, size, &pos, &n, 1, MPI_INT, MPI_COMM_WORLD);
		MT_EQ(n, 4, "unpacked count");
		memset(m, 0x5c, sizeof(m));
		MPI_Unpack(buf, size, &pos, &m[0][2], 1, col, MPI_COMM_WORLD);
		for (int i = 0; i < 5; i++) {
			MT_CHECK(m[i][2] == i * 10 + 1, "unpacked column %d", i);
			MT_CHECK(((unsigned char *)&m[i][0])[0] == 0x5c, "column neighbours");
		}
		memset(pts, 0x5c, sizeof(pts));
		MPI_Unpack(buf, size, &pos, pts, n, pt, MPI_COMM_WORLD);
		MT_EQ(pos, size, "everything unpacked");
		for (int k = 0; k < 4; k++) {
			pt_set(&want, k);
			MT_CHECK(memcmp(&pts[k], &want, sizeof(want)) == 0, "unpacked struct %d", k);
		}
		memset(pts, 0x5c, sizeof(pts));
		MPI_Recv(pts, 4, pt, 0, 2, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		for (int k = 0; k < 4; k++) {
			pt_set(&want, k);
			MT_CHECK(memcmp(&pts[k], &want, sizeof(want)) == 0, "packed as typed %d", k);
		}
		char raw[256];
		MPI_Recv(raw, sizeof(raw), MPI_PACKED, 0, 3, MPI_COMM_WORLD, &st);
		MPI_Get_count(&st, MPI_PACKED, &size);
		MT_EQ(size, 4 * 29, "typed as packed");
		/* Unpack only the last two structs, from the middle. */
		pos = 2 * 29;
		memset(pts, 0x5c, sizeof(pts));
		MPI_Unpack(raw, size, &pos, pts, 2, pt, MPI_COMM_WORLD);
		for (int k = 0; k < 2; k++) {
			pt_set(&want, k + 2);
			MT_CHECK(memcmp(&pts[k], &want, sizeof(want)) == 0, "from the middle %d", k);
		}
	}
	uint64_t h = MT_HASH_INIT;
	for (int k = 0; k < 4 && me == 1; k++) {
		h = mt_hash(h, pts[k].xyz, sizeof(pts[k].xyz));
		h = mt_hash(h, &pts[k].id, sizeof(int));
	}
	mt_say("pack/unpack: rank 0 packed %d items", 3);
	MPI_Bcast(&h, 1, MPI_UINT64_T, 1, MPI_COMM_WORLD);
	mt_say("unpacked data: %016llx", (unsigned long long)h);
	MPI_Type_free(&col);
	MPI_Type_free(&pt);
}

static void hex_line(const char *what, const unsigned char *b, MPI_Aint n)
{
	char s[512];
	int at = 0;

	for (MPI_Aint i = 0; i < n && at < (int)sizeof(s) - 3; i++)
		at += snprintf(s + at, sizeof(s) - (size_t)at, "%02x", b[i]);
	mt_say("%s (%ld bytes): %s", what, (long)n, s);
}

static void test_external32(void)
{
	int iv[3] = { 1, -2, 0x01020304 };
	short sv[2] = { 258, -1 };
	double dv[2] = { 1.0, -0.15625 };
	unsigned char out[256];
	MPI_Aint pos = 0, size;

	MPI_Pack_external_size("external32", 3, MPI_INT, &size);
	MT_EQ(size, 12, "external32 size of 3 ints");
	MPI_Pack_external_size("external32", 2, MPI_DOUBLE, &size);
	MT_EQ(size, 16, "external32 size of 2 doubles");
	MPI_Pack_external("external32", iv, 3, MPI_INT, out, sizeof(out), &pos);
	MPI_Pack_external("external32", sv, 2, MPI_SHORT, out, sizeof(out), &pos);
	MPI_Pack_external("external32", dv, 2, MPI_DOUBLE, out, sizeof(out), &pos);
	hex_line("external32 ints", out, 12);
	hex_line("external32 shorts", out + 12, 4);
	hex_line("external32 doubles", out + 16, 16);
	MT_EQ(pos, 32, "external32 position");
	int iw[3];
	short sw[2];
	double dw[2];
	pos = 0;
	MPI_Unpack_external("external32", out, 32, &pos, iw, 3, MPI_INT);
	MPI_Unpack_external("external32", out, 32, &pos, sw, 2, MPI_SHORT);
	MPI_Unpack_external("external32", out, 32, &pos, dw, 2, MPI_DOUBLE);
	MT_CHECK(memcmp(iw, iv, sizeof(iv)) == 0 && memcmp(sw, sv, sizeof(sv)) == 0 &&
		 memcmp(dw, dv, sizeof(dv)) == 0, "external32 round trip");
}

int main(int argc, char **argv)
{
	int size = 0;

	MPI_Init(&argc, &argv);
	mt_begin("type_pack");
	MPI_Comm_rank(MPI_COMM_WORLD, &me);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (size != 2) {
		MT_FAIL("needs 2 ranks, got %d", size);
		return mt_finish();
	}
	test_pack_messages();
	test_external32();
	return mt_finish();
}
