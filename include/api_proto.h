/* api_proto.h - the control socket's protocol (formats/torpor-api.md): one
 * flat JSON object per line each way. Parsing a line into fields, a request
 * from them, and writing replies and events. Pure: no I/O, no allocation.
 *
 * A request:  {"request": "hibernate", "image": "/var/lib/vm.img", "timeout": 30}
 * A reply:    {"ok": true, ...}  or  {"ok": false, "error": "..."}
 * An event:   {"event": "checkpoint-done", ...} */
#ifndef TORPOR_API_PROTO_H
#define TORPOR_API_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define API_MAX_LINE            4096    /* a request, its newline included */
#define API_MAX_REPLY           8192    /* a reply or an event, newline included */
#define API_MAX_FIELDS          32      /* members of one object */
#define API_MAX_KEY             64      /* bytes of a member's name */
#define API_MAX_STR             2048    /* bytes of a string value, decoded */
#define API_DEFAULT_TIMEOUT_S   60.0    /* hibernate, snapshot, poweroff */
#define API_MIN_TIMEOUT_S       0.1
#define API_MAX_TIMEOUT_S       86400.0

enum api_type { API_T_STRING, API_T_NUMBER, API_T_BOOL, API_T_NULL };

/* One member of a flat object. */
struct api_field {
	char key[API_MAX_KEY];
	enum api_type type;
	char str[API_MAX_STR];  /* API_T_STRING, decoded, NUL-terminated */
	double num;             /* API_T_NUMBER */
	int boolean;            /* API_T_BOOL */
};

struct api_object {
	unsigned n;
	struct api_field f[API_MAX_FIELDS];
};

/* Parses one line (len bytes, no newline, not NUL-terminated) that must be a
 * single JSON object whose values are strings, numbers, true, false or
 * null, with white space around tokens. Nested objects and arrays, duplicate
 * keys, a NUL or control character in a string, an escape that is not JSON's
 * and trailing text are refused, and so are: an empty line, more than
 * API_MAX_FIELDS members, a key of API_MAX_KEY bytes or more or a string
 * of API_MAX_STR or more (decoded), bytes that are not UTF-8, a lone
 * surrogate, \u0000, a number that is not JSON's or is over 128
 * characters or out of a double's range. 0, or -EINVAL with a one-line
 * reason (naming the byte offset, from 0, where it applies) in err. */
int api_object_parse(const char *line, size_t len, struct api_object *o,
		     char *err, size_t errlen);

/* The member named key, or NULL. */
const struct api_field *api_object_get(const struct api_object *o, const char *key);

enum api_req_kind {
	API_REQ_STATUS,
	API_REQ_HIBERNATE,      /* press the sleep key, checkpoint, torpor exits 7 */
	API_REQ_SNAPSHOT,       /* press the sleep key, checkpoint, guest goes on */
	API_REQ_POWEROFF,       /* press the power key */
	API_REQ_QUIT,           /* end torpor now: the guest is lost */
	API_REQ_WAKE,           /* wake a guest held asleep (restore --no-wake) */
	API_REQ_EVENTS,         /* this connection receives every event */
};

struct api_request {
	enum api_req_kind kind;
	char image[API_MAX_STR];        /* hibernate/snapshot "image"; "" if not given */
	double timeout_s;               /* "timeout": API_DEFAULT_TIMEOUT_S if not given */
};

/* A request from one line: "request" names it; "image" (a non-empty
 * string, hibernate and snapshot only) and "timeout" (seconds, a number from
 * API_MIN_TIMEOUT_S to API_MAX_TIMEOUT_S; hibernate, snapshot, poweroff) are
 * its only arguments. Anything else is refused: -EINVAL and a one-line
 * reason in err. */
int api_request_parse(const char *line, size_t len, struct api_request *req,
		      char *err, size_t errlen);

/* The request's name as on the wire ("status", ...). */
const char *api_request_name(enum api_req_kind kind);

/* Builds one reply or event line in a fixed buffer. A writer that runs out
 * of room keeps a valid line: api_end() then yields an error reply (or an
 * event carrying "truncated": true) instead. A member that does not fit is
 * left out whole, and so is every member after it; so is one that
 * api_object_parse would refuse (a key of API_MAX_KEY bytes or more, a
 * string of API_MAX_STR or more, decoded, more than API_MAX_FIELDS
 * members, counting "ok" or "event", and for an event the "truncated" it
 * may need): every line written parses back. */
struct api_writer {
	char buf[API_MAX_REPLY];
	size_t len;
	int overflow;
	int is_event;
	int is_request;
	unsigned members;
};

/* {"ok": true / false, ... */
void api_begin_reply(struct api_writer *w, int ok);
/* {"event": "NAME", ... */
void api_begin_event(struct api_writer *w, const char *name);
/* {"request": "NAME", ... (the client's side). A request that runs out of
 * room has no stand-in: api_end() returns NULL, *len 0. */
void api_begin_request(struct api_writer *w, const char *name);
/* Members, written in call order; strings are escaped as JSON requires
 * ('"', '\\', control characters and DEL as \u00XX; a byte that is not
 * part of valid UTF-8 becomes \ufffd). A NULL string is written as null. */
void api_put_str(struct api_writer *w, const char *key, const char *val);
void api_put_u64(struct api_writer *w, const char *key, uint64_t val);
void api_put_int(struct api_writer *w, const char *key, int64_t val);
/* A number with `decimals` digits after the point (0..6; others are
 * clamped); from 1e15 on in magnitude, %.17g. NaN and infinities are
 * written as null, -0 as 0. */
void api_put_num(struct api_writer *w, const char *key, double val, int decimals);
void api_put_bool(struct api_writer *w, const char *key, int val);
/* Closes the object with "}\n"; the line and its length (*len). */
const char *api_end(struct api_writer *w, size_t *len);

/* A whole error reply: {"ok": false, "error": "<printf of fmt>"}\n; the
 * message is cut at 1023 bytes (on a UTF-8 character's boundary). */
const char *api_error_reply(struct api_writer *w, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
