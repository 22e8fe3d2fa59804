/* test_uart.c - the 16550A model as the 8250 driver and a polling bare-metal
 * guest see it: transmit, receive FIFO, interrupt identification and line,
 * divisor latch, loopback, and save/restore. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <string.h>

#include "uart.h"

enum { RBR_THR, IER, IIR_FCR, LCR, MCR, LSR, MSR, SCR };

#define IER_RDI         0x01
#define IER_THRI        0x02
#define IER_RLSI        0x04
#define IIR_NONE        0x01
#define IIR_THRI        0x02
#define IIR_RDI         0x04
#define IIR_RLSI        0x06
#define IIR_ID(v)       ((v) & 0x0f)
#define LSR_DR          0x01
#define LSR_THRE        0x20
#define LSR_TEMT        0x40
#define LCR_DLAB        0x80
#define MCR_LOOP        0x10
#define SPI             33

#include "dev_fixture.h"

/* Console output. */
static uint8_t out[64];
static size_t nout;

static void tx(void *ctx, uint8_t byte)
{
	cr_assert_eq(ctx, out, "tx_ctx not passed through");
	cr_assert_lt(nout, sizeof(out));
	out[nout++] = byte;
}

static struct uart u;
static int irq;

static void init_uart(struct uart *x, int *l)
{
	*l = -1;
	uart_init(x, (struct irq_line){ line_set, l, SPI }, tx, out);
}

static void setup(void)
{
	nout = 0;
	init_uart(&u, &irq);
}

TestSuite(uart, .init = setup);

static uint8_t rd_of(struct uart *x, unsigned reg)
{
	uint8_t d[1] = { 0xee };

	uart_mmio(x, reg, d, 1, 0);
	return d[0];
}

static void wr_of(struct uart *x, unsigned reg, uint8_t v)
{
	uart_mmio(x, reg, &v, 1, 1);
}

static uint8_t rd(unsigned reg)
{
	return rd_of(&u, reg);
}

static void wr(unsigned reg, uint8_t v)
{
	wr_of(&u, reg, v);
}

static void feed(const char *s)
{
	cr_assert_eq(uart_receive(&u, (const uint8_t *)s, strlen(s)), strlen(s));
}

/* --- transmit and line status --------------------------------------------- */

Test(uart, thr_writes_go_to_the_console)
{
	wr(RBR_THR, 'h');
	wr(RBR_THR, 'i');
	wr(RBR_THR, 0);
	wr(RBR_THR, 0xff);
	cr_assert_eq(nout, 4);
	cr_expect_arr_eq(out, "hi\0\xff", 4);
}

Test(uart, no_tx_callback_is_fine)
{
	int l;

	uart_init(&u, (struct irq_line){ line_set, &l, SPI }, NULL, NULL);
	wr(RBR_THR, 'x');
	cr_expect_eq(rd(LSR) & (LSR_THRE | LSR_TEMT), LSR_THRE | LSR_TEMT);
}

Test(uart, lsr_transmitter_always_empty)
{
	cr_expect_eq(rd(LSR), LSR_THRE | LSR_TEMT);
	for (int i = 0; i < 10; i++)
		wr(RBR_THR, 'a');
	cr_expect_eq(rd(LSR), LSR_THRE | LSR_TEMT);
}

Test(uart, lsr_data_ready_follows_the_fifo)
{
	feed("ab");
	cr_expect_eq(rd(LSR), LSR_DR | LSR_THRE | LSR_TEMT);
	rd(RBR_THR);
	cr_expect_eq(rd(LSR) & LSR_DR, LSR_DR);
	rd(RBR_THR);
	cr_expect_eq(rd(LSR), LSR_THRE | LSR_TEMT);
}

/* --- receive FIFO ------------------------------------------------------------ */

Test(uart, rx_in_order)
{
	feed("abc");
	cr_expect_eq(rd(RBR_THR), 'a');
	cr_expect_eq(rd(RBR_THR), 'b');
	cr_expect_eq(rd(RBR_THR), 'c');
	cr_expect_eq(rd(RBR_THR), 0, "empty FIFO reads 0");
	cr_expect_eq(rd(LSR) & LSR_DR, 0);
}

