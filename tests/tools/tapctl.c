/* tapctl - test tool: creates and deletes persistent tap devices, which the
 * rig's network scenarios need and its busybox `ip` cannot make (no
 * `ip tuntap`).
 *
 * usage: tapctl add NAME     a persistent tap NAME (left down, no address)
 *        tapctl del NAME     delete the persistent tap NAME
 *
 * A persistent tap outlives the process that opened it: it stays, with its
 * addresses and routes, while no torpor has it open (between a hibernate and
 * the restore), so a host TCP connection to the guest survives. The flags are
 * those torpor opens its taps with (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, no
 * IFF_MULTI_QUEUE): a tap is refused to an opener whose flags differ in
 * IFF_MULTI_QUEUE. "del" fails with EBUSY while a torpor has the tap open.
 * Exit status 0 on success, 1 on failure (one line on stderr), 2 on misuse. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct ifreq ifr;
	int fd, persist;

	if (argc != 3 || (strcmp(argv[1], "add") && strcmp(argv[1], "del")) ||
	    !argv[2][0] || strlen(argv[2]) >= IFNAMSIZ) {
		fprintf(stderr, "usage: tapctl add|del NAME (NAME: 1..%d bytes)\n", IFNAMSIZ - 1);
		return 2;
	}
	persist = !strcmp(argv[1], "add");
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "tapctl: /dev/net/tun: %s\n", strerror(errno));
		return 1;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	memcpy(ifr.ifr_name, argv[2], strlen(argv[2]));
	/* "del" of a tap that does not exist would create one: refuse. */
	if (!persist && access("/sys/class/net", F_OK) == 0) {
		char path[64];

		snprintf(path, sizeof(path), "/sys/class/net/%s/tun_flags", argv[2]);
		if (access(path, F_OK) != 0) {
			fprintf(stderr, "tapctl: del %s: no such tap\n", argv[2]);
			close(fd);
			return 1;
		}
	}
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		fprintf(stderr, "tapctl: %s %s: TUNSETIFF: %s\n", argv[1], argv[2], strerror(errno));
		close(fd);
		return 1;
	}
	if (ioctl(fd, TUNSETPERSIST, (unsigned long)persist) < 0) {
		fprintf(stderr, "tapctl: %s %s: TUNSETPERSIST %d: %s\n", argv[1], argv[2], persist,
			strerror(errno));
		close(fd);
		return 1;
	}
	close(fd);
	return 0;
}
