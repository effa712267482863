/*
 * test_type.c - unit tests of derived datatypes on the application side
 * (shim/type.c, shim/typeops.c, shim/pack.c, shim/stage.c).
 *
 * Three kinds of truth are used, none computed by the code under test:
 *   - bounds (size, lb, extent, true lb/extent) that MPICH 4.0 and Open
 *     MPI 4.1 both report for the same constructor calls, measured
 *     natively and written down here;
 *   - a naive model of the typemap: each test builds its type twice, once
 *     with the MPI constructors and once as a model tree, which the test
 *     expands element by element into (offset, basic type) entries with
 *     no merging and no caching; flattening, packing, partial copies and
 *     element counts are checked against that list byte by byte;
 *   - external32 bytes written out by hand from the standard's rules.
 * A thread plays the proxy on a real channel, so the staging of typed
 * buffers (MPI_Send/Recv/Irecv) is checked where the proxy would read and
 * write it: every typemap byte at arena + base + displacement, and no
 * hole of the application's buffer written by a receive.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "shim/shim.h"

/* ---------------------------------------------------------- fake proxy */

static struct chan pch;
static pthread_t proxy_thread;

/* What the fake proxy saw, and what it does with a RECV. */
static struct {
	int calls, creates, frees;
	uint32_t id;
	int64_t arg[CHAN_ARGS];
	int64_t freed[64];           /* handles of the last TYPE_FREE */
	int64_t created[4096][2];    /* handle, combiner of each TYPE_CREATE */
	int nfreed;
	unsigned char *sent;         /* SEND: bytes at arena+base+off of each entry */
	int64_t sent_len;
	const unsigned char *reply;  /* RECV: bytes to deliver, in typemap order */
	int64_t reply_len;
	int x87;                     /* RECV: write 10 bytes of each long double */
} seen;

/* The model's entries for the message of the current SEND/RECV. */
struct entry {
	int64_t off;
	int64_t size;
	MPI_Datatype basic;
};
static struct entry *msg_map;
static int64_t msg_n;

static void *fake_proxy(void *arg)
{
	uint32_t last = 0;

	(void)arg;
	while (chan_wait(&pch, CHAN_REQ, last) == 0) {
		struct chan_call *c = &pch.hdr->call;

		last = chan_seq(&pch, CHAN_REQ);
		seen.calls++;
		seen.id = c->id;
		memcpy(seen.arg, c->arg, sizeof(seen.arg));
		c->err = 0;
		if (c->id == CALL_TYPE_CREATE && seen.creates < 4096) {
			seen.created[seen.creates][0] = c->arg[0];
			seen.created[seen.creates][1] = c->arg[1];
		}
		if (c->id == CALL_TYPE_CREATE)
			seen.creates++;
		if (c->id == CALL_TYPE_FREE) {
			seen.frees++;
			seen.nfreed = (int)c->arg[0];
			memcpy(seen.freed, c->inl, (size_t)seen.nfreed * sizeof(int64_t));
		}
		/* The real MPI would read/write arena + base + displacement. */
		uintptr_t img = (uintptr_t)pch.arena + (uintptr_t)c->arg[0];
		if (c->id == CALL_SEND) {
			int64_t at = 0;
			for (int64_t i = 0; i < msg_n; i++)
				for (int64_t b = 0; b < msg_map[i].size; b++)
					seen.sent[at++] = *(unsigned char *)(img +
						(uintptr_t)(msg_map[i].off + b));
			seen.sent_len = at;
		}
		if (c->id == CALL_RECV) {
			int64_t at = 0;
			for (int64_t i = 0; i < msg_n && at < seen.reply_len; i++)
				for (int64_t b = 0; b < msg_map[i].size && at < seen.reply_len; b++) {
					int skip = seen.x87 && msg_map[i].basic == MPI_LONG_DOUBLE &&
						   b >= 10;
					if (!skip)
						*(unsigned char *)(img +
							(uintptr_t)(msg_map[i].off + b)) = seen.reply[at];
					at++;
				}
			memset(&c->status, 0, sizeof(c->status));
			memcpy(&c->status.internal[0], &at, sizeof(at));
		}
		chan_post(&pch, CHAN_RSP);
	}
	return NULL;
}

static int setup(void **state)
{
	(void)state;
	int fd = chan_create(64u << 20);

	if (fd < 0 || chan_attach(&shim.ch, fd) < 0 || chan_attach(&pch, fd) < 0)
		return -1;
	if (arena_init(&shim.arena, shim.ch.hdr->arena_size) < 0)
		return -1;
	shim.world_rank = 0;
	shim.world_size = 2;
	if (shim_comm_init_world(0, 2) != MPI_SUCCESS)
		return -1;
	shim.attached = shim.initialized = 1;
	if (MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN) != MPI_SUCCESS)
		return -1;
	seen.sent = malloc(1 << 20);
	return pthread_create(&proxy_thread, NULL, fake_proxy, NULL) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	chan_set_state(&shim.ch, CHAN_APP_GONE);
	pthread_join(proxy_thread, NULL);
	free(seen.sent);
	return 0;
}

/* ---------------------------------------------------------------- model */

enum mkind { M_BASIC, M_CONTIG, M_VECTOR, M_HVECTOR, M_INDEXED, M_HINDEXED, M_STRUCT,
	     M_SUBARRAY, M_DARRAY, M_RESIZED, M_DUP };

/* A type as the test sees it: the model's description plus the handle
 * the constructors made from the same arguments. */
struct model {
	enum mkind kind;
	MPI_Datatype h;
	int n;                      /* blocks / dims */
	int bl[16];
	int64_t disp[16];           /* in elements (vector/indexed) or bytes */
	struct model *kid[16];      /* one for all but struct */
	int sizes[4], sub[4], starts[4], order;
	int psizes[4], dist[4], darg[4], rank, nprocs;
};

/* Every model stays reachable here, so leak checks stay quiet. */
static struct model *models[4096];
static int nmodels;

static struct model *m_new(enum mkind k)
{
	struct model *m = calloc(1, sizeof(*m));

	assert_non_null(m);
	assert_true(nmodels < 4096);
	models[nmodels++] = m;
	m->kind = k;
	return m;
}

static struct model *m_basic(MPI_Datatype b)
{
	struct model *m = m_new(M_BASIC);

	m->h = b;
	return m;
}

static int64_t m_extent(const struct model *m)
{
	MPI_Aint lb, ext;

	assert_int_equal(MPI_Type_get_extent(m->h, &lb, &ext), MPI_SUCCESS);
	return ext;
}

static void commit(struct model *m)
{
	assert_int_equal(MPI_Type_commit(&m->h), MPI_SUCCESS);
}

static struct model *m_contig(int n, struct model *k)
{
	struct model *m = m_new(M_CONTIG);

	m->n = n;
	m->kid[0] = k;
	assert_int_equal(MPI_Type_contiguous(n, k->h, &m->h), MPI_SUCCESS);
	return m;
}

static struct model *m_vector(int n, int bl, int stride, int bytes, struct model *k)
{
	struct model *m = m_new(bytes ? M_HVECTOR : M_VECTOR);

	m->n = n;
	m->bl[0] = bl;
	m->disp[0] = stride;
	m->kid[0] = k;
	if (bytes)
		assert_int_equal(MPI_Type_create_hvector(n, bl, stride, k->h, &m->h), MPI_SUCCESS);
	else
		assert_int_equal(MPI_Type_vector(n, bl, stride, k->h, &m->h), MPI_SUCCESS);
	return m;
}

