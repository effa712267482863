/*
 * stress.c - the application of tests/ckpt-mpi/stress.sh: thousands of
 * messages in flight whenever a checkpoint lands.
 *
 *   stress DIR STEPS PAUSE_MS
 *
 * At step s every rank sends batch s to every other rank and receives
 * batch s-LAG, so LAG batches are always in flight:
 *   WORLD  BATCH eager messages (8 B .. 1 KiB, tags 0..3), received with
 *          Probe or Iprobe(ANY_SOURCE, ANY_TAG) then Recv of what was seen;
 *   SPLIT  the same on a split with the ranks reversed, received with
 *          Recv(ANY_SOURCE, ANY_TAG);
 *   DUP1   the same on a duplicate of WORLD, received by wildcard Irecvs
 *          posted when the batch is sent and completed LAG steps later;
 *   DUP2   every third step one rendezvous-size message (256 .. 512 KiB)
 *          per peer, received by an Irecv(peer, ANY_TAG) posted LAG steps
 *          before it is waited for.
 * Every Isend is waited for LAG steps after it started, so unmatched
 * sends are pending too.  A message is its stream's sequence number
 * followed by bytes that follow from (comm, source, dest, tag, seq).
 * Receivers record, per stream (comm, source, tag), in the order the
 * receives matched, a count and an FNV-1a hash of the messages, and count
 * those out of order (every receive here is recorded in the order it
 * matched, so each stream must arrive as seq 0, 1, 2, ...) and those
 * whose size or bytes are wrong.  At the end each rank writes
 * DIR/out.<rank>; an uninterrupted run and a checkpointed, killed and
 * restarted one must write the same files.  DIR/step.<rank> holds the
 * last step begun, for the script to time its checkpoints.
 */
#include <fcntl.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LAG 5
#define SLOTS (LAG + 1) /* batches s-LAG .. s are live at step s */
#define BATCH 60
#define NTAGS 4
#define EAGER_MAX 1024
#define BIG_MIN (256 << 10)
#define BIG_MAX (512 << 10)
#define BIG_EVERY 3
#define MAXR 8

enum { C_WORLD, C_SPLIT, C_DUP1, C_DUP2, NCOMM };
static const char *comm_name[NCOMM] = { "world", "split", "dup1", "dup2" };

static int rank, size;
static MPI_Comm comms[NCOMM];
static int world_of[NCOMM][MAXR];  /* rank in comm -> world rank */
static int rank_in[NCOMM][MAXR];   /* world rank -> rank in comm */

struct stream {
	long n, bad, disorder;
	uint64_t hash;
};
static struct stream streams[NCOMM][MAXR][NTAGS];
static uint32_t next_seq[NCOMM][MAXR][NTAGS]; /* sender side, per dest */

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t key(int c, int src, int dst, int tag, uint32_t seq)
{
	return mix(((uint64_t)c << 56) ^ ((uint64_t)src << 48) ^
		   ((uint64_t)dst << 40) ^ ((uint64_t)tag << 32) ^ seq);
}

static int msg_size(int c, int src, int dst, int tag, uint32_t seq)
{
	uint64_t k = key(c, src, dst, tag, seq) >> 7;

	if (c == C_DUP2)
		return BIG_MIN + (int)(k % (BIG_MAX - BIG_MIN + 1));
	return 8 + (int)(k % (EAGER_MAX - 8 + 1));
}

/* The tag of the i-th message of step s from src to dst on c. */
static int msg_tag(int c, int src, int dst, long s, int i)
{
	if (c == C_DUP2)
		return (int)(s / BIG_EVERY % 2);
	return (int)(mix((uint64_t)s * 1000003u + (uint64_t)i * 131u +
			 (uint64_t)(src * MAXR + dst) + (uint64_t)c * 7919u) % NTAGS);
}

static void fill(unsigned char *b, int n, int c, int src, int dst, int tag, uint32_t seq)
{
	uint64_t x = key(c, src, dst, tag, seq);

	memcpy(b, &seq, sizeof(seq));
	for (int i = 4; i < n; i++) {
		if ((i & 7) == 4)
			x = mix(x);
		b[i] = (unsigned char)(x >> (8 * (i & 7)));
	}
}

