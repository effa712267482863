/*
 * image.h - the on-disk checkpoint image format (version 1) and its reader.
 *
 * Layout (all little-endian, x86_64; doc/image-format.md has the tables):
 *
 *   [0, 4096)        struct ck_img_header, zero padded; written last
 *   [4096, ...)      DATA sections (page contents, raw or one zstd frame
 *                    each), in the order the writer threads finished them
 *   ...              metadata sections: PROC, THREADS, FDS, REGIONS,
 *                    EXTENTS, STRINGS (never compressed: small, and the
 *                    restorer reads them without a decompressor)
 *   table_offset     struct ck_img_section[nsections], DATA sections in
 *                    address order
 *
 * Every section has an XXH64 of its stored bytes in the table; the table
 * has its own hash in the header, and the header hashes itself.  A reader
 * therefore rejects a truncated, corrupted or foreign image naming the
 * section and the reason, before anything is restored.
 *
 * Page contents: EXTENTS lists (addr, len) runs of saved pages in
 * ascending address order; DATA section i holds the bytes of extents
 * [ext_first, ext_first + ext_count) back to back.  Pages of a region that
 * no extent covers are zero (never touched, or all-zero when saved).
 *
 * The reader (ck_img_*) works on an image in memory (a mapped file or a
 * fuzzer's buffer) and never trusts a length it has not checked.
 */
#ifndef CK_IMAGE_H
#define CK_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#define CK_IMG_MAGIC "DMTCPMPI"
#define CK_IMG_VERSION 1
#define CK_IMG_HDR_SPACE 4096      /* the header's reserved space */
#define CK_IMG_PAGE 4096
#define CK_IMG_MAX_SECTIONS (1u << 22)
#define CK_IMG_MAX_THREADS 4096
#define CK_IMG_NSIG 64
#define CK_IMG_MACHINE_X86_64 62   /* ELF e_machine */

struct ck_img_header {
	char magic[8];            /* CK_IMG_MAGIC, no NUL */
	uint32_t version;         /* CK_IMG_VERSION */
	uint32_t header_size;     /* sizeof(struct ck_img_header) */
	uint16_t machine;         /* CK_IMG_MACHINE_X86_64 */
	uint8_t ptr_size;         /* 8 */
	uint8_t little_endian;    /* 1 */
	uint32_t page_size;       /* CK_IMG_PAGE */
	uint64_t file_size;       /* the whole image; less means truncated */
	uint64_t table_offset;    /* section table */
	uint32_t nsections;
	uint32_t flags;           /* CK_IMG_F_* */
	uint64_t table_hash;      /* XXH64 of the table */
	uint64_t create_ns;       /* CLOCK_REALTIME at checkpoint */
	uint32_t pid;             /* pid at checkpoint */
	uint32_t nthreads;
	uint64_t mem_bytes;       /* raw bytes of all DATA sections */
	char kernel[65];          /* uname -r at checkpoint */
	char glibc[23];           /* gnu_get_libc_version() */
	char host[64];            /* uname -n */
	uint64_t header_hash;     /* XXH64 of this struct with this field 0 */
};

#define CK_IMG_F_FORKED 1u        /* written by a copy-on-write child */

enum ck_img_sec_type {
	CK_SEC_PROC = 1,          /* struct ck_img_proc */
	CK_SEC_THREADS = 2,       /* struct ck_img_thread[] */
	CK_SEC_FDS = 3,           /* struct ck_img_fd[] */
	CK_SEC_REGIONS = 4,       /* struct ck_img_region[] */
	CK_SEC_EXTENTS = 5,       /* struct ck_img_extent[] */
	CK_SEC_STRINGS = 6,       /* NUL-terminated strings, by offset */
	CK_SEC_DATA = 7,          /* page bytes of some extents */
	CK_SEC_MAX = 7
};

enum ck_img_codec { CK_CODEC_NONE = 0, CK_CODEC_ZSTD = 1 };

struct ck_img_section {
	uint32_t type;            /* enum ck_img_sec_type */
	uint32_t codec;           /* enum ck_img_codec (DATA only) */
	uint64_t offset;          /* in the file */
	uint64_t stored_size;     /* bytes in the file */
	uint64_t raw_size;        /* bytes after decoding */
	uint64_t hash;            /* XXH64 of the stored bytes */
	uint32_t ext_first;       /* DATA: first extent */
	uint32_t ext_count;       /* DATA: number of extents */
};

/* Signal disposition as the kernel's rt_sigaction sees it. */
struct ck_img_sigaction {
	uint64_t handler;
	uint64_t flags;
	uint64_t restorer;
	uint64_t mask;
};

struct ck_img_proc {
	uint64_t start_brk, brk;          /* program break at checkpoint */
	uint64_t vdso[2], vvar[2], vclock[2];  /* [start, end); 0 if absent */
	uint64_t wake_fn;                 /* ck_thread_wake in the library */
	uint64_t restart_info;            /* struct ck_restart_info * */
	uint64_t shared_pending;          /* process-wide pending signals */
	uint64_t xcr0;                    /* XSAVE features enabled */
	uint32_t cpuid[4];                /* leaf 1 ecx/edx, leaf 7 ebx/ecx */
	uint32_t umask;
	uint32_t personality;
	uint32_t cwd;                     /* STRINGS offset */
	uint32_t exe;                     /* STRINGS offset */
	uint32_t leader;                  /* index in THREADS of tid == pid */
	uint32_t pad;
	struct ck_img_sigaction sig[CK_IMG_NSIG];  /* signal s at [s - 1] */
};

