/*
 * px_test_xlate.c - the proxy's translation between the standard ABI and
 * the real MPI (proxy/xlate.c, proxy/table.c), built and run once per MPI.
 *
 * Expected values come from the two sides' own headers: ABI_* from
 * chan/abi_gen.h, MPI_* from the real mpi.h, and sizes from the ABI's
 * rule for fixed-size types, never from the code under test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proxy/px.h"

struct px_state px;

static void test_ranks_tags(void **state)
{
	(void)state;
	assert_int_equal(px_rank_in(ABI_ANY_SOURCE), MPI_ANY_SOURCE);
	assert_int_equal(px_rank_in(ABI_PROC_NULL), MPI_PROC_NULL);
	assert_int_equal(px_rank_in(ABI_ROOT), MPI_ROOT);
	assert_int_equal(px_rank_in(3), 3);
	assert_int_equal(px_rank_out(MPI_ANY_SOURCE), ABI_ANY_SOURCE);
	assert_int_equal(px_rank_out(MPI_PROC_NULL), ABI_PROC_NULL);
	assert_int_equal(px_rank_out(7), 7);
	assert_int_equal(px_tag_in(ABI_ANY_TAG), MPI_ANY_TAG);
	assert_int_equal(px_tag_in(5), 5);
	assert_int_equal(px_tag_out(MPI_ANY_TAG), ABI_ANY_TAG);
	/* ANY_TAG and PROC_NULL must stay distinct after translation. */
	assert_true(px_tag_in(ABI_ANY_TAG) != px_rank_in(ABI_PROC_NULL) ||
		    MPI_ANY_TAG == MPI_PROC_NULL);
	assert_int_equal(px_undefined_in(ABI_UNDEFINED), MPI_UNDEFINED);
	assert_int_equal(px_thread_level_in(ABI_THREAD_SERIALIZED), MPI_THREAD_SERIALIZED);
	assert_int_equal(px_thread_level_out(MPI_THREAD_MULTIPLE), ABI_THREAD_MULTIPLE);
}

static void test_handles(void **state)
{
	(void)state;
	assert_true(px_type(ABI_INT) == MPI_INT);
	assert_true(px_type(ABI_DOUBLE_INT) == MPI_DOUBLE_INT);
	assert_true(px_type(ABI_BYTE) == MPI_BYTE);
	assert_true(px_type(ABI_DATATYPE_NULL) == MPI_DATATYPE_NULL);
	assert_true(px_type(0x1234567) == MPI_DATATYPE_NULL);
	assert_true(px_op(ABI_SUM) == MPI_SUM);
	assert_true(px_op(ABI_MAXLOC) == MPI_MAXLOC);
	assert_true(px_op(ABI_OP_NULL) == MPI_OP_NULL);
	assert_true(px_comm(ABI_COMM_WORLD) == MPI_COMM_WORLD);
	assert_true(px_comm(ABI_COMM_SELF) == MPI_COMM_SELF);
	assert_true(px_comm(ABI_COMM_NULL) == MPI_COMM_NULL);
	/* A virtual communicator handle maps to what was stored under it. */
	int64_t h = (1 << 24) | 5;
	assert_true(px_comm(h) == MPI_COMM_NULL);
	px_comm_set(h, MPI_COMM_SELF);
	assert_true(px_comm(h) == MPI_COMM_SELF);
	assert_true(px_comm_take(h) == MPI_COMM_SELF);
	assert_true(px_comm(h) == MPI_COMM_NULL);
	/* New request slots start as MPI_REQUEST_NULL. */
	assert_true(*px_req_slot((3 << 24) | 1000) == MPI_REQUEST_NULL);
}

