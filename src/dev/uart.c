/* uart.c - 16550A register model: enough for Linux's 8250 driver and for
 * polled bare-metal output. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "dev_fields.h"
#include "devices.h"
#include "memmap.h"
#include "uart.h"

_Static_assert(UART_RX_FIFO <= DEV_MAX_BLOB, "uart_save keeps the whole FIFO in the blob");

enum {
	REG_RBR_THR = 0, REG_IER = 1, REG_IIR_FCR = 2, REG_LCR = 3,
	REG_MCR = 4, REG_LSR = 5, REG_MSR = 6, REG_SCR = 7,
};

#define IER_RDI         0x01    /* received data available */
#define IER_THRI        0x02    /* transmitter holding register empty */
#define IER_RLSI        0x04    /* receiver line status */
#define IER_MSI         0x08    /* modem status */
#define IIR_NONE        0x01
#define IIR_MSI         0x00
#define IIR_THRI        0x02
#define IIR_RDI         0x04
#define IIR_RLSI        0x06
#define IIR_FIFO        0xc0
#define FCR_FIFO_EN     0x01
#define FCR_CLEAR_RX    0x02
#define LCR_DLAB        0x80
#define LSR_DR          0x01
#define LSR_ERRORS      0x1e
#define LSR_THRE        0x20
#define LSR_TEMT        0x40
#define MCR_LOOP        0x10
#define MSR_IDLE        0xb0    /* DCD, DSR, CTS: a cable is attached */

static uint8_t lsr(const struct uart *u)
{
	return (u->rx_count ? LSR_DR : 0) | u->lsr_err | LSR_THRE | LSR_TEMT;
}

static uint8_t iir(const struct uart *u)
{
	uint8_t fifo = (u->fcr & FCR_FIFO_EN) ? IIR_FIFO : 0;

	if ((u->ier & IER_RLSI) && u->lsr_err)
		return fifo | IIR_RLSI;
	if ((u->ier & IER_RDI) && u->rx_count)
		return fifo | IIR_RDI;
	if ((u->ier & IER_THRI) && u->thr_ipending)
		return fifo | IIR_THRI;
	return fifo | IIR_NONE;
}

static void update_irq(struct uart *u)
{
	irq_line_set(&u->irq, !(iir(u) & IIR_NONE));
}

void uart_init(struct uart *u, struct irq_line irq,
	       void (*tx)(void *ctx, uint8_t byte), void *tx_ctx)
{
	memset(u, 0, sizeof(*u));
	u->msr = MSR_IDLE;
	u->irq = irq;
	u->tx = tx;
	u->tx_ctx = tx_ctx;
}

static uint8_t rx_pop(struct uart *u)
{
	uint8_t b;

	if (!u->rx_count)
		return 0;
	b = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % UART_RX_FIFO;
	u->rx_count--;
	return b;
}

size_t uart_rx_room(const struct uart *u)
{
	return UART_RX_FIFO - u->rx_count;
}

size_t uart_receive(struct uart *u, const uint8_t *buf, size_t len)
{
	size_t n = 0;

	while (n < len && u->rx_count < UART_RX_FIFO) {
		u->rx[(u->rx_head + u->rx_count) % UART_RX_FIFO] = buf[n++];
		u->rx_count++;
	}
	if (n)
		update_irq(u);
	return n;
}

static void write_reg(struct uart *u, unsigned reg, uint8_t v)
{
	switch (reg) {
	case REG_RBR_THR:
		if (u->lcr & LCR_DLAB) {
			u->dll = v;
			break;
		}
		if (u->mcr & MCR_LOOP)
			uart_receive(u, &v, 1);
		else if (u->tx)
			u->tx(u->tx_ctx, v);
		/* The byte left at once: THR is empty again. */
		u->thr_ipending = 1;
		break;
	case REG_IER:
		if (u->lcr & LCR_DLAB) {
			u->dlm = v;
			break;
		}
		/* Enabling THRI with THR empty raises it (what 8250 drivers test). */
		if (!(u->ier & IER_THRI) && (v & IER_THRI))
			u->thr_ipending = 1;
		u->ier = v & 0x0f;
		break;
	case REG_IIR_FCR:
		u->fcr = v & 0xc9;
		if (v & FCR_CLEAR_RX)
			u->rx_count = 0;
		break;
	case REG_LCR: u->lcr = v; break;
	case REG_MCR: u->mcr = v & 0x1f; break;
	case REG_LSR: break;
	case REG_MSR: break;
	case REG_SCR: u->scr = v; break;
	}
	update_irq(u);
}

