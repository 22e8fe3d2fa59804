/* virtio_blk.h - a virtio block device (VIRTIO 1.2 section 5.2) over the
 * virtio-mmio transport, backed by a host disk (disk.h): one request queue,
 * served by a thread of its own so that a slow disk holds up neither the
 * vCPUs nor the other devices. Its saved state is the transport's
 * (virtio_mmio.h); the disk itself is recorded by the checkpoint
 * (disk_stamp). */
#ifndef TORPOR_VIRTIO_BLK_H
#define TORPOR_VIRTIO_BLK_H

#include <stdint.h>

#include "disk.h"
#include "virtqueue.h"

#define VIRTIO_ID_BLOCK         2
#define VBLK_QUEUE_MAX          256     /* QueueNumMax */
#define VBLK_SEG_MAX            (VBLK_QUEUE_MAX - 2)    /* header, status */
#define VBLK_CONFIG_LEN         60      /* up to write_zeroes_may_unmap + pad */
#define VBLK_MAX_DISCARD_SEGS   1       /* ranges per discard request */
#define VBLK_MAX_RANGE_SECTORS  (1u << 22)      /* 2 GiB per range */
#define VBLK_QUIESCE_SECS       30      /* a checkpoint waits this long for a disk */

/* Feature bits (VIRTIO_BLK_F_*). */
#define VBLK_F_SEG_MAX          2
#define VBLK_F_RO               5
#define VBLK_F_BLK_SIZE         6
#define VBLK_F_FLUSH            9
#define VBLK_F_DISCARD          13
#define VBLK_F_WRITE_ZEROES     14

/* Request types and status bytes. */
#define VBLK_T_IN               0
#define VBLK_T_OUT              1
#define VBLK_T_FLUSH            4
#define VBLK_T_GET_ID           8
#define VBLK_T_DISCARD          11
#define VBLK_T_WRITE_ZEROES     13
#define VBLK_S_OK               0
#define VBLK_S_IOERR            1
#define VBLK_S_UNSUPP           2

/* Counters of one device, for the log and the tests. */
struct vblk_stats {
	uint64_t requests, errors, unsupported, faults;
	uint64_t read_bytes, written_bytes, flushes;
};

/* Serves one request chain against disk: parses the header (it may span
 * buffers), checks the range against the disk, does the I/O, and writes the
 * status byte. Returns the bytes written into the chain's device-writable
 * buffers (for the used ring), status included; 0 for a chain with no room
 * for a status, which the driver sees as a broken request. */
uint32_t vblk_serve(struct disk *disk, const struct vq_chain *c,
		    struct vblk_stats *stats);

/* The configuration space for disk: capacity, seg_max, blk_size, discard and
 * write-zeroes limits (little-endian, VBLK_CONFIG_LEN bytes). */
void vblk_config(const struct disk *disk, uint8_t cfg[VBLK_CONFIG_LEN]);

/* The device features offered for disk. */
uint64_t vblk_features(const struct disk *disk);

#endif
