/* vblk_hostile.S - a virtio-blk driver that breaks the rules on purpose
 * (scenario baremetal-vblk-hostile).
 *
 * One vCPU, 16 MiB of RAM (--memory 16M: RAM_END below), one 1 MiB --disk.
 * For each malformed queue it brings the device up afresh (vio.h: VERSION_1
 * only, so no indirect descriptors, queue 0 of 16 entries), makes one bad
 * chain available and notifies:
 *   loop       descriptor 0 -> 1 -> 0 ... (NEXT both)
 *   head       a head index of 16, one past the table
 *   addr       a buffer at 0x1000, below RAM
 *   ram-end    a buffer straddling the end of RAM
 *   wrap       a buffer whose addr + len wraps 2^64 (to RAM_BASE)
 *   avail-idx  avail->idx 100 on a 16-entry queue (its chain is good)
 *   order      a readable descriptor after a writable one
 *   indirect   an indirect table (itself well-formed), not negotiated
 * Where the bad chain carries a write, it is of sector 0 with the pattern
 * (vio.h), so a device that followed it would leave it on the disk (the
 * scenario wants sector 0 zero). Then it waits (bounded) for Status to show
 * DEVICE_NEEDS_RESET, wants InterruptStatus bit 1 (configuration change),
 * acknowledges it, wants no used entry and Status 0x4f, notifies once more
 * (ignored), resets (Status 0) and wants Status, InterruptStatus and
 * QueueReady 0; prints "vblk hostile CASE ok".
 *
 * Then, on one more bring-up, well-formed requests the device must answer
 * with a status byte and its queue running (Status 0xf throughout):
 *   beyond-end    write 512 bytes at sector capacity: IOERR
 *   straddle-end  write 1024 bytes at sector capacity - 1: IOERR
 *   sector-wrap   write 512 bytes at sector 2^55 (x 512 wraps to 0): IOERR
 *   read-beyond   read 512 bytes at sector capacity: IOERR
 *   unsupp        type 99: UNSUPP
 *   roundtrip     4 KiB of pattern written at sector RT_SECTOR and read back
 * ("vblk hostile CASE ok" each), "vblk hostile done", and powers off. */
#include "vio.h"

#define RAM_SIZE        (16 << 20)
#define RAM_END         (RAM_BASE + RAM_SIZE)
#define QSIZE           16
#define RT_SECTOR       8
#define BLK_T_BOGUS     99

#define V_CAPACITY      (BM_VARS + 0x00)

/* bad_case NAME, SETUP: a fresh device, SETUP's bad chain, its reset. */
	.macro	bad_case name, setup
	mov	x0, #QSIZE
	bl	vio_init
	bl	\setup
	bl	expect_needs_reset
	println	"vblk hostile \name ok"
	.endm

/* good_case NAME, TYPE, SECTOR, DATA, LEN, FLAGS, STATUS, USED_LEN: one
 * request (SECTOR a register or constant), its status byte and used length
 * as wanted, the device still running. */
	.macro	good_case name, type, sector, data, len, flags, status, used_len
	mov	x1, #\type
	ldr	x2, =\sector
	ldr	x3, =\data
	ldr	x4, =\len
	mov	x5, #\flags
	bl	do_req
	mov	x20, x0
	mov	x21, x1
	expect	x20, \status, "\name: the status byte"
	expect	x21, \used_len, "\name: the used length"
	bl	expect_running
	println	"vblk hostile \name ok"
	.endm

/* past_end NAME, TYPE, LEN, BUF, FLAGS: a request of LEN bytes at the
 * sector in x2 (the caller's: capacity-relative) must get IOERR, used
 * length 1, the device still running. */
	.macro	past_end name, type, len, buf, flags
	mov	x1, #\type
	ldr	x3, =\buf
	mov	x4, #\len
	mov	x5, #\flags
	bl	do_req
	mov	x20, x0
	mov	x21, x1
	expect	x20, BLK_S_IOERR, "\name: the status byte"
	expect	x21, 1, "\name: the used length"
	bl	expect_running
	println	"vblk hostile \name ok"
	.endm

	.text
	.global	_start
_start:
	setup_cpu 0
	mov	x0, #QSIZE
	bl	vio_init
	ldr	x9, =V_VIO_FEATURES
	ldr	x20, [x9]
	printhex "vblk features ", x20
	tbnz	x20, #VIO_F_INDIRECT_DESC, 1f
	fail	"INDIRECT_DESC not offered (the indirect case needs it offered)"
