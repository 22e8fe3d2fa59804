/* control.c - the VM's side of the control socket: requests queued by the
 * socket's thread, carried out by the main loop; replies and events. */
#include <errno.h>
#include <linux/input-event-codes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api_proto.h"
#include "api_server.h"
#include "control.h"
#include "exitcodes.h"
#include "host.h"
#include "log.h"
#include "vm_int.h"

enum ctl_state { ST_RUNNING, ST_SUSPEND_REQUESTED, ST_CHECKPOINTING, ST_POWERING_OFF };

static const char *const state_names[] = {
	[ST_RUNNING] = "running", [ST_SUSPEND_REQUESTED] = "suspend-requested",
	[ST_CHECKPOINTING] = "checkpointing", [ST_POWERING_OFF] = "powering-off",
};

static const char *const mode_names[] = {
	[SUSPEND_DENY] = "deny", [SUSPEND_HIBERNATE] = "hibernate",
	[SUSPEND_SNAPSHOT] = "snapshot",
};

struct queued {
	uint64_t client;
	struct api_request req;
};

struct control {
	struct api_server *srv;
	struct vm *vm;
	double t_start;

	pthread_mutex_t lock;           /* everything below */
	/* Requests from the socket's thread; each client has one at most. */
	unsigned nqueued;
	struct queued queue[API_MAX_CLIENTS];
	enum ctl_state state;
	/* The request the main loop carries out (hibernate, snapshot,
	 * poweroff), waiting for the guest: one at a time. */
	int active;
	struct queued act;
	char act_image[API_MAX_STR];    /* where it checkpoints to */
	double t_press, deadline, t_suspend;
	/* A hibernate or snapshot timed out: its sleep key cannot be taken
	 * back, and the reply said the guest keeps running, so the suspend the
	 * key may still cause is denied. */
	int stale_press;
	int closing;                    /* control_stop: no more requests */
	/* The last checkpoint, for status. */
	int have_last;
	char last_image[API_MAX_STR];
	struct image_write_stats last;
	double last_seconds;
};

static void reply(struct control *c, uint64_t client, struct api_writer *w)
{
	size_t len;
	const char *line = api_end(w, &len);

	api_server_reply(c->srv, client, line, len);
}

static void reply_error(struct control *c, uint64_t client, const char *msg)
{
	struct api_writer w;
	size_t len;
	const char *line = api_error_reply(&w, &len, "%s", msg);

	api_server_reply(c->srv, client, line, len);
}

static void event(struct control *c, struct api_writer *w)
{
	size_t len;
	const char *line = api_end(w, &len);

	api_server_event(c->srv, line, len);
}

static void simple_event(struct control *c, const char *name)
{
	struct api_writer w;

	api_begin_event(&w, name);
	event(c, &w);
}

/* On the socket's thread, without the VM: the state as it stands. */
static void answer_status(struct control *c, uint64_t client)
{
	struct vm *vm = c->vm;
	struct api_writer w;
	int asleep;

	pthread_mutex_lock(&vm->ctl_lock);
	asleep = vm->resume_pending;
	pthread_mutex_unlock(&vm->ctl_lock);
	api_begin_reply(&w, 1);
	pthread_mutex_lock(&c->lock);
	api_put_str(&w, "state", asleep && c->state == ST_RUNNING ? "asleep" :
		    state_names[c->state]);
	api_put_u64(&w, "vcpus", vm->cfg.ncpus);
	api_put_u64(&w, "ram_bytes", vm->ram_size);
	if (vm->opts->image)
		api_put_str(&w, "image", vm->opts->image);
	api_put_str(&w, "on_suspend", mode_names[vm->opts->on_suspend]);
	api_put_num(&w, "uptime_s", now_seconds() - c->t_start, 2);
	api_put_int(&w, "pid", getpid());
	if (c->have_last) {
		api_put_str(&w, "last_image", c->last_image);
		api_put_u64(&w, "last_bytes", c->last.file_bytes);
		api_put_num(&w, "last_ratio", image_write_ratio(&c->last), 2);
		api_put_num(&w, "last_seconds", c->last_seconds, 3);
	}
	pthread_mutex_unlock(&c->lock);
	reply(c, client, &w);
}

