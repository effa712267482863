/*
 * attr.c - attributes and keyvals, entirely in the application.
 *
 * Attribute values are the application's pointers and their callbacks
 * are the application's functions, so nothing here involves the proxy:
 * a keyval is a record (copy and delete callbacks, extra state), an
 * attribute a (keyval, value) pair hanging off the object's handle.
 * Keeping attributes by handle, in one table for communicators and
 * datatypes alike, means no object record needs a field for them; the
 * lists are short (an object has a few attributes, most have none).
 * Everything lives in application memory and is part of a checkpoint.
 *
 * Keyvals: user keyvals are KEYVAL_FIRST + index and never reused, so a
 * stale keyval is always recognised.  A freed keyval stays usable, and
 * may be freed again, while attributes still use it (MPI: freeing does
 * not delete attributes; MPICH accepts both).  The predefined keys of the
 * standard ABI (MPI_TAG_UB = 501 ... MPI_UNIVERSE_SIZE = 507) are
 * communicator keyvals whose attributes are copied by value and never
 * deleted, and which the application may read but not set or delete
 * (MPI_ERR_KEYVAL, as MPICH answers).
 *
 * Callbacks: copy callbacks run in MPI_Comm_dup/idup and MPI_Type_dup
 * (MPI_*_NULL_COPY_FN = 0 copies nothing, MPI_*_DUP_FN = 1 copies the
 * value); delete callbacks run on delete, on overwrite, on free, and at
 * MPI_Finalize for MPI_COMM_SELF then MPI_COMM_WORLD, newest attribute
 * first.  A callback may call MPI, including on the same object, so no
 * list is walked across a callback.  A failing callback's code is
 * returned when it is an MPI error code, MPI_ERR_OTHER otherwise.
 *
 * Threads: under MPI_THREAD_MULTIPLE threads set and delete attributes of
 * different objects at once, and every object's list hangs off one list
 * of owners, so each walk or change of the lists and of the keyval table
 * holds the state lock, never across a callback.  Keyval records are
 * allocated one by one and never freed: a record found stays where it is
 * while its callback runs, however the table grows meanwhile.
 *
 * Predefined attributes of MPI_COMM_WORLD: MPI_TAG_UB, MPI_APPNUM,
 * MPI_UNIVERSE_SIZE and MPI_WTIME_IS_GLOBAL come from the real MPI at
 * MPI_Init (APPNUM and UNIVERSE_SIZE only when it sets them); MPI_HOST
 * is MPI_PROC_NULL and MPI_IO MPI_ANY_SOURCE (both MPIs answer that);
 * MPI_LASTUSEDCODE follows MPI_Add_error_class/code (shim/errh_user.c).
 * Windows are not offered, so neither are their keyvals.
 */
#include "shim.h"

#include <stdlib.h>
#include <string.h>

#include "util/grow.h"

#define KEYVAL_FIRST 0x10000

struct keyval {
	int kind;                /* SHIM_K_COMM or SHIM_K_TYPE */
	union {
		MPI_Comm_copy_attr_function *comm;
		MPI_Type_copy_attr_function *type;
	} copy;                  /* or the ABI's 0 (null copy) / 1 (dup) */
	union {
		MPI_Comm_delete_attr_function *comm;
		MPI_Type_delete_attr_function *type;
	} del;                   /* or 0 (null delete) */
	void *extra;
	int freed;               /* the application freed it */
	int uses;                /* attributes set with it */
	int predefined;
};

struct attr {
	int keyval;
	void *val;
	struct attr *next;       /* older */
};

struct owner {
	int kind;
	uintptr_t handle;
	struct attr *attrs;      /* newest first */
	struct owner *next;
};

static struct keyval **keyvals;  /* user keyvals, by keyval - KEYVAL_FIRST */
static int nkeyvals;
static size_t capkeyvals;
static struct owner *owners;

/* The predefined keys and their values. */
static struct keyval predefined_kv = { .kind = SHIM_K_COMM, .predefined = 1 };
static int tag_ub = 32767, host = MPI_PROC_NULL, io = MPI_ANY_SOURCE;
static int wtime_is_global, appnum, universe_size, lastused = MPI_ERR_LASTCODE;

