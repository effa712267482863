/*
 * test_collkey.c - unit tests of the sequence keys of Intercomm_create
 * and Comm_create_group (shim/collkey.c).
 *
 * A checkpoint is consistent only if every participant of such a call
 * (and of MPI_Comm_free) learns it is behind when another one is inside: these tests play the
 * coordinator (the maximum per key over what ranks report) with the
 * reports of two simulated ranks and check what each one is told.  The
 * records of one process are global, so "the other rank" is described
 * by the pairs it would report, written out by hand from the rules in
 * collkey.c's header, never by the code under test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "shim/shim.h"

#define MAXP 64

/* Pairs as the coordinator sends them: the maximum per key. */
struct targets {
	int n;
	int64_t p[2 * MAXP];
};

static void merge(struct targets *t, const int64_t *pairs, int n)
{
	for (int i = 0; i < n; i++) {
		int j = 0;
		while (j < t->n && t->p[2 * j] != pairs[2 * i])
			j++;
		if (j == t->n) {
			t->p[2 * j] = pairs[2 * i];
			t->p[2 * j + 1] = pairs[2 * i + 1];
			t->n++;
		} else if (pairs[2 * i + 1] > t->p[2 * j + 1]) {
			t->p[2 * j + 1] = pairs[2 * i + 1];
		}
	}
}

static int64_t value_of(const int64_t *pairs, int n, int64_t key, int *found)
{
	for (int i = 0; i < n; i++)
		if (pairs[2 * i] == key) {
			*found = 1;
			return pairs[2 * i + 1];
		}
	*found = 0;
	return 0;
}

static void pair_keys_name_two_ranks_in_either_order(void **state)
{
	(void)state;
	int64_t k = shim_key_pair(3, 9);

	assert_true(k == shim_key_pair(9, 3));
	assert_true(k < -1); /* never a gid (>= 0) nor SELF's -1 */
	assert_true(k != shim_key_pair(3, 8));
	assert_true(k != shim_key_pair(2, 9));
	assert_true(shim_key_pair(0, 1) != shim_key_pair(1, 2));
}

static void group_keys_differ_by_parent_tag_and_members(void **state)
{
	(void)state;
	int g[3] = { 0, 2, 5 }, h[3] = { 0, 2, 6 };
	int64_t k = shim_key_group(0, 11, g, 3);

	assert_true(k < -1);
	assert_true(k == shim_key_group(0, 11, g, 3));
	assert_true(k != shim_key_group(0, 12, g, 3));
	assert_true(k != shim_key_group(1, 11, g, 3));
	assert_true(k != shim_key_group(0, 11, h, 3));
	assert_true(k != shim_key_group(0, 11, g, 2));
	assert_true(k != shim_key_pair(0, 2));
}

/* World rank 1 is the remote leader of rank 4 and has never made an
 * intercommunicator with it: once rank 4 reports a pair count of 1,
 * rank 1 is behind; a leader of another pair is not. */
static void a_leader_inside_makes_the_other_leader_behind(void **state)
{
	(void)state;
	int64_t k = shim_key_pair(1, 4);
	int64_t other[2] = { k, 1 }; /* rank 4, inside its Intercomm_create */
	struct targets t = { 0 };

	merge(&t, other, 1);
	assert_int_equal(shim_key_behind(t.p, t.n, 1), 1);
	assert_int_equal(shim_key_behind(t.p, t.n, 4), 1); /* nothing counted here */
	assert_int_equal(shim_key_behind(t.p, t.n, 2), 0);

	/* Rank 1 enters its side: counted, no longer behind. */
	struct shim_coll_ticket tk = { 0 };
	shim_coll_ticket_key(&tk, k, NULL, 0);
	assert_int_equal(tk.n, 1);
	assert_int_equal(tk.seq[0], 1);
	assert_int_equal(shim_key_behind(t.p, t.n, 1), 0);
	shim_coll_ticket_done(&tk);
	assert_int_equal(shim_key_seq(k), 1);
}

/* The first notice for key k in a report (0 if none); with a group of
 * two there is one, naming the other member. */
static int64_t notice_for(const int64_t *rep, int n, int64_t k)
{
	for (int i = 0; i < n; i++)
		if (rep[2 * i] != k && rep[2 * i + 1] == k)
			return rep[2 * i];
	return 0;
}

/* Comm_create_group of world ranks {2, 7} with tag 5 on WORLD, we are
 * rank 2 and inside it: the report counts it and carries one notice,
 * for rank 7, naming the key; none once the call has returned. */
static void a_member_inside_reports_a_notice_per_other_member(void **state)
{
	(void)state;
	int g[2] = { 2, 7 };
	int64_t k = shim_key_group(0, 5, g, 2), rep[2 * MAXP];
	struct shim_coll_ticket tk = { 0 };
	int found;

	shim_coll_ticket_key(&tk, k, g, 2);
	int n = shim_key_report(rep, MAXP, 2);
	assert_int_equal(value_of(rep, n, k, &found), 1);
	assert_true(found);
	int notices = 0;
	for (int i = 0; i < n; i++)
		notices += rep[2 * i] != k && rep[2 * i + 1] == k;
	assert_int_equal(notices, 1);
	int64_t nk = notice_for(rep, n, k);
	assert_true(nk < -1 && nk != k);

	shim_coll_ticket_done(&tk);
	n = shim_key_report(rep, MAXP, 2);
	notices = 0;
	for (int i = 0; i < n; i++)
		notices += rep[2 * i] != k && rep[2 * i + 1] == k;
	assert_int_equal(notices, 0);
}

/* A member that never made a group has no record of its key: only a
 * notice naming it tells it that it is behind (and not anybody else). */
