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

/* The vCPU whose affinity is aff, or -1. */
static int vcpu_of(const struct vm_state *st, uint32_t aff)
{
	for (unsigned i = 0; i < st->config.ncpus; i++)
		if (mpidr_affinity(st->vcpus[i].mpidr) == aff)
			return (int)i;
	return -1;
}

/* One vGIC register against the groups format 1.0 knows. */
static int check_gic_reg(const struct vm_state *st, uint32_t r, int code,
			 struct image_error *err)
{
	const struct gic_reg *g = &st->gic.regs[r];
	uint32_t aff = (uint32_t)(g->attr >> IMAGE_GIC_AFF_SHIFT);

	if (g->group != IMAGE_GIC_DIST_REGS && g->group != IMAGE_GIC_REDIST_REGS &&
	    g->group != IMAGE_GIC_CPU_SYSREGS && g->group != IMAGE_GIC_LEVEL_INFO)
		return img_fail(err, code, "gic register %u: group %u unknown (1, 5, 6 or 7)",
				r, g->group);
	if (g->group != IMAGE_GIC_CPU_SYSREGS && g->value >> 32)
		return img_fail(err, code,
				"gic register %u (group %u attr 0x%llx): value 0x%llx wider than 32 bits",
				r, g->group, (unsigned long long)g->attr,
				(unsigned long long)g->value);
	/* KVM ignores the affinity of a distributor attribute; the format
	 * fixes it at 0 so that no two attributes mean one register. */
	if (g->group == IMAGE_GIC_DIST_REGS && aff)
		return img_fail(err, code,
				"gic register %u (group 1 attr 0x%llx): distributor attribute with affinity 0x%x",
				r, (unsigned long long)g->attr, aff);
	if (g->group != IMAGE_GIC_DIST_REGS && vcpu_of(st, aff) < 0)
		return img_fail(err, code,
				"gic register %u (group %u attr 0x%llx): affinity 0x%x names no vcpu",
				r, g->group, (unsigned long long)g->attr, aff);
	return 0;
}

int check_gic_regs(const struct vm_state *st, int code, struct image_error *err)
{
	const struct gic_state *g = &st->gic;
	struct key *k = malloc(((size_t)g->nregs + 1) * sizeof(*k));
	uint32_t a, b;
	int rc = 0;

	if (!k)
		return img_fail(err, IMG_ENOMEM, "gic: checking %u registers", g->nregs);
	for (uint32_t r = 0; r < g->nregs && !rc; r++) {
		rc = check_gic_reg(st, r, code, err);
		k[r] = (struct key){ g->regs[r].group, g->regs[r].attr, r };
	}
	if (!rc && key_repeat(k, g->nregs, &a, &b))
		rc = img_fail(err, code, "gic registers %u and %u: both group %u attr 0x%llx",
			      a, b, g->regs[a].group, (unsigned long long)g->regs[a].attr);
	free(k);
	return rc;
}
