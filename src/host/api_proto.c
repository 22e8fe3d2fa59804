/* api_proto.c - the control socket's lines (formats/torpor-api.md): a flat
 * JSON object parser held to RFC 8259, requests checked against what each
 * takes, and the writer of replies, events and requests. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_proto.h"
#include "log.h"

#define MAX_NUMBER      128     /* characters of one number token */

/* --- UTF-8 ------------------------------------------------------------------- */

/* The length of the valid UTF-8 sequence at p (n bytes available): 1..4, or
 * 0 for an invalid one (overlong, a surrogate, above U+10FFFF, cut short). */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t len;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;      /* overlong */
		else if (c == 0xed)
			hi = 0x9f;      /* U+D800..U+DFFF */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;      /* overlong */
		else if (c == 0xf4)
			hi = 0x8f;      /* above U+10FFFF */
	} else {
		return 0;
	}
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

static size_t utf8_put(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* --- parser ------------------------------------------------------------------ */

struct cursor {
	const char *s;
	size_t len;
	size_t pos;
	char *err;
	size_t errlen;
};

/* Records "<reason> at byte AT" and returns -EINVAL. */
static int __attribute__((format(printf, 3, 4)))
bad_at(struct cursor *c, size_t at, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	err_line(c->err, c->errlen, "%s at byte %zu", msg, at);
	return -EINVAL;
}

static int at_end(const struct cursor *c)
{
	return c->pos >= c->len;
}

static unsigned char peek(const struct cursor *c)
{
	return at_end(c) ? 0 : (unsigned char)c->s[c->pos];
}

static void skip_ws(struct cursor *c)
{
	while (!at_end(c) && (peek(c) == ' ' || peek(c) == '\t' || peek(c) == '\n' ||
			      peek(c) == '\r'))
		c->pos++;
}

static int is_digit(unsigned char ch)
{
	return ch >= '0' && ch <= '9';
}

/* A character for a message: 'x', or its code when it would not print. */
static const char *show_char(unsigned char ch, char buf[8])
{
	if (ch > 0x20 && ch < 0x7f)
		snprintf(buf, 8, "'%c'", ch);
	else
		snprintf(buf, 8, "0x%02x", ch);
	return buf;
}

static int hex4(struct cursor *c, uint32_t *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		unsigned char ch = peek(c);
		int d;

		if (ch >= '0' && ch <= '9')
			d = ch - '0';
		else if (ch >= 'a' && ch <= 'f')
			d = ch - 'a' + 10;
		else if (ch >= 'A' && ch <= 'F')
			d = ch - 'A' + 10;
		else if (at_end(c))
			return bad_at(c, c->pos, "unterminated string");
		else
			return bad_at(c, c->pos, "\\u needs four hex digits");
		*v = *v << 4 | (uint32_t)d;
		c->pos++;
	}
	return 0;
}

/* The \u escape whose 'u' is at c->pos - 1: one code point, a surrogate
 * pair joined. */
