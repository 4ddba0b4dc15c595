/* The Hyper-V CPUID a vCPU gets: the leaves built from what KVM supports
 * and what was asked, KVM's leaves moved behind them or hidden, and a
 * requested enlightenment the host lacks refused by name. */
#include "core/hyperv.h"
#include "core/cpuid.h"

#include <string.h>
#include <gio/gio.h>
#include <glib.h>

static struct kvm_cpuid2 *table(const struct kvm_cpuid_entry2 *e, unsigned n)
{
    struct kvm_cpuid2 *c = g_malloc0(sizeof(*c) + n * sizeof(c->entries[0]));
    c->nent = n;
    memcpy(c->entries, e, n * sizeof(*e));
    return c;
}

/* A base CPUID with leaf 1 and KVM's two leaves. */
static struct kvm_cpuid2 *base_cpuid(void)
{
    struct kvm_cpuid_entry2 e[3] = {
        { .function = 1, .ecx = 1u << 31 },
        { .function = 0x40000000, .eax = 0x40000001, .ebx = 0x4b4d564b },
        { .function = 0x40000001, .eax = 0x1234 },
    };
    return table(e, 3);
}

/* What KVM reports: every enlightenment this test names. */
static struct kvm_cpuid2 *supported_all(uint32_t edx_extra)
{
    struct kvm_cpuid_entry2 e[6] = {
        { .function = 0x40000000, .eax = 0x4000000a },
        { .function = 0x40000001, .eax = 0x31237648 },
        { .function = 0x40000002, .eax = 0x3839, .ebx = 0xa0000 },
        { .function = 0x40000003, .eax = 0x2fff, .edx = (1u << 8) | edx_extra },
        { .function = 0x40000004, .eax = 0xe3c },
        { .function = 0x40000005, .eax = 1024 },
    };
    return table(e, 6);
}

static struct kvm_cpuid_entry2 *leaf(struct kvm_cpuid2 *c, uint32_t fn)
{
    struct kvm_cpuid_entry2 *e = cpuid_find(c, fn, 0);
    g_assert_nonnull(e);
    return e;
}

static void test_windows_set(void)
{
    g_autofree struct kvm_cpuid2 *base = base_cpuid();
    g_autofree struct kvm_cpuid2 *sup = supported_all(1u << 19);
    struct cpu_config cfg = { 0 };
    g_autoptr(GError) error = NULL;
    g_assert_true(cpu_config_parse_hyperv(&cfg, "relaxed,vapic,spinlocks=8191,vpindex,runtime,"
                                          "synic,stimer,stimer-direct,frequencies,tlbflush,ipi,time",
                                          &error));
    g_assert_no_error(error);
    g_autofree struct kvm_cpuid2 *c = hyperv_cpuid(base, sup, &cfg, &error);
    g_assert_no_error(error);

    struct kvm_cpuid_entry2 *v = leaf(c, 0x40000000);
    g_assert_cmphex(v->eax, ==, 0x4000000a);
    char vendor[13] = { 0 };
    memcpy(vendor, &v->ebx, 4), memcpy(vendor + 4, &v->ecx, 4), memcpy(vendor + 8, &v->edx, 4);
    g_assert_cmpstr(vendor, ==, "Microsoft Hv");
    g_assert_cmphex(leaf(c, 0x40000001)->eax, ==, 0x31237648);      /* "Hv#1" */
    g_assert_cmphex(leaf(c, 0x40000002)->ebx, ==, 0xa0000);
    /* Hypercall, runtime, time (both), SynIC, timers, APIC, VP index,
     * frequencies: nothing else. */
    g_assert_cmphex(leaf(c, 0x40000003)->eax, ==, 0x1 | 0x2 | 0x4 | 0x8 | 0x10 | 0x20 | 0x40 |
                                                  0x200 | 0x800);
    g_assert_cmphex(leaf(c, 0x40000003)->edx, ==, (1u << 8) | (1u << 19));
    /* Remote TLB flush, APIC access, relaxed timing, cluster IPI, sparse
     * processor sets. */
    g_assert_cmphex(leaf(c, 0x40000004)->eax, ==, 0x4 | 0x8 | 0x20 | 0x400 | 0x800);
    g_assert_cmpuint(leaf(c, 0x40000004)->ebx, ==, 8191);
    g_assert_cmpuint(leaf(c, 0x40000005)->eax, ==, 1024);
    /* KVM's leaves behind Hyper-V's, pointing at each other. */
    g_assert_cmphex(leaf(c, 0x40000100)->ebx, ==, 0x4b4d564b);
    g_assert_cmphex(leaf(c, 0x40000100)->eax, ==, 0x40000101);
    g_assert_cmphex(leaf(c, 0x40000101)->eax, ==, 0x1234);
    g_assert_nonnull(cpuid_find(c, 1, 0));

    /* Hidden: no KVM leaves anywhere. */
    cfg.kvm_hidden = true;
    g_autofree struct kvm_cpuid2 *h = hyperv_cpuid(base, sup, &cfg, &error);
    g_assert_null(cpuid_find(h, 0x40000100, 0));
    g_assert_cmphex(leaf(h, 0x40000000)->eax, ==, 0x4000000a);
}

