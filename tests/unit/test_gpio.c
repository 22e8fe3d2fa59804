/* test_gpio.c - the PL061 as gpio-keys and the pl061 driver use it: masked
 * data access, direction, edge and level interrupts and the line,
 * identification, save/restore. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <string.h>

#include "gpio.h"

enum {
	DATA_ALL = 0x3fc, DIR = 0x400, IS = 0x404, IBE = 0x408, IEV = 0x40c,
	IE = 0x410, RIS = 0x414, MIS = 0x418, IC = 0x41c, AFSEL = 0x420,
};

#define SPI     39
#define LINE3   0x08

#include "dev_fixture.h"

static struct gpio g;
static int irq;

static void init_gpio(struct gpio *x, int *l)
{
	*l = -1;
	gpio_init(x, (struct irq_line){ line_set, l, SPI });
}

static void setup(void)
{
	init_gpio(&g, &irq);
}

TestSuite(gpio, .init = setup);

static uint32_t rd_of(struct gpio *x, uint64_t off)
{
	return mmio_rd32(gpio_mmio, x, off);
}

static uint32_t rd(uint64_t off)
{
	return rd_of(&g, off);
}

static void wr_of(struct gpio *x, uint64_t off, uint32_t v)
{
	mmio_wr32(gpio_mmio, x, off, v);
}

static void wr(uint64_t off, uint32_t v)
{
	wr_of(&g, off, v);
}

/* Offset of the DATA alias that touches the lines in mask. */
static uint64_t data_at(uint8_t mask)
{
	return (uint64_t)mask << 2;
}

/* --- data and direction ------------------------------------------------------ */

Test(gpio, reset_state)
{
	cr_expect_eq(rd(DATA_ALL), 0);
	cr_expect_eq(rd(DIR), 0);
	cr_expect_eq(rd(IE), 0);
	cr_expect_eq(rd(RIS), 0);
	for (unsigned i = 0; i < 8; i++)
		cr_expect_eq(gpio_irq_enabled(&g, i), 0);
}

Test(gpio, data_address_masks_the_lines)
{
	wr(DIR, 0xff);
	wr(DATA_ALL, 0xa5);
	cr_expect_eq(rd(DATA_ALL), 0xa5);
	wr(data_at(0x04), 0x00);
	cr_expect_eq(rd(DATA_ALL), 0xa1, "only line 2 cleared");
	wr(data_at(0x04), 0xff);
	cr_expect_eq(rd(DATA_ALL), 0xa5, "only line 2 set");
	wr(data_at(0x00), 0x00);
	cr_expect_eq(rd(DATA_ALL), 0xa5, "mask 0 writes nothing");
	wr(data_at(0x48), 0xff);
	cr_expect_eq(rd(DATA_ALL), 0xed);
	cr_expect_eq(rd(data_at(0x03)), 0x01, "reads are masked too");
	cr_expect_eq(rd(data_at(0xc0)), 0xc0);
	cr_expect_eq(rd(data_at(0x00)), 0);
}

Test(gpio, byte_access_to_data)
{
	uint8_t v = 0x3c;

	wr(DIR, 0xff);
	gpio_mmio(&g, data_at(0x0f), &v, 1, 1);
	v = 0;
	gpio_mmio(&g, DATA_ALL, &v, 1, 0);
	cr_expect_eq(v, 0x0c);
}

Test(gpio, inputs_read_through_data_and_ignore_writes)
{
	gpio_set_input(&g, 3, 1);
	gpio_set_input(&g, 6, 1);
	cr_expect_eq(rd(DATA_ALL), 0x48);
	wr(DATA_ALL, 0x01);
	cr_expect_eq(rd(DATA_ALL), 0x48, "writes do not reach input lines");
	wr(DIR, 0x01);
	cr_expect_eq(rd(DATA_ALL), 0x49, "the written value drives a line made an output");
	gpio_set_input(&g, 0, 0);
	cr_expect_eq(rd(DATA_ALL), 0x49, "an output ignores its input");
	gpio_set_input(&g, 6, 0);
	cr_expect_eq(rd(DATA_ALL), 0x09);
}