Test(uart, rx_fifo_capacity_and_room)
{
	uint8_t buf[UART_RX_FIFO + 44];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7);
	cr_expect_eq(uart_rx_room(&u), UART_RX_FIFO);
	cr_expect_eq(uart_receive(&u, buf, 10), 10);
	cr_expect_eq(uart_rx_room(&u), UART_RX_FIFO - 10);
	cr_expect_eq(uart_receive(&u, buf + 10, sizeof(buf) - 10), UART_RX_FIFO - 10,
		     "takes only what fits");
	cr_expect_eq(uart_rx_room(&u), 0);
	cr_expect_eq(uart_receive(&u, buf, 5), 0);
	cr_expect_eq(rd(RBR_THR), buf[0]);
	cr_expect_eq(uart_rx_room(&u), 1);
	cr_expect_eq(uart_receive(&u, (const uint8_t *)"Z", 1), 1);
	for (size_t i = 1; i < UART_RX_FIFO; i++)
		cr_assert_eq(rd(RBR_THR), buf[i], "byte %zu", i);
	cr_expect_eq(rd(RBR_THR), 'Z', "the byte queued after wrapping comes last");
	cr_expect_eq(uart_rx_room(&u), UART_RX_FIFO);
}

Test(uart, rx_order_across_many_wraps)
{
	unsigned next_in = 0, next_out = 0;

	for (int round = 0; round < 20; round++) {
		uint8_t chunk[100];

		for (unsigned i = 0; i < sizeof(chunk); i++)
			chunk[i] = (uint8_t)(next_in + i);
		next_in += (unsigned)uart_receive(&u, chunk, sizeof(chunk));
		for (int i = 0; i < 70; i++, next_out++)
			cr_assert_eq(rd(RBR_THR), (uint8_t)next_out, "round %d", round);
	}
	cr_expect_eq(uart_rx_room(&u), UART_RX_FIFO - (next_in - next_out));
}

Test(uart, fcr_clears_rx)
{
	wr(IER, IER_RDI);
	feed("junk");
	cr_assert_eq(irq, 1);
	wr(IIR_FCR, 0x07);
	cr_expect_eq(uart_rx_room(&u), UART_RX_FIFO);
	cr_expect_eq(rd(LSR) & LSR_DR, 0);
	cr_expect_eq(irq, 0);
	feed("ok");
	cr_expect_eq(rd(RBR_THR), 'o');
	cr_expect_eq(rd(RBR_THR), 'k');
}

Test(uart, fcr_without_clear_keeps_rx)
{
	feed("keep");
	wr(IIR_FCR, 0x01);
	cr_expect_eq(uart_rx_room(&u), UART_RX_FIFO - 4);
	cr_expect_eq(rd(RBR_THR), 'k');
}

/* --- interrupts --------------------------------------------------------------- */

Test(uart, idle_has_no_interrupt)
{
	cr_expect_eq(IIR_ID(rd(IIR_FCR)), IIR_NONE);
	feed("x");
	cr_expect_eq(IIR_ID(rd(IIR_FCR)), IIR_NONE, "RX with RDI masked");
	cr_expect_neq(irq, 1);
}

Test(uart, rdi_raises_the_line_until_drained)
{
	wr(IER, IER_RDI);
	cr_expect_neq(irq, 1);
	feed("xy");
	cr_expect_eq(irq, 1);
	cr_expect_eq(IIR_ID(rd(IIR_FCR)), IIR_RDI);
	rd(RBR_THR);
	cr_expect_eq(irq, 1);
	rd(RBR_THR);
	cr_expect_eq(irq, 0);
	cr_expect_eq(IIR_ID(rd(IIR_FCR)), IIR_NONE);
}

Test(uart, rdi_when_enabled_after_data_arrived)
{
	feed("x");
	cr_expect_neq(irq, 1);
	wr(IER, IER_RDI);
	cr_expect_eq(irq, 1);
	wr(IER, 0);
	cr_expect_eq(irq, 0);
}

