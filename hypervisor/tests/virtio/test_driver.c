#include "test_driver.h"

#include <string.h>
#include <glib.h>

#include "pci/pci.h"
#include "virtio/virtio_pci.h"
#include "virtio/virtqueue.h"

static uint32_t cfg(struct test_driver *td, unsigned reg, unsigned size)
{
    return pci_config_read(td->bus, td->slot, 0, reg, size);
}

void td_init(struct test_driver *td, struct vm *vm, struct pci_bus *bus, unsigned slot)
{
    memset(td, 0, sizeof(*td));
    td->vm = vm;
    td->bus = bus;
    td->slot = slot;
    g_assert_cmphex(cfg(td, PCI_VENDOR_ID, 2), ==, VIRTIO_PCI_VENDOR);
    td->bar = (cfg(td, PCI_BAR0 + 16, 4) & ~0xfu) | (uint64_t)cfg(td, PCI_BAR0 + 20, 4) << 32;
    pci_config_write(bus, slot, 0, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    for (unsigned p = cfg(td, PCI_CAPABILITY_LIST, 1); p; p = cfg(td, p + 1, 1)) {
        if (cfg(td, p, 1) != PCI_CAP_ID_VNDR)
            continue;
        uint64_t addr = td->bar + cfg(td, p + 8, 4);
        switch (cfg(td, p + 3, 1)) {
        case 1: td->common = addr; break;
        case 2: td->notify = addr; td->notify_mult = cfg(td, p + 16, 4); break;
        case 3: td->isr = addr; break;
        case 4: td->device = addr; break;
        }
    }
    g_assert_true(td->common && td->notify && td->isr && td->device);
}

uint8_t td_status(struct test_driver *td)
{
    return (uint8_t)test_mmio_read(td->vm, td->common + 20, 1);
}

bool td_negotiate(struct test_driver *td, uint64_t features)
{
    struct vm *vm = td->vm;
    test_mmio_write(vm, td->common + 20, 0, 1);
    test_mmio_write(vm, td->common + 20, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER, 1);
    test_mmio_write(vm, td->common + 8, 0, 4);
    test_mmio_write(vm, td->common + 12, (uint32_t)features, 4);
    test_mmio_write(vm, td->common + 8, 1, 4);
    test_mmio_write(vm, td->common + 12, (uint32_t)(features >> 32), 4);
    test_mmio_write(vm, td->common + 20, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
                    VIRTIO_STATUS_FEATURES_OK, 1);
    return td_status(td) & VIRTIO_STATUS_FEATURES_OK;
}

void td_setup_queue(struct test_driver *td, unsigned q, uint16_t size, uint64_t base)
{
    struct td_queue *tq = &td->q[q];
    struct vm *vm = td->vm;
    *tq = (struct td_queue){ .size = size, .desc = base, .avail = base + 0x2000,
                             .used = base + 0x3000 };
    g_assert_true(guest_memory_ptr(vm_memory(vm), base, 0x4000) != NULL);
    memset(guest_memory_ptr(vm_memory(vm), base, 0x4000), 0, 0x4000);
    test_mmio_write(vm, td->common + 22, q, 2);
    test_mmio_write(vm, td->common + 24, size, 2);
    test_mmio_write(vm, td->common + 32, tq->desc, 8);
    test_mmio_write(vm, td->common + 40, tq->avail, 8);
    test_mmio_write(vm, td->common + 48, tq->used, 8);
    test_mmio_write(vm, td->common + 28, 1, 2);
}

void td_driver_ok(struct test_driver *td)
{
    test_mmio_write(td->vm, td->common + 20, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
                    VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK, 1);
}

uint16_t td_add_buf(struct test_driver *td, unsigned q, uint64_t gpa, uint32_t len, bool writable)
{
    struct td_queue *tq = &td->q[q];
    struct guest_memory *m = vm_memory(td->vm);
    uint16_t i = tq->next_desc++ % tq->size;
    struct virtq_desc d = { gpa, len, writable ? VIRTQ_DESC_F_WRITE : 0, 0 };
    guest_memory_write(m, tq->desc + 16ull * i, &d, sizeof(d));
    guest_memory_write(m, tq->avail + 4 + 2ull * (tq->avail_idx % tq->size), &i, 2);
    tq->avail_idx++;
    guest_memory_write(m, tq->avail + 2, &tq->avail_idx, 2);
    return i;
}

void td_kick(struct test_driver *td, unsigned q)
{
    test_mmio_write(td->vm, td->common + 22, q, 2);
    uint16_t off = (uint16_t)test_mmio_read(td->vm, td->common + 30, 2);
    test_mmio_write(td->vm, td->notify + (uint64_t)off * td->notify_mult, q, 2);
}

uint16_t td_used_idx(struct test_driver *td, unsigned q)
{
    uint16_t idx = 0;
    guest_memory_read(vm_memory(td->vm), td->q[q].used + 2, &idx, 2);
    return idx;
}

void td_used_elem(struct test_driver *td, unsigned q, uint16_t i, uint32_t *id, uint32_t *len)
{
    uint32_t e[2];
    guest_memory_read(vm_memory(td->vm), td->q[q].used + 4 + 8ull * (i % td->q[q].size), e, 8);
    *id = e[0];
    *len = e[1];
}

struct used_wait {
    struct test_driver *td;
    unsigned q;
    uint16_t want;
};

static bool used_reached(void *opaque)
{
    struct used_wait *w = opaque;
    return (uint16_t)(td_used_idx(w->td, w->q) - w->want) < 0x8000;
}

bool td_wait_used(struct test_driver *td, unsigned q, uint16_t want, unsigned timeout_ms)
{
    struct used_wait w = { td, q, want };
    return test_vm_run_until(td->vm, used_reached, &w, timeout_ms);
}
