/* gic.S - GICv3 state across a checkpoint (scenario baremetal-gic).
 *
 * One vCPU. Programs the distributor (ARE, group 1), wakes redistributor 0,
 * configures SGI 5 and PPI 23 (group, priority, enable), SPIs 39 (the PL061
 * wake button), 50 and 61 (groups, priorities, enables, ICFGR, IROUTER; 61
 * routed to a non-existent 0.3.2.1 and disabled) and 52, the CPU interface
 * (PMR, BPR1, group 1), arms the wake button (GPIO line 3, rising edge),
 * then with IRQs masked in PSTATE: makes SPI 52 pending and acknowledges it
 * (active, priority 0x20 in ICC_AP1R0_EL1, no EOI), sets SPI 50 pending and
 * sends itself SGI 5, and suspends.
 *
 * Before suspending it reads all of that back (snapshot A) and checks the
 * key values took. At its entry after restore it reads it again (snapshot B)
 * before touching anything, reports every difference ("differs I got want"),
 * ends SPI 52 (EOI: no longer active, no active priority left), unmasks IRQs and must take SGI 5 (priority 0x30), SPI 50 (0x40), then 39
 * if the wake button was pressed (0x80), and nothing else. It prints
 * "wake button pressed" or "wake button not pressed", then "gic ok G" or a
 * FAIL line. After its first checkpoint ("gic ok 0") it does all of that
 * again (from the pending and active states on) and suspends once more; after the second ("gic ok 1") it powers
 * off. */
#include "bm.h"

#define SPI_TEST        50              /* pending across the checkpoint */
#define SPI_ROUTED      61              /* routed elsewhere, disabled */
#define SPI_ACTIVE      52              /* active (acknowledged) across it */
#define SGI_TEST        5
#define PPI_TEST        23
#define PRIO_TEST       0x40
#define PRIO_WAKE       0x80
#define PRIO_ROUTED     0xc0
#define PRIO_SGI        0x30
#define PRIO_ACTIVE     0x20
#define PRIO_PPI        0xa0
#define ROUTE_ELSEWHERE 0x030201        /* Aff2.Aff1.Aff0 = 3.2.1 */
#define PMR             0xf0
#define BPR1            3

#define D(off)          (GIC_DIST_BASE + (off))
#define R(off)          (GICR_BASE(0) + (off))
#define S(off)          (GICR_BASE(0) + GICR_SGI + (off))

#define SNAP_A          (BM_VARS + 0x000)
#define SNAP_B          (BM_VARS + 0x400)
#define V_GEN           (BM_VARS + 0x800)       /* checkpoints taken */
/* Snapshot layout: snap_table's registers, then PMR, BPR1, IGRPEN1, CTLR,
 * SRE, AP1R0. */
#define SNAP_MMIO       39
#define SNAP_COUNT      (SNAP_MMIO + 6)
#define SNAP_ACTIVE1    (38 * 8)                /* GICD_ISACTIVER1 */
#define SNAP_AP1R0      ((SNAP_MMIO + 5) * 8)
#define SNAP_ENABLE1    (3 * 8)                 /* GICD_ISENABLER1 */
#define SNAP_PRIO_TEST  (9 * 8)                 /* GICD_IPRIORITYR, INTIDs 48-51 */
#define SNAP_ROUTED     (19 * 8)                /* GICD_IROUTER of SPI_ROUTED */
#define SNAP_PMR        (SNAP_MMIO * 8)

/* w8/w32/w64 ADDR, VALUE: MMIO writes (clobber x1, x2). */
	.macro	w32 addr, val
	ldr	x1, =\addr
	ldr	x2, =\val
	str	w2, [x1]
	.endm
	.macro	w8 addr, val
	ldr	x1, =\addr
	mov	x2, #\val
	strb	w2, [x1]
	.endm
	.macro	w64 addr, val
	ldr	x1, =\addr
	ldr	x2, =\val
	str	x2, [x1]
	.endm
