/* test_id_regs.c - feature ID registers: which ids are ones, their names,
 * field layouts that cover every bit once, and the verdict on an image's
 * value against a host's: equal, lower (the host offers more), or refused
 * (more than the host offers, or an encoding with no order), for each kind
 * of field, with the values the rig's two host kernels really gave. */
#include <criterion/criterion.h>
#include <string.h>

#include "id_regs.h"

/* ONE_REG ids written out (KVM_REG_ARM64 | SIZE_U64 | SYSREG | op0 op1
 * CRn CRm op2), so a wrong encoding in the module shows. */
#define SYSREG(op0, op1, crn, crm, op2) \
	(0x6030000000130000ULL | (op0) << 14 | (op1) << 11 | (crn) << 7 | (crm) << 3 | (op2))
#define ID(crm, op2)            SYSREG(3, 0, 0, crm, op2)
#define AA64PFR0                ID(4, 0)
#define AA64DFR0                ID(5, 0)
#define AA64DFR1                ID(5, 1)
#define AA64SMFR0               ID(4, 5)
#define AA64ISAR1               ID(6, 1)
#define AA64MMFR0               ID(7, 0)
#define AA64MMFR1               ID(7, 1)
#define AA64MMFR2               ID(7, 2)
#define AA64AFR0                ID(5, 4)

Test(id_regs, which_ids)
{
	cr_expect_eq(AA64MMFR1, 0x603000000013c039ULL);
	cr_expect(id_regs_is_feature(AA64MMFR1));
	cr_expect(id_regs_is_feature(ID(1, 0)));        /* ID_PFR0_EL1 */
	cr_expect(id_regs_is_feature(ID(7, 7)));        /* unallocated */
	cr_expect(!id_regs_is_feature(ID(0, 0)));       /* MIDR_EL1 */
	cr_expect(!id_regs_is_feature(ID(0, 5)));       /* MPIDR_EL1 */
	cr_expect(!id_regs_is_feature(SYSREG(3, 0, 2, 0, 2)));  /* TCR_EL1 */
	cr_expect(!id_regs_is_feature(SYSREG(3, 3, 0, 0, 1)));  /* CTR_EL0 */
	cr_expect(!id_regs_is_feature(SYSREG(3, 1, 0, 0, 1)));  /* CLIDR_EL1 */
	cr_expect(!id_regs_is_feature(SYSREG(2, 0, 0, 1, 0)));  /* op0 2 */
	/* The same encoding as a 32-bit register, and a core register. */
	cr_expect(!id_regs_is_feature((AA64MMFR1 & ~0x00f0000000000000ULL) | 0x0020000000000000ULL));
	cr_expect(!id_regs_is_feature(0x6030000000100040ULL));
}

Test(id_regs, names)
{
	cr_expect_str_eq(id_regs_name(AA64MMFR1), "ID_AA64MMFR1_EL1");
	cr_expect_str_eq(id_regs_name(AA64PFR0), "ID_AA64PFR0_EL1");
	cr_expect_str_eq(id_regs_name(ID(1, 0)), "ID_PFR0_EL1");
	cr_expect_str_eq(id_regs_name(ID(3, 2)), "MVFR2_EL1");
	cr_expect_str_eq(id_regs_name(ID(7, 4)), "ID_AA64MMFR4_EL1");
	cr_expect_null(id_regs_name(ID(7, 7)));
	cr_expect_null(id_regs_name(ID(4, 3)));
	cr_expect_null(id_regs_name(SYSREG(3, 0, 2, 0, 2)));
}

/* Every feature ID register, named or not, splits into fields that cover
 * bits 0..63 once, in order. */
Test(id_regs, layouts_cover_every_bit_once)
{
	struct id_field_diff d[ID_REGS_MAX_FIELDS];

	for (unsigned crm = 1; crm <= 7; crm++)
		for (unsigned op2 = 0; op2 < 8; op2++) {
			int n = id_regs_diff(ID(crm, op2), 0, ~0ULL, d, ID_REGS_MAX_FIELDS);
			unsigned pos = 0;

			cr_assert_gt(n, 0);
			for (int i = 0; i < n; i++) {
				cr_expect_eq(d[i].shift, pos, "crm %u op2 %u field %s", crm, op2,
					     d[i].field);
				cr_expect_gt(d[i].width, 0);
				cr_expect_eq(d[i].host, (1ULL << d[i].width) - 1);
				cr_expect_neq(d[i].field[0], '\0');
				pos += d[i].width;
			}
			cr_expect_eq(pos, 64, "crm %u op2 %u", crm, op2);
		}
}

