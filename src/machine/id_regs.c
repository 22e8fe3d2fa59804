/* id_regs.c - feature ID register fields: which differ, and whether the
 * host offers more or less (field layouts from the Arm ARM, DDI0487). */
#include <stdio.h>
#include <stddef.h>

#include "id_regs.h"

/* KVM ONE_REG ids, spelled out so this file needs no kernel header:
 * KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM64_SYSREG, then
 * op0[15:14] op1[13:11] CRn[10:7] CRm[6:3] op2[2:0]. */
#define SYSREG64_BASE   0x6030000000130000ULL
#define SYSREG_IDX_MASK 0xffffULL

/* How a field's values are ordered. */
enum kind {
	UNSIGNED,       /* higher is more (the ID scheme's default) */
	SIGNED,         /* signed; 0xf (-1) is "not implemented" */
	LOWER_MORE,     /* lower is more: a guarantee the host may widen */
	NO_ORDER,       /* an encoding, or IMPLEMENTATION DEFINED */
};

struct field {
	const char *name;
	uint8_t shift, width, kind;
};

#define F(n, s)         { #n, s, 4, UNSIGNED }
#define FS(n, s)        { #n, s, 4, SIGNED }
#define FW(n, s, w)     { #n, s, w, UNSIGNED }
#define FX(n, s)        { #n, s, 4, NO_ORDER }
#define END             { NULL, 0, 0, 0 }

static const struct field pfr0[] = {
	F(EL0, 0), F(EL1, 4), F(EL2, 8), F(EL3, 12), FS(FP, 16), FS(AdvSIMD, 20),
	F(GIC, 24), F(RAS, 28), F(SVE, 32), F(SEL2, 36), F(MPAM, 40), F(AMU, 44),
	F(DIT, 48), F(RME, 52), F(CSV2, 56), F(CSV3, 60), END
};
static const struct field pfr1[] = {
	F(BT, 0), F(SSBS, 4), F(MTE, 8), F(RAS_frac, 12), F(MPAM_frac, 16),
	F(SME, 24), F(RNDR_trap, 28), F(CSV2_frac, 32), F(NMI, 36), FS(MTE_frac, 40),
	F(GCS, 44), F(THE, 48), F(MTEX, 52), F(DF2, 56), F(PFAR, 60), END
};
static const struct field pfr2[] = {
	F(MTEPERM, 0), F(MTESTOREONLY, 4), F(MTEFAR, 8), F(FPMR, 32), END
};
static const struct field zfr0[] = {
	F(SVEver, 0), F(AES, 4), F(BitPerm, 16), F(BF16, 20), F(B16B16, 24),
	F(SHA3, 32), F(SM4, 40), F(I8MM, 44), F(F32MM, 52), F(F64MM, 56), END
};
static const struct field smfr0[] = {
	FW(SF8DP2, 28, 1), FW(SF8DP4, 29, 1), FW(SF8FMA, 30, 1), FW(F32F32, 32, 1),
	FW(BI32I32, 33, 1), FW(B16F32, 34, 1), FW(F16F32, 35, 1), F(I8I32, 36),
	FW(F8F32, 40, 1), FW(F8F16, 41, 1), FW(F16F16, 42, 1), FW(B16B16, 43, 1),
	F(I16I32, 44), FW(F64F64, 48, 1), F(I16I64, 52), F(SMEver, 56),
	FW(LUTv2, 60, 1), FW(FA64, 63, 1), END
};
static const struct field fpfr0[] = {
	FW(F8E5M2, 0, 1), FW(F8E4M3, 1, 1), FW(F8DP2, 28, 1), FW(F8DP4, 29, 1),
	FW(F8FMA, 30, 1), FW(F8CVT, 31, 1), END
};
static const struct field dfr0[] = {
	F(DebugVer, 0), F(TraceVer, 4), F(PMUVer, 8), F(BRPs, 12), F(PMSS, 16),
	F(WRPs, 20), F(SEBEP, 24), F(CTX_CMPs, 28), F(PMSVer, 32), FS(DoubleLock, 36),
	F(TraceFilt, 40), F(TraceBuffer, 44), FS(MTPMU, 48), F(BRBE, 52),
	F(ExtTrcBuff, 56), F(HPMN0, 60), END
};
static const struct field dfr1[] = {
	FW(SYSPMUID, 0, 8), FW(BRPs, 8, 8), FW(WRPs, 16, 8), FW(CTX_CMPs, 24, 8),
	F(SPMU, 32), F(PMICNTR, 36), F(ABLE, 40), F(ITE, 44), F(EBEP, 48),
	F(DPFZS, 52), FW(ABL_CMPs, 56, 8), END
};
/* ID_AA64AFR0/1, ID_AFR0: IMPLEMENTATION DEFINED, so no order at all. */
static const struct field afr[] = {
	FX(IMPDEF0, 0), FX(IMPDEF1, 4), FX(IMPDEF2, 8), FX(IMPDEF3, 12),
	FX(IMPDEF4, 16), FX(IMPDEF5, 20), FX(IMPDEF6, 24), FX(IMPDEF7, 28), END
};
static const struct field isar0[] = {
	F(AES, 4), F(SHA1, 8), F(SHA2, 12), F(CRC32, 16), F(Atomic, 20), F(TME, 24),
	F(RDM, 28), F(SHA3, 32), F(SM3, 36), F(SM4, 40), F(DP, 44), F(FHM, 48),
	F(TS, 52), F(TLB, 56), F(RNDR, 60), END
};
static const struct field isar1[] = {
	F(DPB, 0), F(APA, 4), F(API, 8), F(JSCVT, 12), F(FCMA, 16), F(LRCPC, 20),
	F(GPA, 24), F(GPI, 28), F(FRINTTS, 32), F(SB, 36), F(SPECRES, 40),
	F(BF16, 44), F(DGH, 48), F(I8MM, 52), F(XS, 56), F(LS64, 60), END
};
static const struct field isar2[] = {
	F(WFxT, 0), F(RPRES, 4), F(GPA3, 8), F(APA3, 12), F(MOPS, 16), F(BC, 20),
	F(PAC_frac, 24), F(CLRBHB, 28), F(SYSREG_128, 32), F(SYSINSTR_128, 36),
	F(PRFMSLC, 40), F(RPRFM, 48), F(CSSC, 52), F(LUT, 56), F(ATS1A, 60), END
};
static const struct field isar3[] = {
	F(CPA, 0), F(FAMINMAX, 4), F(TLBIW, 8), F(PACM, 12), END
};
/* TGran*_2 say whether stage 2 supports a granule (0: as stage 1, 1: no,
 * 2: yes, 3: with 52 bits): an encoding, not a level. */
