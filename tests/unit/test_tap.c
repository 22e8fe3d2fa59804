/* test_tap.c - the --net argument, MAC addresses, and (as root with
 * /dev/net/tun) opening a real tap. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "tap.h"

Test(mac, parse_good)
{
	uint8_t m[MAC_LEN];

	cr_assert_eq(mac_parse("52:54:00:12:34:56", m), 0);
	cr_expect_arr_eq(m, ((uint8_t[]){ 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 }), MAC_LEN);
	cr_assert_eq(mac_parse("02:AB:cd:Ef:00:ff", m), 0);
	cr_expect_arr_eq(m, ((uint8_t[]){ 0x02, 0xab, 0xcd, 0xef, 0x00, 0xff }), MAC_LEN);
}

/* Arrays, not pointers: each parameter is copied into the test's process. */
struct bad_mac {
	char s[32];
	char why[32];
};

ParameterizedTestParameters(mac, parse_bad)
{
	static struct bad_mac bad[] = {
		{ "", "empty" },
		{ "52:54:00:12:34", "short" },
		{ "52:54:00:12:34:5", "one digit short" },
		{ "52:54:00:12:34:567", "long" },
		{ "52:54:00:12:34:56:78", "seven bytes" },
		{ "52-54-00-12-34-56", "dashes" },
		{ "52:54:00:12:34:5g", "not hex" },
		{ "5254:00:12:34:56:", "separator misplaced" },
		{ "01:00:5e:00:00:01", "multicast" },
		{ "ff:ff:ff:ff:ff:ff", "broadcast" },
		{ "00:00:00:00:00:00", "zero" },
		{ " 2:54:00:12:34:56", "space" },
	};

	return cr_make_param_array(struct bad_mac, bad, sizeof(bad) / sizeof(bad[0]));
}

ParameterizedTest(struct bad_mac *b, mac, parse_bad)
{
	uint8_t m[MAC_LEN] = { 1, 2, 3, 4, 5, 6 };

	cr_expect_eq(mac_parse(b->s, m), -EINVAL, "%s: '%s'", b->why, b->s);
	cr_expect_arr_eq(m, ((uint8_t[]){ 1, 2, 3, 4, 5, 6 }), MAC_LEN, "%s: untouched", b->why);
}

Test(mac, format_round_trips)
{
	uint8_t m[MAC_LEN] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0x0f }, back[MAC_LEN];
	char s[MAC_STR_LEN];

	mac_format(m, s);
	cr_expect_str_eq(s, "52:54:00:ab:cd:0f");
	cr_assert_eq(mac_parse(s, back), 0);
	cr_expect_arr_eq(back, m, MAC_LEN);
}

Test(mac, default_is_stable_local_unicast_and_per_name)
{
	static const char *names[] = { "tap0", "tap1", "vm-a", "br0.10", "x",
				       "torpor_tap_123" };
	uint8_t m[6][MAC_LEN], again[MAC_LEN];

	for (unsigned i = 0; i < 6; i++) {
		mac_default(names[i], m[i]);
		cr_expect_eq(m[i][0] & 3, 2, "%s: locally administered unicast", names[i]);
		mac_default(names[i], again);
		cr_expect_arr_eq(again, m[i], MAC_LEN, "%s: stable", names[i]);
		for (unsigned j = 0; j < i; j++)
			cr_expect(memcmp(m[i], m[j], MAC_LEN), "%s and %s share a MAC",
				  names[i], names[j]);
	}
	/* A fixed value (FNV-1a 64 of "tap0", low byte first, the first
	 * byte's bits 0-1 made 10): the hash must not change from one build
	 * to the next, or a guest's MAC would. */
	{
		char s[MAC_STR_LEN];

		mac_default("tap0", again);
		mac_format(again, s);
		cr_expect_str_eq(s, "16:d0:ac:07:ef:fc");
	}
}

