/* memmap.h - the guest physical address map, in one place.
 *
 *   0x0000_0000 +------------------------+
 *               | unmapped               |
 *   0x0800_0000 +------------------------+
 *               | GICv3 distributor 64K  |
 *   0x080A_0000 +------------------------+
 *               | GICv3 redistributors   |  128K per vCPU, TORPOR_MAX_CPUS of them
 *   0x0900_0000 +------------------------+
 *               | 16550 UART         4K  |  SPI 1
 *   0x0901_0000 +------------------------+
 *               | PL031 RTC          4K  |  SPI 2
 *   0x0903_0000 +------------------------+
 *               | PL061 GPIO         4K  |  SPI 7 (wake button on line 3)
 *   0x0904_0000 +------------------------+
 *               | VM generation ID  64K  |  SPI 8; guest memory, not MMIO
 *   0x0A00_0000 +------------------------+
 *               | virtio-mmio  16 x 512  |  SPI 16..31: slots 0-7 one per
 *               |                        |  --disk, 8-11 one per --net,
 *               |                        |  12 virtio-rng, 13 virtio-input
 *   0x8000_0000 +------------------------+
 *               | RAM (--memory)         |  up to 1 TiB - 2 GiB (40-bit IPA)
 *               +------------------------+
 *
 * This header is also included by the assembler for the bare-metal test guests,
 * so it holds preprocessor definitions only. */
#ifndef TORPOR_MEMMAP_H
#define TORPOR_MEMMAP_H

#define TORPOR_MAX_CPUS         32

#define GIC_DIST_BASE           0x08000000
#define GIC_DIST_SIZE           0x00010000
#define GIC_REDIST_BASE         0x080A0000
#define GIC_REDIST_STRIDE       0x00020000
#define GIC_REDIST_SIZE         (GIC_REDIST_STRIDE * TORPOR_MAX_CPUS)
#define GIC_NR_IRQS             128     /* 32 private + 96 SPIs */
#define GIC_SPI_BASE            32      /* INTID of SPI 0 */

#define UART_BASE               0x09000000
#define UART_SIZE               0x1000
#define UART_SPI                1
#define RTC_BASE                0x09010000
#define RTC_SIZE                0x1000
#define RTC_SPI                 2
#define GPIO_BASE               0x09030000
#define GPIO_SIZE               0x1000
#define GPIO_SPI                7
#define GPIO_WAKE_LINE          3
#define VIRTIO_MMIO_BASE        0x0A000000
#define VIRTIO_MMIO_STRIDE      0x200
#define VIRTIO_MMIO_SLOTS       16
#define VIRTIO_SPI_BASE         16
#define VIRTIO_NET_SLOT         8       /* the first --net's slot */
#define VIRTIO_RNG_SLOT         12
#define VIRTIO_INPUT_SLOT       13
/* The generation ID is 16 bytes at the start of a window of its own that is
 * guest memory (the guest's driver maps it as I/O memory and reads it with
 * plain loads, which KVM could not emulate as MMIO); 64K so that it is a
 * whole host page on any arm64 host. */
#define VMGENID_BASE            0x09040000
#define VMGENID_SIZE            0x10000
#define VMGENID_SPI             8

#define RAM_BASE                0x80000000
#define RAM_MIN_SIZE            0x00100000      /* 1 MiB */
#define IPA_BITS                40
#define RAM_MAX_SIZE            ((1ULL << IPA_BITS) - RAM_BASE)

/* PPIs of the architected timers (INTIDs), as on QEMU virt and kvmtool. */
#define TIMER_PPI_SEC_PHYS      29
#define TIMER_PPI_PHYS          30
#define TIMER_PPI_VIRT          27
#define TIMER_PPI_HYP           26

#endif