Test(gpio, control_registers_read_back)
{
	static const uint64_t regs[] = { DIR, IS, IBE, IEV, IE, AFSEL };

	for (unsigned i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		wr(regs[i], 0x15a);
		cr_expect_eq(rd(regs[i]), 0x5a, "register %#llx", (unsigned long long)regs[i]);
	}
	cr_expect_eq(rd(IC), 0, "IC is write-only");
}

Test(gpio, input_line_out_of_range_is_ignored)
{
	wr(IBE, 0xff);
	wr(IE, 0xff);
	gpio_set_input(&g, 8, 1);
	gpio_set_input(&g, 1000, 1);
	cr_expect_eq(rd(DATA_ALL), 0);
	cr_expect_eq(rd(RIS), 0);
	cr_expect_neq(irq, 1);
	cr_expect_eq(gpio_irq_enabled(&g, 8), 0);
	cr_expect_eq(gpio_irq_enabled(&g, 1000), 0);
}

/* --- interrupts ---------------------------------------------------------------- */

Test(gpio, rising_edge_with_iev_set)
{
	wr(IEV, LINE3);
	wr(IE, LINE3);
	gpio_set_input(&g, 3, 1);
	cr_expect_eq(rd(RIS), LINE3);
	cr_expect_eq(rd(MIS), LINE3);
	cr_expect_eq(irq, 1);
	gpio_set_input(&g, 3, 0);
	cr_expect_eq(rd(RIS), LINE3, "edges stay latched");
	wr(IC, LINE3);
	cr_expect_eq(rd(RIS), 0);
	cr_expect_eq(irq, 0);
	gpio_set_input(&g, 3, 1);
	gpio_set_input(&g, 3, 1);
	cr_expect_eq(rd(RIS), LINE3, "a new rising edge");
	wr(IC, LINE3);
	gpio_set_input(&g, 3, 1);
	cr_expect_eq(rd(RIS), 0, "no edge without a change");
}

Test(gpio, falling_edge_with_iev_clear)
{
	wr(IE, LINE3);
	gpio_set_input(&g, 3, 1);
	cr_expect_eq(rd(RIS), 0, "rising ignored");
	cr_expect_neq(irq, 1);
	gpio_set_input(&g, 3, 0);
	cr_expect_eq(rd(RIS), LINE3);
	cr_expect_eq(irq, 1);
}

Test(gpio, both_edges_with_ibe)
{
	wr(IBE, LINE3);
	wr(IE, LINE3);
	gpio_set_input(&g, 3, 1);
	cr_expect_eq(rd(RIS), LINE3);
	wr(IC, LINE3);
	cr_expect_eq(irq, 0);
	gpio_set_input(&g, 3, 0);
	cr_expect_eq(rd(RIS), LINE3);
	cr_expect_eq(irq, 1);
}

Test(gpio, edge_from_an_output_write)
{
	wr(DIR, 0x01);
	wr(IEV, 0x01);
	wr(IE, 0x01);
	wr(DATA_ALL, 0x01);
	cr_expect_eq(rd(RIS), 0x01);
	cr_expect_eq(irq, 1);
}

/* Level-sensitive: RIS shows whether the line is at its active level (IEV
 * set: high, clear: low), and IC cannot clear a level still present. */
ParameterizedTestParameters(gpio, level_interrupt)
{
	static int active[] = { 1, 0 };

	return cr_make_param_array(int, active, 2);
}

