/*
 * vwbig.c - the large-count v and w collectives: MPI_Gatherv_c,
 * Scatterv_c, Allgatherv_c, Alltoallv_c, Alltoallw_c, their I forms, and
 * MPI_Neighbor_allgatherv_c, alltoallv_c, alltoallw_c with theirs, each
 * as ONE (I)(Neighbor_)Alltoallw of the shim.
 *
 * The channel and Open MPI 4.1 take int counts and displacements.  A
 * count beyond INT_MAX fits as one element of a type made for it
 * (shim_bigc_type), but a v collective has one datatype for all its
 * blocks, so blocks of their own made types need the w form; and a
 * displacement beyond INT_MAX fits nowhere but inside a made type.  So a
 * block whose count or byte displacement is beyond the limit becomes
 * count 1, displacement 0, of a struct that holds its count elements at
 * its MPI_Aint displacement (vw_block_type); a block within the limit
 * goes as it is.
 *
 * Every member of a collective must start the same real collective,
 * and whether a block is beyond the limit is known only where its
 * arrays are (Gatherv's receive counts at the root alone, Alltoallv's
 * displacements on each rank for itself).  So every call of these
 * families goes as Alltoallw, within the limit or not: the choice
 * cannot differ between members.  The price: a member calling the int
 * form (MPI_Gatherv) does not match one calling the _c form
 * (MPI_Gatherv_c) of the same collective (doc/conformance.md).
 *
 * What each block becomes, on an intracommunicator (an
 * intercommunicator's blocks address the remote group the same way):
 *   Gatherv    send: its block to the root; root's receive: block j
 *              from j (not its own with MPI_IN_PLACE);
 *   Scatterv   root's send: block j to j; receive: its block from the
 *              root (none at the root with MPI_IN_PLACE);
 *   Allgatherv send: its block to every member; receive: block j from j
 *              (with MPI_IN_PLACE its block is recvbuf's block `rank`,
 *              sent from there, and not received);
 *   Alltoallv, Alltoallw, and the neighbourhood ones: block for block.
 * Unused blocks are 0 of MPI_BYTE.  MPI_IN_PLACE of Alltoallv and
 * Alltoallw is Alltoallw's own.
 *
 * One real collective per call keeps the checkpoint's bookkeeping as
 * for any collective: the Alltoallw is admitted and counted once in its
 * communicator's sequence (shim/ckpt.c).  The made types are freed when
 * the call returns: a pending request holds their records (shim/icoll.c).
 * Errors the Alltoallw finds itself are reported under its name.
 *
 * DMTCP_MPI_TEST_REDUCE_CHUNK=N lowers the limit to N, as it does for
 * the chunked reductions (shim/redbig.c), so tests (mpi-tests/vcoll_big.c)
 * make types with small buffers.
 */
#include "shim.h"

#include <limits.h>
#include <stdlib.h>

int shim_vw_entry(int64_t count, int64_t disp, int64_t unit, int64_t limit, int64_t *bytes)
{
	if (__builtin_mul_overflow(disp, unit, bytes))
		return -1;
	return count > limit || *bytes > limit || *bytes < -limit;
}

/* ----------------------------------------------------- one call */

/* One side of the Alltoallw: n blocks. */
struct vw_side {
	int n;
	int *cnt;
	int *dsp;                /* bytes, as Alltoallw takes them */
	MPI_Aint *adsp;          /* the same, as Neighbor_alltoallw takes them */
	MPI_Datatype *types;
	MPI_Datatype *made;      /* made for block i, or MPI_DATATYPE_NULL */
};

struct vw {
	const char *fn;
	MPI_Comm comm;
	int64_t limit;
	struct vw_side s, r;
};

