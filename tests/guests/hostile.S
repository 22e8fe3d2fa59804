/* hostile.S - a guest that misbehaves on purpose (scenario baremetal-hostile).
 *
 * NCPUS vCPUs (--cpus 3), RAM_SIZE of RAM (--memory 64M). vCPU 0 builds
 * identity page tables in which everything below 2 GiB except the GIC is
 * Normal non-cacheable memory, so that unaligned accesses reach the monitor
 * (with the MMU off all of it is Device memory, where they fault in the
 * guest), turns its MMU on and starts the others, which do the same. Then
 * all of them, in step (barriers):
 *  (1) MMIO: at every byte offset of the UART, RTC and GPIO windows and of
 *      the unmapped windows below RAM and just above it (hostile_windows),
 *      with every width (1, 2, 4, 8 bytes), a pseudo-random write
 *      (xorshift64, one stream per vCPU) and a read back. vCPU N takes the
 *      8-byte blocks whose index is N modulo NCPUS, so all of them hit each
 *      device at once. Reads of unmapped windows must give 0 (else bad).
 *      Accesses that run past the end of a device window are counted
 *      (crossing), and so are those of their reads that did not give 0
 *      (stale: nothing is there to read).
 *  (2) STORM_CALLS calls each of PSCI/SMCCC garbage: CPU_ON and
 *      AFFINITY_INFO with wild targets, levels, entry points and context
 *      ids (answers computed from the vCPUs' MPIDRs: everyone is on, so
 *      CPU_ON says ALREADY_ON for a vCPU's exact affinity and
 *      INVALID_PARAMETERS for anything else; AFFINITY_INFO ON or
 *      INVALID_PARAMETERS), unknown function ids through HVC #0 and HVC
 *      #imm (NOT_SUPPORTED), through SMC #0 and SMC #imm (NOT_SUPPORTED, or
 *      an UNDEF the vectors count and skip), PSCI_FEATURES and
 *      SMCCC_ARCH_FEATURES of unknown ids (NOT_SUPPORTED), PSCI functions
 *      KVM does not implement (NOT_SUPPORTED), SYSTEM_RESET2 with a reserved
 *      reset type (INVALID_PARAMETERS; NOT_SUPPORTED below PSCI 1.1), and
 *      SMC #0 PSCI_VERSION (see below). Function ids carry garbage in bits
 *      63:32, which SMCCC says to ignore.
 *  (3) SUSPEND_ROUNDS times, all of them call SYSTEM_SUSPEND at once (SMC32
 *      or SMC64 id, wild entry points and context ids): each call must come
 *      back DENIED, or INVALID_ADDRESS if its entry point is outside RAM.
 * Then vCPUs 1.. call CPU_OFF; vCPU 0 waits for AFFINITY_INFO OFF, calls
 * SYSTEM_SUSPEND SOLO_CALLS times with entry points outside RAM
 * (INVALID_ADDRESS each), resets the UART, RTC and GPIO, checks their id
 * registers and a few read-backs, prints a "bad ..." line for the first
 * wrong answer each vCPU saw, a "stale ..." line for the first stale read
 * (and what the write just before it wrote), then
 *   hostile calls=N mmio=N bad=N cpu_on=N affinity=N suspend=N ... ms=N
 * arms the wake button and suspends. Restored (MMU off), it prints
 * "hostile resumed", checks an unmapped read and the id registers once
 * more, prints "hostile resumed ok" and powers off.
 *
 * What KVM answers (Linux 6.1 and 6.12, arch/arm64/kvm/handle_exit.c,
 * hypercalls.c, psci.c): the function id is W0; the HVC immediate is
 * ignored; ids nobody implements or enabled get NOT_SUPPORTED (-1). Before
 * Linux 6.4 every SMC from EL1 gets x0 = ~0 (-1); since then an SMC with a
 * non-zero immediate gets -1 and SMC #0 is an SMCCC call like HVC, PSCI
 * included: smc_psci counts the SMC #0 PSCI_VERSION calls answered as PSCI
 * (in the rig: none on 6.1, all on 6.12).
 * Without EL3 an SMC at EL1 may also be UNDEFINED before Armv8.3
 * (HCR_EL2.TSC traps it from then on): undef counts those. CPU_ON is never
 * aimed at a vCPU that is off: KVM does not check entry points, it would
 * start the vCPU at a wild one, to take aborts there for good and keep
 * every later SYSTEM_SUSPEND denied. */
#include "bm.h"

#define NCPUS           3
#define RAM_SIZE        (64 << 20)              /* the scenario's --memory */
#define RAM_END         (RAM_BASE + RAM_SIZE)
#define STORM_CALLS     1000                    /* per vCPU */
#define SUSPEND_ROUNDS  16
#define SOLO_CALLS      16
#define HWID_MASK       0xff00ffffff            /* MPIDR affinity fields */
#define UNDEF_MARK      0x756e646566            /* x0 after an UNDEFINED SMC */
#define SEED            0x9e3779b97f4a7c15

/* Shared variables. */
#define V_BARRIER       (BM_VARS + 0x00)        /* arrivals, all barriers */
#define V_PSCI_VERSION  (BM_VARS + 0x08)
#define V_RESET2_WANT   (BM_VARS + 0x10)        /* SYSTEM_RESET2's answer */
#define V_T0            (BM_VARS + 0x18)        /* CNTVCT: MMIO starts, */
#define V_T1            (BM_VARS + 0x20)        /* calls start, */
#define V_T2            (BM_VARS + 0x28)        /* calls done */
#define V_MPIDR         (BM_VARS + 0x40)        /* each vCPU's affinity */
#define V_STATS(cpu)    (BM_VARS + 0x100 + (cpu) * 0x100)
#define V_END           V_STATS(NCPUS)

