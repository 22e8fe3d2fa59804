/* vblk.S - virtio-blk requests in flight at a checkpoint (scenario
 * baremetal-vblk-inflight).
 *
 * For 2 vCPUs (--cpus 2), 16 MiB of RAM and one 1 MiB --disk. vCPU 0 arms
 * the wake button, brings the disk up (vio.h: VERSION_1 only, queue 0 of
 * QSIZE entries), checks its capacity, then in each of two rounds R starts
 * vCPU 1 (CPU_ON), which submits NREQ writes of 4 KiB, request i at sector
 * SECTOR(R, i) with the pattern of that sector (vio.h), each a chain of three
 * descriptors (header, data, status byte at 0xff), and powers itself off at
 * once (CPU_OFF) without waiting for the last ones:
 *   round 0: the first NOTIFIED each made available and notified
 *            (QueueNotify), the rest made available without a notification.
 *   round 1: the same, but between the notified ones and the rest vCPU 1
 *            waits until those completed and 50 ms more, so that the device
 *            has gone idle when the rest is made available: only a
 *            checkpoint that serves what was never notified completes them.
 * vCPU 0 waits for AFFINITY_INFO(1) OFF and calls SYSTEM_SUSPEND at once.
 * torpor must serve every chain made available, notified or not, write its
 * used entry and flush the disk before it saves memory (exit 7).
 *
 * Restored (the wake button), first of all it reads used->idx, which must be
 * NREQ more than at the round's start, then checks the transport (Status,
 * QueueReady, capacity, InterruptStatus with its used-buffer bit, then
 * acknowledged), every used entry (id one of the round's heads, each once,
 * length 1) and every status byte (0, OK), and prints
 *   vblk round R inflight ok 12
 *   vblk round R used at suspend 0x... (what vCPU 0 saw before it suspended)
 * Then it reads the NREQ sectors back (IN requests, all made available,
 * one notification, used->idx polled with a timeout), compares them with
 * the pattern and prints "vblk round R readback ok 12". After round 0 it
 * clears the wake button's interrupt and goes on to round 1; after round 1
 * it powers off (exit 0). Every wait is bounded: a failure prints "FAIL ..."
 * and powers off. */
#include "vio.h"

#define QSIZE           64      /* NREQ chains of 3 descriptors */
#define NREQ            12
#define NOTIFIED        4
#define DISK_SECTORS    2048    /* the scenario's 1 MiB disk */
/* Request i of round r: 4 KiB at sector 8 + 24 i + 8 r (8 sectors of zeros
 * between two of them: sectors 0-7, and 24 i .. 24 i + 7). */
#define SECTOR_STEP     24

#define V_ROUND         (BM_VARS + 0x00)
#define V_USED_AT_SUSP  (BM_VARS + 0x08)

/* sector DST, ROUND, I: the sector of request I of round ROUND (registers).
 * Clobbers x9. */
	.macro	sector dst, round, i
	mov	x9, #SECTOR_STEP
	mul	\dst, \i, x9
	add	\dst, \dst, #8
	add	\dst, \dst, \round, lsl #3
	.endm

	.text
	.global	_start
_start:
	setup_cpu 0
	bl	bm_arm_wake_button
	mov	x0, #QSIZE
	bl	vio_init
	bl	vio_capacity
	expect	x0, DISK_SECTORS, "capacity in the configuration space (want a 1 MiB disk)"
	ldr	x9, =V_VIO_FEATURES
	ldr	x20, [x9]
	printhex "vblk features ", x20
	mov	x19, #0

/* round: round x19 on vCPU 1, then suspend. */
round:
	ldr	x9, =V_ROUND
	str	x19, [x9]
	dsb	sy
	ldr	x0, =PSCI_CPU_ON
	mov	x1, #1
	adr	x2, submitter
	mov	x3, x19
	hvc	#0
	expect	x0, PSCI_SUCCESS, "CPU_ON of vCPU 1"
	counter_deadline x21, 8000
