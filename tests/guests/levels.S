/* levels.S - a device's level-triggered interrupt line across a checkpoint
 * (scenario baremetal-levels).
 *
 * One vCPU. Enables the UART's SPI (INTID 33: group 1, priority 0x40,
 * level-sensitive) and the CPU interface, then sets the 16550's IER.THRI:
 * with its transmit register empty, the UART holds its line high, so SPI 33
 * is pending (checked) while IRQs stay masked in PSTATE. It arms nothing
 * else and suspends.
 *
 * Restored (with --no-wake), only the re-raised line can wake it. At its
 * entry, before writing to the UART, it checks that SPI 33 is pending and
 * that the UART's IIR says THR empty (reading it acknowledges that), then
 * that SPI 33 is no longer pending once the line dropped; "levels ok" or a
 * FAIL line, power off. */
#include "bm.h"

#define UART_INTID      (GIC_SPI_BASE + UART_SPI)
#define UART_IER        1
#define UART_IIR        2
#define IER_THRI        0x02
#define IIR_THRI        0x02
#define PENDR_WORD      (GIC_DIST_BASE + GICD_ISPENDR + (UART_INTID / 32) * 4)
#define PENDR_BIT       (1 << (UART_INTID % 32))

	.text
	.global	_start
_start:
	setup_cpu 0
	println	"levels: arming the UART interrupt"
	mov	x0, #0
	bl	bm_gic_init
	ldr	x1, =GIC_DIST_BASE
	mov	w2, #-1
	str	w2, [x1, #(GICD_IGROUPR + (UART_INTID / 32) * 4)]
	mov	w2, #0x40
	strb	w2, [x1, #(GICD_IPRIORITYR + UART_INTID)]
	/* Level-sensitive (ICFGR 0b00): KVM's SPIs reset to edge. */
	str	wzr, [x1, #(GICD_ICFGR + (UART_INTID / 16) * 4)]
	ldr	x2, =GICD_IROUTER + UART_INTID * 8
	str	xzr, [x1, x2]
	mov	w2, #(1 << (UART_INTID % 32))
	str	w2, [x1, #(GICD_ISENABLER + (UART_INTID / 32) * 4)]

	/* THR-empty interrupt on: the line goes high. No UART output after this. */
	ldr	x1, =UART_BASE
	mov	w2, #IER_THRI
	strb	w2, [x1, #UART_IER]
	ldr	x1, =PENDR_WORD
	ldr	w2, [x1]
	and	w2, w2, #PENDR_BIT
	cbnz	w2, 1f
	fail	"SPI 33 not pending with the UART's line high"
1:	suspend_or_fail resumed

resumed:
	mov	x19, x0
	ldr	x1, =PENDR_WORD
	ldr	w20, [x1]
	ldr	x1, =UART_BASE
	ldrb	w21, [x1, #UART_IIR]
	ldr	x1, =PENDR_WORD
	ldr	w22, [x1]
	setup_cpu 0
	expect	x19, BM_CONTEXT_ID, "context id at entry"
	and	w20, w20, #PENDR_BIT
	cbnz	w20, 1f
	fail	"SPI 33 not pending after restore"
1:	and	w21, w21, #0x0f
	expect	x21, IIR_THRI, "UART IIR after restore: THR empty expected"
	and	w22, w22, #PENDR_BIT
	cbz	w22, 2f
	fail	"SPI 33 still pending after the UART's line dropped"
2:	println	"levels ok"
	b	bm_off

	bm_library
