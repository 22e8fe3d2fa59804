/* rtc.c - PL031 register model (ARM DDI 0224). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devices.h"
#include "memmap.h"
#include "primecell.h"
#include "rtc.h"

enum {
	REG_DR = 0x00, REG_MR = 0x04, REG_LR = 0x08, REG_CR = 0x0c,
	REG_IMSC = 0x10, REG_RIS = 0x14, REG_MIS = 0x18, REG_ICR = 0x1c,
};

#define PL031_PERIPH_ID 0x00041031

static int64_t realtime_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec;
}

static uint32_t rtc_dr(const struct rtc *r)
{
	return (uint32_t)(r->now() + r->offset);
}

static void update_irq(struct rtc *r)
{
	irq_line_set(&r->irq, (r->ris & r->imsc & 1) != 0);
}

void rtc_init(struct rtc *r, struct irq_line irq, int64_t (*now)(void))
{
	memset(r, 0, sizeof(*r));
	r->irq = irq;
	r->now = now ? now : realtime_now;
}

int64_t rtc_poll(struct rtc *r)
{
	int32_t left;

	if (!r->alarm_armed)
		return -1;
	left = (int32_t)(r->mr - rtc_dr(r));
	if (left > 0)
		return left;
	r->alarm_armed = 0;
	r->ris |= 1;
	update_irq(r);
	return 0;
}

int rtc_wake_armed(const struct rtc *r)
{
	return r->alarm_armed && (r->imsc & 1);
}

int rtc_irq_raised(const struct rtc *r)
{
	return (r->ris & r->imsc & 1) != 0;
}

void rtc_mmio(void *opaque, uint64_t offset, uint8_t *data, uint32_t len,
	      int is_write)
{
	struct rtc *r = opaque;
	uint32_t v = (uint32_t)mmio_get(data, len);

	if (is_write) {
		switch (offset) {
		case REG_MR: r->mr = v; r->alarm_armed = 1; break;
		case REG_LR: r->offset = (int64_t)v - r->now(); break;
		case REG_IMSC: r->imsc = v & 1; break;
		case REG_ICR: r->ris &= ~v; break;
		default: break;         /* CR is start-only and always 1 */
		}
		rtc_poll(r);
		update_irq(r);
		if ((offset == REG_MR || offset == REG_IMSC || offset == REG_LR) &&
		    r->alarm_changed)
			r->alarm_changed(r->alarm_ctx);
		return;
	}
	rtc_poll(r);
	switch (offset) {
	case REG_DR: v = rtc_dr(r); break;
	case REG_MR: v = r->mr; break;
	case REG_LR: v = rtc_dr(r); break;
	case REG_CR: v = 1; break;
	case REG_IMSC: v = r->imsc; break;
	case REG_RIS: v = r->ris; break;
	case REG_MIS: v = r->ris & r->imsc; break;
	default: v = primecell_id(PL031_PERIPH_ID, offset); break;
	}
	mmio_put(data, len, v);
}

void rtc_save(const struct rtc *r, uint64_t base, struct dev_state *d)
{
	memset(d, 0, sizeof(*d));
	d->type = DEV_RTC_PL031;
	d->base = base;
	dev_state_put(d, RTC_F_OFFSET, (uint64_t)r->offset);
	dev_state_put(d, RTC_F_MR, r->mr);
	dev_state_put(d, RTC_F_IMSC, r->imsc);
	dev_state_put(d, RTC_F_RIS, r->ris);
	dev_state_put(d, RTC_F_ALARM_ARMED, (uint64_t)r->alarm_armed);
}

int rtc_restore(struct rtc *r, const struct dev_state *d)
{
	uint64_t off, mr, imsc, ris, armed;

	if (d->type != DEV_RTC_PL031 ||
	    dev_state_get(d, RTC_F_OFFSET, &off) || dev_state_get(d, RTC_F_MR, &mr) ||
	    dev_state_get(d, RTC_F_IMSC, &imsc) || dev_state_get(d, RTC_F_RIS, &ris) ||
	    dev_state_get(d, RTC_F_ALARM_ARMED, &armed) ||
	    mr > UINT32_MAX || imsc > 1 || ris > 1 || armed > 1)
		return -EINVAL;
	r->offset = (int64_t)off;
	r->mr = (uint32_t)mr;
	r->imsc = (uint32_t)imsc;
	r->ris = (uint32_t)ris;
	r->alarm_armed = (int)armed;
	rtc_poll(r);
	update_irq(r);
	return 0;
}

/* --- the device table entry ------------------------------------------------ */

static void *rtc_create(const struct dev_env *env)
{
	struct rtc *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	rtc_init(r, env->irq, NULL);
	r->alarm_changed = env->notify;
	r->alarm_ctx = env->ctx;
	return r;
}

static void rtc_reset(void *dev)
{
	struct rtc *r = dev, wiring = *r;

	rtc_init(r, wiring.irq, wiring.now);
	r->alarm_changed = wiring.alarm_changed;
	r->alarm_ctx = wiring.alarm_ctx;
}

static int rtc_fdt(struct fdt_writer *w, const struct dev_cfg *d)
{
	FDT_CHECK(fdt_begin_primecell(w, d, "rtc", "arm,pl031"));
	FDT_CHECK(fdt_property(w->fdt, "wakeup-source", NULL, 0));
	return fdt_end_node(w->fdt);
}

static void rtc_save_op(const void *dev, uint64_t base, struct dev_state *d)
{
	rtc_save(dev, base, d);
}

static int rtc_restore_op(void *dev, const struct dev_state *d)
{
	return rtc_restore(dev, d);
}

/* The main loop sleeps until the alarm is due (a few ms late rather than
 * early), at most an hour at a time. */
static int rtc_poll_ms(void *dev)
{
	int64_t s = rtc_poll(dev);

	if (s < 0)
		return -1;
	return s > 3600 ? 3600 * 1000 : (int)(s * 1000) + 5;
}

/* An alarm the guest armed fires by itself; torpor never presses it. */
static enum dev_wake rtc_wake(void *dev, int press, char *what, size_t len)
{
	struct rtc *r = dev;

	(void)press;
	if (!rtc_wake_armed(r) && !rtc_irq_raised(r))
		return DEV_WAKE_NONE;
	snprintf(what, len, "the guest's RTC alarm wakes it (%s)",
		 rtc_irq_raised(r) ? "due already" : "when due");
	return DEV_WAKE_ARMED;
}

const struct dev_ops rtc_dev_ops = {
	.type = DEV_RTC_PL031,
	.name = "rtc-pl031",
	.fdt_name = "rtc",
	.dflt = { DEV_RTC_PL031, RTC_SPI, RTC_BASE, RTC_SIZE },
	.create = rtc_create,
	.destroy = free,
	.reset = rtc_reset,
	.mmio = rtc_mmio,
	.fdt_node = rtc_fdt,
	.save = rtc_save_op,
	.restore = rtc_restore_op,
	.poll_ms = rtc_poll_ms,
	.wake = rtc_wake,
};
