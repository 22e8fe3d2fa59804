/* vio.h - a minimal virtio-blk driver over virtio-mmio version 2 (VIRTIO 1.2
 * sections 4.2.2, 2.7 and 5.2) for the bare-metal test guests (vblk.S,
 * vblk_hostile.S): bring-up of the first --disk with VERSION_1 only (no
 * event idx, no indirect descriptors), one split virtqueue in guest RAM above
 * BM_FREE_RAM, request chains, bounded waits, and a data pattern the rig
 * scenarios recompute on the host.
 *
 * #include "vio.h" instead of "bm.h", and put `vio_library` once at the end,
 * before `bm_library`. Subroutines take arguments in x0-x5 and clobber
 * x0-x15 at most (each says which), never x16 and up; those that print save
 * x30 in a register they name. A failure prints "FAIL ..." and powers off.
 *
 * Guest RAM (MMU off: every access aligned to its size):
 *   VQ_DESC    descriptor table, 16 bytes an entry (up to 256)
 *   VQ_AVAIL   available ring: flags u16, idx u16, ring[] u16, used_event
 *   VQ_USED    used ring: flags u16, idx u16, ring[] {id u32, len u32}
 *   VQ_HDRS    request headers {type u32, reserved u32, sector u64}, one per
 *              head (16 bytes each)
 *   VQ_STATUS  status bytes, one per head
 *   VQ_SCRATCH the guest's own (e.g. an indirect table)
 *   VQ_WBUF    data written, 4 KiB a request
 *   VQ_RBUF    data read back, 4 KiB a request */
#ifndef TORPOR_VIO_H
#define TORPOR_VIO_H

#include "bm.h"

#define VIO_BASE                VIRTIO_MMIO_BASE        /* the first --disk */

/* virtio-mmio registers (32-bit; the configuration space at any width). */
#define VIO_MAGIC               0x000
#define VIO_VERSION             0x004
#define VIO_DEVICE_ID           0x008
#define VIO_DEV_FEATURES        0x010
#define VIO_DEV_FEATURES_SEL    0x014
#define VIO_DRV_FEATURES        0x020
#define VIO_DRV_FEATURES_SEL    0x024
#define VIO_QUEUE_SEL           0x030
#define VIO_QUEUE_NUM_MAX       0x034
#define VIO_QUEUE_NUM           0x038
#define VIO_QUEUE_READY         0x044
#define VIO_QUEUE_NOTIFY        0x050
#define VIO_INT_STATUS          0x060
#define VIO_INT_ACK             0x064
#define VIO_STATUS              0x070
#define VIO_QUEUE_DESC_LO       0x080
#define VIO_QUEUE_DESC_HI       0x084
#define VIO_QUEUE_DRIVER_LO     0x090
#define VIO_QUEUE_DRIVER_HI     0x094
#define VIO_QUEUE_DEVICE_LO     0x0a0
#define VIO_QUEUE_DEVICE_HI     0x0a4
#define VIO_CONFIG              0x100   /* virtio-blk: capacity u64 first */
#define VIO_MAGIC_VALUE         0x74726976      /* "virt" */
#define VIO_ID_BLOCK            2

/* Device status bits, InterruptStatus bits. */
#define VIO_S_ACK               1
#define VIO_S_DRIVER            2
#define VIO_S_DRIVER_OK         4
#define VIO_S_FEATURES_OK       8
#define VIO_S_NEEDS_RESET       0x40
#define VIO_S_RUNNING           0xf     /* ACK | DRIVER | FEATURES_OK | DRIVER_OK */
#define VIO_INT_USED            1
#define VIO_INT_CONFIG          2
#define VIO_F_INDIRECT_DESC     28      /* in DeviceFeatures word 0 */

/* Descriptor flags; virtio-blk request types and status bytes. */
#define VQ_F_NEXT               1
#define VQ_F_WRITE              2
#define VQ_F_INDIRECT           4
#define BLK_T_IN                0
#define BLK_T_OUT               1
#define BLK_S_OK                0
#define BLK_S_IOERR             1
#define BLK_S_UNSUPP            2

#define VQ_DESC                 (BM_FREE_RAM + 0x0000)
#define VQ_AVAIL                (BM_FREE_RAM + 0x1000)
#define VQ_USED                 (BM_FREE_RAM + 0x2000)
#define VQ_RINGS_SIZE           0x3000  /* the three, zeroed at init */
#define VQ_HDRS                 (BM_FREE_RAM + 0x3000)
#define VQ_STATUS               (BM_FREE_RAM + 0x4000)
#define VQ_SCRATCH              (BM_FREE_RAM + 0x5000)
#define VQ_WBUF                 (BM_FREE_RAM + 0x10000)
#define VQ_RBUF                 (BM_FREE_RAM + 0x30000)
#define VQ_BUF_SIZE             4096

