/* tap.h - the host end of a guest's network card: a Linux tap device opened
 * through /dev/net/tun with a virtio-net header on every frame, the --net
 * argument, and MAC addresses (parsed, printed, and derived from a tap's
 * name). */
#ifndef TORPOR_TAP_H
#define TORPOR_TAP_H

#include <stddef.h>
#include <stdint.h>

#define TAP_NAME_MAX    15      /* IFNAMSIZ - 1 */
#define MAC_LEN         6
#define MAC_STR_LEN     18      /* "52:54:00:12:34:56" and its NUL */

/* One --net argument: "tap=NAME[,mac=MAC]". */
struct net_spec {
	char tap[TAP_NAME_MAX + 1];     /* may be empty on restore: keep the image's */
	uint8_t mac[MAC_LEN];
	int mac_set;                    /* mac= was given */
};

/* An open tap. mac is what the guest's card gets: the one --net named
 * (mac_given), or the default for the name. */
struct tap {
	int fd;                         /* -1 when closed */
	char name[TAP_NAME_MAX + 1];
	uint8_t mac[MAC_LEN];
	int mac_given;
	int created;                    /* torpor created it (it goes with the fd) */
	unsigned offloads;              /* TUN_F_* last set with tap_set_offload */
};

/* Parses "tap=NAME[,mac=MAC]" (keys in any order, each at most once; NAME
 * 1..TAP_NAME_MAX bytes of letters, digits, '-', '_' and '.'); restore
 * passes allow_no_tap so that "mac=MAC" alone keeps the image's tap. 0, or
 * -EINVAL with a one-line message in err. */
int net_spec_parse(struct net_spec *s, const char *arg, int allow_no_tap,
		   char *err, size_t errlen);

/* Whether the len bytes at name are a tap name torpor takes: 1 to
 * TAP_NAME_MAX of A-Z a-z 0-9 '.' '_' '-' (no NUL, nothing a shell or a
 * terminal would read differently). */
int tap_name_ok(const void *name, size_t len);

/* Parses six hex pairs separated by ':' into mac; a multicast address or
 * all zeroes is refused. 0 or -EINVAL. */
int mac_parse(const char *s, uint8_t mac[MAC_LEN]);

/* Writes mac as "xx:xx:xx:xx:xx:xx" (lower case) into out. */
void mac_format(const uint8_t mac[MAC_LEN], char out[MAC_STR_LEN]);

/* The default MAC for a tap name: a locally administered unicast address
 * that depends on the name only, so a VM keeps it from run to run. */
void mac_default(const char *name, uint8_t mac[MAC_LEN]);

/* Opens tap name with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR (12-byte
 * virtio_net_hdr_v1 on every frame), creating it when it does not exist and
 * the caller may (a created tap is brought up and vanishes when closed);
 * non-blocking, close-on-exec. t->mac is mac_default(name); the caller sets
 * mac/mac_given for --net mac=. 0, or a negative errno with a one-line
 * message in err (t closed). */
int tap_open(struct tap *t, const char *name, char *err, size_t errlen);

/* The MAC --net gave in s, if any, becomes t's (mac_given). */
void tap_take_mac(struct tap *t, const struct net_spec *s);

/* Tells the tap which offloads the guest can take on frames it receives
 * (TUN_F_CSUM, TUN_F_TSO4, TUN_F_TSO6); 0 or a negative errno. */
int tap_set_offload(struct tap *t, unsigned tun_flags);

/* Closes t (safe on a closed one). */
void tap_close(struct tap *t);

#endif
