/* virtio_net.h - a virtio network device (VIRTIO 1.2 section 5.1) over the
 * virtio-mmio transport, backed by a host tap (tap.h): a receive, a
 * transmit and a control queue, served by a thread of its own that moves
 * frames between the queues and the tap, each with its 12-byte
 * virtio_net_hdr_v1 passed through as the tap takes and gives it. Its saved
 * state is the transport's (virtio_mmio.h) plus the fields below; frames
 * are never in flight at a checkpoint. */
#ifndef TORPOR_VIRTIO_NET_H
#define TORPOR_VIRTIO_NET_H

#include <stdint.h>

#include "tap.h"
#include "virtio_mmio.h"

#define VIRTIO_ID_NET           1
#define VNET_QUEUE_MAX          256     /* QueueNumMax */
#define VNET_RXQ                0
#define VNET_TXQ                1
#define VNET_CTRLQ              2
#define VNET_NQUEUES            3
#define VNET_HDR_LEN            12      /* struct virtio_net_hdr_v1 */
#define VNET_ETH_HLEN           14      /* the shortest frame: its header */
#define VNET_MAX_FRAME          (1514 + 4)      /* an MTU 1500 frame, VLAN tag */
#define VNET_MAX_GSO_FRAME      (65535 + 14 + 4)        /* a TSO frame */
#define VNET_MTU                1500    /* offered (VNET_FEAT_MTU): Linux then
					 * refuses a larger MTU, which the
					 * untagged limit below would drop */
#define VNET_CONFIG_LEN         12      /* mac, status, max_virtqueue_pairs, mtu */
#define VNET_QUIESCE_SECS       30      /* a checkpoint waits this long */

/* Feature bits (VIRTIO_NET_F_*; VNET_F_* are the saved fields). */
#define VNET_FEAT_CSUM          0
#define VNET_FEAT_GUEST_CSUM    1
#define VNET_FEAT_MTU           3
#define VNET_FEAT_MAC           5
#define VNET_FEAT_GUEST_TSO4    7
#define VNET_FEAT_GUEST_TSO6    8
#define VNET_FEAT_HOST_TSO4     11
#define VNET_FEAT_HOST_TSO6     12
#define VNET_FEAT_MRG_RXBUF     15
#define VNET_FEAT_STATUS        16
#define VNET_FEAT_CTRL_VQ       17
#define VNET_FEAT_GUEST_ANNOUNCE 21

/* The configuration space's status word (VIRTIO_NET_S_*). */
#define VNET_S_LINK_UP          1
#define VNET_S_ANNOUNCE         2

/* The header's flags and gso_type (VIRTIO_NET_HDR_*). */
#define VNET_HDR_F_NEEDS_CSUM   1
#define VNET_HDR_F_DATA_VALID   2
#define VNET_HDR_GSO_NONE       0
#define VNET_HDR_GSO_TCPV4      1
#define VNET_HDR_GSO_TCPV6      4
#define VNET_HDR_GSO_ECN        0x80

/* The control queue (VIRTIO_NET_CTRL_*, VIRTIO_NET_OK/ERR). */
#define VNET_CTRL_ANNOUNCE      3
#define VNET_CTRL_ANNOUNCE_ACK  0
#define VNET_OK                 0
#define VNET_ERR                1

/* Saved-state field ids, numbered from VIRTIO_F_DEVICE
 * (formats/torpor-image.md, Appendix A, "virtio-net (type 5)"). The blob is
 * the tap's name, without its NUL. */
enum vnet_field {
	VNET_F_MAC = VIRTIO_F_DEVICE,   /* mac[0] in bits 0-7 ... mac[5] in 40-47 */
	VNET_F_STATUS,                  /* the configuration space's status word */
	VNET_F_ANNOUNCE,                /* 1: announce once the driver is back */
};

/* Counters of one device, for the log and the tests. */
struct vnet_stats {
	uint64_t tx_frames, tx_bytes, rx_frames, rx_bytes;
	uint64_t tx_dropped, rx_dropped, faults, ctrl_errors;
};

/* The device-specific features offered. */
uint64_t vnet_features(void);

/* Whether a frame the driver sent, of frame_len bytes after header hdr
 * (VNET_HDR_LEN bytes), may go to the tap with the features negotiated:
 * NULL if so, else why not (for the log). */
const char *vnet_tx_check(const uint8_t *hdr, uint32_t frame_len,
			  uint64_t features);

/* The longest frame a header of gso_type may carry. */
uint32_t vnet_max_frame(uint8_t gso_type);

/* Makes the header of a frame from the tap fit what the driver negotiated
 * (DATA_VALID is dropped without GUEST_CSUM); -EINVAL if the frame cannot
 * be given to it (an offload it did not take). */
int vnet_rx_fix(uint8_t *hdr, uint64_t features);

/* The tap offloads (TUN_F_*) for a driver's features: what it can take on
 * frames it receives. */
unsigned vnet_tun_offloads(uint64_t features);

/* The configuration space: mac, status, max_virtqueue_pairs (1), mtu
 * (VNET_MTU), in little-endian. */
void vnet_config(const uint8_t mac[MAC_LEN], uint16_t status,
		 uint8_t cfg[VNET_CONFIG_LEN]);

/* A device's counters (dev from virtio_net_dev_ops.create; bus lock held). */
struct vnet_stats vnet_stats(const void *dev);

#endif
