/*
 * info.c - info objects, and the hints of communicators, in the
 * application.
 *
 * An info object is an ordered list of (key, value) strings; the shim
 * keeps it entirely (SHIM_K_INFO handles) and no info ever crosses the
 * channel: hints given to constructors (Comm_split_type, Dist_graph_*,
 * Comm_dup_with_info ...) are recorded or ignored here, which the
 * standard allows.  Keys keep insertion order and MPI_Info_set on an
 * existing key replaces its value in place, as in MPICH and Open MPI,
 * so MPI_Info_get_nthkey answers the same.
 *
 * Limits are the ABI's: a key is 1..MPI_MAX_INFO_KEY-1 characters
 * (MPI_ERR_INFO_KEY), a value at most MPI_MAX_INFO_VAL-1
 * (MPI_ERR_INFO_VALUE).  MPI_Info_get truncates to valuelen without an
 * error, as the standard says (MPICH 4.0 raises MPI_ERR_INFO_VALUE,
 * Open MPI does not).  Errors go to SHIM_NOCOMM's handler: an info
 * belongs to no communicator.
 *
 * MPI_INFO_ENV describes how the program was started: command, argv,
 * maxprocs, host, arch, wdir, thread_level, filled at first use.
 *
 * Communicator hints: MPI_Comm_set_info keeps a copy in the record;
 * MPI_Comm_get_info answers the four mpi_assert_* hints of MPI-4 (false
 * unless set), which is what both MPIs report for them; other keys are
 * ignored by us as by them.  A dup inherits its parent's hints
 * (shim/commdup.c).
 */
#include "shim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "util/grow.h"

struct shim_info {
	int n;
	size_t cap_key, cap_val; /* room in key and val (grown apart: one may fail) */
	char **key;
	char **val;
};

static struct shim_info env_info;
static int env_filled;

/* ------------------------------------------------------------- records */

static int find(const struct shim_info *i, const char *key)
{
	for (int k = 0; k < i->n; k++)
		if (!strcmp(i->key[k], key))
			return k;
	return -1;
}

/* Set key to val in i; MPI_ERR_NO_MEM. */
static int info_put(struct shim_info *i, const char *key, const char *val)
{
	char *v = strdup(val);
	int k = find(i, key);

	if (!v)
		return MPI_ERR_NO_MEM;
	if (k >= 0) {
		free(i->val[k]);
		i->val[k] = v;
		return MPI_SUCCESS;
	}
	if (dm_grow((void **)&i->key, &i->cap_key, (size_t)i->n + 1, sizeof(*i->key)) < 0 ||
	    dm_grow((void **)&i->val, &i->cap_val, (size_t)i->n + 1, sizeof(*i->val)) < 0) {
		free(v);
		return MPI_ERR_NO_MEM;
	}
	if (!(i->key[i->n] = strdup(key))) {
		free(v);
		return MPI_ERR_NO_MEM;
	}
	i->val[i->n++] = v;
	return MPI_SUCCESS;
}

static void info_clear(struct shim_info *i)
{
	for (int k = 0; k < i->n; k++) {
		free(i->key[k]);
		free(i->val[k]);
	}
	free(i->key);
	free(i->val);
	memset(i, 0, sizeof(*i));
}

void shim_info_release(struct shim_info *i)
{
	if (!i || i == &env_info)
		return;
	info_clear(i);
	free(i);
}

struct shim_info *shim_info_copy(const struct shim_info *i)
{
	struct shim_info *d = i ? calloc(1, sizeof(*d)) : NULL;

	for (int k = 0; d && k < i->n; k++)
		if (info_put(d, i->key[k], i->val[k])) {
			shim_info_release(d);
			d = NULL;
		}
	return d;
}

