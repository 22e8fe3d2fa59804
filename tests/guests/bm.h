/* bm.h - shared assembler helpers for the bare-metal test guests.
 *
 * #include "bm.h" at the top of a guest, and put `bm_library` once at its end
 * (it emits the subroutines, the exception vectors and the literal pool; the
 * guest's own code must come first, at RAM_BASE).
 *
 * Guest RAM layout used by every guest (all below RAM_BASE + 1 MiB):
 *   RAM_BASE            code, then .rodata (strings)
 *   BM_DATA             variables (BM_DATA_SIZE bytes), see BM_* offsets
 *   BM_STACK_TOP(cpu)   16 KiB stack per vCPU, the first at RAM_BASE + 1 MiB
 *
 * Calling convention of the subroutines: arguments in x0 (x1), they clobber
 * x0 and x9-x15 only (and the condition flags); bm_off never returns. */
#ifndef TORPOR_BM_H
#define TORPOR_BM_H

#include "memmap.h"

/* PSCI (DEN0022) function ids and return codes. */
#define PSCI_CPU_ON             0xC4000003
#define PSCI_CPU_OFF            0x84000002
#define PSCI_AFFINITY_INFO      0xC4000004
#define PSCI_SYSTEM_OFF         0x84000008
#define PSCI_SYSTEM_SUSPEND     0xC400000E      /* SMC64 */
#define PSCI_SYSTEM_SUSPEND32   0x8400000E      /* SMC32 */
#define PSCI_VERSION            0x84000000
#define PSCI_MIGRATE_INFO_TYPE  0x84000006
#define PSCI_FEATURES           0x8400000A
#define PSCI_SYSTEM_RESET2      0x84000012      /* SMC32; SMC64 is 0xC4000012 */
#define PSCI_SUCCESS            0
#define PSCI_NOT_SUPPORTED      (-1)
#define PSCI_INVALID_PARAMS     (-2)
#define PSCI_DENIED             (-3)
#define PSCI_INVALID_ADDRESS    (-9)
#define PSCI_ALREADY_ON         (-4)
#define AFF_ON                  0
#define AFF_OFF                 1

/* SMCCC (DEN0028) calls outside PSCI, and the answer to an unknown id. */
#define SMCCC_VERSION           0x80000000
#define SMCCC_ARCH_FEATURES     0x80000001
#define SMCCC_NOT_SUPPORTED     (-1)

#define BM_CONTEXT_ID           0x70726f74      /* "prot" */

#define BM_DATA                 (RAM_BASE + 0x80000)
#define BM_DATA_SIZE            0x40000
#define BM_IRQ_COUNT            (BM_DATA + 0x0)         /* interrupts taken */
#define BM_IRQ_LOG              (BM_DATA + 0x8)         /* their INTIDs, 16 */
#define BM_IRQ_LOG_MAX          16
#define BM_VARS                 (BM_DATA + 0x100)       /* the guest's own */
#define BM_STACK_TOP(cpu)       (RAM_BASE + 0x100000 - (cpu) * 0x4000)
#define BM_FREE_RAM             (RAM_BASE + 0x100000)   /* nothing of ours above */

/* GICv3 (ARM IHI 0069) register offsets. */
#define GICD_CTLR               0x0000
#define GICD_IGROUPR            0x0080
#define GICD_ISENABLER          0x0100
#define GICD_ICENABLER          0x0180
#define GICD_ISPENDR            0x0200
#define GICD_ICPENDR            0x0280
#define GICD_ISACTIVER          0x0300
#define GICD_IPRIORITYR         0x0400
#define GICD_ICFGR              0x0c00
#define GICD_IROUTER            0x6000
#define GICD_CTLR_RWP           (1 << 31)
#define GICD_CTLR_ARE           (1 << 4)
#define GICD_CTLR_GRP1          (1 << 1)
#define GICR_CTLR               0x0000
#define GICR_WAKER              0x0014
#define GICR_WAKER_SLEEP        (1 << 1)        /* ProcessorSleep */
#define GICR_WAKER_ASLEEP       (1 << 2)        /* ChildrenAsleep */
#define GICR_SGI                0x10000         /* SGI_base frame */
#define GICR_BASE(cpu)          (GIC_REDIST_BASE + (cpu) * GIC_REDIST_STRIDE)

