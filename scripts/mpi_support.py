"""mpi_support.py - write doc/mpi-support.md from the MPI function table.

Imported by scripts/gen_mpi.py, which parses shim/mpi_api.txt and passes the
functions here.  The table says which functions are `impl` and which `stub`;
this file adds the one thing the table lacks, why each stub is a stub, as a
small list of areas (RMA, MPI-IO, ...) with one reason each.

Every stub must fall in exactly one area, or generation fails: a new stub
cannot appear in the document without a reason, and a function cannot be
given two.  An area claims a stub by name prefix, by exact name or by the
table family it sits under (a window's error handler is listed under
"errors" in the table but belongs to RMA here).
"""

import textwrap


class Area:
    """A group of unsupported functions sharing one reason."""

    def __init__(self, title, reason, prefixes=(), names=(), families=()):
        self.title = title
        self.reason = reason
        self.prefixes = prefixes
        self.names = names
        self.families = families

    def claims(self, func):
        return (func.name.startswith(self.prefixes) or func.name in self.names
                or func.family in self.families)


AREAS = [
    Area("One-sided communication (RMA windows)",
         "A window lets other ranks read and write the application's memory "
         "directly, but the real MPI runs in the proxy, a separate process "
         "that cannot reach that memory; windows in memory shared with the "
         "proxy, and bringing epochs and locks to a quiet state for a "
         "checkpoint, are not implemented.",
         prefixes=("MPI_Win_",), families=("one-sided communication",)),
    Area("MPI-IO (files)",
         "An open file, its view and its shared file pointer are state of the "
         "real MPI inside the proxy, which is not checkpointed; reopening "
         "files and restoring their positions at a restart is not "
         "implemented.",
         prefixes=("MPI_File_",), families=("file I/O",)),
    Area("Dynamic processes and ports",
         "dmtcp_mpi runs the fixed set of ranks mpirun started (one "
         "application and one proxy each), and a restart needs the same "
         "number of ranks; spawned or connected processes would be outside "
         "the job the coordinator checkpoints. MPI_Comm_get_parent works "
         "and returns MPI_COMM_NULL.",
         families=("process management",)),
    Area("MPI_T tool information interface",
         "Control and performance variables, categories and events belong to "
         "the real MPI in the proxy and differ between MPICH and Open MPI, so "
         "they would change under an application restarted under the other "
         "MPI.",
         prefixes=("MPI_T_",), families=("tool information interface",)),
    Area("Sessions",
         "Open MPI 4.1.4 has no sessions (it implements MPI-3.1), and a "
         "session's process sets would have to be rebuilt at a restart; the "
         "shim runs the World model only. MPI_Comm_create_from_group and "
         "MPI_Intercomm_create_from_groups work, on groups of MPI_COMM_WORLD.",
         prefixes=("MPI_Session_",), families=("sessions",)),
    Area("Partitioned communication",
         "An MPI-4.0 feature that Open MPI 4.1.4 lacks; emulating it in the "
         "shim is not done.",
         families=("partitioned communication",)),
    Area("Hardware resource information",
         "An MPI-4.1 call that neither MPICH 4.0.2 nor Open MPI 4.1.4 "
         "provides, so the proxy has nothing to ask.",
         names=("MPI_Get_hw_resource_info",)),
]


def area_of(func, fail):
    """The one Area claiming a stub, or fail naming the function."""
    areas = [a for a in AREAS if a.claims(func)]
    if len(areas) != 1:
        fail("stub needs exactly one reason area", func.name,
             "claimed by %d areas; edit AREAS in scripts/mpi_support.py"
             % len(areas))
    return areas[0]


def names_list(funcs, lead=""):
    """Backquoted names, comma-separated, wrapped without splitting a name."""
    text = lead + ", ".join("`%s`" % f.name for f in funcs)
    return textwrap.fill(text, width=92, break_long_words=False,
                         break_on_hyphens=False)


