/* A minimal virtio-pci driver for unit tests: what a guest kernel does to
 * find, negotiate and run a device, through the test VM's buses. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "tests/support/test_vm.h"

struct pci_bus;

#define TD_MAX_QUEUES 4

struct td_queue {
    uint16_t size;
    uint64_t desc, avail, used;
    uint16_t avail_idx;
    uint16_t next_desc;
};

struct test_driver {
    struct vm *vm;
    struct pci_bus *bus;
    unsigned slot;
    uint64_t bar;
    uint64_t common, notify, isr, device;
    uint32_t notify_mult;
    struct td_queue q[TD_MAX_QUEUES];
};

/* Find the device at slot, enable decoding and locate its structures. */
void td_init(struct test_driver *td, struct vm *vm, struct pci_bus *bus, unsigned slot);
/* Reset, acknowledge, write features; returns whether FEATURES_OK stuck. */
bool td_negotiate(struct test_driver *td, uint64_t features);
/* Lay out queue q with size entries at guest address base (16 KiB used). */
void td_setup_queue(struct test_driver *td, unsigned q, uint16_t size, uint64_t base);
void td_driver_ok(struct test_driver *td);
uint8_t td_status(struct test_driver *td);
/* Offer one single-buffer request; returns its descriptor index. */
uint16_t td_add_buf(struct test_driver *td, unsigned q, uint64_t gpa, uint32_t len, bool writable);
void td_kick(struct test_driver *td, unsigned q);
uint16_t td_used_idx(struct test_driver *td, unsigned q);
void td_used_elem(struct test_driver *td, unsigned q, uint16_t i, uint32_t *id, uint32_t *len);
bool td_wait_used(struct test_driver *td, unsigned q, uint16_t want, unsigned timeout_ms);