#define COPY_NULL ((uintptr_t)0)
#define COPY_DUP ((uintptr_t)1)

/* ------------------------------------------------------------ keyvals */

static struct keyval *keyval_find(int k)
{
	if (k >= MPI_TAG_UB && k <= MPI_UNIVERSE_SIZE)
		return &predefined_kv;
	shim_state_lock();
	struct keyval *kv = k < KEYVAL_FIRST || k - KEYVAL_FIRST >= nkeyvals ? NULL
			    : keyvals[k - KEYVAL_FIRST];
	if (kv && kv->freed && kv->uses == 0)
		kv = NULL;
	shim_state_unlock();
	return kv;
}

/* keyval k for objects of kind; else raises MPI_ERR_KEYVAL on comm. */
static struct keyval *keyval_check(int k, int kind, MPI_Comm comm, const char *fn, int *err)
{
	struct keyval *kv = keyval_find(k);

	if (kv && kv->kind == kind)
		return kv;
	*err = shim_errorf(comm, MPI_ERR_KEYVAL, fn, kv ? "keyval %d is for another kind of object"
						      : "invalid keyval %d", k);
	return NULL;
}

static int keyval_new(int kind, void *copy, void *del, int *keyval, void *extra,
		      const char *fn)
{
	if (!keyval)
		return shim_error(SHIM_NOCOMM, MPI_ERR_ARG, fn, "keyval is NULL");
	struct keyval *kv = calloc(1, sizeof(*kv));
	if (!kv)
		return shim_error(SHIM_NOCOMM, MPI_ERR_NO_MEM, fn, NULL);
	kv->kind = kind;
	/* The callbacks are stored as the application passed them: real
	 * functions, or the ABI's small integers for the predefined ones. */
	if (kind == SHIM_K_COMM) {
		kv->copy.comm = (MPI_Comm_copy_attr_function *)copy;
		kv->del.comm = (MPI_Comm_delete_attr_function *)del;
	} else {
		kv->copy.type = (MPI_Type_copy_attr_function *)copy;
		kv->del.type = (MPI_Type_delete_attr_function *)del;
	}
	kv->extra = extra;
	shim_state_lock();
	int grown = dm_grow((void **)&keyvals, &capkeyvals, (size_t)nkeyvals + 1,
			    sizeof(*keyvals)) == 0;
	if (grown) {
		keyvals[nkeyvals] = kv;
		*keyval = KEYVAL_FIRST + nkeyvals++;
	}
	shim_state_unlock();
	if (!grown) {
		free(kv);
		return shim_error(SHIM_NOCOMM, MPI_ERR_NO_MEM, fn, NULL);
	}
	return MPI_SUCCESS;
}

static int keyval_free(int *keyval, int kind, const char *fn)
{
	int err;

	if (!keyval)
		return shim_error(SHIM_NOCOMM, MPI_ERR_ARG, fn, "keyval is NULL");
	struct keyval *kv = keyval_check(*keyval, kind, SHIM_NOCOMM, fn, &err);
	if (!kv)
		return err;
	if (kv->predefined)
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_KEYVAL, fn, "keyval %d cannot be freed",
				   *keyval);
	/* Freeing again while attributes still use it is accepted, as MPICH
	 * does (its test suite frees from inside a delete callback). */
	shim_state_lock();
	kv->freed = 1;
	shim_state_unlock();
	*keyval = MPI_KEYVAL_INVALID;
	return MPI_SUCCESS;
}

/* -------------------------------------------------------- attribute lists */

/* Callers hold the state lock, as for owner_drop. */
static struct owner *owner_find(int kind, uintptr_t h, int create)
{
	for (struct owner *o = owners; o; o = o->next)
		if (o->kind == kind && o->handle == h)
			return o;
	if (!create)
		return NULL;
	struct owner *o = calloc(1, sizeof(*o));
	if (o) {
		o->kind = kind;
		o->handle = h;
		o->next = owners;
		owners = o;
	}
	return o;
}

static void owner_drop(struct owner *o)
{
	for (struct owner **pp = &owners; *pp; pp = &(*pp)->next)
		if (*pp == o) {
			*pp = o->next;
			break;
		}
	while (o->attrs) {
		struct attr *a = o->attrs;
		o->attrs = a->next;
		struct keyval *kv = keyval_find(a->keyval);
		if (kv)
			kv->uses--;
		free(a);
	}
	free(o);
}

