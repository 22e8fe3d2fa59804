/* test_rtc.c - the PL031 against a clock the test moves by hand: time and
 * load, the alarm and its interrupt, identification, save/restore. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <string.h>
#include <time.h>

#include "rtc.h"

enum {
	DR = 0x00, MR = 0x04, LR = 0x08, CR = 0x0c,
	IMSC = 0x10, RIS = 0x14, MIS = 0x18, ICR = 0x1c,
};

#define T0      1700000000      /* host seconds at the start of every test */
#define SPI     34

#include "dev_fixture.h"

static int64_t host_now;

static int64_t fake_now(void)
{
	return host_now;
}


static struct rtc r;
static int irq;

static void init_rtc(struct rtc *x, int *l)
{
	*l = -1;
	rtc_init(x, (struct irq_line){ line_set, l, SPI }, fake_now);
}

static void setup(void)
{
	host_now = T0;
	init_rtc(&r, &irq);
}

TestSuite(rtc, .init = setup);

static uint32_t rd_of(struct rtc *x, uint64_t off)
{
	return mmio_rd32(rtc_mmio, x, off);
}

static uint32_t rd(uint64_t off)
{
	return rd_of(&r, off);
}

static void wr(uint64_t off, uint32_t v)
{
	mmio_wr32(rtc_mmio, &r, off, v);
}

/* --- time ------------------------------------------------------------------ */

Test(rtc, dr_follows_the_host_clock)
{
	cr_expect_eq(rd(DR), T0);
	host_now += 5;
	cr_expect_eq(rd(DR), T0 + 5);
	host_now += 3600;
	cr_expect_eq(rd(DR), T0 + 3605);
}

Test(rtc, lr_sets_the_time_and_it_keeps_running)
{
	wr(LR, 5000);
	cr_expect_eq(rd(DR), 5000);
	host_now += 10;
	cr_expect_eq(rd(DR), 5010);
	wr(LR, 0xfffffff0);
	host_now += 0x20;
	cr_expect_eq(rd(DR), 0x10, "DR wraps at 32 bits");
}

Test(rtc, dr_writes_are_ignored)
{
	wr(DR, 1234);
	cr_expect_eq(rd(DR), T0);
}

Test(rtc, cr_reads_started)
{
	cr_expect_eq(rd(CR), 1);
	wr(CR, 0);
	cr_expect_eq(rd(CR), 1);
}

static int64_t realtime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);     /* not time(): that may be coarser */
	return ts.tv_sec;
}

Test(rtc, real_clock_when_none_given)
{
	struct rtc x;
	int l;
	uint32_t dr;
	int64_t before = realtime(), after;

	rtc_init(&x, (struct irq_line){ line_set, &l, SPI }, NULL);
	dr = rd_of(&x, DR);
	after = realtime();
	cr_expect_geq(dr, (uint32_t)before);
	cr_expect_leq(dr, (uint32_t)after);
}

/* --- alarm ------------------------------------------------------------------ */

Test(rtc, no_alarm_before_mr_is_written)
{
	cr_expect_eq(rtc_poll(&r), -1);
	host_now += 1000;
	cr_expect_eq(rtc_poll(&r), -1);
	cr_expect_eq(rd(RIS), 0);
	cr_expect_eq(rtc_wake_armed(&r), 0);
}

Test(rtc, alarm_counts_down_then_latches)
{
	wr(IMSC, 1);
	wr(MR, T0 + 10);
	cr_expect_eq(rd(MR), T0 + 10);
	cr_expect_eq(rtc_poll(&r), 10);
	cr_expect_eq(rd(RIS), 0);
	cr_expect_neq(irq, 1);
	host_now += 4;
	cr_expect_eq(rtc_poll(&r), 6);
	host_now += 6;
	cr_expect_eq(rtc_poll(&r), 0, "due");
	cr_expect_eq(irq, 1);
	cr_expect_eq(rd(RIS), 1);
	cr_expect_eq(rd(MIS), 1);
	cr_expect_eq(rtc_poll(&r), -1, "a match disarms the alarm");
}

Test(rtc, alarm_follows_guest_time_not_host_time)
{
	wr(LR, 100);
	wr(MR, 160);
	cr_expect_eq(rtc_poll(&r), 60);
	wr(LR, 150);
	cr_expect_eq(rtc_poll(&r), 10);
}

/* The counter is 32 bits: an alarm just past the wrap is in the future. */
Test(rtc, alarm_across_the_wrap)
{
	wr(LR, 0xfffffff0);
	wr(MR, 0x10);
	cr_expect_eq(rtc_poll(&r), 0x20);
	cr_expect_eq(rd(RIS), 0);
	host_now += 0x20;
	cr_expect_eq(rtc_poll(&r), 0);
}