/* The ABI encodes log2(size) of fixed-size types in bits 3..5. */
static void test_fixed_sizes(void **state)
{
	static const int64_t fixed[] = {
		ABI_INT8_T, ABI_UINT8_T, ABI_CHAR, ABI_SIGNED_CHAR, ABI_UNSIGNED_CHAR,
		ABI_BYTE, ABI_INT16_T, ABI_UINT16_T, ABI_INT32_T, ABI_UINT32_T,
		ABI_INT64_T, ABI_UINT64_T,
	};
	(void)state;
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		int size = -1;
		assert_int_equal(MPI_Type_size(px_type(fixed[i]), &size), MPI_SUCCESS);
		assert_int_equal(size, 1 << ((fixed[i] >> 3) & 7));
	}
}

static void test_errors(void **state)
{
	(void)state;
	assert_int_equal(px_err(MPI_SUCCESS), 0);
	assert_int_equal(px_err(MPI_ERR_RANK), ABI_ERR_RANK);
	assert_int_equal(px_err(MPI_ERR_TRUNCATE), ABI_ERR_TRUNCATE);
	assert_int_equal(px_err(MPI_ERR_IN_STATUS), ABI_ERR_IN_STATUS);
	assert_int_equal(px_err(MPI_ERR_OTHER), ABI_ERR_OTHER);
	assert_int_equal(px_err(MPI_ERR_UNSUPPORTED_OPERATION), ABI_ERR_UNSUPPORTED_OPERATION);
}

static void test_status(void **state)
{
	MPI_Status st;
	struct chan_status out;
	int64_t bytes;
	int one = 1;

	(void)state;
	memset(&st, 0, sizeof(st));
	st.MPI_SOURCE = MPI_PROC_NULL;
	st.MPI_TAG = MPI_ANY_TAG;
	st.MPI_ERROR = MPI_ERR_TRUNCATE;
	MPI_Status_set_elements(&st, MPI_INT, 3);
	MPI_Status_set_cancelled(&st, one);
	px_status_out(&st, &out);
	memcpy(&bytes, &out.internal[0], sizeof(bytes));
	assert_int_equal(out.source, ABI_PROC_NULL);
	assert_int_equal(out.tag, ABI_ANY_TAG);
	assert_int_equal(out.error, ABI_ERR_TRUNCATE);
	assert_int_equal(bytes, 3 * (int64_t)sizeof(int));
	assert_int_equal(out.internal[2], 1);
}

/* The byte count and the cancelled flag come from the real status's
 * own fields (px_status_bytes, px_status_cancelled): every count the
 * real MPI can store, past 32 bits too, and each flag with it, must read
 * back as the real MPI set it. */
static void test_status_fields(void **state)
{
	static const MPI_Count counts[] = {
		0, 8, 1000000, INT32_MAX, (MPI_Count)INT32_MAX + 1, ((MPI_Count)3 << 31) + 5,
		((MPI_Count)1 << 40) + 3,
	};
	(void)state;
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		for (int cancelled = 0; cancelled <= 1; cancelled++) {
			MPI_Status st;
			struct chan_status out;
			int64_t bytes;

			memset(&st, 0, sizeof(st));
			st.MPI_SOURCE = 1;
			assert_int_equal(MPI_Status_set_elements_x(&st, MPI_BYTE, counts[i]),
					 MPI_SUCCESS);
			assert_int_equal(MPI_Status_set_cancelled(&st, cancelled), MPI_SUCCESS);
			px_status_out(&st, &out);
			memcpy(&bytes, &out.internal[0], sizeof(bytes));
			assert_int_equal(bytes, counts[i]);
			assert_int_equal(out.internal[2], cancelled);
			/* A checkpoint counts a received message, not a
			 * cancelled receive. */
			int64_t before = px.recvd;
			px_count_recv(&st);
			assert_int_equal(px.recvd - before, !cancelled);
		}
	}
}

static int setup(void **state)
{
	(void)state;
	px_xlate_init();
	return MPI_Init(NULL, NULL) == MPI_SUCCESS ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return MPI_Finalize() == MPI_SUCCESS ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ranks_tags),
		cmocka_unit_test(test_handles),
		cmocka_unit_test(test_fixed_sizes),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_status_fields),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