static int unicode_escape(struct cursor *c, size_t esc, uint32_t *cp)
{
	uint32_t lo;

	if (hex4(c, cp) < 0)
		return -EINVAL;
	if (*cp >= 0xdc00 && *cp <= 0xdfff)
		return bad_at(c, esc, "lone low surrogate \\u%04x", (unsigned)*cp);
	if (*cp >= 0xd800 && *cp <= 0xdbff) {
		if (c->len - c->pos < 2 || c->s[c->pos] != '\\' || c->s[c->pos + 1] != 'u')
			return bad_at(c, esc, "high surrogate \\u%04x without its low half",
				      (unsigned)*cp);
		c->pos += 2;
		if (hex4(c, &lo) < 0)
			return -EINVAL;
		if (lo < 0xdc00 || lo > 0xdfff)
			return bad_at(c, esc, "high surrogate \\u%04x without its low half",
				      (unsigned)*cp);
		*cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	if (*cp == 0)
		return bad_at(c, esc, "\\u0000 is not allowed");
	return 0;
}

/* The string whose opening quote is at c->pos, decoded into out (cap bytes,
 * its NUL included). */
static int parse_string(struct cursor *c, char *out, size_t cap, const char *what)
{
	size_t start = c->pos, n = 0;

	c->pos++;
	for (;;) {
		char tmp[4];
		size_t k;
		unsigned char ch;

		if (at_end(c))
			return bad_at(c, start, "unterminated string");
		ch = peek(c);
		if (ch == '"') {
			c->pos++;
			break;
		}
		if (ch < 0x20)
			return bad_at(c, c->pos, "control character 0x%02x in a string "
				      "(escape it)", ch);
		if (ch == '\\') {
			size_t esc = c->pos;
			uint32_t cp;

			c->pos++;
			if (at_end(c))
				return bad_at(c, start, "unterminated string");
			ch = peek(c);
			c->pos++;
			switch (ch) {
			case '"': tmp[0] = '"'; k = 1; break;
			case '\\': tmp[0] = '\\'; k = 1; break;
			case '/': tmp[0] = '/'; k = 1; break;
			case 'b': tmp[0] = '\b'; k = 1; break;
			case 'f': tmp[0] = '\f'; k = 1; break;
			case 'n': tmp[0] = '\n'; k = 1; break;
			case 'r': tmp[0] = '\r'; k = 1; break;
			case 't': tmp[0] = '\t'; k = 1; break;
			case 'u':
				if (unicode_escape(c, esc, &cp) < 0)
					return -EINVAL;
				k = utf8_put(tmp, cp);
				break;
			default: {
				char b[8];

				return bad_at(c, esc, "invalid escape '\\' then %s",
					      show_char(ch, b));
			}
			}
		} else {
			k = utf8_seq((const unsigned char *)c->s + c->pos, c->len - c->pos);
			if (!k)
				return bad_at(c, c->pos, "invalid UTF-8");
			memcpy(tmp, c->s + c->pos, k);
			c->pos += k;
		}
		if (n + k >= cap)
			return bad_at(c, start, "%s longer than %zu bytes", what, cap - 1);
		memcpy(out + n, tmp, k);
		n += k;
	}
	out[n] = '\0';
	return 0;
}

/* A number per JSON's grammar, checked before strtod sees it. */
static int parse_number(struct cursor *c, double *v)
{
	size_t start = c->pos;
	char tok[MAX_NUMBER + 1];

	if (peek(c) == '-')
		c->pos++;
	if (!is_digit(peek(c)))
		return bad_at(c, c->pos, "a digit must follow '-'");
	if (peek(c) == '0') {
		c->pos++;
		if (is_digit(peek(c)))
			return bad_at(c, start, "leading zeros are not allowed");
	} else {
		while (is_digit(peek(c)))
			c->pos++;
	}
	if (peek(c) == '.') {
		c->pos++;
		if (!is_digit(peek(c)))
			return bad_at(c, c->pos, "a digit must follow the decimal point");
		while (is_digit(peek(c)))
			c->pos++;
	}
	if (peek(c) == 'e' || peek(c) == 'E') {
		c->pos++;
		if (peek(c) == '+' || peek(c) == '-')
			c->pos++;
		if (!is_digit(peek(c)))
			return bad_at(c, c->pos, "a digit must follow the exponent");
		while (is_digit(peek(c)))
			c->pos++;
	}
	if (c->pos - start > MAX_NUMBER)
		return bad_at(c, start, "number longer than %d characters", MAX_NUMBER);
	memcpy(tok, c->s + start, c->pos - start);
	tok[c->pos - start] = '\0';
	*v = strtod(tok, NULL);
	if (!isfinite(*v))
		return bad_at(c, start, "number out of range");
	return 0;
}

static int parse_literal(struct cursor *c, struct api_field *f)
{
	static const struct { const char *word; enum api_type type; int val; } lits[] = {
		{ "true", API_T_BOOL, 1 }, { "false", API_T_BOOL, 0 }, { "null", API_T_NULL, 0 },
	};

	for (unsigned i = 0; i < sizeof(lits) / sizeof(lits[0]); i++) {
		size_t n = strlen(lits[i].word);

		if (c->len - c->pos >= n && !memcmp(c->s + c->pos, lits[i].word, n)) {
			f->type = lits[i].type;
			f->boolean = lits[i].val;
			c->pos += n;
			return 0;
		}
	}
	return bad_at(c, c->pos, "not a value (strings, numbers, true, false or null)");
}

static int parse_value(struct cursor *c, struct api_field *f)
{
	unsigned char ch = peek(c);
	char b[8];

	f->str[0] = '\0';
	f->num = 0;
	f->boolean = 0;
	if (at_end(c))
		return bad_at(c, c->pos, "missing value");
	if (ch == '"') {
		f->type = API_T_STRING;
		return parse_string(c, f->str, sizeof(f->str), "string");
	}
	if (ch == '-' || is_digit(ch)) {
		f->type = API_T_NUMBER;
		return parse_number(c, &f->num);
	}
	if (ch == 't' || ch == 'f' || ch == 'n')
		return parse_literal(c, f);
	if (ch == '{' || ch == '[')
		return bad_at(c, c->pos, "nested objects and arrays are not allowed");
	return bad_at(c, c->pos, "unexpected %s where a value belongs", show_char(ch, b));
}

static int parse_object(struct cursor *c, struct api_object *o)
{
	char b[8];

	skip_ws(c);
	if (at_end(c)) {
		err_line(c->err, c->errlen, "empty line: expected a JSON object");
		return -EINVAL;
	}
	if (peek(c) != '{')
		return bad_at(c, c->pos, "expected '{' (a JSON object), found %s",
			      show_char(peek(c), b));
	c->pos++;
	skip_ws(c);
	if (peek(c) == '}') {
		c->pos++;
		goto tail;
	}
	for (;;) {
		struct api_field *f;
		size_t kpos;

		skip_ws(c);
		if (at_end(c))
			return bad_at(c, c->pos, "unterminated object");
		if (peek(c) != '"')
			return bad_at(c, c->pos, "expected a member name in double quotes, "
				      "found %s", show_char(peek(c), b));
		if (o->n == API_MAX_FIELDS)
			return bad_at(c, c->pos, "more than %d members", API_MAX_FIELDS);
		kpos = c->pos;
		f = &o->f[o->n];
		if (parse_string(c, f->key, sizeof(f->key), "member name") < 0)
			return -EINVAL;
		for (unsigned i = 0; i < o->n; i++)
			if (!strcmp(o->f[i].key, f->key))
				return bad_at(c, kpos, "duplicate member \"%.64s\"", f->key);
		skip_ws(c);
		if (peek(c) != ':')
			return bad_at(c, c->pos, at_end(c) ? "unterminated object" :
				      "expected ':' after the member name");
		c->pos++;
		skip_ws(c);
		if (parse_value(c, f) < 0)
			return -EINVAL;
		o->n++;
		skip_ws(c);
		if (at_end(c))
			return bad_at(c, c->pos, "unterminated object");
		if (peek(c) == '}') {
			c->pos++;
			break;
		}
		if (peek(c) != ',')
			return bad_at(c, c->pos, "expected ',' or '}', found %s",
				      show_char(peek(c), b));
		c->pos++;
		skip_ws(c);
		if (peek(c) == '}')
			return bad_at(c, c->pos, "a member must follow ','");
	}
tail:
	skip_ws(c);
	if (!at_end(c))
		return bad_at(c, c->pos, "trailing text after the object");
	return 0;
}

int api_object_parse(const char *line, size_t len, struct api_object *o,
		     char *err, size_t errlen)
{
	struct cursor c = { .s = line, .len = len, .err = err, .errlen = errlen };

	o->n = 0;
	if (parse_object(&c, o) < 0) {
		o->n = 0;
		return -EINVAL;
	}
	return 0;
}

const struct api_field *api_object_get(const struct api_object *o, const char *key)
{
	for (unsigned i = 0; i < o->n; i++)
		if (!strcmp(o->f[i].key, key))
			return &o->f[i];
	return NULL;
}

/* --- requests ---------------------------------------------------------------- */

#define ARG_IMAGE       1u
#define ARG_TIMEOUT     2u

static const struct {
	const char *name;
	unsigned args;
} requests[] = {
	[API_REQ_STATUS] = { "status", 0 },
	[API_REQ_HIBERNATE] = { "hibernate", ARG_IMAGE | ARG_TIMEOUT },
	[API_REQ_SNAPSHOT] = { "snapshot", ARG_IMAGE | ARG_TIMEOUT },
	[API_REQ_POWEROFF] = { "poweroff", ARG_TIMEOUT },
	[API_REQ_QUIT] = { "quit", 0 },
	[API_REQ_WAKE] = { "wake", 0 },
	[API_REQ_EVENTS] = { "events", 0 },
};
#define N_REQUESTS      (sizeof(requests) / sizeof(requests[0]))
#define REQUEST_LIST    "status, hibernate, snapshot, poweroff, quit, wake, events"

const char *api_request_name(enum api_req_kind kind)
{
	return (unsigned)kind < N_REQUESTS ? requests[kind].name : "unknown";
}

/* "(it takes image, timeout)" for a request's arguments. */
static const char *takes(unsigned args)
{
	switch (args) {
	case ARG_IMAGE | ARG_TIMEOUT: return "it takes image, timeout";
	case ARG_TIMEOUT: return "it takes timeout";
	default: return "it takes no arguments";
	}
}

int api_request_parse(const char *line, size_t len, struct api_request *req,
		      char *err, size_t errlen)
{
	struct api_object o;    /* about 68 KiB of stack: the header promises no allocation */
	struct api_object *obj = &o;
	const struct api_field *name;
	unsigned kind, args;

	memset(req, 0, sizeof(*req));
	req->timeout_s = API_DEFAULT_TIMEOUT_S;
	if (api_object_parse(line, len, obj, err, errlen) < 0)
		goto bad;
	name = api_object_get(obj, "request");
	if (!name) {
		err_line(err, errlen, "missing \"request\" (" REQUEST_LIST ")");
		goto bad;
	}
	if (name->type != API_T_STRING) {
		err_line(err, errlen, "\"request\" must be a string (" REQUEST_LIST ")");
		goto bad;
	}
	for (kind = 0; kind < N_REQUESTS; kind++)
		if (!strcmp(name->str, requests[kind].name))
			break;
	if (kind == N_REQUESTS) {
		err_line(err, errlen, "unknown request '%.64s%s' (" REQUEST_LIST ")",
			 name->str, strlen(name->str) > 64 ? "..." : "");
		goto bad;
	}
	req->kind = (enum api_req_kind)kind;
	args = requests[kind].args;
	for (unsigned i = 0; i < obj->n; i++) {
		const struct api_field *f = &obj->f[i];
		unsigned arg;

		if (!strcmp(f->key, "request"))
			continue;
		arg = !strcmp(f->key, "image") ? ARG_IMAGE :
		      !strcmp(f->key, "timeout") ? ARG_TIMEOUT : 0;
		if (!arg) {
			err_line(err, errlen, "%s: unknown argument \"%.64s\" (%s)",
				 requests[kind].name, f->key, takes(args));
			goto bad;
		}
		if (!(args & arg)) {
			err_line(err, errlen, "%s does not take \"%s\" (%s)",
				 requests[kind].name, f->key, takes(args));
			goto bad;
		}
		if (arg == ARG_IMAGE) {
			if (f->type != API_T_STRING || !f->str[0]) {
				err_line(err, errlen, "%s: \"image\" must be a non-empty string",
					 requests[kind].name);
				goto bad;
			}
			memcpy(req->image, f->str, sizeof(req->image));
		} else {
			if (f->type != API_T_NUMBER || !(f->num >= API_MIN_TIMEOUT_S) ||
			    !(f->num <= API_MAX_TIMEOUT_S)) {
				char v[32] = "not a number";

				if (f->type == API_T_NUMBER)
					snprintf(v, sizeof(v), "%g", f->num);
				err_line(err, errlen, "%s: \"timeout\" must be a number of seconds "
					 "from %g to %g (%s)", requests[kind].name,
					 API_MIN_TIMEOUT_S, API_MAX_TIMEOUT_S, v);
				goto bad;
			}
			req->timeout_s = f->num;
		}
	}
	return 0;
bad:
	return -EINVAL;
}

/* --- writer ------------------------------------------------------------------ */

/* Room kept for the end of any line: `, "truncated": true}\n` and a NUL. */
#define TAIL            ", \"truncated\": true}\n"
#define LIMIT           (API_MAX_REPLY - sizeof(TAIL))

static void put_raw(struct api_writer *w, const char *s, size_t n)
{
	if (w->overflow || n > LIMIT - w->len) {
		w->overflow = 1;
		return;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

/* A JSON string of s; one that would decode to cap bytes or more (what the
 * parser holds) counts as no room. */
static void put_escaped(struct api_writer *w, const char *s, size_t cap)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), decoded = 0;

	put_raw(w, "\"", 1);
	while (n && !w->overflow) {
		char esc[8];
		size_t k;

		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			put_raw(w, esc, 2);
			k = 1;
		} else if (*p < 0x20 || *p == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", *p);
			put_raw(w, esc, 6);
			k = 1;
		} else if ((k = utf8_seq(p, n))) {
			put_raw(w, (const char *)p, k);
		} else {
			put_raw(w, "\\ufffd", 6);
			k = 1;
			decoded += 2;   /* U+FFFD is 3 bytes */
		}
		decoded += k;
		if (decoded >= cap)
			w->overflow = 1;
		p += k;
		n -= k;
	}
	put_raw(w, "\"", 1);
}

