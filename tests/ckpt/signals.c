/*
 * signals.c - signal state across a restart: handlers stay installed
 * (SIGUSR1, SIGUSR2, SIGURG), an ignored SIGPIPE stays ignored, the
 * main thread's mask stays as it was, and two blocked signals pending at
 * checkpoint time (one sent to the thread, one to the process) are
 * delivered once they are unblocked at the end.
 */
#include "tests/ckpt/harness.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

static volatile sig_atomic_t n_usr1, n_usr2, n_urg;

static void on_sig(int sig)
{
	if (sig == SIGUSR1)
		n_usr1++;
	else if (sig == SIGUSR2)
		n_usr2++;
	else if (sig == SIGURG)
		n_urg++;
}

int main(void)
{
	struct sigaction sa = { 0 };
	sigset_t blocked, now;

	sa.sa_handler = on_sig;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(SIGURG, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&blocked);
	sigaddset(&blocked, SIGUSR2);
	sigaddset(&blocked, SIGURG);
	/* Blocked before the helper exists, so no thread takes SIGURG. */
	sigprocmask(SIG_BLOCK, &blocked, NULL);
	th_start("signals");
	raise(SIGUSR2);               /* pending for this thread */
	kill(getpid(), SIGURG);       /* pending for the process */
	uint64_t h = 1469598103934665603ULL;
	for (long k = 0; k < 100; k++) {
		for (uint64_t i = 0; i < 200000; i++)
			h = (h ^ i) * 1099511628211ULL;
		th_step(k);
		usleep(1000);
	}
	th_done();
	sigprocmask(SIG_BLOCK, NULL, &now);
	int mask_ok = sigismember(&now, SIGUSR2) && sigismember(&now, SIGURG);
	int early = n_usr2 + n_urg;   /* nothing may arrive while blocked */
	sigprocmask(SIG_UNBLOCK, &blocked, NULL);
	raise(SIGUSR1);
	struct sigaction old;
	sigaction(SIGPIPE, NULL, &old);
	printf("signals: usr1 %d usr2 %d urg %d early %d mask %d pipe-ign %d "
	       "hash %016llx\n", (int)n_usr1, (int)n_usr2, (int)n_urg, early,
	       mask_ok, old.sa_handler == SIG_IGN, (unsigned long long)h);
	return 0;
}