static struct model *m_indexed(int n, const int *bl, const int *disp, int bytes,
			       struct model *k)
{
	struct model *m = m_new(bytes ? M_HINDEXED : M_INDEXED);
	MPI_Aint ad[16];
	int id[16];

	m->n = n;
	m->kid[0] = k;
	for (int i = 0; i < n; i++) {
		m->bl[i] = bl[i];
		m->disp[i] = disp[i];
		ad[i] = disp[i];
		id[i] = disp[i];
	}
	if (bytes)
		assert_int_equal(MPI_Type_create_hindexed(n, bl, ad, k->h, &m->h), MPI_SUCCESS);
	else
		assert_int_equal(MPI_Type_indexed(n, bl, id, k->h, &m->h), MPI_SUCCESS);
	return m;
}

static struct model *m_struct(int n, const int *bl, const MPI_Aint *disp,
			      struct model **kids)
{
	struct model *m = m_new(M_STRUCT);
	MPI_Datatype t[16];

	m->n = n;
	for (int i = 0; i < n; i++) {
		m->bl[i] = bl[i];
		m->disp[i] = disp[i];
		m->kid[i] = kids[i];
		t[i] = kids[i]->h;
	}
	assert_int_equal(MPI_Type_create_struct(n, bl, disp, t, &m->h), MPI_SUCCESS);
	return m;
}

static struct model *m_resized(struct model *k, MPI_Aint lb, MPI_Aint ext)
{
	struct model *m = m_new(M_RESIZED);

	m->kid[0] = k;
	assert_int_equal(MPI_Type_create_resized(k->h, lb, ext, &m->h), MPI_SUCCESS);
	return m;
}

static struct model *m_subarray(int nd, const int *sz, const int *sub, const int *st,
				int order, struct model *k)
{
	struct model *m = m_new(M_SUBARRAY);

	m->n = nd;
	m->order = order;
	m->kid[0] = k;
	memcpy(m->sizes, sz, (size_t)nd * sizeof(int));
	memcpy(m->sub, sub, (size_t)nd * sizeof(int));
	memcpy(m->starts, st, (size_t)nd * sizeof(int));
	assert_int_equal(MPI_Type_create_subarray(nd, sz, sub, st, order, k->h, &m->h),
			 MPI_SUCCESS);
	return m;
}

static struct model *m_darray(int nprocs, int rank, int nd, const int *g, const int *dist,
			      const int *darg, const int *ps, int order, struct model *k)
{
	struct model *m = m_new(M_DARRAY);

	m->n = nd;
	m->order = order;
	m->kid[0] = k;
	m->rank = rank;
	m->nprocs = nprocs;
	memcpy(m->sizes, g, (size_t)nd * sizeof(int));
	memcpy(m->dist, dist, (size_t)nd * sizeof(int));
	memcpy(m->darg, darg, (size_t)nd * sizeof(int));
	memcpy(m->psizes, ps, (size_t)nd * sizeof(int));
	assert_int_equal(MPI_Type_create_darray(nprocs, rank, nd, g, dist, darg, ps, order,
						k->h, &m->h), MPI_SUCCESS);
	return m;
}

struct elist {
	struct entry *e;
	int64_t n, cap;
};

static void push(struct elist *l, int64_t off, MPI_Datatype b, int64_t size)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->e = realloc(l->e, (size_t)l->cap * sizeof(*l->e));
		assert_non_null(l->e);
	}
	l->e[l->n++] = (struct entry){ off, size, b };
}

static void expand(const struct model *m, int64_t disp, struct elist *l);

/* n copies of k at disp, one extent apart. */
static void expand_n(const struct model *k, int64_t disp, int64_t n, struct elist *l)
{
	for (int64_t i = 0; i < n; i++)
		expand(k, disp + i * m_extent(k), l);
}

/* Does darray dimension d give index i to coordinate c? */
static int owns(const struct model *m, int d, int64_t i, int c)
{
	int p = m->psizes[d], g = m->sizes[d];

	if (m->dist[d] == MPI_DISTRIBUTE_NONE)
		return 1;
	if (m->dist[d] == MPI_DISTRIBUTE_BLOCK) {
		int b = m->darg[d] == MPI_DISTRIBUTE_DFLT_DARG ? (g + p - 1) / p : m->darg[d];
		return i / b == c;
	}
	int k = m->darg[d] == MPI_DISTRIBUTE_DFLT_DARG ? 1 : m->darg[d];
	return (i / k) % p == c;
}

/* Every index of the global array in storage order; keep those that
 * belong to the subarray or to this process's darray part. */
static void expand_array(const struct model *m, int64_t disp, struct elist *l)
{
	int nd = m->n, coord[4] = { 0 }, r = m->rank;
	int64_t idx[4] = { 0 }, total = 1, ext = m_extent(m->kid[0]);

	for (int d = nd - 1; m->kind == M_DARRAY && d >= 0; d--) {
		coord[d] = r % m->psizes[d];
		r /= m->psizes[d];
	}
	for (int d = 0; d < nd; d++)
		total *= m->sizes[d];
	for (int64_t lin = 0; lin < total; lin++) {
		/* idx from the linear storage position */
		int64_t x = lin, off = 0, stride = 1, keep = 1;
		for (int j = 0; j < nd; j++) {
			int d = m->order == MPI_ORDER_C ? nd - 1 - j : j;
			idx[d] = x % m->sizes[d];
			x /= m->sizes[d];
			off += idx[d] * stride;
			stride *= m->sizes[d];
			if (m->kind == M_SUBARRAY)
				keep &= idx[d] >= m->starts[d] && idx[d] < m->starts[d] + m->sub[d];
			else
				keep &= owns(m, d, idx[d], coord[d]);
		}
		if (keep)
			expand(m->kid[0], disp + off * ext, l);
	}
}

static void expand(const struct model *m, int64_t disp, struct elist *l)
{
	int64_t ext = m->kind == M_BASIC || m->kind == M_STRUCT ? 0 : m_extent(m->kid[0]);

	switch (m->kind) {
	case M_BASIC: {
		/* Pair types are two members, laid out as C lays out the pair. */
		if (m->h == MPI_DOUBLE_INT) {
			push(l, disp, MPI_DOUBLE, 8);
			push(l, disp + 8, MPI_INT, 4);
		} else if (m->h == MPI_SHORT_INT) {
			push(l, disp, MPI_SHORT, 2);
			push(l, disp + 4, MPI_INT, 4);
		} else {
			push(l, disp, m->h, shim_type_get(m->h)->size);
		}
		break;
	}
	case M_CONTIG:
		expand_n(m->kid[0], disp, m->n, l);
		break;
	case M_VECTOR:
	case M_HVECTOR:
		for (int i = 0; i < m->n; i++)
			expand_n(m->kid[0], disp + i * m->disp[0] * (m->kind == M_VECTOR ? ext : 1),
				 m->bl[0], l);
		break;
	case M_INDEXED:
	case M_HINDEXED:
		for (int i = 0; i < m->n; i++)
			expand_n(m->kid[0], disp + m->disp[i] * (m->kind == M_INDEXED ? ext : 1),
				 m->bl[i], l);
		break;
	case M_STRUCT:
		for (int i = 0; i < m->n; i++)
			expand_n(m->kid[i], disp + m->disp[i], m->bl[i], l);
		break;
	case M_SUBARRAY:
	case M_DARRAY:
		expand_array(m, disp, l);
		break;
	case M_RESIZED:
	case M_DUP:
		expand(m->kid[0], disp, l);
		break;
	}
}

/* The model's typemap of count elements of m. */
static struct elist model_map(const struct model *m, int64_t count)
{
	struct elist l = { 0 };