/* Starts a member; returns the length to roll back to if it does not fit. */
static size_t member(struct api_writer *w, const char *key)
{
	size_t at = w->len;

	/* An event keeps one place for "truncated". */
	if (w->members >= API_MAX_FIELDS - (w->is_event ? 1u : 0u))
		w->overflow = 1;
	w->members++;
	put_raw(w, ", ", 2);
	put_escaped(w, key, API_MAX_KEY);
	put_raw(w, ": ", 2);
	return at;
}

static void member_done(struct api_writer *w, size_t at)
{
	if (w->overflow)
		w->len = at;
}

static void begin(struct api_writer *w, int is_event, int is_request)
{
	w->len = 0;
	w->overflow = 0;
	w->is_event = is_event;
	w->is_request = is_request;
	w->members = 1;
}

void api_begin_reply(struct api_writer *w, int ok)
{
	begin(w, 0, 0);
	put_raw(w, ok ? "{\"ok\": true" : "{\"ok\": false", ok ? 11 : 12);
}

void api_begin_event(struct api_writer *w, const char *name)
{
	begin(w, 1, 0);
	put_raw(w, "{\"event\": ", 10);
	put_escaped(w, name, API_MAX_STR);
	if (w->overflow)
		w->len = 0;     /* api_end writes a stand-in */
}

