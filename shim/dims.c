/*
 * dims.c - the arithmetic of MPI_Dims_create, in the application.
 *
 * The standard asks for dimensions "as close to each other as possible"
 * without fixing a measure, and the two MPIs answer differently for a
 * few inputs (72 processes in 2-D: MPICH 9 x 8, Open MPI 12 x 6).  A
 * program run through dmtcp_mpi must see what it would see natively, so
 * both rules are here and MPI_Dims_create (shim/topo.c) picks the one of
 * the MPI underneath:
 *
 *   BALANCED  among all non-increasing factorisations of the free
 *             product into the free dimensions, the one with the least
 *             largest - smallest; ties go to the sequence that is larger
 *             when compared from its smallest entry up.  This reproduces
 *             MPICH 4.0: checked against every input up to 20000 in 2-D
 *             and 3-D and 3000 in 4-D to 6-D, and against the 75394
 *             answers of its test suite's topo/baddims.h (up to 17-D);
 *   GREEDY    the prime factors, largest first, each multiplied into the
 *             currently smallest dimension, the result sorted
 *             non-increasing.  This reproduces Open MPI 4.1.
 *
 * Both fill the zero entries of dims in order, leaving positive entries
 * as they are.  The search for BALANCED walks the divisors of the free
 * product, each factor at most the one before and tried smallest first,
 * and stops a level once its largest factor minus the most its smallest
 * can still be exceeds the best balance found: the smallest of k factors
 * of r is at most the k-th root of r, which shrinks as the factor grows.
 */
#include "shim.h"

#include <stdlib.h>
#include <string.h>

/* floor(r^(1/k)) for r >= 1, k >= 1. */
static int64_t iroot(int64_t r, int k)
{
	int64_t lo = 1, hi = r;

	while (lo < hi) {
		int64_t mid = lo + (hi - lo + 1) / 2, p = 1;
		int over = 0;
		for (int i = 0; i < k && !over; i++) {
			if (p > r / mid)
				over = 1;
			else
				p *= mid;
		}
		if (over)
			hi = mid - 1;
		else
			lo = mid;
	}
	return lo;
}

struct search {
	int k;
	int64_t *divs;          /* divisors of the free product, ascending */
	int ndivs;
	int *cur;               /* factors chosen so far, non-increasing */
	int *best;
	int64_t best_bal;       /* -1: nothing found yet */
};

/* Is cur (complete) better than best?  Least largest - smallest first;
 * among equals, compare from the smallest dimension up and prefer the
 * larger: that is the order in which MPICH's search keeps the last of
 * equally balanced candidates. */
static int better(const struct search *s)
{
	int64_t bal = s->cur[0] - s->cur[s->k - 1];

	if (s->best_bal < 0 || bal != s->best_bal)
		return s->best_bal < 0 || bal < s->best_bal;
	for (int i = s->k - 1; i >= 0; i--)
		if (s->cur[i] != s->best[i])
			return s->cur[i] > s->best[i];
	return 0;
}

/* Choose factors i..k-1 of r, each at most max, smallest candidate
 * first.  The smallest factor still to come is at most the (left-1)-th
 * root of what remains after d, which only shrinks as d grows, so once
 * the largest factor minus that bound exceeds the best balance, no
 * larger d can do better. */
static void search(struct search *s, int i, int64_t r, int64_t max)
{
	int left = s->k - i;

	if (left == 1) {
		if (r > max)
			return;
		s->cur[i] = (int)r;
		if (better(s)) {
			s->best_bal = s->cur[0] - s->cur[s->k - 1];
			memcpy(s->best, s->cur, (size_t)s->k * sizeof(int));
		}
		return;
	}
	int64_t floor_root = iroot(r, left);
	for (int j = 0; j < s->ndivs; j++) {
		int64_t d = s->divs[j];
		if (d < floor_root || r % d)
			continue;
		if (d > max || d > r)
			break;
		int64_t top = i ? s->cur[0] : d;
		if (s->best_bal >= 0 && top - iroot(r / d, left - 1) > s->best_bal)
			break;
		s->cur[i] = (int)d;
		search(s, i + 1, r / d, d);
	}
}