static uint8_t read_reg(struct uart *u, unsigned reg)
{
	uint8_t v = 0;

	switch (reg) {
	case REG_RBR_THR:
		v = (u->lcr & LCR_DLAB) ? u->dll : rx_pop(u);
		break;
	case REG_IER:
		v = (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
		break;
	case REG_IIR_FCR:
		v = iir(u);
		/* Reading IIR acknowledges a THR-empty interrupt. */
		if ((v & 0x0f) == IIR_THRI)
			u->thr_ipending = 0;
		break;
	case REG_LCR: v = u->lcr; break;
	case REG_MCR: v = u->mcr; break;
	case REG_LSR:
		v = lsr(u);
		u->lsr_err = 0;
		break;
	case REG_MSR:
		if (u->mcr & MCR_LOOP)  /* loopback: RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD */
			v = (u->mcr & 0x02 ? 0x10 : 0) | (u->mcr & 0x01 ? 0x20 : 0) |
			    (u->mcr & 0x04 ? 0x40 : 0) | (u->mcr & 0x08 ? 0x80 : 0);
		else
			v = u->msr;
		break;
	case REG_SCR: v = u->scr; break;
	}
	update_irq(u);
	return v;
}

void uart_mmio(void *opaque, uint64_t offset, uint8_t *data, uint32_t len,
	       int is_write)
{
	struct uart *u = opaque;

	/* Byte registers: wider accesses reach the register at the offset and
	 * read the rest as zero. */
	if (offset >= 8) {
		if (!is_write)
			memset(data, 0, len);
		return;
	}
	if (is_write) {
		write_reg(u, (unsigned)offset, data[0]);
	} else {
		memset(data, 0, len);
		data[0] = read_reg(u, (unsigned)offset);
	}
}

/* Registers with the bits each can hold (a restored LSR error bit 0 would
 * claim data that is not there). */
static const struct dev_field8 uart_fields[] = {
	{ UART_F_IER, 0x0f, offsetof(struct uart, ier) },
	{ UART_F_LCR, 0xff, offsetof(struct uart, lcr) },
	{ UART_F_MCR, 0x1f, offsetof(struct uart, mcr) },
	{ UART_F_LSR_ERR, LSR_ERRORS, offsetof(struct uart, lsr_err) },
	{ UART_F_MSR, 0xff, offsetof(struct uart, msr) },
	{ UART_F_SCR, 0xff, offsetof(struct uart, scr) },
	{ UART_F_DLL, 0xff, offsetof(struct uart, dll) },
	{ UART_F_DLM, 0xff, offsetof(struct uart, dlm) },
	{ UART_F_FCR, 0xc9, offsetof(struct uart, fcr) },
	{ UART_F_THR_IPENDING, 0x01, offsetof(struct uart, thr_ipending) },
};
#define N_UART_FIELDS (sizeof(uart_fields) / sizeof(uart_fields[0]))

void uart_save(const struct uart *u, uint64_t base, struct dev_state *d)
{
	memset(d, 0, sizeof(*d));
	d->type = DEV_UART_16550;
	d->base = base;
	dev_fields8_save(d, u, uart_fields, N_UART_FIELDS);
	for (unsigned i = 0; i < u->rx_count; i++)
		d->blob[i] = u->rx[(u->rx_head + i) % UART_RX_FIFO];
	d->blob_len = u->rx_count;
}

int uart_restore(struct uart *u, const struct dev_state *d)
{
	struct uart n = *u;

	if (d->type != DEV_UART_16550 || d->blob_len > UART_RX_FIFO ||
	    dev_fields8_load(d, &n, uart_fields, N_UART_FIELDS))
		return -EINVAL;
	memcpy(n.rx, d->blob, d->blob_len);
	n.rx_head = 0;
	n.rx_count = d->blob_len;
	*u = n;
	update_irq(u);
	return 0;
}

/* --- the device table entry ------------------------------------------------ */

static void *uart_create(const struct dev_env *env)
{
	struct uart *u = calloc(1, sizeof(*u));

	if (u)
		uart_init(u, env->irq, env->console_out, env->ctx);
	return u;
}

static void uart_reset(void *dev)
{
	struct uart *u = dev;

	uart_init(u, u->irq, u->tx, u->tx_ctx);
}

static int uart_fdt(struct fdt_writer *w, const struct dev_cfg *d)
{
	FDT_CHECK(fdt_begin_node_at(w, "serial", d->base));
	FDT_CHECK(fdt_property_string(w->fdt, "compatible", "ns16550a"));
	FDT_CHECK(fdt_prop_reg_irq(w, d));
	FDT_CHECK(fdt_property_u32(w->fdt, "clock-frequency", 1843200));
	/* Lets the guest enable the console as a wake source. */
	FDT_CHECK(fdt_property(w->fdt, "wakeup-source", NULL, 0));
	return fdt_end_node(w->fdt);
}

static void uart_save_op(const void *dev, uint64_t base, struct dev_state *d)
{
	uart_save(dev, base, d);
}

static int uart_restore_op(void *dev, const struct dev_state *d)
{
	return uart_restore(dev, d);
}

static size_t uart_console_in(void *dev, const uint8_t *buf, size_t len)
{
	return uart_receive(dev, buf, len);
}

const struct dev_ops uart_dev_ops = {
	.type = DEV_UART_16550,
	.name = "uart-16550",
	.fdt_name = "serial",
	.dflt = { DEV_UART_16550, UART_SPI, UART_BASE, UART_SIZE },
	.max_blob = UART_RX_FIFO,
	.create = uart_create,
	.destroy = free,
	.reset = uart_reset,
	.mmio = uart_mmio,
	.fdt_node = uart_fdt,
	.save = uart_save_op,
	.restore = uart_restore_op,
	.console_in = uart_console_in,
};