	for (int64_t i = 0; i < count; i++)
		expand(m, i * m_extent(m), &l);
	return l;
}

static int64_t map_bytes(const struct elist *l)
{
	int64_t n = 0;

	for (int64_t i = 0; i < l->n; i++)
		n += l->e[i].size;
	return n;
}

static int64_t map_lo(const struct elist *l)
{
	int64_t lo = INT64_MAX;

	for (int64_t i = 0; i < l->n; i++)
		lo = l->e[i].off < lo ? l->e[i].off : lo;
	return l->n ? lo : 0;
}

static int64_t map_hi(const struct elist *l)
{
	int64_t hi = INT64_MIN;

	for (int64_t i = 0; i < l->n; i++)
		hi = l->e[i].off + l->e[i].size > hi ? l->e[i].off + l->e[i].size : hi;
	return l->n ? hi : 0;
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(seed * 131u + i * 7u + (i >> 8));
}

/* A buffer big enough for the model's map, with byte 0 at `zero`. */
struct buf {
	unsigned char *mem;
	unsigned char *zero;
	int64_t lo, len;
};

static struct buf buf_for(const struct elist *l, unsigned seed)
{
	struct buf b;

	b.lo = map_lo(l) - 64;
	b.len = map_hi(l) - b.lo + 64;
	b.mem = malloc((size_t)b.len);
	assert_non_null(b.mem);
	fill(b.mem, (size_t)b.len, seed);
	b.zero = b.mem - b.lo;
	return b;
}

/* ------------------------------------------------------ the types used */

static struct model *dbl, *chr, *i32, *shi, *dint;

static void basics(void)
{
	dbl = m_basic(MPI_DOUBLE);
	chr = m_basic(MPI_CHAR);
	i32 = m_basic(MPI_INT);
	shi = m_basic(MPI_SHORT_INT);
	dint = m_basic(MPI_DOUBLE_INT);
}

/* A zoo of committed types covering every constructor. */
static struct model *zoo[32];
static int nzoo;

static void make_zoo(void)
{
	basics();
	nzoo = 0;
	int bl3[3] = { 2, 1, 3 }, d3[3] = { 5, 0, 9 };
	MPI_Aint sd[3] = { 0, 8, 13 };
	struct model *k3[3] = { dbl, i32, chr };
	struct model *s = m_struct(3, (int[]){ 1, 1, 2 }, sd, k3);
	zoo[nzoo++] = m_vector(4, 2, 3, 0, dbl);
	zoo[nzoo++] = m_vector(3, 1, -16, 1, dbl);
	zoo[nzoo++] = m_indexed(3, bl3, d3, 0, i32);
	zoo[nzoo++] = m_indexed(3, bl3, d3, 1, chr);
	zoo[nzoo++] = s;
	zoo[nzoo++] = m_contig(3, s);
	zoo[nzoo++] = m_resized(s, -4, 40);
	zoo[nzoo++] = m_vector(2, 2, 5, 0, m_resized(i32, 0, 12));
	zoo[nzoo++] = m_contig(2, shi);
	zoo[nzoo++] = m_vector(2, 1, 3, 0, dint);
	{
		int sz[3] = { 4, 5, 3 }, sub[3] = { 2, 3, 2 }, st[3] = { 1, 2, 0 };
		zoo[nzoo++] = m_subarray(3, sz, sub, st, MPI_ORDER_C, dbl);
		zoo[nzoo++] = m_subarray(3, sz, sub, st, MPI_ORDER_FORTRAN, i32);
	}
	{
		int g[2] = { 10, 7 }, dist[2] = { MPI_DISTRIBUTE_BLOCK, MPI_DISTRIBUTE_CYCLIC };
		int darg[2] = { MPI_DISTRIBUTE_DFLT_DARG, 2 }, ps[2] = { 2, 3 };
		for (int r = 0; r < 6; r += 2)
			zoo[nzoo++] = m_darray(6, r, 2, g, dist, darg, ps,
					       r ? MPI_ORDER_FORTRAN : MPI_ORDER_C, i32);
		int dist2[2] = { MPI_DISTRIBUTE_CYCLIC, MPI_DISTRIBUTE_NONE };
		int darg2[2] = { 3, MPI_DISTRIBUTE_DFLT_DARG }, ps2[2] = { 2, 1 };
		zoo[nzoo++] = m_darray(2, 1, 2, g, dist2, darg2, ps2, MPI_ORDER_C, dbl);
	}
	{
		struct model *k2[2] = { zoo[0], m_resized(chr, 0, 3) };
		MPI_Aint d2[2] = { 24, 0 };
		zoo[nzoo++] = m_struct(2, (int[]){ 1, 4 }, d2, k2);
	}
	for (int i = 0; i < nzoo; i++)
		commit(zoo[i]);
}

/* ------------------------------------------------------------------ tests */