ParameterizedTest(int *active, gpio, level_interrupt)
{
	init_gpio(&g, &irq);
	gpio_set_input(&g, 3, !*active);
	wr(IEV, *active ? LINE3 : 0);
	wr(IS, LINE3);
	wr(IE, LINE3);
	cr_expect_eq(rd(RIS), 0);
	cr_expect_eq(irq, 0);
	gpio_set_input(&g, 3, *active);
	cr_expect_eq(rd(RIS), LINE3);
	cr_expect_eq(irq, 1);
	wr(IC, LINE3);
	cr_expect_eq(rd(RIS), LINE3, "IC does not clear a level still present");
	cr_expect_eq(irq, 1);
	gpio_set_input(&g, 3, !*active);
	cr_expect_eq(rd(RIS), 0);
	cr_expect_eq(irq, 0);
}

/* Making a line level-sensitive while it is active latches at once. */
Test(gpio, level_already_present)
{
	wr(IE, LINE3);
	wr(IS, LINE3);
	cr_expect_eq(rd(RIS), LINE3, "line 3 is low, IEV 0: active low");
	cr_expect_eq(irq, 1);
}

Test(gpio, ie_masks_the_line)
{
	wr(IEV, LINE3);
	gpio_set_input(&g, 3, 1);
	cr_expect_eq(rd(RIS), LINE3);
	cr_expect_eq(rd(MIS), 0);
	cr_expect_neq(irq, 1);
	wr(IE, LINE3);
	cr_expect_eq(irq, 1, "unmasking a latched edge");
	cr_expect_eq(rd(MIS), LINE3);
	cr_expect_neq(gpio_irq_enabled(&g, 3), 0);
	cr_expect_eq(gpio_irq_enabled(&g, 2), 0);
	wr(IE, 0);
	cr_expect_eq(irq, 0);
	cr_expect_eq(gpio_irq_enabled(&g, 3), 0);
}

Test(gpio, other_lines_do_not_raise_a_masked_interrupt)
{
	wr(IBE, 0xff);
	wr(IE, LINE3);
	gpio_set_input(&g, 2, 1);
	cr_expect_eq(rd(RIS), 0x04);
	cr_expect_eq(rd(MIS), 0);
	cr_expect_neq(irq, 1);
	gpio_set_input(&g, 3, 1);
	cr_expect_eq(rd(MIS), LINE3);
	cr_expect_eq(irq, 1);
	wr(IC, 0x04);
	cr_expect_eq(rd(RIS), LINE3, "IC clears only its lines");
	cr_expect_eq(irq, 1);
}

/* --- identification ------------------------------------------------------------ */

struct id_case {
	uint32_t off, want;
};