static struct attr *attr_find(int kind, uintptr_t h, int keyval)
{
	shim_state_lock();
	struct owner *o = owner_find(kind, h, 0);
	struct attr *a = o ? o->attrs : NULL;

	while (a && a->keyval != keyval)
		a = a->next;
	shim_state_unlock();
	return a;
}

/* Add a new attribute (none with this keyval exists). */
static int attr_add(int kind, uintptr_t h, int keyval, void *val)
{
	struct attr *a = malloc(sizeof(*a));

	if (!a)
		return MPI_ERR_NO_MEM;
	shim_state_lock();
	struct owner *o = owner_find(kind, h, 1);
	if (o) {
		a->keyval = keyval;
		a->val = val;
		a->next = o->attrs;
		o->attrs = a;
		keyval_find(keyval)->uses++;
	}
	shim_state_unlock();
	if (!o) {
		free(a);
		return MPI_ERR_NO_MEM;
	}
	return MPI_SUCCESS;
}

/* Unlink and free the attribute of keyval on (kind, h), if any. */
static void attr_remove(int kind, uintptr_t h, int keyval)
{
	shim_state_lock();
	struct owner *o = owner_find(kind, h, 0);

	if (!o) {
		shim_state_unlock();
		return;
	}
	for (struct attr **pp = &o->attrs; *pp; pp = &(*pp)->next)
		if ((*pp)->keyval == keyval) {
			struct attr *a = *pp;
			struct keyval *kv = keyval_find(keyval);
			*pp = a->next;
			free(a);
			kv->uses--;
			break;
		}
	if (!o->attrs)
		owner_drop(o);
	shim_state_unlock();
}

void shim_attr_forget(enum shim_kind kind, uintptr_t handle)
{
	shim_state_lock();
	struct owner *o = owner_find(kind, handle, 0);

	if (o)
		owner_drop(o);
	shim_state_unlock();
}

/* ------------------------------------------------------------ callbacks */

/* What a failing callback's return becomes: itself when it is an MPI
 * error code, MPI_ERR_OTHER otherwise. */
static int callback_error(int rc)
{
	int cls;

	if (rc == MPI_SUCCESS)
		return rc;
	if ((rc > 0 && rc <= MPI_ERR_ABI) || shim_error_user(rc, &cls, &(const char *){ NULL }))
		return rc;
	return MPI_ERR_OTHER;
}

static int call_delete(struct keyval *kv, int kind, uintptr_t h, int keyval, void *val)
{
	if (kind == SHIM_K_COMM) {
		if (!kv->del.comm)
			return MPI_SUCCESS;
		return callback_error(kv->del.comm((MPI_Comm)h, keyval, val, kv->extra));
	}
	if (!kv->del.type)
		return MPI_SUCCESS;
	return callback_error(kv->del.type((MPI_Datatype)h, keyval, val, kv->extra));
}

/* The value a copy callback gives the new object; *flag 0: none. */
static int call_copy(struct keyval *kv, int kind, uintptr_t h, int keyval, void *in,
		     void **out, int *flag)
{
	uintptr_t fn = kind == SHIM_K_COMM ? (uintptr_t)kv->copy.comm : (uintptr_t)kv->copy.type;

	*flag = 0;
	if (kv->predefined || fn == COPY_DUP) {
		*out = in;
		*flag = 1;
		return MPI_SUCCESS;
	}
	if (fn == COPY_NULL)
		return MPI_SUCCESS;
	if (kind == SHIM_K_COMM)
		return callback_error(kv->copy.comm((MPI_Comm)h, keyval, kv->extra, in, out, flag));
	return callback_error(kv->copy.type((MPI_Datatype)h, keyval, kv->extra, in, out, flag));
}

/* Delete (kind, h)'s attribute of keyval with its callback; a failing
 * callback leaves it in place. */