1:	bl	vio_capacity
	mov	x20, x0
	printhex "vblk capacity ", x20
	cmp	x20, #(RT_SECTOR + 8)
	b.hs	2f
	fail	"the disk is too small"
2:	ldr	x9, =V_CAPACITY
	str	x20, [x9]
	ldr	x0, =VQ_WBUF                    /* what the bad chains would write */
	mov	x1, #0
	bl	pat_fill

	bad_case loop, case_loop
	bad_case head, case_head
	bad_case addr, case_addr
	bad_case ram-end, case_ram_end
	bad_case wrap, case_wrap
	bad_case avail-idx, case_avail_idx
	bad_case order, case_order
	bad_case indirect, case_indirect

	mov	x0, #QSIZE
	bl	vio_init
	ldr	x9, =V_CAPACITY
	ldr	x22, [x9]
	mov	x2, x22
	past_end beyond-end, BLK_T_OUT, 512, VQ_WBUF, 0
	sub	x2, x22, #1
	past_end straddle-end, BLK_T_OUT, 1024, VQ_WBUF, 0
	good_case sector-wrap, BLK_T_OUT, (1 << 55), VQ_WBUF, 512, 0, BLK_S_IOERR, 1
	mov	x2, x22
	past_end read-beyond, BLK_T_IN, 512, VQ_RBUF, VQ_F_WRITE
	good_case unsupp, BLK_T_BOGUS, 0, VQ_WBUF, 0, 0, BLK_S_UNSUPP, 1

	ldr	x0, =(VQ_WBUF + VQ_BUF_SIZE)
	mov	x1, #RT_SECTOR
	bl	pat_fill
	ldr	x0, =VQ_RBUF
	bl	buf_zero
	good_case write, BLK_T_OUT, RT_SECTOR, (VQ_WBUF + VQ_BUF_SIZE), VQ_BUF_SIZE, 0, BLK_S_OK, 1
	good_case read, BLK_T_IN, RT_SECTOR, VQ_RBUF, VQ_BUF_SIZE, VQ_F_WRITE, BLK_S_OK, (VQ_BUF_SIZE + 1)
	ldr	x0, =VQ_RBUF
	mov	x1, #RT_SECTOR
	bl	pat_check
	mov	x20, x0
	expect	x20, 0, "roundtrip: words read back that differ from those written"
	println	"vblk hostile roundtrip ok"
	println	"vblk hostile done"
	b	bm_off

/* expect_running: Status is 0xf (no DEVICE_NEEDS_RESET) and no
 * configuration change is signalled. Clobbers x0, x9-x15. */
