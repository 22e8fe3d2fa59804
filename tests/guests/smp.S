/* smp.S - secondaries powered off across a checkpoint (scenario baremetal-smp).
 *
 * NCPUS vCPUs (--cpus 4). vCPU 0 starts each secondary with PSCI CPU_ON
 * (context = its index); the secondary checks its MPIDR, gives PPI 23 in its
 * own redistributor a priority of its own (PRIO(cpu)) and enables PPI
 * 16 + cpu there, writes its marker and calls CPU_OFF. vCPU 0 does the same
 * for itself, waits for every marker and for AFFINITY_INFO to say OFF, then
 * suspends.
 *
 * After restore vCPU 0 checks every redistributor (each vCPU's state must
 * come back in its own frame), starts each secondary again (context =
 * index | ROUND2); the secondary checks its own redistributor, writes its
 * second marker (or a bad one) and calls CPU_OFF. vCPU 0 prints "cpu N back"
 * for each and "smp ok".
 *
 * Then the suspend moves to vCPU 1: vCPU 0 starts it at `handoff` and calls
 * CPU_OFF; vCPU 1 waits for AFFINITY_INFO(0) OFF and suspends (entry
 * `resumed1`). Restored, vCPU 1 checks its context id and MPIDR, prints
 * "cpu 1 resumed", starts vCPU 0 at `final0`, which prints "cpu 0 back" and
 * powers off. */
#include "bm.h"

#define NCPUS           4
#define ROUND2          0x100
#define MARK1           0x6d61726b31000000      /* "mark1" + cpu */
#define MARK2           0x6d61726b32000000
#define MARK_BAD        0xbad0000000000000
#define PPI_TEST        23
#define PRIO(cpu)       (0x10 * ((cpu) + 1))
#define V_MARKS         (BM_VARS + 0)           /* NCPUS markers */

	.text
	.global	_start
_start:
	setup_cpu 0
	mov	x0, #0
	bl	redist_program

	mov	x19, #0                         /* round 1 */
	bl	start_secondaries
	println	"secondaries off"

	suspend_or_fail resumed

resumed:
	resume_entry
	/* Every vCPU's redistributor as its owner left it. */
	mov	x20, #0
1:	mov	x0, x20
	bl	redist_check
	cbz	x0, 2f
	printhex "redistributor of cpu ", x20
	fail	"redistributor state not restored in its own frame"
2:	add	x20, x20, #1
	cmp	x20, #NCPUS
	b.lo	1b

	mov	x19, #ROUND2
	bl	start_secondaries
	println	"smp ok"

	ldr	x0, =PSCI_CPU_ON
	mov	x1, #1
	adr	x2, handoff
	mov	x3, #0
	hvc	#0
	expect	x0, PSCI_SUCCESS, "CPU_ON for the handoff"
	ldr	x0, =PSCI_CPU_OFF
	hvc	#0
	fail	"CPU_OFF returned on vCPU 0"

/* vCPU 1 takes over: suspends once vCPU 0 is off. */
handoff:
	setup_cpu 1
	counter_deadline x21, 2000
1:	ldr	x0, =PSCI_AFFINITY_INFO
	mov	x1, #0
	mov	x2, #0
	hvc	#0
	cmp	x0, #AFF_OFF
	b.eq	2f
	isb
	mrs	x9, cntvct_el0
	cmp	x9, x21
	b.lo	1b
	fail	"vCPU 0 did not power off"
2:	suspend_or_fail resumed1

resumed1:
	resume_entry 1
	mrs	x20, mpidr_el1
	and	x20, x20, #0xff
	expect	x20, 1, "MPIDR at the entry: not vCPU 1"
	println	"cpu 1 resumed"
	ldr	x0, =PSCI_CPU_ON
	mov	x1, #0
	adr	x2, final0
	mov	x3, #0
	hvc	#0
	expect	x0, PSCI_SUCCESS, "CPU_ON for vCPU 0"
1:	wfi
	b	1b

final0:
	setup_cpu 0
	println	"cpu 0 back"
	b	bm_off

/* start_secondaries: CPU_ON for vCPUs 1..NCPUS-1 with context = index | x19,
 * then waits (2 s each) for each one's marker (MARK1 or MARK2 + index, by
 * x19) and for AFFINITY_INFO OFF; prints "cpu N back" in round 2. */