static int side_init(struct vw *w, struct vw_side *sd, int n)
{
	size_t k = (size_t)(n > 0 ? n : 1);
	char *p = malloc(k * (sizeof(MPI_Aint) + 2 * sizeof(MPI_Datatype) + 2 * sizeof(int)));

	sd->n = 0;
	sd->adsp = NULL;
	if (!p)
		return shim_errorf(w->comm, MPI_ERR_NO_MEM, w->fn, "arrays for %d blocks", n);
	sd->adsp = (MPI_Aint *)(void *)p;
	sd->types = (MPI_Datatype *)(void *)(sd->adsp + k);
	sd->made = sd->types + k;
	sd->cnt = (int *)(void *)(sd->made + k);
	sd->dsp = sd->cnt + k;
	sd->n = n;
	for (int i = 0; i < n; i++) {
		sd->cnt[i] = sd->dsp[i] = 0;
		sd->adsp[i] = 0;
		sd->types[i] = MPI_BYTE;
		sd->made[i] = MPI_DATATYPE_NULL;
	}
	return MPI_SUCCESS;
}

static void side_free(struct vw_side *sd)
{
	for (int i = 0; i < sd->n; i++)
		if (sd->made[i] != MPI_DATATYPE_NULL)
			PMPI_Type_free(&sd->made[i]);
	free(sd->adsp);
	sd->adsp = NULL;
	sd->n = 0;
}

/* ns send and nr receive blocks, all unused. */
static int vw_init(struct vw *w, const char *fn, MPI_Comm comm, int ns, int nr)
{
	int err;

	w->fn = fn;
	w->comm = comm;
	w->limit = shim_redc_limit();
	w->r.n = 0;
	w->r.adsp = NULL;
	if ((err = side_init(w, &w->s, ns)) || (err = side_init(w, &w->r, nr)))
		side_free(&w->s);
	return err;
}

static void vw_free(struct vw *w)
{
	side_free(&w->s);
	side_free(&w->r);
}

/* One element: count elements of t at byte disp (made with int
 * constructors; uncommitted). */
static int vw_block_type(int64_t count, MPI_Datatype t, int64_t disp, MPI_Datatype *out,
			 const char *fn)
{
	MPI_Datatype inner = t, chunked = MPI_DATATYPE_NULL;
	int bl = (int)count, err;
	MPI_Aint d = (MPI_Aint)disp;

	if (count > INT_MAX) {
		if ((err = shim_bigc_type(count, t, &chunked, fn)))
			return err;
		inner = chunked;
		bl = 1;
	}
	err = PMPI_Type_create_struct(1, &bl, &d, &inner, out);
	if (chunked != MPI_DATATYPE_NULL)
		PMPI_Type_free(&chunked);
	return err;
}

/* t, valid and committed, with its record in *rec. */
static int vw_type(struct vw *w, MPI_Datatype t, struct shim_type **rec, const char *what)
{
	if (shim_type_check(t, rec) == MPI_SUCCESS)
		return MPI_SUCCESS;
	return shim_errorf(w->comm, MPI_ERR_TYPE, w->fn, "%s %#lx is %s", what,
			   (unsigned long)(uintptr_t)t, shim_type_why(t));
}

/* Block i of side sd: count elements of t at displacement disp units of
 * unit bytes (what: the count's name, for messages). */
static int vw_set(struct vw *w, struct vw_side *sd, int i, int64_t count, MPI_Datatype t,
		  int64_t disp, int64_t unit, const char *what)
{
	struct shim_type *rec;
	int64_t bytes;
	int err;

	if (count < 0)
		return shim_errorf(w->comm, MPI_ERR_COUNT, w->fn, "%s[%d] = %lld", what, i,
				   (long long)count);
	if (count == 0)
		return MPI_SUCCESS;
	if ((err = vw_type(w, t, &rec, "datatype")))
		return err;
	switch (shim_vw_entry(count, disp, unit, w->limit, &bytes)) {
	case -1:
		return shim_errorf(w->comm, MPI_ERR_COUNT, w->fn, "displacement %lld of "
				   "%lld-byte units does not fit 64 bits", (long long)disp,
				   (long long)unit);
	case 0:
		sd->cnt[i] = (int)count;
		sd->dsp[i] = (int)bytes;
		sd->adsp[i] = (MPI_Aint)bytes;
		sd->types[i] = t;
		return MPI_SUCCESS;
	}
	if ((err = vw_block_type(count, t, bytes, &sd->made[i], w->fn)))
		return err;
	if ((err = PMPI_Type_commit(&sd->made[i])))
		return err;
	sd->cnt[i] = 1;
	sd->types[i] = sd->made[i];
	return MPI_SUCCESS;
}

