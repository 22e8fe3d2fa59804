/* image_check_regs.c - the rules of the two register lists: a vCPU's
 * (id, value) list and the vGIC's (group, attr, value) list. Repeats are
 * found by sorting a copy, so a list of thousands costs no quadratic time. */
#include <stdlib.h>

#include "image_int.h"

/* A list element's identity and its place in the list. */
struct key {
	uint64_t hi, lo;
	uint32_t index;
};

static int key_cmp(const void *a, const void *b)
{
	const struct key *x = a, *y = b;

	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Sorts k[0..n) and returns the first pair with equal identity (*first the
 * earlier one in the list), or 0 with none. */
static int key_repeat(struct key *k, uint32_t n, uint32_t *first, uint32_t *second)
{
	qsort(k, n, sizeof(*k), key_cmp);
	for (uint32_t i = 1; i < n; i++) {
		if (k[i].hi == k[i - 1].hi && k[i].lo == k[i - 1].lo) {
			*first = k[i - 1].index;
			*second = k[i].index;
			return 1;
		}
	}
	return 0;
}

int check_reg_ids(const struct vcpu_state *v, unsigned i, int code, struct image_error *err)
{
	struct key *k = malloc(((size_t)v->nregs + 1) * sizeof(*k));
	uint32_t a, b;
	int pc = 0, pstate = 0, rc = 0;

	if (!k)
		return img_fail(err, IMG_ENOMEM, "vcpu %u: checking %u register ids", i, v->nregs);
	for (uint32_t r = 0; r < v->nregs && !rc; r++) {
		uint64_t id = v->reg_ids[r];

		if ((id & IMAGE_REG_ARCH_MASK) != IMAGE_REG_ARM64)
			rc = img_fail(err, code,
				      "vcpu %u: register %u (id 0x%016llx) is not an arm64 register id",
				      i, r, (unsigned long long)id);
		pc |= id == REG_ID_PC;
		pstate |= id == REG_ID_PSTATE;
		k[r] = (struct key){ id, 0, r };
	}
	if (!rc && key_repeat(k, v->nregs, &a, &b))
		rc = img_fail(err, code, "vcpu %u: registers %u and %u have the same id 0x%016llx",
			      i, a, b, (unsigned long long)v->reg_ids[a]);
	if (!rc && (!pc || !pstate))
		rc = img_fail(err, code, "vcpu %u: no %s register (id 0x%016llx)", i,
			      pc ? "PSTATE" : "PC",
			      (unsigned long long)(pc ? REG_ID_PSTATE : REG_ID_PC));
	free(k);
	return rc;
}
