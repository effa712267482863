/*
 * test_ssend.c - unit tests of shim/ssend.c: the receiver's half (which
 * drained message a synchronous send's info names, and when its
 * acknowledgement is queued) and the sender's (a send PARK took sends its
 * info only at this rank's first DRAIN, and is a send again if the
 * checkpoint fails before; acknowledgements can be taken apart from the
 * infos for the proxy to send).
 *
 * No proxy: the drain queue is filled with shim_drain_push as keep_drained
 * fills it, infos are given as DRAIN would, and the outbox is read with
 * shim_ssend_take instead of being sent.  The model the code must agree
 * with: per (sender, communicator, tag) this checkpoint's drained
 * messages are the last D sent, in order, so the send with L later sends
 * is the (D-L)-th of them, and none if L >= D.  World of 4, this rank is
 * world rank 0; a split communicator of world ranks {3, 0, 1} checks that
 * sources are compared as world ranks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "shim/shim.h"

#define W 4
#define ME 0
#define SUB_GID 42

static MPI_Comm sub;

static int setup(void **state)
{
	static const int members[] = { 3, 0, 1 };

	(void)state;
	shim.world_rank = ME;
	shim.world_size = W;
	if (shim_comm_init_world(ME, W) != MPI_SUCCESS)
		return -1;
	struct shim_comm *c = shim_comm_reserve();
	if (!c || shim_comm_set(c, members, 3, 1, MPI_COMM_WORLD, CALL_COMM_SPLIT) != MPI_SUCCESS)
		return -1;
	c->gid = SUB_GID;
	sub = c->handle;
	return 0;
}

/* A drained message whose one byte names it. */
static void push(MPI_Comm comm, int source, int tag, char name)
{
	assert_int_equal(shim_drain_push(comm, source, tag, &name, 1), MPI_SUCCESS);
}

static struct shim_drained *named(char name)
{
	for (struct shim_drained *d = shim_drain_head; d; d = d->next)
		if (d->data[0] == name)
			return d;
	fail_msg("no drained message %c", name);
	return NULL;
}

static void info(int from, int64_t gid, MPI_Comm comm, int tag, int64_t later, int ack)
{
	int64_t w[SHIM_INFO_WORDS] = {
		[SHIM_INFO_GID] = gid,
		[SHIM_INFO_COMM] = (int64_t)(intptr_t)comm,
		[SHIM_INFO_TAG] = tag,
		[SHIM_INFO_LATER] = later,
		[SHIM_INFO_ACK_TAG] = ack,
	};
	shim_ssend_info(from, w, sizeof(w));
}

/* The outbox holds exactly these acknowledgements (to, tag pairs), in
 * order; it is emptied. */
static void expect_acks(int n, const int *pairs)
{
	struct shim_ssend_out *o = shim_ssend_take();

	for (int i = 0; i < n; i++) {
		assert_non_null(o);
		assert_int_equal(o->to, pairs[2 * i]);
		assert_int_equal(o->tag, pairs[2 * i + 1]);
		assert_int_equal(o->n, 0);
		struct shim_ssend_out *next = o->next;
		free(o);
		o = next;
	}
	assert_null(o);
}

static void empty_queue(void)
{
	while (shim_drain_head)
		shim_drain_remove(shim_drain_head);
	expect_acks(0, NULL); /* removing unmarked entries sends nothing */
}

static void test_suffix(void **state)
{
	(void)state;
	shim_drain_epoch = 1;
	push(MPI_COMM_WORLD, 1, 5, 'o'); /* an older checkpoint's */
	shim_drain_epoch = 2;
	push(MPI_COMM_WORLD, 1, 5, 'a');
	push(MPI_COMM_WORLD, 2, 5, 'x'); /* another sender */
	push(MPI_COMM_WORLD, 1, 5, 'b');
	push(MPI_COMM_WORLD, 1, 6, 'y'); /* another tag */
	push(sub, 2, 5, 's');            /* world rank 1 on the split */
	push(MPI_COMM_WORLD, 1, 5, 'c');
	info(1, 0, MPI_COMM_WORLD, 5, 0, 11); /* the last one sent */
	info(1, 0, MPI_COMM_WORLD, 5, 2, 12); /* two sent after it */
	info(1, 0, MPI_COMM_WORLD, 5, 3, 13); /* matched before the checkpoint */
	info(1, SUB_GID, sub, 5, 0, 14);
	shim_ssend_settle();
	assert_int_equal(named('c')->ack_to, 1);
	assert_int_equal(named('c')->ack_tag, 11);
	assert_int_equal(named('a')->ack_to, 1);
	assert_int_equal(named('a')->ack_tag, 12);
	assert_int_equal(named('s')->ack_to, 1);
	assert_int_equal(named('s')->ack_tag, 14);
	assert_int_equal(named('b')->ack_to, -1);
	assert_int_equal(named('o')->ack_to, -1);
	assert_int_equal(named('x')->ack_to, -1);
	assert_int_equal(named('y')->ack_to, -1);
	expect_acks(1, (const int[]){ 1, 13 });
	/* Taken by the application: acknowledged then, not before. */
	shim_drain_remove(named('c'));
	shim_drain_remove(named('b'));
	shim_drain_remove(named('a'));
	shim_drain_remove(named('s'));
	expect_acks(3, (const int[]){ 1, 11, 1, 12, 1, 14 });
	empty_queue();
}