Test(rtc, masked_alarm_latches_without_the_line)
{
	wr(MR, T0 + 1);
	host_now += 2;
	cr_expect_eq(rtc_poll(&r), 0);
	cr_expect_eq(rd(RIS), 1);
	cr_expect_eq(rd(MIS), 0);
	cr_expect_neq(irq, 1);
	wr(IMSC, 1);
	cr_expect_eq(irq, 1, "unmasking a latched alarm raises the line");
	cr_expect_eq(rd(MIS), 1);
	wr(IMSC, 0);
	cr_expect_eq(irq, 0);
}

Test(rtc, register_reads_notice_a_due_alarm)
{
	wr(IMSC, 1);
	wr(MR, T0 + 3);
	host_now += 3;
	cr_expect_eq(rd(RIS), 1, "no rtc_poll needed");
	cr_expect_eq(irq, 1);
}

Test(rtc, alarm_in_the_past_fires_at_once)
{
	wr(IMSC, 1);
	wr(MR, T0 - 1);
	cr_expect_eq(irq, 1);
	cr_expect_eq(rd(RIS), 1);
	cr_expect_eq(rtc_poll(&r), -1);
}

Test(rtc, icr_clears_and_the_line_drops)
{
	wr(IMSC, 1);
	wr(MR, T0);
	cr_assert_eq(irq, 1);
	wr(ICR, 0);
	cr_expect_eq(rd(RIS), 1, "ICR 0 clears nothing");
	wr(ICR, 1);
	cr_expect_eq(rd(RIS), 0);
	cr_expect_eq(rd(MIS), 0);
	cr_expect_eq(irq, 0);
	host_now += 100;
	cr_expect_eq(rtc_poll(&r), -1);
	cr_expect_eq(rd(RIS), 0, "a cleared alarm does not come back");
}

Test(rtc, rearming_after_a_match)
{
	wr(IMSC, 1);
	wr(MR, T0 + 1);
	host_now += 1;
	cr_assert_eq(rtc_poll(&r), 0);
	wr(ICR, 1);
	wr(MR, T0 + 5);
	cr_expect_eq(rtc_poll(&r), 4);
	cr_expect_eq(irq, 0);
	host_now += 4;
	cr_expect_eq(rtc_poll(&r), 0);
	cr_expect_eq(irq, 1);
}

Test(rtc, imsc_is_one_bit)
{
	wr(IMSC, 0xffffffff);
	cr_expect_eq(rd(IMSC), 1);
	wr(IMSC, 2);
	cr_expect_eq(rd(IMSC), 0);
}

Test(rtc, wake_armed_needs_alarm_and_unmasked_interrupt)
{
	wr(MR, T0 + 60);
	cr_expect_eq(rtc_wake_armed(&r), 0, "masked");
	wr(IMSC, 1);
	cr_expect_neq(rtc_wake_armed(&r), 0);
	host_now += 60;
	rtc_poll(&r);
	cr_expect_eq(rtc_wake_armed(&r), 0, "already fired");
}

/* --- identification ------------------------------------------------------------ */

struct id_case {
	uint32_t off, want;
};