Test(id_regs, equal_and_other_registers_are_written)
{
	struct id_field_diff d;

	cr_expect_eq(id_regs_decide(AA64MMFR1, 0x1234, 0x1234, &d), ID_WRITE);
	/* Not a feature ID register: KVM judges its write, not torpor. */
	cr_expect_eq(id_regs_decide(SYSREG(3, 0, 2, 0, 2), 0, ~0ULL, &d), ID_WRITE);
	cr_expect_eq(id_regs_decide(ID(0, 0), 5, 4, NULL), ID_WRITE);
	cr_expect_eq(id_regs_diff(ID(0, 0), 5, 4, &d, 1), 0);
}

/* The rig: ID_AA64MMFR1_EL1 as Debian 12's KVM (6.1) saved it and as Debian
 * 13's (6.12) offers it on the same QEMU -cpu max. 6.1's cpufeature table
 * has no HCX field, so its sanitised value hides FEAT_HCX; 6.12's has it. */
#define MMFR1_61        0x0000001010211122ULL
#define MMFR1_612       0x0000011010211122ULL

Test(id_regs, upgrade_6_1_to_6_12_lowers_hcx)
{
	struct id_field_diff d;

	cr_assert_eq(id_regs_decide(AA64MMFR1, MMFR1_61, MMFR1_612, &d), ID_LOWER);
	cr_expect_str_eq(d.field, "HCX");
	cr_expect_eq(d.shift, 40);
	cr_expect_eq(d.width, 4);
	cr_expect_eq(d.saved, 0);
	cr_expect_eq(d.host, 1);
	cr_expect(d.host_more);
	cr_expect_eq(id_regs_field_from(MMFR1_612, &d, MMFR1_61), MMFR1_61);
	cr_expect_eq(id_regs_field_from(MMFR1_61, &d, MMFR1_612), MMFR1_612);
}

Test(id_regs, downgrade_6_12_to_6_1_refuses_hcx)
{
	struct id_field_diff d;

	cr_assert_eq(id_regs_decide(AA64MMFR1, MMFR1_612, MMFR1_61, &d), ID_REFUSE);
	cr_expect_str_eq(d.field, "HCX");
	cr_expect_eq(d.saved, 1);
	cr_expect_eq(d.host, 0);
	cr_expect(!d.host_more);
}

/* A field the host offers more of comes first; the verdict is still the
 * refusal, naming the field the host cannot give. */
Test(id_regs, first_refused_field_decides)
{
	struct id_field_diff d[ID_REGS_MAX_FIELDS], v;
	uint64_t saved = 0x0000000000000100ULL;         /* VH 1 */
	uint64_t host = 0x0000000000000002ULL;          /* HAFDBS 2, VH 0 */

	cr_assert_eq(id_regs_diff(AA64MMFR1, saved, host, d, ID_REGS_MAX_FIELDS), 2);
	cr_expect_str_eq(d[0].field, "HAFDBS");
	cr_expect(d[0].host_more);
	cr_expect_str_eq(d[1].field, "VH");
	cr_expect(!d[1].host_more);
	cr_assert_eq(id_regs_decide(AA64MMFR1, saved, host, &v), ID_REFUSE);
	cr_expect_str_eq(v.field, "VH");
	cr_expect_eq(id_regs_diff(AA64MMFR1, saved, host, d, 1), 1);
}