Test(net_spec, forms)
{
	struct net_spec s;
	char err[128] = "";

	cr_assert_eq(net_spec_parse(&s, "tap=tap0", 0, err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(s.tap, "tap0");
	cr_expect_eq(s.mac_set, 0);
	cr_assert_eq(net_spec_parse(&s, "tap=vm-a_1.x,mac=52:54:00:00:00:01", 0, err,
				    sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(s.tap, "vm-a_1.x");
	cr_expect_eq(s.mac_set, 1);
	cr_expect_eq(s.mac[5], 1);
	cr_assert_eq(net_spec_parse(&s, "mac=52:54:00:00:00:02,tap=t", 0, err,
				    sizeof(err)), 0, "keys in any order");
	cr_expect_str_eq(s.tap, "t");
	cr_expect_eq(s.mac[5], 2);
	cr_assert_eq(net_spec_parse(&s, "tap=123456789012345", 0, err, sizeof(err)), 0,
		     "15 bytes is the longest name");
	cr_assert_eq(net_spec_parse(&s, "mac=52:54:00:00:00:03", 1, err, sizeof(err)), 0,
		     "restore: mac alone keeps the image's tap");
	cr_expect_str_eq(s.tap, "");
	cr_expect_eq(s.mac_set, 1);
}

struct bad_spec {
	char arg[64];
	int allow_no_tap;
	char why[32];
};

ParameterizedTestParameters(net_spec, refusals)
{
	static struct bad_spec bad[] = {
		{ "", 0, "empty" },
		{ "", 1, "empty, even on restore" },
		{ "mac=52:54:00:00:00:01", 0, "no tap" },
		{ "tap=", 0, "empty name" },
		{ "tap=1234567890123456", 0, "name too long" },
		{ "tap=a/b", 0, "slash in name" },
		{ "tap=a b", 0, "space in name" },
		{ "tap=a:b", 0, "colon in name" },
		{ "tap=a,tap=b", 0, "tap twice" },
		{ "tap=a,mac=52:54:00:00:00:01,mac=52:54:00:00:00:02", 0, "mac twice" },
		{ "tap=a,mac=01:54:00:00:00:01", 0, "multicast mac" },
		{ "tap=a,mac=00:00:00:00:00:00", 0, "zero mac" },
		{ "tap=a,mac=52:54:00:00:00", 0, "short mac" },
		{ "tap=a,mac=52:54:00:00:00:01:02", 0, "long mac" },
		{ "tap=a,mac=", 0, "empty mac" },
		{ "tap=a,", 0, "trailing comma" },
		{ ",tap=a", 0, "leading comma" },
		{ "tap=a,,mac=52:54:00:00:00:01", 0, "empty item" },
		{ "tap=a,speed=10", 0, "unknown key" },
		{ "tap", 0, "no value" },
		{ "TAP=a", 0, "key case" },
	};

	return cr_make_param_array(struct bad_spec, bad, sizeof(bad) / sizeof(bad[0]));
}

ParameterizedTest(struct bad_spec *b, net_spec, refusals)
{
	struct net_spec s;
	char err[128] = "";

	cr_expect_eq(net_spec_parse(&s, b->arg, b->allow_no_tap, err, sizeof(err)), -EINVAL,
		     "%s: '%s'", b->why, b->arg);
	cr_expect_neq(err[0], '\0', "%s: a message", b->why);
	cr_expect_null(strchr(err, '\n'), "%s: one line", b->why);
}

Test(net_spec, message_is_one_line)
{
	struct net_spec s;
	char err[128] = "";

	cr_assert_eq(net_spec_parse(&s, "tap=a\nb", 0, err, sizeof(err)), -EINVAL);
	cr_expect_null(strchr(err, '\n'), "%s", err);
}

/* --- a real tap ------------------------------------------------------------- */

static int can_open_tun(void)
{
	int fd;

	if (geteuid() != 0)
		return 0;
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

Test(tap, open_creates_and_closes)
{
	char name[TAP_NAME_MAX + 1], err[256] = "";
	struct tap t;
	int r;

	if (!can_open_tun())
		cr_skip_test("needs root and /dev/net/tun");
	snprintf(name, sizeof(name), "trpt%d", (int)getpid() % 100000);
	cr_assert_eq(if_nametoindex(name), 0, "%s exists already", name);
	r = tap_open(&t, name, err, sizeof(err));
	if (r == -EPERM || r == -EACCES)
		cr_skip_test("%s", err);
	cr_assert_eq(r, 0, "%s", err);
	cr_expect_geq(t.fd, 0);
	cr_expect_str_eq(t.name, name);
	cr_expect_eq(t.created, 1, "it did not exist");
	cr_expect_neq(if_nametoindex(name), 0u, "the interface is there");
	cr_expect_eq(fcntl(t.fd, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
	cr_expect_eq(fcntl(t.fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	{
		uint8_t m[MAC_LEN];

		mac_default(name, m);
		cr_expect_arr_eq(t.mac, m, MAC_LEN, "the default MAC");
	}
	cr_expect_eq(tap_set_offload(&t, 0), 0);
	tap_close(&t);
	cr_expect_eq(t.fd, -1);
	tap_close(&t);
	cr_expect_eq(if_nametoindex(name), 0, "a created tap goes with its fd");
}

/* A tap that exists (persistent) is opened, not created, and stays; one in
 * use by another fd is refused. */
Test(tap, open_existing_and_busy)
{
	char name[TAP_NAME_MAX + 1], err[256] = "";
	struct tap a, b;
	int r;

	if (!can_open_tun())
		cr_skip_test("needs root and /dev/net/tun");
	snprintf(name, sizeof(name), "trpe%d", (int)getpid() % 100000);
	r = tap_open(&a, name, err, sizeof(err));
	if (r == -EPERM || r == -EACCES)
		cr_skip_test("%s", err);
	cr_assert_eq(r, 0, "%s", err);
	r = tap_open(&b, name, err, sizeof(err));
	cr_expect_eq(r, -EBUSY, "a second open of a tap in use");
	cr_expect_eq(b.fd, -1);
	cr_expect_neq(strstr(err, name), NULL, "%s", err);
	cr_assert_eq(ioctl(a.fd, TUNSETPERSIST, 1), 0);
	tap_close(&a);
	cr_assert_eq(tap_open(&b, name, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(b.created, 0, "it existed");
	cr_expect_eq(ioctl(b.fd, TUNSETPERSIST, 0), 0);
	tap_close(&b);
	cr_expect_eq(if_nametoindex(name), 0);
}

Test(tap, open_refuses_bad_names)
{
	char err[256] = "";
	struct tap t;

	cr_expect_eq(tap_open(&t, "", err, sizeof(err)), -EINVAL);
	cr_expect_eq(t.fd, -1);
	cr_expect_eq(tap_open(&t, "1234567890123456", err, sizeof(err)), -EINVAL);
	cr_expect_eq(tap_open(&t, "a/b", err, sizeof(err)), -EINVAL);
	cr_expect_neq(err[0], '\0');
}

/* Opening something that is not a tap fails with a message and leaves the
 * tap closed. */
Test(tap, open_refuses_a_non_tap)
{
	char err[256] = "";
	struct tap t;
	int r;

	if (!can_open_tun())
		cr_skip_test("needs root and /dev/net/tun");
	if (!if_nametoindex("lo"))
		cr_skip_test("no loopback interface");
	r = tap_open(&t, "lo", err, sizeof(err));
	cr_expect_lt(r, 0);
	cr_expect_eq(t.fd, -1);
	cr_expect_neq(err[0], '\0');
	cr_expect_null(strchr(err, '\n'));
}
