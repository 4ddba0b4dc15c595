/* The virtio devices of oriel-vmm, as the platform creates them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

#include "config/disk_config.h"
#include "config/net_config.h"
#include "virtio_balloon.h"

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
/* The disk's firmware device path for a SeaBIOS "bootorder" entry, which
 * SeaBIOS matches by the PCI slot.  Free with g_free(). */
char *virtio_blk_boot_path(struct virtio_blk *blk);
/* The request counters of the disk's image. */
struct block_stats;
void virtio_blk_stats(struct virtio_blk *blk, struct block_stats *out);
/* Grow the image to size bytes (a multiple of 512, larger than now) and
 * tell the driver through a configuration change interrupt.  Errors name
 * the image. */
bool virtio_blk_grow(struct virtio_blk *blk, uint64_t size, GError **error);

/* virtio-net with the backend cfg asks for (user-mode NAT or tap). */
struct virtio_net *virtio_net_create(struct vm *vm, struct pci_bus *bus,
                                     const struct net_config *cfg, GError **error);
void virtio_net_free(struct virtio_net *net);

/* What a virtio-console port is connected to.  write() gets the guest's
 * output; the console calls rx_ready() when the guest has posted buffers
 * for input after virtio_console_receive() accepted less than offered.
 * Both run with the device lock held: they must not call back into the
 * console synchronously (schedule the retry on the main loop instead). */
struct virtio_console_backend {
    void (*write)(void *opaque, const uint8_t *buf, size_t len);
    void (*rx_ready)(void *opaque);
    void *opaque;
};

struct virtio_console *virtio_console_create(struct vm *vm, struct pci_bus *bus,
                                             const struct virtio_console_backend *backend,
                                             GError **error);
/* Input for the guest (main loop); returns how many bytes it took.  Up to
 * virtio_console_can_receive() bytes are always taken (buffered until the
 * guest posts receive buffers). */
size_t virtio_console_can_receive(struct virtio_console *con);
size_t virtio_console_receive(struct virtio_console *con, const uint8_t *buf, size_t len);

/* A console connected to a chardev (output to it, input from it with flow
 * control); the chardev stays owned by the caller and must outlive it. */
struct chardev;
struct virtio_console *virtio_console_create_on_chardev(struct vm *vm, struct pci_bus *bus,
                                                        struct chardev *chr, GError **error);
void virtio_console_free(struct virtio_console *con);

/* virtio-balloon, its statistics queue included; deflate_on_oom lets the
 * guest take pages back when it runs out of memory. */
struct virtio_balloon;
struct virtio_balloon *virtio_balloon_create(struct vm *vm, struct pci_bus *bus, bool deflate_on_oom,
                                             GError **error);
void virtio_balloon_free(struct virtio_balloon *b);
/* Stop the statistics timer (the VM is going; the device stays with the
 * bus as the other virtio devices do). */
void virtio_balloon_stop(struct virtio_balloon *b);
/* Ask the guest to keep bytes of its RAM (the rest goes into the balloon). */
bool virtio_balloon_set_target(struct virtio_balloon *b, uint64_t bytes, GError **error);
/* Ask the guest for statistics every seconds (0: stop), and once now. */
void virtio_balloon_set_stats_period(struct virtio_balloon *b, unsigned seconds);

struct virtio_balloon_info {
    uint64_t actual;            /* bytes the guest has (RAM minus the balloon) */
    uint64_t target;            /* bytes it was asked to keep */
    struct virtio_balloon_stats stats;
    int64_t stats_time;         /* Unix seconds of the last statistics, 0: none */
    unsigned stats_period;
};
void virtio_balloon_query(struct virtio_balloon *b, struct virtio_balloon_info *info);

/* virtio-rng fed from getrandom(). */
struct virtio_rng *virtio_rng_create(struct vm *vm, struct pci_bus *bus, GError **error);
void virtio_rng_free(struct virtio_rng *rng);