static void test_off_and_hidden(void)
{
    g_autofree struct kvm_cpuid2 *base = base_cpuid();
    struct cpu_config cfg = { 0 };
    g_autoptr(GError) error = NULL;
    /* Nothing asked: KVM's leaves stay where they were. */
    g_autofree struct kvm_cpuid2 *c = hyperv_cpuid(base, NULL, &cfg, &error);
    g_assert_cmphex(leaf(c, 0x40000000)->ebx, ==, 0x4b4d564b);
    g_assert_null(cpuid_find(c, 0x40000100, 0));
    /* KVM hidden alone: no hypervisor leaves at all. */
    cfg.kvm_hidden = true;
    g_autofree struct kvm_cpuid2 *h = hyperv_cpuid(base, NULL, &cfg, &error);
    g_assert_null(cpuid_find(h, 0x40000000, 0));
    g_assert_null(cpuid_find(h, 0x40000001, 0));
    g_assert_cmpuint(h->nent, ==, 1);
}

static void test_unsupported(void)
{
    g_autofree struct kvm_cpuid2 *base = base_cpuid();
    g_autofree struct kvm_cpuid2 *sup = supported_all(0);     /* no direct timers */
    struct cpu_config cfg = { 0 };
    g_autoptr(GError) error = NULL;
    g_assert_true(cpu_config_parse_hyperv(&cfg, "vpindex,synic,time,stimer,stimer-direct", &error));
    g_assert_null(hyperv_cpuid(base, sup, &cfg, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
    g_assert_nonnull(strstr(error->message, "'stimer-direct'"));
    g_clear_error(&error);

    /* A vendor id of our own. */
    g_assert_true(cpu_config_parse_hyperv(&cfg, "relaxed,vendor-id=Oriel", &error));
    g_autofree struct kvm_cpuid2 *c = hyperv_cpuid(base, sup, &cfg, &error);
    struct kvm_cpuid_entry2 *v = leaf(c, 0x40000000);
    g_assert_cmpmem(&v->ebx, 4, "Orie", 4);
    g_assert_cmpmem(&v->ecx, 4, "l\0\0\0", 4);
    g_assert_cmpuint(leaf(c, 0x40000004)->ebx, ==, 0xffffffff);   /* never notify */
}

static void test_parse(void)
{
    struct cpu_config cfg = { 0 };
    g_autoptr(GError) error = NULL;
    const char *bad[] = { "warp", "spinlocks", "spinlocks=10", "relaxed=1", "vendor-id=",
                          "vendor-id=ThirteenChars", "stimer", "vpindex,synic,time,stimer-direct",
                          "synic", "ipi" };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_assert_false(cpu_config_parse_hyperv(&cfg, bad[i], &error));
        g_assert_nonnull(error);
        g_assert_true(g_str_has_prefix(error->message, "--hyperv: "));
        g_clear_error(&error);
        g_assert_cmpuint(cfg.hyperv, ==, 0);    /* unchanged on error */
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/hyperv/windows-set", test_windows_set);
    g_test_add_func("/hyperv/off-and-hidden", test_off_and_hidden);
    g_test_add_func("/hyperv/unsupported", test_unsupported);
    g_test_add_func("/hyperv/parse", test_parse);
    return g_test_run();
}