static int attr_delete(struct keyval *kv, int kind, uintptr_t h, int keyval)
{
	struct attr *a = attr_find(kind, h, keyval);

	if (!a)
		return MPI_SUCCESS;
	int err = call_delete(kv, kind, h, keyval, a->val);
	if (err == MPI_SUCCESS)
		attr_remove(kind, h, keyval);
	return err;
}

/* The keyval of (kind, h)'s newest attribute; 0 if it has none. */
static int newest_keyval(int kind, uintptr_t h, int *keyval)
{
	shim_state_lock();
	struct owner *o = owner_find(kind, h, 0);
	int found = o && o->attrs;

	if (found)
		*keyval = o->attrs->keyval;
	shim_state_unlock();
	return found;
}

static int delete_all(int kind, uintptr_t h)
{
	int keyval;

	while (newest_keyval(kind, h, &keyval)) {
		int err = attr_delete(keyval_find(keyval), kind, h, keyval);
		if (err)
			return err;
	}
	return MPI_SUCCESS;
}

/* A copy of (kind, h)'s attributes, newest first, in an array of *n;
 * NULL with *n > 0 without memory. */
static struct attr *snapshot(int kind, uintptr_t h, int *n)
{
	shim_state_lock();
	struct owner *o = owner_find(kind, h, 0);
	struct attr *snap = NULL;

	*n = 0;
	for (struct attr *a = o ? o->attrs : NULL; a; a = a->next)
		(*n)++;
	if (*n)
		snap = malloc((size_t)*n * sizeof(*snap));
	for (struct attr *a = snap ? o->attrs : NULL, *d = snap; a; a = a->next)
		*d++ = *a;
	shim_state_unlock();
	return snap;
}

/* Copy every attribute of from onto to, newest first.  The list is read
 * into an array first: the callbacks may change it. */
static int copy_all(int kind, uintptr_t from, uintptr_t to)
{
	int n = 0, err = MPI_SUCCESS;
	struct attr *snap = snapshot(kind, from, &n);

	if (n == 0)
		return MPI_SUCCESS;
	if (!snap)
		return MPI_ERR_NO_MEM;
	/* Oldest first, so the copies keep the original's order. */
	for (int i = n - 1; i >= 0 && !err; i--) {
		struct keyval *kv = keyval_find(snap[i].keyval);
		void *val = NULL;
		int flag;
		if (!kv)
			continue;
		err = call_copy(kv, kind, from, snap[i].keyval, snap[i].val, &val, &flag);
		if (!err && flag)
			err = attr_add(kind, to, snap[i].keyval, val);
	}
	free(snap);
	return err;
}

/* Set with delete-on-overwrite; the old value stays if its delete fails. */
static int attr_set(struct keyval *kv, int kind, uintptr_t h, int keyval, void *val)
{
	struct attr *a = attr_find(kind, h, keyval);

	if (!a)
		return attr_add(kind, h, keyval, val);
	int err = call_delete(kv, kind, h, keyval, a->val);
	/* The callback may have deleted or replaced the attribute. */
	if (err == MPI_SUCCESS && (a = attr_find(kind, h, keyval)))
		a->val = val;
	else if (err == MPI_SUCCESS)
		err = attr_add(kind, h, keyval, val);
	return err;
}

/* ------------------------------------------------------------ for others */

void shim_attr_init_world(const int64_t *arg)
{
	uintptr_t w = (uintptr_t)MPI_COMM_WORLD;

	if (arg[3] > 0)
		tag_ub = (int)arg[3];
	appnum = (int)arg[4];
	universe_size = (int)arg[5];
	wtime_is_global = arg[6] > 0;
	attr_add(SHIM_K_COMM, w, MPI_TAG_UB, &tag_ub);
	attr_add(SHIM_K_COMM, w, MPI_HOST, &host);
	attr_add(SHIM_K_COMM, w, MPI_IO, &io);
	attr_add(SHIM_K_COMM, w, MPI_WTIME_IS_GLOBAL, &wtime_is_global);
	attr_add(SHIM_K_COMM, w, MPI_LASTUSEDCODE, &lastused);
	if (appnum >= 0)
		attr_add(SHIM_K_COMM, w, MPI_APPNUM, &appnum);
	if (universe_size >= 0)
		attr_add(SHIM_K_COMM, w, MPI_UNIVERSE_SIZE, &universe_size);
}

