/* test_ctl.c - `torpor ctl` without a VM: its command line, and the client
 * run against a fake server thread on a socket in a temporary directory —
 * ok and error replies, nothing at the path, a server that closes without
 * answering, and the events stream until the server closes. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"
#include "exitcodes.h"

/* --- the command line ------------------------------------------------------- */

#define CASE_ARGS       8

struct argv_case {
	char argv[CASE_ARGS][32];       /* after "ctl"; "" ends it */
	char msg[96];                   /* "" for a good command line */
};

static int parse_case(const struct argv_case *c, struct ctl_options *o, char *err,
		      size_t errlen)
{
	char *argv[CASE_ARGS + 2] = { "ctl" };
	int argc = 1;

	for (int i = 0; i < CASE_ARGS && c->argv[i][0]; i++)
		argv[argc++] = (char *)c->argv[i];
	err[0] = '\0';
	return ctl_options_parse(o, argc, argv, err, errlen);
}

ParameterizedTestParameters(ctl_options, refused)
{
	static struct argv_case cases[] = {
		{ { "" }, "PATH (the control socket) is required" },
		{ { "--json" }, "PATH (the control socket) is required" },
		{ { "/s" }, "REQUEST is required (status, hibernate, snapshot, poweroff, quit, "
		  "wake, events)" },
		{ { "/s", "frob" }, "unknown request 'frob' (status, hibernate, snapshot, "
		  "poweroff, quit, wake, events)" },
		{ { "/s", "status", "extra" }, "unexpected argument 'extra'" },
		{ { "/s", "status", "--frob" }, "unknown option '--frob'" },
		{ { "/s", "status", "--image", "x" }, "--image is for hibernate and snapshot, "
		  "not status" },
		{ { "/s", "poweroff", "--image=x" }, "--image is for hibernate and snapshot" },
		{ { "/s", "events", "--timeout", "5" }, "--timeout is for hibernate, snapshot "
		  "and poweroff, not events" },
		{ { "/s", "quit", "--timeout=5" }, "--timeout is for" },
		{ { "/s", "wake", "--timeout", "5" }, "--timeout is for" },
		{ { "/s", "hibernate", "--image" }, "--image needs a PATH" },
		{ { "/s", "hibernate", "--timeout" }, "--timeout needs SECONDS" },
		{ { "/s", "hibernate", "--image=" }, "--image must not be empty" },
		{ { "/s", "hibernate", "--image", "a", "--image", "b" }, "--image given twice" },
		{ { "/s", "hibernate", "--timeout", "1", "--timeout", "2" },
		  "--timeout given twice" },
		{ { "/s", "hibernate", "--timeout", "0.05" },
		  "--timeout must be seconds from 0.1 to 86400: '0.05'" },
		{ { "/s", "hibernate", "--timeout", "86401" }, "--timeout must be seconds" },
		{ { "/s", "snapshot", "--timeout", "30s" }, "--timeout must be seconds" },
		{ { "/s", "snapshot", "--timeout", "1e400" }, "--timeout must be seconds" },
		{ { "/s", "snapshot", "--timeout", " 5" }, "--timeout must be seconds" },
		{ { "/s", "snapshot", "--timeout", "0x10" }, "--timeout must be seconds" },
		{ { "/s", "snapshot", "--timeout", "nan" }, "--timeout must be seconds" },
		{ { "/s", "snapshot", "--timeout", "inf" }, "--timeout must be seconds" },
	};

	return cr_make_param_array(struct argv_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct argv_case *c, ctl_options, refused)
{
	struct ctl_options o;
	char err[256];

	cr_assert_eq(parse_case(c, &o, err, sizeof(err)), -EINVAL, "accepted: %s", c->msg);
	cr_assert(strstr(err, c->msg), "reason '%s' lacks '%s'", err, c->msg);
}

Test(ctl_options, path_too_long)
{
	char path[200], err[256];
	char *argv[] = { "ctl", path, "status", NULL };
	char *empty[] = { "ctl", "", "status", NULL };
	struct ctl_options o;

	cr_assert_eq(ctl_options_parse(&o, 3, empty, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "PATH must be 1 to 107 bytes"), "%s", err);
	memset(path, 'p', 108);
	path[108] = '\0';
	cr_assert_eq(ctl_options_parse(&o, 3, argv, err, sizeof(err)), -EINVAL);
	memset(path, 'p', 107);
	path[107] = '\0';
	cr_assert_eq(ctl_options_parse(&o, 3, argv, err, sizeof(err)), 0, "%s", err);

	memset(path, 'p', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	cr_assert_eq(ctl_options_parse(&o, 3, argv, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "PATH must be 1 to 107 bytes"), "%s", err);
}

Test(ctl_options, image_too_long)
{
	static char image[API_MAX_STR + 10];
	char err[256];
	char *argv[] = { "ctl", "/s", "hibernate", "--image", image, NULL };
	struct ctl_options o;

	memset(image, 'i', sizeof(image) - 1);
	cr_assert_eq(ctl_options_parse(&o, 5, argv, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "does not fit in one line of 4096 bytes (--image is too long)"),
		  "%s", err);
}

Test(ctl_options, accepted)
{
	char err[256];
	struct ctl_options o;
	char *a1[] = { "ctl", "--json", "/run/vm.sock", "hibernate", "--image=/a.img",
		       "--timeout", "2.5", NULL };
	char *a2[] = { "ctl", "/s", "--timeout=30", "poweroff", NULL };
	char *a3[] = { "ctl", "/s", "events", "-h", NULL };
	char *a4[] = { "ctl", "/s", "-", NULL };         /* "-" is a name, not an option */

	cr_assert_eq(ctl_options_parse(&o, 7, a1, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(o.path, "/run/vm.sock");
	cr_assert_eq(o.kind, API_REQ_HIBERNATE);
	cr_assert_str_eq(o.image, "/a.img");
	cr_assert(o.has_timeout && o.timeout_s == 2.5 && o.json);
	cr_assert_eq(ctl_options_parse(&o, 4, a2, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(o.kind, API_REQ_POWEROFF);
	cr_assert_null(o.image);
	cr_assert_eq(o.timeout_s, 30);
	cr_assert_eq(ctl_options_parse(&o, 4, a3, err, sizeof(err)), 0, "%s", err);
	cr_assert(o.help);
	cr_assert_eq(ctl_options_parse(&o, 3, a4, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "unknown request '-'"), "%s", err);
}

Test(ctl_options, request_lines)
{
	static struct api_writer w;
	char err[256];
	struct ctl_options o;
	char *a1[] = { "ctl", "/s", "snapshot", "--image", "/a \"b\".img", "--timeout", "0.25",
		       NULL };
	char *a2[] = { "ctl", "/s", "wake", NULL };
	int len;

	cr_assert_eq(ctl_options_parse(&o, 7, a1, err, sizeof(err)), 0, "%s", err);
	len = ctl_request_line(&o, &w, err, sizeof(err));
	cr_assert_gt(len, 0, "%s", err);
	cr_assert_str_eq(w.buf, "{\"request\": \"snapshot\", \"image\": \"/a \\\"b\\\".img\", "
			 "\"timeout\": 0.250}\n");
	cr_assert_eq((size_t)len, strlen(w.buf));
	cr_assert_eq(ctl_options_parse(&o, 3, a2, err, sizeof(err)), 0, "%s", err);
	ctl_request_line(&o, &w, err, sizeof(err));
	cr_assert_str_eq(w.buf, "{\"request\": \"wake\"}\n");
}

/* --- a fake server ------------------------------------------------------------- */

struct fake {
	char dir[64];
	char path[108];
	int lfd;
	const char *script;     /* bytes sent after the request; NULL: close at once */
	size_t script_len;
	int split;              /* send the script in two writes, 20 ms apart */
	char got[API_MAX_LINE + 1];     /* the request line received */
	pthread_t thread;
};

static void *serve(void *arg)
{
	struct fake *f = arg;
	int fd = accept(f->lfd, NULL, NULL);
	size_t n = 0;

	if (fd < 0)
		return NULL;
	while (n < sizeof(f->got) - 1) {
		ssize_t k = read(fd, f->got + n, sizeof(f->got) - 1 - n);

		if (k <= 0)
			break;
		n += (size_t)k;
		if (memchr(f->got, '\n', n))
			break;
	}
	f->got[n] = '\0';
	if (f->script && f->split) {
		size_t half = f->script_len / 2;

		cr_assert_eq(write(fd, f->script, half), (ssize_t)half);
		usleep(20000);
		cr_assert_eq(write(fd, f->script + half, f->script_len - half),
			     (ssize_t)(f->script_len - half));
	} else if (f->script) {
		cr_assert_eq(write(fd, f->script, f->script_len), (ssize_t)f->script_len);
	}
	close(fd);
	return NULL;
}

static void fake_start(struct fake *f, const char *script, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(f, 0, sizeof(*f));
	strcpy(f->dir, "/tmp/torpor_ctl.XXXXXX");
	cr_assert_not_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/api.sock", f->dir);
	f->script = script;
	f->script_len = script ? (len ? len : strlen(script)) : 0;
	f->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_geq(f->lfd, 0);
	strcpy(sa.sun_path, f->path);
	cr_assert_eq(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(f->lfd, 1), 0);
	cr_assert_eq(pthread_create(&f->thread, NULL, serve, f), 0);
}

static void fake_stop(struct fake *f)
{
	pthread_join(f->thread, NULL);
	close(f->lfd);
	unlink(f->path);
	rmdir(f->dir);
}

struct outcome {
	int code;
	char out[4 * API_MAX_REPLY];
	char err[1024];
};

/* Runs `ctl PATH args...` with its output captured. */
static void run_ctl(struct outcome *r, const char *path, const char *const *args)
{
	char *argv[16] = { "ctl", (char *)path };
	int argc = 2;
	struct ctl_options o;
	char why[256], *obuf, *ebuf;
	size_t olen, elen;
	FILE *out, *err;

	while (*args)
		argv[argc++] = (char *)*args++;
	cr_assert_eq(ctl_options_parse(&o, argc, argv, why, sizeof(why)), 0, "%s", why);
	out = open_memstream(&obuf, &olen);
	err = open_memstream(&ebuf, &elen);
	r->code = ctl_run(&o, out, err);
	fclose(out);
	fclose(err);
	cr_assert_lt(olen, sizeof(r->out));
	memcpy(r->out, obuf, olen + 1);
	snprintf(r->err, sizeof(r->err), "%s", ebuf);
	free(obuf);
	free(ebuf);
}

#define CTL(r, path, ...) run_ctl((r), (path), (const char *const[]){ __VA_ARGS__, NULL })

Test(ctl_run, ok_reply_human)
{
	struct fake f;
	static struct outcome r;

	fake_start(&f, "{\"ok\": true, \"state\": \"running\", \"vcpus\": 2, "
		   "\"ram_bytes\": 268435456, \"image\": \"/var/a b.img\", \"on_suspend\": "
		   "\"hibernate\", \"uptime_s\": 12.5, \"pid\": 4321, \"last_ratio\": 3.2, "
		   "\"odd\": \"x\\ny\", \"flag\": false, \"none\": null}\n", 0);
	CTL(&r, f.path, "status");
	fake_stop(&f);
	cr_assert_eq(r.code, EXIT_OK, "%s", r.err);
	cr_assert_str_eq(f.got, "{\"request\": \"status\"}\n");
	cr_assert_str_eq(r.out, "state: running\nvcpus: 2\nram_bytes: 268435456\n"
			 "image: /var/a b.img\non_suspend: hibernate\nuptime_s: 12.5\n"
			 "pid: 4321\nlast_ratio: 3.2\nodd: x?y\nflag: false\nnone: null\n");
	cr_assert_str_eq(r.err, "");
}

Test(ctl_run, ok_reply_json)
{
	static const char reply[] = "{\"ok\": true, \"image\": \"/a.img\", \"bytes\": 10, "
		"\"ratio\": 2.00, \"seconds\": 0.125}\n";
	struct fake f;
	static struct outcome r;

	fake_start(&f, reply, 0);
	CTL(&r, f.path, "--json", "hibernate", "--image", "/a.img", "--timeout", "30");
	fake_stop(&f);
	cr_assert_eq(r.code, EXIT_OK);
	cr_assert_str_eq(f.got, "{\"request\": \"hibernate\", \"image\": \"/a.img\", "
			 "\"timeout\": 30}\n");
	cr_assert_str_eq(r.out, reply);
}

Test(ctl_run, error_reply)
{
	struct fake f;
	static struct outcome r;

	fake_start(&f, "{\"ok\": false, \"error\": \"the guest did not suspend within 30 s; "
		   "it keeps running\"}\n", 0);
	CTL(&r, f.path, "snapshot");
	fake_stop(&f);
	cr_assert_eq(r.code, EXIT_FAILURE_RT);
	cr_assert_str_eq(r.out, "");
	cr_assert_str_eq(r.err, "torpor ctl: the guest did not suspend within 30 s; "
			 "it keeps running\n");
}

Test(ctl_run, error_reply_json_and_without_reason)
{
	static const char reply[] = "{\"ok\": false, \"error\": \"no\"}\n";
	struct fake f;
	static struct outcome r;

	fake_start(&f, reply, 0);
	CTL(&r, f.path, "--json", "wake");
	fake_stop(&f);
	cr_assert_eq(r.code, EXIT_FAILURE_RT);
	cr_assert_str_eq(r.out, reply);

	fake_start(&f, "{\"ok\": false}\n", 0);
	CTL(&r, f.path, "wake");
	fake_stop(&f);
	cr_assert_eq(r.code, EXIT_FAILURE_RT);
	cr_assert(strstr(r.err, "the request failed"), "%s", r.err);
}

Test(ctl_run, no_socket)
{
	char dir[] = "/tmp/torpor_ctl.XXXXXX", path[128];
	static struct outcome r;
	FILE *f;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/none.sock", dir);
	CTL(&r, path, "status");
	cr_assert_eq(r.code, EXIT_NO_VM);
	cr_assert(strstr(r.err, "no socket at"), "%s", r.err);
	cr_assert_str_eq(r.out, "");

	/* a file that is not a socket */
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fclose(f);
	CTL(&r, path, "status");
	cr_assert_eq(r.code, EXIT_NO_VM);
	cr_assert(strstr(r.err, "is not a socket"), "%s", r.err);
	unlink(path);

	/* a socket nobody listens on: a stale one */
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);

		strcpy(sa.sun_path, path);
		cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
		close(fd);
	}
	CTL(&r, path, "status");
	cr_assert_eq(r.code, EXIT_NO_VM);
	cr_assert(strstr(r.err, "connection refused"), "%s", r.err);
	unlink(path);
	rmdir(dir);
}

Test(ctl_run, closed_without_reply)
{
	struct fake f;
	static struct outcome r;

	fake_start(&f, NULL, 0);
	CTL(&r, f.path, "status");
	fake_stop(&f);
	cr_assert_eq(r.code, EXIT_NO_VM);
	cr_assert(strstr(r.err, "broke before the reply: closed"), "%s", r.err);

	/* half a line, then the end */
	fake_start(&f, "{\"ok\": tr", 0);
	CTL(&r, f.path, "status");
	fake_stop(&f);
	cr_assert_eq(r.code, EXIT_NO_VM);
	cr_assert(strstr(r.err, "broke before the reply"), "%s", r.err);
}

Test(ctl_run, not_a_reply)
{
	struct fake f;
	static struct outcome r;

	fake_start(&f, "hello\n", 0);
	CTL(&r, f.path, "status");
	fake_stop(&f);
	cr_assert_eq(r.code, EXIT_FAILURE_RT);
	cr_assert(strstr(r.err, "a malformed reply: expected '{'"), "%s", r.err);

	fake_start(&f, "{\"ok\": 1}\n", 0);
	CTL(&r, f.path, "status");
	fake_stop(&f);
	cr_assert_eq(r.code, EXIT_FAILURE_RT);
	cr_assert(strstr(r.err, "not a reply"), "%s", r.err);
}

Test(ctl_run, reply_size_limit)
{
	static char reply[API_MAX_REPLY + 64];
	struct fake f;
	static struct outcome r;
	int n;

	/* API_MAX_REPLY bytes, newline included: read whole */
	n = snprintf(reply, sizeof(reply), "{\"ok\": true, \"a\": \"");
	memset(reply + n, 'a', API_MAX_STR - 1);
	n += API_MAX_STR - 1;
	n += snprintf(reply + n, sizeof(reply) - n, "\", \"b\": \"");
	memset(reply + n, 'b', API_MAX_STR - 1);
	n += API_MAX_STR - 1;
	n += snprintf(reply + n, sizeof(reply) - n, "\", \"c\": \"");
	memset(reply + n, 'c', API_MAX_STR - 1);
	n += API_MAX_STR - 1;
	n += snprintf(reply + n, sizeof(reply) - n, "\", \"d\": \"");
	memset(reply + n, 'd', API_MAX_REPLY - 3 - n);
	n = API_MAX_REPLY - 3;
	memcpy(reply + n, "\"}\n", 4);
	cr_assert_eq(strlen(reply), API_MAX_REPLY);
	fake_start(&f, reply, 0);
	CTL(&r, f.path, "--json", "status");
	fake_stop(&f);
	cr_assert_eq(r.code, EXIT_OK, "%s", r.err);
	cr_assert_str_eq(r.out, reply);

	/* one byte more is not a reply */
	memcpy(reply + n, "d\"}\n", 5);
	fake_start(&f, reply, 0);
	CTL(&r, f.path, "status");
	fake_stop(&f);
	cr_assert_eq(r.code, EXIT_FAILURE_RT);
	cr_assert(strstr(r.err, "a reply longer than 8192 bytes"), "%s", r.err);
}

static const char events_script[] =
	"{\"ok\": true}\n"
	"{\"event\": \"suspend-requested\"}\n"
	"{\"event\": \"checkpoint-started\"}\n"
	"{\"event\": \"checkpoint-done\", \"image\": \"/var/a b.img\", \"bytes\": 123456, "
	"\"ratio\": 3.25, \"seconds\": 1.5}\n"
	"{\"event\": \"checkpoint-failed\", \"reason\": \"no space left\"}\n"
	"{\"event\": \"exit\", \"code\": 7}\n";

Test(ctl_run, events_until_eof)
{
	struct fake f;
	static struct outcome r;

	fake_start(&f, events_script, 0);
	CTL(&r, f.path, "events");
	fake_stop(&f);
	cr_assert_eq(r.code, EXIT_OK, "%s", r.err);
	cr_assert_str_eq(f.got, "{\"request\": \"events\"}\n");
	cr_assert_str_eq(r.out, "suspend-requested\ncheckpoint-started\n"
			 "checkpoint-done image=\"/var/a b.img\" bytes=123456 ratio=3.25 "
			 "seconds=1.5\ncheckpoint-failed reason=\"no space left\"\nexit code=7\n");
	cr_assert_str_eq(r.err, "");
}

Test(ctl_run, events_json)
{
	struct fake f;
	static struct outcome r;

	fake_start(&f, events_script, 0);
	CTL(&r, f.path, "--json", "events");
	fake_stop(&f);
	cr_assert_eq(r.code, EXIT_OK);
	cr_assert_str_eq(r.out, events_script);
}

Test(ctl_run, events_broken_and_malformed)
{
	struct fake f;
	static struct outcome r;

	/* a malformed event is skipped with a note; the stream goes on */
	fake_start(&f, "{\"ok\": true}\nnot json\n{\"event\": \"wakeup\"}\n", 0);
	CTL(&r, f.path, "events");
	fake_stop(&f);
	cr_assert_eq(r.code, EXIT_OK);
	cr_assert_str_eq(r.out, "wakeup\n");
	cr_assert(strstr(r.err, "a malformed event, skipped"), "%s", r.err);

	/* the end inside an event: the connection broke */
	fake_start(&f, "{\"ok\": true}\n{\"event\": \"resumed\"}\n{\"event\": \"po", 0);
	CTL(&r, f.path, "events");
	fake_stop(&f);
	cr_assert_eq(r.code, EXIT_NO_VM);
	cr_assert_str_eq(r.out, "resumed\n");
	cr_assert(strstr(r.err, "broke in the middle of an event"), "%s", r.err);

	/* an error reply to events: no stream */
	fake_start(&f, "{\"ok\": false, \"error\": \"too many clients\"}\n"
		   "{\"event\": \"resumed\"}\n", 0);
	CTL(&r, f.path, "events");
	fake_stop(&f);
	cr_assert_eq(r.code, EXIT_FAILURE_RT);
	cr_assert_str_eq(r.out, "");
}

Test(ctl_run, events_long_line_skipped)
{
	static char script[2 * API_MAX_REPLY];
	struct fake f;
	static struct outcome r;
	int n = snprintf(script, sizeof(script), "{\"ok\": true}\n{\"event\": \"x\", \"s\": \"");

	memset(script + n, 's', API_MAX_REPLY);
	n += API_MAX_REPLY;
	snprintf(script + n, sizeof(script) - n, "\"}\n{\"event\": \"poweroff\"}\n");
	fake_start(&f, script, 0);
	CTL(&r, f.path, "events");
	fake_stop(&f);
	cr_assert_eq(r.code, EXIT_OK);
	cr_assert_str_eq(r.out, "poweroff\n");
	cr_assert(strstr(r.err, "an event longer than 8192 bytes, skipped"), "%s", r.err);
}

/* The reply comes in pieces: the client reads until the newline. */
Test(ctl_run, split_reply)
{
	struct fake f;
	static struct outcome r;

	fake_start(&f, "{\"ok\": true, \"note\": \"the guest is lost\"}\n", 0);
	f.split = 1;
	CTL(&r, f.path, "quit");
	fake_stop(&f);
	cr_assert_eq(r.code, EXIT_OK);
	cr_assert_str_eq(f.got, "{\"request\": \"quit\"}\n");
	cr_assert_str_eq(r.out, "note: the guest is lost\n");
}
