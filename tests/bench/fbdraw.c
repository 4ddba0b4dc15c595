/* Guest side of tests/bench/vnc-update-rate: redraws all of /dev/fb0
 * continuously so that every frame differs from the one before in every
 * pixel.  Usage: fbdraw [FPS] (0 or none: as fast as it can).
 *
 * Prints "ORIEL-FBDRAW-START WxH bpp=B stride=S fps=F" once it draws, then
 * "ORIEL-FBDRAW-FPS N", the frames per second drawn since the last such line,
 * about once a second (few lines: every console byte is an exit). */
#include <errno.h>
#include <fcntl.h>
#include <linux/fb.h>
#include <linux/kd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_until(double t)
{
    struct timespec ts = { (time_t)t, (long)((t - (double)(time_t)t) * 1e9) };
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

int main(int argc, char **argv)
{
    double fps = argc > 1 ? atof(argv[1]) : 0;

    /* The device node appears when the driver has probed; allow it 10 s. */
    int fd = -1;
    for (int i = 0; i < 1000 && fd < 0; i++) {
        fd = open("/dev/fb0", O_RDWR);
        if (fd < 0)
            sleep_until(now() + 0.01);
    }
    if (fd < 0) {
        printf("ORIEL-FBDRAW-ERROR open /dev/fb0: %s\n", strerror(errno));
        return 1;
    }
    struct fb_var_screeninfo var;
    struct fb_fix_screeninfo fix;
    if (ioctl(fd, FBIOGET_VSCREENINFO, &var) < 0 || ioctl(fd, FBIOGET_FSCREENINFO, &fix) < 0) {
        printf("ORIEL-FBDRAW-ERROR fb ioctl: %s\n", strerror(errno));
        return 1;
    }
    if (var.bits_per_pixel != 32) {
        printf("ORIEL-FBDRAW-ERROR %u bits per pixel, want 32\n", var.bits_per_pixel);
        return 1;
    }
    uint8_t *mem = mmap(NULL, fix.smem_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (mem == MAP_FAILED) {
        printf("ORIEL-FBDRAW-ERROR mmap: %s\n", strerror(errno));
        return 1;
    }
    uint8_t *visible = mem + (size_t)var.yoffset * fix.line_length + (size_t)var.xoffset * 4;

    /* Keep the text console (cursor blink, kernel messages) off the screen. */
    int tty = open("/dev/tty0", O_RDWR);
    if (tty >= 0)
        ioctl(tty, KDSETMODE, KD_GRAPHICS);

    printf("ORIEL-FBDRAW-START %ux%u bpp=%u stride=%u fps=%g\n", var.xres, var.yres,
           var.bits_per_pixel, fix.line_length, fps);
    fflush(stdout);

    double next = now(), last_report = next;
    unsigned drawn = 0;
    for (uint32_t n = 0;; n++) {
        /* Frame n adds n * K to a fixed pattern; K is not 0 modulo 2^24, so
         * consecutive frames differ in every pixel. */
        uint32_t add = n * 0x010305u;
        for (unsigned y = 0; y < var.yres; y++) {
            uint32_t *row = (uint32_t *)(visible + (size_t)y * fix.line_length);
            uint32_t base = (y << 8) + add;
            for (unsigned x = 0; x < var.xres; x++)
                row[x] = ((x ^ (y << 4)) + base) & 0xffffff;
        }
        drawn++;
        double t = now();
        if (t >= last_report + 1) {
            printf("ORIEL-FBDRAW-FPS %.1f\n", drawn / (t - last_report));
            fflush(stdout);
            drawn = 0;
            last_report = t;
        }
        if (fps > 0) {
            next += 1 / fps;
            if (next < t - 1 / fps)
                next = t;  /* far behind: do not try to catch up */
            else
                sleep_until(next);
        }
    }
}
