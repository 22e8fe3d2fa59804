/* ctl.c - `torpor ctl`: the control socket's client. The command line, the
 * request line built with api_proto's writer, the reply and events parsed
 * with api_object_parse and printed for people or as they came. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"
#include "exitcodes.h"
#include "log.h"

#define REQUEST_LIST    "status, hibernate, snapshot, poweroff, quit, wake, events"

/* --- the command line -------------------------------------------------------- */

static int takes_image(enum api_req_kind k)
{
	return k == API_REQ_HIBERNATE || k == API_REQ_SNAPSHOT;
}

static int takes_timeout(enum api_req_kind k)
{
	return takes_image(k) || k == API_REQ_POWEROFF;
}

/* The value of option `name` at argv[*i]: "--name=V" or "--name V". NULL if
 * argv[*i] is not that option; *missing when it lacks its value. */
static const char *opt_value(int argc, char **argv, int *i, const char *name, int *missing)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n))
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n])
		return NULL;
	if (*i + 1 >= argc) {
		*missing = 1;
		return NULL;
	}
	return argv[++*i];
}

int ctl_options_parse(struct ctl_options *o, int argc, char **argv,
		      char *err, size_t errlen)
{
	const char *request = NULL, *timeout = NULL;
	struct api_writer *w;
	int ret;

	memset(o, 0, sizeof(*o));
	for (int i = 1; i < argc; i++) {
		const char *v;
		int missing = 0;

		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			o->help = 1;
			return 0;
		} else if (!strcmp(argv[i], "--json")) {
			o->json = 1;
		} else if ((v = opt_value(argc, argv, &i, "--image", &missing)) || missing) {
			if (missing) {
				err_line(err, errlen, "--image needs a PATH");
				return -EINVAL;
			}
			if (o->image) {
				err_line(err, errlen, "--image given twice");
				return -EINVAL;
			}
			o->image = v;
		} else if ((v = opt_value(argc, argv, &i, "--timeout", &missing)) || missing) {
			if (missing) {
				err_line(err, errlen, "--timeout needs SECONDS");
				return -EINVAL;
			}
			if (timeout) {
				err_line(err, errlen, "--timeout given twice");
				return -EINVAL;
			}
			timeout = v;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			err_line(err, errlen, "unknown option '%s'", argv[i]);
			return -EINVAL;
		} else if (!o->path) {
			o->path = argv[i];
		} else if (!request) {
			request = argv[i];
		} else {
			err_line(err, errlen, "unexpected argument '%s'", argv[i]);
			return -EINVAL;
		}
	}
	if (!o->path) {
		err_line(err, errlen, "PATH (the control socket) is required");
		return -EINVAL;
	}
	if (!o->path[0] || strlen(o->path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		err_line(err, errlen, "PATH must be 1 to %zu bytes for a UNIX socket: '%s'",
			 sizeof(((struct sockaddr_un *)0)->sun_path) - 1, o->path);
		return -EINVAL;
	}
	if (!request) {
		err_line(err, errlen, "REQUEST is required (" REQUEST_LIST ")");
		return -EINVAL;
	}
	for (o->kind = API_REQ_STATUS; o->kind <= API_REQ_EVENTS; o->kind++)
		if (!strcmp(request, api_request_name(o->kind)))
			break;
	if (o->kind > API_REQ_EVENTS) {
		err_line(err, errlen, "unknown request '%s' (" REQUEST_LIST ")", request);
		return -EINVAL;
	}
	if (o->image && !takes_image(o->kind)) {
		err_line(err, errlen, "--image is for hibernate and snapshot, not %s", request);
		return -EINVAL;
	}
	if (o->image && !o->image[0]) {
		err_line(err, errlen, "--image must not be empty");
		return -EINVAL;
	}
	if (timeout) {
		char *end;

		if (!takes_timeout(o->kind)) {
			err_line(err, errlen, "--timeout is for hibernate, snapshot and poweroff, "
				 "not %s", request);
			return -EINVAL;
		}
		errno = 0;
		o->timeout_s = strtod(timeout, &end);
		/* decimal only: strtod would also take " 5", hex, nan and inf */
		if (end == timeout || *end || errno ||
		    strspn(timeout, "0123456789.eE+-") != strlen(timeout) ||
		    !(o->timeout_s >= API_MIN_TIMEOUT_S) ||
		    !(o->timeout_s <= API_MAX_TIMEOUT_S)) {
			err_line(err, errlen, "--timeout must be seconds from %g to %g: '%s'",
				 API_MIN_TIMEOUT_S, API_MAX_TIMEOUT_S, timeout);
			return -EINVAL;
		}
		o->has_timeout = 1;
	}
	/* What the VM would refuse is refused here, as a usage error. */
	w = malloc(sizeof(*w));
	if (!w) {
		err_line(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ret = ctl_request_line(o, w, err, errlen);
	free(w);
	return ret < 0 ? ret : 0;
}

int ctl_request_line(const struct ctl_options *o, struct api_writer *w,
		     char *err, size_t errlen)
{
	struct api_request req;
	const char *line;
	char why[256];
	size_t len;

	api_begin_request(w, api_request_name(o->kind));
	if (o->image)
		api_put_str(w, "image", o->image);
	if (o->has_timeout) {
		if (o->timeout_s == floor(o->timeout_s))
			api_put_u64(w, "timeout", (uint64_t)o->timeout_s);
		else
			api_put_num(w, "timeout", o->timeout_s, 3);
	}
	line = api_end(w, &len);
	if (!line || len > API_MAX_LINE) {
		err_line(err, errlen, "the request does not fit in one line of %d bytes%s",
			 API_MAX_LINE, o->image ? " (--image is too long)" : "");
		return -EINVAL;
	}
	if (api_request_parse(line, len - 1, &req, why, sizeof(why)) < 0) {
		err_line(err, errlen, "%s", why);
		return -EINVAL;
	}
	return (int)len;
}

/* --- printing ---------------------------------------------------------------- */

/* A number as people read it: integers whole, others in at most 15
 * significant digits (what the writer's 0..6 decimals hold). */
static void print_number(FILE *f, double v)
{
	if (v == floor(v) && fabs(v) < 1e15)
		fprintf(f, "%.0f", v == 0 ? 0.0 : v);
	else
		fprintf(f, "%.15g", v);
}

/* A string on one line: control characters as '?'; quoted ("..." with \"
 * and \\) when `quote` and it is empty or holds a space, '=', '"' or '\'. */
static void print_string(FILE *f, const char *s, int quote)
{
	int q = quote && (!s[0] || strpbrk(s, " \t=\"\\"));

	if (q)
		fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			fputc('?', f);
		else if (q && (*p == '"' || *p == '\\'))
			fprintf(f, "\\%c", *p);
		else
			fputc(*p, f);
	}
	if (q)
		fputc('"', f);
}

static void print_value(FILE *f, const struct api_field *fl, int quote)
{
	switch (fl->type) {
	case API_T_STRING: print_string(f, fl->str, quote); break;
	case API_T_NUMBER: print_number(f, fl->num); break;
	case API_T_BOOL: fputs(fl->boolean ? "true" : "false", f); break;
	case API_T_NULL: fputs("null", f); break;
	}
}

/* A reply's members but "ok", one "key: value" line each. */
static void print_reply(FILE *f, const struct api_object *o)
{
	for (unsigned i = 0; i < o->n; i++) {
		if (!strcmp(o->f[i].key, "ok"))
			continue;
		print_string(f, o->f[i].key, 0);
		fputs(": ", f);
		print_value(f, &o->f[i], 0);
		fputc('\n', f);
	}
}

/* "<event> key=value ..." on one line. */
static void print_event(FILE *f, const struct api_object *o)
{
	const struct api_field *ev = api_object_get(o, "event");

	print_string(f, ev && ev->type == API_T_STRING ? ev->str : "?", 0);
	for (unsigned i = 0; i < o->n; i++) {
		if (&o->f[i] == ev)
			continue;
		fputc(' ', f);
		print_string(f, o->f[i].key, 0);
		fputc('=', f);
		print_value(f, &o->f[i], 1);
	}
	fputc('\n', f);
}

/* --- the connection ---------------------------------------------------------- */

struct reader {
	int fd;
	size_t len;             /* bytes held in buf */
	size_t used;            /* of them, the line last returned and its newline */
	char buf[API_MAX_REPLY];
};

/* The next line (without its newline, NUL-terminated in place): its length;
 * -ENODATA at a clean end of the stream; -E2BIG for a line over
 * API_MAX_REPLY bytes (skipped up to its newline); -EPIPE for a stream that
 * ends inside a line; another -errno for a failed read. */
static ssize_t read_line(struct reader *r, char **line)
{
	int skipping = 0;

	memmove(r->buf, r->buf + r->used, r->len - r->used);
	r->len -= r->used;
	r->used = 0;
	for (;;) {
		char *nl = memchr(r->buf, '\n', r->len);
		ssize_t n;

		if (nl) {
			r->used = (size_t)(nl - r->buf) + 1;
			if (skipping)
				return -E2BIG;
			*nl = '\0';
			*line = r->buf;
			return nl - r->buf;
		}
		if (r->len == sizeof(r->buf)) {
			skipping = 1;
			r->len = 0;
		}
		n = read(r->fd, r->buf + r->len, sizeof(r->buf) - r->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return r->len || skipping ? -EPIPE : -ENODATA;
		r->len += (size_t)n;
	}
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* A connected socket, or -1 with the reason on errf. */
static int ctl_connect(const char *path, FILE *errf)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (stat(path, &st) < 0) {
		if (errno == ENOENT)
			fprintf(errf, "torpor ctl: no socket at %s (is torpor running with "
				"--api-socket %s?)\n", path, path);
		else
			fprintf(errf, "torpor ctl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		fprintf(errf, "torpor ctl: %s is not a socket\n", path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(errf, "torpor ctl: socket: %s\n", strerror(errno));
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);    /* checked by ctl_options_parse */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno == ECONNREFUSED)
			fprintf(errf, "torpor ctl: nothing answers at %s (connection refused: "
				"the torpor that made it has gone)\n", path);
		else
			fprintf(errf, "torpor ctl: cannot connect to %s: %s\n", path,
				strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* The events after an ok reply to `events`, until the VM closes the socket. */
static int follow_events(struct reader *r, struct api_object *obj,
			 const struct ctl_options *o, FILE *out, FILE *errf)
{
	for (;;) {
		char *line, why[256];
		ssize_t n = read_line(r, &line);

		if (n == -ENODATA)
			return EXIT_OK;
		if (n == -E2BIG) {
			fprintf(errf, "torpor ctl: an event longer than %d bytes, skipped\n",
				API_MAX_REPLY);
			continue;
		}
		if (n < 0) {
			fprintf(errf, "torpor ctl: the connection broke in the middle of an "
				"event: %s\n", n == -EPIPE ? "closed" : strerror((int)-n));
			return EXIT_NO_VM;
		}
		if (o->json) {
			fprintf(out, "%s\n", line);
		} else if (api_object_parse(line, (size_t)n, obj, why, sizeof(why)) < 0) {
			fprintf(errf, "torpor ctl: a malformed event, skipped: %s\n", why);
		} else {
			print_event(out, obj);
		}
		fflush(out);
	}
}

int ctl_run(const struct ctl_options *o, FILE *out, FILE *errf)
{
	struct api_writer *w = malloc(sizeof(*w));
	struct reader *r = malloc(sizeof(*r));
	struct api_object *obj = malloc(sizeof(*obj));
	const struct api_field *ok, *error;
	char why[256], *line;
	int fd = -1, ret, code;
	ssize_t n;

	if (!w || !r || !obj) {
		fprintf(errf, "torpor ctl: out of memory\n");
		code = EXIT_FAILURE_RT;
		goto out;
	}
	ret = ctl_request_line(o, w, why, sizeof(why));
	if (ret < 0) {
		fprintf(errf, "torpor ctl: %s\n", why);
		code = EXIT_USAGE;
		goto out;
	}
	fd = ctl_connect(o->path, errf);
	if (fd < 0) {
		code = EXIT_NO_VM;
		goto out;
	}
	ret = send_all(fd, w->buf, (size_t)ret);
	if (ret < 0) {
		fprintf(errf, "torpor ctl: the connection to %s broke before the reply: %s\n",
			o->path, strerror(-ret));
		code = EXIT_NO_VM;
		goto out;
	}
	r->fd = fd;
	r->len = r->used = 0;
	n = read_line(r, &line);
	if (n == -ENODATA || n == -EPIPE || (n < 0 && n != -E2BIG)) {
		fprintf(errf, "torpor ctl: the connection to %s broke before the reply: %s\n",
			o->path, n == -ENODATA || n == -EPIPE ? "closed" : strerror((int)-n));
		code = EXIT_NO_VM;
		goto out;
	}
	if (n == -E2BIG) {
		fprintf(errf, "torpor ctl: a reply longer than %d bytes\n", API_MAX_REPLY);
		code = EXIT_FAILURE_RT;
		goto out;
	}
	if (api_object_parse(line, (size_t)n, obj, why, sizeof(why)) < 0) {
		fprintf(errf, "torpor ctl: a malformed reply: %s\n", why);
		code = EXIT_FAILURE_RT;
		goto out;
	}
	ok = api_object_get(obj, "ok");
	if (!ok || ok->type != API_T_BOOL) {
		fprintf(errf, "torpor ctl: not a reply (no \"ok\": true or false)\n");
		code = EXIT_FAILURE_RT;
		goto out;
	}
	code = ok->boolean ? EXIT_OK : EXIT_FAILURE_RT;
	if (o->json) {
		fprintf(out, "%s\n", line);
	} else if (ok->boolean) {
		print_reply(out, obj);
	} else {
		error = api_object_get(obj, "error");
		fputs("torpor ctl: ", errf);
		print_string(errf, error && error->type == API_T_STRING && error->str[0] ?
			     error->str : "the request failed (the reply gives no reason)", 0);
		fputc('\n', errf);
	}
	fflush(out);
	if (code == EXIT_OK && o->kind == API_REQ_EVENTS)
		code = follow_events(r, obj, o, out, errf);
out:
	if (fd >= 0)
		close(fd);
	free(w);
	free(r);
	free(obj);
	return code;
}
