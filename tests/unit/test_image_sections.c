/* test_image_sections.c - every section codec round-trips its struct, and
 * every decoder refuses short, long and over-limit payloads by name. */
#include <criterion/criterion.h>
#include <string.h>

#include "../../src/image/image_int.h"
#include "image_fixture.h"
#include "le.h"

static struct vm_state st;
static struct wbuf buf;

static void setup(void)
{
	fix_state(&st);
	memset(&buf, 0, sizeof(buf));
}

static void teardown(void)
{
	vm_state_free(&st);
	wbuf_free(&buf);
}

TestSuite(sections, .init = setup, .fini = teardown);

Test(sections, config_round_trip)
{
	struct vm_config c;
	struct image_error err = { 0 };

	sec_config_put(&buf, &st.config);
	cr_assert_eq(buf.len, SEC_VM_CONFIG_FIXED + SEC_VM_CONFIG_REGION + 3 * SEC_VM_CONFIG_DEV +
		     strlen(st.config.cmdline));
	cr_assert_eq(sec_config_get(buf.p, buf.len, &c, &err), 0, "%s", err.msg);
	cr_expect_eq(memcmp(&c, &st.config, sizeof(c)), 0);
	cr_expect_eq(check_config(&c, IMG_ECORRUPT, &err), 0, "%s", err.msg);
}

Test(sections, host_round_trip)
{
	struct host_info h;
	struct image_error err = { 0 };

	sec_host_put(&buf, &st.host);
	cr_assert_eq(sec_host_get(buf.p, buf.len, &h, &err), 0, "%s", err.msg);
	cr_expect_str_eq(h.kernel_release, "6.1.0-56-arm64");
	cr_expect_str_eq(h.machine, "aarch64");
	cr_expect_eq(h.midr, st.host.midr);
	cr_expect_eq(h.page_size, 4096);
}

Test(sections, clock_round_trip)
{
	struct clock_ref c;
	struct image_error err = { 0 };

	st.clock.realtime_ns = -5;      /* before the epoch survives the u64 */
	sec_clock_put(&buf, &st.clock);
	cr_assert_eq(buf.len, SEC_CLOCK_SIZE);
	cr_assert_eq(sec_clock_get(buf.p, buf.len, &c, &err), 0, "%s", err.msg);
	cr_expect_eq(c.counter, st.clock.counter);
	cr_expect_eq(c.counter_freq, st.clock.counter_freq);
	cr_expect_eq(c.realtime_ns, -5);
}

Test(sections, resume_round_trip)
{
	struct psci_resume r;
	struct image_error err = { 0 };

	sec_resume_put(&buf, &st.resume);
	cr_assert_eq(buf.len, SEC_PSCI_RESUME_SIZE);
	cr_assert_eq(sec_resume_get(buf.p, buf.len, &r, &err), 0, "%s", err.msg);
	cr_expect_eq(memcmp(&r, &st.resume, sizeof(r)), 0);
}

Test(sections, vcpu_round_trip)
{
	struct vcpu_state v;
	struct image_error err = { 0 };
	const struct vcpu_state *s = &st.vcpus[1];

	sec_vcpu_put(&buf, s);
	cr_assert_eq(buf.len, SEC_VCPU_FIXED + FIX_NREGS * 8 + s->reg_data_len);
	cr_assert_eq(sec_vcpu_get(buf.p, buf.len, 1, &v, &err), 0, "%s", err.msg);
	cr_expect_eq(v.mpidr, s->mpidr);
	cr_expect_eq(v.mp_state, s->mp_state);
	cr_expect_eq(v.events.serror_pending, 1);
	cr_expect_eq(v.events.serror_has_esr, 1);
	cr_expect_eq(v.events.serror_esr, s->events.serror_esr);
	cr_expect_eq(v.nregs, FIX_NREGS);
	cr_expect_arr_eq(v.reg_ids, s->reg_ids, FIX_NREGS * 8);
	cr_assert_eq(v.reg_data_len, s->reg_data_len);
	cr_expect_arr_eq(v.reg_data, s->reg_data, s->reg_data_len);
	free(v.reg_ids);
	free(v.reg_data);
}