enum ck_img_thread_kind {
	CK_THR_SIGFRAME = 1,     /* stopped by the signal: resume by sigreturn */
	CK_THR_CTX = 2           /* the checkpointing thread: ck_ctx jump */
};

struct ck_img_thread {
	uint32_t tid;             /* at checkpoint */
	uint32_t kind;            /* enum ck_img_thread_kind */
	uint64_t fs_base;         /* TLS pointer = struct pthread * */
	uint64_t tidptr;          /* &pthread->tid */
	uint64_t robust_head;     /* set_robust_list arguments */
	uint64_t robust_len;
	uint64_t rseq;            /* registered rseq area, or 0 */
	uint32_t rseq_len;
	uint32_t rseq_sig;
	uint64_t wake_sp;         /* stack for ck_thread_wake, on its stack */
	uint64_t wake_arg;        /* the library's per-thread record */
	uint64_t pending;         /* thread-directed pending signals */
	char name[16];            /* PR_GET_NAME */
};

enum ck_img_fd_kind {
	CK_FD_STDIO = 1,          /* 0-2 open: keep the restart's stdio */
	CK_FD_FILE = 2,           /* regular file: reopen, seek, truncate */
	CK_FD_DIR = 3,            /* directory: reopen */
	CK_FD_DEV = 4,            /* character device (/dev/null...): reopen */
	CK_FD_DUP = 5,            /* same open file as fd dup_of */
	CK_FD_OTHER = 6           /* pipe, socket, ...: /dev/null placeholder */
};

struct ck_img_fd {
	int32_t fd;
	uint32_t kind;            /* enum ck_img_fd_kind */
	int32_t oflags;           /* F_GETFL */
	int32_t fdflags;          /* F_GETFD */
	uint64_t offset;          /* lseek position */
	uint64_t size;            /* st_size of a regular file */
	int32_t dup_of;           /* CK_FD_DUP */
	uint32_t path;            /* STRINGS offset, or CK_IMG_NOSTR */
};

#define CK_IMG_NOSTR 0xffffffffu

enum ck_img_region_kind {
	CK_REG_ANON = 1,          /* private memory, contents in extents */
	CK_REG_SHARED_ANON = 2,   /* MAP_SHARED memory without a file */
	CK_REG_SHARED_FILE = 3    /* MAP_SHARED file: remapped, no contents */
};

#define CK_REG_F_HEAP 1u          /* inside [start_brk, brk) */
#define CK_REG_F_STACK 2u         /* main stack: MAP_GROWSDOWN */
#define CK_REG_F_WAS_FILE 4u      /* private file mapping saved as memory */

struct ck_img_region {
	uint64_t start, end;      /* page aligned, start < end */
	uint32_t prot;            /* PROT_* */
	uint32_t kind;            /* enum ck_img_region_kind */
	uint32_t flags;           /* CK_REG_F_* */
	uint32_t path;            /* STRINGS offset, or CK_IMG_NOSTR */
	uint64_t file_offset;     /* for SHARED_FILE */
};

struct ck_img_extent {
	uint64_t addr;            /* page aligned */
	uint64_t len;             /* page multiple, > 0 */
};

/* ---------------------------------------------------------------- reader */

/* A parsed, checked image.  Pointers point into the caller's buffer. */
struct ck_img {
	const uint8_t *base;
	size_t size;
	const struct ck_img_header *hdr;
	const struct ck_img_section *sec;       /* nsections entries */
	const struct ck_img_proc *proc;
	const struct ck_img_thread *threads;
	const struct ck_img_fd *fds;
	const struct ck_img_region *regions;
	const struct ck_img_extent *extents;
	const char *strings;
	uint32_t nthreads, nfds, nregions, nextents, ndata;
	uint32_t strings_len;
	uint32_t first_data;       /* index in sec of DATA section 0 */
};

/* A reason for rejecting an image: the section it concerns and why. */
struct ck_img_err {
	char section[32];
	char reason[160];
};

/* Parse and check the header, table and metadata sections; with
 * check_data, also the hash of every DATA section.  0, or -1 with *e. */
int ck_img_open(struct ck_img *im, const void *buf, size_t size,
		int check_data, struct ck_img_err *e);

/* Check the hash of DATA section k (0-based among DATA). */
int ck_img_check_data(const struct ck_img *im, uint32_t k,
		      struct ck_img_err *e);

/* String at offset off, or NULL when off is CK_IMG_NOSTR. */
const char *ck_img_str(const struct ck_img *im, uint32_t off);

const char *ck_img_sec_name(uint32_t type);

/* Hash of a header as stored (with header_hash taken as 0). */
uint64_t ck_img_header_hash(const struct ck_img_header *h);

#endif
