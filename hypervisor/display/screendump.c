/* Screen dumps: refresh the surface from the device, then encode it. */
#include "screendump.h"

#include "framebuffer.h"
#include "png_writer.h"

bool display_screendump(struct framebuffer *fb, const char *path, GError **error)
{
    framebuffer_refresh(fb);
    return png_write_xrgb(path, framebuffer_const_pixels(fb), framebuffer_width(fb),
                          framebuffer_height(fb), framebuffer_stride(fb), error);
}
