/*
 * ctx.c - the three pieces of assembly the engine needs.
 *
 * ck_ctx_save/ck_ctx_jump: a setjmp/longjmp pair for the checkpointing
 * thread.  glibc's longjmp cannot be used: it is fortified against jumps
 * to another stack, and after a restart we jump from the restorer's
 * stack.  Only callee-saved registers and the FP control words need
 * saving, because ck_ctx_save is an ordinary call.
 *
 * ck_clone_raw: start a raw thread for the image writer.  It is not a
 * glibc thread (pthread_create would malloc while a stopped thread may
 * hold malloc's lock); it shares the caller's TLS and calls nothing that
 * uses it beyond the stack-protector canary.
 *
 * ck_sigreturn_to: resume a thread that the stop signal interrupted.  The
 * kernel saved all its registers, FPU/AVX state and signal mask in the
 * signal frame on its own stack, which is part of the image; rt_sigreturn
 * with the stack pointer at the frame's ucontext reloads all of it.
 */
#include "ckpt/internal.h"

#include <stddef.h>

_Static_assert(offsetof(struct ck_ctx, rsp) == 48, "ctx layout");
_Static_assert(offsetof(struct ck_ctx, mxcsr) == 64, "ctx layout");

__asm__(
	".text\n"
	".globl ck_ctx_save\n"
	".hidden ck_ctx_save\n"
	".type ck_ctx_save,@function\n"
	"ck_ctx_save:\n"
	"	movq %rbx, 0(%rdi)\n"
	"	movq %rbp, 8(%rdi)\n"
	"	movq %r12, 16(%rdi)\n"
	"	movq %r13, 24(%rdi)\n"
	"	movq %r14, 32(%rdi)\n"
	"	movq %r15, 40(%rdi)\n"
	"	leaq 8(%rsp), %rax\n"
	"	movq %rax, 48(%rdi)\n"
	"	movq (%rsp), %rax\n"
	"	movq %rax, 56(%rdi)\n"
	"	stmxcsr 64(%rdi)\n"
	"	fnstcw 68(%rdi)\n"
	"	xorl %eax, %eax\n"
	"	ret\n"
	".size ck_ctx_save, .-ck_ctx_save\n"

	".globl ck_ctx_jump\n"
	".hidden ck_ctx_jump\n"
	".type ck_ctx_jump,@function\n"
	"ck_ctx_jump:\n"
	"	movq 0(%rdi), %rbx\n"
	"	movq 8(%rdi), %rbp\n"
	"	movq 16(%rdi), %r12\n"
	"	movq 24(%rdi), %r13\n"
	"	movq 32(%rdi), %r14\n"
	"	movq 40(%rdi), %r15\n"
	"	ldmxcsr 64(%rdi)\n"
	"	fldcw 68(%rdi)\n"
	"	movq 48(%rdi), %rsp\n"
	"	movl $1, %eax\n"
	"	jmp *56(%rdi)\n"
	".size ck_ctx_jump, .-ck_ctx_jump\n"

	".globl ck_sigreturn_to\n"
	".hidden ck_sigreturn_to\n"
	".type ck_sigreturn_to,@function\n"
	"ck_sigreturn_to:\n"
	"	movq %rdi, %rsp\n"
	"	movl $15, %eax\n"
	"	syscall\n"
	"	hlt\n"
	".size ck_sigreturn_to, .-ck_sigreturn_to\n"

	/* rdi flags, rsi stack, rdx ptid, rcx ctid, r8 tls, r9 fn,
	 * 8(%rsp) arg */
	".globl ck_clone_raw\n"
	".hidden ck_clone_raw\n"
	".type ck_clone_raw,@function\n"
	"ck_clone_raw:\n"
	"	movq 8(%rsp), %rax\n"
	"	subq $16, %rsi\n"
	"	movq %r9, 0(%rsi)\n"
	"	movq %rax, 8(%rsi)\n"
	"	movq %rcx, %r10\n"
	"	movl $56, %eax\n"
	"	syscall\n"
	"	testq %rax, %rax\n"
	"	jnz 1f\n"
	"	xorl %ebp, %ebp\n"
	"	popq %rax\n"
	"	popq %rdi\n"
	"	andq $-16, %rsp\n"
	"	call *%rax\n"
	"	movl $60, %eax\n"
	"	xorl %edi, %edi\n"
	"	syscall\n"
	"	hlt\n"
	"1:	ret\n"
	".size ck_clone_raw, .-ck_clone_raw\n");
