/* restore_check.h - whether this host can run an image, decided before any
 * VM exists and before a byte of guest memory is decoded. Pure: restore.c
 * gathers the host's facts. */
#ifndef TORPOR_RESTORE_CHECK_H
#define TORPOR_RESTORE_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "vm_state.h"

/* What restore compares an image with. */
struct host_limits {
	uint64_t counter_freq;          /* CNTFRQ_EL0, Hz */
	uint64_t midr;                  /* MIDR_EL1 of CPU 0, 0 if unknown */
	uint64_t memory_bytes;          /* RAM plus swap: the most it can populate */
	unsigned vm_ipa_bits;           /* guest address bits of the VMs torpor makes */
	const char *kernel_release;     /* uname -r; NULL if unknown */
};

/* 0 if a host with limits h can restore st, whose memory stores
 * data_pages pages of MEM_PAGE_SIZE; otherwise -1 and one line in msg
 * naming what differs, with both numbers. */
int restore_check_host(const struct vm_state *st, uint64_t data_pages,
		       const struct host_limits *h, char *msg, size_t len);

#endif