/* Block to of sd the same as block from (which keeps any made type). */
static void vw_same(struct vw_side *sd, int to, int from)
{
	sd->cnt[to] = sd->cnt[from];
	sd->dsp[to] = sd->dsp[from];
	sd->adsp[to] = sd->adsp[from];
	sd->types[to] = sd->types[from];
}

/* Blocks 0..n-1 of a v side: counts[i] elements of t at displs[i]
 * extents of t; block skip (-1: none) stays unused. */
static int vw_set_v(struct vw *w, struct vw_side *sd, const MPI_Count *counts,
		    const MPI_Aint *displs, MPI_Datatype t, int skip, const char *what)
{
	struct shim_type *rec;
	int err;

	if (!sd->n)
		return MPI_SUCCESS;
	if (!counts)
		return shim_errorf(w->comm, MPI_ERR_COUNT, w->fn, "%s is NULL", what);
	if (!displs)
		return shim_errorf(w->comm, MPI_ERR_BUFFER, w->fn, "displacements are NULL");
	if ((err = vw_type(w, t, &rec, "datatype")))
		return err;
	for (int i = 0; i < sd->n; i++)
		if (i != skip &&
		    (err = vw_set(w, sd, i, counts[i], t, displs[i], rec->extent, what)))
			return err;
	return MPI_SUCCESS;
}

/* The same for a w side: block i of types[i], displacements in bytes. */
static int vw_set_w(struct vw *w, struct vw_side *sd, const MPI_Count *counts,
		    const MPI_Aint *displs, const MPI_Datatype *types, const char *what)
{
	int err;

	if (!sd->n)
		return MPI_SUCCESS;
	if (!counts)
		return shim_errorf(w->comm, MPI_ERR_COUNT, w->fn, "%s is NULL", what);
	if (!displs)
		return shim_errorf(w->comm, MPI_ERR_BUFFER, w->fn, "displacements are NULL");
	if (!types)
		return shim_errorf(w->comm, MPI_ERR_TYPE, w->fn, "datatypes are NULL");
	for (int i = 0; i < sd->n; i++)
		if ((err = vw_set(w, sd, i, counts[i], types[i], displs[i], 1, what)))
			return err;
	return MPI_SUCCESS;
}

/* Every block of sd the same: count elements of t at disp extents of
 * t (a v call's one block, sent to every member); skip stays unused. */
/* One side of an Alltoallv (t for every block) or an Alltoallw (types[i]
 * for block i). */
static int vw_set_vw(struct vw *w, struct vw_side *sd, int w_form, const MPI_Count *counts,
		     const MPI_Aint *displs, MPI_Datatype t, const MPI_Datatype *types,
		     const char *what)
{
	return w_form ? vw_set_w(w, sd, counts, displs, types, what)
		      : vw_set_v(w, sd, counts, displs, t, -1, what);
}

static int vw_set_all(struct vw *w, struct vw_side *sd, MPI_Count count, MPI_Datatype t,
		      MPI_Aint disp, int skip, const char *what)
{
	struct shim_type *rec = NULL;
	int first = skip == 0 ? 1 : 0, err;

	if (first >= sd->n)
		return MPI_SUCCESS;
	if (count != 0 && (err = vw_type(w, t, &rec, "datatype")))
		return err;
	if ((err = vw_set(w, sd, first, count, t, disp, rec ? rec->extent : 1, what)))
		return err;
	for (int i = first + 1; i < sd->n; i++)
		if (i != skip)
			vw_same(sd, i, first);
	return MPI_SUCCESS;
}