static uint64_t fnv(uint64_t h, const unsigned char *b, int n)
{
	for (int i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

static unsigned char *expect_buf;

/* A message arrived on comm c from world rank src with tag and bytes. */
static void record(int c, int src, int tag, const unsigned char *b, int n)
{
	struct stream *st = &streams[c][src][tag];
	uint32_t seq = 0;

	if (n >= 4)
		memcpy(&seq, b, sizeof(seq));
	/* Every receive here is matched in the order it is recorded, so
	 * MPI's order per sender makes each stream's seqs 0, 1, 2, ... */
	if (n >= 4 && seq != (uint32_t)st->n) {
		if (!st->disorder)
			fprintf(stderr, "stress (rank %d): %s from %d tag %d: message "
				"%u where %ld was due\n", rank, comm_name[c], src, tag,
				seq, st->n);
		st->disorder++;
	}
	if (n < 4 || n != msg_size(c, src, rank, tag, seq)) {
		st->bad++;
	} else {
		fill(expect_buf, n, c, src, rank, tag, seq);
		st->bad += memcmp(expect_buf, b, (size_t)n) != 0;
	}
	if (st->n++ == 0)
		st->hash = 0xcbf29ce484222325ull; /* FNV-1a's offset basis */
	st->hash = fnv(st->hash, b, n);
}

static void die(const char *what)
{
	fprintf(stderr, "stress (rank %d): %s\n", rank, what);
	MPI_Abort(MPI_COMM_WORLD, 1);
}

/* ---- sends: kept LAG steps ---- */

struct sends {
	MPI_Request *req;
	unsigned char **buf;
	int n;
};
static struct sends sent[SLOTS];

static void send_one(struct sends *q, int c, int dst, long s, int i)
{
	int tag = msg_tag(c, rank, dst, s, i);
	uint32_t seq = next_seq[c][dst][tag]++;
	int n = msg_size(c, rank, dst, tag, seq);
	unsigned char *b = malloc((size_t)n);

	if (!b)
		die("out of memory");
	fill(b, n, c, rank, dst, tag, seq);
	q->buf[q->n] = b;
	MPI_Isend(b, n, MPI_BYTE, rank_in[c][dst], tag, comms[c], &q->req[q->n++]);
}

static void send_batch(long s)
{
	struct sends *q = &sent[s % SLOTS];
	int max = (size - 1) * (3 * BATCH + 1);

	q->req = malloc((size_t)max * sizeof(*q->req));
	q->buf = malloc((size_t)max * sizeof(*q->buf));
	if (!q->req || !q->buf)
		die("out of memory");
	q->n = 0;
	for (int i = 0; i < BATCH; i++)
		for (int d = 0; d < size; d++)
			for (int c = C_WORLD; c <= C_DUP1; c++)
				if (d != rank)
					send_one(q, c, d, s, i);
	if (s % BIG_EVERY == 0)
		for (int d = 0; d < size; d++)
			if (d != rank)
				send_one(q, C_DUP2, d, s, 0);
}

static void finish_sends(long s)
{
	struct sends *q = &sent[s % SLOTS];
	MPI_Status *st = malloc((size_t)(q->n ? q->n : 1) * sizeof(*st));

	if (!st)
		die("out of memory");
	MPI_Waitall(q->n, q->req, st);
	free(st);
	for (int i = 0; i < q->n; i++)
		free(q->buf[i]);
	free(q->req);
	free(q->buf);
	q->req = NULL;
	q->buf = NULL;
	q->n = 0;
}

/* ---- receives posted ahead (DUP1, DUP2) ---- */

struct posted {
	MPI_Request *req;
	unsigned char **buf;
	int *comm;
	int n;
};
static struct posted ahead[SLOTS];

static void post_one(struct posted *p, int c, int src, int len)
{
	unsigned char *b = malloc((size_t)len);

	if (!b)
		die("out of memory");
	p->buf[p->n] = b;
	p->comm[p->n] = c;
	MPI_Irecv(b, len, MPI_BYTE, src, MPI_ANY_TAG, comms[c], &p->req[p->n++]);
}

static void post_batch(long s)
{
	struct posted *p = &ahead[s % SLOTS];
	int max = (size - 1) * (BATCH + 1);

	p->req = malloc((size_t)max * sizeof(*p->req));
	p->buf = malloc((size_t)max * sizeof(*p->buf));
	p->comm = malloc((size_t)max * sizeof(*p->comm));
	if (!p->req || !p->buf || !p->comm)
		die("out of memory");
	p->n = 0;
	for (int i = 0; i < (size - 1) * BATCH; i++)
		post_one(p, C_DUP1, MPI_ANY_SOURCE, EAGER_MAX);
	if (s % BIG_EVERY == 0)
		for (int d = 0; d < size; d++)
			if (d != rank)
				post_one(p, C_DUP2, rank_in[C_DUP2][d], BIG_MAX);
}

static void finish_posted(long s)
{
	struct posted *p = &ahead[s % SLOTS];
	MPI_Status *st = malloc((size_t)(p->n ? p->n : 1) * sizeof(*st));

	if (!st)
		die("out of memory");
	MPI_Waitall(p->n, p->req, st);
	for (int i = 0; i < p->n; i++) {
		int c = p->comm[i], n;
		MPI_Get_count(&st[i], MPI_BYTE, &n);
		record(c, world_of[c][st[i].MPI_SOURCE], st[i].MPI_TAG, p->buf[i], n);
		free(p->buf[i]);
	}
	free(st);
	free(p->req);
	free(p->buf);
	free(p->comm);
	p->n = 0;
}

/* ---- blocking wildcard receives (WORLD, SPLIT) ---- */

static unsigned char *rbuf;

static void recv_world(long s, int i)
{
	MPI_Status st;
	int n, flag = 0;

	if ((s + i) % 2)
		MPI_Probe(MPI_ANY_SOURCE, MPI_ANY_TAG, comms[C_WORLD], &st);
	else
		while (!flag)
			MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, comms[C_WORLD], &flag, &st);
	MPI_Recv(rbuf, EAGER_MAX, MPI_BYTE, st.MPI_SOURCE, st.MPI_TAG, comms[C_WORLD], &st);
	MPI_Get_count(&st, MPI_BYTE, &n);
	record(C_WORLD, st.MPI_SOURCE, st.MPI_TAG, rbuf, n);
}

static void recv_split(void)
{
	MPI_Status st;
	int n;

	MPI_Recv(rbuf, EAGER_MAX, MPI_BYTE, MPI_ANY_SOURCE, MPI_ANY_TAG, comms[C_SPLIT], &st);
	MPI_Get_count(&st, MPI_BYTE, &n);
	record(C_SPLIT, world_of[C_SPLIT][st.MPI_SOURCE], st.MPI_TAG, rbuf, n);
}

static void receive_batch(long s)
{
	for (int i = 0; i < (size - 1) * BATCH; i++) {
		recv_world(s, i);
		recv_split();
	}
	finish_posted(s);
}

/* ---- set-up, steps, report ---- */

static void make_comms(void)
{
	comms[C_WORLD] = MPI_COMM_WORLD;
	MPI_Comm_split(MPI_COMM_WORLD, 0, size - rank, &comms[C_SPLIT]);
	MPI_Comm_dup(MPI_COMM_WORLD, &comms[C_DUP1]);
	MPI_Comm_dup(MPI_COMM_WORLD, &comms[C_DUP2]);
	for (int c = 0; c < NCOMM; c++) {
		int me;
		MPI_Comm_rank(comms[c], &me);
		MPI_Allgather(&rank, 1, MPI_INT, world_of[c], 1, MPI_INT, comms[c]);
		for (int r = 0; r < size; r++)
			rank_in[c][world_of[c][r]] = r;
		if (world_of[c][me] != rank)
			die("Allgather put my rank in the wrong place");
	}
}

/* Fixed width, written over in place: a reader never sees it empty. */
static void note_step(const char *dir, long s)
{
	char path[4096], line[32];
	int n = snprintf(line, sizeof(line), "%09ld\n", s);

	snprintf(path, sizeof(path), "%s/step.%d", dir, rank);
	int fd = open(path, O_WRONLY | O_CREAT, 0644);
	if (fd >= 0) {
		if (pwrite(fd, line, (size_t)n, 0) != n)
			die("cannot write the step file");
		close(fd);
	}
}

static void report(const char *dir, long steps)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/out.%d", dir, rank);
	FILE *f = fopen(path, "w");
	if (!f)
		die("cannot write the output file");
	fprintf(f, "rank %d of %d, %ld steps\n", rank, size, steps);
	for (int c = 0; c < NCOMM; c++)
		for (int r = 0; r < size; r++)
			for (int t = 0; t < NTAGS; t++) {
				struct stream *st = &streams[c][r][t];
				if (st->n)
					fprintf(f, "%s from %d tag %d: %ld messages, "
						"hash %016llx, %ld out of order, %ld bad\n",
						comm_name[c], r, t, st->n,
						(unsigned long long)st->hash, st->disorder,
						st->bad);
			}
	fclose(f);
}