/* The driver's variables, at the end of BM_DATA (guests use BM_VARS). */
#define V_VIO_QSIZE             (BM_DATA + 0x3f000)     /* QueueNum */
#define V_VIO_FEATURES          (BM_DATA + 0x3f008)     /* DeviceFeatures, 64 bits */

#define VIO_WAIT_MS             3000    /* every wait for the device */

/* The data pattern: the 32-bit word at disk byte offset 4n holds
 * n * PAT_MUL + PAT_ADD (mod 2^32), so every word says where it belongs. */
#define PAT_MUL                 0x9E3779B1      /* 2654435761 */
#define PAT_ADD                 0x74727076      /* 1953656950 */

#ifdef __ASSEMBLER__

/* vio_used_slot DST, IDX: DST = the address of used ring entry IDX (mod the
 * queue size). Clobbers x9. */
	.macro	vio_used_slot dst, idx
	ldr	x9, =V_VIO_QSIZE
	ldr	w9, [x9]
	sub	w9, w9, #1
	and	w9, \idx, w9
	ldr	\dst, =(VQ_USED + 4)
	add	\dst, \dst, x9, lsl #3
	.endm

	.macro	vio_library

/* vio_init: resets the device at VIO_BASE and brings it up (section 3.1.1)
 * with queue 0 of x0 entries on zeroed rings: magic, version 2, device id 2;
 * ACKNOWLEDGE, DRIVER; VERSION_1 must be offered, and is all the driver
 * takes; FEATURES_OK must stick; QueueNumMax >= x0; QueueReady; DRIVER_OK.
 * Clobbers x0-x7, x9-x15. */