/* The Alltoallw (neighbor: Neighbor_alltoallw; request: its I form). */
static int vw_run(struct vw *w, const void *sendbuf, void *recvbuf, int neighbor,
		  MPI_Request *request)
{
	struct vw_side *s = &w->s, *r = &w->r;
	int err;

	if (neighbor && request)
		err = PMPI_Ineighbor_alltoallw(sendbuf, s->cnt, s->adsp, s->types, recvbuf,
					       r->cnt, r->adsp, r->types, w->comm, request);
	else if (neighbor)
		err = PMPI_Neighbor_alltoallw(sendbuf, s->cnt, s->adsp, s->types, recvbuf,
					      r->cnt, r->adsp, r->types, w->comm);
	else if (request)
		err = PMPI_Ialltoallw(sendbuf, s->cnt, s->dsp, s->types, recvbuf, r->cnt, r->dsp,
				      r->types, w->comm, request);
	else
		err = PMPI_Alltoallw(sendbuf, s->cnt, s->dsp, s->types, recvbuf, r->cnt, r->dsp,
				     r->types, w->comm);
	vw_free(w);
	return err;
}

/* ------------------------------------------------ the communicator */

/* What the calling rank does in a rooted v collective. */
struct vw_role {
	int n;          /* blocks per side: the group the call addresses */
	int root;       /* holds the root's arrays */
	int member;     /* sends to (Gatherv) or receives from (Scatterv) the
			 * root, whose block index is root_at */
	int root_at;
	int self;       /* intracommunicator: my block index, else -1 */
};

/* Members a rank exchanges blocks with: the remote group of an
 * intercommunicator, else the communicator. */
static int peers(const struct shim_comm *c)
{
	return c->remote ? c->remote_size : c->size;
}

/* The communicator, and MPI_IN_PLACE as buf where it may be. */
static struct shim_comm *vw_comm(MPI_Comm comm, const void *buf, struct vw_role *o,
				 const char *fn, int *err)
{
	struct shim_comm *c = shim_comm_check(comm, fn, err);

	if (!c)
		return NULL;
	if (c->remote && buf == MPI_IN_PLACE) {
		*err = shim_error(comm, MPI_ERR_BUFFER, fn, "MPI_IN_PLACE on an intercommunicator");
		return NULL;
	}
	o->n = peers(c);
	o->self = c->remote ? -1 : c->rank;
	return c;
}

static int vw_rooted(MPI_Comm comm, int root, const void *inplace_buf, struct vw_role *o,
		     const char *fn)
{
	int err;
	struct shim_comm *c = vw_comm(comm, inplace_buf, o, fn, &err);

	if (!c)
		return err;
	if (!c->remote && shim_check_root(c, root) != MPI_SUCCESS)
		return shim_errorf(comm, MPI_ERR_ROOT, fn, "root %d is not in [0, %d)", root,
				   c->size);
	if (c->remote && root != MPI_ROOT && root != MPI_PROC_NULL &&
	    (root < 0 || root >= c->remote_size))
		return shim_errorf(comm, MPI_ERR_ROOT, fn, "root %d is not MPI_ROOT, "
				   "MPI_PROC_NULL or in [0, %d) of the remote group", root,
				   c->remote_size);
	o->root = c->remote ? root == MPI_ROOT : root == c->rank;
	if (inplace_buf == MPI_IN_PLACE && !o->root)
		return shim_error(comm, MPI_ERR_BUFFER, fn, "MPI_IN_PLACE away from the root");
	o->member = c->remote ? root >= 0 : !(o->root && inplace_buf == MPI_IN_PLACE);
	o->root_at = root;
	return MPI_SUCCESS;
}

/* ----------------------------------------------- Gatherv, Scatterv */

static int gatherv(const char *fn, const void *sendbuf, MPI_Count sendcount,
		   MPI_Datatype sendtype, void *recvbuf, const MPI_Count recvcounts[],
		   const MPI_Aint displs[], MPI_Datatype recvtype, int root, MPI_Comm comm,
		   MPI_Request *request)
{
	struct vw_role o;
	struct vw w;
	int err;

	if ((err = vw_rooted(comm, root, sendbuf, &o, fn)) ||
	    (err = vw_init(&w, fn, comm, o.n, o.n)))
		return err;
	if ((o.member && (err = vw_set(&w, &w.s, o.root_at, sendcount, sendtype, 0, 1,
				       "sendcount"))) ||
	    (o.root && (err = vw_set_v(&w, &w.r, recvcounts, displs, recvtype,
				       o.member ? -1 : o.self, "recvcounts")))) {
		vw_free(&w);
		return err;
	}
	return vw_run(&w, sendbuf == MPI_IN_PLACE ? recvbuf : sendbuf, recvbuf, 0, request);
}

