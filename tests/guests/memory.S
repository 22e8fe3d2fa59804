/* memory.S - guest RAM across two checkpoints (scenario baremetal-memory).
 *
 * For a 64 MiB guest (--memory 64M). Every 4 KiB page from BM_FREE_RAM to
 * the end of RAM, except the 2 MiB block holding the device tree (x0 at
 * entry, rounded down), gets a class from a hash of its page number and the
 * generation G (0, then 1):
 *   0    generation 0: never touched; 1: written with zeros
 *   1    written with zeros
 *   2    zeros but for its last word (hash)
 *   3-7  every 64-bit word = hash(address, G)
 * Generation 0: it checks its own fill (and that a corrupted word is caught),
 * sums the device tree block, prints the page counts and calls
 * SYSTEM_SUSPEND with entry = `resumed`. At `resumed` it checks every word
 * and the device tree sum and prints "memory ok G" (or "memory FAIL ...",
 * then powers off). After generation 0 it rewrites all of it as generation 1
 * (pages change class: data to zero, zero to data...) and suspends again;
 * after generation 1 it powers off. It arms the wake button (both edges) to
 * be woken, and clears its interrupt before suspending again. */
#include "bm.h"

#define RAM_SIZE        (64 << 20)
#define RAM_END         (RAM_BASE + RAM_SIZE)
#define FDT_BLOCK       0x200000
#define SEED            0x746f72706f72          /* "torpor" */
#define KMUL            0x9e3779b97f4a7c15
#define GEN_MIX         0x5a5a5                 /* page number mix of generation 1 */

#define V_FDT           (BM_VARS + 0)           /* device tree block base */
#define V_FDT_SUM       (BM_VARS + 8)
#define V_GEN           (BM_VARS + 16)

/* Registers kept throughout: x19 device tree block, x20 SEED ^ G, x21 KMUL,
 * x29 G * GEN_MIX. */
	.macro	word_hash dst, addr
	eor	\dst, \addr, x20
	mul	\dst, \dst, x21
	eor	\dst, \dst, \dst, lsr #29
	.endm

	.macro	page_class dst, addr
	lsr	\dst, \addr, #12
	eor	\dst, \dst, x29
	mul	\dst, \dst, x21
	lsr	\dst, \dst, #61
	.endm

	.text
	.global	_start
_start:
	mov	x19, x0
	setup_cpu 0
	and	x19, x19, #~(FDT_BLOCK - 1)
	ldr	x1, =V_FDT
	str	x19, [x1]
	printhex "fdt block ", x19
	bl	bm_arm_wake_button
	bl	fdt_sum
	ldr	x1, =V_FDT_SUM
	str	x0, [x1]
	mov	x0, #0
	b	generation

resumed:
	resume_entry
	ldr	x1, =V_FDT
	ldr	x19, [x1]
	ldr	x1, =V_GEN
	ldr	x0, [x1]
	bl	gen_regs
	ldr	x0, =BM_FREE_RAM
	ldr	x1, =RAM_END
	bl	verify
	mov	x22, x0
	bl	fdt_sum
	ldr	x1, =V_FDT_SUM
	ldr	x1, [x1]
	cmp	x0, x1
	b.eq	1f
	println	"memory FAIL device tree block differs"
	b	bm_off
1:	cbz	x22, 2f
	print	"memory FAIL "
	printhex "mismatches ", x22
	printhex "first at ", x24
	printhex "got ", x25
	printhex "want ", x26
	b	bm_off
