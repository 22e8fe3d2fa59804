/* hello.S - the smallest bare-metal torpor guest.
 *
 * Entered at RAM_BASE with the MMU off. Writes a greeting to the 16550 UART
 * (waiting for LSR.THRE before each byte), then asks PSCI to power the
 * system off. If SYSTEM_OFF ever returns, it parks the CPU in a WFI loop so
 * that a broken monitor shows up as a hang (the rig's timeout catches it),
 * not as a guest running off into uninitialised memory. */
#include "memmap.h"

#define UART_THR        0       /* transmit holding register */
#define UART_LSR        5       /* line status register */
#define UART_LSR_THRE   0x20    /* THR empty: ready for the next byte */

	.text
	.global _start
_start:
	ldr	x1, =UART_BASE
	adr	x2, msg
	adr	x3, msg_end
1:	cmp	x2, x3
	b.eq	3f
2:	ldrb	w4, [x1, #UART_LSR]
	tbz	w4, #5, 2b              /* bit 5 = THRE */
	ldrb	w4, [x2], #1
	strb	w4, [x1, #UART_THR]
	b	1b

3:	movz	w0, #0x0008             /* PSCI SYSTEM_OFF, 0x84000008 */
	movk	w0, #0x8400, lsl #16
	hvc	#0
4:	wfi
	b	4b

msg:
	.ascii	"hello from a bare-metal guest\n"
msg_end:
	.balign	8
	.ltorg
