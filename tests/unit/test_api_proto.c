/* test_api_proto.c - the control socket's lines: every malformed object the
 * parser must refuse (with its reason and byte), the values it must accept,
 * every request with good and bad arguments, and the writer: escapes that
 * parse back to the same bytes, numbers, and lines that stay valid when they
 * run out of room. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "api_proto.h"

static struct api_object obj;   /* 68 KiB: not on Criterion's stack */

static int parse(const char *line, size_t len, char *err, size_t errlen)
{
	err[0] = '\0';
	return api_object_parse(line, len, &obj, err, errlen);
}

/* --- malformed objects --------------------------------------------------------- */

struct bad_case {
	char line[160];
	size_t len;             /* 0: strlen(line) */
	char msg[96];           /* text the reason must hold */
};

ParameterizedTestParameters(api_parse, refused)
{
	static struct bad_case cases[] = {
		/* framing */
		{ "", 0, "empty line" },
		{ " \t\r\n", 0, "empty line" },
		{ "[]", 0, "expected '{' (a JSON object), found '[' at byte 0" },
		{ "\"a\"", 0, "expected '{'" },
		{ "  x", 0, "found 'x' at byte 2" },
		{ "{", 0, "unterminated object at byte 1" },
		{ "{\"a\"", 0, "unterminated object at byte 4" },
		{ "{\"a\":", 0, "missing value at byte 5" },
		{ "{\"a\":1", 0, "unterminated object at byte 6" },
		{ "{\"a\":1,", 0, "unterminated object at byte 7" },
		{ "{\"a\" 1}", 0, "expected ':' after the member name at byte 5" },
		{ "{a:1}", 0, "expected a member name in double quotes, found 'a' at byte 1" },
		{ "{'a':1}", 0, "found ''' at byte 1" },
		{ "{\x01}", 3, "found 0x01 at byte 1" },
		{ "{,}", 0, "expected a member name" },
		{ "{\"a\":1,}", 0, "a member must follow ',' at byte 7" },
		{ "{\"a\":1 \"b\":2}", 0, "expected ',' or '}', found '\"' at byte 7" },
		{ "{\"a\":1;\"b\":2}", 0, "expected ',' or '}', found ';' at byte 6" },
		{ "{\"a\":{}}", 0, "nested objects and arrays are not allowed at byte 5" },
		{ "{\"a\":[1]}", 0, "nested objects and arrays are not allowed at byte 5" },
		{ "{\"a\":1,\"a\":2}", 0, "duplicate member \"a\" at byte 7" },
		{ "{\"a\":1,\"b\":2,\"a\":3}", 0, "duplicate member \"a\" at byte 13" },
		{ "{} x", 0, "trailing text after the object at byte 3" },
		{ "{}{}", 0, "trailing text after the object at byte 2" },
		{ "{}\0", 3, "trailing text after the object at byte 2" },
		/* strings */
		{ "{\"a\":\"x}", 0, "unterminated string at byte 5" },
		{ "{\"a\":\"x\\", 0, "unterminated string at byte 5" },
		{ "{\"a\":\"\\q\"}", 0, "invalid escape '\\' then 'q' at byte 6" },
		{ "{\"a\":\"\\x41\"}", 0, "invalid escape" },
		{ "{\"a\":\"\\U0041\"}", 0, "invalid escape '\\' then 'U'" },
		{ "{\"a\":\"\\'\"}", 0, "invalid escape" },
		{ "{\"a\":\"\\u12\"}", 0, "\\u needs four hex digits at byte 10" },
		{ "{\"a\":\"\\u12G4\"}", 0, "\\u needs four hex digits at byte 10" },
		{ "{\"a\":\"\\u12", 0, "unterminated string" },
		{ "{\"a\":\"\\u0000\"}", 0, "\\u0000 is not allowed at byte 6" },
		{ "{\"a\":\"\\udc00\"}", 0, "lone low surrogate \\udc00 at byte 6" },
		{ "{\"a\":\"\\ud800\"}", 0, "high surrogate \\ud800 without its low half at byte 6" },
		{ "{\"a\":\"\\ud800x\"}", 0, "without its low half" },
		{ "{\"a\":\"\\ud800\\u0041\"}", 0, "without its low half" },
		{ "{\"a\":\"\\ud800\\ud800\"}", 0, "without its low half" },
		{ "{\"a\":\"\\ud800\\n\"}", 0, "without its low half" },
		{ "{\"a\":\"\t\"}", 0, "control character 0x09 in a string (escape it) at byte 6" },
		{ "{\"a\":\"x\ny\"}", 0, "control character 0x0a" },
		{ "{\"a\":\"\x1f\"}", 0, "control character 0x1f" },
		{ "{\"a\":\"\0\"}", 9, "control character 0x00 in a string (escape it) at byte 6" },
		{ "{\"a\x01\":1}", 0, "control character 0x01" },
		{ "{\"a\":\"\xff\"}", 0, "invalid UTF-8 at byte 6" },
		{ "{\"a\":\"\x80\"}", 0, "invalid UTF-8 at byte 6" },
		{ "{\"a\":\"\xc0\xaf\"}", 0, "invalid UTF-8" },           /* overlong '/' */
		{ "{\"a\":\"\xe0\x80\xaf\"}", 0, "invalid UTF-8" },       /* overlong */
		{ "{\"a\":\"\xed\xa0\x80\"}", 0, "invalid UTF-8" },       /* U+D800 */
		{ "{\"a\":\"\xf4\x90\x80\x80\"}", 0, "invalid UTF-8" },   /* U+110000 */
		{ "{\"a\":\"\xf5\x80\x80\x80\"}", 0, "invalid UTF-8" },
		{ "{\"a\":\"\xe2\x82\"}", 0, "invalid UTF-8 at byte 6" },  /* cut short */
		{ "{\"a\":\"x\xe2\x82", 0, "invalid UTF-8 at byte 7" },   /* at the end */
		{ "{\"\xff\":1}", 0, "invalid UTF-8 at byte 2" },
		{ "{\"" "0123456789012345678901234567890123456789012345678901234567890123"
		  "\":1}", 0, "member name longer than 63 bytes at byte 1" },
		/* numbers */
		{ "{\"a\":01}", 0, "leading zeros are not allowed at byte 5" },
		{ "{\"a\":-01}", 0, "leading zeros are not allowed at byte 5" },
		{ "{\"a\":00}", 0, "leading zeros are not allowed" },
		{ "{\"a\":-}", 0, "a digit must follow '-' at byte 6" },
		{ "{\"a\":-a}", 0, "a digit must follow '-'" },
		{ "{\"a\":--1}", 0, "a digit must follow '-'" },
		{ "{\"a\":1.}", 0, "a digit must follow the decimal point at byte 7" },
		{ "{\"a\":1.e5}", 0, "a digit must follow the decimal point" },
		{ "{\"a\":.5}", 0, "unexpected '.' where a value belongs at byte 5" },
		{ "{\"a\":+1}", 0, "unexpected '+' where a value belongs" },
		{ "{\"a\":1e}", 0, "a digit must follow the exponent at byte 7" },
		{ "{\"a\":1E+}", 0, "a digit must follow the exponent at byte 8" },
		{ "{\"a\":1e-x}", 0, "a digit must follow the exponent" },
		{ "{\"a\":1.5.2}", 0, "expected ',' or '}', found '.' at byte 8" },
		{ "{\"a\":0x10}", 0, "expected ',' or '}', found 'x' at byte 6" },
		{ "{\"a\":1 2}", 0, "expected ',' or '}', found '2'" },
		{ "{\"a\":NaN}", 0, "unexpected 'N' where a value belongs" },
		{ "{\"a\":nan}", 0, "not a value" },
		{ "{\"a\":Infinity}", 0, "unexpected 'I'" },
		{ "{\"a\":-Infinity}", 0, "a digit must follow '-'" },
		{ "{\"a\":1e400}", 0, "number out of range at byte 5" },
		{ "{\"a\":-1e400}", 0, "number out of range" },
		/* literals */
		{ "{\"a\":tru}", 0, "not a value (strings, numbers, true, false or null) at byte 5" },
		{ "{\"a\":True}", 0, "unexpected 'T'" },
		{ "{\"a\":nul}", 0, "not a value" },
		{ "{\"a\":f}", 0, "not a value" },
		{ "{\"a\":truex}", 0, "expected ',' or '}', found 'x' at byte 9" },
		{ "{\"a\":nullnull}", 0, "expected ',' or '}'" },
		{ "{\"a\":undefined}", 0, "unexpected 'u'" },
	};

	return cr_make_param_array(struct bad_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct bad_case *c, api_parse, refused)
{
	char err[256];
	size_t len = c->len ? c->len : strlen(c->line);

	cr_assert_eq(parse(c->line, len, err, sizeof(err)), -EINVAL, "accepted: %s", c->line);
	cr_assert(strstr(err, c->msg), "'%s': reason '%s' lacks '%s'", c->line, err, c->msg);
	cr_assert(!strchr(err, '\n'), "reason is not one line: %s", err);
	cr_assert_eq(obj.n, 0);
}

Test(api_parse, number_too_long)
{
	char line[512], err[256];
	int n = snprintf(line, sizeof(line), "{\"a\":1");

	for (int i = 0; i < 200; i++)
		line[n++] = '0';
	memcpy(line + n, "}", 2);
	cr_assert_eq(parse(line, strlen(line), err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "number longer than 128 characters at byte 5"), "%s", err);

	/* 128 characters exactly is a number. */
	n = snprintf(line, sizeof(line), "{\"a\":1");
	for (int i = 0; i < 127; i++)
		line[n++] = '0';
	memcpy(line + n, "}", 2);
	cr_assert_eq(parse(line, strlen(line), err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(obj.f[0].num, 1e127);
	/* and 129 is not */
	memcpy(line + n, "0}", 3);
	cr_assert_eq(parse(line, strlen(line), err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "number longer than 128 characters"), "%s", err);
}

Test(api_parse, string_too_long)
{
	static char line[8 * API_MAX_STR];
	char err[256];
	int n = snprintf(line, sizeof(line), "{\"a\":\"");

	memset(line + n, 'x', API_MAX_STR - 1);
	memcpy(line + n + API_MAX_STR - 1, "\"}", 3);
	cr_assert_eq(parse(line, strlen(line), err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(strlen(obj.f[0].str), API_MAX_STR - 1);

	memcpy(line + n + API_MAX_STR - 1, "x\"}", 4);
	cr_assert_eq(parse(line, strlen(line), err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "string longer than 2047 bytes at byte 5"), "%s", err);

	/* The limit counts decoded bytes: 1023 two-byte characters fit, an
	 * escape making the 2048th byte does not. */
	n = snprintf(line, sizeof(line), "{\"a\":\"");
	for (int i = 0; i < 1023; i++)
		n += snprintf(line + n, sizeof(line) - n, "\\u00e9");
	snprintf(line + n, sizeof(line) - n, "x\"}");
	cr_assert_eq(parse(line, strlen(line), err, sizeof(err)), 0, "%s", err);
	snprintf(line + n, sizeof(line) - n, "\\u00e9\"}");
	cr_assert_eq(parse(line, strlen(line), err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "string longer than"), "%s", err);
}

Test(api_parse, key_limit)
{
	char line[128], err[256];

	snprintf(line, sizeof(line), "{\"%s\":1}",
		 "012345678901234567890123456789012345678901234567890123456789012");
	cr_assert_eq(parse(line, strlen(line), err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(strlen(obj.f[0].key), API_MAX_KEY - 1);
}

Test(api_parse, member_limit)
{
	char line[1024], err[256];
	int n = snprintf(line, sizeof(line), "{");

	for (int i = 0; i < API_MAX_FIELDS; i++)
		n += snprintf(line + n, sizeof(line) - n, "%s\"k%d\":%d", i ? "," : "", i, i);
	snprintf(line + n, sizeof(line) - n, "}");
	cr_assert_eq(parse(line, strlen(line), err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(obj.n, API_MAX_FIELDS);
	cr_assert_eq(api_object_get(&obj, "k31")->num, 31);

	snprintf(line + n, sizeof(line) - n, ",\"k32\":32}");
	cr_assert_eq(parse(line, strlen(line), err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "more than 32 members at byte"), "%s", err);
}

Test(api_parse, err_may_be_null_or_short)
{
	char err[8];

	cr_assert_eq(api_object_parse("{", 1, &obj, NULL, 0), -EINVAL);
	cr_assert_eq(api_object_parse("{", 1, &obj, err, sizeof(err)), -EINVAL);
	cr_assert_eq(strlen(err), sizeof(err) - 1);
}

/* The line is len bytes, not a C string: nothing past len is read. */
Test(api_parse, reads_only_len)
{
	char err[256];

	cr_assert_eq(parse("{\"a\":1}garbage", 7, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(parse("{\"a\":12345", 7, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "unterminated object at byte 7"), "%s", err);
}

/* --- accepted values ------------------------------------------------------------ */

Test(api_parse, values)
{
	const char *line = " \t{ \"s\" : \"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\" ,\r\n"
		"\"u\":\"\\u00e9\\u20AC\\ud83d\\ude00\\u0001\",\"raw\":\"\xc3\xa9\xe2\x82\xac"
		"\xf0\x9f\x98\x80\x7f\",\"empty\":\"\",\"\":1,"
		"\"i\":-0,\"z\":0,\"n\":123,\"f\":-12.25E-2,\"e\":1.5e3,\"E\":2E+2,"
		"\"t\":true,\"no\":false,\"nil\":null } \n";
	const struct api_field *f;
	char err[256];

	cr_assert_eq(parse(line, strlen(line), err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(obj.n, 14);
	f = api_object_get(&obj, "s");
	cr_assert_eq(f->type, API_T_STRING);
	cr_assert_str_eq(f->str, "a\"b\\c/d\b\f\n\r\t");
	cr_assert_str_eq(api_object_get(&obj, "u")->str,
			 "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\x01");
	cr_assert_str_eq(api_object_get(&obj, "raw")->str,
			 "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\x7f");
	cr_assert_str_eq(api_object_get(&obj, "empty")->str, "");
	cr_assert_eq(api_object_get(&obj, "")->num, 1);
	f = api_object_get(&obj, "i");
	cr_assert_eq(f->type, API_T_NUMBER);
	cr_assert_eq(f->num, 0);
	cr_assert_eq(api_object_get(&obj, "z")->num, 0);
	cr_assert_eq(api_object_get(&obj, "n")->num, 123);
	cr_assert_eq(api_object_get(&obj, "f")->num, -0.1225);
	cr_assert_eq(api_object_get(&obj, "e")->num, 1500);
	cr_assert_eq(api_object_get(&obj, "E")->num, 200);
	f = api_object_get(&obj, "t");
	cr_assert_eq(f->type, API_T_BOOL);
	cr_assert_eq(f->boolean, 1);
	f = api_object_get(&obj, "no");
	cr_assert_eq(f->type, API_T_BOOL);
	cr_assert_eq(f->boolean, 0);
	cr_assert_eq(api_object_get(&obj, "nil")->type, API_T_NULL);
	cr_assert_null(api_object_get(&obj, "missing"));
	/* Keys keep their order. */
	cr_assert_str_eq(obj.f[0].key, "s");
	cr_assert_str_eq(obj.f[13].key, "nil");
}

Test(api_parse, empty_object)
{
	char err[256];

	cr_assert_eq(parse("{}", 2, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(obj.n, 0);
	cr_assert_eq(parse(" { \t } ", 7, err, sizeof(err)), 0, "%s", err);
}

Test(api_parse, escaped_keys_compare_decoded)
{
	char err[256];
	const char *dup = "{\"a\":1,\"\\u0061\":2}";

	cr_assert_eq(parse(dup, strlen(dup), err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "duplicate member \"a\""), "%s", err);
}

/* --- requests -------------------------------------------------------------------- */

static int request(const char *line, struct api_request *r, char *err, size_t errlen)
{
	err[0] = '\0';
	return api_request_parse(line, strlen(line), r, err, errlen);
}

struct good_req {
	char line[160];
	enum api_req_kind kind;
	char image[32];
	double timeout;
};

ParameterizedTestParameters(api_request, accepted)
{
	static struct good_req cases[] = {
		{ "{\"request\":\"status\"}", API_REQ_STATUS, "", 60 },
		{ "{\"request\":\"hibernate\"}", API_REQ_HIBERNATE, "", 60 },
		{ "{\"request\":\"snapshot\"}", API_REQ_SNAPSHOT, "", 60 },
		{ "{\"request\":\"poweroff\"}", API_REQ_POWEROFF, "", 60 },
		{ "{\"request\":\"quit\"}", API_REQ_QUIT, "", 60 },
		{ "{\"request\":\"wake\"}", API_REQ_WAKE, "", 60 },
		{ "{\"request\":\"events\"}", API_REQ_EVENTS, "", 60 },
		{ "{\"request\": \"hibernate\", \"image\": \"/var/lib/vm.img\", \"timeout\": 30}",
		  API_REQ_HIBERNATE, "/var/lib/vm.img", 30 },
		{ "{\"timeout\":2.5,\"image\":\"a\\u00e9\",\"request\":\"snapshot\"}",
		  API_REQ_SNAPSHOT, "a\xc3\xa9", 2.5 },
		{ "{\"request\":\"snapshot\",\"image\":\"x\"}", API_REQ_SNAPSHOT, "x", 60 },
		{ "{\"request\":\"hibernate\",\"timeout\":0.1}", API_REQ_HIBERNATE, "", 0.1 },
		{ "{\"request\":\"poweroff\",\"timeout\":86400}", API_REQ_POWEROFF, "", 86400 },
		{ "{\"request\":\"poweroff\",\"timeout\":8.64e4}", API_REQ_POWEROFF, "", 86400 },
		{ "{\"request\":\"poweroff\",\"timeout\":1E-1}", API_REQ_POWEROFF, "", 0.1 },
	};

	return cr_make_param_array(struct good_req, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct good_req *c, api_request, accepted)
{
	struct api_request r;
	char err[256];

	cr_assert_eq(request(c->line, &r, err, sizeof(err)), 0, "%s: %s", c->line, err);
	cr_assert_eq(r.kind, c->kind);
	cr_assert_str_eq(r.image, c->image);
	cr_assert_eq(r.timeout_s, c->timeout);
}

struct bad_req {
	char line[160];
	char msg[128];
};

ParameterizedTestParameters(api_request, refused)
{
	static struct bad_req cases[] = {
		{ "{}", "missing \"request\" (status, hibernate, snapshot, poweroff, quit, "
		  "wake, events)" },
		{ "{\"image\":\"x\"}", "missing \"request\"" },
		{ "{\"Request\":\"status\"}", "missing \"request\"" },
		{ "{\"request\":1}", "\"request\" must be a string" },
		{ "{\"request\":null}", "\"request\" must be a string" },
		{ "{\"request\":true}", "\"request\" must be a string" },
		{ "{\"request\":\"frob\"}", "unknown request 'frob' (status, hibernate, snapshot, "
		  "poweroff, quit, wake, events)" },
		{ "{\"request\":\"\"}", "unknown request ''" },
		{ "{\"request\":\"Status\"}", "unknown request 'Status'" },
		{ "{\"request\":\"a\\nb\"}", "unknown request 'a?b'" },  /* still one line */
		{ "{\"request\":\"status\",\"image\":\"x\"}",
		  "status does not take \"image\" (it takes no arguments)" },
		{ "{\"request\":\"status\",\"timeout\":1}", "status does not take \"timeout\"" },
		{ "{\"request\":\"quit\",\"timeout\":1}", "quit does not take \"timeout\"" },
		{ "{\"request\":\"wake\",\"image\":\"x\"}", "wake does not take \"image\"" },
		{ "{\"request\":\"events\",\"timeout\":5}", "events does not take \"timeout\"" },
		{ "{\"request\":\"poweroff\",\"image\":\"x\"}",
		  "poweroff does not take \"image\" (it takes timeout)" },
		{ "{\"request\":\"hibernate\",\"force\":true}",
		  "hibernate: unknown argument \"force\" (it takes image, timeout)" },
		{ "{\"request\":\"status\",\"verbose\":1}", "status: unknown argument \"verbose\"" },
		{ "{\"request\":\"hibernate\",\"image\":\"\"}",
		  "hibernate: \"image\" must be a non-empty string" },
		{ "{\"request\":\"snapshot\",\"image\":5}", "\"image\" must be a non-empty string" },
		{ "{\"request\":\"snapshot\",\"image\":null}", "\"image\" must be a non-empty string" },
		{ "{\"request\":\"hibernate\",\"timeout\":\"30\"}",
		  "hibernate: \"timeout\" must be a number of seconds from 0.1 to 86400 "
		  "(not a number)" },
		{ "{\"request\":\"hibernate\",\"timeout\":null}", "\"timeout\" must be a number" },
		{ "{\"request\":\"hibernate\",\"timeout\":true}", "\"timeout\" must be a number" },
		{ "{\"request\":\"hibernate\",\"timeout\":0.05}", "from 0.1 to 86400 (0.05)" },
		{ "{\"request\":\"snapshot\",\"timeout\":0}", "from 0.1 to 86400 (0)" },
		{ "{\"request\":\"poweroff\",\"timeout\":-1}", "from 0.1 to 86400 (-1)" },
		{ "{\"request\":\"poweroff\",\"timeout\":86400.5}", "(86400.5)" },
		{ "{\"request\":\"poweroff\",\"timeout\":1e9}", "(1e+09)" },
		/* the parser's refusals come through */
		{ "{\"request\":\"status\"", "unterminated object at byte 19" },
		{ "", "empty line" },
		{ "{\"request\":\"status\",\"request\":\"quit\"}", "duplicate member \"request\"" },
		{ "{\"request\":\"status\"} {}", "trailing text" },
	};

	return cr_make_param_array(struct bad_req, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct bad_req *c, api_request, refused)
{
	struct api_request r;
	char err[256];

	cr_assert_eq(request(c->line, &r, err, sizeof(err)), -EINVAL, "accepted: %s", c->line);
	cr_assert(strstr(err, c->msg), "'%s': reason '%s' lacks '%s'", c->line, err, c->msg);
	cr_assert(!strchr(err, '\n'));
}

Test(api_request, long_unknown_name_is_cut)
{
	char line[512], err[256];
	struct api_request r;
	int n = snprintf(line, sizeof(line), "{\"request\":\"");

	memset(line + n, 'y', 200);
	memcpy(line + n + 200, "\"}", 3);
	cr_assert_eq(request(line, &r, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "yyy...' (status"), "%s", err);
}

Test(api_request, names)
{
	static const char *const names[] = {
		"status", "hibernate", "snapshot", "poweroff", "quit", "wake", "events",
	};

	for (int k = API_REQ_STATUS; k <= API_REQ_EVENTS; k++) {
		char line[64], err[256];
		struct api_request r;

		cr_assert_str_eq(api_request_name((enum api_req_kind)k), names[k]);
		snprintf(line, sizeof(line), "{\"request\":\"%s\"}", names[k]);
		cr_assert_eq(request(line, &r, err, sizeof(err)), 0, "%s", err);
		cr_assert_eq(r.kind, (enum api_req_kind)k);
	}
	cr_assert_str_eq(api_request_name((enum api_req_kind)99), "unknown");
}

/* --- writer ---------------------------------------------------------------------- */

static struct api_writer w;

/* The writer's line parses as one object, ends in its only newline and
 * fits the limit. */
static void check_line(const char *line, size_t len)
{
	char err[256];

	cr_assert_not_null(line);
	cr_assert_gt(len, 2);
	cr_assert_leq(len, API_MAX_REPLY);
	cr_assert_eq(strlen(line), len);
	cr_assert_eq(line[len - 1], '\n');
	cr_assert_eq(memchr(line, '\n', len), line + len - 1);
	cr_assert_eq(parse(line, len - 1, err, sizeof(err)), 0, "%s: %s", err, line);
}

Test(api_writer, reply)
{
	size_t len;
	const char *line;

	api_begin_reply(&w, 1);
	api_put_str(&w, "image", "/var/lib/vm.img");
	api_put_u64(&w, "bytes", 123456789);
	api_put_num(&w, "ratio", 3.25, 2);
	api_put_int(&w, "pid", -5);
	api_put_bool(&w, "yes", 1);
	api_put_bool(&w, "no", 0);
	api_put_str(&w, "none", NULL);
	line = api_end(&w, &len);
	cr_assert_str_eq(line, "{\"ok\": true, \"image\": \"/var/lib/vm.img\", \"bytes\": 123456789, "
			 "\"ratio\": 3.25, \"pid\": -5, \"yes\": true, \"no\": false, "
			 "\"none\": null}\n");
	check_line(line, len);
	cr_assert_eq(api_object_get(&obj, "none")->type, API_T_NULL);

	api_begin_reply(&w, 0);
	line = api_end(&w, &len);
	cr_assert_str_eq(line, "{\"ok\": false}\n");
	cr_assert_eq(len, 14);
}

Test(api_writer, event_and_request)
{
	size_t len;
	const char *line;

	api_begin_event(&w, "checkpoint-done");
	api_put_str(&w, "image", "a.img");
	line = api_end(&w, &len);
	cr_assert_str_eq(line, "{\"event\": \"checkpoint-done\", \"image\": \"a.img\"}\n");
	check_line(line, len);

	api_begin_request(&w, "hibernate");
	api_put_num(&w, "timeout", 30, 3);
	line = api_end(&w, &len);
	cr_assert_str_eq(line, "{\"request\": \"hibernate\", \"timeout\": 30.000}\n");
	{
		struct api_request r;
		char err[256];

		cr_assert_eq(api_request_parse(line, len - 1, &r, err, sizeof(err)), 0, "%s", err);
		cr_assert_eq(r.kind, API_REQ_HIBERNATE);
		cr_assert_eq(r.timeout_s, 30);
	}
}

Test(api_writer, escapes)
{
	size_t len;
	const char *line;

	api_begin_reply(&w, 1);
	api_put_str(&w, "s", "a\"b\\c\n\x01\x1f\x7f/\xc3\xa9\xf0\x9f\x98\x80 ~");
	api_put_str(&w, "k\"ey", "");
	line = api_end(&w, &len);
	cr_assert_str_eq(line, "{\"ok\": true, \"s\": \"a\\\"b\\\\c\\u000a\\u0001\\u001f\\u007f/"
			 "\xc3\xa9\xf0\x9f\x98\x80 ~\", \"k\\\"ey\": \"\"}\n");
	check_line(line, len);
	cr_assert_not_null(api_object_get(&obj, "k\"ey"));
}

/* Every byte from 1 to 0x7f and characters of every UTF-8 length come back
 * from the parser as they went into the writer. */
Test(api_writer, round_trip)
{
	char s[512];
	size_t n = 0, len;
	const char *line;

	for (int c = 1; c < 0x80; c++)
		s[n++] = (char)c;
	strcpy(s + n, "\xc2\x80\xc3\xbf\xdf\xbf\xe0\xa0\x80\xe2\x82\xac\xed\x9f\xbf\xee\x80\x80"
	       "\xef\xbf\xbf\xf0\x90\x80\x80\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf");
	api_begin_event(&w, "x\ty");
	api_put_str(&w, "s", s);
	api_put_str(&w, "\x01key\xe2\x82\xac", "v");
	line = api_end(&w, &len);
	check_line(line, len);
	cr_assert_str_eq(api_object_get(&obj, "event")->str, "x\ty");
	cr_assert_str_eq(api_object_get(&obj, "s")->str, s);
	cr_assert_str_eq(api_object_get(&obj, "\x01key\xe2\x82\xac")->str, "v");
}

/* Bytes that are not UTF-8 become U+FFFD: the line stays parseable. */
Test(api_writer, invalid_utf8)
{
	size_t len;
	const char *line;

	api_begin_reply(&w, 1);
	api_put_str(&w, "s", "a\xff" "b\xc3" "c\xed\xa0\x80" "d\xe2\x82");
	line = api_end(&w, &len);
	check_line(line, len);
	cr_assert_str_eq(api_object_get(&obj, "s")->str,
			 "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
			 "d\xef\xbf\xbd\xef\xbf\xbd");
}

struct num_case {
	double val;
	int decimals;
	char want[40];
};

ParameterizedTestParameters(api_writer, numbers)
{
	static struct num_case cases[] = {
		{ 1.5, 2, "1.50" },
		{ 3.14159, 3, "3.142" },
		{ 2.6, 0, "3" },
		{ 42, 0, "42" },
		{ 0.1234567891, 9, "0.123457" },        /* clamped to 6 */
		{ 7.25, -3, "7" },                      /* clamped to 0 */
		{ -2.5, 1, "-2.5" },
		{ -0.0, 3, "0.000" },
		{ -0.0001, 2, "0.00" },
		{ -0.4, 0, "0" },
		{ 0, 0, "0" },
		{ 999999999999999.0, 0, "999999999999999" },
		{ 1e15, 2, "1000000000000000" },
		{ 1e20, 2, "1e+20" },
		{ -1.5e300, 2, "-1.5000000000000001e+300" },
		{ NAN, 2, "null" },
		{ -NAN, 2, "null" },
		{ INFINITY, 2, "null" },
		{ -INFINITY, 0, "null" },
	};

	return cr_make_param_array(struct num_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct num_case *c, api_writer, numbers)
{
	char want[96];
	size_t len;
	const char *line;

	api_begin_reply(&w, 1);
	api_put_num(&w, "n", c->val, c->decimals);
	line = api_end(&w, &len);
	snprintf(want, sizeof(want), "{\"ok\": true, \"n\": %s}\n", c->want);
	cr_assert_str_eq(line, want);
	check_line(line, len);
	if (isfinite(c->val))
		cr_assert_eq(api_object_get(&obj, "n")->type, API_T_NUMBER);
}

Test(api_writer, integers)
{
	size_t len;
	const char *line;

	api_begin_reply(&w, 1);
	api_put_u64(&w, "max", UINT64_MAX);
	api_put_u64(&w, "zero", 0);
	api_put_int(&w, "min", INT64_MIN);
	api_put_int(&w, "imax", INT64_MAX);
	line = api_end(&w, &len);
	cr_assert_str_eq(line, "{\"ok\": true, \"max\": 18446744073709551615, \"zero\": 0, "
			 "\"min\": -9223372036854775808, \"imax\": 9223372036854775807}\n");
	check_line(line, len);
}

/* --- running out of room ------------------------------------------------------- */

static char big[3 * API_MAX_REPLY];

static void fill(char c, size_t n)
{
	memset(big, c, n);
	big[n] = '\0';
}

Test(api_writer, reply_overflow_is_an_error_reply)
{
	size_t len;
	const char *line;

	fill('x', API_MAX_REPLY + 10);
	api_begin_reply(&w, 1);
	api_put_str(&w, "image", "a.img");
	api_put_str(&w, "big", big);
	api_put_u64(&w, "after", 1);
	line = api_end(&w, &len);
	check_line(line, len);
	cr_assert_eq(api_object_get(&obj, "ok")->boolean, 0);
	cr_assert(strstr(api_object_get(&obj, "error")->str, "did not fit"));
	cr_assert_null(api_object_get(&obj, "image"));
}

/* Many small members, and a string that grows sixfold when escaped. */
Test(api_writer, overflow_by_members_and_escapes)
{
	size_t len;
	const char *line;

	api_begin_reply(&w, 1);
	for (int i = 0; i < 2000; i++)
		api_put_u64(&w, "member", 12345678);
	line = api_end(&w, &len);
	check_line(line, len);
	cr_assert_eq(api_object_get(&obj, "ok")->boolean, 0);

	fill('\x01', API_MAX_STR - 1);
	api_begin_reply(&w, 1);
	api_put_str(&w, "s", big);
	line = api_end(&w, &len);
	check_line(line, len);
	cr_assert_eq(api_object_get(&obj, "ok")->boolean, 0);
}

Test(api_writer, event_overflow_is_truncated)
{
	size_t len;
	const char *line;

	fill('y', API_MAX_REPLY);
	api_begin_event(&w, "checkpoint-done");
	api_put_str(&w, "image", "a.img");
	api_put_str(&w, "big", big);
	api_put_u64(&w, "bytes", 5);    /* after the one left out: left out too */
	line = api_end(&w, &len);
	check_line(line, len);
	cr_assert_str_eq(line, "{\"event\": \"checkpoint-done\", \"image\": \"a.img\", "
			 "\"truncated\": true}\n");
}

Test(api_writer, event_name_too_long)
{
	size_t len;
	const char *line;

	fill('n', API_MAX_REPLY);
	api_begin_event(&w, big);
	api_put_u64(&w, "bytes", 5);
	line = api_end(&w, &len);
	check_line(line, len);
	cr_assert_str_eq(line, "{\"event\": \"unknown\", \"truncated\": true}\n");
}

/* Every size around the limit gives a valid line of at most API_MAX_REPLY
 * bytes: the member fits whole or not at all. Control characters (six
 * bytes escaped) reach the line's limit with a string the parser holds. */
Test(api_writer, every_size_near_the_limit)
{
	int fitted = 0, cut = 0;

	for (size_t n = API_MAX_REPLY - 100; n < API_MAX_REPLY + 10; n++) {
		size_t len, k = (n - 30) / 6, r = (n - 30) % 6;
		const char *line;

		memset(big, 'z', r);
		memset(big + r, '\x01', k);
		big[r + k] = '\0';
		api_begin_reply(&w, 1);
		api_put_str(&w, "s", big);
		line = api_end(&w, &len);
		check_line(line, len);
		if (api_object_get(&obj, "ok")->boolean) {
			cr_assert_str_eq(api_object_get(&obj, "s")->str, big);
			fitted++;
		} else {
			cut++;
		}

		api_begin_event(&w, "e");
		api_put_str(&w, "s", big);
		line = api_end(&w, &len);
		check_line(line, len);
		cr_assert_str_eq(api_object_get(&obj, "event")->str, "e");
	}
	cr_assert(fitted && cut, "fitted %d, cut %d", fitted, cut);
}

/* What the parser would refuse is not written either. */
Test(api_writer, parser_limits)
{
	size_t len;
	const char *line;

	fill('s', API_MAX_STR - 1);
	api_begin_reply(&w, 1);
	api_put_str(&w, "s", big);
	line = api_end(&w, &len);
	check_line(line, len);
	cr_assert_eq(api_object_get(&obj, "ok")->boolean, 1);

	fill('s', API_MAX_STR);
	api_begin_event(&w, "e");
	api_put_str(&w, "s", big);
	line = api_end(&w, &len);
	check_line(line, len);
	cr_assert_null(api_object_get(&obj, "s"));
	cr_assert_eq(api_object_get(&obj, "truncated")->boolean, 1);

	/* invalid bytes count as the three of U+FFFD */
	fill('\xff', API_MAX_STR / 3 + 1);
	api_begin_reply(&w, 1);
	api_put_str(&w, "s", big);
	line = api_end(&w, &len);
	check_line(line, len);
	cr_assert_eq(api_object_get(&obj, "ok")->boolean, 0);

	fill('k', API_MAX_KEY - 1);
	api_begin_reply(&w, 1);
	api_put_u64(&w, big, 1);
	line = api_end(&w, &len);
	check_line(line, len);
	cr_assert_eq(api_object_get(&obj, big)->num, 1);
	fill('k', API_MAX_KEY);
	api_begin_reply(&w, 1);
	api_put_u64(&w, big, 1);
	line = api_end(&w, &len);
	check_line(line, len);
	cr_assert_eq(api_object_get(&obj, "ok")->boolean, 0);

	/* "event", 30 members and "truncated": the 32nd is one too many */
	api_begin_event(&w, "e");
	for (int i = 0; i < API_MAX_FIELDS; i++) {
		char key[8];

		snprintf(key, sizeof(key), "k%d", i);
		api_put_u64(&w, key, (uint64_t)i);
	}
	line = api_end(&w, &len);
	check_line(line, len);
	cr_assert_eq(obj.n, API_MAX_FIELDS);
	cr_assert_eq(api_object_get(&obj, "truncated")->boolean, 1);
	cr_assert_null(api_object_get(&obj, "k30"));
	cr_assert_not_null(api_object_get(&obj, "k29"));

	/* a reply holds "ok" and 31 */
	api_begin_reply(&w, 1);
	for (int i = 0; i < API_MAX_FIELDS - 1; i++) {
		char key[8];

		snprintf(key, sizeof(key), "k%d", i);
		api_put_u64(&w, key, (uint64_t)i);
	}
	line = api_end(&w, &len);
	check_line(line, len);
	cr_assert_eq(obj.n, API_MAX_FIELDS);
	cr_assert_eq(api_object_get(&obj, "ok")->boolean, 1);
	api_begin_reply(&w, 1);
	for (int i = 0; i < API_MAX_FIELDS; i++)
		api_put_u64(&w, i ? "b" : "a", (uint64_t)i);
	line = api_end(&w, &len);
	check_line(line, len);
	cr_assert_eq(api_object_get(&obj, "ok")->boolean, 0);
}

Test(api_writer, request_overflow_is_null)
{
	size_t len = 99;

	fill('r', API_MAX_REPLY);
	api_begin_request(&w, "hibernate");
	api_put_str(&w, "image", big);
	cr_assert_null(api_end(&w, &len));
	cr_assert_eq(len, 0);
}

Test(api_writer, error_reply)
{
	size_t len;
	const char *line;

	line = api_error_reply(&w, &len, "the guest did not suspend within %d s; it keeps running",
			       30);
	cr_assert_str_eq(line, "{\"ok\": false, \"error\": \"the guest did not suspend within "
			 "30 s; it keeps running\"}\n");
	check_line(line, len);

	line = api_error_reply(&w, &len, "bad \"%s\"\n", "x\ty");
	check_line(line, len);
	cr_assert_str_eq(api_object_get(&obj, "error")->str, "bad \"x\ty\"\n");
}

Test(api_writer, error_reply_is_cut)
{
	size_t len;
	const char *line;

	fill('\x02', 3000);
	line = api_error_reply(&w, &len, "%s", big);
	check_line(line, len);
	cr_assert_eq(strlen(api_object_get(&obj, "error")->str), 1023);

	/* A cut inside a character drops its first bytes. */
	fill('a', 1022);
	strcat(big, "\xc3\xa9 and more");
	line = api_error_reply(&w, &len, "%s", big);
	check_line(line, len);
	cr_assert_eq(strlen(api_object_get(&obj, "error")->str), 1022);
	fill('a', 1020);
	strcat(big, "\xf0\x9f\x98\x80");
	line = api_error_reply(&w, &len, "%s", big);
	check_line(line, len);
	cr_assert_eq(strlen(api_object_get(&obj, "error")->str), 1020);
	/* A whole character at the end stays. */
	fill('a', 1021);
	strcat(big, "\xc3\xa9");
	line = api_error_reply(&w, &len, "%s", big);
	check_line(line, len);
	cr_assert_eq(strlen(api_object_get(&obj, "error")->str), 1023);
}

/* The writer is reusable: a new begin forgets the overflow. */
Test(api_writer, reuse_after_overflow)
{
	size_t len;
	const char *line;

	fill('x', API_MAX_REPLY);
	api_begin_reply(&w, 1);
	api_put_str(&w, "s", big);
	api_end(&w, &len);
	api_begin_reply(&w, 1);
	api_put_u64(&w, "n", 1);
	line = api_end(&w, &len);
	cr_assert_str_eq(line, "{\"ok\": true, \"n\": 1}\n");
}
