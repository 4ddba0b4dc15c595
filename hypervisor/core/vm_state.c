#include "vm_state.h"

struct entry {
    struct vm_state_entry e;
    unsigned seq;
};

struct vm_state_registry {
    GArray *entries;            /* struct entry */
};

static void entry_clear(gpointer p)
{
    g_free((char *)((struct entry *)p)->e.name);
}

struct vm_state_registry *vm_state_registry_new(void)
{
    struct vm_state_registry *r = g_new0(struct vm_state_registry, 1);
    r->entries = g_array_new(FALSE, TRUE, sizeof(struct entry));
    g_array_set_clear_func(r->entries, entry_clear);
    return r;
}

void vm_state_registry_free(struct vm_state_registry *r)
{
    if (!r)
        return;
    g_array_free(r->entries, TRUE);
    g_free(r);
}

static void add(struct vm *vm, const char *name, const struct vm_state_ops *ops, void *opaque)
{
    struct vm_state_registry *r = vm_state_registry_of(vm);
    struct entry e = { { g_strdup(name), ops, opaque }, r->entries->len };
    g_array_append_val(r->entries, e);
}

void vm_state_register(struct vm *vm, const char *name, const struct vm_state_ops *ops,
                       void *opaque)
{
    add(vm, name, ops, opaque);
}

void vm_state_refuse(struct vm *vm, const char *name)
{
    add(vm, name, NULL, NULL);
}

unsigned vm_state_entry_stage(const struct vm_state_entry *e)
{
    return e->ops ? (unsigned)e->ops->stage : VM_STATE_STAGE_DEVICE;
}

static gint by_stage(gconstpointer a, gconstpointer b)
{
    const struct entry *x = *(struct entry *const *)a, *y = *(struct entry *const *)b;
    unsigned sx = vm_state_entry_stage(&x->e), sy = vm_state_entry_stage(&y->e);
    if (sx != sy)
        return sx < sy ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

GPtrArray *vm_state_entries(struct vm_state_registry *r)
{
    GPtrArray *a = g_ptr_array_new();
    for (guint i = 0; i < r->entries->len; i++)
        g_ptr_array_add(a, &g_array_index(r->entries, struct entry, i));
    g_ptr_array_sort(a, by_stage);
    return a;
}

