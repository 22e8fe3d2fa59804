/* test_vm_state.c - the vm_state helpers: register sizes from ids, device
 * field lists, freeing and deep copies. */
#include <criterion/criterion.h>
#include <errno.h>

#include "../../src/image/image_int.h"
#include "image_fixture.h"

Test(vm_state, reg_size_decodes_the_size_bits)
{
	cr_expect_eq(reg_size(0x6000000000000000ULL), 1);
	cr_expect_eq(reg_size(0x6020000000000000ULL), 4);
	cr_expect_eq(reg_size(0x6030000000100040ULL), 8);
	cr_expect_eq(reg_size(0x6040000000100054ULL), 16);
	cr_expect_eq(reg_size(0x6080000000150000ULL), 256);
	/* Sizes 512 bytes and up do not fit REG_MAX_BYTES. */
	cr_expect_eq(reg_size(0x6090000000000000ULL), 0);
	cr_expect_eq(reg_size(0x60f0000000000000ULL), 0);
}

Test(vm_state, dev_fields_put_and_get)
{
	struct dev_state d = { 0 };
	uint64_t v = 0;

	for (uint32_t i = 0; i < DEV_MAX_FIELDS; i++)
		cr_assert_eq(dev_state_put(&d, 100 + i, i * 3), 0);
	cr_expect_eq(dev_state_put(&d, 999, 1), -ENOSPC);
	cr_expect_eq(d.nfields, DEV_MAX_FIELDS);
	cr_expect_eq(dev_state_get(&d, 117, &v), 0);
	cr_expect_eq(v, 51);
	cr_expect_eq(dev_state_get(&d, 999, &v), -ENOENT);
	cr_expect_eq(v, 51, "a missing field leaves value alone");
}

Test(vm_state, free_clears_and_tolerates_zeroed)
{
	struct vm_state st;

	fix_state(&st);
	vm_state_free(&st);
	cr_expect_null(st.vcpus[0].reg_ids);
	cr_expect_null(st.vcpus[1].reg_data);
	cr_expect_eq(st.vcpus[0].nregs, 0);
	cr_expect_eq(st.vcpus[1].reg_data_len, 0);
	cr_expect_null(st.gic.regs);
	cr_expect_eq(st.gic.nregs, 0);
	vm_state_free(&st);     /* twice: must not double free */
}

Test(vm_state, copy_is_deep)
{
	struct vm_state a, b;

	fix_state(&a);
	cr_assert_eq(vm_state_copy(&b, &a), 0);
	cr_expect_neq(b.vcpus[0].reg_ids, a.vcpus[0].reg_ids);
	cr_expect_neq(b.gic.regs, a.gic.regs);
	cr_expect_arr_eq(b.vcpus[1].reg_data, a.vcpus[1].reg_data, a.vcpus[1].reg_data_len);
	cr_expect_arr_eq(b.gic.regs, a.gic.regs, FIX_GIC_REGS * sizeof(*a.gic.regs));
	a.vcpus[1].reg_data[0] ^= 0xff;
	cr_expect_neq(b.vcpus[1].reg_data[0], a.vcpus[1].reg_data[0]);
	vm_state_free(&a);
	vm_state_free(&b);
}
