/* image_strerror.c - names of the IMG_E* codes and of section types. */
#include "image_int.h"

static const char *const names[] = {
	[IMG_OK] = "success",
	[IMG_EIO] = "I/O error",
	[IMG_ENOSPC] = "no space left on the filesystem",
	[IMG_EINTR] = "cancelled",
	[IMG_EMAGIC] = "not a torpor arm64 image",
	[IMG_EVERSION] = "image needs a newer torpor",
	[IMG_ECORRUPT] = "image is corrupt",
	[IMG_ECHECKSUM] = "checksum mismatch",
	[IMG_ETRUNCATED] = "image is truncated",
	[IMG_EMISSING] = "required section missing",
	[IMG_ENOMEM] = "out of memory",
	[IMG_EINVAL] = "invalid argument",
	[IMG_ECOMPRESS] = "compression error",
	[IMG_EUNSUPPORTED] = "not supported on this host",
};

const char *image_strerror(int code)
{
	/* Unsigned so that negating INT_MIN is defined. */
	unsigned u = code < 0 ? 0u - (unsigned)code : (unsigned)code;

	if (u >= sizeof(names) / sizeof(names[0]) || !names[u])
		return "unknown image error";
	return names[u];
}

const char *section_name(unsigned type)
{
	static const char *const sec[] = {
		[SEC_VM_CONFIG] = "vm config",
		[SEC_HOST] = "host",
		[SEC_CLOCK] = "clock",
		[SEC_PSCI_RESUME] = "psci resume",
		[SEC_VCPU] = "vcpu",
		[SEC_GIC] = "gic",
		[SEC_DEVICES] = "devices",
		[SEC_MEM_INDEX] = "memory index",
		[SEC_DISKS] = "disks",
		[SEC_PREFETCH] = "prefetch order",
	};

	if (type >= sizeof(sec) / sizeof(sec[0]) || !sec[type])
		return "unknown";
	return sec[type];
}