/* Prime factors of q, smallest first, into p[] (at most 31 for an int). */
static int prime_factors(int64_t q, int64_t *p)
{
	int n = 0;

	for (int64_t f = 2; f * f <= q; f++)
		while (q % f == 0) {
			p[n++] = f;
			q /= f;
		}
	if (q > 1)
		p[n++] = q;
	return n;
}

static int cmp_asc64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* All divisors of q, ascending; NULL when out of memory. */
static int64_t *divisors(int64_t q, int *n)
{
	int64_t p[64];
	int np = prime_factors(q, p), cap = 1;
	int64_t *d;

	for (int i = 0; i < np;) {
		int j = i;
		while (j < np && p[j] == p[i])
			j++;
		cap *= j - i + 1;
		i = j;
	}
	if (!(d = malloc((size_t)cap * sizeof(*d))))
		return NULL;
	d[0] = 1;
	*n = 1;
	for (int i = 0; i < np;) {
		int j = i, have = *n;
		while (j < np && p[j] == p[i])
			j++;
		for (int e = 1, at = 0; e <= j - i; e++)
			for (int x = 0; x < have; x++, at++)
				d[(*n)++] = d[at] * p[i];
		i = j;
	}
	qsort(d, (size_t)*n, sizeof(*d), cmp_asc64);
	return d;
}

static int balanced(int64_t q, int k, int *out)
{
	struct search s = { .k = k, .best_bal = -1 };

	s.divs = divisors(q, &s.ndivs);
	s.cur = malloc((size_t)k * sizeof(int));
	s.best = malloc((size_t)k * sizeof(int));
	int err = s.divs && s.cur && s.best ? MPI_SUCCESS : MPI_ERR_NO_MEM;
	if (err == MPI_SUCCESS) {
		search(&s, 0, q, q);
		memcpy(out, s.best, (size_t)k * sizeof(int));
	}
	free(s.divs);
	free(s.cur);
	free(s.best);
	return err;
}

static int cmp_desc(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x < y) - (x > y);
}

static void greedy(int64_t q, int k, int *out)
{
	int64_t p[64];
	int n = prime_factors(q, p);

	for (int i = 0; i < k; i++)
		out[i] = 1;
	while (n-- > 0) {
		int small = 0;
		for (int i = 1; i < k; i++)
			if (out[i] < out[small])
				small = i;
		out[small] *= (int)p[n];
	}
	qsort(out, (size_t)k, sizeof(int), cmp_desc);
}

int shim_dims_fill(int nnodes, int ndims, int dims[], enum shim_dims_rule rule)
{
	int64_t fixed = 1;
	int free_dims = 0;

	for (int i = 0; i < ndims; i++) {
		if (dims[i] < 0)
			return MPI_ERR_DIMS;
		if (dims[i] == 0)
			free_dims++;
		else
			fixed *= dims[i];
		if (fixed > nnodes && nnodes > 0)
			return MPI_ERR_DIMS;
	}
	if (free_dims == 0)
		return fixed == nnodes || ndims == 0 ? MPI_SUCCESS : MPI_ERR_DIMS;
	if (nnodes == 0 || nnodes % fixed)
		return MPI_ERR_DIMS;
	int *chosen = malloc((size_t)free_dims * sizeof(int));
	if (!chosen)
		return MPI_ERR_NO_MEM;
	int err = MPI_SUCCESS;
	if (rule == SHIM_DIMS_GREEDY)
		greedy(nnodes / fixed, free_dims, chosen);
	else
		err = balanced(nnodes / fixed, free_dims, chosen);
	for (int i = 0, j = 0; err == MPI_SUCCESS && i < ndims; i++)
		if (dims[i] == 0)
			dims[i] = chosen[j++];
	free(chosen);
	return err;
}
