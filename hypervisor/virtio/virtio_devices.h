/* The virtio devices of oriel-vmm, as the platform creates them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

#include "backends/disk_config.h"
#include "backends/net_config.h"

struct vm;
struct pci_bus;
struct virtio_blk;
struct virtio_net;
struct virtio_console;
struct virtio_rng;

/* virtio-blk on the raw image cfg->path.  Fails (with the file name in the
 * message) if the image cannot be opened. */
struct virtio_blk *virtio_blk_create(struct vm *vm, struct pci_bus *bus,
                                     const struct disk_config *cfg, GError **error);
void virtio_blk_free(struct virtio_blk *blk);

/* virtio-net with the backend cfg asks for (user-mode NAT or tap). */
struct virtio_net *virtio_net_create(struct vm *vm, struct pci_bus *bus,
                                     const struct net_config *cfg, GError **error);

/* What a virtio-console port is connected to.  write() gets the guest's
 * output; the console calls rx_ready() when the guest has posted buffers
 * for input after virtio_console_receive() accepted less than offered. */
struct virtio_console_backend {
    void (*write)(void *opaque, const uint8_t *buf, size_t len);
    void (*rx_ready)(void *opaque);
    void *opaque;
};

struct virtio_console *virtio_console_create(struct vm *vm, struct pci_bus *bus,
                                             const struct virtio_console_backend *backend,
                                             GError **error);
/* Input for the guest (main loop); returns how many bytes it took. */
size_t virtio_console_receive(struct virtio_console *con, const uint8_t *buf, size_t len);

/* virtio-rng fed from getrandom(). */
struct virtio_rng *virtio_rng_create(struct vm *vm, struct pci_bus *bus, GError **error);