ParameterizedTestParameters(rtc, primecell_ids)
{
	static struct id_case cases[] = {
		{ 0xfe0, 0x31 }, { 0xfe4, 0x10 }, { 0xfe8, 0x04 }, { 0xfec, 0x00 },
		{ 0xff0, 0x0d }, { 0xff4, 0xf0 }, { 0xff8, 0x05 }, { 0xffc, 0xb1 },
		/* nothing else reads as an id */
		{ 0x020, 0 }, { 0xfdc, 0 }, { 0xfe2, 0 }, { 0x1000, 0 },
	};

	return cr_make_param_array(struct id_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct id_case *c, rtc, primecell_ids)
{
	host_now = T0;
	init_rtc(&r, &irq);
	cr_expect_eq(rd(c->off), c->want, "offset %#x: %#x", c->off, rd(c->off));
}

/* --- save and restore ------------------------------------------------------------ */

/* Sets field id to v, or with remove renames it to an id nobody knows. */
static void edit_field(struct dev_state *d, uint32_t id, uint64_t v, int remove)
{
	for (uint32_t i = 0; i < d->nfields; i++) {
		if (d->fields[i].id != id)
			continue;
		if (remove)
			d->fields[i].id = 99;
		else
			d->fields[i].value = v;
	}
}

Test(rtc, save_restore_round_trip)
{
	struct rtc x;
	int l;
	struct dev_state d;

	wr(LR, 42000);
	wr(IMSC, 1);
	wr(MR, 42030);
	host_now += 10;
	rtc_save(&r, 0x09010000, &d);
	cr_expect_eq(d.type, DEV_RTC_PL031);
	cr_expect_eq(d.base, 0x09010000);

	init_rtc(&x, &l);
	cr_assert_eq(rtc_restore(&x, &d), 0);
	cr_expect_eq(rd_of(&x, DR), 42010);
	cr_expect_eq(rd_of(&x, MR), 42030);
	cr_expect_eq(rd_of(&x, IMSC), 1);
	cr_expect_eq(rd_of(&x, RIS), 0);
	cr_expect_eq(rtc_poll(&x), 20);
	cr_expect_neq(rtc_wake_armed(&x), 0);
	cr_expect_eq(l, 0, "restore drives the line");
	host_now += 20;
	cr_expect_eq(rtc_poll(&x), 0);
	cr_expect_eq(l, 1);
}

Test(rtc, restore_a_latched_interrupt)
{
	struct rtc x;
	int l;
	struct dev_state d;

	wr(IMSC, 1);
	wr(MR, T0);
	rtc_save(&r, 0, &d);
	init_rtc(&x, &l);
	cr_assert_eq(rtc_restore(&x, &d), 0);
	cr_expect_eq(l, 1);
	cr_expect_eq(rd_of(&x, MIS), 1);
	cr_expect_eq(rtc_poll(&x), -1);
	cr_expect_eq(rtc_wake_armed(&x), 0);
}

/* Time passed while the VM was saved: the guest clock kept up with the host
 * and an alarm that fell due meanwhile fires on restore. */
Test(rtc, alarm_due_during_downtime_fires_on_restore)
{
	struct rtc x;
	int l;
	struct dev_state d;

	wr(LR, 1000);
	wr(IMSC, 1);
	wr(MR, 1060);
	rtc_save(&r, 0, &d);
	host_now += 3600;
	init_rtc(&x, &l);
	cr_assert_eq(rtc_restore(&x, &d), 0);
	cr_expect_eq(l, 1, "before any register access");
	cr_expect_eq(rtc_poll(&x), -1);
	cr_expect_eq(rd_of(&x, DR), 1000 + 3600);
	cr_expect_eq(rd_of(&x, RIS), 1);
}

Test(rtc, negative_offset_survives)
{
	struct rtc x;
	int l;
	struct dev_state d;

	wr(LR, 1);              /* guest time far behind the host */
	rtc_save(&r, 0, &d);
	init_rtc(&x, &l);
	cr_assert_eq(rtc_restore(&x, &d), 0);
	cr_expect_eq(rd_of(&x, DR), 1);
}

struct bad_state {
	char what[24];
	uint32_t field;
	uint64_t value;
	int remove;
};

ParameterizedTestParameters(rtc, restore_rejects)
{
	static struct bad_state cases[] = {
		{ "wrong type", 0, 0, 0 },
		{ "MR > 32 bits", RTC_F_MR, 1ULL << 32, 0 },
		{ "IMSC 2", RTC_F_IMSC, 2, 0 },
		{ "RIS 2", RTC_F_RIS, 2, 0 },
		{ "armed 2", RTC_F_ALARM_ARMED, 2, 0 },
		{ "armed -1", RTC_F_ALARM_ARMED, UINT64_MAX, 0 },
		{ "offset missing", RTC_F_OFFSET, 0, 1 },
		{ "MR missing", RTC_F_MR, 0, 1 },
		{ "IMSC missing", RTC_F_IMSC, 0, 1 },
		{ "RIS missing", RTC_F_RIS, 0, 1 },
		{ "armed missing", RTC_F_ALARM_ARMED, 0, 1 },
	};

	return cr_make_param_array(struct bad_state, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct bad_state *c, rtc, restore_rejects)
{
	struct dev_state d;
	struct rtc before;

	host_now = T0;
	init_rtc(&r, &irq);
	wr(LR, 777);
	wr(MR, 800);
	rtc_save(&r, 0, &d);
	if (!c->field)
		d.type = DEV_UART_16550;
	else
		edit_field(&d, c->field, c->value, c->remove);
	wr(LR, 5);
	wr(IMSC, 1);
	memcpy(&before, &r, sizeof(r));
	cr_assert_eq(rtc_restore(&r, &d), -EINVAL, "%s accepted", c->what);
	cr_expect_eq(memcmp(&before, &r, sizeof(r)), 0, "%s: changed the RTC", c->what);
	cr_expect_eq(rd(DR), 5);
}

Test(rtc, irq_raised_after_the_alarm_fires_unmasked)
{
	wr(MR, T0 + 5);
	host_now += 5;
	rtc_poll(&r);
	cr_expect_eq(rtc_irq_raised(&r), 0, "masked");
	wr(IMSC, 1);
	cr_expect_neq(rtc_irq_raised(&r), 0);
	wr(ICR, 1);
	cr_expect_eq(rtc_irq_raised(&r), 0, "cleared");
}
