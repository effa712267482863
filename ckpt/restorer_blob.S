/*
 * restorer_blob.S - the restorer (ckpt/restore/) embedded in
 * dmtcp_mpi_restart, so the front end needs no path to find it.  The
 * Makefile passes the built ELF's path as CK_RESTORER_PATH.
 */
	.section .rodata
	.balign 64
	.globl ck_restorer_elf
	.globl ck_restorer_elf_end
ck_restorer_elf:
	.incbin CK_RESTORER_PATH
ck_restorer_elf_end:
	.section .note.GNU-stack,"",@progbits