/* GICv3 CPU interface system registers, by encoding (no -march needed). */
#define ICC_PMR_EL1             S3_0_C4_C6_0
#define ICC_AP1R0_EL1           S3_0_C12_C9_0
#define ICC_SGI1R_EL1           S3_0_C12_C11_5
#define ICC_IAR1_EL1            S3_0_C12_C12_0
#define ICC_EOIR1_EL1           S3_0_C12_C12_1
#define ICC_BPR1_EL1            S3_0_C12_C12_3
#define ICC_CTLR_EL1            S3_0_C12_C12_4
#define ICC_SRE_EL1             S3_0_C12_C12_5
#define ICC_IGRPEN1_EL1         S3_0_C12_C12_7

/* PL061 GPIO (ARM DDI 0190) registers: the wake button on GPIO_WAKE_LINE. */
#define GPIO_IS                 0x404
#define GPIO_IBE                0x408
#define GPIO_IEV                0x40c
#define GPIO_IE                 0x410
#define GPIO_IC                 0x41c
#define GPIO_WAKE_INTID         (GIC_SPI_BASE + GPIO_SPI)

#define UART_LSR                5
#define UART_LSR_THRE           0x20

#ifdef __ASSEMBLER__

/* psci FN: x0 = FN, HVC; the result is in x0. The other arguments (x1-x3)
 * must be set before. */
	.macro	psci fn
	ldr	x0, =\fn
	hvc	#0
	.endm

/* print "text": writes text (no newline added) to the UART. */
	.macro	print str
	.pushsection .rodata
.Lbm_str\@:
	.asciz	"\str"
	.popsection
	adr	x0, .Lbm_str\@
	bl	bm_puts
	.endm

/* println "text" */
	.macro	println str
	print	"\str\n"
	.endm

/* printhex "label", REG: "label0x<16 hex digits>\n"; REG may be x0. */
	.macro	printhex str, reg
	mov	x13, \reg
	print	"\str"
	mov	x0, x13
	bl	bm_puthex
	mov	x0, #'\n'
	bl	bm_putc
	.endm

/* fail "why": prints "FAIL why" and powers the system off. */
	.macro	fail str
	println	"FAIL \str"
	b	bm_off
	.endm

/* expect REG, VALUE, "what": fails unless REG == VALUE (VALUE: any constant;
 * clobbers x9). */
	.macro	expect reg, val, what
	ldr	x9, =\val
	cmp	\reg, x9
	b.eq	.Lbm_ok\@
	printhex "got ", \reg
	fail	"\what"
.Lbm_ok\@:
	.endm

/* suspend_call FN, ENTRY: SYSTEM_SUSPEND call FN (SMC64 or SMC32 id) with
 * x1 = ENTRY (a label or a constant) and x2 = BM_CONTEXT_ID; x0 = result. */
	.macro	suspend_call fn, entry
	ldr	x0, =\fn
	ldr	x1, =\entry
	ldr	x2, =BM_CONTEXT_ID
	hvc	#0
	.endm

/* suspend_or_fail ENTRY: SYSTEM_SUSPEND (SMC64) that must not return. */
	.macro	suspend_or_fail entry
	suspend_call PSCI_SYSTEM_SUSPEND, \entry
	printhex "FAIL suspend returned ", x0
	b	bm_off
	.endm

/* resume_entry [N]: the start of vCPU N's (0's) code at a suspend's entry
 * point: x19 = x0, setup_cpu N, fails unless x0 was BM_CONTEXT_ID. */
	.macro	resume_entry cpu=0
	mov	x19, x0
	setup_cpu \cpu
	expect	x19, BM_CONTEXT_ID, "context id at entry"
	.endm