Test(sections, vcpu_refuses_oversized_register)
{
	struct vcpu_state v;
	struct image_error err = { 0 };

	sec_vcpu_put(&buf, &st.vcpus[0]);
	/* Register 4's id now claims 512 bytes (size field 9). */
	le_put64(buf.p + SEC_VCPU_FIXED + 8 * 4 + 8 + 8 + 8 + 16, 0x6090000000150000ULL);
	cr_expect_eq(sec_vcpu_get(buf.p, buf.len, 0, &v, &err), -IMG_ECORRUPT);
	cr_expect(strstr(err.msg, "vcpu 0 section: register 4"), "%s", err.msg);
	cr_expect_null(v.reg_ids);
}

Test(sections, vcpu_refuses_too_many_registers)
{
	struct vcpu_state v;
	struct image_error err = { 0 };

	sec_vcpu_put(&buf, &st.vcpus[0]);
	le_put32(buf.p + 20, IMAGE_MAX_VCPU_REGS + 1);
	cr_expect_eq(sec_vcpu_get(buf.p, buf.len, 0, &v, &err), -IMG_ECORRUPT);
	cr_expect(strstr(err.msg, "4097 registers"), "%s", err.msg);
}

Test(sections, gic_round_trip)
{
	struct gic_state g;
	struct image_error err = { 0 };

	sec_gic_put(&buf, &st.gic);
	cr_assert_eq(buf.len, SEC_GIC_FIXED + FIX_GIC_REGS * SEC_GIC_REG);
	cr_assert_eq(sec_gic_get(buf.p, buf.len, &g, &err), 0, "%s", err.msg);
	cr_expect_eq(g.version, 3);
	cr_expect_eq(g.nr_irqs, GIC_NR_IRQS);
	cr_assert_eq(g.nregs, FIX_GIC_REGS);
	for (unsigned i = 0; i < FIX_GIC_REGS; i++) {
		cr_expect_eq(g.regs[i].group, st.gic.regs[i].group);
		cr_expect_eq(g.regs[i].attr, st.gic.regs[i].attr);
		cr_expect_eq(g.regs[i].value, st.gic.regs[i].value);
	}
	free(g.regs);
}

Test(sections, gic_refuses_count_beyond_limit)
{
	struct gic_state g;
	struct image_error err = { 0 };

	sec_gic_put(&buf, &st.gic);
	le_put32(buf.p + 8, IMAGE_MAX_GIC_REGS + 1);
	cr_expect_eq(sec_gic_get(buf.p, buf.len, &g, &err), -IMG_ECORRUPT);
	cr_expect_null(g.regs);
	cr_expect(strstr(err.msg, "gic section"), "%s", err.msg);
}

