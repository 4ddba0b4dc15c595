/* Model-specific registers a vCPU starts with. */
#pragma once

#include <stdbool.h>
#include <glib.h>

/* Set the power-on MSR values of a fresh vCPU. */
bool msr_init_vcpu(int vcpu_fd, GError **error);