/* setup_cpu N: stack, exception vectors and FP/SIMD access (CPACR_EL1.FPEN)
 * for vCPU N, at its entry point. */
	.macro	setup_cpu n
	ldr	x9, =BM_STACK_TOP(\n)
	mov	sp, x9
	mov	x9, #(3 << 20)
	msr	cpacr_el1, x9
	adr	x9, bm_vectors
	msr	vbar_el1, x9
	isb
	.endm

/* counter_deadline REG, MS: REG = CNTVCT + MS milliseconds (clobbers x9, x10). */
	.macro	counter_deadline reg, ms
	mrs	x9, cntfrq_el0
	mov	x10, #\ms
	mul	x9, x9, x10
	mov	x10, #1000
	udiv	x9, x9, x10
	isb
	mrs	\reg, cntvct_el0
	add	\reg, \reg, x9
	.endm

/* wait_nonzero ADDR, MS, WHAT: spins until the word at ADDR is non-zero;
 * fails with WHAT after MS milliseconds. Uses x1, x2, x9, x10, x21. */
	.macro	wait_nonzero addr, ms, what
	counter_deadline x21, \ms
	ldr	x1, =\addr
.Lbm_wait\@:
	ldr	x2, [x1]
	cbnz	x2, .Lbm_set\@
	isb
	mrs	x9, cntvct_el0
	cmp	x9, x21
	b.lo	.Lbm_wait\@
	fail	"\what"
.Lbm_set\@:
	.endm

/* gic_cpu_on: ICC: system register interface, PMR 0xf0, group 1 on. */
	.macro	gic_cpu_on
	mrs	x9, ICC_SRE_EL1
	orr	x9, x9, #1
	msr	ICC_SRE_EL1, x9
	isb
	mov	x9, #0xf0
	msr	ICC_PMR_EL1, x9
	mov	x9, #1
	msr	ICC_IGRPEN1_EL1, x9
	isb
	.endm

/* bm_library: the subroutines; once, at the end of the guest. */
	.macro	bm_library

/* bm_putc: writes w0 to the UART, waiting for THR empty. */
bm_putc:
	ldr	x9, =UART_BASE