/* A vCPU's counters and notes (at x27 and in TPIDR_EL1). */
#define S_CALLS         0x00    /* HVCs and SMCs made */
#define S_CPUON         0x08
#define S_AFF           0x10
#define S_SUSP          0x18    /* SYSTEM_SUSPEND calls that came back */
#define S_UNKNOWN       0x20    /* unknown ids through HVC */
#define S_SMC           0x28
#define S_UNDEF         0x30    /* SMCs that were UNDEFINED */
#define S_OTHER         0x38    /* features, versions, unimplemented, reset2 */
#define S_MMIO          0x40    /* MMIO accesses */
#define S_ZERO          0x48    /* reads of nothing seen to be 0 or not */
#define S_XING          0x50    /* accesses running past a device's end */
#define S_STALE         0x58    /* their reads that were not 0 */
#define S_BAD           0x60
#define S_SMCPSCI       0x68    /* SMC #0 PSCI_VERSION answered as PSCI */
#define S_BADWHAT       0x70    /* the first bad answer: a tag, */
#define S_BADGOT        0x78    /* what came back, */
#define S_BADARG        0x80    /* the argument or address */
#define S_STALEGOT      0x88    /* the first stale read: value, */
#define S_STALEARG      0x90    /* address | width << 56, */
#define S_STALEWROTE    0x98    /* what the write just before it wrote */

/* Identity map: L1 (1 GiB entries), L2 for the first GiB (2 MiB blocks). */
#define PT_L1           BM_FREE_RAM
#define PT_L2           (BM_FREE_RAM + 0x1000)
#define MAIR_VALUE      0x44ff00                /* 0 Device-nGnRnE, 1 WB, 2 NC */
#define TCR_VALUE       ((2 << 32) | (1 << 23) | 25)    /* 40-bit PA, no TTBR1, 39-bit VA */
#define BLK_RAM         0x705                   /* block, attr 1, inner shareable, AF */
#define BLK_NC          ((3 << 53) | 0x709)     /* block, attr 2, AF, never executable */
#define BLK_DEV         ((3 << 53) | 0x401)     /* block, attr 0, AF, never executable */