void api_begin_request(struct api_writer *w, const char *name)
{
	begin(w, 0, 1);
	put_raw(w, "{\"request\": ", 12);
	put_escaped(w, name, API_MAX_STR);
}

void api_put_str(struct api_writer *w, const char *key, const char *val)
{
	size_t at;

	if (w->overflow)
		return;
	at = member(w, key);
	if (val)
		put_escaped(w, val, API_MAX_STR);
	else
		put_raw(w, "null", 4);
	member_done(w, at);
}

static void put_text(struct api_writer *w, const char *key, const char *text)
{
	size_t at;

	if (w->overflow)
		return;
	at = member(w, key);
	put_raw(w, text, strlen(text));
	member_done(w, at);
}

void api_put_u64(struct api_writer *w, const char *key, uint64_t val)
{
	char t[24];

	snprintf(t, sizeof(t), "%" PRIu64, val);
	put_text(w, key, t);
}

void api_put_int(struct api_writer *w, const char *key, int64_t val)
{
	char t[24];

	snprintf(t, sizeof(t), "%" PRId64, val);
	put_text(w, key, t);
}

void api_put_num(struct api_writer *w, const char *key, double val, int decimals)
{
	char t[48];
	const char *p = t;

	if (decimals < 0)
		decimals = 0;
	if (decimals > 6)
		decimals = 6;
	if (!isfinite(val))
		snprintf(t, sizeof(t), "null");
	else if (fabs(val) < 1e15)
		snprintf(t, sizeof(t), "%.*f", decimals, val);
	else
		snprintf(t, sizeof(t), "%.17g", val);
	/* -0, or a small negative rounded to zero: "-0.00" -> "0.00". */
	if (t[0] == '-' && strspn(t + 1, "0.") == strlen(t + 1))
		p = t + 1;
	put_text(w, key, p);
}