1:	ldrb	w10, [x9, #UART_LSR]
	tbz	w10, #5, 1b
	strb	w0, [x9]
	ret

/* bm_puts: writes the NUL-terminated string at x0. */
bm_puts:
	mov	x14, x30
	mov	x11, x0
1:	ldrb	w0, [x11], #1
	cbz	w0, 2f
	bl	bm_putc
	b	1b
2:	mov	x30, x14
	ret

/* bm_puthex: writes x0 as 0x and 16 hex digits. */
bm_puthex:
	mov	x14, x30
	mov	x11, x0
	mov	x0, #'0'
	bl	bm_putc
	mov	x0, #'x'
	bl	bm_putc
	mov	x12, #60
1:	lsr	x0, x11, x12
	and	x0, x0, #0xf
	cmp	x0, #10
	add	x15, x0, #'0'
	add	x0, x0, #('a' - 10)
	csel	x0, x15, x0, lo
	bl	bm_putc
	subs	x12, x12, #4
	b.ge	1b
	mov	x30, x14
	ret

/* bm_gic_init: the distributor on (ARE, group 1), the redistributor of
 * vCPU x0 awake with its SGIs and PPIs in group 1, and this CPU's interface
 * on (gic_cpu_on). Clobbers x9, x10 only. */
bm_gic_init:
	ldr	x9, =GIC_DIST_BASE
	mov	w10, #(GICD_CTLR_ARE | GICD_CTLR_GRP1)
	str	w10, [x9, #GICD_CTLR]
1:	ldr	w10, [x9, #GICD_CTLR]
	tbnz	w10, #31, 1b                    /* RWP */
	ldr	x9, =GICR_BASE(0)
	add	x9, x9, x0, lsl #17             /* GIC_REDIST_STRIDE */
	ldr	w10, [x9, #GICR_WAKER]
	bic	w10, w10, #GICR_WAKER_SLEEP
	str	w10, [x9, #GICR_WAKER]
1:	ldr	w10, [x9, #GICR_WAKER]
	tbnz	w10, #2, 1b                     /* ChildrenAsleep */
	add	x9, x9, #GICR_SGI
	mov	w10, #-1
	str	w10, [x9, #GICD_IGROUPR]
	gic_cpu_on
	ret

/* bm_arm_wake_button: the least GIC setup for the wake button to wake
 * vCPU 0 (bm_gic_init, SPI GPIO_WAKE_INTID group 1, priority 0, enabled),
 * and its GPIO line's interrupt unmasked on both edges (GPIOIBE). IRQs stay
 * masked in PSTATE. */
bm_arm_wake_button:
	mov	x15, x30
	mov	x0, #0
	bl	bm_gic_init
	ldr	x9, =GIC_DIST_BASE
	mov	w10, #-1
	str	w10, [x9, #(GICD_IGROUPR + (GPIO_WAKE_INTID / 32) * 4)]
	mov	w10, #(1 << (GPIO_WAKE_INTID % 32))
	str	w10, [x9, #(GICD_ISENABLER + (GPIO_WAKE_INTID / 32) * 4)]
	ldr	x9, =GPIO_BASE
	mov	w10, #(1 << GPIO_WAKE_LINE)
	str	w10, [x9, #GPIO_IBE]
	str	w10, [x9, #GPIO_IE]
	ret	x15

/* bm_off: PSCI SYSTEM_OFF; parks the CPU if that ever returns. */
bm_off:
	ldr	x0, =PSCI_SYSTEM_OFF
	hvc	#0
1:	wfi
	b	1b

/* bm_wait_irqs: unmasks IRQs and waits up to 2 s until at least x0
 * interrupts were taken in all; masks them again. Returns the count in x0. */
bm_wait_irqs:
	mov	x15, x30
	mov	x11, x0
	counter_deadline x12, 2000
	msr	daifclr, #2
	ldr	x13, =BM_IRQ_COUNT
1:	ldr	x0, [x13]
	cmp	x0, x11
	b.hs	2f
	isb
	mrs	x9, cntvct_el0
	cmp	x9, x12
	b.lo	1b
2:	msr	daifset, #2
	isb
	ldr	x0, [x13]
	mov	x30, x15
	ret

/* IRQ: acknowledge (group 1), log the INTID, quiet its source if it is the
 * virtual timer (IMASK) or the wake button (GPIOIC), end it. */
bm_irq:
	stp	x0, x1, [sp, #-32]!
	stp	x2, x3, [sp, #16]
	mrs	x0, ICC_IAR1_EL1
	and	x0, x0, #0xffffff
	cmp	x0, #1020
	b.hs	2f                      /* spurious */
	ldr	x1, =BM_IRQ_COUNT
	ldr	x2, [x1]
	cmp	x2, #BM_IRQ_LOG_MAX
	b.hs	1f
	add	x3, x1, #8
	str	x0, [x3, x2, lsl #3]
1:	add	x2, x2, #1
	str	x2, [x1]
	cmp	x0, #TIMER_PPI_VIRT
	b.ne	3f
	mov	x2, #3                  /* ENABLE | IMASK */
	msr	cntv_ctl_el0, x2
	isb
3:	cmp	x0, #GPIO_WAKE_INTID
	b.ne	4f
	ldr	x1, =GPIO_BASE
	mov	w2, #0xff
	str	w2, [x1, #GPIO_IC]
4:	msr	ICC_EOIR1_EL1, x0
	isb
2:	ldp	x2, x3, [sp, #16]
	ldp	x0, x1, [sp], #32
	eret

/* Any other exception is a failure: say which and power off. */
bm_bad_exception:
	mrs	x1, esr_el1
	mrs	x2, elr_el1
	mrs	x3, far_el1
	printhex "FAIL exception esr=", x1
	printhex "elr=", x2
	printhex "far=", x3
	b	bm_off

	.balign	2048
bm_vectors:
	.irp	n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	.balign	128
	.if	\n == 5                 /* IRQ, current EL with SP_ELx */
	b	bm_irq
	.else
	mov	x0, #\n
	b	bm_bad_exception
	.endif
	.endr

	.balign	8
	.ltorg
	.endm

#endif /* __ASSEMBLER__ */
#endif
