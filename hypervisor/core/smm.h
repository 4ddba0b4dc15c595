/* System Management Mode: what a chipset needs from KVM to give its
 * firmware SMRAM and SMIs.
 *
 * With SMM on, each vCPU sees one of two views of guest-physical memory:
 * the normal view (KVM address space 0) or, while it is in SMM, the SMM
 * view (address space 1).  The SMM view repeats everything mapped in the
 * normal view (vm_map_memory() keeps both in step) plus the SMRAM the
 * chipset has enabled:
 *
 *  - the legacy window, 0xA0000-0xBFFFF: the RAM behind the VGA window.
 *    Enabled (i440FX/Q35 G_SMRAME), the SMM view sees RAM there; opened
 *    (D_OPEN), the normal view sees it too instead of whatever is mapped
 *    there (the VGA).
 *  - TSEG: a range at the top of low RAM.  The SMM view sees the RAM;
 *    the normal view sees nothing (reads all ones, writes are dropped).
 *
 * SMRAM the normal view does not show is hidden from guest_memory_ptr()
 * too, so device DMA cannot reach it.
 *
 * SMRAM is guest RAM, so the RAM state of a state file holds it; the SMM
 * state of the vCPUs (in SMM, SMI pending, SMBASE) is in their section.
 * All functions may be called from any thread. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

struct vm;

#define SMM_LEGACY_BASE 0xa0000u
#define SMM_LEGACY_SIZE 0x20000u
/* vm_smm_raise(): every vCPU; the vCPU whose thread calls (vCPU 0 when
 * not called from a vCPU thread). */
#define SMM_ALL_VCPUS    (-1)
#define SMM_CURRENT_VCPU (-2)

/* Whether this KVM can run vCPUs in SMM with their own address space;
 * error names what is missing. */
bool smm_supported(int kvm_fd, GError **error);

/* Turn SMM on: create the SMM view.  Before the vCPUs first run.  Fails
 * with a clear error when KVM lacks SMM support. */
bool vm_smm_enable(struct vm *vm, GError **error);
bool vm_smm_enabled(struct vm *vm);

/* The legacy window's state: the normal view sees its RAM when open
 * (D_OPEN), the SMM view when enabled (G_SMRAME) or open.  Without SMM
 * enabled it has no effect. */
void vm_smm_set_legacy(struct vm *vm, bool enabled, bool open);

/* TSEG at [base, base + size) of RAM below 4 GiB, or none (size 0).
 * False (and TSEG unchanged) when the range is not RAM. */
bool vm_smm_set_tseg(struct vm *vm, uint64_t base, uint64_t size);

/* Raise an SMI on vCPU index, on all with SMM_ALL_VCPUS, or on the
 * calling one with SMM_CURRENT_VCPU; nothing without SMM enabled.  The vCPU
 * takes it before it runs the next guest instruction (for the vCPU whose
 * thread calls this: the one after the current I/O instruction). */
void vm_smm_raise(struct vm *vm, int vcpu_index);

/* Whether the access a device model is handling now was made by a vCPU in
 * SMM: true only on a vCPU thread whose current exit happened in SMM. */
bool vm_smm_access_in_smm(void);
