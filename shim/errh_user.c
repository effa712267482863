/*
 * errh_user.c - error handlers and error codes the application makes.
 *
 * A user error handler is a function in the application, so it can only
 * run here: shim_error (shim/errh.c) calls it with the communicator and
 * the error code when a call on a communicator using it fails, and the
 * failing call then returns the code.  Handles are SHIM_K_ERRH; a record
 * is never freed, because MPI_Errhandler_free only drops the
 * application's handle while communicators may still use the handler
 * (and the MPICH test suite uses handlers after freeing them).  They are
 * a few bytes each and made a handful of times per program.
 *
 * Error classes and codes added by MPI_Add_error_class/code are numbered
 * upward from MPI_ERR_LASTCODE + 1, above every predefined one, and
 * MPI_LASTUSEDCODE follows them (shim/attr.c).  MPI_Remove_error_class/
 * code/string (MPI-4.1) take them back in the order the standard
 * requires (string before code, codes before their class); a removed
 * number is never handed out again.  Their strings are kept
 * here for MPI_Error_string; a code without one has the empty string, as
 * in both MPIs.  None of this crosses the channel: the proxy never sees
 * a user code.
 */
#include "shim.h"

#include <stdlib.h>
#include <string.h>

#include "util/grow.h"

struct errh {
	MPI_Comm_errhandler_function *fn;
};

struct user_code {
	int code;
	int cls;                 /* == code for a class */
	char *text;              /* NULL until MPI_Add_error_string */
};

static struct user_code *codes;
static int ncodes, made;
static size_t capcodes;

int shim_errh_valid(MPI_Errhandler e)
{
	return e == MPI_ERRORS_ARE_FATAL || e == MPI_ERRORS_RETURN || e == MPI_ERRORS_ABORT ||
	       shim_handle_get(SHIM_K_ERRH, (uintptr_t)e) != NULL;
}

int shim_errh_call(MPI_Errhandler e, MPI_Comm comm, int code)
{
	struct errh *h = shim_handle_get(SHIM_K_ERRH, (uintptr_t)e);

	if (!h)
		return 0;
	h->fn(&comm, &code);
	return 1;
}

int PMPI_Comm_create_errhandler(MPI_Comm_errhandler_function *comm_errhandler_fn,
				MPI_Errhandler *errhandler)
{
	static const char fn[] = "MPI_Comm_create_errhandler";

	if (!comm_errhandler_fn || !errhandler)
		return shim_error(SHIM_NOCOMM, MPI_ERR_ARG, fn,
				  "comm_errhandler_fn or errhandler is NULL");
	struct errh *h = malloc(sizeof(*h));
	uintptr_t handle = h ? shim_handle_new(SHIM_K_ERRH, h) : 0;
	if (!handle) {
		free(h);
		return shim_error(SHIM_NOCOMM, MPI_ERR_NO_MEM, fn, NULL);
	}
	h->fn = comm_errhandler_fn;
	*errhandler = (MPI_Errhandler)handle;
	return MPI_SUCCESS;
}
SHIM_WEAK(Comm_create_errhandler)

/* The handler returns (MPI_ERRORS_RETURN, a user handler): MPI_SUCCESS,
 * as the standard says and both MPIs do. */
int PMPI_Comm_call_errhandler(MPI_Comm comm, int errorcode)
{
	static const char fn[] = "MPI_Comm_call_errhandler";
	int err;

	if (!shim_comm_check(comm, fn, &err))
		return err;
	shim_error(comm, errorcode, fn, "raised by the application");
	return MPI_SUCCESS;
}
SHIM_WEAK(Comm_call_errhandler)

/* --------------------------------------------------- classes and codes */

static struct user_code *code_find(int code)
{
	for (int i = 0; i < ncodes; i++)
		if (codes[i].code == code)
			return &codes[i];
	return NULL;
}

int shim_error_user(int code, int *cls, const char **text)
{
	struct user_code *u = code_find(code);

	if (!u)
		return 0;
	*cls = u->cls;
	*text = u->text;
	return 1;
}