vio_init:
	mov	x7, x30
	mov	x6, x0
	ldr	x1, =VIO_BASE
	ldr	w2, [x1, #VIO_MAGIC]
	expect	x2, VIO_MAGIC_VALUE, "virtio-mmio MagicValue"
	ldr	w2, [x1, #VIO_VERSION]
	expect	x2, 2, "virtio-mmio Version (want 2, modern)"
	ldr	w2, [x1, #VIO_DEVICE_ID]
	expect	x2, VIO_ID_BLOCK, "virtio DeviceID (want 2, block)"
	str	wzr, [x1, #VIO_STATUS]
	ldr	w2, [x1, #VIO_STATUS]
	expect	x2, 0, "Status after a reset"
	mov	w2, #VIO_S_ACK
	str	w2, [x1, #VIO_STATUS]
	mov	w2, #(VIO_S_ACK | VIO_S_DRIVER)
	str	w2, [x1, #VIO_STATUS]
	mov	w2, #1
	str	w2, [x1, #VIO_DEV_FEATURES_SEL]
	ldr	w3, [x1, #VIO_DEV_FEATURES]
	str	wzr, [x1, #VIO_DEV_FEATURES_SEL]
	ldr	w4, [x1, #VIO_DEV_FEATURES]
	orr	x4, x4, x3, lsl #32
	ldr	x9, =V_VIO_FEATURES
	str	x4, [x9]
	tbnz	w3, #0, 1f
	printhex "features ", x4
	fail	"the device does not offer VERSION_1"
1:	str	wzr, [x1, #VIO_DRV_FEATURES_SEL]
	str	wzr, [x1, #VIO_DRV_FEATURES]
	mov	w2, #1
	str	w2, [x1, #VIO_DRV_FEATURES_SEL]
	str	w2, [x1, #VIO_DRV_FEATURES]            /* VERSION_1 only */
	mov	w2, #(VIO_S_ACK | VIO_S_DRIVER | VIO_S_FEATURES_OK)
	str	w2, [x1, #VIO_STATUS]
	ldr	w2, [x1, #VIO_STATUS]
	expect	x2, (VIO_S_ACK | VIO_S_DRIVER | VIO_S_FEATURES_OK), "Status: FEATURES_OK did not stick"
	str	wzr, [x1, #VIO_QUEUE_SEL]
	ldr	w2, [x1, #VIO_QUEUE_READY]
	expect	x2, 0, "QueueReady of queue 0 before setup"
	ldr	w2, [x1, #VIO_QUEUE_NUM_MAX]
	cmp	x2, x6
	b.hs	2f
	printhex "QueueNumMax ", x2
	fail	"QueueNumMax is smaller than the queue the guest wants"
2:	ldr	x9, =VQ_DESC                   /* zero the table and both rings */
	add	x10, x9, #VQ_RINGS_SIZE
3:	stp	xzr, xzr, [x9], #16
	cmp	x9, x10
	b.lo	3b
	ldr	x9, =V_VIO_QSIZE
	str	x6, [x9]
	dsb	sy
	str	w6, [x1, #VIO_QUEUE_NUM]
	ldr	x2, =VQ_DESC
	str	w2, [x1, #VIO_QUEUE_DESC_LO]
	lsr	x2, x2, #32
	str	w2, [x1, #VIO_QUEUE_DESC_HI]
	ldr	x2, =VQ_AVAIL
	str	w2, [x1, #VIO_QUEUE_DRIVER_LO]
	lsr	x2, x2, #32
	str	w2, [x1, #VIO_QUEUE_DRIVER_HI]
	ldr	x2, =VQ_USED
	str	w2, [x1, #VIO_QUEUE_DEVICE_LO]
	lsr	x2, x2, #32
	str	w2, [x1, #VIO_QUEUE_DEVICE_HI]
	mov	w2, #1
	str	w2, [x1, #VIO_QUEUE_READY]
	ldr	w2, [x1, #VIO_QUEUE_READY]
	expect	x2, 1, "QueueReady did not stick"
	mov	w2, #VIO_S_RUNNING
	str	w2, [x1, #VIO_STATUS]
	ldr	w2, [x1, #VIO_STATUS]
	expect	x2, VIO_S_RUNNING, "Status after DRIVER_OK"
	ret	x7

/* vio_capacity: x0 = the disk's capacity in sectors (configuration space
 * offset 0, u64). */
vio_capacity:
	ldr	x0, =VIO_BASE
	ldr	x0, [x0, #VIO_CONFIG]
	ret

/* vq_desc: descriptor x0 of the table = {addr x1, len w2, flags | next << 16
 * in w3}. desc_at: the same at address x0 (an indirect table). Clobbers x0,
 * x9. */
vq_desc:
	ldr	x9, =VQ_DESC
	add	x0, x9, x0, lsl #4
desc_at:
	str	x1, [x0]
	str	w2, [x0, #8]
	str	w3, [x0, #12]
	ret

/* vq_post: head x0 into the next available ring slot, then avail->idx + 1
 * (the entry visible first). Clobbers x9-x12. */
vq_post:
	ldr	x9, =VQ_AVAIL
	ldrh	w10, [x9, #2]
	ldr	x11, =V_VIO_QSIZE
	ldr	w11, [x11]
	sub	w11, w11, #1
	and	w12, w10, w11
	add	x12, x9, x12, lsl #1
	dmb	sy
	strh	w0, [x12, #4]
	dmb	sy
	add	w10, w10, #1
	strh	w10, [x9, #2]
	dmb	sy
	ret

/* vq_notify: QueueNotify 0, after everything written before. Clobbers x9. */
vq_notify:
	dsb	sy
	ldr	x9, =VIO_BASE
	str	wzr, [x9, #VIO_QUEUE_NOTIFY]
	ret

/* vio_avail_idx: x0 = avail->idx. */
vio_avail_idx:
	ldr	x0, =VQ_AVAIL
	ldrh	w0, [x0, #2]
	ret

/* vio_wait_used: waits up to VIO_WAIT_MS for used->idx == w0 (mod 2^16).
 * x0 = 1 if it got there (then a barrier: the entries are visible), else 0;
 * x1 = the last used->idx read. Clobbers x9-x12. */
vio_wait_used:
	and	w0, w0, #0xffff
	counter_deadline x11, VIO_WAIT_MS
	ldr	x12, =VQ_USED
1:	ldrh	w1, [x12, #2]
	cmp	w1, w0
	b.eq	2f
	isb
	mrs	x9, cntvct_el0
	cmp	x9, x11
	b.lo	1b
	mov	x0, #0
	ret
2:	dmb	sy
	mov	x0, #1
	ret

/* vio_wait_status: waits up to VIO_WAIT_MS for a bit of w0 in Status.
 * x0 = 1 if one came, else 0; x1 = the last Status read. Clobbers x9-x12. */
vio_wait_status:
	counter_deadline x11, VIO_WAIT_MS
	ldr	x12, =VIO_BASE
1:	ldr	w1, [x12, #VIO_STATUS]
	tst	w1, w0
	b.ne	2f
	isb
	mrs	x9, cntvct_el0
	cmp	x9, x11
	b.lo	1b
	mov	x0, #0
	ret
2:	dmb	sy
	mov	x0, #1
	ret

/* blk_req: the chain of a request at descriptors x0 (header: type w1, sector
 * x2, at VQ_HDRS + 16 * x0), x0 + 1 (data: x3, x4 bytes, x5 = 0 readable or
 * VQ_F_WRITE; left out if x4 = 0) and the next (status byte at VQ_STATUS +
 * x0, set to 0xff first). Not made available. Clobbers x0-x3, x6-x13. */
blk_req:
	mov	x8, x30
	mov	x6, x0
	mov	x11, x3
	mov	x12, x4
	mov	x13, x5
	ldr	x7, =VQ_HDRS
	add	x7, x7, x6, lsl #4
	str	w1, [x7]
	str	wzr, [x7, #4]
	str	x2, [x7, #8]
	ldr	x10, =VQ_STATUS
	add	x10, x10, x6
	mov	w9, #0xff
	strb	w9, [x10]
	mov	x0, x6
	mov	x1, x7
	mov	x2, #16
	add	x3, x6, #1
	lsl	x3, x3, #16
	orr	x3, x3, #VQ_F_NEXT
	bl	vq_desc
	add	x0, x6, #1
	cbz	x12, 1f
	mov	x1, x11
	mov	x2, x12
	add	x3, x6, #2
	lsl	x3, x3, #16
	orr	x3, x3, #VQ_F_NEXT
	orr	x3, x3, x13
	bl	vq_desc
	add	x0, x6, #2
1:	mov	x1, x10
	mov	x2, #1
	mov	x3, #VQ_F_WRITE
	bl	vq_desc
	ret	x8

/* do_req: one request as blk_req's (x1-x5) at head 0, made available and
 * notified, waited for; fails if it does not complete or comes back with
 * another id. x0 = its status byte, x1 = the used length. Saves x30 in x15
 * (x16 is kept). Clobbers x0-x15. */
do_req:
	mov	x15, x30
	mov	x0, #0
	bl	blk_req
	mov	x0, #0
	bl	vq_post
	bl	vq_notify
	bl	vio_avail_idx
	bl	vio_wait_used
	cbnz	x0, 1f
	printhex "used idx ", x1
	fail	"a request did not complete in time"
1:	sub	w1, w1, #1
	vio_used_slot x10, w1
	ldr	w2, [x10]
	ldr	w1, [x10, #4]
	cbz	w2, 2f
	printhex "used id ", x2
	fail	"the used entry is not the request's head"
2:	ldr	x9, =VQ_STATUS
	ldrb	w0, [x9]
	ret	x15

/* pat_fill: the pattern of the 4 KiB at sector x1 into the buffer at x0.
 * Clobbers x10-x14. */
pat_fill:
	lsl	w10, w1, #7                     /* word index on the disk */
	ldr	w11, =PAT_MUL
	ldr	w12, =PAT_ADD
	mov	x13, #0
1:	add	w14, w10, w13
	madd	w14, w14, w11, w12
	str	w14, [x0, x13, lsl #2]
	add	x13, x13, #1
	cmp	x13, #(VQ_BUF_SIZE / 4)
	b.lo	1b
	ret

/* pat_check: x0 = the number of words of the 4 KiB buffer at x0 that differ
 * from the pattern of sector x1. Clobbers x1, x10-x15. */
pat_check:
	mov	x15, x0
	mov	x0, #0
	lsl	w10, w1, #7
	ldr	w11, =PAT_MUL
	ldr	w12, =PAT_ADD
	mov	x13, #0
1:	add	w14, w10, w13
	madd	w14, w14, w11, w12
	ldr	w1, [x15, x13, lsl #2]
	cmp	w1, w14
	cinc	x0, x0, ne
	add	x13, x13, #1
	cmp	x13, #(VQ_BUF_SIZE / 4)
	b.lo	1b
	ret

/* buf_zero: zeroes the 4 KiB at x0. Clobbers x9, x10. */
buf_zero:
	mov	x9, x0
	add	x10, x0, #VQ_BUF_SIZE
1:	stp	xzr, xzr, [x9], #16
	cmp	x9, x10
	b.lo	1b
	ret
	.endm

#endif /* __ASSEMBLER__ */
#endif