/* bump OFF: this vCPU's counter OFF + 1 (clobbers x9). */
	.macro	bump off
	ldr	x9, [x27, #\off]
	add	x9, x9, #1
	str	x9, [x27, #\off]
	.endm

/* hv [IMM], sm [IMM]: HVC/SMC #IMM, counted in S_CALLS (x0-x3 as set). */
	.macro	hv imm=0
	hvc	#\imm
	bump	S_CALLS
	.endm
	.macro	sm imm=0
	smc	#\imm
	bump	S_CALLS
	.endm

/* rnd REG: the next number of this vCPU's xorshift64 stream (x20). */
	.macro	rnd reg
	eor	x20, x20, x20, lsl #13
	eor	x20, x20, x20, lsr #7
	eor	x20, x20, x20, lsl #17
	mov	\reg, x20
	.endm

/* want TAG: a bad answer unless x0 == x28 (arg for the note: x21). */
	.macro	want tag
	cmp	x0, x28
	b.eq	.Lwant\@
	mov	x1, #\tag
	mov	x2, x21
	bl	bad_note
.Lwant\@:
	.endm

/* fn_variant REG, FN32, FN64: REG = FN32 or FN64 (by a random bit) with
 * random bits 63:32. */
	.macro	fn_variant reg, fn32, fn64
	rnd	\reg
	ldr	x9, =\fn32
	ldr	x10, =\fn64
	tst	\reg, #(1 << 7)
	csel	x9, x9, x10, eq
	and	\reg, \reg, #0xffffffff00000000
	orr	\reg, \reg, x9
	.endm

/* narrow REG, FNREG: REG's upper half cleared if FNREG is an SMC32 id. */
	.macro	narrow reg, fnreg
	tbnz	\fnreg, #30, .Lnarrow\@
	and	\reg, \reg, #0xffffffff
.Lnarrow\@:
	.endm

	.text
	.global	_start
_start:
	setup_cpu 0
	adr	x9, hv_vectors
	msr	vbar_el1, x9
	isb
	mov	x19, #0
	ldr	x1, =BM_VARS
	ldr	x2, =V_END
1:	str	xzr, [x1], #8
	cmp	x1, x2
	b.lo	1b
	bl	build_tables
	bl	cpu_init
	bl	fixed_checks

	mov	x21, #1
2:	ldr	x0, =PSCI_CPU_ON
	mov	x1, x21                         /* MPIDR Aff0 = index */
	adr	x2, secondary
	mov	x3, x21
	hv
	expect	x0, PSCI_SUCCESS, "CPU_ON"
	add	x21, x21, #1
	cmp	x21, #NCPUS
	b.lo	2b

	bl	work

	mov	x21, #1
3:	counter_deadline x22, 2000
4:	ldr	x0, =PSCI_AFFINITY_INFO
	mov	x1, x21
	mov	x2, #0
	hv
	cmp	x0, #AFF_OFF
	b.eq	5f
	isb
	mrs	x9, cntvct_el0
	cmp	x9, x22
	b.lo	4b
	printhex "cpu ", x21
	fail	"did not power off"
5:	add	x21, x21, #1
	cmp	x21, #NCPUS
	b.lo	3b

	bl	solo_suspends
	bl	devices_reset
	bl	summary
	bl	bm_arm_wake_button
	suspend_or_fail resumed

/* Restored: the vCPU was reset (MMU off), so aligned accesses only. */
resumed:
	resume_entry
	println	"hostile resumed"
	ldr	x1, =0x0a000000
	ldr	w0, [x1]
	expect	x0, 0, "unmapped read after restore"
	mov	w2, #0x5a
	str	w2, [x1]
	ldr	w0, [x1]
	expect	x0, 0, "unmapped read back after restore"
	ldr	x1, =(RTC_BASE + 0xfe0)
	ldr	w0, [x1]
	expect	x0, 0x31, "RTC PeriphID0 after restore"
	ldr	x1, =(GPIO_BASE + 0xfe0)
	ldr	w0, [x1]
	expect	x0, 0x61, "GPIO PeriphID0 after restore"
	ldr	x1, =(UART_BASE + UART_LSR)
	ldrb	w0, [x1]
	expect	x0, 0x60, "UART LSR after restore"
	println	"hostile resumed ok"
	b	bm_off

/* vCPU 1..: x0 = its index. */
secondary:
	mov	x19, x0
	cmp	x19, #NCPUS
	b.hs	9f
	ldr	x9, =BM_STACK_TOP(0)
	sub	x9, x9, x19, lsl #14
	mov	sp, x9
	mov	x9, #(3 << 20)
	msr	cpacr_el1, x9
	adr	x9, hv_vectors
	msr	vbar_el1, x9
	isb
	bl	cpu_init
	bl	work
	bump	S_CALLS
	ldr	x0, =PSCI_CPU_OFF
	hvc	#0
	fail	"CPU_OFF returned"
9:	fail	"secondary started with a bad context id"

/* build_tables: the identity map at PT_L1 (vCPU 0, MMU off): 0-2 GiB
 * Normal non-cacheable but the 2 MiB holding the GIC (Device), RAM's GiB
 * Normal write-back. */
build_tables:
	ldr	x1, =PT_L1
	mov	x2, #0
1:	str	xzr, [x1, x2, lsl #3]
	add	x2, x2, #1
	cmp	x2, #512
	b.lo	1b
	ldr	x3, =PT_L2
	orr	x4, x3, #3                      /* table */
	str	x4, [x1]
	ldr	x4, =(0x40000000 | BLK_NC)
	str	x4, [x1, #8]
	ldr	x4, =(RAM_BASE | BLK_RAM)
	str	x4, [x1, #16]
	mov	x2, #0
	ldr	x6, =GIC_DIST_BASE
2:	lsl	x4, x2, #21
	ldr	x5, =BLK_NC
	cmp	x4, x6
	b.ne	3f
	ldr	x5, =BLK_DEV
3:	orr	x4, x4, x5
	str	x4, [x3, x2, lsl #3]
	add	x2, x2, #1
	cmp	x2, #512
	b.lo	2b
	dsb	sy
	ret

/* cpu_init: for vCPU x19: MMU on, x27 and TPIDR_EL1 = its counters, x20 =
 * its random stream, x26 = 0 barriers passed, its affinity in V_MPIDR. */
cpu_init:
	ldr	x9, =MAIR_VALUE
	msr	mair_el1, x9
	ldr	x9, =TCR_VALUE
	msr	tcr_el1, x9
	ldr	x9, =PT_L1
	msr	ttbr0_el1, x9
	isb
	tlbi	vmalle1
	dsb	nsh
	isb
	mrs	x9, sctlr_el1
	orr	x9, x9, #(1 << 0)               /* M */
	orr	x9, x9, #(1 << 2)               /* C */
	orr	x9, x9, #(1 << 12)              /* I */
	bic	x9, x9, #(1 << 1)               /* A: unaligned accesses allowed */
	bic	x9, x9, #(1 << 19)              /* WXN */
	msr	sctlr_el1, x9
	isb
	ldr	x27, =V_STATS(0)
	add	x27, x27, x19, lsl #8
	msr	tpidr_el1, x27
	ldr	x9, =SEED
	add	x10, x19, #1
	mul	x20, x9, x10
	mrs	x9, mpidr_el1
	ldr	x10, =HWID_MASK
	and	x9, x9, x10
	ldr	x10, =V_MPIDR
	str	x9, [x10, x19, lsl #3]
	mov	x26, #0
	ret

/* fixed_checks (vCPU 0): PSCI 1.x, SYSTEM_SUSPEND offered (both ids),
 * MIGRATE_INFO_TYPE 2 (no trusted OS to migrate), SMCCC 1.x. */
fixed_checks:
	stp	x29, x30, [sp, #-16]!
	mov	x21, #0
	ldr	x0, =PSCI_VERSION
	hv
	bump	S_OTHER
	ldr	x1, =V_PSCI_VERSION
	str	x0, [x1]
	lsr	x1, x0, #16
	cmp	x1, #1
	b.eq	1f
	mov	x1, #'v'
	bl	bad_note
1:	ldr	x1, =V_PSCI_VERSION
	ldr	x0, [x1]
	mov	x2, #PSCI_NOT_SUPPORTED         /* RESET2 is PSCI 1.1 */
	mov	x3, #PSCI_INVALID_PARAMS
	ldr	x4, =0x10001
	cmp	x0, x4
	csel	x2, x3, x2, hs
	ldr	x1, =V_RESET2_WANT
	str	x2, [x1]

	.irp	fn, PSCI_SYSTEM_SUSPEND, PSCI_SYSTEM_SUSPEND32, PSCI_CPU_ON, SMCCC_VERSION
	ldr	x0, =PSCI_FEATURES
	ldr	x21, =\fn
	mov	x1, x21
	hv
	bump	S_OTHER
	mov	x28, #0
	want	'f'
	.endr

	ldr	x0, =PSCI_MIGRATE_INFO_TYPE
	hv
	bump	S_OTHER
	mov	x28, #2
	mov	x21, #0
	want	'm'

	ldr	x0, =SMCCC_VERSION
	hv
	bump	S_OTHER
	lsr	x1, x0, #16
	cmp	x1, #1
	b.eq	2f
	mov	x1, #'c'
	bl	bad_note
2:	ldp	x29, x30, [sp], #16
	ret

/* work: what every vCPU does, in step with the others: MMIO, calls,
 * SYSTEM_SUSPEND rounds. */
work:
	stp	x29, x30, [sp, #-16]!
	bl	barrier
	cbnz	x19, 1f
	mrs	x9, cntvct_el0
	ldr	x10, =V_T0
	str	x9, [x10]
1:	ldr	x28, =hostile_windows
2:	ldp	x0, x1, [x28]
	cbz	x1, 3f
	ldr	x2, [x28, #16]
	bl	hammer
	add	x28, x28, #24
	b	2b
3:	bl	barrier
	cbnz	x19, 4f
	mrs	x9, cntvct_el0
	ldr	x10, =V_T1
	str	x9, [x10]
4:	bl	storm
	mov	x24, #SUSPEND_ROUNDS
5:	bl	barrier
	bl	suspend_wild
	subs	x24, x24, #1
	b.ne	5b
	bl	barrier
	cbnz	x19, 6f
	mrs	x9, cntvct_el0
	ldr	x10, =V_T2
	str	x9, [x10]
6:	ldp	x29, x30, [sp], #16
	ret

/* barrier: returns once every vCPU has called it as often as this one (x26
 * counts); fails after 30 s. Clobbers x9-x12. */
barrier:
	add	x26, x26, #1
	ldr	x9, =V_BARRIER
	dmb	ish
1:	ldxr	x10, [x9]
	add	x10, x10, #1
	stxr	w11, x10, [x9]
	cbnz	w11, 1b
	dmb	ish
	sev
	mov	x10, #NCPUS
	mul	x10, x10, x26
	mrs	x11, cntfrq_el0
	mov	x12, #30
	mul	x11, x11, x12
	isb
	mrs	x12, cntvct_el0
	add	x11, x11, x12
2:	ldr	x12, [x9]
	cmp	x12, x10
	b.hs	3f
	wfe
	isb
	mrs	x12, cntvct_el0
	cmp	x12, x11
	b.lo	2b
	fail	"barrier: a vCPU did not arrive within 30 s"
3:	dmb	ish
	ret

/* hammer: x0 = base, x1 = size, x2 = 1 if nothing is there (reads must
 * give 0), 0 for a device. This vCPU's 8-byte blocks of the window, every
 * byte offset in them, widths 1, 2, 4, 8: a random write, a read back.
 * Single-register loads and stores without writeback only: the monitor
 * sees them (ISV); anything else would be a KVM_RUN error, not MMIO. */
	.macro	probe st, ld, rs, rd, width
	rnd	x0
	\st	\rs, [x16]
	\ld	\rd, [x16]
	mov	x2, #\width
	bl	seen
	.endm
hammer:
	stp	x29, x30, [sp, #-16]!
	mov	x21, x0
	mov	x22, x1
	mov	x23, x2
	lsl	x24, x19, #3
1:	cmp	x24, x22
	b.hs	9f
	mov	x25, #0
2:	add	x17, x24, x25                   /* offset in the window */
	add	x16, x21, x17                   /* address */
	probe	strb, ldrb, w0, w1, 1
	probe	strh, ldrh, w0, w1, 2
	probe	str, ldr, w0, w1, 4
	probe	str, ldr, x0, x1, 8
	add	x25, x25, #1
	cmp	x25, #8
	b.lo	2b
	add	x24, x24, #(8 * NCPUS)
	b	1b
9:	ldp	x29, x30, [sp], #16
	ret

/* seen: x1 = what a read of width x2 at x16 (offset x17 in a window of
 * size x22, kind x23) gave after a write of x0 there: counts both, checks
 * the read. */
seen:
	ldr	x9, [x27, #S_MMIO]
	add	x9, x9, #2
	str	x9, [x27, #S_MMIO]
	cbz	x23, 2f
	bump	S_ZERO
	cbz	x1, 9f
	mov	x0, x1
	mov	x1, #'z'
	orr	x2, x16, x2, lsl #56
	b	bad_note
2:	add	x9, x17, x2
	cmp	x9, x22
	b.ls	9f                              /* within the device */
	bump	S_XING
	cbz	x1, 9f
	ldr	x9, [x27, #S_STALE]
	add	x10, x9, #1
	str	x10, [x27, #S_STALE]
	cbnz	x9, 9f
	str	x1, [x27, #S_STALEGOT]
	str	x0, [x27, #S_STALEWROTE]
	orr	x2, x16, x2, lsl #56
	str	x2, [x27, #S_STALEARG]
9:	ret

/* bad_note: a wrong answer x0 (tag x1, argument x2): counted, and noted if
 * it is this vCPU's first. Clobbers x9, x10. */
bad_note:
	ldr	x9, [x27, #S_BAD]
	add	x10, x9, #1
	str	x10, [x27, #S_BAD]
	cbnz	x9, 1f
	str	x1, [x27, #S_BADWHAT]
	str	x0, [x27, #S_BADGOT]
	str	x2, [x27, #S_BADARG]
1:	ret

/* storm: STORM_CALLS random calls of the kinds below. */
storm:
	stp	x29, x30, [sp, #-16]!
	ldr	x25, =STORM_CALLS
1:	rnd	x0
	lsr	x0, x0, #61
	adr	x9, 2f
	add	x9, x9, x0, lsl #2
	blr	x9
	subs	x25, x25, #1
	b.ne	1b
	ldp	x29, x30, [sp], #16
	ret
2:	b	call_cpu_on
	b	call_affinity
	b	call_unknown
	b	call_unknown_imm
	b	call_smc
	b	call_features
	b	call_unimplemented
	b	call_cpu_on

/* wild_target: x0 = an MPIDR-ish value: anything, affinity bits naming no
 * vCPU, a vCPU's own, or one with bits 31:24, 63:40 or Aff3 set. */
wild_target:
	rnd	x1
	and	x1, x1, #7
	rnd	x0
	cmp	x1, #2
	b.lo	9f                              /* 0, 1: anything */
	ldr	x9, =HWID_MASK
	b.ne	1f
	and	x0, x0, x9                      /* 2: Aff1 bit 0 set, no vCPU */
	orr	x0, x0, #0x100
	ret
1:	mov	x2, #NCPUS
	udiv	x3, x0, x2
	msub	x3, x3, x2, x0
	ldr	x9, =V_MPIDR
	ldr	x3, [x9, x3, lsl #3]            /* a vCPU's affinity */
	cmp	x1, #5
	b.hs	2f
	mov	x0, x3                          /* 3, 4: that vCPU */
	ret
2:	b.ne	3f
	and	x0, x0, #0xff000000             /* 5: and bits 31:24 */
	orr	x0, x0, #0x01000000
	orr	x0, x0, x3
	ret
3:	cmp	x1, #6
	b.ne	4f
	orr	x0, x3, x0, lsl #40             /* 6: and bits 63:40 */
	orr	x0, x0, #(1 << 40)
	ret
4:	and	x0, x0, #0xff00000000           /* 7: and Aff3: no such vCPU */
	orr	x0, x0, #(1 << 32)
	orr	x0, x0, x3
9:	ret

/* wild_entry: x0 = an entry point: in RAM aligned or not, 0, ~0, below
 * RAM, just past it, anything, or `resumed` (a good one). */
wild_entry:
	rnd	x1
	and	x1, x1, #7
	rnd	x0
	cmp	x1, #2
	b.hs	1f
	and	x0, x0, #(RAM_SIZE - 1)         /* 0, 1: in RAM, */
	ldr	x9, =RAM_BASE
	add	x0, x0, x9
	and	x0, x0, #~3                     /* aligned */
	orr	x0, x0, x1                      /* or not */
	ret
1:	b.ne	2f
	mov	x0, #0                          /* 2 */
	ret
2:	cmp	x1, #4
	b.hs	3f
	mov	x0, #-1                         /* 3 */
	ret
3:	b.ne	4f
	and	x0, x0, #0x7fffffff             /* 4: below RAM */
	ret
4:	cmp	x1, #6
	b.hs	5f
	and	x0, x0, #0xfff                  /* 5: just past RAM */
	ldr	x9, =RAM_END
	add	x0, x0, x9
	ret
5:	b.eq	9f                              /* 6: anything */
	adr	x0, resumed                     /* 7 */
9:	ret

/* in_ram: x0 = 1 if the address x0 lies in RAM, else 0 (clobbers x9). */
in_ram:
	ldr	x9, =RAM_BASE
	sub	x0, x0, x9
	ldr	x9, =RAM_SIZE
	cmp	x0, x9
	cset	x0, lo
	ret

/* unknown_id: x0 = a function id nobody implements in W0 (owners 0, 4, 5
 * and 6 are KVM's: moved to reserved 32, 36-38), random bits 63:32. */
unknown_id:
	rnd	x0
	ubfx	x9, x0, #24, #6
	cbz	x9, 1f
	cmp	x9, #4
	b.lo	2f
	cmp	x9, #6
	b.hi	2f
1:	eor	x0, x0, #0x20000000
2:	ret

/* cpu_on_answer: x0 = target (as KVM sees it) -> x0 = what CPU_ON must
 * answer while every vCPU is on. */
cpu_on_answer:
	ldr	x9, =HWID_MASK
	bics	xzr, x0, x9
	b.ne	8f                              /* not an affinity value */
	ldr	x9, =V_MPIDR
	mov	x10, #0
1:	ldr	x11, [x9, x10, lsl #3]
	cmp	x11, x0
	b.eq	7f
	add	x10, x10, #1
	cmp	x10, #NCPUS
	b.lo	1b
8:	mov	x0, #PSCI_INVALID_PARAMS
	ret
7:	mov	x0, #PSCI_ALREADY_ON
	ret

/* affinity_answer: x0 = target, x1 = lowest level (as KVM sees them) ->
 * x0 = what AFFINITY_INFO must answer while every vCPU is on. */
affinity_answer:
	ldr	x9, =HWID_MASK
	bics	xzr, x0, x9
	b.ne	8f
	cmp	x1, #3
	b.hi	8f
	lsl	x10, x1, #3
	mov	x11, #1
	lsl	x11, x11, x10
	sub	x11, x11, #1
	bic	x9, x9, x11                     /* the fields compared */
	and	x0, x0, x9
	ldr	x10, =V_MPIDR
	mov	x12, #0
1:	ldr	x11, [x10, x12, lsl #3]
	and	x11, x11, x9
	cmp	x11, x0
	b.eq	7f
	add	x12, x12, #1
	cmp	x12, #NCPUS
	b.lo	1b
8:	mov	x0, #PSCI_INVALID_PARAMS
	ret
7:	mov	x0, #AFF_ON
	ret

/* The storm's calls: arguments in x21-x24, the wanted answer in x28. */
call_cpu_on:
	stp	x29, x30, [sp, #-16]!
	bl	wild_target
	mov	x21, x0
	bl	wild_entry
	mov	x22, x0
	rnd	x23
	fn_variant x24, PSCI_CPU_ON & 0xbfffffff, PSCI_CPU_ON
	mov	x0, x21
	narrow	x0, x24
	bl	cpu_on_answer
	mov	x28, x0
	mov	x0, x24
	mov	x1, x21
	mov	x2, x22
	mov	x3, x23
	hv
	bump	S_CPUON
	want	'o'
	ldp	x29, x30, [sp], #16
	ret

call_affinity:
	stp	x29, x30, [sp, #-16]!
	bl	wild_target
	mov	x21, x0
	rnd	x22
	tst	x22, #0xc0000000
	b.eq	1f                              /* a quarter: any level */
	and	x22, x22, #3
1:	fn_variant x24, PSCI_AFFINITY_INFO & 0xbfffffff, PSCI_AFFINITY_INFO
	mov	x0, x21
	mov	x1, x22
	narrow	x0, x24
	narrow	x1, x24
	bl	affinity_answer
	mov	x28, x0
	mov	x0, x24
	mov	x1, x21
	mov	x2, x22
	rnd	x3
	hv
	bump	S_AFF
	want	'a'
	ldp	x29, x30, [sp], #16
	ret

call_unknown:
	stp	x29, x30, [sp, #-16]!
	bl	unknown_id
	mov	x21, x0
	rnd	x1
	rnd	x2
	rnd	x3
	hv
	bump	S_UNKNOWN
	mov	x28, #SMCCC_NOT_SUPPORTED
	want	'u'
	ldp	x29, x30, [sp], #16
	ret

/* HVC #1, #0x4b56, #0x8000 or #0xffff: KVM ignores the immediate. */
call_unknown_imm:
	stp	x29, x30, [sp, #-16]!
	bl	unknown_id
	mov	x21, x0
	rnd	x1
	rnd	x2
	rnd	x3
	and	x9, x3, #3
	adr	x10, 1f
	add	x10, x10, x9, lsl #3
	br	x10
1:	hvc	#1
	b	2f
	hvc	#0x4b56
	b	2f
	hvc	#0x8000
	b	2f
	hvc	#0xffff
	b	2f
2:	bump	S_CALLS
	bump	S_UNKNOWN
	mov	x28, #SMCCC_NOT_SUPPORTED
	want	'h'
	ldp	x29, x30, [sp], #16
	ret

/* SMC #0, #1, #0x7fff or #0xffff with an unknown id: NOT_SUPPORTED or
 * UNDEFINED. One in eight: SMC #0 PSCI_VERSION, which is -1 (Linux < 6.4),
 * the PSCI version (>= 6.4) or UNDEFINED. */
call_smc:
	stp	x29, x30, [sp, #-16]!
	bl	unknown_id
	mov	x21, x0
	rnd	x1
	rnd	x2
	rnd	x3
	tst	x3, #0x70
	b.eq	3f
	and	x9, x3, #3
	adr	x10, 1f
	add	x10, x10, x9, lsl #3
	br	x10
1:	smc	#0
	b	2f
	smc	#1
	b	2f
	smc	#0x7fff
	b	2f
	smc	#0xffff
	b	2f
2:	bump	S_CALLS
	bump	S_SMC
	ldr	x9, =UNDEF_MARK
	cmp	x0, x9
	b.eq	9f
	mov	x28, #SMCCC_NOT_SUPPORTED
	want	's'
	b	9f
3:	ldr	x21, =PSCI_VERSION
	mov	x0, x21
	sm	0
	bump	S_SMC
	ldr	x9, =UNDEF_MARK
	cmp	x0, x9
	b.eq	9f
	cmn	x0, #1
	b.eq	9f
	ldr	x28, =V_PSCI_VERSION
	ldr	x28, [x28]
	want	'p'
	bump	S_SMCPSCI
9:	ldp	x29, x30, [sp], #16
	ret

/* PSCI_FEATURES or SMCCC_ARCH_FEATURES of an unknown id. */
call_features:
	stp	x29, x30, [sp, #-16]!
	bl	unknown_id
	mov	x21, x0
	fn_variant x0, PSCI_FEATURES, SMCCC_ARCH_FEATURES
	mov	x1, x21
	rnd	x2
	rnd	x3
	hv
	bump	S_OTHER
	mov	x28, #SMCCC_NOT_SUPPORTED
	want	'F'
	ldp	x29, x30, [sp], #16
	ret

/* A PSCI function KVM does not implement (random arguments), or one in
 * four: SYSTEM_RESET2 with a reserved reset type (1..0x7fffffff; 0 and
 * 0x80000000.. would reset). */
call_unimplemented:
	stp	x29, x30, [sp, #-16]!
	rnd	x0
	tst	x0, #0x300
	b.eq	1f
	and	x9, x0, #15
	adr	x10, unimplemented_fns
	ldrb	w9, [x10, x9]
	ldr	x10, =0xc4000000
	ldr	x11, =0x84000000
	tst	x0, #0x400
	csel	x10, x10, x11, eq
	orr	x21, x9, x10
	and	x0, x0, #0xffffffff00000000
	orr	x0, x0, x21
	rnd	x1
	rnd	x2
	rnd	x3
	mov	x28, #PSCI_NOT_SUPPORTED
	b	2f
1:	fn_variant x0, PSCI_SYSTEM_RESET2, PSCI_SYSTEM_RESET2 | 0x40000000
	rnd	x1
	and	x1, x1, #0x7fffffff
	orr	x1, x1, #1
	mov	x21, x1
	rnd	x2
	ldr	x28, =V_RESET2_WANT
	ldr	x28, [x28]
2:	hv
	bump	S_OTHER
	want	'r'
	ldp	x29, x30, [sp], #16
	ret

/* suspend_wild: SYSTEM_SUSPEND with a wild entry point while the others
 * are on: DENIED, or INVALID_ADDRESS for an entry outside RAM. */
suspend_wild:
	stp	x29, x30, [sp, #-16]!
	bl	wild_entry
	mov	x21, x0
	rnd	x22
	fn_variant x23, PSCI_SYSTEM_SUSPEND32, PSCI_SYSTEM_SUSPEND
	mov	x0, x21
	narrow	x0, x23
	bl	in_ram
	mov	x25, x0
	mov	x0, x23
	mov	x1, x21
	mov	x2, x22
	rnd	x3
	hv
	bump	S_SUSP
	cmn	x0, #3                          /* DENIED */
	b.eq	9f
	cbnz	x25, 1f
	cmn	x0, #9                          /* INVALID_ADDRESS */
	b.eq	9f
1:	mov	x1, #'S'
	mov	x2, x21
	bl	bad_note
9:	ldp	x29, x30, [sp], #16
	ret

/* solo_suspends (vCPU 0, the others off): SYSTEM_SUSPEND with entry points
 * outside RAM: INVALID_ADDRESS each. */
solo_suspends:
	stp	x29, x30, [sp, #-16]!
	mov	x24, #SOLO_CALLS
1:	bl	wild_entry
	mov	x21, x0
	fn_variant x23, PSCI_SYSTEM_SUSPEND32, PSCI_SYSTEM_SUSPEND
	mov	x0, x21
	narrow	x0, x23
	bl	in_ram
	cbz	x0, 2f
	eor	x21, x21, #0x40000000           /* in RAM: out of it */
2:	mov	x0, x23
	mov	x1, x21
	rnd	x2
	rnd	x3
	hv
	bump	S_SUSP
	mov	x28, #PSCI_INVALID_ADDRESS
	want	'I'
	subs	x24, x24, #1
	b.ne	1b
	ldp	x29, x30, [sp], #16
	ret

/* devices_reset (vCPU 0): the UART, RTC and GPIO back to a sane state, with
 * read-backs; their PrimeCell/peripheral id registers intact. */
	.macro	w8 addr, val
	ldr	x1, =\addr
	mov	w0, #\val
	strb	w0, [x1]
	bump	S_MMIO
	.endm
	.macro	w32 addr, val
	ldr	x1, =\addr
	mov	w0, #\val
	str	w0, [x1]
	bump	S_MMIO
	.endm
/* r8/r32 ADDR, WANT: a read of the register at ADDR must give WANT. */
	.macro	r8 addr, val
	ldr	x21, =\addr
	ldrb	w0, [x21]
	mov	x28, #\val
	bump	S_MMIO
	want	'd'
	.endm
	.macro	r32 addr, val
	ldr	x21, =\addr
	ldr	w0, [x21]
	mov	x28, #\val
	bump	S_MMIO
	want	'd'
	.endm
devices_reset:
	stp	x29, x30, [sp, #-16]!
	w8	(UART_BASE + 3), 0x03           /* LCR: 8N1, DLAB off */
	w8	(UART_BASE + 1), 0x00           /* IER */
	w8	(UART_BASE + 2), 0x07           /* FCR: FIFO on, both cleared */
	w8	(UART_BASE + 4), 0x03           /* MCR: DTR, RTS, no loopback */
	r8	(UART_BASE + 3), 0x03
	r8	(UART_BASE + 4), 0x03
	r8	(UART_BASE + 1), 0x00
	r8	(UART_BASE + 2), 0xc1           /* IIR: FIFOs, nothing pending */
	ldr	x1, =(UART_BASE + UART_LSR)     /* clears errors the storm left */
	ldrb	w0, [x1]
	bump	S_MMIO
	r8	(UART_BASE + UART_LSR), 0x60    /* THRE, TEMT, no data */
	w32	(RTC_BASE + 0x10), 0            /* IMSC */
	w32	(RTC_BASE + 0x1c), 1            /* ICR */
	r32	(RTC_BASE + 0x10), 0
	r32	(RTC_BASE + 0x18), 0            /* MIS */
	r32	(RTC_BASE + 0x0c), 1            /* CR: started */
	w32	(GPIO_BASE + GPIO_IE), 0
	w32	(GPIO_BASE + 0x400), 0          /* DIR: all inputs */
	w32	(GPIO_BASE + GPIO_IS), 0
	w32	(GPIO_BASE + GPIO_IBE), 0
	w32	(GPIO_BASE + GPIO_IEV), 0
	w32	(GPIO_BASE + 0x420), 0          /* AFSEL */
	w32	(GPIO_BASE + 0x3fc), 0          /* DATA, all lines */
	w32	(GPIO_BASE + GPIO_IC), 0xff
	r32	(GPIO_BASE + 0x400), 0
	r32	(GPIO_BASE + GPIO_IE), 0
	r32	(GPIO_BASE + 0x414), 0          /* RIS */
	r32	(GPIO_BASE + 0x418), 0          /* MIS */
	ldr	x0, =(RTC_BASE + 0xfe0)
	adr	x1, rtc_ids
	bl	check_ids
	ldr	x0, =(GPIO_BASE + 0xfe0)
	adr	x1, gpio_ids
	bl	check_ids
	ldp	x29, x30, [sp], #16
	ret

/* check_ids: the 8 id registers at x0 (4-byte reads) hold the bytes at x1. */
check_ids:
	stp	x29, x30, [sp, #-16]!
	mov	x21, x0
	mov	x22, x1
	mov	x23, #8
1:	ldr	w0, [x21]
	bump	S_MMIO
	ldrb	w28, [x22], #1
	want	'i'
	add	x21, x21, #4
	subs	x23, x23, #1
	b.ne	1b
	ldp	x29, x30, [sp], #16
	ret

/* sum: x0 = counter offset -> x0 = its sum over the vCPUs (x1-x3). */
sum:
	ldr	x1, =V_STATS(0)
	add	x1, x1, x0
	mov	x0, #0
	mov	x2, #NCPUS
1:	ldr	x3, [x1]
	add	x1, x1, #0x100
	add	x0, x0, x3
	subs	x2, x2, #1
	b.ne	1b
	ret

/* putdec: x0 in decimal (clobbers x0-x3, x9, x10, x16, x17). */
putdec:
	mov	x17, x30
	sub	sp, sp, #32
	add	x2, sp, #32
	mov	x3, #10
1:	udiv	x16, x0, x3
	msub	x1, x16, x3, x0
	add	x1, x1, #'0'
	strb	w1, [x2, #-1]!
	mov	x0, x16
	cbnz	x0, 1b
2:	ldrb	w0, [x2], #1
	bl	bm_putc
	add	x16, sp, #32
	cmp	x2, x16
	b.lo	2b
	add	sp, sp, #32
	ret	x17

/* ticks_ms: x0 = counter ticks -> milliseconds. */
ticks_ms:
	mov	x1, #1000
	mul	x0, x0, x1
	mrs	x1, cntfrq_el0
	udiv	x0, x0, x1
	ret

/* field " name=", OFF: prints the name and the counter's sum. */
	.macro	field name, off
	print	"\name"
	mov	x0, #\off
	bl	sum
	bl	putdec
	.endm

/* summary (vCPU 0): the bad and stale notes, then the one summary line. */
summary:
	stp	x29, x30, [sp, #-16]!
	mov	x0, #'\n'                       /* after whatever the UART got */
	bl	bm_putc
	mov	x21, #0
1:	ldr	x22, =V_STATS(0)
	add	x22, x22, x21, lsl #8
	ldr	x0, [x22, #S_BAD]
	cbz	x0, 2f
	print	"bad cpu="
	mov	x0, x21
	bl	putdec
	print	" what="
	ldr	x0, [x22, #S_BADWHAT]
	bl	bm_putc
	print	" got="
	ldr	x0, [x22, #S_BADGOT]
	bl	bm_puthex
	print	" arg="
	ldr	x0, [x22, #S_BADARG]
	bl	bm_puthex
	mov	x0, #'\n'
	bl	bm_putc
2:	ldr	x0, [x22, #S_STALE]
	cbz	x0, 3f
	print	"stale cpu="
	mov	x0, x21
	bl	putdec
	print	" got="
	ldr	x0, [x22, #S_STALEGOT]
	bl	bm_puthex
	print	" at="
	ldr	x0, [x22, #S_STALEARG]
	bl	bm_puthex
	print	" after writing "
	ldr	x0, [x22, #S_STALEWROTE]
	bl	bm_puthex
	mov	x0, #'\n'
	bl	bm_putc
3:	add	x21, x21, #1
	cmp	x21, #NCPUS
	b.lo	1b

	field	"hostile calls=", S_CALLS
	field	" mmio=", S_MMIO
	field	" bad=", S_BAD
	field	" cpu_on=", S_CPUON
	field	" affinity=", S_AFF
	field	" suspend=", S_SUSP
	field	" unknown=", S_UNKNOWN
	field	" smc=", S_SMC
	field	" undef=", S_UNDEF
	field	" smc_psci=", S_SMCPSCI
	field	" other=", S_OTHER
	field	" zero=", S_ZERO
	field	" crossing=", S_XING
	field	" stale=", S_STALE
	print	" mmio_ms="
	ldr	x1, =V_T0
	ldp	x2, x3, [x1]                    /* T0, T1 */
	sub	x0, x3, x2
	bl	ticks_ms
	bl	putdec
	print	" calls_ms="
	ldr	x1, =V_T1
	ldp	x2, x3, [x1]                    /* T1, T2 */
	sub	x0, x3, x2
	bl	ticks_ms
	bl	putdec
	mov	x0, #'\n'
	bl	bm_putc
	ldp	x29, x30, [sp], #16
	ret

/* Exceptions: an UNDEFINED SMC is counted and skipped (x0 = UNDEF_MARK);
 * IRQs as in bm.h; anything else is a failure. */
hv_sync:
	stp	x9, x10, [sp, #-32]!
	str	x11, [sp, #16]
	mrs	x9, esr_el1
	lsr	x10, x9, #26
	cbnz	x10, 9f                         /* EC 0: unknown reason */
	mrs	x9, elr_el1
	ldr	w10, [x9]
	and	w10, w10, #0xffe0001f
	ldr	w11, =0xd4000003                /* SMC #imm */
	cmp	w10, w11
	b.ne	9f
	add	x9, x9, #4
	msr	elr_el1, x9
	mrs	x9, tpidr_el1
	ldr	x10, [x9, #S_UNDEF]
	add	x10, x10, #1
	str	x10, [x9, #S_UNDEF]
	ldr	x0, =UNDEF_MARK
	ldr	x11, [sp, #16]
	ldp	x9, x10, [sp], #32
	eret
9:	ldr	x11, [sp, #16]
	ldp	x9, x10, [sp], #32
	mov	x0, #4
	b	bm_bad_exception

	.balign	2048
hv_vectors:
	.irp	n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	.balign	128
	.if	\n == 4                 /* synchronous, current EL with SP_ELx */
	b	hv_sync
	.elseif	\n == 5                 /* IRQ, current EL with SP_ELx */
	b	bm_irq
	.else
	mov	x0, #\n
	b	bm_bad_exception
	.endif
	.endr

	.pushsection .rodata
	.balign	8
/* base, size, 1 if nothing is there (reads must be 0) */
hostile_windows:
	.quad	UART_BASE, UART_SIZE, 0
	.quad	RTC_BASE, RTC_SIZE, 0
	.quad	GPIO_BASE, GPIO_SIZE, 0
	.quad	0x00000000, 0x100, 1
	.quad	0x00001000, 0x100, 1
	.quad	UART_BASE + UART_SIZE, 0x100, 1
	.quad	RTC_BASE - 0x200, 0x100, 1
	.quad	RTC_BASE + RTC_SIZE, 0x100, 1
	.quad	0x09020000, 0x100, 1
	.quad	GPIO_BASE + GPIO_SIZE, 0x100, 1
	.quad	0x0a000000, 0x200, 1
	.quad	0x3fffff00, 0x80, 1
	.quad	0x7ffffe00, 0x100, 1
	.quad	RAM_END, 0x100, 1
	.quad	0, 0, 0
/* PSCI function numbers KVM does not implement (DEN0022: MIGRATE,
 * MIGRATE_INFO_UP_CPU, CPU_FREEZE, CPU_DEFAULT_SUSPEND, NODE_HW_STATE,
 * SET_SUSPEND_MODE, STAT_RESIDENCY, STAT_COUNT, MEM_PROTECT,
 * MEM_PROTECT_CHECK_RANGE; 0x16.. reserved). */
unimplemented_fns:
	.byte	0x05, 0x07, 0x0b, 0x0c, 0x0d, 0x0f, 0x10, 0x11
	.byte	0x13, 0x14, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1f
rtc_ids:
	.byte	0x31, 0x10, 0x04, 0x00, 0x0d, 0xf0, 0x05, 0xb1
gpio_ids:
	.byte	0x61, 0x10, 0x04, 0x00, 0x0d, 0xf0, 0x05, 0xb1
	.popsection

	bm_library