void shim_attr_set_lastused(int code)
{
	if (code > lastused)
		lastused = code;
}

int shim_attr_comm_copy(MPI_Comm from, MPI_Comm to)
{
	return copy_all(SHIM_K_COMM, (uintptr_t)from, (uintptr_t)to);
}

int shim_attr_comm_delete_all(MPI_Comm comm)
{
	return delete_all(SHIM_K_COMM, (uintptr_t)comm);
}

int shim_attr_type_copy(MPI_Datatype from, MPI_Datatype to)
{
	return copy_all(SHIM_K_TYPE, (uintptr_t)from, (uintptr_t)to);
}

int shim_attr_type_delete_all(MPI_Datatype t)
{
	return delete_all(SHIM_K_TYPE, (uintptr_t)t);
}

/* --------------------------------------------------- communicator API */

int PMPI_Comm_create_keyval(MPI_Comm_copy_attr_function *comm_copy_attr_fn,
			    MPI_Comm_delete_attr_function *comm_delete_attr_fn,
			    int *comm_keyval, void *extra_state)
{
	return keyval_new(SHIM_K_COMM, (void *)(uintptr_t)comm_copy_attr_fn,
			  (void *)(uintptr_t)comm_delete_attr_fn, comm_keyval, extra_state,
			  "MPI_Comm_create_keyval");
}
SHIM_WEAK(Comm_create_keyval)

int PMPI_Comm_free_keyval(int *comm_keyval)
{
	return keyval_free(comm_keyval, SHIM_K_COMM, "MPI_Comm_free_keyval");
}
SHIM_WEAK(Comm_free_keyval)

/* comm and a keyval of it the application may change; else raises. */
static struct keyval *comm_kv(MPI_Comm comm, int keyval, int writing, const char *fn,
				  int *err)
{
	struct keyval *kv;

	if (!shim_comm_check(comm, fn, err) || !(kv = keyval_check(keyval, SHIM_K_COMM, comm, fn, err)))
		return NULL;
	if (writing && kv->predefined) {
		*err = shim_errorf(comm, MPI_ERR_KEYVAL, fn, "keyval %d is predefined", keyval);
		return NULL;
	}
	return kv;
}

int PMPI_Comm_set_attr(MPI_Comm comm, int comm_keyval, void *attribute_val)
{
	static const char fn[] = "MPI_Comm_set_attr";
	int err;
	struct keyval *kv = comm_kv(comm, comm_keyval, 1, fn, &err);

	if (!kv)
		return err;
	err = attr_set(kv, SHIM_K_COMM, (uintptr_t)comm, comm_keyval, attribute_val);
	return shim_error(comm, err, fn, NULL);
}
SHIM_WEAK(Comm_set_attr)

int PMPI_Comm_get_attr(MPI_Comm comm, int comm_keyval, void *attribute_val, int *flag)
{
	static const char fn[] = "MPI_Comm_get_attr";
	int err;

	if (!comm_kv(comm, comm_keyval, 0, fn, &err))
		return err;
	if (!attribute_val || !flag)
		return shim_error(comm, MPI_ERR_ARG, fn, "attribute_val or flag is NULL");
	struct attr *a = attr_find(SHIM_K_COMM, (uintptr_t)comm, comm_keyval);
	*flag = a != NULL;
	if (a)
		*(void **)attribute_val = a->val;
	return MPI_SUCCESS;
}
SHIM_WEAK(Comm_get_attr)

int PMPI_Comm_delete_attr(MPI_Comm comm, int comm_keyval)
{
	static const char fn[] = "MPI_Comm_delete_attr";
	int err;
	struct keyval *kv = comm_kv(comm, comm_keyval, 1, fn, &err);

	if (!kv)
		return err;
	err = attr_delete(kv, SHIM_K_COMM, (uintptr_t)comm, comm_keyval);
	return shim_error(comm, err, fn, "the delete callback failed");
}
SHIM_WEAK(Comm_delete_attr)