int PMPI_Gatherv_c(const void *sendbuf, MPI_Count sendcount, MPI_Datatype sendtype,
		   void *recvbuf, const MPI_Count recvcounts[], const MPI_Aint displs[],
		   MPI_Datatype recvtype, int root, MPI_Comm comm)
{
	return gatherv("MPI_Gatherv_c", sendbuf, sendcount, sendtype, recvbuf, recvcounts,
		       displs, recvtype, root, comm, NULL);
}
SHIM_WEAK(Gatherv_c)

int PMPI_Igatherv_c(const void *sendbuf, MPI_Count sendcount, MPI_Datatype sendtype,
		    void *recvbuf, const MPI_Count recvcounts[], const MPI_Aint displs[],
		    MPI_Datatype recvtype, int root, MPI_Comm comm, MPI_Request *request)
{
	return gatherv("MPI_Igatherv_c", sendbuf, sendcount, sendtype, recvbuf, recvcounts,
		       displs, recvtype, root, comm, request);
}
SHIM_WEAK(Igatherv_c)

static int scatterv(const char *fn, const void *sendbuf, const MPI_Count sendcounts[],
		    const MPI_Aint displs[], MPI_Datatype sendtype, void *recvbuf,
		    MPI_Count recvcount, MPI_Datatype recvtype, int root, MPI_Comm comm,
		    MPI_Request *request)
{
	struct vw_role o;
	struct vw w;
	int err;

	if ((err = vw_rooted(comm, root, recvbuf, &o, fn)) ||
	    (err = vw_init(&w, fn, comm, o.n, o.n)))
		return err;
	if ((o.root && (err = vw_set_v(&w, &w.s, sendcounts, displs, sendtype,
				       o.member ? -1 : o.self, "sendcounts"))) ||
	    (o.member && (err = vw_set(&w, &w.r, o.root_at, recvcount, recvtype, 0, 1,
				       "recvcount")))) {
		vw_free(&w);
		return err;
	}
	return vw_run(&w, sendbuf, recvbuf == MPI_IN_PLACE ? (void *)sendbuf : recvbuf, 0,
		      request);
}

int PMPI_Scatterv_c(const void *sendbuf, const MPI_Count sendcounts[], const MPI_Aint displs[],
		    MPI_Datatype sendtype, void *recvbuf, MPI_Count recvcount,
		    MPI_Datatype recvtype, int root, MPI_Comm comm)
{
	return scatterv("MPI_Scatterv_c", sendbuf, sendcounts, displs, sendtype, recvbuf,
			recvcount, recvtype, root, comm, NULL);
}
SHIM_WEAK(Scatterv_c)

int PMPI_Iscatterv_c(const void *sendbuf, const MPI_Count sendcounts[],
		     const MPI_Aint displs[], MPI_Datatype sendtype, void *recvbuf,
		     MPI_Count recvcount, MPI_Datatype recvtype, int root, MPI_Comm comm,
		     MPI_Request *request)
{
	return scatterv("MPI_Iscatterv_c", sendbuf, sendcounts, displs, sendtype, recvbuf,
			recvcount, recvtype, root, comm, request);
}
SHIM_WEAK(Iscatterv_c)

/* ------------------------------------------------------ Allgatherv */

