/* An I/O bus: the registry that routes a port-I/O or MMIO access from a vCPU
 * exit to the device model that owns the address.
 *
 * The VM has two buses, one for port I/O and one for MMIO.  Devices register
 * ranges at setup time; PCI BARs register and unregister at run time when
 * firmware or the guest moves them.  Lookups take a read lock, so several
 * vCPUs dispatch concurrently; each device protects its own state. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct io_ops {
    /* offset is relative to the registered base; size is 1, 2, 4 or 8. */
    uint64_t (*read)(void *opaque, uint64_t offset, unsigned size);
    void (*write)(void *opaque, uint64_t offset, uint64_t value, unsigned size);
};

struct iobus;

struct iobus *iobus_new(const char *name);
void iobus_free(struct iobus *bus);

/* Claim [base, base + len).  Returns false if the range is empty, wraps, or
 * overlaps a range already registered. */
bool iobus_register(struct iobus *bus, uint64_t base, uint64_t len,
                    const struct io_ops *ops, void *opaque, const char *name);

/* Release the range starting at base that was registered with opaque.
 * Returns false if there is no such range. */
bool iobus_unregister(struct iobus *bus, uint64_t base, void *opaque);

/* Dispatch an access of size bytes (1, 2, 4 or 8) at addr; data is in host
 * (little-endian) order.  An access to an unclaimed address, or one that runs
 * past the end of its range, reads as all ones and ignores writes, as on real
 * hardware; the return value says whether a device handled it. */
bool iobus_read(struct iobus *bus, uint64_t addr, void *data, unsigned size);
bool iobus_write(struct iobus *bus, uint64_t addr, const void *data, unsigned size);

/* Name of the device at addr (for diagnostics), or NULL. */
const char *iobus_owner(struct iobus *bus, uint64_t addr);