static void on_request(void *ctx, uint64_t client, const struct api_request *req)
{
	struct control *c = ctx;

	if (req->kind == API_REQ_STATUS) {
		answer_status(c, client);
		return;
	}
	pthread_mutex_lock(&c->lock);
	if (c->closing) {
		pthread_mutex_unlock(&c->lock);
		reply_error(c, client, "torpor is ending");
		return;
	}
	/* A client has one request outstanding, so the queue cannot fill. */
	if (c->nqueued < API_MAX_CLIENTS) {
		c->queue[c->nqueued].client = client;
		c->queue[c->nqueued++].req = *req;
		pthread_mutex_unlock(&c->lock);
		vm_notify(c->vm);
		return;
	}
	pthread_mutex_unlock(&c->lock);
	reply_error(c, client, "too many requests at once");
}

int control_start(struct vm *vm)
{
	struct control *c;
	char err[512];

	if (!vm->opts->api_socket)
		return 0;
	c = calloc(1, sizeof(*c));
	if (!c)
		return fail(EXIT_FAILURE_RT, "out of memory");
	c->vm = vm;
	c->t_start = now_seconds();
	pthread_mutex_init(&c->lock, NULL);
	c->srv = api_server_start(vm->opts->api_socket, on_request, c, err, sizeof(err));
	if (!c->srv) {
		pthread_mutex_destroy(&c->lock);
		free(c);
		return fail(EXIT_USAGE, "--api-socket: %s", err);
	}
	vm->control = c;
	return 0;
}

/* Presses key on the device that has buttons; -EAGAIN when none listens. */
static int press_key(struct vm *vm, uint16_t key)
{
	int ret = -ENODEV;

	pthread_mutex_lock(&vm->dev_lock);
	for (unsigned i = 0; i < vm->ndevs && ret; i++)
		if (vm->devs[i].ops->press)
			ret = vm->devs[i].ops->press(vm->devs[i].obj, key);
	pthread_mutex_unlock(&vm->dev_lock);
	return ret;
}

/* hibernate, snapshot, poweroff: press the key and wait for the guest.
 * Called with c->lock held. */
static void start_request(struct control *c, const struct queued *q)
{
	struct vm *vm = c->vm;
	const struct api_request *r = &q->req;
	const char *image = r->image[0] ? r->image : vm->opts->image;
	int power = r->kind == API_REQ_POWEROFF, asleep, ret;
	char err[API_MAX_STR + 128];

	pthread_mutex_lock(&vm->ctl_lock);
	asleep = vm->resume_pending;
	pthread_mutex_unlock(&vm->ctl_lock);
	if (c->active) {
		snprintf(err, sizeof(err), "busy: a %s request is in progress",
			 api_request_name(c->act.req.kind));
		reply_error(c, q->client, err);
		return;
	}
	if (asleep) {
		reply_error(c, q->client, "the guest is asleep: wake it first");
		return;
	}
	if (!power) {
		if (!image) {
			reply_error(c, q->client, "no image to write: give \"image\", or "
				    "start torpor with --image");
			return;
		}
		if (!(vm->cfg.caps & VM_CAP_SYSTEM_SUSPEND)) {
			reply_error(c, q->client, "this host's KVM lacks "
				    "KVM_CAP_ARM_SYSTEM_SUSPEND: the guest cannot suspend");
			return;
		}
		if (strlen(image) >= sizeof(c->act_image)) {
			reply_error(c, q->client, "the image's path is too long");
			return;
		}
		if (image_path_check(image, err, sizeof(err))) {
			/* Its message names the command-line option. */
			reply_error(c, q->client, strncmp(err, "--image: ", 9) ? err : err + 9);
			return;
		}
	}
	ret = press_key(vm, power ? KEY_POWER : KEY_SLEEP);
	if (ret) {
		snprintf(err, sizeof(err), "cannot press the %s key: %s; the guest keeps "
			 "running", power ? "power" : "sleep", ret == -EAGAIN ?
			 "the guest's virtio-input driver is not listening" :
			 strerror(-ret));
		reply_error(c, q->client, err);
		return;
	}
	c->active = 1;
	c->stale_press = 0;
	c->act = *q;
	snprintf(c->act_image, sizeof(c->act_image), "%s", image ? image : "");
	c->t_press = now_seconds();
	c->deadline = c->t_press + r->timeout_s;
	c->t_suspend = 0;
	c->state = power ? ST_POWERING_OFF : ST_SUSPEND_REQUESTED;
	if (!power)
		simple_event(c, "suspend-requested");
}

