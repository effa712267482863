/*
 * ctl.c - the client side of the channel's control slot.
 *
 * The engine's client thread talks to the proxy through hdr->ctl while an
 * application thread may hold the call slot, blocked in a receive: that
 * is why the control requests have a slot and a pair of sequence words
 * of their own (see chan.h for the requests and their argument layouts,
 * proxy/ckpt.c for how they are served).  The proxy answers between two
 * tests of the blocking call it is progressing, or at once when idle.
 */
#include "chan/chan.h"

int chan_ctl_call(struct chan *ch, uint32_t id)
{
	struct chan_ctl *ctl = &ch->hdr->ctl;
	uint32_t seen = chan_seq(ch, CHAN_CTL_RSP);

	ctl->id = id;
	ctl->err = 0;
	ctl->n = 0;
	chan_post(ch, CHAN_CTL_REQ);
	if (chan_wait(ch, CHAN_CTL_RSP, seen) < 0)
		return -1;
	return ctl->err;
}
