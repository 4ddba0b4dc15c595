#include "device_registry.h"

#include <glib.h>

#include "core/vm.h"
#include "core/vm_state.h"

struct device_registry {
    struct vm *vm;
    GHashTable *by_name;    /* name -> device */
};

struct device_registry *device_registry_new(struct vm *vm)
{
    struct device_registry *r = g_new0(struct device_registry, 1);
    r->vm = vm;
    r->by_name = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    return r;
}

void device_registry_free(struct device_registry *r)
{
    if (!r)
        return;
    g_hash_table_unref(r->by_name);
    g_free(r);
}

void device_registry_add(struct device_registry *r, const char *name, void *device,
                         const struct vm_state_ops *state,
                         void (*reset)(void *opaque), void *opaque)
{
    /* Two devices under one name would make state files ambiguous: a
     * chipset bug, not a user error. */
    g_return_if_fail(!g_hash_table_contains(r->by_name, name));
    g_hash_table_insert(r->by_name, g_strdup(name), device);
    if (reset)
        vm_add_reset_handler(r->vm, reset, opaque);
    if (state)
        vm_state_register(r->vm, name, state, device);
}