/* Called with c->lock held. */
static void carry_out(struct control *c, const struct queued *q)
{
	struct vm *vm = c->vm;
	struct api_writer w;
	char how[128];

	switch (q->req.kind) {
	case API_REQ_HIBERNATE:
	case API_REQ_SNAPSHOT:
	case API_REQ_POWEROFF:
		start_request(c, q);
		return;
	case API_REQ_QUIT:
		api_begin_reply(&w, 1);
		api_put_str(&w, "note", "torpor ends now without a checkpoint: the guest "
			    "is lost");
		reply(c, q->client, &w);
		log_info("quit on request of the control socket: the guest is lost");
		vm_request_exit(vm, EXIT_OK);
		return;
	case API_REQ_WAKE:
		if (vm_wake_guest(vm, how, sizeof(how))) {
			reply_error(c, q->client, "the guest is not asleep");
			return;
		}
		api_begin_reply(&w, 1);
		api_put_str(&w, "woken", how);
		reply(c, q->client, &w);
		return;
	default:        /* status and events never reach the main loop */
		reply_error(c, q->client, "internal: request not for the main loop");
		return;
	}
}

void control_run(struct vm *vm)
{
	struct control *c = vm->control;
	char err[128];

	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	for (unsigned i = 0; i < c->nqueued; i++)
		carry_out(c, &c->queue[i]);
	c->nqueued = 0;
	/* A checkpoint under way is not cut short: its request waits for it. */
	if (c->active && c->state != ST_CHECKPOINTING && now_seconds() >= c->deadline) {
		snprintf(err, sizeof(err), "the guest did not %s within %g s; it keeps "
			 "running", c->act.req.kind == API_REQ_POWEROFF ? "power off" :
			 "suspend", c->act.req.timeout_s);
		reply_error(c, c->act.client, err);
		c->stale_press = c->act.req.kind != API_REQ_POWEROFF;
		c->active = 0;
		c->state = ST_RUNNING;
	}
	pthread_mutex_unlock(&c->lock);
}

int control_timeout_ms(struct vm *vm)
{
	struct control *c = vm->control;
	double left;
	int ms = -1;

	if (!c)
		return -1;
	pthread_mutex_lock(&c->lock);
	if (c->active && c->state != ST_CHECKPOINTING) {
		left = c->deadline - now_seconds();
		ms = left <= 0 ? 0 : (int)(left * 1000) + 1;
	}
	pthread_mutex_unlock(&c->lock);
	return ms;
}

/* The request waiting for a suspend, if there is one (c->lock held). */
static int waits_for_suspend(const struct control *c)
{
	return c->active && (c->act.req.kind == API_REQ_HIBERNATE ||
			     c->act.req.kind == API_REQ_SNAPSHOT);
}

void control_policy(struct vm *vm, struct suspend_policy *pol)
{
	struct control *c = vm->control;

	pol->mode = vm->opts->on_suspend;
	pol->image = vm->opts->image;
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	if (waits_for_suspend(c)) {
		pol->mode = c->act.req.kind == API_REQ_HIBERNATE ? SUSPEND_HIBERNATE :
			    SUSPEND_SNAPSHOT;
		pol->image = c->act_image;
		if (!c->t_suspend)
			c->t_suspend = now_seconds();
	} else if (c->stale_press) {
		log_info("the guest suspended after its request timed out: denied, as "
			 "the reply said it keeps running");
		pol->mode = SUSPEND_DENY;
		c->stale_press = 0;
	}
	pthread_mutex_unlock(&c->lock);
}

void control_checkpoint_started(struct vm *vm, const char *image)
{
	struct control *c = vm->control;
	struct api_writer w;

	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	if (c->state != ST_POWERING_OFF)
		c->state = ST_CHECKPOINTING;
	pthread_mutex_unlock(&c->lock);
	api_begin_event(&w, "checkpoint-started");
	api_put_str(&w, "image", image);
	event(c, &w);
}

/* The figures of a checkpoint, in a reply or an event. */
static void put_figures(struct api_writer *w, const char *image,
			const struct image_write_stats *s, double secs)
{
	api_put_str(w, "image", image);
	api_put_u64(w, "bytes", s->file_bytes);
	api_put_num(w, "ratio", image_write_ratio(s), 2);
	api_put_num(w, "seconds", secs, 3);
}