/* MPI_INFO_ENV, the first time it is used. */
static void env_fill(void)
{
	char buf[4096], num[32];
	struct utsname u;
	FILE *f;

	if (env_filled)
		return;
	env_filled = 1;
	if ((f = fopen("/proc/self/cmdline", "r"))) {
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		info_put(&env_info, "command", buf);
		/* argv: the remaining arguments, separated by spaces. */
		size_t at = strlen(buf) + 1;
		for (size_t i = at; i + 1 < n; i++)
			if (buf[i] == '\0')
				buf[i] = ' ';
		if (at < n)
			info_put(&env_info, "argv", buf + at);
	}
	snprintf(num, sizeof(num), "%d", shim.world_size);
	info_put(&env_info, "maxprocs", num);
	if (gethostname(buf, sizeof(buf)) == 0) {
		buf[sizeof(buf) - 1] = '\0';
		info_put(&env_info, "host", buf);
	}
	if (uname(&u) == 0)
		info_put(&env_info, "arch", u.machine);
	if (getcwd(buf, sizeof(buf)))
		info_put(&env_info, "wdir", buf);
	info_put(&env_info, "thread_level",
		 shim.thread_level == MPI_THREAD_MULTIPLE ? "MPI_THREAD_MULTIPLE" :
		 shim.thread_level == MPI_THREAD_SERIALIZED ? "MPI_THREAD_SERIALIZED" :
		 shim.thread_level == MPI_THREAD_FUNNELED ? "MPI_THREAD_FUNNELED" :
		 "MPI_THREAD_SINGLE");
}

struct shim_info *shim_info_get(MPI_Info h)
{
	if (h == MPI_INFO_ENV) {
		env_fill();
		return &env_info;
	}
	return shim_handle_get(SHIM_K_INFO, (uintptr_t)h);
}

int shim_info_check(MPI_Info h, MPI_Comm comm, const char *fn)
{
	if (h == MPI_INFO_NULL || shim_info_get(h))
		return MPI_SUCCESS;
	return shim_errorf(comm, MPI_ERR_INFO, fn, "invalid info %#lx", (unsigned long)(uintptr_t)h);
}

/* A new handle for record i (which it then owns); MPI_INFO_NULL on ENOMEM. */
static MPI_Info info_handle(struct shim_info *i)
{
	uintptr_t h = i ? shim_handle_new(SHIM_K_INFO, i) : 0;

	if (!h) {
		shim_info_release(i);
		return MPI_INFO_NULL;
	}
	return (MPI_Info)h;
}

/* ----------------------------------------------------------------- API */

/* The record of a live info, or NULL after raising MPI_ERR_INFO. */
static struct shim_info *info_check(MPI_Info h, const char *fn, int *err)
{
	struct shim_info *i = shim_info_get(h);

	if (!i)
		*err = shim_errorf(SHIM_NOCOMM, MPI_ERR_INFO, fn,
				   h == MPI_INFO_NULL ? "MPI_INFO_NULL" : "invalid info %#lx",
				   (unsigned long)(uintptr_t)h);
	return i;
}

/* A key the application passes: 1..MPI_MAX_INFO_KEY-1 characters. */
static int key_check(const char *key, const char *fn)
{
	if (!key)
		return shim_error(SHIM_NOCOMM, MPI_ERR_INFO_KEY, fn, "key is NULL");
	size_t n = strlen(key);
	if (n == 0 || n >= MPI_MAX_INFO_KEY)
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_INFO_KEY, fn,
				   "a key has 1 to %d characters, not %zu", MPI_MAX_INFO_KEY - 1, n);
	return MPI_SUCCESS;
}

static int out_handle(MPI_Info *out, struct shim_info *i, const char *fn)
{
	if ((*out = info_handle(i)) == MPI_INFO_NULL)
		return shim_error(SHIM_NOCOMM, MPI_ERR_NO_MEM, fn, NULL);
	return MPI_SUCCESS;
}

int PMPI_Info_create(MPI_Info *info)
{
	if (!info)
		return shim_error(SHIM_NOCOMM, MPI_ERR_ARG, "MPI_Info_create", "info is NULL");
	return out_handle(info, calloc(1, sizeof(struct shim_info)), "MPI_Info_create");
}
SHIM_WEAK(Info_create)

/* MPI-4: the same contents as MPI_INFO_ENV, in an info of one's own. */
int PMPI_Info_create_env(int argc, char *argv[], MPI_Info *info)
{
	(void)argc;
	(void)argv;
	if (!info)
		return shim_error(SHIM_NOCOMM, MPI_ERR_ARG, "MPI_Info_create_env", "info is NULL");
	return out_handle(info, shim_info_copy(shim_info_get(MPI_INFO_ENV)),
			  "MPI_Info_create_env");
}
SHIM_WEAK(Info_create_env)