/* Bounds both real MPIs report for these constructor calls. */
static void test_bounds_match_native(void **state)
{
	(void)state;
	basics();
	struct case_ {
		struct model *m;
		int size;
		long lb, ext, tlb, text;
	} cases[] = {
		{ m_struct(2, (int[]){ 1, 1 }, (MPI_Aint[]){ 0, 8 }, (struct model *[]){ dbl, chr }),
		  9, 0, 16, 0, 9 },
		{ m_struct(2, (int[]){ 1, 1 }, (MPI_Aint[]){ -3, 9 },
			   (struct model *[]){ dbl, chr }), 9, -3, 16, -3, 13 },
		{ m_struct(2, (int[]){ 1, 1 }, (MPI_Aint[]){ 0, 4 },
			   (struct model *[]){ chr, chr }), 2, 0, 5, 0, 5 },
		{ m_struct(2, (int[]){ 0, 1 }, (MPI_Aint[]){ 0, 4 },
			   (struct model *[]){ i32, chr }), 1, 4, 1, 4, 1 },
		{ m_struct(2, (int[]){ 1, 1 }, (MPI_Aint[]){ 0, 8 },
			   (struct model *[]){ shi, chr }), 7, 0, 12, 0, 9 },
		{ m_vector(3, 1, -16, 1, dbl), 24, -32, 40, -32, 40 },
		{ m_vector(3, 2, -3, 0, i32), 24, -24, 32, -24, 32 },
		{ m_contig(3, m_struct(2, (int[]){ 1, 1 }, (MPI_Aint[]){ 0, 4 },
				       (struct model *[]){ i32, chr })), 15, 0, 24, 0, 21 },
		{ m_contig(0, i32), 0, 0, 0, 0, 0 },
		{ m_resized(i32, 2, -8), 4, 2, -8, 0, 4 },
		{ m_contig(3, m_resized(i32, 2, -8)), 12, -14, 8, -16, 20 },
		{ m_subarray(2, (int[]){ 4, 5 }, (int[]){ 2, 3 }, (int[]){ 1, 1 }, MPI_ORDER_C,
			     dbl), 48, 0, 160, 48, 64 },
		{ m_subarray(2, (int[]){ 4, 5 }, (int[]){ 2, 3 }, (int[]){ 1, 1 },
			     MPI_ORDER_FORTRAN, dbl), 48, 0, 160, 40, 80 },
		{ m_darray(6, 4, 2, (int[]){ 10, 7 },
			   (int[]){ MPI_DISTRIBUTE_BLOCK, MPI_DISTRIBUTE_CYCLIC },
			   (int[]){ MPI_DISTRIBUTE_DFLT_DARG, 2 }, (int[]){ 2, 3 }, MPI_ORDER_C,
			   i32), 40, 0, 280, 148, 120 },
		{ m_darray(6, 4, 2, (int[]){ 10, 7 },
			   (int[]){ MPI_DISTRIBUTE_BLOCK, MPI_DISTRIBUTE_CYCLIC },
			   (int[]){ MPI_DISTRIBUTE_DFLT_DARG, 2 }, (int[]){ 2, 3 },
			   MPI_ORDER_FORTRAN, i32), 40, 0, 280, 100, 60 },
		{ m_darray(6, 3, 2, (int[]){ 10, 7 },
			   (int[]){ MPI_DISTRIBUTE_BLOCK, MPI_DISTRIBUTE_CYCLIC },
			   (int[]){ MPI_DISTRIBUTE_DFLT_DARG, 2 }, (int[]){ 2, 3 }, MPI_ORDER_C,
			   i32), 60, 0, 280, 140, 140 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		MPI_Aint lb, ext, tlb, text;
		int size;
		MPI_Count sx;
		assert_int_equal(MPI_Type_size(cases[i].m->h, &size), MPI_SUCCESS);
		assert_int_equal(MPI_Type_size_x(cases[i].m->h, &sx), MPI_SUCCESS);
		assert_int_equal(MPI_Type_get_extent(cases[i].m->h, &lb, &ext), MPI_SUCCESS);
		assert_int_equal(MPI_Type_get_true_extent(cases[i].m->h, &tlb, &text), MPI_SUCCESS);
		if (size != cases[i].size || lb != cases[i].lb || ext != cases[i].ext ||
		    tlb != cases[i].tlb || text != cases[i].text)
			fail_msg("case %zu: size %d lb %ld ext %ld tlb %ld text %ld", i, size,
				 (long)lb, (long)ext, (long)tlb, (long)text);
		assert_int_equal(sx, size);
	}
}

/* Flattened blocks cover exactly the model's bytes, in typemap order. */
static void test_flatten_matches_model(void **state)
{
	(void)state;
	make_zoo();
	for (int z = 0; z < nzoo; z++) {
		for (int count = 1; count <= 3; count++) {
			struct elist l = model_map(zoo[z], count);
			struct shim_type *t = shim_type_get(zoo[z]->h);
			assert_non_null(t);
			assert_int_equal(map_bytes(&l), count * t->size);
			struct buf in = buf_for(&l, (unsigned)z);
			unsigned char *packed = malloc((size_t)map_bytes(&l) + 1);
			unsigned char *want = malloc((size_t)map_bytes(&l) + 1);
			int64_t at = 0;
			for (int64_t i = 0; i < l.n; i++)
				for (int64_t b = 0; b < l.e[i].size; b++)
					want[at++] = in.zero[l.e[i].off + b];
			shim_type_pack_raw(t, count, in.zero, packed);
			if (memcmp(packed, want, (size_t)at))
				fail_msg("zoo %d count %d: packed bytes differ from the model", z,
					 count);
			/* Element counts at every byte boundary. */
			int64_t e = 0, pos = 0;
			for (int64_t i = 0; i <= l.n; i++) {
				assert_int_equal(shim_type_elements(t, pos), e);
				if (i < l.n && l.e[i].size > 1)
					assert_int_equal(shim_type_elements(t, pos + 1),
							 MPI_UNDEFINED);
				if (i < l.n) {
					assert_int_equal(shim_type_bytes_of(t, e), pos);
					pos += l.e[i].size;
					e++;
				}
			}
			free(packed);
			free(want);
			free(in.mem);
			free(l.e);
		}
	}
}

/* A partial copy out writes the first `limit` typemap bytes and nothing
 * else; unpack is its packed twin. */
static void test_copy_out_partial(void **state)
{
	(void)state;
	make_zoo();
	for (int z = 0; z < nzoo; z++) {
		int count = 2;
		struct elist l = model_map(zoo[z], count);
		struct shim_type *t = shim_type_get(zoo[z]->h);
		struct buf img = buf_for(&l, 1000u + (unsigned)z);
		struct buf usr = buf_for(&l, 2000u + (unsigned)z);
		struct buf want = buf_for(&l, 2000u + (unsigned)z);
		int64_t total = map_bytes(&l);
		for (int64_t limit = 0; limit <= total; limit += 1 + total / 7) {
			fill(usr.mem, (size_t)usr.len, 2000u + (unsigned)z);
			memcpy(want.mem, usr.mem, (size_t)usr.len);
			int64_t at = 0;
			for (int64_t i = 0; i < l.n; i++)
				for (int64_t b = 0; b < l.e[i].size && at < limit; b++, at++)
					want.zero[l.e[i].off + b] = img.zero[l.e[i].off + b];
			shim_type_copy_out(t, count, usr.zero, img.zero, limit);
			if (memcmp(usr.mem, want.mem, (size_t)usr.len))
				fail_msg("zoo %d limit %lld: copy out differs", z, (long long)limit);
			/* Unpack the same prefix from packed bytes. */
			fill(usr.mem, (size_t)usr.len, 2000u + (unsigned)z);
			unsigned char *packed = malloc((size_t)total + 1);
			shim_type_pack_raw(t, count, img.zero, packed);
			assert_int_equal(shim_type_unpack_raw(t, count, packed, usr.zero, limit),
					 limit);
			if (memcmp(usr.mem, want.mem, (size_t)usr.len))
				fail_msg("zoo %d limit %lld: unpack differs", z, (long long)limit);
			free(packed);
		}
		free(img.mem);
		free(usr.mem);
		free(want.mem);
		free(l.e);
	}
}

/* Unpacking every element (a limit of the whole message or more, as a
 * received Irecv is staged back) writes each typemap byte from the
 * packed bytes and leaves the holes alone. */
static void test_unpack_whole(void **state)
{
	(void)state;
	make_zoo();
	for (int z = 0; z < nzoo; z++) {
		for (int count = 1; count <= 3; count++) {
			struct elist l = model_map(zoo[z], count);
			struct shim_type *t = shim_type_get(zoo[z]->h);
			struct buf img = buf_for(&l, 3000u + (unsigned)z);
			struct buf usr = buf_for(&l, 4000u + (unsigned)z);
			struct buf want = buf_for(&l, 4000u + (unsigned)z);
			int64_t total = map_bytes(&l);
			for (int64_t i = 0; i < l.n; i++)
				for (int64_t b = 0; b < l.e[i].size; b++)
					want.zero[l.e[i].off + b] = img.zero[l.e[i].off + b];
			unsigned char *packed = malloc((size_t)total + 1);
			shim_type_pack_raw(t, count, img.zero, packed);
			const int64_t limits[] = { total, total + 1, INT64_MAX };
			for (size_t k = 0; k < sizeof(limits) / sizeof(limits[0]); k++) {
				fill(usr.mem, (size_t)usr.len, 4000u + (unsigned)z);
				assert_int_equal(shim_type_unpack_raw(t, count, packed, usr.zero,
								      limits[k]),
						 total);
				if (memcmp(usr.mem, want.mem, (size_t)usr.len))
					fail_msg("zoo %d count %d limit %lld: unpack differs", z,
						 count, (long long)limits[k]);
			}
			free(packed);
			free(img.mem);
			free(usr.mem);
			free(want.mem);
			free(l.e);
		}
	}
}

/* Send: the proxy finds every typemap byte at arena + base + disp.
 * Recv: only typemap bytes come back, holes keep the application's. */
static void test_staging_send_recv(void **state)
{
	(void)state;
	make_zoo();
	for (int z = 0; z < nzoo; z++) {
		int count = 3;
		struct elist l = model_map(zoo[z], count);
		struct buf in = buf_for(&l, 300u + (unsigned)z);
		int64_t total = map_bytes(&l);
		uint64_t used = shim.arena.used;

		msg_map = l.e;
		msg_n = l.n;
		assert_int_equal(MPI_Send(in.zero, count, zoo[z]->h, 1, 7, MPI_COMM_WORLD),
				 MPI_SUCCESS);
		assert_int_equal(seen.id, CALL_SEND);
		assert_int_equal(seen.sent_len, total);
		int64_t at = 0;
		for (int64_t i = 0; i < l.n; i++)
			for (int64_t b = 0; b < l.e[i].size; b++, at++)
				if (seen.sent[at] != in.zero[l.e[i].off + b])
					fail_msg("zoo %d: sent byte %lld differs", z, (long long)at);
		assert_int_equal(shim.arena.used, used);

		/* Receive all but the last 3 bytes. */
		unsigned char *reply = malloc((size_t)total);
		fill(reply, (size_t)total, 77u + (unsigned)z);
		seen.reply = reply;
		seen.reply_len = total > 3 ? total - 3 : total;
		struct buf out = buf_for(&l, 500u + (unsigned)z);
		struct buf want = buf_for(&l, 500u + (unsigned)z);
		at = 0;
		for (int64_t i = 0; i < l.n; i++)
			for (int64_t b = 0; b < l.e[i].size && at < seen.reply_len; b++)
				want.zero[l.e[i].off + b] = reply[at++];
		MPI_Status st;
		assert_int_equal(MPI_Recv(out.zero, count, zoo[z]->h, 1, 7, MPI_COMM_WORLD, &st),
				 MPI_SUCCESS);
		if (memcmp(out.mem, want.mem, (size_t)out.len))
			fail_msg("zoo %d: receive wrote the wrong bytes", z);
		int elems;
		assert_int_equal(MPI_Get_elements(&st, zoo[z]->h, &elems), MPI_SUCCESS);
		assert_true(elems == MPI_UNDEFINED || elems <= l.n);
		assert_int_equal(shim.arena.used, used);
		free(reply);
		free(in.mem);
		free(out.mem);
		free(want.mem);
		free(l.e);
	}
}

/* A real MPI may move 10 bytes of each 16-byte long double: the other 6
 * keep the application's bytes, as they would natively. */
static void test_long_double_padding(void **state)
{
	(void)state;
	long double buf[6];
	unsigned char before[sizeof(buf)], reply[48];
	MPI_Datatype v;
	struct entry e[3] = { { 0, 16, MPI_LONG_DOUBLE }, { 32, 16, MPI_LONG_DOUBLE },
			      { 64, 16, MPI_LONG_DOUBLE } };

	assert_int_equal(MPI_Type_vector(3, 1, 2, MPI_LONG_DOUBLE, &v), MPI_SUCCESS);
	assert_int_equal(MPI_Type_commit(&v), MPI_SUCCESS);
	fill((unsigned char *)buf, sizeof(buf), 5);
	memcpy(before, buf, sizeof(buf));
	fill(reply, sizeof(reply), 6);
	msg_map = e;
	msg_n = 3;
	seen.reply = reply;
	seen.reply_len = 48;
	seen.x87 = 1;
	assert_int_equal(MPI_Recv(buf, 1, v, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
			 MPI_SUCCESS);
	seen.x87 = 0;
	for (int i = 0; i < 3; i++) {
		const unsigned char *got = (const unsigned char *)buf + 32 * i;
		assert_memory_equal(got, reply + 16 * i, 10);
		assert_memory_equal(got + 10, before + 32 * i + 10, 6);
		assert_memory_equal(got + 16, before + 32 * i + 16, 16);
	}
	MPI_Type_free(&v);
}

/* Predefined contiguous types: one block, base = its offset, no walk. */
static void test_predefined_fast_path(void **state)
{
	(void)state;
	double v[4] = { 1, 2, 3, 4 };
	struct shim_stage s;
	int64_t base;
	struct shim_type *t = shim_type_get(MPI_DOUBLE);

	assert_true(t->contig);
	assert_int_equal(shim_stage_send(v, 4, t, SHIM_STAGE_BORROW, &s, &base, "test"), MPI_SUCCESS);
	assert_int_equal(base, (int64_t)s.off);
	assert_int_equal((uintptr_t)shim_stage_ptr(&s) % 64, (uintptr_t)v % 64);
	assert_memory_equal(shim_stage_ptr(&s), v, sizeof(v));
	shim_stage_free(&s);
	/* A pair type has a hole: it is not contiguous. */
	assert_false(shim_type_get(MPI_SHORT_INT)->contig);
	assert_true(shim_type_get(MPI_2INT)->contig);
}

/* A column-like vector (one double every 64 bytes) is sparse: the proxy
 * is told count * size bytes of MPI_PACKED and finds them in typemap
 * order; a receive scatters what arrived and leaves the holes alone.
 * A vector with small holes keeps its datatype and layout. */
static void test_sparse_goes_packed(void **state)
{
	(void)state;
	enum { N = 1000, STRIDE = 8 };
	static double v[N * STRIDE], before[N * STRIDE];
	static struct entry e[N];
	unsigned char *reply = malloc(N * sizeof(double));
	MPI_Datatype col, dense;
	MPI_Status st;
	int n;

	assert_int_equal(MPI_Type_vector(N, 1, STRIDE, MPI_DOUBLE, &col), MPI_SUCCESS);
	assert_int_equal(MPI_Type_commit(&col), MPI_SUCCESS);
	for (int i = 0; i < N * STRIDE; i++)
		v[i] = i + 0.5;
	for (int i = 0; i < N; i++)
		e[i] = (struct entry){ i * 8, 8, MPI_DOUBLE }; /* packed: dense */
	msg_map = e;
	msg_n = N;
	assert_int_equal(MPI_Send(v, 1, col, 1, 3, MPI_COMM_WORLD), MPI_SUCCESS);
	assert_int_equal(seen.arg[1], N * (int64_t)sizeof(double));
	assert_int_equal(seen.arg[2], (int64_t)(intptr_t)MPI_PACKED);
	for (int i = 0; i < N; i++) {
		double got;
		memcpy(&got, seen.sent + i * 8, 8);
		assert_true(got == i * STRIDE + 0.5);
	}

	fill(reply, N * sizeof(double), 9);
	memcpy(before, v, sizeof(v));
	seen.reply = reply;
	seen.reply_len = N * sizeof(double) - 3; /* the last double comes short */
	assert_int_equal(MPI_Recv(v, 1, col, 1, 3, MPI_COMM_WORLD, &st), MPI_SUCCESS);
	assert_int_equal(seen.arg[2], (int64_t)(intptr_t)MPI_PACKED);
	for (int i = 0; i < N * STRIDE; i++) {
		if (i % STRIDE) {
			assert_memory_equal(&v[i], &before[i], 8);
			continue;
		}
		size_t k = (size_t)(i / STRIDE) * 8, len = i / STRIDE < N - 1 ? 8 : 5;
		assert_memory_equal(&v[i], reply + k, len);
		assert_memory_equal((unsigned char *)&v[i] + len,
				    (unsigned char *)&before[i] + len, 8 - len);
	}
	assert_int_equal(MPI_Get_elements(&st, MPI_DOUBLE, &n), MPI_SUCCESS);
	assert_int_equal(n, MPI_UNDEFINED);
	assert_int_equal(MPI_Get_count(&st, MPI_BYTE, &n), MPI_SUCCESS);
	assert_int_equal(n, N * (int)sizeof(double) - 3);

	assert_int_equal(MPI_Type_vector(N, 1, 2, MPI_DOUBLE, &dense), MPI_SUCCESS);
	assert_int_equal(MPI_Type_commit(&dense), MPI_SUCCESS);
	for (int i = 0; i < N; i++)
		e[i] = (struct entry){ i * 16, 8, MPI_DOUBLE }; /* laid out as v */
	assert_int_equal(MPI_Send(v, 1, dense, 1, 3, MPI_COMM_WORLD), MPI_SUCCESS);
	assert_int_equal(seen.arg[1], 1);
	assert_int_equal(seen.arg[2], (int64_t)(intptr_t)dense);
	assert_memory_equal(seen.sent, v, 8);
	MPI_Type_free(&dense);
	MPI_Type_free(&col);
	free(reply);
}

/* MPI_BOTTOM with absolute addresses: the image keeps relative layout. */
static void test_bottom_absolute(void **state)
{
	(void)state;
	static struct { int a; double pad[3]; short b; } g;
	MPI_Aint addr[2];
	MPI_Datatype t;
	MPI_Get_address(&g.a, &addr[0]);
	MPI_Get_address(&g.b, &addr[1]);
	assert_int_equal(MPI_Type_create_struct(2, (int[]){ 1, 1 }, addr,
						(MPI_Datatype[]){ MPI_INT, MPI_SHORT }, &t),
			 MPI_SUCCESS);
	assert_int_equal(MPI_Type_commit(&t), MPI_SUCCESS);
	g.a = 0x11223344;
	g.b = 0x5566;
	struct entry e[2] = { { addr[0], 4, MPI_INT }, { addr[1], 2, MPI_SHORT } };
	msg_map = e;
	msg_n = 2;
	assert_int_equal(MPI_Send(MPI_BOTTOM, 1, t, 1, 0, MPI_COMM_WORLD), MPI_SUCCESS);
	assert_int_equal(seen.sent_len, 6);
	assert_memory_equal(seen.sent, &g.a, 4);
	assert_memory_equal(seen.sent + 4, &g.b, 2);
	unsigned char r[6] = { 1, 2, 3, 4, 5, 6 };
	seen.reply = r;
	seen.reply_len = 6;
	assert_int_equal(MPI_Recv(MPI_BOTTOM, 1, t, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
			 MPI_SUCCESS);
	assert_memory_equal(&g.a, r, 4);
	assert_memory_equal(&g.b, r + 4, 2);
	/* A nonblocking receive at MPI_BOTTOM is delivered at completion. */
	MPI_Request rq;
	assert_int_equal(MPI_Irecv(MPI_BOTTOM, 1, t, 1, 0, MPI_COMM_WORLD, &rq), MPI_SUCCESS);
	int64_t base = seen.arg[0];
	unsigned char *img = (unsigned char *)((uintptr_t)pch.arena + (uintptr_t)base);
	memcpy(img + addr[0], "\x0a\x0b\x0c\x0d", 4);
	memcpy(img + addr[1], "\x0e\x0f", 2);
	struct chan_status cs = { 0 };
	int64_t got = 6;
	memcpy(&cs.internal[0], &got, 8);
	shim_req_complete(shim_req_get(rq), &cs);
	assert_memory_equal(&g.a, "\x0a\x0b\x0c\x0d", 4);
	assert_memory_equal(&g.b, "\x0e\x0f", 2);
	/* A predefined type cannot address anything from MPI_BOTTOM. */
	assert_int_equal(MPI_Send(MPI_BOTTOM, 1, MPI_INT, 1, 0, MPI_COMM_WORLD),
			 MPI_ERR_BUFFER);
	MPI_Type_free(&t);
}

/* A type freed while a receive is pending still places the data. */
static void test_free_while_pending(void **state)
{
	(void)state;
	MPI_Datatype v;
	MPI_Request r;
	double buf[6] = { 0 };
	struct entry e[3] = { { 0, 8, MPI_DOUBLE }, { 16, 8, MPI_DOUBLE }, { 32, 8, MPI_DOUBLE } };

	assert_int_equal(MPI_Type_vector(3, 1, 2, MPI_DOUBLE, &v), MPI_SUCCESS);
	assert_int_equal(MPI_Type_commit(&v), MPI_SUCCESS);
	MPI_Datatype keep = v;
	assert_int_equal(MPI_Irecv(buf, 1, v, 1, 0, MPI_COMM_WORLD, &r), MPI_SUCCESS);
	/* The IRECV went on the post ring: its block is in the record. */
	int64_t base = shim_req_get(r)->base;
	int frees = seen.frees;
	assert_int_equal(MPI_Type_free(&v), MPI_SUCCESS);
	assert_ptr_equal(v, MPI_DATATYPE_NULL);
	assert_int_equal(seen.frees, frees); /* the request holds it */
	int size;
	assert_int_equal(MPI_Type_size(keep, &size), MPI_ERR_TYPE);
	/* The proxy delivers into the image; complete with the wait. */
	double d[3] = { 1.5, 2.5, 3.5 };
	for (int i = 0; i < 3; i++)
		memcpy((unsigned char *)pch.arena + base + e[i].off, &d[i], 8);
	struct shim_req *rq = shim_req_get(r);
	struct chan_status st = { 0 };
	int64_t got = 24;
	memcpy(&st.internal[0], &got, 8);
	shim_req_complete(rq, &st);
	assert_true(buf[0] == 1.5 && buf[2] == 2.5 && buf[4] == 3.5);
	assert_true(buf[1] == 0 && buf[3] == 0 && buf[5] == 0);
	/* The next datatype call tells the proxy to free the real type. */
	MPI_Datatype x;
	assert_int_equal(MPI_Type_contiguous(2, MPI_INT, &x), MPI_SUCCESS);
	assert_int_equal(seen.frees, frees + 1);
	assert_int_equal(seen.freed[0], (int64_t)(intptr_t)keep);
	MPI_Type_free(&x);
}

/* Envelope and contents give back the constructor's arguments. */
static void test_envelope_contents(void **state)
{
	(void)state;
	MPI_Datatype v, s, d;
	int ni, na, nt, comb, ints[8];
	MPI_Aint addrs[4];
	MPI_Datatype types[4];

	assert_int_equal(MPI_Type_get_envelope(MPI_INT, &ni, &na, &nt, &comb), MPI_SUCCESS);
	assert_int_equal(comb, MPI_COMBINER_NAMED);
	assert_int_equal(ni + na + nt, 0);
	assert_int_equal(MPI_Type_get_contents(MPI_INT, 0, 0, 0, ints, addrs, types),
			 MPI_ERR_TYPE);
	assert_int_equal(MPI_Type_vector(3, 2, 5, MPI_FLOAT, &v), MPI_SUCCESS);
	assert_int_equal(MPI_Type_create_struct(2, (int[]){ 1, 4 }, (MPI_Aint[]){ 0, 16 },
						(MPI_Datatype[]){ v, MPI_CHAR }, &s),
			 MPI_SUCCESS);
	assert_int_equal(MPI_Type_get_envelope(s, &ni, &na, &nt, &comb), MPI_SUCCESS);
	assert_int_equal(comb, MPI_COMBINER_STRUCT);
	assert_true(ni == 3 && na == 2 && nt == 2);
	assert_int_equal(MPI_Type_get_contents(s, 2, 2, 2, ints, addrs, types), MPI_ERR_ARG);
	assert_int_equal(MPI_Type_get_contents(s, 3, 2, 2, ints, addrs, types), MPI_SUCCESS);
	assert_true(ints[0] == 2 && ints[1] == 1 && ints[2] == 4);
	assert_true(addrs[0] == 0 && addrs[1] == 16);
	assert_ptr_equal(types[0], v);
	assert_ptr_equal(types[1], MPI_CHAR);
	/* v was handed out again: freeing both references is allowed. */
	assert_int_equal(MPI_Type_free(&v), MPI_SUCCESS);
	assert_int_equal(MPI_Type_get_envelope(types[0], &ni, &na, &nt, &comb), MPI_SUCCESS);
	assert_int_equal(comb, MPI_COMBINER_VECTOR);
	assert_int_equal(MPI_Type_get_contents(types[0], 3, 0, 1, ints, addrs, &d),
			 MPI_SUCCESS);
	assert_true(ints[0] == 3 && ints[1] == 2 && ints[2] == 5);
	assert_ptr_equal(d, MPI_FLOAT);
	assert_int_equal(MPI_Type_free(&types[0]), MPI_SUCCESS);
	/* The struct still lays out its vector component. */
	assert_int_equal(MPI_Type_commit(&s), MPI_SUCCESS);
	int size;
	assert_int_equal(MPI_Type_size(s, &size), MPI_SUCCESS);
	assert_int_equal(size, 6 * 4 + 4);
	/* Dup of a committed type is committed; its envelope is DUP. */
	assert_int_equal(MPI_Type_dup(s, &d), MPI_SUCCESS);
	assert_int_equal(MPI_Type_get_envelope(d, &ni, &na, &nt, &comb), MPI_SUCCESS);
	assert_true(comb == MPI_COMBINER_DUP && ni == 0 && na == 0 && nt == 1);
	assert_true(shim_type_get(d)->committed);
	MPI_Type_free(&d);
	MPI_Type_free(&s);
}

/* Bad arguments give the standard classes and never reach the proxy. */
static void test_errors(void **state)
{
	(void)state;
	MPI_Datatype t = MPI_INT, u;
	int calls = seen.calls, buf[4];

	assert_int_equal(MPI_Type_free(&t), MPI_ERR_TYPE);
	t = MPI_DATATYPE_NULL;
	assert_int_equal(MPI_Type_free(&t), MPI_ERR_TYPE);
	assert_int_equal(MPI_Type_commit(&t), MPI_ERR_TYPE);
	assert_int_equal(MPI_Type_contiguous(-1, MPI_INT, &u), MPI_ERR_COUNT);
	assert_int_equal(MPI_Type_contiguous(1, MPI_DATATYPE_NULL, &u), MPI_ERR_TYPE);
	assert_int_equal(MPI_Type_vector(2, -1, 3, MPI_INT, &u), MPI_ERR_COUNT);
	assert_int_equal(MPI_Type_create_subarray(2, (int[]){ 4, 5 }, (int[]){ 5, 1 },
						  (int[]){ 0, 0 }, MPI_ORDER_C, MPI_INT, &u),
			 MPI_ERR_ARG);
	assert_int_equal(MPI_Type_create_subarray(1, (int[]){ 4 }, (int[]){ 1 }, (int[]){ 0 },
						  77, MPI_INT, &u), MPI_ERR_ARG);
	assert_int_equal(MPI_Type_create_darray(6, 6, 1, (int[]){ 6 },
						(int[]){ MPI_DISTRIBUTE_BLOCK },
						(int[]){ MPI_DISTRIBUTE_DFLT_DARG }, (int[]){ 6 },
						MPI_ORDER_C, MPI_INT, &u), MPI_ERR_ARG);
	assert_int_equal(seen.calls, calls);
	/* Uncommitted in communication: MPI_ERR_TYPE, nothing sent. */
	assert_int_equal(MPI_Type_contiguous(2, MPI_INT, &u), MPI_SUCCESS);
	calls = seen.calls;
	assert_int_equal(MPI_Send(buf, 1, u, 1, 0, MPI_COMM_WORLD), MPI_ERR_TYPE);
	assert_int_equal(MPI_Send(buf, 1, MPI_DATATYPE_NULL, 1, 0, MPI_COMM_WORLD),
			 MPI_ERR_TYPE);
	int pos = 0;
	char out[64];
	assert_int_equal(MPI_Pack(buf, 1, u, out, 64, &pos, MPI_COMM_WORLD), MPI_ERR_TYPE);
	assert_int_equal(seen.calls, calls);
	int size;
	assert_int_equal(MPI_Type_size(u, &size), MPI_SUCCESS); /* queries are fine */
	assert_int_equal(size, 8);
	assert_int_equal(MPI_Type_commit(&u), MPI_SUCCESS);
	assert_int_equal(MPI_Pack(buf, 1, u, out, 4, &pos, MPI_COMM_WORLD), MPI_ERR_TRUNCATE);
	assert_int_equal(pos, 0);
	MPI_Type_free(&u);
	assert_int_equal(MPI_Pack_external("native", buf, 1, MPI_INT, out, 64,
					   &(MPI_Aint){ 0 }), MPI_ERR_ARG);
}

/* Pack and Unpack round trips, positions advancing. */
static void test_pack_unpack(void **state)
{
	(void)state;
	make_zoo();
	int a[3] = { 1, 2, 3 }, b[3] = { 0 };
	double x = 2.5, y = 0;
	char out[256];
	int pos = 0, size;

	assert_int_equal(MPI_Pack_size(3, MPI_INT, MPI_COMM_WORLD, &size), MPI_SUCCESS);
	assert_int_equal(size, 12);
	assert_int_equal(MPI_Pack(a, 3, MPI_INT, out, sizeof(out), &pos, MPI_COMM_WORLD),
			 MPI_SUCCESS);
	assert_int_equal(MPI_Pack(&x, 1, MPI_DOUBLE, out, sizeof(out), &pos, MPI_COMM_WORLD),
			 MPI_SUCCESS);
	assert_int_equal(pos, 20);
	pos = 0;
	assert_int_equal(MPI_Unpack(out, 20, &pos, b, 3, MPI_INT, MPI_COMM_WORLD), MPI_SUCCESS);
	assert_int_equal(MPI_Unpack(out, 20, &pos, &y, 1, MPI_DOUBLE, MPI_COMM_WORLD),
			 MPI_SUCCESS);
	assert_memory_equal(a, b, sizeof(a));
	assert_true(y == 2.5);
	assert_int_equal(MPI_Unpack(out, 20, &pos, &y, 1, MPI_DOUBLE, MPI_COMM_WORLD),
			 MPI_ERR_TRUNCATE);
	/* Derived: unpacking what was packed restores exactly the typemap. */
	for (int z = 0; z < nzoo; z++) {
		struct elist l = model_map(zoo[z], 2);
		struct buf in = buf_for(&l, 9u + (unsigned)z);
		struct buf back = buf_for(&l, 19u + (unsigned)z);
		struct buf want = buf_for(&l, 19u + (unsigned)z);
		int n;
		assert_int_equal(MPI_Pack_size(2, zoo[z]->h, MPI_COMM_WORLD, &n), MPI_SUCCESS);
		assert_int_equal(n, map_bytes(&l));
		char *p = malloc((size_t)n + 8);
		pos = 8;
		assert_int_equal(MPI_Pack(in.zero, 2, zoo[z]->h, p, n + 8, &pos, MPI_COMM_WORLD),
				 MPI_SUCCESS);
		assert_int_equal(pos, n + 8);
		pos = 8;
		assert_int_equal(MPI_Unpack(p, n + 8, &pos, back.zero, 2, zoo[z]->h,
					    MPI_COMM_WORLD), MPI_SUCCESS);
		for (int64_t i = 0; i < l.n; i++)
			memcpy(want.zero + l.e[i].off, in.zero + l.e[i].off, (size_t)l.e[i].size);
		if (memcmp(back.mem, want.mem, (size_t)back.len))
			fail_msg("zoo %d: pack/unpack round trip differs", z);
		free(p);
		free(in.mem);
		free(back.mem);
		free(want.mem);
		free(l.e);
	}
}

/* external32: big-endian, the standard's sizes, IEEE quad long double. */
static void test_external32(void **state)
{
	(void)state;
	struct { int i; short s; double d; long l; long double q; } v = {
		0x01020304, -2, 1.0, -5, 1.0L
	};
	MPI_Datatype t;
	MPI_Aint disp[5] = { offsetof(__typeof__(v), i), offsetof(__typeof__(v), s),
			     offsetof(__typeof__(v), d), offsetof(__typeof__(v), l),
			     offsetof(__typeof__(v), q) };
	unsigned char out[64], want[34] = {
		0x01, 0x02, 0x03, 0x04,                          /* int */
		0xff, 0xfe,                                      /* short -2 */
		0x3f, 0xf0, 0, 0, 0, 0, 0, 0,                    /* double 1.0 */
		0xff, 0xff, 0xff, 0xfb,                          /* long -5 in 4 bytes */
		0x3f, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* quad 1.0 */
	};
	MPI_Aint size, pos = 0;

	assert_int_equal(MPI_Type_create_struct(5, (int[]){ 1, 1, 1, 1, 1 }, disp,
						(MPI_Datatype[]){ MPI_INT, MPI_SHORT, MPI_DOUBLE,
								  MPI_LONG, MPI_LONG_DOUBLE }, &t),
			 MPI_SUCCESS);
	assert_int_equal(MPI_Type_commit(&t), MPI_SUCCESS);
	assert_int_equal(MPI_Pack_external_size("external32", 1, t, &size), MPI_SUCCESS);
	assert_int_equal(size, 34);
	assert_int_equal(MPI_Pack_external("external32", &v, 1, t, out, sizeof(out), &pos),
			 MPI_SUCCESS);
	assert_int_equal(pos, 34);
	assert_memory_equal(out, want, 34);
	__typeof__(v) w;
	memset(&w, 0, sizeof(w));
	pos = 0;
	assert_int_equal(MPI_Unpack_external("external32", out, 34, &pos, &w, 1, t),
			 MPI_SUCCESS);
	assert_true(w.i == v.i && w.s == v.s && w.d == v.d && w.l == v.l && w.q == v.q);
	/* Quad round trip of values with a fraction and of a tiny one. */
	long double q[3] = { -3.14159265358979323846L, 1e-4940L, 6.5e300L }, r[3];
	unsigned char qb[48];
	pos = 0;
	assert_int_equal(MPI_Pack_external("external32", q, 3, MPI_LONG_DOUBLE, qb, 48, &pos),
			 MPI_SUCCESS);
	assert_int_equal(qb[0], 0xc0); /* negative, exponent 0x4000 */
	pos = 0;
	assert_int_equal(MPI_Unpack_external("external32", qb, 48, &pos, r, 3,
					     MPI_LONG_DOUBLE), MPI_SUCCESS);
	assert_true(r[0] == q[0] && r[1] == q[1] && r[2] == q[2]);
	MPI_Type_free(&t);
}

/* Get_elements counts basic elements; Status_set_elements inverts it. */
static void test_status_elements(void **state)
{
	(void)state;
	MPI_Datatype pair;
	MPI_Status st;
	int n;
	MPI_Count x;

	assert_int_equal(MPI_Type_contiguous(2, MPI_INT, &pair), MPI_SUCCESS);
	assert_int_equal(MPI_Type_commit(&pair), MPI_SUCCESS);
	assert_int_equal(MPI_Status_set_elements(&st, pair, 3), MPI_SUCCESS);
	assert_int_equal(MPI_Get_elements(&st, pair, &n), MPI_SUCCESS);
	assert_int_equal(n, 3);
	assert_int_equal(MPI_Get_count(&st, pair, &n), MPI_SUCCESS);
	assert_int_equal(n, MPI_UNDEFINED);
	assert_int_equal(MPI_Get_count(&st, MPI_INT, &n), MPI_SUCCESS);
	assert_int_equal(n, 3);
	assert_int_equal(MPI_Status_set_elements_x(&st, MPI_DOUBLE_INT, 3), MPI_SUCCESS);
	assert_int_equal(MPI_Get_elements_x(&st, MPI_DOUBLE_INT, &x), MPI_SUCCESS);
	assert_int_equal(x, 3);
	assert_int_equal(MPI_Get_count(&st, MPI_DOUBLE_INT, &n), MPI_SUCCESS);
	assert_int_equal(n, MPI_UNDEFINED);
	assert_int_equal(MPI_Get_elements(&st, MPI_BYTE, &n), MPI_SUCCESS);
	assert_int_equal(n, 12 + 8);
	MPI_Type_free(&pair);
}

/* A restart makes every live record again, components first, under the
 * same handles, including a component the application freed. */
static void test_rebuild_after_restart(void **state)
{
	(void)state;
	MPI_Datatype v, s, r, gone;

	assert_int_equal(MPI_Type_contiguous(2, MPI_INT, &gone), MPI_SUCCESS);
	assert_int_equal(MPI_Type_free(&gone), MPI_SUCCESS);
	assert_int_equal(MPI_Type_vector(2, 1, 3, MPI_DOUBLE, &v), MPI_SUCCESS);
	assert_int_equal(MPI_Type_create_struct(2, (int[]){ 1, 1 }, (MPI_Aint[]){ 0, 64 },
						(MPI_Datatype[]){ v, MPI_INT }, &s),
			 MPI_SUCCESS);
	assert_int_equal(MPI_Type_create_resized(s, 0, 80, &r), MPI_SUCCESS);
	assert_int_equal(MPI_Type_free(&v), MPI_SUCCESS);
	assert_int_equal(MPI_Type_free(&s), MPI_SUCCESS);
	/* Other tests' types are alive too: find ours in what is sent. */
	int before = seen.creates;
	assert_int_equal(shim_type_rebuild_all(), MPI_SUCCESS);
	int at_v = -1, at_s = -1, at_r = -1;
	for (int i = before; i < seen.creates && i < 4096; i++) {
		struct shim_type *t = shim_handle_get(SHIM_K_TYPE, (uintptr_t)seen.created[i][0]);
		assert_non_null(t);
		assert_int_equal(t->combiner, seen.created[i][1]);
		if (t->combiner == MPI_COMBINER_VECTOR && t->ints[2] == 3)
			at_v = i;
		if (t->combiner == MPI_COMBINER_STRUCT && t->addrs[1] == 64)
			at_s = i;
		if ((intptr_t)seen.created[i][0] == (intptr_t)r)
			at_r = i;
	}
	assert_true(at_v >= 0 && at_s > at_v && at_r > at_s);
	MPI_Type_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bounds_match_native),
		cmocka_unit_test(test_flatten_matches_model),
		cmocka_unit_test(test_copy_out_partial),
		cmocka_unit_test(test_unpack_whole),
		cmocka_unit_test(test_staging_send_recv),
		cmocka_unit_test(test_predefined_fast_path),
		cmocka_unit_test(test_long_double_padding),
		cmocka_unit_test(test_sparse_goes_packed),
		cmocka_unit_test(test_bottom_absolute),
		cmocka_unit_test(test_free_while_pending),
		cmocka_unit_test(test_envelope_contents),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_pack_unpack),
		cmocka_unit_test(test_external32),
		cmocka_unit_test(test_status_elements),
		cmocka_unit_test(test_rebuild_after_restart),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