/* The MPI-1 names of the same. */
int PMPI_Keyval_create(MPI_Copy_function *copy_fn, MPI_Delete_function *delete_fn,
		       int *keyval, void *extra_state)
{
	return keyval_new(SHIM_K_COMM, (void *)(uintptr_t)copy_fn, (void *)(uintptr_t)delete_fn,
			  keyval, extra_state, "MPI_Keyval_create");
}
SHIM_WEAK(Keyval_create)

int PMPI_Keyval_free(int *keyval)
{
	return keyval_free(keyval, SHIM_K_COMM, "MPI_Keyval_free");
}
SHIM_WEAK(Keyval_free)

int PMPI_Attr_put(MPI_Comm comm, int keyval, void *attribute_val)
{
	return PMPI_Comm_set_attr(comm, keyval, attribute_val);
}
SHIM_WEAK(Attr_put)

int PMPI_Attr_get(MPI_Comm comm, int keyval, void *attribute_val, int *flag)
{
	return PMPI_Comm_get_attr(comm, keyval, attribute_val, flag);
}
SHIM_WEAK(Attr_get)

int PMPI_Attr_delete(MPI_Comm comm, int keyval)
{
	return PMPI_Comm_delete_attr(comm, keyval);
}
SHIM_WEAK(Attr_delete)

/* ------------------------------------------------------- datatype API */

/* Any live datatype, committed or not, may carry attributes. */
static struct keyval *type_kv(MPI_Datatype t, int keyval, const char *fn, int *err)
{
	if (!shim_type_get(t)) {
		*err = shim_errorf(SHIM_NOCOMM, MPI_ERR_TYPE, fn, "invalid datatype %#lx",
				   (unsigned long)(uintptr_t)t);
		return NULL;
	}
	return keyval_check(keyval, SHIM_K_TYPE, SHIM_NOCOMM, fn, err);
}

int PMPI_Type_create_keyval(MPI_Type_copy_attr_function *type_copy_attr_fn,
			    MPI_Type_delete_attr_function *type_delete_attr_fn,
			    int *type_keyval, void *extra_state)
{
	return keyval_new(SHIM_K_TYPE, (void *)(uintptr_t)type_copy_attr_fn,
			  (void *)(uintptr_t)type_delete_attr_fn, type_keyval, extra_state,
			  "MPI_Type_create_keyval");
}
SHIM_WEAK(Type_create_keyval)

int PMPI_Type_free_keyval(int *type_keyval)
{
	return keyval_free(type_keyval, SHIM_K_TYPE, "MPI_Type_free_keyval");
}
SHIM_WEAK(Type_free_keyval)

int PMPI_Type_set_attr(MPI_Datatype datatype, int type_keyval, void *attribute_val)
{
	static const char fn[] = "MPI_Type_set_attr";
	int err;
	struct keyval *kv = type_kv(datatype, type_keyval, fn, &err);

	if (!kv)
		return err;
	err = attr_set(kv, SHIM_K_TYPE, (uintptr_t)datatype, type_keyval, attribute_val);
	return shim_error(SHIM_NOCOMM, err, fn, NULL);
}
SHIM_WEAK(Type_set_attr)

int PMPI_Type_get_attr(MPI_Datatype datatype, int type_keyval, void *attribute_val, int *flag)
{
	static const char fn[] = "MPI_Type_get_attr";
	int err;

	if (!type_kv(datatype, type_keyval, fn, &err))
		return err;
	if (!attribute_val || !flag)
		return shim_error(SHIM_NOCOMM, MPI_ERR_ARG, fn, "attribute_val or flag is NULL");
	struct attr *a = attr_find(SHIM_K_TYPE, (uintptr_t)datatype, type_keyval);
	*flag = a != NULL;
	if (a)
		*(void **)attribute_val = a->val;
	return MPI_SUCCESS;
}
SHIM_WEAK(Type_get_attr)

int PMPI_Type_delete_attr(MPI_Datatype datatype, int type_keyval)
{
	static const char fn[] = "MPI_Type_delete_attr";
	int err;
	struct keyval *kv = type_kv(datatype, type_keyval, fn, &err);

	if (!kv)
		return err;
	err = attr_delete(kv, SHIM_K_TYPE, (uintptr_t)datatype, type_keyval);
	return shim_error(SHIM_NOCOMM, err, fn, "the delete callback failed");
}
SHIM_WEAK(Type_delete_attr)