static const struct field mmfr0[] = {
	F(PARange, 0), F(ASIDBits, 4), F(BigEnd, 8), F(SNSMem, 12), F(BigEndEL0, 16),
	F(TGran16, 20), FS(TGran64, 24), FS(TGran4, 28), FX(TGran16_2, 32),
	FX(TGran64_2, 36), FX(TGran4_2, 40), F(ExS, 44), F(FGT, 56), F(ECV, 60), END
};
/* SpecSEI 1 says speculative reads may raise an SError: 0 is the more. */
static const struct field mmfr1[] = {
	F(HAFDBS, 0), F(VMIDBits, 4), F(VH, 8), F(HPDS, 12), F(LO, 16), F(PAN, 20),
	{ "SpecSEI", 24, 4, LOWER_MORE }, F(XNX, 28), F(TWED, 32), F(ETS, 36),
	F(HCX, 40), F(AFP, 44), F(nTLBPA, 48), F(TIDCP1, 52), F(CMOW, 56),
	F(ECBHB, 60), END
};
static const struct field mmfr2[] = {
	F(CnP, 0), F(UAO, 4), F(LSM, 8), F(IESB, 12), F(VARange, 16), F(CCIDX, 20),
	F(NV, 24), F(ST, 28), F(AT, 32), F(IDS, 36), F(FWB, 40), F(TTL, 48),
	F(BBM, 52), F(EVT, 56), F(E0PD, 60), END
};
static const struct field mmfr3[] = {
	F(TCRX, 0), F(SCTLRX, 4), F(S1PIE, 8), F(S2PIE, 12), F(S1POE, 16),
	F(S2POE, 20), F(AIE, 24), F(MEC, 28), F(D128, 32), F(D128_2, 36),
	F(SNERR, 40), F(ANERR, 44), F(SDERR, 52), F(ADERR, 56), F(Spec_FPACC, 60), END
};
static const struct field mmfr4[] = {
	F(EIESB, 4), F(ASID2, 8), F(HACDBS, 12), F(FGWTE3, 16), F(NV_frac, 20),
	FS(E2H0, 24), F(E3DSE, 36), END
};
/* AArch32 registers: the ID scheme's nibbles, but for these. */
static const struct field aa32_mmfr0[] = { FS(OuterShr, 8), FS(InnerShr, 28), END };
static const struct field aa32_mmfr4[] = { { "SpecSEI", 0, 4, LOWER_MORE }, END };
static const struct field aa32_dfr1[] = { FS(MTPMU, 0), END };

