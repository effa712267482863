/*
 * collkey.c - sequence keys for the two communicator constructors that
 * no communicator's counter describes: MPI_Intercomm_create and
 * MPI_Comm_create_group.
 *
 * A checkpoint may only hold a rank back from a collective that none of
 * the collective's other participants has entered (shim/ckpt.c): the
 * participants count it under a key they all share, and the coordinator
 * takes the maximum per key.  For most collectives the key is their
 * communicator's gid.  These two do not fit:
 *
 *   Intercomm_create  every member of local_comm takes part (counted on
 *                     local_comm), and the two leaders also wait for each
 *                     other over peer_comm, which the other members of
 *                     peer_comm do not enter.  The leaders count it on a
 *                     key of their own, the unordered pair of their world
 *                     ranks, so one leader inside it makes the other
 *                     behind, and the other's local group with it.
 *   Comm_create_group only the group's members take part, not the parent
 *                     communicator.  They count it on a key hashed from
 *                     (parent gid, tag, members' world ranks), which every
 *                     member computes alike (MPI requires the same group
 *                     and tag of all, and distinct tags for concurrent
 *                     calls).  A member that has never made this group
 *                     has no such key yet and could not tell it is
 *                     behind; so a member inside the call reports a
 *                     notice to each other member ("world rank w: you
 *                     owe key K"), a pair keyed by w.
 *
 * Keys are negative so they never meet a gid (>= 0) or SELF's -1: the
 * top bit, a kind in the next seven bits, then 56 bits of payload (two
 * 28-bit world ranks, a hash, or a world rank).  Two different groups
 * whose hashes agree in 56 bits would share a counter; we accept that
 * chance.
 *
 * The records live in application memory, so counts go on across a
 * restart; a rebuilt communicator keeps its gid, so do the hashes.
 * Freed communicators leave a record too, under their gid (see
 * shim_key_retire).
 */
#include "shim.h"

#include <stdlib.h>
#include <string.h>

#include "util/log.h"

enum { KEY_PAIR = 1, KEY_GROUP = 2, KEY_NOTICE = 3 };
#define KEY_PAYLOAD ((UINT64_C(1) << 56) - 1)
#define RANK_BITS 28

static int64_t make_key(int kind, uint64_t payload)
{
	return (int64_t)(UINT64_C(1) << 63 | (uint64_t)kind << 56 | (payload & KEY_PAYLOAD));
}

static int kind_of(int64_t key)
{
	if (key >= -1)
		return 0; /* a communicator's gid (or SELF) */
	return (int)(((uint64_t)key >> 56) & 0x7f);
}

static uint64_t payload_of(int64_t key)
{
	return (uint64_t)key & KEY_PAYLOAD;
}

int64_t shim_key_pair(int a, int b)
{
	int lo = a < b ? a : b, hi = a < b ? b : a;

	return make_key(KEY_PAIR, (uint64_t)lo << RANK_BITS | (uint64_t)hi);
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * UINT64_C(1099511628211);
	return h;
}

int64_t shim_key_group(int64_t parent_gid, int tag, const int *world, int n)
{
	uint64_t h = UINT64_C(14695981039346656037);

	h = fnv(h, &parent_gid, sizeof(parent_gid));
	h = fnv(h, &tag, sizeof(tag));
	h = fnv(h, world, (size_t)n * sizeof(*world));
	return make_key(KEY_GROUP, h);
}

/* ---- the records ---- */

/* Every freed communicator leaves a record until the next checkpoint,
 * and a program may free hundreds of thousands (MPICH's comm/ctxalloc
 * dups and frees 200,000), so records are found through a hash index.
 * They stay in a list, newest first, for the report: a checkpoint's
 * message holds COORD_MAX_PAIRS pairs, and the communicators freed last
 * are the ones some member may not have begun freeing. */
struct key_rec {
	struct key_rec *next;   /* the list, newest first */
	struct key_rec *hnext;  /* in its bucket */
	int64_t key;
	int64_t seq;      /* constructors counted under it so far */
	int busy;         /* of them, still inside the real MPI */
	int n;            /* group keys: the members' world ranks */
	int *members;
};

#define KEY_BUCKETS_MIN_BITS 6