Test(uart, enabling_thri_raises_it_and_reading_iir_acks)
{
	wr(IER, IER_THRI);
	cr_expect_eq(irq, 1);
	cr_expect_eq(IIR_ID(rd(IIR_FCR)), IIR_THRI);
	cr_expect_eq(irq, 0, "reading IIR acknowledges THRI");
	cr_expect_eq(IIR_ID(rd(IIR_FCR)), IIR_NONE);
}

Test(uart, thr_write_raises_thri_again)
{
	wr(IER, IER_THRI);
	rd(IIR_FCR);
	cr_assert_eq(irq, 0);
	wr(RBR_THR, 'a');
	cr_expect_eq(irq, 1);
	cr_expect_eq(IIR_ID(rd(IIR_FCR)), IIR_THRI);
	cr_expect_eq(irq, 0);
}

Test(uart, rewriting_ier_with_thri_set_does_not_retrigger)
{
	wr(IER, IER_THRI);
	rd(IIR_FCR);
	wr(IER, IER_THRI | IER_RDI);
	cr_expect_eq(irq, 0);
	cr_expect_eq(IIR_ID(rd(IIR_FCR)), IIR_NONE);
}

Test(uart, thri_masked_stays_low)
{
	wr(RBR_THR, 'a');
	cr_expect_neq(irq, 1);
	cr_expect_eq(IIR_ID(rd(IIR_FCR)), IIR_NONE);
}

/* RDI outranks THRI; the THRI stays pending underneath and reading IIR while
 * it reports RDI does not acknowledge it. */
Test(uart, rdi_has_priority_over_thri)
{
	wr(IER, IER_RDI | IER_THRI);
	feed("x");
	cr_expect_eq(IIR_ID(rd(IIR_FCR)), IIR_RDI);
	cr_expect_eq(IIR_ID(rd(IIR_FCR)), IIR_RDI);
	cr_expect_eq(rd(RBR_THR), 'x');
	cr_expect_eq(irq, 1, "THRI still pending");
	cr_expect_eq(IIR_ID(rd(IIR_FCR)), IIR_THRI);
	cr_expect_eq(irq, 0);
}

Test(uart, iir_fifo_bits_follow_fcr)
{
	cr_expect_eq(rd(IIR_FCR) & 0xc0, 0);
	wr(IIR_FCR, 0x01);
	cr_expect_eq(rd(IIR_FCR), 0xc0 | IIR_NONE);
	wr(IER, IER_RDI);
	feed("x");
	cr_expect_eq(rd(IIR_FCR), 0xc0 | IIR_RDI);
	wr(IIR_FCR, 0x00);
	cr_expect_eq(rd(IIR_FCR), IIR_RDI);
}

Test(uart, ier_keeps_only_the_four_enable_bits)
{
	wr(IER, 0xf5);
	cr_expect_eq(rd(IER), 0x05);
}

/* Line errors only come from a restored state: the highest-priority
 * interrupt, reported in LSR and cleared by reading it. */
Test(uart, line_status_interrupt_cleared_by_reading_lsr)
{
	struct dev_state d;

	wr(IER, IER_RLSI | IER_RDI);
	feed("x");
	uart_save(&u, 0, &d);
	for (uint32_t i = 0; i < d.nfields; i++)
		if (d.fields[i].id == UART_F_LSR_ERR)
			d.fields[i].value = 0x02;       /* overrun */
	cr_assert_eq(uart_restore(&u, &d), 0);
	cr_expect_eq(IIR_ID(rd(IIR_FCR)), IIR_RLSI, "RLSI outranks RDI");
	cr_expect_eq(rd(LSR), 0x02 | LSR_DR | LSR_THRE | LSR_TEMT);
	cr_expect_eq(rd(LSR), LSR_DR | LSR_THRE | LSR_TEMT);
	cr_expect_eq(IIR_ID(rd(IIR_FCR)), IIR_RDI);
	wr(IER, IER_RLSI);
	cr_expect_eq(irq, 0);
}

/* --- divisor latch, scratch, modem lines ------------------------------------ */

