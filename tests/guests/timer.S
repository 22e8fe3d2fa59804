/* timer.S - the virtual timer and counter across a checkpoint (scenario
 * baremetal-timer).
 *
 * One vCPU. Enables PPI 27 (virtual timer: group 1, priority 0x80) and the
 * CPU interface, arms CNTV (CVAL = now + 1.5 s, ENABLE, unmasked) with IRQs
 * masked in PSTATE, prints "freq=", "t0=" (CNTVCT just before the call) and
 * "deadline=", and suspends with the SMC32 call, garbage in the upper halves
 * of x1 (entry) and x2 (context id): only their low 32 bits count. It arms
 * no other wake source: only the timer can wake it.
 *
 * It also prints "pv=", CNTPCT - CNTVCT read back to back: on hosts whose
 * KVM restores the physical counter (Linux >= 6.4) the restored guest must
 * see the same difference whatever --clock says.
 *
 * At its entry after restore it prints "now=" (CNTVCT) and "pv=", and fails unless
 * now >= deadline; then, with CVAL = deadline and the timer enabled, ISTATUS
 * must be set and PPI 27 must be taken; "timer ok", power off. */
#include "bm.h"

#define PRIO_TIMER      0x80
#define V_T0            (BM_VARS + 0)
#define V_DEADLINE      (BM_VARS + 8)

	.text
	.global	_start
_start:
	setup_cpu 0
	bl	gic_setup
	mrs	x1, cntfrq_el0
	printhex "freq=", x1

	counter_deadline x20, 1500
	msr	cntv_cval_el0, x20
	mov	x1, #1                          /* ENABLE, not IMASK */
	msr	cntv_ctl_el0, x1
	isb
	ldr	x1, =V_DEADLINE
	str	x20, [x1]
	printhex "deadline=", x20
	isb
	mrs	x21, cntvct_el0
	mrs	x22, cntpct_el0
	ldr	x1, =V_T0
	str	x21, [x1]
	printhex "t0=", x21
	sub	x22, x22, x21
	printhex "pv=", x22

	adr	x1, resumed
	printhex "entry=", x1
	ldr	x0, =PSCI_SYSTEM_SUSPEND32
	adr	x1, resumed
	ldr	x9, =0xdead000000000000
	orr	x1, x1, x9
	ldr	x2, =(0xbeef000000000000 | BM_CONTEXT_ID)
	hvc	#0
	printhex "FAIL suspend returned ", x0
	b	bm_off

resumed:
	isb
	mrs	x20, cntvct_el0
	mrs	x22, cntpct_el0
	resume_entry
	printhex "now=", x20
	sub	x22, x22, x20
	printhex "pv=", x22
	ldr	x1, =V_DEADLINE
	ldr	x21, [x1]
	cmp	x20, x21
	b.hs	1f
	fail	"woke before the timer's deadline"
1:	mrs	x1, cntv_cval_el0
	printhex "cval=", x1
	/* The timer condition holds: ISTATUS with CVAL = the deadline. */
	msr	cntv_cval_el0, x21
	mov	x1, #1
	msr	cntv_ctl_el0, x1
	isb
	mrs	x1, cntv_ctl_el0
	tbnz	x1, #2, 2f
	printhex "cntv_ctl=", x1
	fail	"timer condition (ISTATUS) not met after the deadline"
2:	bl	gic_setup                       /* idempotent; the wakeup reset the vCPU */
	mov	x0, #1
	bl	bm_wait_irqs
	cmp	x0, #1
	b.hs	3f
	fail	"virtual timer interrupt (PPI 27) not taken"
3:	ldr	x1, =BM_IRQ_LOG
	ldr	x2, [x1]
	expect	x2, TIMER_PPI_VIRT, "the interrupt taken is not PPI 27"
	println	"timer ok"
	b	bm_off

/* gic_setup: bm_gic_init for vCPU 0, PPI 27 with priority PRIO_TIMER and
 * enabled. */
gic_setup:
	mov	x15, x30
	mov	x0, #0
	bl	bm_gic_init
	ldr	x1, =(GICR_BASE(0) + GICR_SGI)
	mov	w2, #PRIO_TIMER
	strb	w2, [x1, #(GICD_IPRIORITYR + TIMER_PPI_VIRT)]
	mov	w2, #(1 << TIMER_PPI_VIRT)
	str	w2, [x1, #GICD_ISENABLER]
	ret	x15

	bm_library