static pthread_mutex_t key_mu = PTHREAD_MUTEX_INITIALIZER;
static struct key_rec *recs;
static size_t nrecs;
static struct key_rec **buckets;
static unsigned bucket_bits;   /* 1 << bucket_bits buckets, 0 before the first record */

static size_t bucket_of(int64_t key, unsigned bits)
{
	return (size_t)(((uint64_t)key * UINT64_C(0x9E3779B97F4A7C15)) >> (64 - bits));
}

static struct key_rec *find(int64_t key)
{
	if (!bucket_bits)
		return NULL;
	for (struct key_rec *r = buckets[bucket_of(key, bucket_bits)]; r; r = r->hnext)
		if (r->key == key)
			return r;
	return NULL;
}

static void index_put(struct key_rec **b, unsigned bits, struct key_rec *r)
{
	size_t i = bucket_of(r->key, bits);

	r->hnext = b[i];
	b[i] = r;
}

static void index_fill(struct key_rec **b, unsigned bits)
{
	memset(b, 0, ((size_t)1 << bits) * sizeof(*b));
	for (struct key_rec *r = recs; r; r = r->next)
		index_put(b, bits, r);
}

/* The index rebuilt with 1 << bits buckets; without memory it stays as
 * it is (-1). */
static int index_build(unsigned bits)
{
	struct key_rec **nb = malloc(((size_t)1 << bits) * sizeof(*nb));

	if (!nb)
		return -1;
	index_fill(nb, bits);
	free(buckets);
	buckets = nb;
	bucket_bits = bits;
	return 0;
}

/* Twice the buckets once there are as many records as buckets.  A table
 * that cannot grow is slower, still right: -1 only when there is none. */
static int index_room(void)
{
	if (bucket_bits && nrecs < ((size_t)1 << bucket_bits))
		return 0;
	int err = index_build(bucket_bits ? bucket_bits + 1 : KEY_BUCKETS_MIN_BITS);
	return bucket_bits ? 0 : err;
}

static struct key_rec *find_or_add(int64_t key, const int *members, int n)
{
	struct key_rec *r = find(key);

	if (r)
		return r;
	if (index_room() < 0)
		return NULL;
	r = calloc(1, sizeof(*r));
	int *m = malloc((size_t)(n ? n : 1) * sizeof(int));
	if (!r || !m) {
		free(r);
		free(m);
		return NULL;
	}
	if (n)
		memcpy(m, members, (size_t)n * sizeof(int));
	r->key = key;
	r->members = m;
	r->n = n;
	r->next = recs;
	recs = r;
	index_put(buckets, bucket_bits, r);
	nrecs++;
	return r;
}

int64_t shim_key_seq(int64_t key)
{
	pthread_mutex_lock(&key_mu);
	struct key_rec *r = find(key);
	int64_t s = r ? r->seq : 0;
	pthread_mutex_unlock(&key_mu);
	return s;
}

/* A freed communicator: MPI_Comm_free synchronises nobody, so a member
 * may be done with it (its record gone) while another has not begun.
 * Its last number is reported on under its gid until a checkpoint has
 * brought every member there (shim_key_forget_retired, at PARK). */
void shim_key_retire(int64_t gid, int64_t seq)
{
	pthread_mutex_lock(&key_mu);
	struct key_rec *r = find_or_add(gid, NULL, 0);
	if (r)
		r->seq = seq;
	pthread_mutex_unlock(&key_mu);
	if (!r)
		dm_err("rank %d: no memory to remember a freed communicator; "
		       "a checkpoint may time out", shim.world_rank);
}

void shim_key_forget_retired(void)
{
	pthread_mutex_lock(&key_mu);
	for (struct key_rec **pp = &recs; *pp;) {
		struct key_rec *r = *pp;
		if (kind_of(r->key) == 0) {
			*pp = r->next;
			free(r->members);
			free(r);
			nrecs--;
		} else {
			pp = &r->next;
		}
	}
	if (bucket_bits)
		index_fill(buckets, bucket_bits);
	pthread_mutex_unlock(&key_mu);
}

/* ---- tickets: what one call is counted under ---- */

