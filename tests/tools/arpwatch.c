/* arpwatch - test tool: prints the ARP frames that cross a network
 * interface, so that a rig scenario can tell a guest's gratuitous ARP (its
 * card's announce after a restore) from anything else that could teach the
 * host its MAC.
 *
 * usage: arpwatch IFACE SECONDS
 *
 * For SECONDS, prints one line a frame, flushed at once:
 *   in|out OP SENDER_MAC SENDER_IP TARGET_MAC TARGET_IP
 * ("in": received by the host, e.g. from a guest behind a tap; "out": sent
 * by it; OP 1 request, 2 reply). A gratuitous ARP has SENDER_IP equal to
 * TARGET_IP. Prints "watching" once the socket is bound. Exit status 0, or
 * 1 with a line on stderr (needs CAP_NET_RAW). */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* An Ethernet/IPv4 ARP body (RFC 826), after the Ethernet header. */
struct arp_eth {
	uint16_t htype, ptype;
	uint8_t hlen, plen;
	uint16_t op;
	uint8_t sha[6], spa[4], tha[6], tpa[4];
} __attribute__((packed));

static void mac_str(const uint8_t *m, char *out)
{
	sprintf(out, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

int main(int argc, char **argv)
{
	/* ETH_P_ALL: a socket bound to one protocol sees the frames the host
	 * receives, not those it sends. */
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	struct timespec t0, t;
	long secs;
	int fd;

	if (argc != 3 || (secs = atol(argv[2])) <= 0) {
		fprintf(stderr, "usage: arpwatch IFACE SECONDS\n");
		return 2;
	}
	sll.sll_ifindex = (int)if_nametoindex(argv[1]);
	if (!sll.sll_ifindex) {
		fprintf(stderr, "arpwatch: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	fd = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_ALL));
	if (fd < 0 || bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		fprintf(stderr, "arpwatch: packet socket on %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	printf("watching\n");
	fflush(stdout);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct sockaddr_ll from;
		socklen_t flen = sizeof(from);
		struct arp_eth a;
		char sha[18], tha[18], spa[16], tpa[16];
		long left_ms;
		ssize_t n;

		clock_gettime(CLOCK_MONOTONIC, &t);
		left_ms = secs * 1000 - ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left_ms <= 0)
			return 0;
		if (poll(&p, 1, (int)left_ms) <= 0)
			continue;
		/* SOCK_DGRAM: the ARP body, without the Ethernet header. */
		n = recvfrom(fd, &a, sizeof(a), 0, (struct sockaddr *)&from, &flen);
		if (n < (ssize_t)sizeof(a) || from.sll_protocol != htons(ETH_P_ARP) ||
		    a.hlen != 6 || a.plen != 4)
			continue;
		mac_str(a.sha, sha);
		mac_str(a.tha, tha);
		inet_ntop(AF_INET, a.spa, spa, sizeof(spa));
		inet_ntop(AF_INET, a.tpa, tpa, sizeof(tpa));
		printf("%s %u %s %s %s %s\n", from.sll_pkttype == PACKET_OUTGOING ? "out" : "in",
		       ntohs(a.op), sha, spa, tha, tpa);
		fflush(stdout);
	}
}