/* Nothing drained for a key: every info's send was matched by a real
 * receive, and is acknowledged at once; infos do not outlive a settle. */
static void test_none_drained(void **state)
{
	(void)state;
	shim_drain_epoch = 3;
	push(MPI_COMM_WORLD, 3, 5, 'a');
	info(3, 0, MPI_COMM_WORLD, 9, 0, 21);
	info(2, 0, MPI_COMM_WORLD, 5, 0, 22);
	shim_ssend_settle();
	assert_int_equal(named('a')->ack_to, -1);
	expect_acks(2, (const int[]){ 3, 21, 2, 22 });
	shim_ssend_settle();
	expect_acks(0, NULL);
	empty_queue();
}

/* SELF and its dups share gid -1: the handle tells them apart. */
static void test_self_by_handle(void **state)
{
	(void)state;
	shim_drain_epoch = 4;
	push(MPI_COMM_SELF, 0, 5, 'a');
	info(ME, -1, (MPI_Comm)(intptr_t)0x7777, 5, 0, 31); /* another SELF dup */
	info(ME, -1, MPI_COMM_SELF, 5, 0, 32);
	shim_ssend_settle();
	assert_int_equal(named('a')->ack_to, ME);
	assert_int_equal(named('a')->ack_tag, 32);
	expect_acks(1, (const int[]){ ME, 31 });
	shim_drain_remove(named('a'));
	expect_acks(1, (const int[]){ ME, 32 });
}

/* An info that reached this rank after its checkpoint failed in DRAIN
 * (taken by sweep_infos at the next TARGETS) names an entry of that
 * checkpoint: the application may have taken some of the key's entries
 * since, the oldest first, so those left are the last ones drained. */
static void test_late_info(void **state)
{
	(void)state;
	shim_drain_epoch = 5;
	push(MPI_COMM_WORLD, 1, 5, 'a');
	push(MPI_COMM_WORLD, 1, 5, 'b');
	push(MPI_COMM_WORLD, 1, 5, 'c');
	shim_drain_remove(named('a'));
	shim_drain_remove(named('b'));
	info(1, 0, MPI_COMM_WORLD, 5, 0, 41); /* c, still in the queue */
	info(1, 0, MPI_COMM_WORLD, 5, 1, 42); /* b, taken */
	info(1, 0, MPI_COMM_WORLD, 5, 2, 43); /* a, taken */
	shim_ssend_settle();
	assert_int_equal(named('c')->ack_to, 1);
	assert_int_equal(named('c')->ack_tag, 41);
	expect_acks(2, (const int[]){ 1, 42, 1, 43 });
	shim_drain_remove(named('c'));
	expect_acks(1, (const int[]){ 1, 41 });
}

/* PARK took a send of r on the split to rank 0 there (world rank 3),
 * with two later sends to the same key. */
static void parked(struct shim_req *r)
{
	struct chan_parked p = { .handle = (int64_t)(intptr_t)r->handle,
				 .state = CHAN_PARKED_SSEND, .later = 2 };

	p.status.source = 0;
	p.status.tag = 5;
	shim_ssend_parked(r, &p);
	assert_int_equal(r->ack_wait, 1);
	assert_int_equal(r->ack_peer, 3);
	assert_int_equal(r->repost, 1);
}

/* The outbox holds exactly one info, r's; it is emptied. */
static void expect_info(const struct shim_req *r)
{
	struct shim_ssend_out *o = shim_ssend_take();

	assert_non_null(o);
	assert_null(o->next);
	assert_int_equal(o->to, 3);
	assert_int_equal(o->tag, 0);
	assert_int_equal(o->n, SHIM_INFO_WORDS);
	assert_int_equal(o->word[SHIM_INFO_GID], SUB_GID);
	assert_int_equal(o->word[SHIM_INFO_TAG], 5);
	assert_int_equal(o->word[SHIM_INFO_LATER], 2);
	assert_int_equal(o->word[SHIM_INFO_ACK_TAG], r->ack_tag);
	free(o);
}

/* The checkpoint failed before this rank's DRAIN: the send is a send
 * again and its info never leaves. */
static void test_undone_before_drain(void **state)
{
	struct shim_req *r = shim_req_new(SHIM_REQ_SEND, sub);

	(void)state;
	assert_non_null(r);
	shim_ssend_park_begin();
	parked(r);
	assert_null(shim_ssend_outbox);
	shim_ssend_undo();
	assert_int_equal(r->ack_wait, 0);
	assert_int_equal(r->repost, 0);
	assert_null(shim_ssend_outbox);
	shim_ssend_commit(); /* nothing noted any more */
	assert_null(shim_ssend_outbox);
}

