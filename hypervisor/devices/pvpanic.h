/* pvpanic: an ISA port (0x505) a guest writes to when it panics. */
#pragma once

#include "core/vm.h"

#define PVPANIC_PANICKED     0x01
#define PVPANIC_CRASH_LOADED 0x02

/* Registers the port on the VM's PIO bus; panics go to vm_report_panic(). */
bool pvpanic_create(struct vm *vm, uint16_t port, GError **error);