void shim_coll_ticket_comm(struct shim_coll_ticket *t, struct shim_comm *c)
{
	if (shim_ck_no_bookkeeping || c->gid < 0 || t->n == SHIM_TICKET_MAX)
		return;
	t->key[t->n] = c->gid;
	t->seq[t->n] = atomic_fetch_add(&c->coll_seq, 1) + 1;
	t->counted[t->n++] = 0;
}

void shim_coll_ticket_key(struct shim_coll_ticket *t, int64_t key, const int *members, int n)
{
	if (shim_ck_no_bookkeeping || t->n == SHIM_TICKET_MAX)
		return;
	pthread_mutex_lock(&key_mu);
	struct key_rec *r = find_or_add(key, members, n);
	if (r) {
		r->seq++;
		r->busy++;
		t->key[t->n] = key;
		t->seq[t->n] = r->seq;
		t->counted[t->n++] = 1;
	}
	pthread_mutex_unlock(&key_mu);
	if (!r)
		dm_err("rank %d: no memory to count a communicator constructor; "
		       "a checkpoint may time out while it runs", shim.world_rank);
}

void shim_coll_ticket_admit(struct shim_coll_ticket *t)
{
	shim_coll_on_way_mine();
	if (t->n && atomic_load(&shim_ck_phase) != SHIM_CK_NONE)
		shim_ckpt_ticket_gate(t);
}

void shim_coll_ticket_done(struct shim_coll_ticket *t)
{
	pthread_mutex_lock(&key_mu);
	for (int i = 0; i < t->n; i++) {
		struct key_rec *r = t->counted[i] ? find(t->key[i]) : NULL;
		if (r)
			r->busy--;
	}
	pthread_mutex_unlock(&key_mu);
}

/* ---- what a checkpoint sees ---- */

static int add_pair(int64_t *pairs, int max, int n, int64_t key, int64_t seq)
{
	if (n >= max)
		return n;
	pairs[2 * n] = key;
	pairs[2 * n + 1] = seq;
	return n + 1;
}

/* r's own pair and, for a group constructor some member is inside, a
 * notice to each other member. */
static int report_rec(int64_t *pairs, int max, int n, const struct key_rec *r, int me)
{
	n = add_pair(pairs, max, n, r->key, r->seq);
	if (!r->busy || kind_of(r->key) != KEY_GROUP)
		return n;
	for (int i = 0; i < r->n; i++)
		if (r->members[i] != me)
			n = add_pair(pairs, max, n, make_key(KEY_NOTICE, (uint64_t)r->members[i]),
				     r->key);
	return n;
}

int shim_key_report(int64_t *pairs, int max, int me)
{
	int n = 0;

	pthread_mutex_lock(&key_mu);
	for (const struct key_rec *r = recs; r; r = r->next)
		n = report_rec(pairs, max, n, r, me);
	pthread_mutex_unlock(&key_mu);
	return n;
}

static int64_t target_in(const int64_t *targets, int n, int64_t key, int *found)
{
	for (int i = 0; i < n; i++) {
		if (targets[2 * i] == key) {
			*found = 1;
			return targets[2 * i + 1];
		}
	}
	*found = 0;
	return 0;
}

static int names_me(int64_t key, int me)
{
	uint64_t p = payload_of(key), mask = (UINT64_C(1) << RANK_BITS) - 1;

	switch (kind_of(key)) {
	case KEY_PAIR:
		return (int)(p >> RANK_BITS) == me || (int)(p & mask) == me;
	case KEY_NOTICE:
		return (int)p == me;
	default:
		return 0;
	}
}

int shim_key_behind(const int64_t *targets, int n, int me)
{
	int behind = 0;

	for (int i = 0; i < n; i++) {
		int64_t key = targets[2 * i], target = targets[2 * i + 1];
		int kind = kind_of(key), found = 1;
		if (kind == KEY_NOTICE && names_me(key, me)) {
			/* A member inside a group constructor names its key. */
			key = target;
			target = target_in(targets, n, key, &found);
		} else if (kind == KEY_GROUP) {
			pthread_mutex_lock(&key_mu);
			found = find(key) != NULL;
			pthread_mutex_unlock(&key_mu);
		} else if (kind != KEY_PAIR || !names_me(key, me)) {
			continue;
		}
		if (found && shim_key_seq(key) < target)
			behind++;
	}
	return behind;
}
