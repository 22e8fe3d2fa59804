/* ctl.h - `torpor ctl PATH REQUEST`: the control socket's client
 * (formats/torpor-api.md). Its command line, parsed without side effects,
 * and the exchange: one request line, one reply line, and for `events` the
 * stream that follows until the VM closes the socket. Built into the
 * library so that the unit tests can run it against a fake server. */
#ifndef TORPOR_CTL_H
#define TORPOR_CTL_H

#include <stddef.h>
#include <stdio.h>

#include "api_proto.h"

struct ctl_options {
	const char *path;               /* the socket */
	enum api_req_kind kind;
	const char *image;              /* --image; NULL if not given */
	double timeout_s;               /* --timeout, if has_timeout */
	int has_timeout;
	int json;                       /* --json: lines as received */
	int help;                       /* -h/--help: nothing else was checked */
};

/* Parses argv (argv[0] is "ctl"; options anywhere): 0, or -EINVAL with a
 * one-line reason in err — a missing PATH or REQUEST, an unknown request or
 * option, an argument the request does not take, a timeout out of range, a
 * PATH too long for a UNIX socket, a request longer than API_MAX_LINE. */
int ctl_options_parse(struct ctl_options *o, int argc, char **argv,
		      char *err, size_t errlen);

/* The request line for o, newline included, in w: its length, or -EINVAL
 * with a reason in err (too long; refused by api_request_parse). */
int ctl_request_line(const struct ctl_options *o, struct api_writer *w,
		     char *err, size_t errlen);

/* Connects to o->path, sends the request and prints the reply on out
 * (--json: the line as received; else "key: value" lines), or its error as
 * "torpor ctl: <error>" on errf; for events, each event as it comes. The
 * exit code: EXIT_OK; EXIT_FAILURE_RT when the VM answered an error or
 * something that is not a reply; EXIT_USAGE for a request that cannot be
 * built; EXIT_NO_VM when nothing answers at the path or the connection
 * breaks before the reply (or in the middle of an event). */
int ctl_run(const struct ctl_options *o, FILE *out, FILE *errf);

#endif
