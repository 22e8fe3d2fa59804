/* image-set - test tool: copies a torpor image with one field changed, so
 * the rig can check that restore refuses images from an incompatible host.
 * The library recomputes every checksum: the result is a valid image that
 * describes a different machine.
 *
 * usage: image-set IN OUT FIELD VALUE
 *   FIELD: counter_freq | midr | vcpu_target | add_reg (appends register id
 *   VALUE, zero-valued, to vCPU 0) | or_reg (VALUE is ID:MASK: sets the
 *   bits of MASK in the 64-bit register ID of every vCPU) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "image.h"
#include "le.h"

static int add_reg(struct vcpu_state *v, uint64_t id)
{
	size_t sz = reg_size(id);
	uint64_t *ids = realloc(v->reg_ids, (v->nregs + 1) * sizeof(*ids));
	uint8_t *data;

	if (!ids)
		return -ENOMEM;
	v->reg_ids = ids;
	data = realloc(v->reg_data, v->reg_data_len + sz);
	if (!sz || !data)
		return -ENOMEM;
	v->reg_data = data;
	memset(data + v->reg_data_len, 0, sz);
	v->reg_ids[v->nregs++] = id;
	v->reg_data_len += sz;
	return 0;
}

static int or_reg(struct vm_state *st, const char *arg)
{
	char *end;
	uint64_t id = strtoull(arg, &end, 0), mask;
	int found = 0;

	if (*end != ':')
		return -EINVAL;
	mask = strtoull(end + 1, NULL, 0);
	for (uint32_t c = 0; c < st->config.ncpus; c++) {
		struct vcpu_state *v = &st->vcpus[c];
		size_t off = 0;

		for (uint32_t i = 0; i < v->nregs; i++) {
			if (v->reg_ids[i] == id && reg_size(id) == 8) {
				le_put64(v->reg_data + off, le_get64(v->reg_data + off) | mask);
				found = 1;
			}
			off += reg_size(v->reg_ids[i]);
		}
	}
	return found ? 0 : -ENOENT;
}

static int set_field(struct vm_state *st, const char *field, const char *arg)
{
	uint64_t value = strtoull(arg, NULL, 0);

	if (!strcmp(field, "counter_freq"))
		st->clock.counter_freq = value;
	else if (!strcmp(field, "midr"))
		st->host.midr = value;
	else if (!strcmp(field, "vcpu_target"))
		st->config.vcpu_target = (uint32_t)value;
	else if (!strcmp(field, "add_reg"))
		return add_reg(&st->vcpus[0], value);
	else if (!strcmp(field, "or_reg"))
		return or_reg(st, arg);
	else
		return -EINVAL;
	return 0;
}

int main(int argc, char **argv)
{
	static struct vm_state st;
	struct image_error err = { 0 };
	struct image_mem_src mem;
	struct image *img;
	void *ram;
	int ret;

	if (argc != 5) {
		fprintf(stderr, "usage: image-set IN OUT FIELD VALUE\n");
		return 2;
	}
	if ((ret = image_open(&img, argv[1], 1, &err)) ||
	    (ret = image_read_state(img, &st, &err))) {
		fprintf(stderr, "image-set: %s: %s\n", argv[1], err.msg);
		return 1;
	}
	ram = mmap(NULL, st.config.mem[0].size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (ram == MAP_FAILED ||
	    image_load_memory(img, 0, ram, st.config.mem[0].size, 0, &err)) {
		fprintf(stderr, "image-set: loading memory: %s\n", err.msg);
		return 1;
	}
	image_close(img);
	if (set_field(&st, argv[3], argv[4])) {
		fprintf(stderr, "image-set: cannot set %s\n", argv[3]);
		return 2;
	}
	mem = (struct image_mem_src){ .guest_addr = st.config.mem[0].guest_addr, .host = ram,
				      .size = st.config.mem[0].size };
	if (image_write(argv[2], &st, &mem, 1, NULL, NULL, &err)) {
		fprintf(stderr, "image-set: %s: %s\n", argv[2], err.msg);
		return 1;
	}
	vm_state_free(&st);
	return 0;
}
