/* rtc.h - an ARM PL031 real-time clock. The guest's time follows the host's
 * CLOCK_REALTIME plus an offset the guest sets by writing the load register,
 * so it stays right across a checkpoint and restore. The caller holds the
 * device lock. */
#ifndef TORPOR_RTC_H
#define TORPOR_RTC_H

#include <stdint.h>

#include "mmio.h"
#include "vm_state.h"

struct rtc {
	int64_t offset;         /* guest seconds minus host seconds */
	uint32_t mr, imsc, ris;
	int alarm_armed;        /* MR written since the last match */
	struct irq_line irq;
	int64_t (*now)(void);   /* host wall clock, seconds */
	/* Called after the guest changes the alarm, so whoever waits for it
	 * (the main loop's timeout) looks again; may be NULL. */
	void (*alarm_changed)(void *ctx);
	void *alarm_ctx;
};

/* Saved-state field ids (formats/torpor-image.md, device type 2). */
enum rtc_field {
	RTC_F_OFFSET = 1, RTC_F_MR, RTC_F_IMSC, RTC_F_RIS, RTC_F_ALARM_ARMED,
};

/* Resets r: guest time = host time, no alarm. now may be NULL for the real
 * CLOCK_REALTIME. */
void rtc_init(struct rtc *r, struct irq_line irq, int64_t (*now)(void));

/* MMIO handler (mmio_fn). */
void rtc_mmio(void *opaque, uint64_t offset, uint8_t *data, uint32_t len,
	      int is_write);

/* Latches a due alarm and drives the line; returns seconds until the armed
 * alarm is due (0 if due), or -1 when none is armed. */
int64_t rtc_poll(struct rtc *r);

/* Whether the guest armed an alarm with its interrupt unmasked: a wake
 * source torpor can honour. */
int rtc_wake_armed(const struct rtc *r);

/* Whether the alarm interrupt is raised now (fired and unmasked). */
int rtc_irq_raised(const struct rtc *r);

void rtc_save(const struct rtc *r, uint64_t base, struct dev_state *d);

/* -EINVAL if d is not a consistent PL031 state. */
int rtc_restore(struct rtc *r, const struct dev_state *d);

#endif
