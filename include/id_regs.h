/* id_regs.h - the arm64 feature ID registers field by field: judging an
 * image's value of one (what the guest was told at boot) against what this
 * host's KVM offers (the value it reads after KVM_ARM_VCPU_INIT), for a
 * restore on another host kernel. Pure computation: src/vm/vcpu_regs.c
 * reads, writes and probes the registers.
 *
 * The feature ID registers are the system registers op0 3, op1 0, CRn 0,
 * CRm 1..7 (ID_PFR0_EL1 .. ID_AA64MMFR4_EL1 and the unallocated ones in
 * between). Each is made of fields; in most a higher value means more
 * (Arm ARM D19.1.3, "the ID scheme"), in some, signed, 0xf (-1) means "not
 * implemented", in a few a lower value is the safer one, and some are
 * plain encodings with no order. Bits that no table here describes are
 * judged as unsigned 4-bit fields, as the ID scheme lays them out. */
#ifndef TORPOR_ID_REGS_H
#define TORPOR_ID_REGS_H

#include <stdint.h>

/* The most fields a 64-bit register can be split into (1-bit fields). */
#define ID_REGS_MAX_FIELDS      64

/* True if id is the KVM ONE_REG id of a 64-bit feature ID register. */
int id_regs_is_feature(uint64_t id);

/* Its architectural name ("ID_AA64MMFR1_EL1"), or NULL if id is not one
 * with a name (an unallocated encoding, or no feature ID register). */
const char *id_regs_name(uint64_t id);

/* One field in which two values of a register differ. */
struct id_field_diff {
	char field[20];         /* "HCX", or "bits[43:40]" when unnamed */
	unsigned shift, width;
	uint64_t saved, host;   /* the field's raw values */
	int host_more;          /* 1: the host offers more, 0: less, or an
				   encoding with no order (refuse) */
};

/* The fields of feature ID register id in which saved and host differ, in
 * order of bit position, at most max of them into d. Returns their number
 * (0 if equal, or if id is no feature ID register). */
int id_regs_diff(uint64_t id, uint64_t saved, uint64_t host,
		 struct id_field_diff *d, int max);

/* What restore does with register id, whose image value is saved, on a
 * host whose KVM reads host for it: */
enum id_verdict {
	ID_WRITE,       /* write saved: equal, or no feature ID register
			   (KVM's word on the write is final) */
	ID_LOWER,       /* saved offers less than host in some fields and more
			   in none: write it; where KVM cannot lower a field,
			   the host's value may stay, the guest loses nothing */
	ID_REFUSE,      /* saved asks for more than host in a field, or
			   differs in one with no order: the guest could lose
			   a feature it was told it has */
};

/* The verdict on (id, saved, host); for ID_LOWER and ID_REFUSE, *d (if not
 * NULL) is the deciding field: the first one the host offers more of, or
 * the first it cannot give. */
enum id_verdict id_regs_decide(uint64_t id, uint64_t saved, uint64_t host,
			       struct id_field_diff *d);

/* v with field f set to the value that field has in from. */
uint64_t id_regs_field_from(uint64_t v, const struct id_field_diff *f, uint64_t from);

#endif