start_secondaries:
	mov	x28, x30
	ldr	x1, =V_MARKS
	stp	xzr, xzr, [x1]
	stp	xzr, xzr, [x1, #16]
	dsb	sy
	mov	x20, #1
1:	ldr	x0, =PSCI_CPU_ON
	mov	x1, x20                         /* MPIDR Aff0 = index */
	adr	x2, secondary
	orr	x3, x20, x19
	hvc	#0
	cbz	x0, 2f
	printhex "cpu ", x20
	printhex "CPU_ON returned ", x0
	fail	"CPU_ON"
2:	add	x20, x20, #1
	cmp	x20, #NCPUS
	b.lo	1b

	mov	x20, #1
3:	counter_deadline x21, 2000
	ldr	x22, =MARK1
	ldr	x9, =MARK2
	cmp	x19, #0
	csel	x22, x22, x9, eq
	orr	x22, x22, x20                   /* the marker we want */
	ldr	x23, =V_MARKS
4:	ldr	x24, [x23, x20, lsl #3]
	cmp	x24, x22
	b.eq	5f
	isb
	mrs	x9, cntvct_el0
	cmp	x9, x21
	b.lo	4b
	printhex "cpu ", x20
	printhex "marker ", x24
	fail	"secondary did not report"
5:	ldr	x0, =PSCI_AFFINITY_INFO
	mov	x1, x20
	mov	x2, #0
	hvc	#0
	cmp	x0, #AFF_OFF
	b.eq	6f
	isb
	mrs	x9, cntvct_el0
	cmp	x9, x21
	b.lo	5b
	printhex "cpu ", x20
	printhex "AFFINITY_INFO ", x0
	fail	"secondary did not power off"
6:	cbz	x19, 7f
	mov	x0, #'0'
	add	x24, x0, x20
	print	"cpu "
	mov	x0, x24
	bl	bm_putc
	println	" back"
7:	add	x20, x20, #1
	cmp	x20, #NCPUS
	b.lo	3b
	mov	x30, x28
	ret

/* A secondary: x0 = index | round flag. */
secondary:
	and	x19, x0, #0xff
	and	x20, x0, #ROUND2
	ldr	x9, =BM_STACK_TOP(0)
	sub	x9, x9, x19, lsl #14
	mov	sp, x9
	adr	x9, bm_vectors
	msr	vbar_el1, x9
	isb
	ldr	x21, =MARK_BAD
	mrs	x9, mpidr_el1
	and	x9, x9, #0xff
	cmp	x9, x19
	b.ne	9f
	mov	x0, x19
	cbnz	x20, 1f
	bl	redist_program
	ldr	x21, =MARK1
	b	9f
1:	bl	redist_check
	cbnz	x0, 9f
	ldr	x21, =MARK2
9:	orr	x21, x21, x19
	ldr	x9, =V_MARKS
	str	x21, [x9, x19, lsl #3]
	dsb	sy
	ldr	x0, =PSCI_CPU_OFF
	hvc	#0
	b	bm_off                          /* CPU_OFF returned */

/* redist_program: bm_gic_init for vCPU x0 (which runs it), then in its
 * redistributor PPI 23 priority PRIO(x0) and PPI 16 + x0 enabled.
 * Clobbers x9-x11, x15. */
redist_program:
	mov	x15, x30
	bl	bm_gic_init
	mov	x30, x15
	ldr	x9, =(GICR_BASE(0) + GICR_SGI)
	add	x9, x9, x0, lsl #17             /* GIC_REDIST_STRIDE */
	add	x10, x0, #1
	lsl	x10, x10, #4
	strb	w10, [x9, #(GICD_IPRIORITYR + PPI_TEST)]
	add	x11, x0, #16
	mov	x10, #1
	lsl	x10, x10, x11
	str	w10, [x9, #GICD_ISENABLER]
	ret

/* redist_check: x0 = 0 if vCPU x0's redistributor holds what
 * redist_program wrote (priority, exactly that one PPI enabled), else 1. */
redist_check:
	ldr	x9, =GICR_BASE(0)
	add	x9, x9, x0, lsl #17
	add	x9, x9, #GICR_SGI
	ldrb	w10, [x9, #(GICD_IPRIORITYR + PPI_TEST)]
	add	x11, x0, #1
	lsl	x11, x11, #4
	cmp	x10, x11
	b.ne	1f
	ldr	w10, [x9, #GICD_ISENABLER]
	and	w10, w10, #0xffff0000           /* PPIs */
	add	x11, x0, #16
	mov	x12, #1
	lsl	x11, x12, x11
	cmp	x10, x11
	b.ne	1f
	mov	x0, #0
	ret
1:	mov	x0, #1
	ret

	bm_library
