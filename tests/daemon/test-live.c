/* What the live procedures compute before asking the VMM: the key codes of
 * virDomainSendKey's sets as qnums, and the VMM's name of each disk. */
#include "keycodes.h"
#include "domain-live.h"

#include <string.h>

static void
test_keycodes (void)
{
  /* Linux: the first 88 are XT itself; then E0 keys with bit 7. */
  g_assert_cmpuint (keycode_to_qnum (KEYCODE_SET_LINUX, 1), ==, 0x01);     /* KEY_ESC */
  g_assert_cmpuint (keycode_to_qnum (KEYCODE_SET_LINUX, 45), ==, 0x2d);    /* KEY_X */
  g_assert_cmpuint (keycode_to_qnum (KEYCODE_SET_LINUX, 88), ==, 0x58);    /* KEY_F12 */
  g_assert_cmpuint (keycode_to_qnum (KEYCODE_SET_LINUX, 97), ==, 0x9d);    /* KEY_RIGHTCTRL */
  g_assert_cmpuint (keycode_to_qnum (KEYCODE_SET_LINUX, 111), ==, 0xd3);   /* KEY_DELETE */
  g_assert_cmpuint (keycode_to_qnum (KEYCODE_SET_LINUX, 99), ==, 0x54);    /* KEY_SYSRQ */
  g_assert_cmpuint (keycode_to_qnum (KEYCODE_SET_LINUX, 119), ==, 0xc6);   /* KEY_PAUSE */
  g_assert_cmpuint (keycode_to_qnum (KEYCODE_SET_LINUX, 0), ==, 0);
  g_assert_cmpuint (keycode_to_qnum (KEYCODE_SET_LINUX, 90), ==, 0);
  g_assert_cmpuint (keycode_to_qnum (KEYCODE_SET_LINUX, 100000), ==, 0);

  /* USB HID usages. */
  g_assert_cmpuint (keycode_to_qnum (KEYCODE_SET_USB, 0x04), ==, 0x1e);    /* a */
  g_assert_cmpuint (keycode_to_qnum (KEYCODE_SET_USB, 0x1b), ==, 0x2d);    /* x */
  g_assert_cmpuint (keycode_to_qnum (KEYCODE_SET_USB, 0x27), ==, 0x0b);    /* 0 */
  g_assert_cmpuint (keycode_to_qnum (KEYCODE_SET_USB, 0x28), ==, 0x1c);    /* Enter */
  g_assert_cmpuint (keycode_to_qnum (KEYCODE_SET_USB, 0x45), ==, 0x58);    /* F12 */
  g_assert_cmpuint (keycode_to_qnum (KEYCODE_SET_USB, 0x52), ==, 0xc8);    /* Up */
  g_assert_cmpuint (keycode_to_qnum (KEYCODE_SET_USB, 0x63), ==, 0x53);    /* keypad . */
  g_assert_cmpuint (keycode_to_qnum (KEYCODE_SET_USB, 0xe0), ==, 0x1d);    /* left Ctrl */
  g_assert_cmpuint (keycode_to_qnum (KEYCODE_SET_USB, 0xe6), ==, 0xb8);    /* right Alt */
  g_assert_cmpuint (keycode_to_qnum (KEYCODE_SET_USB, 0x03), ==, 0);
  g_assert_cmpuint (keycode_to_qnum (KEYCODE_SET_USB, 0x68), ==, 0);
  g_assert_cmpuint (keycode_to_qnum (KEYCODE_SET_USB, 0xe8), ==, 0);

  /* Windows virtual keys. */
  g_assert_cmpuint (keycode_to_qnum (KEYCODE_SET_WIN32, 0x58), ==, 0x2d);  /* VK_X */
  g_assert_cmpuint (keycode_to_qnum (KEYCODE_SET_WIN32, 0x0d), ==, 0x1c);  /* VK_RETURN */
  g_assert_cmpuint (keycode_to_qnum (KEYCODE_SET_WIN32, 0x2e), ==, 0xd3);  /* VK_DELETE */
  g_assert_cmpuint (keycode_to_qnum (KEYCODE_SET_WIN32, 0xa3), ==, 0x9d);  /* VK_RCONTROL */
  g_assert_cmpuint (keycode_to_qnum (KEYCODE_SET_WIN32, 0x7b), ==, 0x58);  /* VK_F12 */
  g_assert_cmpuint (keycode_to_qnum (KEYCODE_SET_WIN32, 0x07), ==, 0);
  g_assert_cmpuint (keycode_to_qnum (KEYCODE_SET_WIN32, 0xff), ==, 0);

  /* XT and its extended forms, qnum as it is. */
  g_assert_cmpuint (keycode_to_qnum (KEYCODE_SET_XT, 0x2d), ==, 0x2d);
  g_assert_cmpuint (keycode_to_qnum (KEYCODE_SET_XT, 0x9d), ==, 0);
  g_assert_cmpuint (keycode_to_qnum (KEYCODE_SET_XT_KBD, 0xe01d), ==, 0x9d);
  g_assert_cmpuint (keycode_to_qnum (KEYCODE_SET_ATSET1, 0xe053), ==, 0xd3);
  g_assert_cmpuint (keycode_to_qnum (KEYCODE_SET_ATSET1, 0xe080), ==, 0);
  g_assert_cmpuint (keycode_to_qnum (KEYCODE_SET_QNUM, 0x9d), ==, 0x9d);
  g_assert_cmpuint (keycode_to_qnum (KEYCODE_SET_QNUM, 0x100), ==, 0);

  g_assert_false (keycode_set_supported (KEYCODE_SET_ATSET2));
  g_assert_false (keycode_set_supported (KEYCODE_SET_OSX));
  g_assert_false (keycode_set_supported (42));
  g_assert_cmpuint (keycode_to_qnum (KEYCODE_SET_ATSET2, 0x1c), ==, 0);
}

