/* tap.c - the host end of a guest's network card: the --net argument, MAC
 * addresses, and a Linux tap opened through /dev/net/tun with a 12-byte
 * virtio-net header on every frame. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "tap.h"

#define VNET_HDR_SIZE   12      /* struct virtio_net_hdr_v1 */

/* --- MAC addresses ----------------------------------------------------------- */

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int mac_parse(const char *s, uint8_t mac[MAC_LEN])
{
	uint8_t m[MAC_LEN];

	if (strlen(s) != MAC_STR_LEN - 1)
		return -EINVAL;
	for (unsigned i = 0; i < MAC_LEN; i++) {
		int hi = hex_digit(s[3 * i]), lo = hex_digit(s[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < MAC_LEN - 1 && s[3 * i + 2] != ':'))
			return -EINVAL;
		m[i] = (uint8_t)(hi << 4 | lo);
	}
	/* A card's own address is unicast (bit 0 of the first byte clear) and
	 * not the all-zero "no address". */
	if ((m[0] & 1) || !(m[0] | m[1] | m[2] | m[3] | m[4] | m[5]))
		return -EINVAL;
	memcpy(mac, m, MAC_LEN);
	return 0;
}

void mac_format(const uint8_t mac[MAC_LEN], char out[MAC_STR_LEN])
{
	snprintf(out, MAC_STR_LEN, "%02x:%02x:%02x:%02x:%02x:%02x",
		 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

/* 64-bit FNV-1a of the name: stable across runs, hosts and builds. */
void mac_default(const char *name, uint8_t mac[MAC_LEN])
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 0x100000001b3ull;
	for (unsigned i = 0; i < MAC_LEN; i++)
		mac[i] = (uint8_t)(h >> (8 * i));
	/* Locally administered (bit 1) unicast (bit 0 clear). */
	mac[0] = (uint8_t)((mac[0] & ~3u) | 2u);
}

/* --- --net ------------------------------------------------------------------- */

int tap_name_ok(const void *name, size_t len)
{
	const char *s = name;

	if (len < 1 || len > TAP_NAME_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
			return 0;
	}
	return 1;
}

/* One "key=value" item of length len at s into n. */
static int spec_item(struct net_spec *n, const char *s, size_t len, char *err,
		     size_t errlen)
{
	char mac[MAC_STR_LEN];

	if (len >= 4 && !memcmp(s, "tap=", 4)) {
		if (n->tap[0]) {
			err_line(err, errlen, "--net: tap= given twice");
			return -EINVAL;
		}
		if (!tap_name_ok(s + 4, len - 4)) {
			err_line(err, errlen, "--net: tap name '%.*s' is not 1..%d letters, "
			    "digits, '-', '_' or '.'", (int)(len - 4), s + 4, TAP_NAME_MAX);
			return -EINVAL;
		}
		memcpy(n->tap, s + 4, len - 4);
		return 0;
	}
	if (len >= 4 && !memcmp(s, "mac=", 4)) {
		if (n->mac_set) {
			err_line(err, errlen, "--net: mac= given twice");
			return -EINVAL;
		}
		if (len - 4 != MAC_STR_LEN - 1) {
			err_line(err, errlen, "--net: mac '%.*s' is not xx:xx:xx:xx:xx:xx",
			    (int)(len - 4), s + 4);
			return -EINVAL;
		}
		memcpy(mac, s + 4, MAC_STR_LEN - 1);
		mac[MAC_STR_LEN - 1] = '\0';
		if (mac_parse(mac, n->mac)) {
			err_line(err, errlen, "--net: mac %s is not a unicast address "
			    "xx:xx:xx:xx:xx:xx other than zero", mac);
			return -EINVAL;
		}
		n->mac_set = 1;
		return 0;
	}
	err_line(err, errlen, "--net: '%.*s' is not tap=NAME or mac=MAC", (int)len, s);
	return -EINVAL;
}

int net_spec_parse(struct net_spec *s, const char *arg, int allow_no_tap,
		   char *err, size_t errlen)
{
	struct net_spec n;
	const char *p = arg;

	memset(&n, 0, sizeof(n));
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (spec_item(&n, p, len, err, errlen))
			return -EINVAL;
		if (!comma)
			break;
		p = comma + 1;
	}
	if (!n.tap[0] && !allow_no_tap) {
		err_line(err, errlen, "--net: tap=NAME is missing");
		return -EINVAL;
	}
	*s = n;
	return 0;
}

/* --- the tap ------------------------------------------------------------------ */

/* Up, so that frames flow; a failure only leaves the tap down, which the
 * user can see and fix with ip link, so it does not stop the VM. */
static void bring_up(const char *name)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		return;
	memcpy(ifr.ifr_name, name, strlen(name));
	if (!ioctl(s, SIOCGIFFLAGS, &ifr)) {
		ifr.ifr_flags |= IFF_UP;
		ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	close(s);
}

int tap_open(struct tap *t, const char *name, char *err, size_t errlen)
{
	struct ifreq ifr = { 0 };
	int hdr = VNET_HDR_SIZE, existed, e;

	memset(t, 0, sizeof(*t));
	t->fd = -1;
	if (!tap_name_ok(name, strlen(name))) {
		err_line(err, errlen, "tap '%s': not a valid interface name", name);
		return -EINVAL;
	}
	existed = if_nametoindex(name) != 0;
	t->fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (t->fd < 0) {
		e = errno;
		err_line(err, errlen, "tap %s: /dev/net/tun: %s", name, strerror(e));
		return -e;
	}
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(t->fd, TUNSETIFF, &ifr)) {
		e = errno;
		err_line(err, errlen, "tap %s: %s%s", name, strerror(e),
		    e == EBUSY ? " (in use by another program?)" :
		    e == EINVAL && existed ? " (not a tap?)" : "");
		goto fail;
	}
	/* The driver's header is virtio_net_hdr_v1 (VERSION_1), not the
	 * 10-byte legacy one the tap assumes by default. */
	if (ioctl(t->fd, TUNSETVNETHDRSZ, &hdr)) {
		e = errno;
		err_line(err, errlen, "tap %s: TUNSETVNETHDRSZ: %s", name, strerror(e));
		goto fail;
	}
	memcpy(t->name, name, strlen(name) + 1);
	t->created = !existed;
	if (t->created)
		bring_up(name);
	mac_default(name, t->mac);
	return 0;
fail:
	tap_close(t);
	return -e;
}

void tap_take_mac(struct tap *t, const struct net_spec *s)
{
	if (!s->mac_set)
		return;
	memcpy(t->mac, s->mac, MAC_LEN);
	t->mac_given = 1;
}

int tap_set_offload(struct tap *t, unsigned tun_flags)
{
	if (ioctl(t->fd, TUNSETOFFLOAD, (unsigned long)tun_flags))
		return -errno;
	t->offloads = tun_flags;
	return 0;
}

void tap_close(struct tap *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}
