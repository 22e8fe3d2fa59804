/* image-regs - test tool: prints the registers an image holds for one vCPU,
 * one "0xID 0xVALUE" line each (values most significant digit first), so
 * that rig scenarios can show and compare what two host kernels saved.
 *
 * usage: image-regs IMAGE [VCPU [ID...]]
 *   VCPU defaults to 0; with IDs, only those registers (in that order; an
 *   ID the image lacks prints "0xID -"). */
#include <stdio.h>
#include <stdlib.h>

#include "image.h"

static void print_reg(const struct vcpu_state *v, uint64_t id)
{
	char hex[2 * REG_MAX_BYTES + 3];
	size_t off = 0;

	for (uint32_t i = 0; i < v->nregs; i++) {
		size_t n = reg_size(v->reg_ids[i]);

		if (v->reg_ids[i] == id) {
			reg_hex(v->reg_data + off, n, hex);
			printf("0x%016llx %s\n", (unsigned long long)id, hex);
			return;
		}
		off += n;
	}
	printf("0x%016llx -\n", (unsigned long long)id);
}

int main(int argc, char **argv)
{
	static struct vm_state st;
	struct image_error err = { 0 };
	struct image *img;
	unsigned long cpu;

	if (argc < 2) {
		fprintf(stderr, "usage: image-regs IMAGE [VCPU [ID...]]\n");
		return 2;
	}
	if (image_open(&img, argv[1], 0, &err) || image_read_state(img, &st, &err)) {
		fprintf(stderr, "image-regs: %s: %s\n", argv[1], err.msg);
		return 1;
	}
	image_close(img);
	cpu = argc > 2 ? strtoul(argv[2], NULL, 0) : 0;
	if (cpu >= st.config.ncpus) {
		fprintf(stderr, "image-regs: the image has %u vCPUs\n", st.config.ncpus);
		return 2;
	}
	if (argc > 3) {
		for (int i = 3; i < argc; i++)
			print_reg(&st.vcpus[cpu], strtoull(argv[i], NULL, 0));
	} else {
		for (uint32_t i = 0; i < st.vcpus[cpu].nregs; i++)
			print_reg(&st.vcpus[cpu], st.vcpus[cpu].reg_ids[i]);
	}
	vm_state_free(&st);
	return 0;
}
