/* The swtpm backend: a TPM 2.0 emulated by swtpm (Debian's swtpm package),
 * which the daemon starts per VM with its state directory.  oriel-vmm
 * connects to swtpm's control socket, hands it one end of a socket pair as
 * the data channel (CMD_SET_DATAFD), and speaks the control protocol of
 * <swtpm/tpm_ioctl.h> for power-on, localities and state transfer. */
#pragma once

#include "tpm_backend.h"

/* Connect to the control socket at ctrl_path and check that swtpm offers
 * what the device needs.  The TPM is not started yet (startup()). */
struct tpm_backend *tpm_swtpm_connect(const char *ctrl_path, GError **error);
