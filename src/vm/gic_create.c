/* gic_create.c - vGICv3 creation and initialisation. */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "exitcodes.h"
#include "gic.h"
#include "log.h"

int gic_attr(int fd, unsigned long req, uint32_t group, uint64_t attr, void *val)
{
	struct kvm_device_attr a = { .group = group, .attr = attr, .addr = (uintptr_t)val };

	return ioctl(fd, req, &a) < 0 ? -errno : 0;
}

int gic_create(struct vm *vm)
{
	struct kvm_create_device dev = { .type = KVM_DEV_TYPE_ARM_VGIC_V3 };
	uint64_t dist = vm->cfg.gic_dist_base, redist = vm->cfg.gic_redist_base;
	uint32_t nr_irqs = vm->cfg.gic_nr_irqs;
	int ret;

	if (vm->cfg.gic_version != 3)
		return fail(EXIT_IMAGE, "GIC version %u is not supported",
			    vm->cfg.gic_version);
	if (ioctl(vm->vm_fd, KVM_CREATE_DEVICE, &dev) < 0)
		return fail(EXIT_NO_KVM, "this host cannot create a vGICv3: %s",
			    strerror(errno));
	vm->gic_fd = (int)dev.fd;
	if ((ret = gic_attr(vm->gic_fd, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR,
			    KVM_VGIC_V3_ADDR_TYPE_DIST, &dist)) ||
	    (ret = gic_attr(vm->gic_fd, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR,
			    KVM_VGIC_V3_ADDR_TYPE_REDIST, &redist)) ||
	    (ret = gic_attr(vm->gic_fd, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_NR_IRQS,
			    0, &nr_irqs)) ||
	    (ret = gic_attr(vm->gic_fd, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_CTRL,
			    KVM_DEV_ARM_VGIC_CTRL_INIT, NULL)))
		return fail(EXIT_FAILURE_RT, "vGICv3 setup: %s", strerror(-ret));
	return 0;
}