#define DISK(file, dev, target, bus) \
  "<disk type='file' device='" dev "'><source file='" file "'/><target dev='" target "' bus='" bus "'/></disk>"

static char *
vmm_name_of (DomainDef *def, const char *target)
{
  for (guint i = 0; i < def->disks->len; i++)
    {
      DomainDisk *d = def->disks->pdata[i];
      if (g_str_equal (d->target_dev, target))
        return domain_disk_vmm_name (def, d);
    }
  g_assert_not_reached ();
}

static void
test_vmm_names (void)
{
  const char *xml =
    "<domain type='kvm'><name>n</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
    "<os><type arch='x86_64' machine='pc'>hvm</type><kernel>/k</kernel></os><devices>"
    DISK ("/a.img", "disk", "vdb", "virtio") DISK ("/b.img", "disk", "hda", "ide")
    DISK ("/c.iso", "cdrom", "hdc", "ide") DISK ("/d.img", "disk", "hdb", "ide")
    DISK ("/e.img", "disk", "hdd", "ide") DISK ("/f.img", "disk", "vdx", "virtio")
    DISK ("/g.img", "disk", "sda", "sata")
    "</devices></domain>";
  g_autoptr (GError) error = NULL;
  DomainDef *def = domain_def_parse (xml, strlen (xml), 0, &error);
  g_assert_no_error (error);
  const char *expect[][2] = {
    /* Virtio disks by order, whatever their target says. */
    { "vdb", "vda" }, { "vdx", "vdb" },
    /* IDE disks around the CD-ROM's secondary master. */
    { "hda", "hda" }, { "hdb", "hdb" }, { "hdd", "hdd" }, { "hdc", "cdrom" },
    { "sda", "sda" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (expect); i++)
    {
      g_autofree char *name = vmm_name_of (def, expect[i][0]);
      g_assert_cmpstr (name, ==, expect[i][1]);
    }
  domain_def_free (def);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/live/keycodes", test_keycodes);
  g_test_add_func ("/live/vmm-names", test_vmm_names);
  return g_test_run ();
}
