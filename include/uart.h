/* uart.h - a 16550A-compatible UART (byte registers, reg-shift 0): the guest
 * console. Transmission is instant; received bytes wait in a FIFO that the
 * console fills. Not thread-safe: the caller holds the device lock. */
#ifndef TORPOR_UART_H
#define TORPOR_UART_H

#include <stddef.h>
#include <stdint.h>

#include "mmio.h"
#include "vm_state.h"

#define UART_RX_FIFO    256     /* bytes held for the guest; fits DEV_MAX_BLOB */

struct uart {
	uint8_t ier, lcr, mcr, lsr_err, msr, scr, dll, dlm, fcr;
	uint8_t thr_ipending;   /* THR-empty interrupt latched, until IIR read */
	uint8_t rx[UART_RX_FIFO];
	unsigned rx_head, rx_count;
	struct irq_line irq;
	void (*tx)(void *ctx, uint8_t byte);    /* console output */
	void *tx_ctx;
};

/* Saved-state field ids (formats/torpor-image.md, device type 1). */
enum uart_field {
	UART_F_IER = 1, UART_F_LCR, UART_F_MCR, UART_F_LSR_ERR, UART_F_MSR,
	UART_F_SCR, UART_F_DLL, UART_F_DLM, UART_F_FCR, UART_F_THR_IPENDING,
};

/* Resets u to power-on state with the given interrupt line and output. */
void uart_init(struct uart *u, struct irq_line irq,
	       void (*tx)(void *ctx, uint8_t byte), void *tx_ctx);

/* MMIO handler (mmio_fn) for the UART's 8 byte registers. */
void uart_mmio(void *opaque, uint64_t offset, uint8_t *data, uint32_t len,
	       int is_write);

/* Queues up to len input bytes for the guest; returns how many fit. */
size_t uart_receive(struct uart *u, const uint8_t *buf, size_t len);

/* Free space in the receive FIFO. */
size_t uart_rx_room(const struct uart *u);

/* Saves registers and FIFO contents into d (type DEV_UART_16550). */
void uart_save(const struct uart *u, uint64_t base, struct dev_state *d);

/* Loads registers and FIFO from d and re-drives the interrupt line;
 * -EINVAL if d is not a consistent UART state. */
int uart_restore(struct uart *u, const struct dev_state *d);

#endif