/* A new code of class cls (a new class when cls is 0). */
static int code_new(int cls, int *out, const char *fn)
{
	if (!out)
		return shim_error(SHIM_NOCOMM, MPI_ERR_ARG, fn, "the output is NULL");
	if (dm_grow((void **)&codes, &capcodes, (size_t)ncodes + 1, sizeof(*codes)) < 0)
		return shim_error(SHIM_NOCOMM, MPI_ERR_NO_MEM, fn, NULL);
	struct user_code *u = &codes[ncodes];
	u->code = MPI_ERR_LASTCODE + 1 + made++;
	ncodes++;
	u->cls = cls ? cls : u->code;
	u->text = NULL;
	shim_attr_set_lastused(u->code);
	*out = u->code;
	return MPI_SUCCESS;
}

int PMPI_Add_error_class(int *errorclass)
{
	return code_new(0, errorclass, "MPI_Add_error_class");
}
SHIM_WEAK(Add_error_class)

/* errorclass must be a predefined class or one made by Add_error_class. */
int PMPI_Add_error_code(int errorclass, int *errorcode)
{
	struct user_code *u = code_find(errorclass);

	if (!(errorclass > 0 && errorclass <= MPI_ERR_ABI) && !(u && u->cls == u->code))
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_ARG, "MPI_Add_error_code",
				   "%d is not an error class", errorclass);
	return code_new(errorclass, errorcode, "MPI_Add_error_code");
}
SHIM_WEAK(Add_error_code)

/* Only codes and classes the application added have strings it may set. */
int PMPI_Add_error_string(int errorcode, const char *string)
{
	static const char fn[] = "MPI_Add_error_string";
	struct user_code *u = code_find(errorcode);
	char *copy;

	if (!u)
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_ARG, fn,
				   "%d is not an error code added by the application", errorcode);
	if (!string || strlen(string) >= MPI_MAX_ERROR_STRING)
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_ARG, fn,
				   "the string is NULL or longer than %d characters",
				   MPI_MAX_ERROR_STRING - 1);
	if (!(copy = strdup(string)))
		return shim_error(SHIM_NOCOMM, MPI_ERR_NO_MEM, fn, NULL);
	free(u->text);
	u->text = copy;
	return MPI_SUCCESS;
}
SHIM_WEAK(Add_error_string)

/* The record of a code the application added and may remove: a class
 * (class 1) or a code of a class (class 0), with no string left. */
static struct user_code *removable(int code, int class, const char *fn, int *err)
{
	struct user_code *u = code_find(code);

	*err = MPI_SUCCESS;
	if (!u || (u->cls == u->code) != class) {
		*err = shim_errorf(SHIM_NOCOMM, MPI_ERR_ARG, fn, "%d is not an error %s added by the"
				   " application", code, class ? "class" : "code");
		return NULL;
	}
	if (u->text) {
		*err = shim_errorf(SHIM_NOCOMM, MPI_ERR_ARG, fn, "%d still has an error string"
				   " (MPI_Remove_error_string first)", code);
		return NULL;
	}
	return u;
}

static void code_drop(struct user_code *u)
{
	*u = codes[--ncodes];
}

int PMPI_Remove_error_class(int errorclass)
{
	static const char fn[] = "MPI_Remove_error_class";
	int err;
	struct user_code *u = removable(errorclass, 1, fn, &err);

	if (!u)
		return err;
	for (int i = 0; i < ncodes; i++)
		if (codes[i].cls == errorclass && codes[i].code != errorclass)
			return shim_errorf(SHIM_NOCOMM, MPI_ERR_ARG, fn, "class %d still has code %d"
					   " (MPI_Remove_error_code first)", errorclass,
					   codes[i].code);
	code_drop(u);
	return MPI_SUCCESS;
}
SHIM_WEAK(Remove_error_class)

int PMPI_Remove_error_code(int errorcode)
{
	int err;
	struct user_code *u = removable(errorcode, 0, "MPI_Remove_error_code", &err);

	if (u)
		code_drop(u);
	return err;
}
SHIM_WEAK(Remove_error_code)

int PMPI_Remove_error_string(int errorcode)
{
	struct user_code *u = code_find(errorcode);

	if (!u || !u->text)
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_ARG, "MPI_Remove_error_string",
				   "%d has no error string the application added", errorcode);
	free(u->text);
	u->text = NULL;
	return MPI_SUCCESS;
}
SHIM_WEAK(Remove_error_string)