1:	ldr	x0, =PSCI_AFFINITY_INFO
	mov	x1, #1
	mov	x2, #0
	hvc	#0
	cmp	x0, #AFF_OFF
	b.eq	2f
	isb
	mrs	x9, cntvct_el0
	cmp	x9, x21
	b.lo	1b
	fail	"vCPU 1 did not power off"
2:	ldr	x9, =VQ_USED
	ldrh	w20, [x9, #2]
	ldr	x9, =V_USED_AT_SUSP
	str	x20, [x9]
	suspend_or_fail resumed

resumed:
	resume_entry
	ldr	x9, =VQ_USED                    /* first: what the checkpoint left */
	ldrh	w20, [x9, #2]
	dmb	sy
	ldr	x9, =V_ROUND
	ldr	x19, [x9]
	mov	x9, #(2 * NREQ)
	mul	x21, x19, x9                    /* used->idx at the round's start */
	add	x22, x21, #NREQ
	cmp	x20, x22
	b.eq	1f
	printhex "used idx ", x20
	printhex "want ", x22
	fail	"not every request made available was completed at the checkpoint"

1:	ldr	x23, =VIO_BASE
	ldr	w0, [x23, #VIO_STATUS]
	expect	x0, VIO_S_RUNNING, "Status after the restore"
	ldr	w0, [x23, #VIO_QUEUE_READY]
	expect	x0, 1, "QueueReady after the restore"
	bl	vio_capacity
	expect	x0, DISK_SECTORS, "capacity after the restore"
	ldr	w0, [x23, #VIO_INT_STATUS]
	tbnz	w0, #0, 2f
	printhex "InterruptStatus ", x0
	fail	"no used-buffer interrupt pending after completions"
2:	str	w0, [x23, #VIO_INT_ACK]
	ldr	w0, [x23, #VIO_INT_STATUS]
	expect	x0, 0, "InterruptStatus after the ACK"

	/* The used entries: each head once, length 1 (the status byte). */
	mov	x0, x21
	mov	x1, #1
	bl	check_used
	mov	x24, #0                         /* status bytes */
3:	mov	x9, #3
	mul	x9, x24, x9
	ldr	x10, =VQ_STATUS
	ldrb	w0, [x10, x9]
	cbz	w0, 4f
	printhex "request ", x24
	printhex "status ", x0
	fail	"a write came back with a status other than OK"
4:	add	x24, x24, #1
	cmp	x24, #NREQ
	b.lo	3b
	print	"vblk round "
	add	x0, x19, #'0'
	bl	bm_putc
	println	" inflight ok 12"
	print	"vblk round "
	add	x0, x19, #'0'
	bl	bm_putc
	ldr	x9, =V_USED_AT_SUSP
	ldr	x20, [x9]
	sub	x20, x20, x21
	printhex " used at suspend ", x20

	/* Read the round's sectors back: all at once, one notification. */
	mov	x24, #0
5:	ldr	x0, =VQ_RBUF
	add	x0, x0, x24, lsl #12
	bl	buf_zero
	mov	x9, #3
	mul	x25, x24, x9                    /* head */
	sector	x2, x19, x24
	mov	x0, x25
	mov	x1, #BLK_T_IN
	ldr	x3, =VQ_RBUF
	add	x3, x3, x24, lsl #12
	mov	x4, #VQ_BUF_SIZE
	mov	x5, #VQ_F_WRITE
	bl	blk_req
	mov	x0, x25
	bl	vq_post
	add	x24, x24, #1
	cmp	x24, #NREQ
	b.lo	5b
	bl	vq_notify
	add	x0, x22, #NREQ
	bl	vio_wait_used
	cbnz	x0, 6f
	printhex "used idx ", x1
	fail	"the reads did not complete in time"
6:	mov	x0, x22
	mov	x1, #(VQ_BUF_SIZE + 1)
	bl	check_used
	mov	x24, #0
7:	mov	x9, #3
	mul	x9, x24, x9
	ldr	x10, =VQ_STATUS
	ldrb	w0, [x10, x9]
	cbz	w0, 8f
	printhex "read ", x24
	printhex "status ", x0
	fail	"a read came back with a status other than OK"
8:	ldr	x0, =VQ_RBUF
	add	x0, x0, x24, lsl #12
	sector	x1, x19, x24
	mov	x26, x1
	bl	pat_check
	cbz	x0, 9f
	printhex "sector ", x26
	printhex "words wrong ", x0
	fail	"a sector read back does not hold what was written"
9:	add	x24, x24, #1
	cmp	x24, #NREQ
	b.lo	7b
	print	"vblk round "
	add	x0, x19, #'0'
	bl	bm_putc
	println	" readback ok 12"

	cbnz	x19, 10f
	ldr	x1, =GPIO_BASE                  /* the button press is handled: */
	mov	w2, #0xff
	str	w2, [x1, #GPIO_IC]              /* the GPIO's interrupt */
	ldr	x1, =(GIC_DIST_BASE + GICD_ICPENDR + (GPIO_WAKE_INTID / 32) * 4)
	mov	w2, #(1 << (GPIO_WAKE_INTID % 32))
	str	w2, [x1]                        /* and the (edge) SPI's latch */
	mov	x19, #1
	b	round
10:	b	bm_off

/* check_used: the NREQ used entries from index x0 must name the heads 3 i
 * (i < NREQ) once each, with length x1. Clobbers x0-x5, x9-x15. */
check_used:
	mov	x5, x30
	mov	x2, x0
	mov	x3, #0                          /* heads seen, a bit each */
	add	x4, x0, #NREQ
1:	vio_used_slot x10, w2
	ldr	w11, [x10]                      /* id */
	ldr	w12, [x10, #4]                  /* len */
	mov	w13, #3
	udiv	w14, w11, w13
	msub	w15, w14, w13, w11
	cbnz	w15, 8f                         /* not a multiple of 3 */
	cmp	w14, #NREQ
	b.hs	8f
	mov	x15, #1
	lsl	x15, x15, x14
	tst	x3, x15
	b.ne	8f                              /* twice */
	orr	x3, x3, x15
	cmp	x12, x1
	b.ne	9f
	add	x2, x2, #1
	cmp	x2, x4
	b.lo	1b
	ret	x5
8:	mov	x19, x11
	printhex "used id ", x19
	fail	"a used entry names no head of ours, or one twice"
9:	mov	x19, x12
	printhex "used len ", x19
	fail	"a used entry has the wrong length"

/* vCPU 1: x0 = the round. Makes the round's NREQ writes available and
 * powers off. */
submitter:
	mov	x19, x0
	setup_cpu 1
	mov	x20, #0
1:	bl	submit_write
	bl	vq_notify
	add	x20, x20, #1
	cmp	x20, #NOTIFIED
	b.lo	1b
	cbz	x19, 3f
	bl	vio_avail_idx                   /* round 1: the device idle first */
	bl	vio_wait_used
	cbnz	x0, 2f
	printhex "used idx ", x1
	fail	"the notified writes did not complete"
2:	counter_deadline x21, 50
21:	isb
	mrs	x9, cntvct_el0
	cmp	x9, x21
	b.lo	21b
3:	bl	submit_write                    /* no notification from here on */
	add	x20, x20, #1
	cmp	x20, #NREQ
	b.lo	3b
	dsb	sy
	ldr	x0, =PSCI_CPU_OFF
	hvc	#0
	fail	"CPU_OFF returned on vCPU 1"

/* submit_write: write x20 of round x19 (pattern, chain at head 3 x20), made
 * available. Clobbers x0-x15, x23-x25, x28. */
submit_write:
	mov	x28, x30
	sector	x23, x19, x20
	ldr	x24, =VQ_WBUF
	add	x24, x24, x20, lsl #12
	mov	x0, x24
	mov	x1, x23
	bl	pat_fill
	mov	x9, #3
	mul	x25, x20, x9
	mov	x0, x25
	mov	x1, #BLK_T_OUT
	mov	x2, x23
	mov	x3, x24
	mov	x4, #VQ_BUF_SIZE
	mov	x5, #0
	bl	blk_req
	mov	x0, x25
	bl	vq_post
	ret	x28

	vio_library
	bm_library