void control_checkpoint_done(struct vm *vm, const struct suspend_policy *pol,
			     const struct image_write_stats *s, double secs)
{
	struct control *c = vm->control;
	struct api_writer w;

	if (!c)
		return;
	api_begin_event(&w, "checkpoint-done");
	put_figures(&w, pol->image, s, secs);
	api_put_str(&w, "mode", mode_names[pol->mode]);
	event(c, &w);
	pthread_mutex_lock(&c->lock);
	c->have_last = 1;
	snprintf(c->last_image, sizeof(c->last_image), "%s", pol->image);
	c->last = *s;
	c->last_seconds = secs;
	if (waits_for_suspend(c)) {
		api_begin_reply(&w, 1);
		put_figures(&w, pol->image, s, secs);
		api_put_num(&w, "suspend_s", c->t_suspend - c->t_press, 3);
		api_put_num(&w, "checkpoint_s", secs, 3);
		reply(c, c->act.client, &w);
		c->active = 0;
	}
	/* A hibernated guest is gone: the state stays until torpor exits. */
	if (pol->mode == SUSPEND_SNAPSHOT && c->state != ST_POWERING_OFF)
		c->state = ST_RUNNING;
	pthread_mutex_unlock(&c->lock);
}

/* Fails the request waiting for a suspend with "<what>: why; the guest keeps
 * running". */
static void fail_waiting(struct control *c, const char *what, const char *why)
{
	char msg[600];

	pthread_mutex_lock(&c->lock);
	if (waits_for_suspend(c)) {
		snprintf(msg, sizeof(msg), "%s: %s; the guest keeps running", what, why);
		reply_error(c, c->act.client, msg);
		c->active = 0;
	}
	if (c->state != ST_POWERING_OFF)
		c->state = ST_RUNNING;
	pthread_mutex_unlock(&c->lock);
}

static void failed_event(struct control *c, const char *why)
{
	struct api_writer w;

	api_begin_event(&w, "checkpoint-failed");
	api_put_str(&w, "reason", why);
	event(c, &w);
}

void control_checkpoint_failed(struct vm *vm, const char *why)
{
	if (!vm->control)
		return;
	failed_event(vm->control, why);
	fail_waiting(vm->control, "the checkpoint failed", why);
}

void control_checkpoint_cancelled(struct vm *vm, int sig)
{
	char why[64];

	if (!vm->control)
		return;
	snprintf(why, sizeof(why), "stopped by signal %d: torpor ends", sig);
	failed_event(vm->control, why);
}

void control_suspend_refused(struct vm *vm, const char *why)
{
	if (vm->control)
		fail_waiting(vm->control, "the guest's suspend was refused", why);
}

void control_resumed(struct vm *vm)
{
	if (vm->control)
		simple_event(vm->control, "resumed");
}

void control_woken(struct vm *vm, const char *how)
{
	struct api_writer w;

	if (!vm->control)
		return;
	api_begin_event(&w, "wakeup");
	api_put_str(&w, "how", how);
	event(vm->control, &w);
}

void control_stop(struct vm *vm, int code)
{
	struct control *c = vm->control;
	int status = code >= 0 ? code : fail_code();
	struct api_writer w;
	char msg[128];
	int off;

	if (!c)
		return;
	pthread_mutex_lock(&vm->ctl_lock);
	off = vm->powered_off;
	pthread_mutex_unlock(&vm->ctl_lock);
	snprintf(msg, sizeof(msg), "torpor is ending (exit %d)", status);
	if (off)
		simple_event(c, "poweroff");
	pthread_mutex_lock(&c->lock);
	c->closing = 1;
	for (unsigned i = 0; i < c->nqueued; i++)
		reply_error(c, c->queue[i].client, msg);
	c->nqueued = 0;
	if (c->active && c->act.req.kind == API_REQ_POWEROFF && off) {
		api_begin_reply(&w, 1);
		api_put_num(&w, "seconds", now_seconds() - c->t_press, 3);
		reply(c, c->act.client, &w);
	} else if (c->active) {
		reply_error(c, c->act.client, msg);
	}
	c->active = 0;
	pthread_mutex_unlock(&c->lock);
	api_begin_event(&w, "exit");
	api_put_int(&w, "code", status);
	event(c, &w);
	api_server_stop(c->srv, 1000);
	pthread_mutex_destroy(&c->lock);
	free(c);
	vm->control = NULL;
}
