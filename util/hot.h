/*
 * hot.h - DM_HOT marks the functions an 8-byte blocking round trip runs
 * through: the shim's point-to-point calls and their call slot, the
 * channel's post and wait, the proxy's request loop and its send and
 * receive handlers.  GCC puts them in .text.hot, which the linker keeps
 * together, so after each hand-off the path runs from a few pages of
 * code instead of one or two lines in each of a dozen (measured with
 * lackey: doc/performance.md, "8 B latency on the Intel VM").  Mark a
 * function only if a steady-state round trip runs it.
 */
#ifndef DM_UTIL_HOT_H
#define DM_UTIL_HOT_H

#define DM_HOT __attribute__((hot))

#endif