/* The first DRAIN queues the info; a send PARK takes after it (a late
 * CTL_PARK) queues its own at once; RESUME undoes nothing then. */
static void test_sent_at_drain(void **state)
{
	struct shim_req *r = shim_req_new(SHIM_REQ_SEND, sub);
	struct shim_req *late = shim_req_new(SHIM_REQ_SEND, sub);

	(void)state;
	assert_non_null(r);
	assert_non_null(late);
	shim_ssend_park_begin();
	parked(r);
	assert_null(shim_ssend_outbox);
	shim_ssend_commit();
	expect_info(r);
	parked(late);
	expect_info(late);
	shim_ssend_undo();
	assert_int_equal(r->ack_wait, 1);
	assert_int_equal(late->ack_wait, 1);
}

/* The acknowledgements go to the proxy (CTL_INFOS), at most max at a
 * time; infos stay queued, in order, and what is queued later follows
 * them. */
static void test_take_acks(void **state)
{
	struct shim_req *r = shim_req_new(SHIM_REQ_SEND, sub);
	struct chan_ack acks[4];

	(void)state;
	assert_non_null(r);
	shim_drain_epoch = 6;
	push(MPI_COMM_WORLD, 2, 5, 'a');
	push(MPI_COMM_WORLD, 2, 5, 'b');
	info(2, 0, MPI_COMM_WORLD, 5, 0, 51);
	info(2, 0, MPI_COMM_WORLD, 5, 1, 52);
	info(3, 0, MPI_COMM_WORLD, 5, 0, 53);
	shim_ssend_settle();              /* queues 53 */
	parked(r);                        /* after a DRAIN: its info at once */
	shim_drain_remove(named('a'));    /* queues 52 */
	assert_int_equal(shim_ssend_take_acks(acks, 1), 1);
	assert_int_equal(acks[0].to, 3);
	assert_int_equal(acks[0].tag, 53);
	assert_int_equal(shim_ssend_take_acks(acks, 4), 1);
	assert_int_equal(acks[0].to, 2);
	assert_int_equal(acks[0].tag, 52);
	assert_int_equal(shim_ssend_take_acks(acks, 4), 0);
	shim_drain_remove(named('b'));    /* queues 51, after the info */
	struct shim_ssend_out *o = shim_ssend_take();
	assert_non_null(o);
	assert_int_equal(o->n, SHIM_INFO_WORDS);
	assert_non_null(o->next);
	assert_int_equal(o->next->tag, 51);
	assert_null(o->next->next);
	free(o->next);
	free(o);
}

/* The outbox goes on where take_acks left it: empty, after taking
 * every message, after taking the last one while an info stays, after
 * stopping at max short of the end (a later message would otherwise be
 * linked after a freed one, or lost). */
static void test_take_acks_tail(void **state)
{
	struct shim_drained d = { .ack_to = 1 };
	struct chan_ack acks[4];

	(void)state;
	assert_int_equal(shim_ssend_take_acks(acks, 4), 0);    /* empty */
	d.ack_tag = 61;
	shim_ssend_matched(&d);
	assert_int_equal(shim_ssend_take_acks(acks, 4), 1);    /* all taken */
	d.ack_tag = 62;
	shim_ssend_matched(&d);
	expect_acks(1, (const int[]){ 1, 62 });

	struct shim_req *r = shim_req_new(SHIM_REQ_SEND, sub);
	assert_non_null(r);
	shim_drain_epoch = 7;
	push(MPI_COMM_WORLD, 2, 5, 'p');
	info(2, 0, MPI_COMM_WORLD, 5, 0, 63);
	shim_ssend_settle();
	parked(r);                        /* an info, after a DRAIN */
	shim_drain_remove(named('p'));    /* queues 63: the last message */
	assert_int_equal(shim_ssend_take_acks(acks, 4), 1);
	assert_int_equal(acks[0].tag, 63);
	d.ack_tag = 64;
	shim_ssend_matched(&d);           /* after the info that stayed */
	d.ack_tag = 65;
	shim_ssend_matched(&d);
	assert_int_equal(shim_ssend_take_acks(acks, 1), 1);    /* stops at max */
	assert_int_equal(acks[0].tag, 64);
	d.ack_tag = 66;
	shim_ssend_matched(&d);
	struct shim_ssend_out *o = shim_ssend_take();
	assert_non_null(o);
	assert_int_equal(o->n, SHIM_INFO_WORDS);
	int want[] = { 65, 66 };
	struct shim_ssend_out *next = o->next;
	free(o);
	for (int i = 0; i < 2; i++) {
		assert_non_null(next);
		assert_int_equal(next->tag, want[i]);
		o = next;
		next = o->next;
		free(o);
	}
	assert_null(next);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_suffix),
		cmocka_unit_test(test_none_drained),
		cmocka_unit_test(test_self_by_handle),
		cmocka_unit_test(test_undone_before_drain),
		cmocka_unit_test(test_sent_at_drain),
		cmocka_unit_test(test_late_info),
		cmocka_unit_test(test_take_acks),
		cmocka_unit_test(test_take_acks_tail),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