2:	ldr	x1, =V_GEN
	ldr	x0, [x1]
	cbnz	x0, 3f
	println	"memory ok 0"
	ldr	x1, =GPIO_BASE                  /* the button press is handled: */
	mov	w2, #0xff
	str	w2, [x1, #GPIO_IC]              /* the GPIO's interrupt */
	ldr	x1, =(GIC_DIST_BASE + GICD_ICPENDR + (GPIO_WAKE_INTID / 32) * 4)
	mov	w2, #(1 << (GPIO_WAKE_INTID % 32))
	str	w2, [x1]                        /* and the (edge) SPI's latch */
	mov	x0, #1
	b	generation
3:	println	"memory ok 1"
	b	bm_off

/* generation: fills RAM as generation x0, checks the fill, suspends. */
generation:
	ldr	x1, =V_GEN
	str	x0, [x1]
	bl	gen_regs
	bl	fill
	printhex "untouched ", x26
	printhex "zero ", x27
	printhex "data ", x28

	/* The checker must pass on what was written, and catch one bad word. */
	ldr	x0, =BM_FREE_RAM
	ldr	x1, =RAM_END
	bl	verify
	cbz	x0, 1f
	mov	x24, x0
	printhex "mismatches ", x24
	fail	"self-check of the fill"
1:	ldr	x27, =(BM_FREE_RAM + 0x40008)   /* a word of some page */
	ldr	x28, [x27]
	mvn	x9, x28
	str	x9, [x27]
	ldr	x0, =BM_FREE_RAM
	ldr	x1, =(BM_FREE_RAM + 0x100000)
	bl	verify
	str	x28, [x27]
	cmp	x0, #1
	b.eq	1f
	fail	"self-check did not catch a corrupted word"
1:	suspend_or_fail resumed

/* gen_regs: x20, x21, x29 for generation x0. */
gen_regs:
	ldr	x20, =SEED
	eor	x20, x20, x0
	ldr	x21, =KMUL
	ldr	x9, =GEN_MIX
	mul	x29, x0, x9
	ret

/* fill: writes the pattern of the generation (x29 != 0: generation 1, which
 * writes every page). Returns the page counts in x26 (untouched), x27
 * (zero), x28 (data). Clobbers x9-x11, x22, x23, x25. */
fill:
	ldr	x22, =BM_FREE_RAM
	ldr	x23, =RAM_END
	mov	x26, #0
	mov	x27, #0
	mov	x28, #0
fill_page:
	cmp	x22, x23
	b.hs	fill_done
	sub	x9, x22, x19
	cmp	x9, #FDT_BLOCK
	b.lo	fill_next
	page_class x25, x22
	cbnz	x25, 1f
	cbnz	x29, 1f
	add	x26, x26, #1            /* generation 0, class 0: untouched */
	b	fill_next
1:	mov	x9, x22                 /* zeros first */
	add	x11, x22, #4096
2:	stp	xzr, xzr, [x9], #16
	cmp	x9, x11
	b.lo	2b
	cmp	x25, #1
	b.hi	3f
	add	x27, x27, #1            /* class 0 or 1: zero */
	b	fill_next
3:	add	x28, x28, #1
	cmp	x25, #2
	b.ne	4f
	sub	x9, x11, #8             /* class 2: the last word */
	word_hash x10, x9
	str	x10, [x9]
	b	fill_next
4:	mov	x9, x22                 /* full */
5:	word_hash x10, x9
	str	x10, [x9], #8
	cmp	x9, x11
	b.lo	5b
fill_next:
	add	x22, x22, #4096
	b	fill_page
fill_done:
	ret

/* verify: checks the pages in [x0, x1) as the fill left them (x19 = device
 * tree block, skipped). Returns the number of bad words in x0; the first one
 * in x24 (address), x25 (read), x26 (expected). Clobbers x9-x16, x22, x23. */
verify:
	mov	x16, x30
	mov	x22, x0
	mov	x23, x1
	mov	x0, #0
v_page:
	cmp	x22, x23
	b.hs	v_done
	sub	x9, x22, x19
	cmp	x9, #FDT_BLOCK
	b.lo	v_next
	page_class x12, x22
	mov	x9, x22
	add	x11, x22, #4096
	cmp	x12, #2
	b.hi	v_full
	b.lo	v_zero
	sub	x11, x11, #8            /* class 2: zeros, then one hash word */
	bl	v_zeros
	add	x11, x11, #8
	b	v_full
v_zero:
	bl	v_zeros
	b	v_next
v_full:
	ldr	x10, [x9]
	word_hash x12, x9
	cmp	x10, x12
	b.eq	1f
	bl	v_bad
1:	add	x9, x9, #8
	cmp	x9, x11
	b.lo	v_full
v_next:
	add	x22, x22, #4096
	b	v_page
v_done:
	ret	x16

/* v_zeros: [x9, x11) must be zero; leaves x9 = x11. */
v_zeros:
	mov	x12, #0
	mov	x15, x30
1:	ldr	x10, [x9]
	cbz	x10, 2f
	bl	v_bad
2:	add	x9, x9, #8
	cmp	x9, x11
	b.lo	1b
	mov	x30, x15
	ret

/* v_bad: the word at x9 read x10, expected x12: counts it in x0 and keeps
 * the first in x24-x26. */
v_bad:
	cbnz	x0, 1f
	mov	x24, x9
	mov	x25, x10
	mov	x26, x12
1:	add	x0, x0, #1
	ret

/* fdt_sum: x0 = a position-weighted sum of the device tree block (x19). */
fdt_sum:
	mov	x9, x19
	add	x11, x19, #FDT_BLOCK
	mov	x0, #0
1:	ldr	x10, [x9], #8
	eor	x0, x10, x0, ror #7
	cmp	x9, x11
	b.lo	1b
	ret

	bm_library
