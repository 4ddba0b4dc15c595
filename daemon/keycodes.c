/* Key code sets of virDomainSendKey.  Linux input event codes are the hub:
 * USB HID usages and Windows virtual keys are looked up as the Linux key
 * they are, and Linux keys as the XT scancode a PC keyboard sends for
 * them.  Only keys a PC keyboard has are known. */
#include "keycodes.h"

/* Linux KEY_* 1 (Esc) to 88 (F12) are the XT make codes themselves. */
#define LINUX_XT_SAME_MAX 88

/* Linux keys past that, and their qnum (0x80 | code for E0 keys). */
static const struct { guint16 linux_key; guint8 qnum; } linux_extended[] = {
  { 89, 0x73 },    /* KEY_RO */
  { 96, 0x9c },    /* KEY_KPENTER */
  { 97, 0x9d },    /* KEY_RIGHTCTRL */
  { 98, 0xb5 },    /* KEY_KPSLASH */
  { 99, 0x54 },    /* KEY_SYSRQ: Alt+Print sends 0x54 */
  { 100, 0xb8 },   /* KEY_RIGHTALT */
  { 102, 0xc7 },   /* KEY_HOME */
  { 103, 0xc8 },   /* KEY_UP */
  { 104, 0xc9 },   /* KEY_PAGEUP */
  { 105, 0xcb },   /* KEY_LEFT */
  { 106, 0xcd },   /* KEY_RIGHT */
  { 107, 0xcf },   /* KEY_END */
  { 108, 0xd0 },   /* KEY_DOWN */
  { 109, 0xd1 },   /* KEY_PAGEDOWN */
  { 110, 0xd2 },   /* KEY_INSERT */
  { 111, 0xd3 },   /* KEY_DELETE */
  { 113, 0xa0 },   /* KEY_MUTE */
  { 114, 0xae },   /* KEY_VOLUMEDOWN */
  { 115, 0xb0 },   /* KEY_VOLUMEUP */
  { 116, 0xde },   /* KEY_POWER */
  { 117, 0x59 },   /* KEY_KPEQUAL */
  { 119, 0xc6 },   /* KEY_PAUSE */
  { 121, 0x7e },   /* KEY_KPCOMMA */
  { 124, 0x7d },   /* KEY_YEN */
  { 125, 0xdb },   /* KEY_LEFTMETA */
  { 126, 0xdc },   /* KEY_RIGHTMETA */
  { 127, 0xdd },   /* KEY_COMPOSE */
  { 142, 0xdf },   /* KEY_SLEEP */
  { 143, 0xe3 },   /* KEY_WAKEUP */
  { 210, 0xb7 },   /* KEY_PRINT */
};

static guint
linux_to_qnum (guint key)
{
  if (key >= 1 && key <= LINUX_XT_SAME_MAX)
    return key;
  for (gsize i = 0; i < G_N_ELEMENTS (linux_extended); i++)
    if (linux_extended[i].linux_key == key)
      return linux_extended[i].qnum;
  return 0;
}

/* USB HID keyboard usages 0x04 (a) .. 0x67 (keypad =), as Linux keys. */
static const guint8 usb_to_linux[] = {
  [0x04] = 30, 48, 46, 32, 18, 33, 34, 35, 23, 36, 37, 38, 50,   /* a..m */
  [0x11] = 49, 24, 25, 16, 19, 31, 20, 22, 47, 17, 45, 21, 44,   /* n..z */
  [0x1e] = 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,                       /* 1..0 */
  [0x28] = 28, 1, 14, 15, 57, 12, 13, 26, 27, 43, 43, 39, 40, 41, 51, 52, 53, 58,
  [0x3a] = 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 87, 88,       /* F1..F12 */
  [0x46] = 99, 70, 119, 110, 102, 104, 111, 107, 109, 106, 105, 108, 103,
  [0x53] = 69, 98, 55, 74, 78, 96, 79, 80, 81, 75, 76, 77, 71, 72, 73, 82, 83,
  [0x64] = 86, 127, 116, 117,
};

/* Usages 0xe0 .. 0xe7: the modifiers. */
static const guint8 usb_modifiers_to_linux[] = { 29, 42, 56, 125, 97, 54, 100, 126 };

static guint
usb_to_qnum (guint usage)
{
  if (usage < G_N_ELEMENTS (usb_to_linux))
    return usb_to_linux[usage] ? linux_to_qnum (usb_to_linux[usage]) : 0;
  if (usage >= 0xe0 && usage <= 0xe7)
    return linux_to_qnum (usb_modifiers_to_linux[usage - 0xe0]);
  return 0;
}

/* Windows virtual-key codes, as Linux keys (generic Shift, Ctrl and Alt
 * are the left ones). */
static const guint8 win32_to_linux[] = {
  [0x08] = 14, 15, [0x0d] = 28, [0x10] = 42, 29, 56, 119, 58, [0x1b] = 1,
  [0x20] = 57, 104, 109, 107, 102, 105, 103, 106, 108, [0x2c] = 99, 110, 111,
  [0x30] = 11, 2, 3, 4, 5, 6, 7, 8, 9, 10,
  [0x41] = 30, 48, 46, 32, 18, 33, 34, 35, 23, 36, 37, 38, 50,
  [0x4e] = 49, 24, 25, 16, 19, 31, 20, 22, 47, 17, 45, 21, 44,
  [0x5b] = 125, 126, 127,
  [0x60] = 82, 79, 80, 81, 75, 76, 77, 71, 72, 73, 55, 78, [0x6d] = 74, 83, 98,
  [0x70] = 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 87, 88,
  [0x90] = 69, 70,
  [0xa0] = 42, 54, 29, 97, 56, 100,
  [0xba] = 39, 13, 51, 12, 52, 53, 41,
  [0xdb] = 26, 43, 27, 40,
  [0xe2] = 86,
};

static guint
win32_to_qnum (guint vk)
{
  return vk < G_N_ELEMENTS (win32_to_linux) && win32_to_linux[vk] ? linux_to_qnum (win32_to_linux[vk]) : 0;
}

gboolean
keycode_set_supported (guint set)
{
  switch (set)
    {
    case KEYCODE_SET_LINUX:
    case KEYCODE_SET_XT:
    case KEYCODE_SET_ATSET1:
    case KEYCODE_SET_XT_KBD:
    case KEYCODE_SET_USB:
    case KEYCODE_SET_WIN32:
    case KEYCODE_SET_QNUM:
      return TRUE;
    default:
      return FALSE;
    }
}

guint
keycode_to_qnum (guint set, guint code)
{
  switch (set)
    {
    case KEYCODE_SET_LINUX:
      return linux_to_qnum (code);
    case KEYCODE_SET_XT:
      /* Plain XT has no E0 keys. */
      return code >= 1 && code <= 0x7f ? code : 0;
    case KEYCODE_SET_ATSET1:
    case KEYCODE_SET_XT_KBD:
      /* Extended keys are written 0xe0XX. */
      if (code >= 1 && code <= 0x7f)
        return code;
      if ((code & 0xff00) == 0xe000 && (code & 0xff) >= 1 && (code & 0xff) <= 0x7f)
        return 0x80 | (code & 0x7f);
      return 0;
    case KEYCODE_SET_USB:
      return usb_to_qnum (code);
    case KEYCODE_SET_WIN32:
      return win32_to_qnum (code);
    case KEYCODE_SET_QNUM:
      return code >= 1 && code <= 0xff ? code : 0;
    default:
      return 0;
    }
}