struct reg {
	uint8_t crm, op2;
	const char *name;
	const struct field *fields;     /* sorted by shift, not overlapping */
};

static const struct reg regs[] = {
	{ 1, 0, "ID_PFR0_EL1", NULL },
	{ 1, 1, "ID_PFR1_EL1", NULL },
	{ 1, 2, "ID_DFR0_EL1", NULL },
	{ 1, 3, "ID_AFR0_EL1", afr },
	{ 1, 4, "ID_MMFR0_EL1", aa32_mmfr0 },
	{ 1, 5, "ID_MMFR1_EL1", NULL },
	{ 1, 6, "ID_MMFR2_EL1", NULL },
	{ 1, 7, "ID_MMFR3_EL1", NULL },
	{ 2, 0, "ID_ISAR0_EL1", NULL },
	{ 2, 1, "ID_ISAR1_EL1", NULL },
	{ 2, 2, "ID_ISAR2_EL1", NULL },
	{ 2, 3, "ID_ISAR3_EL1", NULL },
	{ 2, 4, "ID_ISAR4_EL1", NULL },
	{ 2, 5, "ID_ISAR5_EL1", NULL },
	{ 2, 6, "ID_MMFR4_EL1", aa32_mmfr4 },
	{ 2, 7, "ID_ISAR6_EL1", NULL },
	{ 3, 0, "MVFR0_EL1", NULL },
	{ 3, 1, "MVFR1_EL1", NULL },
	{ 3, 2, "MVFR2_EL1", NULL },
	{ 3, 4, "ID_PFR2_EL1", NULL },
	{ 3, 5, "ID_DFR1_EL1", aa32_dfr1 },
	{ 3, 6, "ID_MMFR5_EL1", NULL },
	{ 4, 0, "ID_AA64PFR0_EL1", pfr0 },
	{ 4, 1, "ID_AA64PFR1_EL1", pfr1 },
	{ 4, 2, "ID_AA64PFR2_EL1", pfr2 },
	{ 4, 4, "ID_AA64ZFR0_EL1", zfr0 },
	{ 4, 5, "ID_AA64SMFR0_EL1", smfr0 },
	{ 4, 7, "ID_AA64FPFR0_EL1", fpfr0 },
	{ 5, 0, "ID_AA64DFR0_EL1", dfr0 },
	{ 5, 1, "ID_AA64DFR1_EL1", dfr1 },
	{ 5, 4, "ID_AA64AFR0_EL1", afr },
	{ 5, 5, "ID_AA64AFR1_EL1", afr },
	{ 6, 0, "ID_AA64ISAR0_EL1", isar0 },
	{ 6, 1, "ID_AA64ISAR1_EL1", isar1 },
	{ 6, 2, "ID_AA64ISAR2_EL1", isar2 },
	{ 6, 3, "ID_AA64ISAR3_EL1", isar3 },
	{ 7, 0, "ID_AA64MMFR0_EL1", mmfr0 },
	{ 7, 1, "ID_AA64MMFR1_EL1", mmfr1 },
	{ 7, 2, "ID_AA64MMFR2_EL1", mmfr2 },
	{ 7, 3, "ID_AA64MMFR3_EL1", mmfr3 },
	{ 7, 4, "ID_AA64MMFR4_EL1", mmfr4 },
};

