/* virDomainSendKey's key code sets, turned into what oriel-vmm's send-key
 * takes: XT (set 1) make codes with bit 7 standing for the E0 prefix
 * (QEMU's "qnum" numbering). */
#pragma once

#include <glib.h>

/* virKeycodeSet */
enum {
  KEYCODE_SET_LINUX = 0,
  KEYCODE_SET_XT = 1,
  KEYCODE_SET_ATSET1 = 2,
  KEYCODE_SET_ATSET2 = 3,
  KEYCODE_SET_ATSET3 = 4,
  KEYCODE_SET_OSX = 5,
  KEYCODE_SET_XT_KBD = 6,
  KEYCODE_SET_USB = 7,
  KEYCODE_SET_WIN32 = 8,
  KEYCODE_SET_QNUM = 9,
};

/* FALSE for a set Oriel does not translate (atset2, atset3, os_x). */
gboolean keycode_set_supported (guint set);
/* The key's qnum, or 0 when the set has no such key (or the set is not
 * supported). */
guint keycode_to_qnum (guint set, guint code);