Test(uart, dlab_switches_to_the_divisor)
{
	wr(IER, IER_RDI);
	feed("q");
	wr(LCR, LCR_DLAB | 0x03);
	wr(RBR_THR, 0x0c);
	wr(IER, 0x5a);
	cr_expect_eq(nout, 0, "DLL write is not output");
	cr_expect_eq(rd(RBR_THR), 0x0c);
	cr_expect_eq(rd(IER), 0x5a);
	cr_expect_eq(rd(LCR), LCR_DLAB | 0x03);
	cr_expect_eq(uart_rx_room(&u), UART_RX_FIFO - 1, "DLL read does not pop RX");
	wr(LCR, 0x03);
	cr_expect_eq(rd(IER), IER_RDI, "IER kept under the latch");
	cr_expect_eq(rd(RBR_THR), 'q');
	wr(LCR, LCR_DLAB);
	cr_expect_eq(rd(RBR_THR), 0x0c);
	cr_expect_eq(rd(IER), 0x5a);
}

Test(uart, scratch_register)
{
	wr(SCR, 0x5a);
	cr_expect_eq(rd(SCR), 0x5a);
	wr(SCR, 0xa5);
	cr_expect_eq(rd(SCR), 0xa5);
}

Test(uart, msr_reports_a_cable)
{
	cr_expect_eq(rd(MSR), 0xb0);
}

Test(uart, loopback_feeds_rx_not_the_console)
{
	wr(IER, IER_RDI);
	wr(MCR, MCR_LOOP);
	wr(RBR_THR, 'L');
	cr_expect_eq(nout, 0);
	cr_expect_eq(rd(LSR) & LSR_DR, LSR_DR);
	cr_expect_eq(irq, 1);
	cr_expect_eq(rd(RBR_THR), 'L');
	wr(MCR, 0);
	wr(RBR_THR, 'M');
	cr_expect_eq(nout, 1);
	cr_expect_eq(out[0], 'M');
	cr_expect_eq(uart_rx_room(&u), UART_RX_FIFO);
}

Test(uart, loopback_mirrors_modem_control_in_msr)
{
	wr(MCR, MCR_LOOP | 0x01);               /* DTR -> DSR */
	cr_expect_eq(rd(MSR), 0x20);
	wr(MCR, MCR_LOOP | 0x02);               /* RTS -> CTS */
	cr_expect_eq(rd(MSR), 0x10);
	wr(MCR, MCR_LOOP | 0x0c);               /* OUT1 -> RI, OUT2 -> DCD */
	cr_expect_eq(rd(MSR), 0xc0);
	cr_expect_eq(rd(MCR), MCR_LOOP | 0x0c);
	wr(MCR, 0xff);
	cr_expect_eq(rd(MCR), 0x1f);
}

/* --- bus access ------------------------------------------------------------- */

Test(uart, wide_reads_and_offsets_past_the_registers)
{
	uint8_t d[4];

	memset(d, 0xee, sizeof(d));
	uart_mmio(&u, LSR, d, 4, 0);
	cr_expect_arr_eq(d, ((uint8_t[]){ LSR_THRE | LSR_TEMT, 0, 0, 0 }), 4);
	memset(d, 0xee, sizeof(d));
	uart_mmio(&u, 8, d, 4, 0);
	cr_expect_arr_eq(d, ((uint8_t[]){ 0, 0, 0, 0 }), 4);
	d[0] = 'x';
	uart_mmio(&u, 0x100, d, 1, 1);
	cr_expect_eq(nout, 0);
	d[0] = 'y';
	uart_mmio(&u, RBR_THR, d, 4, 1);
	cr_expect_eq(nout, 1);
	cr_expect_eq(out[0], 'y');
}

/* --- save and restore ---------------------------------------------------------- */

/* Everything a guest can observe, read the same way from either UART (reads
 * have side effects, so both go through the same sequence). */
struct observed {
	uint8_t ier, lcr, mcr, msr, scr, dll, dlm, lsr;
	uint8_t iir[2];
	int level;
	size_t room;
	uint8_t rx[UART_RX_FIFO];
};