int PMPI_Info_set(MPI_Info info, const char *key, const char *value)
{
	static const char fn[] = "MPI_Info_set";
	int err;
	struct shim_info *i = info_check(info, fn, &err);

	if (!i || (err = key_check(key, fn)))
		return err;
	if (!value)
		return shim_error(SHIM_NOCOMM, MPI_ERR_INFO_VALUE, fn, "value is NULL");
	if (strlen(value) >= MPI_MAX_INFO_VAL)
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_INFO_VALUE, fn,
				   "a value has at most %d characters", MPI_MAX_INFO_VAL - 1);
	return shim_error(SHIM_NOCOMM, info_put(i, key, value), fn, NULL);
}
SHIM_WEAK(Info_set)

int PMPI_Info_delete(MPI_Info info, const char *key)
{
	static const char fn[] = "MPI_Info_delete";
	int err;
	struct shim_info *i = info_check(info, fn, &err);

	if (!i || (err = key_check(key, fn)))
		return err;
	int k = find(i, key);
	if (k < 0)
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_INFO_NOKEY, fn, "no key \"%s\"", key);
	free(i->key[k]);
	free(i->val[k]);
	memmove(&i->key[k], &i->key[k + 1], (size_t)(i->n - k - 1) * sizeof(char *));
	memmove(&i->val[k], &i->val[k + 1], (size_t)(i->n - k - 1) * sizeof(char *));
	i->n--;
	return MPI_SUCCESS;
}
SHIM_WEAK(Info_delete)

/* Deprecated in MPI-4 for MPI_Info_get_string. */
int PMPI_Info_get(MPI_Info info, const char *key, int valuelen, char *value, int *flag)
{
	static const char fn[] = "MPI_Info_get";
	int err;
	struct shim_info *i = info_check(info, fn, &err);

	if (!i || (err = key_check(key, fn)))
		return err;
	if (valuelen < 0 || !flag || (!value && valuelen > 0))
		return shim_error(SHIM_NOCOMM, MPI_ERR_ARG, fn, "bad valuelen, value or flag");
	int k = find(i, key);
	*flag = k >= 0;
	if (k >= 0 && value) {
		/* value has room for valuelen characters and the NUL. */
		size_t n = strlen(i->val[k]);
		if (n > (size_t)valuelen)
			n = (size_t)valuelen;
		memcpy(value, i->val[k], n);
		value[n] = '\0';
	}
	return MPI_SUCCESS;
}
SHIM_WEAK(Info_get)

int PMPI_Info_get_string(MPI_Info info, const char *key, int *buflen, char *value, int *flag)
{
	static const char fn[] = "MPI_Info_get_string";
	int err;
	struct shim_info *i = info_check(info, fn, &err);

	if (!i || (err = key_check(key, fn)))
		return err;
	if (!buflen || *buflen < 0 || !flag || (!value && *buflen > 0))
		return shim_error(SHIM_NOCOMM, MPI_ERR_ARG, fn, "bad buflen, value or flag");
	int k = find(i, key);
	*flag = k >= 0;
	if (k < 0)
		return MPI_SUCCESS;
	size_t len = strlen(i->val[k]);
	if (*buflen > 0) {
		size_t n = len < (size_t)*buflen - 1 ? len : (size_t)*buflen - 1;
		memcpy(value, i->val[k], n);
		value[n] = '\0';
	}
	*buflen = (int)len + 1;
	return MPI_SUCCESS;
}
SHIM_WEAK(Info_get_string)

int PMPI_Info_get_valuelen(MPI_Info info, const char *key, int *valuelen, int *flag)
{
	static const char fn[] = "MPI_Info_get_valuelen";
	int err;
	struct shim_info *i = info_check(info, fn, &err);

	if (!i || (err = key_check(key, fn)))
		return err;
	if (!valuelen || !flag)
		return shim_error(SHIM_NOCOMM, MPI_ERR_ARG, fn, "valuelen or flag is NULL");
	int k = find(i, key);
	*flag = k >= 0;
	if (k >= 0)
		*valuelen = (int)strlen(i->val[k]);
	return MPI_SUCCESS;
}
SHIM_WEAK(Info_get_valuelen)

int PMPI_Info_get_nkeys(MPI_Info info, int *nkeys)
{
	int err;
	struct shim_info *i = info_check(info, "MPI_Info_get_nkeys", &err);

	if (!i)
		return err;
	if (!nkeys)
		return shim_error(SHIM_NOCOMM, MPI_ERR_ARG, "MPI_Info_get_nkeys", "nkeys is NULL");
	*nkeys = i->n;
	return MPI_SUCCESS;
}
SHIM_WEAK(Info_get_nkeys)