/* Signed fields: 0xf is "not implemented", below 0. */
Test(id_regs, signed_fields)
{
	struct id_field_diff d;
	uint64_t fp_none = 0xfULL << 16, tgran4_none = 0xfULL << 28, lpa2 = 1ULL << 28;

	/* The image had no FP, the host has it: fine. The reverse is not. */
	cr_expect_eq(id_regs_decide(AA64PFR0, fp_none, 0, &d), ID_LOWER);
	cr_expect_str_eq(d.field, "FP");
	cr_expect_eq(id_regs_decide(AA64PFR0, 0, fp_none, &d), ID_REFUSE);
	/* TGran4 1: 4K granule with 52-bit addresses (FEAT_LPA2). */
	cr_expect_eq(id_regs_decide(AA64MMFR0, lpa2, 0, &d), ID_REFUSE);
	cr_expect_str_eq(d.field, "TGran4");
	cr_expect_eq(id_regs_decide(AA64MMFR0, 0, lpa2, &d), ID_LOWER);
	cr_expect_eq(id_regs_decide(AA64MMFR0, 0, tgran4_none, &d), ID_REFUSE);
	cr_expect_eq(id_regs_decide(AA64MMFR0, tgran4_none, lpa2, &d), ID_LOWER);
	/* Unsigned, that would read the other way round. */
	cr_expect_eq(id_regs_decide(AA64MMFR0, 0xfULL << 20, 0, &d), ID_REFUSE);
	cr_expect_str_eq(d.field, "TGran16");
	/* ID_AA64DFR0_EL1.DoubleLock 0: implemented, 0xf: not. */
	cr_expect_eq(id_regs_decide(AA64DFR0, 0xfULL << 36, 0, &d), ID_LOWER);
}

Test(id_regs, lower_is_more_and_no_order)
{
	struct id_field_diff d;

	/* SpecSEI 1: speculative reads may raise an SError. */
	cr_expect_eq(id_regs_decide(AA64MMFR1, 1ULL << 24, 0, &d), ID_LOWER);
	cr_expect_str_eq(d.field, "SpecSEI");
	cr_expect_eq(id_regs_decide(AA64MMFR1, 0, 1ULL << 24, &d), ID_REFUSE);
	/* TGran4_2: 2 (supported) and 3 (with 52 bits) are no levels. */
	cr_expect_eq(id_regs_decide(AA64MMFR0, 2ULL << 40, 3ULL << 40, &d), ID_REFUSE);
	cr_expect_str_eq(d.field, "TGran4_2");
	cr_expect_eq(id_regs_decide(AA64AFR0, 0, 1, &d), ID_REFUSE);
	cr_expect_str_eq(d.field, "IMPDEF0");
}

/* Unnamed bits are the ID scheme's unsigned nibbles. */
Test(id_regs, unnamed_bits)
{
	struct id_field_diff d;

	cr_expect_eq(id_regs_decide(AA64MMFR2, 0, 1ULL << 44, &d), ID_LOWER);
	cr_expect_str_eq(d.field, "bits[47:44]");
	cr_expect_eq(id_regs_decide(ID(7, 7), 2, 1, &d), ID_REFUSE);
	cr_expect_str_eq(d.field, "bits[3:0]");
	/* ID_AA64SMFR0_EL1: 1-bit fields, and the unnamed bits below them. */
	cr_expect_eq(id_regs_decide(AA64SMFR0, 1ULL << 31, 0, &d), ID_REFUSE);
	cr_expect_str_eq(d.field, "bit[31]");
	cr_expect_eq(id_regs_decide(AA64SMFR0, 1ULL << 63, 1ULL << 62, &d), ID_REFUSE);
	cr_expect_str_eq(d.field, "FA64");
}

/* Fields wider than a nibble compare as a whole: 0x10 breakpoints are more
 * than 0x0f, though the low nibble alone would say less. */
Test(id_regs, wide_fields)
{
	struct id_field_diff d;

	cr_expect_eq(id_regs_decide(AA64DFR1, 0x0f00, 0x1000, &d), ID_LOWER);
	cr_expect_str_eq(d.field, "BRPs");
	cr_expect_eq(d.width, 8);
	cr_expect_eq(id_regs_decide(AA64DFR1, 0x1000, 0x0f00, &d), ID_REFUSE);
}

Test(id_regs, field_from)
{
	struct id_field_diff d = { .shift = 8, .width = 8 };

	cr_expect_eq(id_regs_field_from(0x1111111111111111ULL, &d, 0xabcdULL), 0x111111111111ab11ULL);
	d.shift = 0;
	d.width = 64;
	cr_expect_eq(id_regs_field_from(1, &d, 2), 2);
}

Test(id_regs, isar1_names_pointer_auth)
{
	struct id_field_diff d;

	cr_expect_eq(id_regs_decide(AA64ISAR1, 1ULL << 4, 0, &d), ID_REFUSE);
	cr_expect_str_eq(d.field, "APA");
}