static int allgatherv(const char *fn, const void *sendbuf, MPI_Count sendcount,
		      MPI_Datatype sendtype, void *recvbuf, const MPI_Count recvcounts[],
		      const MPI_Aint displs[], MPI_Datatype recvtype, MPI_Comm comm,
		      MPI_Request *request)
{
	struct vw_role o;
	struct vw w;
	int err;

	if (!vw_comm(comm, sendbuf, &o, fn, &err) || (err = vw_init(&w, fn, comm, o.n, o.n)))
		return err;
	int in_place = sendbuf == MPI_IN_PLACE, skip = in_place ? o.self : -1;
	if (in_place && (!recvcounts || !displs))
		err = shim_error(comm, MPI_ERR_COUNT, fn, "recvcounts or displs is NULL");
	else if (in_place)
		err = vw_set_all(&w, &w.s, recvcounts[o.self], recvtype, displs[o.self], skip,
				 "recvcounts");
	else
		err = vw_set_all(&w, &w.s, sendcount, sendtype, 0, skip, "sendcount");
	if (err || (err = vw_set_v(&w, &w.r, recvcounts, displs, recvtype, skip,
				   "recvcounts"))) {
		vw_free(&w);
		return err;
	}
	return vw_run(&w, in_place ? recvbuf : sendbuf, recvbuf, 0, request);
}

int PMPI_Allgatherv_c(const void *sendbuf, MPI_Count sendcount, MPI_Datatype sendtype,
		      void *recvbuf, const MPI_Count recvcounts[], const MPI_Aint displs[],
		      MPI_Datatype recvtype, MPI_Comm comm)
{
	return allgatherv("MPI_Allgatherv_c", sendbuf, sendcount, sendtype, recvbuf,
			  recvcounts, displs, recvtype, comm, NULL);
}
SHIM_WEAK(Allgatherv_c)

int PMPI_Iallgatherv_c(const void *sendbuf, MPI_Count sendcount, MPI_Datatype sendtype,
		       void *recvbuf, const MPI_Count recvcounts[], const MPI_Aint displs[],
		       MPI_Datatype recvtype, MPI_Comm comm, MPI_Request *request)
{
	return allgatherv("MPI_Iallgatherv_c", sendbuf, sendcount, sendtype, recvbuf,
			  recvcounts, displs, recvtype, comm, request);
}
SHIM_WEAK(Iallgatherv_c)

/* ------------------------------------------- Alltoallv, Alltoallw */

/* stypes/rtypes NULL: the v form, of sendtype/recvtype. */
static int alltoallvw(const char *fn, const void *sendbuf, const MPI_Count sendcounts[],
		      const MPI_Aint sdispls[], MPI_Datatype sendtype,
		      const MPI_Datatype *stypes, void *recvbuf, const MPI_Count recvcounts[],
		      const MPI_Aint rdispls[], MPI_Datatype recvtype,
		      const MPI_Datatype *rtypes, int w_form, MPI_Comm comm,
		      MPI_Request *request)
{
	struct vw_role o;
	struct vw w;
	int err;

	if (!vw_comm(comm, sendbuf, &o, fn, &err) ||
	    (err = vw_init(&w, fn, comm, o.n, o.n)))
		return err;
	if (sendbuf != MPI_IN_PLACE)
		err = vw_set_vw(&w, &w.s, w_form, sendcounts, sdispls, sendtype, stypes,
				"sendcounts");
	if (err || (err = vw_set_vw(&w, &w.r, w_form, recvcounts, rdispls, recvtype,
				    rtypes, "recvcounts"))) {
		vw_free(&w);
		return err;
	}
	return vw_run(&w, sendbuf, recvbuf, 0, request);
}

int PMPI_Alltoallv_c(const void *sendbuf, const MPI_Count sendcounts[],
		     const MPI_Aint sdispls[], MPI_Datatype sendtype, void *recvbuf,
		     const MPI_Count recvcounts[], const MPI_Aint rdispls[],
		     MPI_Datatype recvtype, MPI_Comm comm)
{
	return alltoallvw("MPI_Alltoallv_c", sendbuf, sendcounts, sdispls, sendtype, NULL,
			  recvbuf, recvcounts, rdispls, recvtype, NULL, 0, comm, NULL);
}
SHIM_WEAK(Alltoallv_c)

int PMPI_Ialltoallv_c(const void *sendbuf, const MPI_Count sendcounts[],
		      const MPI_Aint sdispls[], MPI_Datatype sendtype, void *recvbuf,
		      const MPI_Count recvcounts[], const MPI_Aint rdispls[],
		      MPI_Datatype recvtype, MPI_Comm comm, MPI_Request *request)
{
	return alltoallvw("MPI_Ialltoallv_c", sendbuf, sendcounts, sdispls, sendtype, NULL,
			  recvbuf, recvcounts, rdispls, recvtype, NULL, 0, comm, request);
}
SHIM_WEAK(Ialltoallv_c)

