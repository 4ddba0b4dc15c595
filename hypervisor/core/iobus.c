#include "iobus.h"

#include <pthread.h>
#include <string.h>
#include <glib.h>

struct io_range {
    uint64_t base;
    uint64_t len;
    const struct io_ops *ops;
    void *opaque;
    char *name;
};

struct iobus {
    char *name;
    pthread_rwlock_t lock;
    GArray *ranges; /* struct io_range, sorted by base, never overlapping */
};

struct iobus *iobus_new(const char *name)
{
    struct iobus *bus = g_new0(struct iobus, 1);
    bus->name = g_strdup(name);
    pthread_rwlock_init(&bus->lock, NULL);
    bus->ranges = g_array_new(FALSE, FALSE, sizeof(struct io_range));
    return bus;
}

void iobus_free(struct iobus *bus)
{
    if (!bus)
        return;
    for (guint i = 0; i < bus->ranges->len; i++)
        g_free(g_array_index(bus->ranges, struct io_range, i).name);
    g_array_free(bus->ranges, TRUE);
    pthread_rwlock_destroy(&bus->lock);
    g_free(bus->name);
    g_free(bus);
}

/* Index of the first range whose end is above addr (binary search). */
static guint first_ending_after(const GArray *ranges, uint64_t addr)
{
    guint lo = 0, hi = ranges->len;
    while (lo < hi) {
        guint mid = lo + (hi - lo) / 2;
        const struct io_range *r = &g_array_index(ranges, struct io_range, mid);
        if (r->base + r->len <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

bool iobus_register(struct iobus *bus, uint64_t base, uint64_t len,
                    const struct io_ops *ops, void *opaque, const char *name)
{
    if (len == 0 || base + len < base)
        return false;

    pthread_rwlock_wrlock(&bus->lock);
    guint i = first_ending_after(bus->ranges, base);
    if (i < bus->ranges->len) {
        const struct io_range *next = &g_array_index(bus->ranges, struct io_range, i);
        if (next->base < base + len) {
            pthread_rwlock_unlock(&bus->lock);
            return false;
        }
    }
    struct io_range r = { base, len, ops, opaque, g_strdup(name) };
    g_array_insert_val(bus->ranges, i, r);
    pthread_rwlock_unlock(&bus->lock);
    return true;
}

bool iobus_unregister(struct iobus *bus, uint64_t base, void *opaque)
{
    bool found = false;
    pthread_rwlock_wrlock(&bus->lock);
    for (guint i = 0; i < bus->ranges->len; i++) {
        struct io_range *r = &g_array_index(bus->ranges, struct io_range, i);
        if (r->base == base && r->opaque == opaque) {
            g_free(r->name);
            g_array_remove_index(bus->ranges, i);
            found = true;
            break;
        }
    }
    pthread_rwlock_unlock(&bus->lock);
    return found;
}

/* Copy of the range covering [addr, addr + size), taken under the lock. */
static bool lookup(struct iobus *bus, uint64_t addr, unsigned size, struct io_range *out)
{
    bool found = false;
    pthread_rwlock_rdlock(&bus->lock);
    guint i = first_ending_after(bus->ranges, addr);
    if (i < bus->ranges->len) {
        const struct io_range *r = &g_array_index(bus->ranges, struct io_range, i);
        if (r->base <= addr && addr - r->base + size <= r->len) {
            *out = *r;
            found = true;
        }
    }
    pthread_rwlock_unlock(&bus->lock);
    return found;
}

static bool valid_size(unsigned size)
{
    return size == 1 || size == 2 || size == 4 || size == 8;
}

bool iobus_read(struct iobus *bus, uint64_t addr, void *data, unsigned size)
{
    struct io_range r;
    if (!valid_size(size) || !lookup(bus, addr, size, &r) || !r.ops->read) {
        memset(data, 0xff, size <= 8 ? size : 8);
        return false;
    }
    uint64_t v = r.ops->read(r.opaque, addr - r.base, size);
    memcpy(data, &v, size); /* little-endian host: low bytes first */
    return true;
}

bool iobus_write(struct iobus *bus, uint64_t addr, const void *data, unsigned size)
{
    struct io_range r;
    if (!valid_size(size) || !lookup(bus, addr, size, &r) || !r.ops->write)
        return false;
    uint64_t v = 0;
    memcpy(&v, data, size);
    r.ops->write(r.opaque, addr - r.base, v, size);
    return true;
}

const char *iobus_owner(struct iobus *bus, uint64_t addr)
{
    struct io_range r;
    return lookup(bus, addr, 1, &r) ? r.name : NULL;
}
