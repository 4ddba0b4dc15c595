/* The virtio 1.x PCI transport ("modern" only): one 64-bit memory BAR with
 * the common, notification, ISR and device-specific configuration
 * structures, described by vendor capabilities; MSI-X in a BAR of its own;
 * INTx with the ISR register when the driver does not enable MSI-X.
 *
 * Queue notifications arrive on an eventfd (KVM ioeventfd on the notify
 * address, or our own write to it when an MMIO exit reaches the BAR) and are
 * processed on the VM's main loop.  The device model's callbacks run there,
 * with the device lock held; configuration accesses from vCPUs take the
 * same lock. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "pci/pci.h"
#include "pci/msix.h"
#include "virtqueue.h"

struct vm;
struct virtio_pci;

#define VIRTIO_PCI_VENDOR       0x1af4
#define VIRTIO_PCI_DEVICE_BASE  0x1040
#define VIRTIO_MAX_QUEUES       8
#define VIRTIO_NO_VECTOR        0xffff

/* Device types (virtio 1.x section 5). */
#define VIRTIO_ID_NET      1
#define VIRTIO_ID_BLOCK    2
#define VIRTIO_ID_CONSOLE  3
#define VIRTIO_ID_RNG      4
#define VIRTIO_ID_BALLOON  5

/* Device status bits. */
#define VIRTIO_STATUS_ACKNOWLEDGE   1
#define VIRTIO_STATUS_DRIVER        2
#define VIRTIO_STATUS_DRIVER_OK     4
#define VIRTIO_STATUS_FEATURES_OK   8
#define VIRTIO_STATUS_NEEDS_RESET   64
#define VIRTIO_STATUS_FAILED        128

/* Transport feature bits. */
#define VIRTIO_F_INDIRECT_DESC  28
#define VIRTIO_F_EVENT_IDX      29
#define VIRTIO_F_VERSION_1      32

struct virtio_device_ops {
    /* A queue has new buffers (main loop, lock held). */
    void (*queue_notify)(struct virtio_pci *vp, unsigned queue);
    /* The driver wrote value to device configuration bytes
     * [offset, offset + size) (already checked to lie inside it).  The
     * configuration bytes are not changed by the transport. */
    void (*config_write)(struct virtio_pci *vp, unsigned offset, unsigned size, uint64_t value);
    /* DRIVER_OK was set: the device may start (e.g. accept input). */
    void (*driver_ok)(struct virtio_pci *vp);
    /* Device reset by the driver or the platform (lock held). */
    void (*reset)(struct virtio_pci *vp);
    /* VM state of the device model behind the transport, saved after the
     * transport's (lock held).  A device with nothing of its own sets
     * stateless instead; with neither, saving the VM fails naming it. */
    bool (*save)(struct virtio_pci *vp, struct state_out *out, GError **error);
    bool (*load)(struct virtio_pci *vp, struct state_in *in, GError **error);
    bool stateless;
};

struct virtio_pci_params {
    const char *name;
    uint16_t device_type;       /* VIRTIO_ID_* */
    uint32_t class_code;        /* PCI class (base << 16 | sub << 8) */
    unsigned num_queues;        /* <= VIRTIO_MAX_QUEUES */
    uint16_t queue_size;        /* maximum size of each queue, power of two */
    uint64_t features;          /* device features; VERSION_1 and the ring
                                 * features are added by the transport */
    uint8_t *config;            /* device configuration, owned by the device */
    unsigned config_len;
    const struct virtio_device_ops *ops;
    void *opaque;
};

struct virtio_pci *virtio_pci_create(struct vm *vm, struct pci_bus *bus,
                                     const struct virtio_pci_params *params,
                                     GError **error);
void virtio_pci_free(struct virtio_pci *vp);

void *virtio_pci_opaque(struct virtio_pci *vp);
struct vm *virtio_pci_vm(struct virtio_pci *vp);
struct pci_device *virtio_pci_pci_device(struct virtio_pci *vp);
uint64_t virtio_pci_driver_features(struct virtio_pci *vp);
bool virtio_pci_has_feature(struct virtio_pci *vp, unsigned bit);
uint8_t virtio_pci_status(struct virtio_pci *vp);

/* The queue, or NULL when the driver has not enabled it (or it broke). */
struct virtqueue *virtio_pci_queue(struct virtio_pci *vp, unsigned queue);

/* The functions below expect the device lock held (they are meant for the
 * callbacks), except virtio_pci_kick() and virtio_pci_lock() itself. */

/* Interrupt the driver for used buffers on a queue, if it wants one. */
void virtio_pci_queue_interrupt(struct virtio_pci *vp, unsigned queue);
/* Tell the driver the device configuration changed. */
void virtio_pci_config_interrupt(struct virtio_pci *vp);

/* The driver broke the protocol: set DEVICE_NEEDS_RESET, stop all queues
 * and tell the driver through a configuration interrupt. */
void virtio_pci_set_needs_reset(struct virtio_pci *vp, const char *why);

/* Process a queue now as if the driver had kicked it (main loop; takes
 * the lock). */
void virtio_pci_kick(struct virtio_pci *vp, unsigned queue);

/* The device lock, for device code running outside the callbacks (e.g. a
 * backend delivering input on the main loop). */
void virtio_pci_lock(struct virtio_pci *vp);
void virtio_pci_unlock(struct virtio_pci *vp);

/* Pop/push helpers that mark the device broken on a malformed chain:
 * virtio_pci_pop() returns false when there is nothing (more) to do. */
bool virtio_pci_pop(struct virtio_pci *vp, unsigned queue, struct virtq_elem *elem);
void virtio_pci_push(struct virtio_pci *vp, unsigned queue, const struct virtq_elem *elem,
                     uint32_t written);