static void observe(struct uart *x, int *l, struct observed *o)
{
	memset(o, 0, sizeof(*o));
	o->level = *l;
	o->room = uart_rx_room(x);
	o->ier = rd_of(x, IER);
	o->lcr = rd_of(x, LCR);
	o->mcr = rd_of(x, MCR);
	o->msr = rd_of(x, MSR);
	o->scr = rd_of(x, SCR);
	o->lsr = rd_of(x, LSR);
	o->iir[0] = rd_of(x, IIR_FCR);
	o->iir[1] = rd_of(x, IIR_FCR);
	wr_of(x, LCR, o->lcr | LCR_DLAB);
	o->dll = rd_of(x, RBR_THR);
	o->dlm = rd_of(x, IER);
	wr_of(x, LCR, o->lcr & ~LCR_DLAB);
	for (size_t i = 0; i < UART_RX_FIFO - o->room; i++)
		o->rx[i] = rd_of(x, RBR_THR);
}

/* A busy UART: divisor set, FIFO on, loopback off, RX wrapped in the ring,
 * THRI pending behind RDI. */
static void make_busy(void)
{
	uint8_t fill[200];

	memset(fill, '.', sizeof(fill));
	wr(LCR, LCR_DLAB);
	wr(RBR_THR, 0x0c);
	wr(IER, 0x02);
	wr(LCR, 0x1b);
	wr(IIR_FCR, 0xc1);
	wr(MCR, 0x0b);
	wr(SCR, 0x77);
	cr_assert_eq(uart_receive(&u, fill, sizeof(fill)), sizeof(fill));
	for (size_t i = 0; i < sizeof(fill); i++)
		rd(RBR_THR);
	feed("hello, restored world: this text wraps the ring");
	wr(IER, IER_RDI | IER_THRI);
}

Test(uart, save_restore_round_trip)
{
	struct uart v;
	int vl;
	struct dev_state d;
	struct observed a, b;

	make_busy();
	uart_save(&u, 0x09000000, &d);
	cr_expect_eq(d.type, DEV_UART_16550);
	cr_expect_eq(d.base, 0x09000000);
	cr_expect_eq(d.blob_len, UART_RX_FIFO - uart_rx_room(&u));

	init_uart(&v, &vl);
	cr_assert_eq(uart_restore(&v, &d), 0);
	cr_expect_eq(vl, 1, "restore drives the line");
	observe(&u, &irq, &a);
	observe(&v, &vl, &b);
	cr_expect_eq(a.iir[0] & 0x0f, IIR_RDI);
	cr_expect_eq(a.iir[1], b.iir[1]);
	cr_expect_eq(a.dll, 0x0c);
	cr_expect_eq(a.dlm, 0x02);
	cr_expect_eq(memcmp(&a, &b, sizeof(a)), 0, "restored UART differs");
	cr_expect_arr_eq(b.rx, "hello, restored world", 21);
	/* THRI was pending underneath; after draining, both report it. */
	cr_expect_eq(IIR_ID(rd_of(&v, IIR_FCR)), IIR_THRI);
	cr_expect_eq(IIR_ID(rd(IIR_FCR)), IIR_THRI);
}

Test(uart, restore_keeps_the_live_output_and_line)
{
	struct uart v;
	int vl;
	struct dev_state d;

	wr(IER, IER_THRI);
	uart_save(&u, 0, &d);
	init_uart(&v, &vl);
	cr_assert_eq(uart_restore(&v, &d), 0);
	cr_expect_eq(vl, 1, "pending THRI re-driven");
	wr_of(&v, RBR_THR, 'r');
	cr_expect_eq(nout, 1);
	cr_expect_eq(out[0], 'r');
}

Test(uart, restore_an_idle_uart_lowers_the_line)
{
	struct dev_state d;

	uart_save(&u, 0, &d);
	wr(IER, IER_RDI);
	feed("stale");
	cr_assert_eq(irq, 1);
	cr_assert_eq(uart_restore(&u, &d), 0);
	cr_expect_eq(irq, 0);
	cr_expect_eq(uart_rx_room(&u), UART_RX_FIFO);
	cr_expect_eq(rd(IER), 0);
}