def family_groups(funcs):
    """[(family, [funcs])] in table order."""
    groups = []
    for f in funcs:
        if not groups or groups[-1][0] != f.family:
            groups.append((f.family, []))
        groups[-1][1].append(f)
    return groups


INTRO = """\
# MPI functions supported by dmtcp_mpi

Every function of the MPI-5.0 standard ABI is exported by `libmpi_abi.so.1`
(`make exports-check`), so any MPI program links. This page lists which of
them work and which are *unsupported*. An unsupported function prints one
line on stderr and returns `MPI_ERR_UNSUPPORTED_OPERATION`, for example

    dmtcp_mpi: error: MPI_Win_create is not supported by dmtcp_mpi (MPI_ERR_UNSUPPORTED_OPERATION)

The error goes to `MPI_COMM_WORLD`'s error handler: under the default
`MPI_ERRORS_ARE_FATAL` the line ends in `; aborting` and the job ends; under
`MPI_ERRORS_RETURN` (or a user handler) the call returns the error class and
the application goes on. MPI-IO calls instead use a file's default handler,
`MPI_ERRORS_RETURN`, and MPI_T calls never call a handler (they may come
before `MPI_Init`), as the standard says: those always return
(`shim/errh.c`, tested by `tests/launcher/unsupported.sh`).

The source of this page is `shim/mpi_api.txt` (one line per function, marked
`impl` or `stub`) and the reasons in `scripts/mpi_support.py`. How well the
supported functions behave is measured in [conformance.md](conformance.md);
what survives a checkpoint is in [design.md](design.md) and
[user-guide.md](user-guide.md).
"""


def summary(funcs):
    out = ["## Summary", "",
           "| family (as in shim/mpi_api.txt) | functions | supported | unsupported |",
           "|---|---:|---:|---:|"]
    for family, group in family_groups(funcs):
        stubs = sum(f.status == "stub" for f in group)
        out.append("| %s | %d | %d | %d |"
                   % (family, len(group), len(group) - stubs, stubs))
    stubs = sum(f.status == "stub" for f in funcs)
    out.append("| **all** | **%d** | **%d** | **%d** |"
               % (len(funcs), len(funcs) - stubs, stubs))
    return out


def unsupported(funcs, fail):
    stubs = [f for f in funcs if f.status == "stub"]
    claimed = {id(f): area_of(f, fail) for f in stubs}
    out = ["## Unsupported functions, by area", "",
           "Each returns `MPI_ERR_UNSUPPORTED_OPERATION` as described above."]
    for area in AREAS:
        mine = [f for f in stubs if claimed[id(f)] is area]
        if not mine:
            continue
        families = []
        for f in mine:
            if f.family not in families:
                families.append(f.family)
        out += ["", "### %s: %d function%s" % (area.title, len(mine),
                                              "" if len(mine) == 1 else "s"), "",
                textwrap.fill("**Why:** " + area.reason, width=92), "",
                "Table families: %s." % ", ".join(families), "",
                names_list(mine)]
        # Not area.claims(f): the handle conversions of windows, files and
        # sessions work and belong with their own families.
        kept = [f for f in funcs if f.status == "impl" and f.family in area.families]
        if kept:
            out += ["", names_list(kept, "Supported in the same family: ")]
    return out


def supported(funcs):
    out = ["## Supported functions, by family", ""]
    for family, group in family_groups(funcs):
        impl = [f for f in group if f.status == "impl"]
        if not impl:
            continue
        out += ["### %s (%d of %d)" % (family, len(impl), len(group)), "",
                names_list(impl), ""]
    return out[:-1]


def gen_support_doc(funcs, stamp, fail):
    """The Markdown text of doc/mpi-support.md."""
    parts = ["<!-- %s; the reasons are in scripts/mpi_support.py -->" % stamp, INTRO.rstrip()]
    for section in (summary(funcs), unsupported(funcs, fail), supported(funcs)):
        parts.append("\n".join(section))
    return "\n\n".join(parts) + "\n"