/* check_irq N, INTID: the Nth interrupt taken (log at x1) was INTID, else
 * a FAIL line and x21 + 1. */
	.macro	check_irq n, intid
	ldr	x2, [x1, #(\n * 8)]
	cmp	x2, #\intid
	b.eq	.Lirq_ok\@
	printhex "interrupt \n was ", x2
	add	x21, x21, #1
	println	"FAIL interrupt \n is not INTID \intid"
.Lirq_ok\@:
	.endm
/* setbit ADDR, INTID: the INTID's bit in a 1-bit-per-INTID register bank. */
	.macro	setbit addr, intid
	w32	(\addr + (\intid / 32) * 4), (1 << (\intid % 32))
	.endm

	.text
	.global	_start
_start:
	setup_cpu 0

	/* Distributor: ARE and group 1. */
	w32	D(GICD_CTLR), (GICD_CTLR_ARE | GICD_CTLR_GRP1)
	ldr	x1, =D(GICD_CTLR)
1:	ldr	w2, [x1]
	tbnz	w2, #31, 1b                     /* RWP */

	/* Redistributor 0 awake. */
	ldr	x1, =R(GICR_WAKER)
	ldr	w2, [x1]
	bic	w2, w2, #GICR_WAKER_SLEEP
	str	w2, [x1]
1:	ldr	w2, [x1]
	tbnz	w2, #2, 1b                      /* ChildrenAsleep */

	/* SGIs and PPIs: group 1, SGI 5 and PPI 23 prioritised and enabled. */
	w32	S(GICD_IGROUPR), 0xffffffff
	w8	S(GICD_IPRIORITYR + SGI_TEST), PRIO_SGI
	w8	S(GICD_IPRIORITYR + PPI_TEST), PRIO_PPI
	w32	S(GICD_ISENABLER), ((1 << SGI_TEST) | (1 << PPI_TEST))

	/* SPIs 32-95: group 1; 39, 50, 61 configured. */
	w32	D(GICD_IGROUPR + 4), 0xffffffff
	w32	D(GICD_IGROUPR + 8), 0xffffffff
	w8	D(GICD_IPRIORITYR + GPIO_WAKE_INTID), PRIO_WAKE
	w8	D(GICD_IPRIORITYR + SPI_TEST), PRIO_TEST
	w8	D(GICD_IPRIORITYR + SPI_ROUTED), PRIO_ROUTED
	w8	D(GICD_IPRIORITYR + SPI_ACTIVE), PRIO_ACTIVE
	/* 48-63: 50 and 52 edge, the others level. */
	w32	D(GICD_ICFGR + 12), ((2 << ((SPI_TEST % 16) * 2)) | (2 << ((SPI_ACTIVE % 16) * 2)))
	w64	D(GICD_IROUTER + GPIO_WAKE_INTID * 8), 0
	w64	D(GICD_IROUTER + SPI_TEST * 8), 0
	w64	D(GICD_IROUTER + SPI_ACTIVE * 8), 0
	w64	D(GICD_IROUTER + SPI_ROUTED * 8), ROUTE_ELSEWHERE
	setbit	D(GICD_ISENABLER), GPIO_WAKE_INTID
	setbit	D(GICD_ISENABLER), SPI_TEST
	setbit	D(GICD_ISENABLER), SPI_ACTIVE

	/* CPU interface. */
	mrs	x1, ICC_SRE_EL1
	orr	x1, x1, #1
	msr	ICC_SRE_EL1, x1
	isb
	mov	x1, #PMR
	msr	ICC_PMR_EL1, x1
	mov	x1, #BPR1
	msr	ICC_BPR1_EL1, x1
	mov	x1, #1
	msr	ICC_IGRPEN1_EL1, x1
	isb

	/* The wake button: GPIO line 3, rising edge, unmasked. */
	w32	(GPIO_BASE + GPIO_IEV), (1 << GPIO_WAKE_LINE)
	w32	(GPIO_BASE + GPIO_IE), (1 << GPIO_WAKE_LINE)

/* SPI 50 pending (IRQs stay masked in PSTATE), snapshot A, suspend. */
checkpoint:
	/* SPI 52 pending, then acknowledged (active, no EOI) with IRQs masked. */
	setbit	D(GICD_ISPENDR), SPI_ACTIVE
	mrs	x19, ICC_IAR1_EL1
	expect	x19, SPI_ACTIVE, "acknowledging SPI 52 before suspend"
	setbit	D(GICD_ISPENDR), SPI_TEST
	ldr	x1, =((SGI_TEST << 24) | 1)     /* SGI 5 to ourselves (Aff0 0) */
	msr	ICC_SGI1R_EL1, x1
	isb
	ldr	x1, =BM_IRQ_COUNT
	str	xzr, [x1]
	ldr	x0, =SNAP_A
	bl	snapshot
	/* Did the programming take? (Else this guest is wrong, not torpor.) */
	ldr	x1, =SNAP_A
	ldr	x2, [x1, #SNAP_PRIO_TEST]
	ubfx	x2, x2, #((SPI_TEST % 4) * 8), #8
	expect	x2, PRIO_TEST, "priority of SPI 50 before suspend"
	ldr	x2, [x1, #SNAP_ROUTED]
	expect	x2, ROUTE_ELSEWHERE, "IROUTER of SPI 61 before suspend"
	ldr	x2, [x1, #SNAP_ENABLE1]
	ldr	x9, =((1 << (SPI_TEST - 32)) | (1 << (GPIO_WAKE_INTID - 32)))
	and	x2, x2, x9
	expect	x2, ((1 << (SPI_TEST - 32)) | (1 << (GPIO_WAKE_INTID - 32))), "SPI enables before suspend"
	ldr	x2, [x1, #SNAP_PMR]
	expect	x2, PMR, "ICC_PMR_EL1 before suspend"
	ldr	x1, =D(GICD_ISPENDR + 4)
	ldr	w2, [x1]
	and	w2, w2, #(1 << (SPI_TEST - 32))
	expect	x2, (1 << (SPI_TEST - 32)), "SPI 50 pending before suspend"
	ldr	x1, =S(GICD_ISPENDR)
	ldr	w2, [x1]
	and	w2, w2, #(1 << SGI_TEST)
	expect	x2, (1 << SGI_TEST), "SGI 5 pending before suspend"
	ldr	x1, =SNAP_A
	ldr	x2, [x1, #SNAP_ACTIVE1]
	and	x2, x2, #(1 << (SPI_ACTIVE - 32))
	expect	x2, (1 << (SPI_ACTIVE - 32)), "SPI 52 active before suspend"
	ldr	x2, [x1, #SNAP_AP1R0]
	cbnz	x2, 1f
	fail	"no active priority (ICC_AP1R0_EL1) before suspend"
1:
	println	"gic: programmed, suspending"

	suspend_or_fail resumed

resumed:
	/* Nothing but a stack and the vectors before snapshot B. */
	resume_entry
	ldr	x0, =SNAP_B
	bl	snapshot

	/* A and B must agree. x20 index, x21 differences. */
	mov	x20, #0
	mov	x21, #0
	ldr	x22, =SNAP_A
	ldr	x23, =SNAP_B
1:	ldr	x24, [x22, x20, lsl #3]
	ldr	x25, [x23, x20, lsl #3]
	cmp	x24, x25
	b.eq	2f
	add	x21, x21, #1
	printhex "differs ", x20
	printhex "got ", x25
	printhex "want ", x24
2:	add	x20, x20, #1
	cmp	x20, #SNAP_COUNT
	b.lo	1b

	/* SPI 52 is still active (A and B agree): end it; that must clear it. */
	mov	x1, #SPI_ACTIVE
	msr	ICC_EOIR1_EL1, x1
	isb
	ldr	x1, =D(GICD_ISACTIVER + 4)
	ldr	w2, [x1]
	and	w2, w2, #(1 << (SPI_ACTIVE - 32))
	mrs	x3, ICC_AP1R0_EL1
	orr	x2, x2, x3
	cbz	x2, 1f
	add	x21, x21, #1
	println	"FAIL SPI 52 still active (or its priority) after its EOI"
1:
	/* Was the wake button pressed? (GPIORIS line 3) */
	ldr	x1, =GPIO_BASE
	ldr	w22, [x1, #0x414]
	ubfx	x22, x22, #GPIO_WAKE_LINE, #1
	cbz	x22, 3f
	println	"wake button pressed"
	b	4f
3:	println	"wake button not pressed"
4:	add	x0, x22, #2
	bl	bm_wait_irqs
	mov	x23, x0
	add	x9, x22, #2
	cmp	x23, x9
	b.eq	5f
	printhex "interrupts taken ", x23
	add	x21, x21, #1
	println	"FAIL wrong number of interrupts"
	/* In priority order: SGI 5 (0x30), SPI 50 (0x40), the button (0x80). */
5:	ldr	x1, =BM_IRQ_LOG
	check_irq 0, SGI_TEST
	check_irq 1, SPI_TEST
	cbz	x22, 7f
	check_irq 2, GPIO_WAKE_INTID
7:	cbnz	x21, 8f
	ldr	x1, =V_GEN
	ldr	x2, [x1]
	cbnz	x2, 9f
	println	"gic ok 0"
	mov	x2, #1                          /* and again, from this VM */
	str	x2, [x1]
	b	checkpoint
9:	println	"gic ok 1"
	b	bm_off
8:	printhex "FAIL problems ", x21
	b	bm_off

/* snapshot: reads every register of snap_table (bit 0 of an entry: 64-bit
 * access), then the ICC registers, as 64-bit values at x0. */
snapshot:
	adr	x9, snap_table
	adr	x10, snap_table_end
1:	ldr	x11, [x9], #8
	tbnz	x11, #0, 2f
	ldr	w12, [x11]
	b	3f
2:	bic	x11, x11, #1
	ldr	x12, [x11]
3:	str	x12, [x0], #8
	cmp	x9, x10
	b.lo	1b
	mrs	x12, ICC_PMR_EL1
	str	x12, [x0], #8
	mrs	x12, ICC_BPR1_EL1
	str	x12, [x0], #8
	mrs	x12, ICC_IGRPEN1_EL1
	str	x12, [x0], #8
	mrs	x12, ICC_CTLR_EL1
	str	x12, [x0], #8
	mrs	x12, ICC_SRE_EL1
	str	x12, [x0], #8
	mrs	x12, ICC_AP1R0_EL1
	str	x12, [x0], #8
	ret

	.balign	8
snap_table:
	.quad	D(GICD_CTLR)                            /* 0 */
	.quad	D(GICD_IGROUPR + 4), D(GICD_IGROUPR + 8)
	.quad	D(GICD_ISENABLER + 4)                   /* 3 */
	.quad	D(GICD_ISENABLER + 8)
	.quad	D(GICD_IPRIORITYR + 32), D(GICD_IPRIORITYR + 36), D(GICD_IPRIORITYR + 40)
	.quad	D(GICD_IPRIORITYR + 44), D(GICD_IPRIORITYR + 48)        /* 9: 48-51 */
	.quad	D(GICD_IPRIORITYR + 52), D(GICD_IPRIORITYR + 56), D(GICD_IPRIORITYR + 60)
	.quad	D(GICD_ICFGR + 8), D(GICD_ICFGR + 12), D(GICD_ICFGR + 16), D(GICD_ICFGR + 20)
	.quad	D(GICD_IROUTER + GPIO_WAKE_INTID * 8) + 1
	.quad	D(GICD_IROUTER + SPI_TEST * 8) + 1
	.quad	D(GICD_IROUTER + SPI_ROUTED * 8) + 1   /* 19 */
	.quad	R(GICR_CTLR), R(GICR_WAKER)
	.quad	S(GICD_IGROUPR), S(GICD_ISENABLER), S(GICD_ICFGR), S(GICD_ICFGR + 4)
	.quad	S(GICD_IPRIORITYR + 0), S(GICD_IPRIORITYR + 4), S(GICD_IPRIORITYR + 8)
	.quad	S(GICD_IPRIORITYR + 12), S(GICD_IPRIORITYR + 16), S(GICD_IPRIORITYR + 20)
	.quad	S(GICD_IPRIORITYR + 24), S(GICD_IPRIORITYR + 28)
	.quad	GPIO_BASE + GPIO_IS, GPIO_BASE + GPIO_IBE, GPIO_BASE + GPIO_IEV
	.quad	GPIO_BASE + GPIO_IE
	.quad	D(GICD_ISACTIVER + 4)                   /* 38 */
snap_table_end:
	.if	(snap_table_end - snap_table) != SNAP_MMIO * 8
	.error	"SNAP_MMIO does not match snap_table"
	.endif

	bm_library