expect_running:
	mov	x15, x30
	ldr	x9, =VIO_BASE
	ldr	w0, [x9, #VIO_STATUS]
	expect	x0, VIO_S_RUNNING, "Status after a request the device must answer"
	ldr	x9, =VIO_BASE
	ldr	w0, [x9, #VIO_INT_STATUS]
	tbz	w0, #1, 1f
	printhex "InterruptStatus ", x0
	fail	"a configuration change interrupt after a well-formed request"
1:	ret	x15

/* expect_needs_reset: notifies, then wants DEVICE_NEEDS_RESET and the rest
 * (see the top), resets the device. Clobbers x0-x15, x19, x20, x28. */
expect_needs_reset:
	mov	x28, x30
	bl	vq_notify
	mov	x0, #VIO_S_NEEDS_RESET
	bl	vio_wait_status
	cbnz	x0, 1f
	mov	x20, x1
	printhex "Status ", x20
	fail	"no DEVICE_NEEDS_RESET after a malformed chain"
1:	ldr	x19, =VIO_BASE
	ldr	w20, [x19, #VIO_INT_STATUS]
	tbnz	w20, #1, 2f
	printhex "InterruptStatus ", x20
	fail	"no configuration change interrupt with DEVICE_NEEDS_RESET"
2:	str	w20, [x19, #VIO_INT_ACK]
	ldr	w20, [x19, #VIO_INT_STATUS]
	expect	x20, 0, "InterruptStatus after the ACK"
	ldr	x9, =VQ_USED
	ldrh	w20, [x9, #2]
	expect	x20, 0, "used->idx: the device used a chain of its malformed queue"
	ldr	w20, [x19, #VIO_STATUS]
	expect	x20, (VIO_S_RUNNING | VIO_S_NEEDS_RESET), "Status with DEVICE_NEEDS_RESET"
	bl	vq_notify                       /* ignored until the reset */
	str	wzr, [x19, #VIO_STATUS]
	ldr	w20, [x19, #VIO_STATUS]
	expect	x20, 0, "Status after the reset"
	ldr	w20, [x19, #VIO_INT_STATUS]
	expect	x20, 0, "InterruptStatus after the reset"
	ldr	w20, [x19, #VIO_QUEUE_READY]
	expect	x20, 0, "QueueReady after the reset"
	ret	x28

/* The bad chains. Each clobbers x0-x15, x27. */

/* A write of sector 0 whose data descriptor leads back to its header. */
case_loop:
	mov	x27, x30
	mov	x0, #0
	mov	x1, #BLK_T_OUT
	mov	x2, #0
	ldr	x3, =VQ_WBUF
	mov	x4, #512
	mov	x5, #0
	bl	blk_req
	mov	x0, #1                          /* data: NEXT -> 0, not -> 2 */
	ldr	x1, =VQ_WBUF
	mov	x2, #512
	mov	x3, #VQ_F_NEXT
	bl	vq_desc
	mov	x0, #0
	bl	vq_post
	ret	x27

/* A good write of sector 0 at descriptor 0, the ring naming head 16. */
case_head:
	mov	x27, x30
	bl	good_write0
	mov	x0, #QSIZE
	bl	vq_post
	ret	x27

/* good_write0: a well-formed write of 512 bytes of sector 0 at head 0. */
good_write0:
	mov	x26, x30
	mov	x0, #0
	mov	x1, #BLK_T_OUT
	mov	x2, #0
	ldr	x3, =VQ_WBUF
	mov	x4, #512
	mov	x5, #0
	bl	blk_req
	ret	x26

/* bad_data ADDR, LEN: a write of sector 0 whose data buffer is (ADDR, LEN). */
	.macro	bad_data addr, len
	mov	x27, x30
	bl	good_write0
	mov	x0, #1
	ldr	x1, =\addr
	ldr	x2, =\len
	ldr	x3, =(VQ_F_NEXT | (2 << 16))
	bl	vq_desc
	mov	x0, #0
	bl	vq_post
	ret	x27
	.endm

case_addr:
	bad_data 0x1000, 512
case_ram_end:
	bad_data (RAM_END - 256), 512
case_wrap:
	bad_data 0xfffffffffffff000, 0x80001000         /* ends at RAM_BASE, mod 2^64 */

/* A good write at head 0 with avail->idx jumping to 100. */
case_avail_idx:
	mov	x27, x30
	bl	good_write0
	ldr	x9, =VQ_AVAIL
	strh	wzr, [x9, #4]                   /* ring[0] = 0 */
	dmb	sy
	mov	w10, #100
	strh	w10, [x9, #2]
	dmb	sy
	ret	x27

/* Header (readable), status (writable), then the data (readable). */
case_order:
	mov	x27, x30
	bl	good_write0                     /* header, data, status at 0-2 */
	mov	x0, #1
	ldr	x1, =VQ_STATUS
	mov	x2, #1
	ldr	x3, =(VQ_F_NEXT | VQ_F_WRITE | (2 << 16))
	bl	vq_desc
	mov	x0, #2
	ldr	x1, =VQ_WBUF
	mov	x2, #512
	mov	x3, #0
	bl	vq_desc
	mov	x0, #0
	bl	vq_post
	ret	x27

/* Descriptor 0 indirect, to a well-formed write of sector 0 in VQ_SCRATCH. */
case_indirect:
	mov	x27, x30
	ldr	x9, =VQ_HDRS
	mov	w10, #BLK_T_OUT
	str	w10, [x9]
	str	wzr, [x9, #4]
	str	xzr, [x9, #8]
	ldr	x0, =VQ_SCRATCH
	ldr	x1, =VQ_HDRS
	mov	x2, #16
	ldr	x3, =(VQ_F_NEXT | (1 << 16))
	bl	desc_at
	ldr	x0, =(VQ_SCRATCH + 16)
	ldr	x1, =VQ_WBUF
	mov	x2, #512
	ldr	x3, =(VQ_F_NEXT | (2 << 16))
	bl	desc_at
	ldr	x0, =(VQ_SCRATCH + 32)
	ldr	x1, =VQ_STATUS
	mov	x2, #1
	mov	x3, #VQ_F_WRITE
	bl	desc_at
	mov	x0, #0
	ldr	x1, =VQ_SCRATCH
	mov	x2, #48
	mov	x3, #VQ_F_INDIRECT
	bl	vq_desc
	mov	x0, #0
	bl	vq_post
	ret	x27

	vio_library
	bm_library