Test(uart, restore_a_full_fifo)
{
	struct uart v;
	int vl;
	struct dev_state d;
	uint8_t buf[UART_RX_FIFO];

	for (unsigned i = 0; i < UART_RX_FIFO; i++)
		buf[i] = (uint8_t)(255 - i);
	cr_assert_eq(uart_receive(&u, buf, sizeof(buf)), UART_RX_FIFO);
	uart_save(&u, 0, &d);
	init_uart(&v, &vl);
	cr_assert_eq(uart_restore(&v, &d), 0);
	cr_expect_eq(uart_rx_room(&v), 0);
	for (unsigned i = 0; i < UART_RX_FIFO; i++)
		cr_assert_eq(rd_of(&v, RBR_THR), buf[i]);
}

/* Damage to a saved state, one per case. */
struct bad_state {
	char what[32];
	uint32_t field;         /* 0: none */
	int remove;             /* drop the field instead of setting it */
	uint64_t value;
	uint32_t type;          /* 0: keep DEV_UART_16550 */
	uint32_t blob_len;      /* 0: keep */
};

ParameterizedTestParameters(uart, restore_rejects)
{
	static struct bad_state cases[] = {
		{ "wrong type", .type = DEV_RTC_PL031 },
		{ "blob longer than the FIFO", .blob_len = UART_RX_FIFO + 1 },
		{ "IER > 8 bits", .field = UART_F_IER, .value = 0x100 },
		{ "LCR > 8 bits", .field = UART_F_LCR, .value = 0x1ff },
		{ "MCR > 8 bits", .field = UART_F_MCR, .value = 0x100 },
		{ "LSR errors > 8 bits", .field = UART_F_LSR_ERR, .value = 0x100 },
		{ "MSR > 8 bits", .field = UART_F_MSR, .value = 1ULL << 32 },
		{ "SCR > 8 bits", .field = UART_F_SCR, .value = UINT64_MAX },
		{ "DLL > 8 bits", .field = UART_F_DLL, .value = 0x100 },
		{ "DLM > 8 bits", .field = UART_F_DLM, .value = 0x100 },
		{ "FCR > 8 bits", .field = UART_F_FCR, .value = 0x100 },
		{ "THR pending 2", .field = UART_F_THR_IPENDING, .value = 2 },
		{ "THR pending 256", .field = UART_F_THR_IPENDING, .value = 256 },
		/* bits the registers cannot hold */
		{ "IER bit 4", .field = UART_F_IER, .value = 0x10 },
		{ "MCR bit 5", .field = UART_F_MCR, .value = 0x20 },
		{ "FCR clear bits", .field = UART_F_FCR, .value = 0x02 },
		{ "LSR error bit DR", .field = UART_F_LSR_ERR, .value = 0x01 },
		{ "LSR error bit THRE", .field = UART_F_LSR_ERR, .value = 0x20 },
		{ "IER missing", .field = UART_F_IER, .remove = 1 },
		{ "FCR missing", .field = UART_F_FCR, .remove = 1 },
		{ "THR pending missing", .field = UART_F_THR_IPENDING, .remove = 1 },
	};

	return cr_make_param_array(struct bad_state, cases, sizeof(cases) / sizeof(cases[0]));
}

static void damage(struct dev_state *d, const struct bad_state *c)
{
	for (uint32_t i = 0; i < d->nfields; i++) {
		if (d->fields[i].id != c->field)
			continue;
		if (c->remove)
			d->fields[i].id = 999;
		else
			d->fields[i].value = c->value;
	}
	if (c->type)
		d->type = c->type;
	if (c->blob_len)
		d->blob_len = c->blob_len;
}

ParameterizedTest(struct bad_state *c, uart, restore_rejects)
{
	struct dev_state d;
	struct uart before;

	make_busy();
	uart_save(&u, 0, &d);
	damage(&d, c);
	wr(SCR, 0x42);
	wr(IIR_FCR, 0x07);
	memcpy(&before, &u, sizeof(u));
	irq = 7;         /* not a level: shows whether the line was driven */
	cr_assert_eq(uart_restore(&u, &d), -EINVAL, "%s accepted", c->what);
	cr_expect_eq(memcmp(&before, &u, sizeof(u)), 0, "%s: changed the UART", c->what);
	cr_expect_eq(irq, 7, "%s: drove the line", c->what);
}