int PMPI_Alltoallw_c(const void *sendbuf, const MPI_Count sendcounts[],
		     const MPI_Aint sdispls[], const MPI_Datatype sendtypes[], void *recvbuf,
		     const MPI_Count recvcounts[], const MPI_Aint rdispls[],
		     const MPI_Datatype recvtypes[], MPI_Comm comm)
{
	return alltoallvw("MPI_Alltoallw_c", sendbuf, sendcounts, sdispls, MPI_DATATYPE_NULL,
			  sendtypes, recvbuf, recvcounts, rdispls, MPI_DATATYPE_NULL,
			  recvtypes, 1, comm, NULL);
}
SHIM_WEAK(Alltoallw_c)

int PMPI_Ialltoallw_c(const void *sendbuf, const MPI_Count sendcounts[],
		      const MPI_Aint sdispls[], const MPI_Datatype sendtypes[], void *recvbuf,
		      const MPI_Count recvcounts[], const MPI_Aint rdispls[],
		      const MPI_Datatype recvtypes[], MPI_Comm comm, MPI_Request *request)
{
	return alltoallvw("MPI_Ialltoallw_c", sendbuf, sendcounts, sdispls, MPI_DATATYPE_NULL,
			  sendtypes, recvbuf, recvcounts, rdispls, MPI_DATATYPE_NULL,
			  recvtypes, 1, comm, request);
}
SHIM_WEAK(Ialltoallw_c)

/* ------------------------------------- neighbourhood collectives */

/* The topology's degrees: blocks received (in) and sent (out); 0 and 0
 * without a topology, which Neighbor_alltoallw then reports. */
static int vw_neighbors(MPI_Comm comm, struct vw *w, const char *fn)
{
	int in = 0, out = 0, err;
	struct shim_comm *c = shim_comm_check(comm, fn, &err);

	if (!c)
		return err;
	shim_topo_degrees(c, &in, &out);
	return vw_init(w, fn, comm, out, in);
}

static int nb_allgatherv(const char *fn, const void *sendbuf, MPI_Count sendcount,
			 MPI_Datatype sendtype, void *recvbuf, const MPI_Count recvcounts[],
			 const MPI_Aint displs[], MPI_Datatype recvtype, MPI_Comm comm,
			 MPI_Request *request)
{
	struct vw w;
	int err;

	if ((err = vw_neighbors(comm, &w, fn)))
		return err;
	if ((err = vw_set_all(&w, &w.s, sendcount, sendtype, 0, -1, "sendcount")) ||
	    (err = vw_set_v(&w, &w.r, recvcounts, displs, recvtype, -1, "recvcounts"))) {
		vw_free(&w);
		return err;
	}
	return vw_run(&w, sendbuf, recvbuf, 1, request);
}

int PMPI_Neighbor_allgatherv_c(const void *sendbuf, MPI_Count sendcount,
			       MPI_Datatype sendtype, void *recvbuf,
			       const MPI_Count recvcounts[], const MPI_Aint displs[],
			       MPI_Datatype recvtype, MPI_Comm comm)
{
	return nb_allgatherv("MPI_Neighbor_allgatherv_c", sendbuf, sendcount, sendtype,
			     recvbuf, recvcounts, displs, recvtype, comm, NULL);
}
SHIM_WEAK(Neighbor_allgatherv_c)

int PMPI_Ineighbor_allgatherv_c(const void *sendbuf, MPI_Count sendcount,
				MPI_Datatype sendtype, void *recvbuf,
				const MPI_Count recvcounts[], const MPI_Aint displs[],
				MPI_Datatype recvtype, MPI_Comm comm, MPI_Request *request)
{
	return nb_allgatherv("MPI_Ineighbor_allgatherv_c", sendbuf, sendcount, sendtype,
			     recvbuf, recvcounts, displs, recvtype, comm, request);
}
SHIM_WEAK(Ineighbor_allgatherv_c)