Test(sections, devices_round_trip)
{
	struct dev_state d[VM_MAX_DEVICES];
	struct image_error err = { 0 };
	uint32_t n = 0;

	sec_devices_put(&buf, st.devs, st.ndevs);
	cr_assert_eq(sec_devices_get(buf.p, buf.len, d, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n, 3);
	for (unsigned i = 0; i < n; i++) {
		cr_expect_eq(d[i].type, st.devs[i].type);
		cr_expect_eq(d[i].base, st.devs[i].base);
		cr_assert_eq(d[i].nfields, st.devs[i].nfields);
		cr_expect_arr_eq(d[i].fields, st.devs[i].fields, d[i].nfields * sizeof(d[i].fields[0]));
		cr_assert_eq(d[i].blob_len, st.devs[i].blob_len);
		cr_expect_arr_eq(d[i].blob, st.devs[i].blob, d[i].blob_len);
	}
}

Test(sections, devices_refuse_big_blob)
{
	struct dev_state d[VM_MAX_DEVICES];
	struct image_error err = { 0 };
	uint32_t n = 7;

	sec_devices_put(&buf, st.devs, 1);
	le_put32(buf.p + SEC_DEVICES_FIXED + 16, DEV_MAX_BLOB + 1);
	cr_expect_eq(sec_devices_get(buf.p, buf.len, d, &n, &err), -IMG_ECORRUPT);
	cr_expect_eq(n, 0);
	cr_expect(strstr(err.msg, "device 0"), "%s", err.msg);
}

Test(sections, memindex_round_trip)
{
	struct mem_chunk ch[2] = {
		{ 4096, 1000, 0x1111, 256, 3 }, { 0, 0, 0, 6, 0 },
	};
	struct region_index ri = {
		.idx = { RAM_BASE, (256 + 6) * 4096ULL, MEM_PAGE_SIZE, 256, 2, ch },
		.zero_pages = 250, .untouched_pages = 9,
	};
	struct region_index out;
	struct vm_config c = st.config;
	struct image_error err = { 0 };

	sec_memindex_put(&buf, &ri);
	cr_assert_eq(buf.len, SEC_MEM_INDEX_FIXED + 2 * SEC_MEM_INDEX_CHUNK);
	cr_assert_eq(sec_memindex_get(buf.p, buf.len, 0, &out, &err), 0, "%s", err.msg);
	cr_expect_eq(out.idx.guest_addr, RAM_BASE);
	cr_expect_eq(out.idx.size, ri.idx.size);
	cr_expect_eq(out.idx.chunk_pages, 256);
	cr_expect_eq(out.zero_pages, 250);
	cr_expect_eq(out.untouched_pages, 9);
	cr_assert_eq(out.idx.nchunks, 2);
	cr_expect_arr_eq(out.idx.chunks, ch, sizeof(ch));
	c.mem[0].size = ri.idx.size;
	cr_expect_eq(check_memindex(&c, 0, &out, IMG_ECORRUPT, &err), 0, "%s", err.msg);
	/* Page counts that do not add up are refused. */
	out.untouched_pages++;
	cr_expect_eq(check_memindex(&c, 0, &out, IMG_ECORRUPT, &err), -IMG_ECORRUPT);
	cr_expect(strstr(err.msg, "memory region 0 index"), "%s", err.msg);
	mem_index_free(&out.idx);
}

/* Every decoder, given its own valid payload one byte short or one byte
 * long, fails as corrupt. */
Test(sections, every_decoder_checks_length)
{
	struct region_index ri = { .idx = { RAM_BASE, 4096, MEM_PAGE_SIZE, 1, 0, NULL } };
	struct image_error err;
	uint8_t *p;

	for (int sec = SEC_VM_CONFIG; sec <= SEC_MEM_INDEX; sec++) {
		for (int delta = -1; delta <= 1; delta += 2) {
			union {
				struct vm_config c; struct host_info h; struct clock_ref k;
				struct psci_resume r; struct vcpu_state v; struct gic_state g;
				struct region_index m;
			} u;
			struct dev_state d[VM_MAX_DEVICES];
			uint32_t n;
			int rc = 0;

			buf.len = 0;
			switch (sec) {
			case SEC_VM_CONFIG: sec_config_put(&buf, &st.config); break;
			case SEC_HOST: sec_host_put(&buf, &st.host); break;
			case SEC_CLOCK: sec_clock_put(&buf, &st.clock); break;
			case SEC_PSCI_RESUME: sec_resume_put(&buf, &st.resume); break;
			case SEC_VCPU: sec_vcpu_put(&buf, &st.vcpus[0]); break;
			case SEC_GIC: sec_gic_put(&buf, &st.gic); break;
			case SEC_DEVICES: sec_devices_put(&buf, st.devs, st.ndevs); break;
			case SEC_MEM_INDEX: sec_memindex_put(&buf, &ri); break;
			}
			p = calloc(1, buf.len + 1);
			memcpy(p, buf.p, buf.len);
			size_t len = buf.len + (size_t)delta;
			memset(&u, 0, sizeof(u));
			switch (sec) {
			case SEC_VM_CONFIG: rc = sec_config_get(p, len, &u.c, &err); break;
			case SEC_HOST: rc = sec_host_get(p, len, &u.h, &err); break;
			case SEC_CLOCK: rc = sec_clock_get(p, len, &u.k, &err); break;
			case SEC_PSCI_RESUME: rc = sec_resume_get(p, len, &u.r, &err); break;
			case SEC_VCPU: rc = sec_vcpu_get(p, len, 0, &u.v, &err);
				free(u.v.reg_ids); free(u.v.reg_data); break;
			case SEC_GIC: rc = sec_gic_get(p, len, &u.g, &err); free(u.g.regs); break;
			case SEC_DEVICES: rc = sec_devices_get(p, len, d, &n, &err); break;
			case SEC_MEM_INDEX: rc = sec_memindex_get(p, len, 0, &u.m, &err);
				mem_index_free(&u.m.idx); break;
			}
			cr_expect_eq(rc, -IMG_ECORRUPT, "section %d, length %+d: rc %d", sec, delta, rc);
			free(p);
		}
	}
}

/* A prefetch order round-trips; its codec refuses flags, an empty list and
 * any length but 8 + 4 * count. */
Test(sections, prefetch_round_trip)
{
	static const uint32_t order[] = { 3, 0, 2 };
	struct prefetch_order po;
	struct image_error err = { 0 };

	sec_prefetch_put(&buf, order, 3);
	cr_assert_eq(buf.len, SEC_PREFETCH_FIXED + 3 * SEC_PREFETCH_CHUNK);
	cr_expect_eq(le_get32(buf.p + PFO_COUNT), 3);
	cr_expect_eq(le_get32(buf.p + PFO_FLAGS), 0);
	cr_expect_eq(le_get32(buf.p + SEC_PREFETCH_FIXED + 4), 0);
	cr_assert_eq(sec_prefetch_get(buf.p, buf.len, 0, &po, &err), 0, "%s", err.msg);
	cr_assert_eq(po.n, 3);
	cr_expect_arr_eq(po.chunks, order, sizeof(order));
	free(po.chunks);
	for (int delta = -4; delta <= 4; delta++) {
		if (!delta)
			continue;
		cr_expect_eq(sec_prefetch_get(buf.p, buf.len + (size_t)delta, 1, &po, &err),
			     -IMG_ECORRUPT, "length %+d", delta);
		cr_expect(strstr(err.msg, "prefetch order of region 1: length "), "%s", err.msg);
		cr_expect_null(po.chunks);
	}
	le_put32(buf.p + PFO_FLAGS, 1);
	cr_expect_eq(sec_prefetch_get(buf.p, buf.len, 0, &po, &err), -IMG_ECORRUPT);
	cr_expect(strstr(err.msg, "prefetch order of region 0: flags 0x1 (must be 0)"), "%s",
		  err.msg);
	le_put32(buf.p + PFO_FLAGS, 0);
	le_put32(buf.p + PFO_COUNT, 0);
	cr_expect_eq(sec_prefetch_get(buf.p, SEC_PREFETCH_FIXED, 0, &po, &err), -IMG_ECORRUPT);
	cr_expect(strstr(err.msg, "prefetch order of region 0: 0 chunks"), "%s", err.msg);
}

/* The order's rules against the region: each chunk below its count, none
 * twice, no more than it has. */
Test(sections, prefetch_checks)
{
	static const struct { uint32_t order[5], n, nchunks; const char *msg; } cases[] = {
		{ { 3, 0, 2 }, 3, 4, NULL },
		{ { 63, 5, 0, 62 }, 4, 64, NULL },
		{ { 0, 1, 2, 3 }, 4, 4, NULL },
		{ { 99, 0 }, 2, 64, "prefetch order of region 0: chunk 99 of 64" },
		{ { 1, 4 }, 2, 4, "prefetch order of region 0: chunk 4 of 4" },
		{ { 5, 2, 5 }, 3, 64, "prefetch order of region 0 lists chunk 5 twice" },
		{ { 0, 1, 2, 3, 0 }, 5, 4, "prefetch order of region 0: 5 chunks, the region has 4" },
	};
	struct image_error err = { 0 };

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = check_prefetch(cases[i].nchunks, 0, cases[i].order, cases[i].n,
					IMG_EINVAL, &err);

		cr_expect_eq(rc, cases[i].msg ? -IMG_EINVAL : 0, "case %u: %s", i, err.msg);
		if (cases[i].msg)
			cr_expect(strstr(err.msg, cases[i].msg), "case %u: %s", i, err.msg);
	}
}