int main(int argc, char **argv)
{
	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (argc != 4 || size > MAXR) {
		fprintf(stderr, "usage: stress DIR STEPS PAUSE_MS (at most %d ranks)\n", MAXR);
		MPI_Abort(MPI_COMM_WORLD, 64);
	}
	long steps = atol(argv[2]), pause = atol(argv[3]);
	struct timespec ts = { pause / 1000, pause % 1000 * 1000000L };
	rbuf = malloc(EAGER_MAX);
	expect_buf = malloc(BIG_MAX);
	if (!rbuf || !expect_buf)
		die("out of memory");
	make_comms();
	for (long s = 0; s < steps + LAG; s++) {
		note_step(argv[1], s);
		if (s < steps) {
			post_batch(s);
			send_batch(s);
		}
		if (s >= LAG) {
			receive_batch(s - LAG);
			finish_sends(s - LAG);
		}
		nanosleep(&ts, NULL);
	}
	MPI_Barrier(MPI_COMM_WORLD);
	report(argv[1], steps);
	printf("stress: rank %d of %d done\n", rank, size);
	MPI_Comm_free(&comms[C_SPLIT]);
	MPI_Comm_free(&comms[C_DUP1]);
	MPI_Comm_free(&comms[C_DUP2]);
	MPI_Finalize();
	return 0;
}