void api_put_bool(struct api_writer *w, const char *key, int val)
{
	put_text(w, key, val ? "true" : "false");
}

const char *api_end(struct api_writer *w, size_t *len)
{
	static const char too_long[] = "{\"ok\": false, \"error\": \"the reply did not fit "
		"in the line's limit\"}\n";
	static const char no_event[] = "{\"event\": \"unknown\"";

	if (w->overflow && w->is_request) {
		*len = 0;
		return NULL;
	}
	if (w->overflow && !w->is_event) {
		_Static_assert(sizeof(too_long) < API_MAX_REPLY, "stand-in fits");
		memcpy(w->buf, too_long, sizeof(too_long));
		w->len = sizeof(too_long) - 1;
	} else {
		/* The room for TAIL is always kept (LIMIT). */
		if (w->overflow && !w->len) {
			memcpy(w->buf, no_event, sizeof(no_event) - 1);
			w->len = sizeof(no_event) - 1;
		}
		if (w->overflow) {
			memcpy(w->buf + w->len, TAIL, sizeof(TAIL));
			w->len += sizeof(TAIL) - 1;
		} else {
			memcpy(w->buf + w->len, "}\n", 3);
			w->len += 2;
		}
	}
	*len = w->len;
	return w->buf;
}

const char *api_error_reply(struct api_writer *w, size_t *len, const char *fmt, ...)
{
	char msg[1024];
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* A cut may have split a character: drop its leading bytes. */
	n = strlen(msg);
	if (n == sizeof(msg) - 1) {
		size_t start = n;

		while (start > 0 && ((unsigned char)msg[start - 1] & 0xc0) == 0x80)
			start--;
		if (start > 0 && (unsigned char)msg[start - 1] >= 0xc0 &&
		    !utf8_seq((unsigned char *)msg + start - 1, n - start + 1))
			msg[start - 1] = '\0';
	}
	api_begin_reply(w, 0);
	api_put_str(w, "error", msg);
	return api_end(w, len);
}
