/* restore_check.c - an image against the host that is to run it. */
#include <stdio.h>

#include "image_mem.h"
#include "memmap.h"
#include "restore_check.h"
#include "stage1.h"

/* TCR_EL1's ONE_REG id (KVM_REG_ARM64 | SIZE_U64 | SYSREG, op0 3, op1 0,
 * CRn 2, CRm 0, op2 2), spelled out: this file needs no kernel header. */
#define REG_TCR_EL1     0x603000000013c102ULL

int restore_check_host(const struct vm_state *st, uint64_t data_pages,
		       const struct host_limits *h, char *msg, size_t len)
{
	const struct vm_config *c = &st->config;
	uint64_t end;

	if (c->nmem != 1 || c->ncpus == 0 || c->ncpus > TORPOR_MAX_CPUS) {
		snprintf(msg, len, "image has %u vCPUs and %u memory regions; torpor "
			 "restores 1..%u vCPUs and one region", c->ncpus, c->nmem,
			 TORPOR_MAX_CPUS);
		return -1;
	}
	if (st->resume.vcpu >= c->ncpus) {
		snprintf(msg, len, "image resumes vCPU %u of %u", st->resume.vcpu, c->ncpus);
		return -1;
	}
	if (st->clock.counter_freq != h->counter_freq) {
		snprintf(msg, len, "image counter runs at %llu Hz, this host's at %llu Hz",
			 (unsigned long long)st->clock.counter_freq,
			 (unsigned long long)h->counter_freq);
		return -1;
	}
	if (st->host.midr && h->midr && st->host.midr != h->midr) {
		snprintf(msg, len, "image was taken on CPU MIDR 0x%llx, this host is 0x%llx",
			 (unsigned long long)st->host.midr, (unsigned long long)h->midr);
		return -1;
	}
	/* A walk from level -1 faults there at stage 2 once restored (a new
	 * VM maps nothing yet), which older KVMs reject (stage1.h). */
	for (uint32_t i = 0; i < c->ncpus && h->kernel_release; i++) {
		uint64_t tcr;
		int lvl;

		if (vcpu_reg(&st->vcpus[i], REG_TCR_EL1, &tcr))
			continue;
		lvl = stage1_start_level(tcr);
		if (lvl < stage1_host_min_level(h->kernel_release)) {
			snprintf(msg, len, "vCPU %u of the image walks its page tables from "
				 "level %d (FEAT_LPA2, 52-bit addresses): this host's KVM "
				 "(Linux %s) takes no translation fault below level 0 (Linux "
				 "6.9 does)", i, lvl, h->kernel_release);
			return -1;
		}
	}
	/* A region that wraps or ends past the VM's address space would fail
	 * only at KVM_SET_USER_MEMORY_REGION, after seconds of decoding. */
	end = c->mem[0].guest_addr + c->mem[0].size;
	if (end < c->mem[0].guest_addr || h->vm_ipa_bits >= 64 ||
	    end > (1ULL << h->vm_ipa_bits)) {
		snprintf(msg, len, "image RAM 0x%llx..0x%llx lies beyond the %u-bit guest "
			 "address space of this host's VMs",
			 (unsigned long long)c->mem[0].guest_addr,
			 (unsigned long long)(c->mem[0].guest_addr + c->mem[0].size),
			 h->vm_ipa_bits);
		return -1;
	}
	/* Pages the image stores are populated on restore: more than the host
	 * can hold would end in the OOM killer, not in a message. */
	if (data_pages > c->mem[0].size / MEM_PAGE_SIZE) {
		snprintf(msg, len, "image stores %llu pages, more than its RAM of %llu",
			 (unsigned long long)data_pages,
			 (unsigned long long)(c->mem[0].size / MEM_PAGE_SIZE));
		return -1;
	}
	if (data_pages > h->memory_bytes / MEM_PAGE_SIZE) {
		snprintf(msg, len, "image stores %llu MiB of guest memory; this host holds "
			 "%llu MiB of RAM and swap",
			 (unsigned long long)(data_pages * MEM_PAGE_SIZE >> 20),
			 (unsigned long long)(h->memory_bytes >> 20));
		return -1;
	}
	return 0;
}