ParameterizedTestParameters(gpio, primecell_ids)
{
	static struct id_case cases[] = {
		{ 0xfe0, 0x61 }, { 0xfe4, 0x10 }, { 0xfe8, 0x04 }, { 0xfec, 0x00 },
		{ 0xff0, 0x0d }, { 0xff4, 0xf0 }, { 0xff8, 0x05 }, { 0xffc, 0xb1 },
		{ 0x424, 0 }, { 0xfdc, 0 }, { 0xfe1, 0 },
	};

	return cr_make_param_array(struct id_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct id_case *c, gpio, primecell_ids)
{
	init_gpio(&g, &irq);
	cr_expect_eq(rd(c->off), c->want, "offset %#x: %#x", c->off, rd(c->off));
}

/* --- save and restore ---------------------------------------------------------- */

/* Every register the guest can read, and the line. */
static void observe(struct gpio *x, int *l, uint32_t *o)
{
	static const uint64_t regs[] = { DATA_ALL, DIR, IS, IBE, IEV, IE, RIS, MIS, AFSEL };

	for (unsigned i = 0; i < 9; i++)
		o[i] = rd_of(x, regs[i]);
	o[9] = (uint32_t)*l;
	for (unsigned i = 0; i < 8; i++)
		o[10] |= (uint32_t)gpio_irq_enabled(x, i) << i;
}

/* Outputs, inputs, an edge latched, a level line active, a line masked. */
static void make_busy(void)
{
	wr(DIR, 0x0f);
	wr(DATA_ALL, 0x05);
	wr(IS, 0x40);           /* line 6: high level */
	wr(IEV, 0x50);          /* line 4: rising edge */
	wr(IBE, 0x20);          /* line 5: both edges */
	wr(IE, 0x58);
	wr(AFSEL, 0x80);
	gpio_set_input(&g, 4, 1);
	gpio_set_input(&g, 6, 1);
	gpio_set_input(&g, 5, 1);
}

Test(gpio, save_restore_round_trip)
{
	struct gpio x;
	int l;
	struct dev_state d;
	uint32_t a[11] = { 0 }, b[11] = { 0 };

	make_busy();
	gpio_save(&g, 0x09030000, &d);
	cr_expect_eq(d.type, DEV_GPIO_PL061);
	cr_expect_eq(d.base, 0x09030000);
	init_gpio(&x, &l);
	cr_assert_eq(gpio_restore(&x, &d), 0);
	cr_expect_eq(l, 1, "restore drives the line");
	observe(&g, &irq, a);
	observe(&x, &l, b);
	cr_expect_arr_eq(a, b, sizeof(a));
	cr_expect_eq(a[0], 0x75);
	cr_expect_eq(a[6], 0x70, "RIS: edges on 4 and 5, level on 6");

	/* Both go on the same way. */
	wr(IC, 0xff);
	wr_of(&x, IC, 0xff);
	gpio_set_input(&g, 6, 0);
	gpio_set_input(&x, 6, 0);
	gpio_set_input(&g, 5, 0);
	gpio_set_input(&x, 5, 0);
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	observe(&g, &irq, a);
	observe(&x, &l, b);
	cr_expect_arr_eq(a, b, sizeof(a));
	cr_expect_eq(a[6], 0x20, "falling edge on line 5 only");
}

struct bad_state {
	char what[24];
	uint32_t field;
	uint64_t value;
	int remove;
};

ParameterizedTestParameters(gpio, restore_rejects)
{
	static struct bad_state cases[] = {
		{ "wrong type", 0, 0, 0 },
		{ "OUT > 8 bits", GPIO_F_OUT, 0x100, 0 },
		{ "IN > 8 bits", GPIO_F_IN, 0x100, 0 },
		{ "DIR > 8 bits", GPIO_F_DIR, 0x1ff, 0 },
		{ "IS > 8 bits", GPIO_F_IS, 0x100, 0 },
		{ "IBE > 8 bits", GPIO_F_IBE, 1ULL << 40, 0 },
		{ "IEV > 8 bits", GPIO_F_IEV, 0x100, 0 },
		{ "IE > 8 bits", GPIO_F_IE, UINT64_MAX, 0 },
		{ "RIS > 8 bits", GPIO_F_RIS, 0x100, 0 },
		{ "AFSEL > 8 bits", GPIO_F_AFSEL, 0x100, 0 },
		{ "OUT missing", GPIO_F_OUT, 0, 1 },
		{ "IE missing", GPIO_F_IE, 0, 1 },
		{ "AFSEL missing", GPIO_F_AFSEL, 0, 1 },
	};

	return cr_make_param_array(struct bad_state, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct bad_state *c, gpio, restore_rejects)
{
	struct dev_state d;
	struct gpio before;

	init_gpio(&g, &irq);
	make_busy();
	gpio_save(&g, 0, &d);
	for (uint32_t i = 0; i < d.nfields; i++) {
		if (d.fields[i].id != c->field)
			continue;
		if (c->remove)
			d.fields[i].id = 99;
		else
			d.fields[i].value = c->value;
	}
	if (!c->field)
		d.type = DEV_RTC_PL031;
	wr(IE, 0);
	wr(DIR, 0xf0);
	memcpy(&before, &g, sizeof(g));
	irq = 7;         /* not a level: shows whether the line was driven */
	cr_assert_eq(gpio_restore(&g, &d), -EINVAL, "%s accepted", c->what);
	cr_expect_eq(memcmp(&before, &g, sizeof(g)), 0, "%s: changed the GPIO", c->what);
	cr_expect_eq(irq, 7, "%s: drove the line", c->what);
}