int id_regs_is_feature(uint64_t id)
{
	unsigned idx = (unsigned)(id & SYSREG_IDX_MASK), crm = (idx >> 3) & 0xf;

	/* op0 3, op1 0, CRn 0: the top nine bits of the index are 110000000. */
	return (id & ~SYSREG_IDX_MASK) == SYSREG64_BASE && (idx >> 7) == 0x180 &&
	       crm >= 1 && crm <= 7;
}

static const struct reg *find(uint64_t id)
{
	unsigned idx = (unsigned)(id & SYSREG_IDX_MASK);

	if (!id_regs_is_feature(id))
		return NULL;
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		if (regs[i].crm == ((idx >> 3) & 0xf) && regs[i].op2 == (idx & 7))
			return &regs[i];
	return NULL;
}

const char *id_regs_name(uint64_t id)
{
	const struct reg *r = find(id);

	return r ? r->name : NULL;
}

static uint64_t field_get(uint64_t v, unsigned shift, unsigned width)
{
	return (v >> shift) & ((1ULL << width) - 1);
}

/* Whether b is more than a in a field of this kind and width. */
static int more(unsigned kind, unsigned width, uint64_t a, uint64_t b)
{
	int64_t sa = (int64_t)a, sb = (int64_t)b;

	switch (kind) {
	case UNSIGNED:
		return b > a;
	case SIGNED:
		if (a >> (width - 1))
			sa -= 1LL << width;
		if (b >> (width - 1))
			sb -= 1LL << width;
		return sb > sa;
	case LOWER_MORE:
		return b < a;
	default:
		return 0;
	}
}

int id_regs_diff(uint64_t id, uint64_t saved, uint64_t host,
		 struct id_field_diff *d, int max)
{
	const struct reg *r = find(id);
	const struct field *f = r ? r->fields : NULL;
	unsigned pos = 0;
	int n = 0;

	if (!id_regs_is_feature(id))
		return 0;
	while (pos < 64) {
		unsigned width, kind = UNSIGNED;
		const char *name = NULL;
		uint64_t a, b;

		if (f && f->name && f->shift == pos) {
			width = f->width;
			kind = f->kind;
			name = f->name;
			f++;
		} else {
			/* The rest of this nibble, up to the next named field. */
			width = 4 - pos % 4;
			if (f && f->name && f->shift < pos + width)
				width = f->shift - pos;
		}
		a = field_get(saved, pos, width);
		b = field_get(host, pos, width);
		if (a != b) {
			if (n < max) {
				struct id_field_diff *x = &d[n];

				if (name)
					snprintf(x->field, sizeof(x->field), "%s", name);
				else if (width == 1)
					snprintf(x->field, sizeof(x->field), "bit[%u]", pos);
				else
					snprintf(x->field, sizeof(x->field), "bits[%u:%u]",
						 pos + width - 1, pos);
				x->shift = pos;
				x->width = width;
				x->saved = a;
				x->host = b;
				x->host_more = more(kind, width, a, b);
			}
			n++;
		}
		pos += width;
	}
	return n < max ? n : max;
}

enum id_verdict id_regs_decide(uint64_t id, uint64_t saved, uint64_t host,
			       struct id_field_diff *d)
{
	struct id_field_diff diff[ID_REGS_MAX_FIELDS];
	int n = id_regs_diff(id, saved, host, diff, ID_REGS_MAX_FIELDS);

	for (int i = 0; i < n; i++)
		if (!diff[i].host_more) {
			if (d)
				*d = diff[i];
			return ID_REFUSE;
		}
	if (n == 0)
		return ID_WRITE;
	if (d)
		*d = diff[0];
	return ID_LOWER;
}

uint64_t id_regs_field_from(uint64_t v, const struct id_field_diff *f, uint64_t from)
{
	uint64_t mask = (f->width >= 64 ? ~0ULL : (1ULL << f->width) - 1) << f->shift;

	return (v & ~mask) | (from & mask);
}
