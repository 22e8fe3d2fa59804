/* regs.S - register fidelity across a checkpoint (scenario baremetal-regs).
 *
 * Loads known patterns into x3-x30, SP_EL0, SP_EL1, ELR_EL1, SPSR_EL1,
 * V0-V31, FPCR, FPSR, NZCV and fourteen EL0/EL1 system registers (AFSR0_EL1
 * and AMAIR_EL1 are RAZ/WI on the rig's CPU, so they get 0), then calls
 * SYSTEM_SUSPEND (SMC64) with entry = `resumed`, context = BM_CONTEXT_ID.
 * The monitor must checkpoint exactly these values (the scenario reads them
 * from `torpor inspect --json`). Patterns, NN = the register number in hex:
 *   xN       0x58NN58NN58NN58NN
 *   vN       high half 0x48NN48NN48NN48NN, low half 0x4cNN4cNN4cNN4cNN
 * and the constants below for the others. Before suspending it reads every
 * system register back and prints "readback" lines for any the CPU did not
 * keep as written (then the scenario's expectations would be wrong, not
 * torpor). It prints "pc=" (the address after the HVC) and "entry=".
 *
 * After restore the caller was reset by the PSCI wakeup: at `resumed` x0
 * must be the context id; it prints "resumed" and powers off. */
#include "bm.h"

#define PAT_X(n)        (0x5800580058005800 | ((n) * 0x0001000100010001))
#define PAT_VH(n)       (0x4800480048004800 | ((n) * 0x0001000100010001))
#define PAT_VL(n)       (0x4c004c004c004c00 | ((n) * 0x0001000100010001))

#define PAT_SP_EL0      0x5350303035503000
#define PAT_SP_EL1      0x5350313135503110      /* 16-byte aligned */
#define PAT_ELR_EL1     0x454c523145524c00
#define PAT_SPSR_EL1    0x00000000f00003c5      /* NZCV, DAIF, EL1h */
#define PAT_FPCR        0x07c00000              /* AHP DN FZ RMode=3 */
#define PAT_FPSR        0x0800009f              /* QC IDC IXC UFC OFC DZC IOC */
#define PAT_TPIDR_EL1   0x7470696472310001
#define PAT_TPIDR_EL0   0x7470696472300002
#define PAT_TPIDRRO_EL0 0x7470696472720003
#define PAT_CONTEXTIDR  0x00000000c0de1d01
#define PAT_VBAR_EL1    0x0000ffffabcd0800      /* bits 10:0 are RES0 */
#define PAT_AFSR0_EL1   0                       /* RAZ/WI on the rig's CPU */
#define PAT_FAR_EL1     0xfa12345678abcdef
#define PAT_PAR_EL1     0x0f00001234567000
#define PAT_MAIR_EL1    0x44ff04bb0c080400
#define PAT_AMAIR_EL1   0                       /* RAZ/WI on the rig's CPU */
#define PAT_TTBR0_EL1   0x0001000012345000
#define PAT_TTBR1_EL1   0x00020000abcde000
#define PAT_TCR_EL1     0x0000000280100010      /* IPS 40 bits, TG1 4K, T0SZ=T1SZ=16 */
#define PAT_ESR_EL1     0x0000000096000045

	.text
	.global	_start
_start:
	setup_cpu 0
	println	"regs: loading patterns"

	/* System registers, each read back. */
	.macro	set_sys reg, val
	ldr	x1, =\val
	msr	\reg, x1
	isb
	mrs	x2, \reg
	cmp	x1, x2
	b.eq	.Lsys_ok\@
	print	"readback \reg "
	printhex "wrote ", x1
	printhex "read ", x2
.Lsys_ok\@:
	.endm
	set_sys	tpidr_el1, PAT_TPIDR_EL1
	set_sys	tpidr_el0, PAT_TPIDR_EL0
	set_sys	tpidrro_el0, PAT_TPIDRRO_EL0
	set_sys	contextidr_el1, PAT_CONTEXTIDR
	set_sys	far_el1, PAT_FAR_EL1
	set_sys	mair_el1, PAT_MAIR_EL1
	set_sys	afsr0_el1, PAT_AFSR0_EL1
	set_sys	par_el1, PAT_PAR_EL1
	set_sys	amair_el1, PAT_AMAIR_EL1
	set_sys	ttbr0_el1, PAT_TTBR0_EL1
	set_sys	ttbr1_el1, PAT_TTBR1_EL1
	set_sys	tcr_el1, PAT_TCR_EL1
	set_sys	esr_el1, PAT_ESR_EL1
	set_sys	sp_el0, PAT_SP_EL0
	set_sys	elr_el1, PAT_ELR_EL1
	set_sys	spsr_el1, PAT_SPSR_EL1
	set_sys	fpcr, PAT_FPCR
	set_sys	fpsr, PAT_FPSR

	adr	x1, resumed
	printhex "entry=", x1
	adr	x1, after_hvc
	printhex "pc=", x1

	/* From here on no call and no exception: VBAR gets its pattern. */
	set_sys	vbar_el1, PAT_VBAR_EL1

	/* V0-V31 (x1, x2 as scratch). */
	.irp	n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	ldr	x1, =PAT_VL(\n)
	ldr	x2, =PAT_VH(\n)
	fmov	d\n, x1
	mov	v\n\().d[1], x2
	.endr

	/* SP_EL1 is the current SP. */
	ldr	x1, =PAT_SP_EL1
	mov	sp, x1

	/* Condition flags N and V (PSTATE is then 0x900003c5: DAIF, EL1h). */
	mov	x1, #0x90000000
	msr	nzcv, x1

	/* x3-x30 last; x0-x2 are the call's arguments. */
	.irp	n, 3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30
	ldr	x\n, =PAT_X(\n)
	.endr
	suspend_call PSCI_SYSTEM_SUSPEND, resumed
after_hvc:
	/* The call returned: denied or failed. */
	ldr	x9, =BM_STACK_TOP(0)
	mov	sp, x9
	adr	x9, bm_vectors
	msr	vbar_el1, x9
	isb
	printhex "FAIL suspend returned ", x0
	b	bm_off

resumed:
	resume_entry
	println	"resumed"
	b	bm_off

	bm_library