static void a_notice_makes_the_member_without_a_record_behind(void **state)
{
	(void)state;
	int g[2] = { 3, 8 }, never[2] = { 3, 9 };
	int64_t k = shim_key_group(0, 6, g, 2), rep[2 * MAXP];
	int64_t absent = shim_key_group(0, 6, never, 2); /* no record here */
	struct shim_coll_ticket tk = { 0 };

	/* Learn what a notice naming rank 8 looks like from a report. */
	shim_coll_ticket_key(&tk, k, g, 2);
	int n = shim_key_report(rep, MAXP, 3);
	int64_t to8 = notice_for(rep, n, k);
	shim_coll_ticket_done(&tk);
	assert_true(to8 != 0);

	/* Rank 3 is inside Comm_create_group(absent): its count and its
	 * notice to rank 8 (same notice key, the other group's key). */
	int64_t targets[4] = { absent, 1, to8, absent };
	assert_int_equal(shim_key_behind(targets, 2, 8), 1);
	assert_int_equal(shim_key_behind(targets, 2, 9), 0); /* not named */
	assert_int_equal(shim_key_behind(targets, 2, 3), 0);
	/* Without the notice nothing says rank 8 is a member. */
	assert_int_equal(shim_key_behind(targets, 1, 8), 0);
}

/* A freed communicator's last number is reported under its gid, so a
 * member that has not begun freeing it is told it is behind, until a
 * checkpoint has parked; constructor keys outlive that. */
static void a_freed_communicator_is_reported_until_a_park(void **state)
{
	(void)state;
	int64_t gid = (int64_t)3 << 32 | 41, rep[2 * MAXP];
	int g[2] = { 0, 3 }, found;
	int64_t k = shim_key_group(0, 77, g, 2);
	struct shim_coll_ticket tk = { 0 };

	shim_coll_ticket_key(&tk, k, g, 2);
	shim_coll_ticket_done(&tk);
	shim_key_retire(gid, 12);
	int n = shim_key_report(rep, MAXP, 0);
	assert_int_equal(value_of(rep, n, gid, &found), 12);
	assert_true(found);
	/* A gid in the targets is a communicator's business, never a key's. */
	int64_t targets[2] = { gid, 13 };
	assert_int_equal(shim_key_behind(targets, 1, 3), 0);

	shim_key_forget_retired();
	n = shim_key_report(rep, MAXP, 0);
	value_of(rep, n, gid, &found);
	assert_false(found);
	assert_int_equal(value_of(rep, n, k, &found), 1);
	assert_true(found);
}

/* A program may free hundreds of thousands of communicators between two
 * checkpoints: each keeps its own number through the table's growth, the
 * constructor keys made before stay, and a park forgets only the gids. */
static void many_freed_communicators_each_keep_their_number(void **state)
{
	(void)state;
	enum { LEADERS = 5, PER = 1000, N = LEADERS * PER };
	int g[2] = { 1, 4 }, found;
	int64_t k = shim_key_group(0, 91, g, 2);
	struct shim_coll_ticket tk = { 0 };
	int64_t *rep = malloc(2 * (N + 64) * sizeof(*rep));

	assert_non_null(rep);
	shim_coll_ticket_key(&tk, k, g, 2);
	shim_coll_ticket_done(&tk);
	int64_t k_seq = shim_key_seq(k);
	for (int64_t m = 0; m < LEADERS; m++)
		for (int64_t j = 1; j <= PER; j++)
			shim_key_retire(m << 32 | j, 7 * j + m);
	int n = shim_key_report(rep, N + 64, 0);
	for (int64_t m = 0; m < LEADERS; m++) {
		for (int64_t j = 1; j <= PER; j++) {
			int64_t gid = m << 32 | j;
			assert_int_equal(value_of(rep, n, gid, &found), 7 * j + m);
			assert_true(found);
			assert_int_equal(shim_key_seq(gid), 7 * j + m);
		}
	}
	assert_int_equal(value_of(rep, n, k, &found), k_seq);
	assert_true(found);

	shim_key_forget_retired();
	n = shim_key_report(rep, N + 64, 0);
	for (int i = 0; i < n; i++)
		assert_true(rep[2 * i] < -1); /* no gid left, only keys */
	assert_int_equal(value_of(rep, n, k, &found), k_seq);
	assert_true(found);
	shim_key_retire((int64_t)2 << 32 | 5, 3);
	assert_int_equal(shim_key_seq((int64_t)2 << 32 | 5), 3);
	shim_key_forget_retired();
	free(rep);
}

/* A report with no room for every record keeps the communicators freed
 * last: only those may still be live on a member that has not begun
 * freeing them. */
static void a_full_report_keeps_the_newest_freed(void **state)
{
	(void)state;
	int64_t rep[2 * 10];
	int found;

	for (int64_t j = 1; j <= 100; j++)
		shim_key_retire((int64_t)6 << 32 | j, j);
	int n = shim_key_report(rep, 10, 0);
	assert_int_equal(n, 10);
	for (int64_t j = 91; j <= 100; j++) {
		assert_int_equal(value_of(rep, n, (int64_t)6 << 32 | j, &found), j);
		assert_true(found);
	}
	shim_key_forget_retired();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pair_keys_name_two_ranks_in_either_order),
		cmocka_unit_test(group_keys_differ_by_parent_tag_and_members),
		cmocka_unit_test(a_leader_inside_makes_the_other_leader_behind),
		cmocka_unit_test(a_member_inside_reports_a_notice_per_other_member),
		cmocka_unit_test(a_notice_makes_the_member_without_a_record_behind),
		cmocka_unit_test(a_freed_communicator_is_reported_until_a_park),
		cmocka_unit_test(many_freed_communicators_each_keep_their_number),
		cmocka_unit_test(a_full_report_keeps_the_newest_freed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