int PMPI_Info_get_nthkey(MPI_Info info, int n, char *key)
{
	static const char fn[] = "MPI_Info_get_nthkey";
	int err;
	struct shim_info *i = info_check(info, fn, &err);

	if (!i)
		return err;
	if (n < 0 || n >= i->n)
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_ARG, fn, "n = %d, the info has %d keys", n,
				   i->n);
	if (!key)
		return shim_error(SHIM_NOCOMM, MPI_ERR_ARG, fn, "key is NULL");
	strcpy(key, i->key[n]);
	return MPI_SUCCESS;
}
SHIM_WEAK(Info_get_nthkey)

int PMPI_Info_dup(MPI_Info info, MPI_Info *newinfo)
{
	int err;
	struct shim_info *i = info_check(info, "MPI_Info_dup", &err);

	if (!i)
		return err;
	if (!newinfo)
		return shim_error(SHIM_NOCOMM, MPI_ERR_ARG, "MPI_Info_dup", "newinfo is NULL");
	return out_handle(newinfo, shim_info_copy(i), "MPI_Info_dup");
}
SHIM_WEAK(Info_dup)

int PMPI_Info_free(MPI_Info *info)
{
	static const char fn[] = "MPI_Info_free";
	int err;

	if (!info)
		return shim_error(SHIM_NOCOMM, MPI_ERR_ARG, fn, "info is NULL");
	if (*info == MPI_INFO_ENV)
		return shim_error(SHIM_NOCOMM, MPI_ERR_INFO, fn, "MPI_INFO_ENV cannot be freed");
	struct shim_info *i = info_check(*info, fn, &err);
	if (!i)
		return err;
	shim_handle_free(SHIM_K_INFO, (uintptr_t)*info);
	shim_info_release(i);
	*info = MPI_INFO_NULL;
	return MPI_SUCCESS;
}
SHIM_WEAK(Info_free)

/* ------------------------------------------------- communicator hints */

static const char *const assertions[] = {
	"mpi_assert_no_any_tag", "mpi_assert_no_any_source", "mpi_assert_exact_length",
	"mpi_assert_allow_overtaking",
};
#define NASSERT (sizeof(assertions) / sizeof(assertions[0]))

int PMPI_Comm_set_info(MPI_Comm comm, MPI_Info info)
{
	static const char fn[] = "MPI_Comm_set_info";
	int err;
	struct shim_comm *c = shim_comm_check(comm, fn, &err);

	if (!c || (err = shim_info_check(info, comm, fn)))
		return err;
	struct shim_info *given = shim_info_get(info);
	struct shim_info *keep = c->info ? c->info : calloc(1, sizeof(*keep));
	if (!keep)
		return shim_error(comm, MPI_ERR_NO_MEM, fn, NULL);
	c->info = keep;
	/* Hints we do not know are ignored, as both MPIs ignore them. */
	for (size_t a = 0; given && a < NASSERT; a++) {
		int k = find(given, assertions[a]);
		if (k >= 0 && (err = info_put(keep, assertions[a], given->val[k])))
			return shim_error(comm, err, fn, NULL);
	}
	return MPI_SUCCESS;
}
SHIM_WEAK(Comm_set_info)

int PMPI_Comm_get_info(MPI_Comm comm, MPI_Info *info_used)
{
	static const char fn[] = "MPI_Comm_get_info";
	int err;
	struct shim_comm *c = shim_comm_check(comm, fn, &err);

	if (!c)
		return err;
	if (!info_used)
		return shim_error(comm, MPI_ERR_ARG, fn, "info_used is NULL");
	struct shim_info *i = calloc(1, sizeof(*i));
	for (size_t a = 0; i && a < NASSERT; a++) {
		int k = c->info ? find(c->info, assertions[a]) : -1;
		if (info_put(i, assertions[a], k >= 0 ? c->info->val[k] : "false")) {
			shim_info_release(i);
			i = NULL;
		}
	}
	if ((*info_used = info_handle(i)) == MPI_INFO_NULL)
		return shim_error(comm, MPI_ERR_NO_MEM, fn, NULL);
	return MPI_SUCCESS;
}
SHIM_WEAK(Comm_get_info)