/* stypes/rtypes NULL: the v form, of sendtype/recvtype. */
static int nb_alltoallvw(const char *fn, const void *sendbuf, const MPI_Count sendcounts[],
			 const MPI_Aint sdispls[], MPI_Datatype sendtype,
			 const MPI_Datatype *stypes, void *recvbuf,
			 const MPI_Count recvcounts[], const MPI_Aint rdispls[],
			 MPI_Datatype recvtype, const MPI_Datatype *rtypes, int w_form,
			 MPI_Comm comm, MPI_Request *request)
{
	struct vw w;
	int err;

	if ((err = vw_neighbors(comm, &w, fn)))
		return err;
	err = vw_set_vw(&w, &w.s, w_form, sendcounts, sdispls, sendtype, stypes,
			"sendcounts") ?:
	      vw_set_vw(&w, &w.r, w_form, recvcounts, rdispls, recvtype, rtypes,
			"recvcounts");
	if (err) {
		vw_free(&w);
		return err;
	}
	return vw_run(&w, sendbuf, recvbuf, 1, request);
}

int PMPI_Neighbor_alltoallv_c(const void *sendbuf, const MPI_Count sendcounts[],
			      const MPI_Aint sdispls[], MPI_Datatype sendtype, void *recvbuf,
			      const MPI_Count recvcounts[], const MPI_Aint rdispls[],
			      MPI_Datatype recvtype, MPI_Comm comm)
{
	return nb_alltoallvw("MPI_Neighbor_alltoallv_c", sendbuf, sendcounts, sdispls,
			     sendtype, NULL, recvbuf, recvcounts, rdispls, recvtype, NULL, 0,
			     comm, NULL);
}
SHIM_WEAK(Neighbor_alltoallv_c)

int PMPI_Ineighbor_alltoallv_c(const void *sendbuf, const MPI_Count sendcounts[],
			       const MPI_Aint sdispls[], MPI_Datatype sendtype, void *recvbuf,
			       const MPI_Count recvcounts[], const MPI_Aint rdispls[],
			       MPI_Datatype recvtype, MPI_Comm comm, MPI_Request *request)
{
	return nb_alltoallvw("MPI_Ineighbor_alltoallv_c", sendbuf, sendcounts, sdispls,
			     sendtype, NULL, recvbuf, recvcounts, rdispls, recvtype, NULL, 0,
			     comm, request);
}
SHIM_WEAK(Ineighbor_alltoallv_c)

int PMPI_Neighbor_alltoallw_c(const void *sendbuf, const MPI_Count sendcounts[],
			      const MPI_Aint sdispls[], const MPI_Datatype sendtypes[],
			      void *recvbuf, const MPI_Count recvcounts[],
			      const MPI_Aint rdispls[], const MPI_Datatype recvtypes[],
			      MPI_Comm comm)
{
	return nb_alltoallvw("MPI_Neighbor_alltoallw_c", sendbuf, sendcounts, sdispls,
			     MPI_DATATYPE_NULL, sendtypes, recvbuf, recvcounts, rdispls,
			     MPI_DATATYPE_NULL, recvtypes, 1, comm, NULL);
}
SHIM_WEAK(Neighbor_alltoallw_c)

int PMPI_Ineighbor_alltoallw_c(const void *sendbuf, const MPI_Count sendcounts[],
			       const MPI_Aint sdispls[], const MPI_Datatype sendtypes[],
			       void *recvbuf, const MPI_Count recvcounts[],
			       const MPI_Aint rdispls[], const MPI_Datatype recvtypes[],
			       MPI_Comm comm, MPI_Request *request)
{
	return nb_alltoallvw("MPI_Ineighbor_alltoallw_c", sendbuf, sendcounts, sdispls,
			     MPI_DATATYPE_NULL, sendtypes, recvbuf, recvcounts, rdispls,
			     MPI_DATATYPE_NULL, recvtypes, 1, comm, request);
}
SHIM_WEAK(Ineighbor_alltoallw_c)
