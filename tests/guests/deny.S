/* deny.S - SYSTEM_SUSPEND calls torpor must refuse (scenario baremetal-deny).
 *
 * Two vCPUs, 64 MiB. vCPU 0 starts vCPU 1, which spins until told to stop.
 *  (a) SYSTEM_SUSPEND with a valid entry while vCPU 1 runs: DENIED (-3).
 *  (a2) vCPU 0 and vCPU 1 call SYSTEM_SUSPEND at the same moment: each
 *      sees the other on, so both calls return DENIED (neither may come
 *      back with its function id still in x0, unanswered).
 *  Then vCPU 1 calls CPU_OFF and vCPU 0 waits for AFFINITY_INFO OFF.
 *  (b) entry points outside RAM: 0x1000 (SMC64), the first byte past RAM
 *      (SMC64), 0x1000 in an SMC32 call whose x1 has garbage in its upper
 *      half: INVALID_ADDRESS (-9) each.
 *  (c) only if the kernel command line (bootargs in the device tree at x0)
 *      holds "bm-mode=expect-denied": a valid call, all secondaries off,
 *      which the monitor must still deny (no --image, or --on-suspend deny).
 * Prints "a denied", "b invalid address", ("c denied"), "deny ok" and powers
 * off; any other answer is a FAIL line (an honoured call ends the run with
 * an image instead). */
#include "bm.h"

#define RAM_END         (RAM_BASE + (64 << 20))
#define V_ALIVE         (BM_VARS + 0)
#define V_STOP          (BM_VARS + 8)
#define V_GO            (BM_VARS + 16)  /* vCPU 1: call SYSTEM_SUSPEND now */
#define V_RES1          (BM_VARS + 24)  /* ... and its x0 */
#define V_DONE1         (BM_VARS + 32)
#define FDT_MAGIC       0xd00dfeed

	.text
	.global	_start
_start:
	mov	x19, x0
	setup_cpu 0
	bl	find_mode                       /* x27 = 1: do (c) */

	ldr	x0, =PSCI_CPU_ON
	mov	x1, #1
	adr	x2, secondary
	mov	x3, #1
	hvc	#0
	expect	x0, PSCI_SUCCESS, "CPU_ON"
	wait_nonzero V_ALIVE, 2000, "vCPU 1 did not start"

	/* (a) */
	suspend_call PSCI_SYSTEM_SUSPEND, resumed
	expect	x0, PSCI_DENIED, "(a) SYSTEM_SUSPEND with vCPU 1 running"
	println	"a denied"

	/* (a2) */
	ldr	x1, =V_GO
	mov	x2, #1
	str	x2, [x1]
	dsb	sy
	suspend_call PSCI_SYSTEM_SUSPEND, resumed
	expect	x0, PSCI_DENIED, "(a2) SYSTEM_SUSPEND on vCPU 0 racing vCPU 1's"
	wait_nonzero V_DONE1, 2000, "vCPU 1's SYSTEM_SUSPEND did not return"
	ldr	x1, =V_RES1
	ldr	x3, [x1]
	expect	x3, PSCI_DENIED, "(a2) SYSTEM_SUSPEND on vCPU 1 racing vCPU 0's"
	println	"a2 both denied"

	ldr	x1, =V_STOP
	mov	x2, #1
	str	x2, [x1]
	dsb	sy
	counter_deadline x21, 2000
3:	ldr	x0, =PSCI_AFFINITY_INFO
	mov	x1, #1
	mov	x2, #0
	hvc	#0
	cmp	x0, #AFF_OFF
	b.eq	4f
	isb
	mrs	x9, cntvct_el0
	cmp	x9, x21
	b.lo	3b
	fail	"vCPU 1 did not power off"

	/* (b) */
4:	suspend_call PSCI_SYSTEM_SUSPEND, 0x1000
	expect	x0, PSCI_INVALID_ADDRESS, "(b) entry 0x1000"
	suspend_call PSCI_SYSTEM_SUSPEND, RAM_END
	expect	x0, PSCI_INVALID_ADDRESS, "(b) entry just past RAM"
	/* SMC32: only the low half, 0x1000, counts */
	suspend_call PSCI_SYSTEM_SUSPEND32, 0x8000000000001000
	expect	x0, PSCI_INVALID_ADDRESS, "(b) SMC32 entry 0x1000"
	println	"b invalid address"

	/* (c) */
	cbz	x27, 5f
	suspend_call PSCI_SYSTEM_SUSPEND, resumed
	expect	x0, PSCI_DENIED, "(c) valid SYSTEM_SUSPEND without an image"
	println	"c denied"
5:	println	"deny ok"
	b	bm_off

resumed:
	setup_cpu 0
	fail	"resumed at the entry point: a suspend was honoured"

/* vCPU 1: reports, spins until V_STOP, powers itself off; on V_GO it
 * calls SYSTEM_SUSPEND once and leaves its x0 in V_RES1. */
secondary:
	ldr	x9, =V_ALIVE
	mov	x10, #1
	str	x10, [x9]
	dsb	sy
1:	ldr	x9, =V_GO
	ldr	x10, [x9]
	cbnz	x10, 2f
	ldr	x9, =V_STOP
	ldr	x10, [x9]
	cbz	x10, 1b
	ldr	x0, =PSCI_CPU_OFF
	hvc	#0
	b	bm_off
2:	str	xzr, [x9]
	suspend_call PSCI_SYSTEM_SUSPEND, resumed
	ldr	x9, =V_RES1
	str	x0, [x9]
	ldr	x9, =V_DONE1
	mov	x10, #1
	str	x10, [x9]
	dsb	sy
	b	1b

/* find_mode: x27 = 1 if the device tree at x19 contains mode_c. */
find_mode:
	mov	x27, #0
	ldr	w1, [x19]
	rev	w1, w1
	ldr	w2, =FDT_MAGIC
	cmp	w1, w2
	b.eq	1f
	fail	"no device tree at x0"
1:	ldr	w1, [x19, #4]
	rev	w1, w1                          /* totalsize */
	add	x2, x19, x1
	sub	x2, x2, #(mode_c_end - mode_c)
	mov	x3, x19
2:	cmp	x3, x2
	b.hs	5f
	adr	x4, mode_c
	mov	x5, x3
3:	ldrb	w6, [x4], #1
	ldrb	w7, [x5], #1
	cmp	w6, w7
	b.ne	4f
	adr	x9, mode_c_end
	cmp	x4, x9
	b.lo	3b
	mov	x27, #1
	ret
4:	add	x3, x3, #1
	b	2b
5:	ret

mode_c:
	.ascii	"bm-mode=expect-denied"
mode_c_end:
	.balign	4

	bm_library
