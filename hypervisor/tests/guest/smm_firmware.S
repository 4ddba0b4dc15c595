/* A 64 KiB firmware image for guest-smm: real-mode code that exercises
 * System Management Mode on the i440FX (--machine pc,smm=on) and reports
 * on the firmware debug port 0x402 ("smm-test: ..." lines).
 *
 *  1. An SMI through the APM port with the default SMBASE (0x30000) runs
 *     a handler copied to 0x38000 that moves SMBASE to 0xA0000.
 *  2. With SMRAM open (D_OPEN) the real handler and a secret byte go to
 *     0xA8000; SMRAM is closed and the same address overwritten from
 *     outside SMM.  The next SMI's handler copies the secret it sees to
 *     0x600: still the original only if SMRAM was hidden.
 *  3. D_LCK locks SMRAM: D_OPEN cannot be set again.
 *  4. An SMI whose handler waits about three RTC seconds inside SMM
 *     (the test saves and restores the VM meanwhile) and then sets 0x601.
 *
 * Built with: as --32 and ld -Ttext=0 --oformat binary. */
    .code16
    .text
    .globl _start
_start:
    cli
    cld
    xorw %ax, %ax
    movw %ax, %ss
    movw $0x7000, %sp
    movw %cs, %ax
    movw %ax, %ds
    movw $msg_start, %si
    call puts

    /* The relocation handler at the default SMBASE + 0x8000. */
    movw $0x3000, %ax
    movw %ax, %es
    movw $0x8000, %di
    movw $reloc, %si
    movw $(reloc_end - reloc), %cx
    rep movsb

    /* PIIX3: SMI gate and APM SMIs on; i440FX: SMRAM open and enabled. */
    movl $0x800008a0, %eax
    movb $0x01, %bl
    call cfg_writeb
    movl $0x800008a2, %eax
    movb $0x80, %bl
    call cfg_writeb
    movl $0x80000072, %eax
    movb $0x4a, %bl
    call cfg_writeb

    xorw %ax, %ax
    movw %ax, %es
    movb $0, %es:0x500
    movb $0x00, %al
    outb %al, $0xb2
    cmpb $0xaa, %es:0x500
    jne fail_reloc
    movw $msg_relocated, %si
    call puts

    /* The handler and a secret into SMRAM through the open window. */
    movw $0xa000, %ax
    movw %ax, %es
    movw $0x8000, %di
    movw $handler, %si
    movw $(handler_end - handler), %cx
    rep movsb
    movb $0x5a, %es:0x8800
    /* Closed: from here on 0xA8800 is not SMRAM for this code. */
    movl $0x80000072, %eax
    movb $0x0a, %bl
    call cfg_writeb
    movb $0xa5, %es:0x8800

    xorw %ax, %ax
    movw %ax, %es
    movb $0, %es:0x600
    movb $0x01, %al
    outb %al, $0xb2
    cmpb $0x5a, %es:0x600
    jne fail_smram
    movw $msg_handled, %si
    call puts

    /* D_LCK: D_OPEN is cleared and stays so. */
    movl $0x80000072, %eax
    movb $0x5a, %bl
    call cfg_writeb
    movl $0x80000072, %eax
    movb $0x4a, %bl
    call cfg_writeb
    movl $0x80000072, %eax
    call cfg_readb
    cmpb $0x1a, %al
    jne fail_lock
    movw $msg_locked, %si
    call puts

    xorw %ax, %ax
    movw %ax, %es
    movb $0, %es:0x601
    movb $0x02, %al
    outb %al, $0xb2
    cmpb $0x77, %es:0x601
    jne fail_wait
    movw $msg_done, %si
    call puts
    jmp halt

fail_reloc:
    movw $msg_fail_reloc, %si
    jmp fail
fail_smram:
    movw $msg_fail_smram, %si
    jmp fail
fail_lock:
    movw $msg_fail_lock, %si
    jmp fail
fail_wait:
    movw $msg_fail_wait, %si
fail:
    call puts
halt:
    hlt
    jmp halt

/* Print the NUL-terminated string at %ds:%si on the debug port. */
puts:
    movw $0x402, %dx
1:  lodsb
    testb %al, %al
    jz 2f
    outb %al, %dx
    jmp 1b
2:  ret

/* PCI configuration byte at address %eax (mechanism #1): write %bl. */
cfg_writeb:
    pushl %eax
    andl $0xfffffffc, %eax
    movw $0xcf8, %dx
    outl %eax, %dx
    popl %eax
    andw $3, %ax
    movw $0xcfc, %dx
    addw %ax, %dx
    movb %bl, %al
    outb %al, %dx
    ret

/* ... and read it into %al. */
cfg_readb:
    pushl %eax
    andl $0xfffffffc, %eax
    movw $0xcf8, %dx
    outl %eax, %dx
    popl %eax
    andw $3, %ax
    movw $0xcfc, %dx
    addw %ax, %dx
    inb %dx, %al
    ret

/* Runs in SMM at 0x38000 (CS = 0x3000): move SMBASE to 0xA0000 in the
 * state save area, whose layout the revision at 0xFEFC tells. */
reloc:
    movl %cs:0xfefc, %eax
    cmpb $0x64, %al
    je 1f
    movl $0xa0000, %cs:0xfef8
    jmp 2f
1:  movl $0xa0000, %cs:0xff00
2:  xorw %ax, %ax
    movw %ax, %ds
    movb $0xaa, 0x500
    rsm
reloc_end:

/* Runs in SMM at 0xA8000 (CS = 0xA000). */
handler:
    xorw %ax, %ax
    movw %ax, %ds
    inb $0xb2, %al
    cmpb $0x02, %al
    je 3f
    movb %cs:0x8800, %al
    movb %al, 0x600
    rsm
    /* Wait inside SMM until the RTC's seconds changed three times. */
3:  movw $(0x8000 + hmsg_wait - handler), %si
    call 5f
    movw $3, %cx
    call 6f
    movb %al, %bl
4:  call 6f
    cmpb %al, %bl
    je 4b
    movb %al, %bl
    loop 4b
    movb $0x77, 0x601
    movw $(0x8000 + hmsg_leave - handler), %si
    call 5f
    rsm
    /* puts from SMRAM */
5:  movw $0x402, %dx
7:  movb %cs:(%si), %al
    incw %si
    testb %al, %al
    jz 8f
    outb %al, %dx
    jmp 7b
8:  ret
    /* RTC seconds into %al */
6:  movb $0x00, %al
    outb %al, $0x70
    inb $0x71, %al
    ret
hmsg_wait:  .asciz "smm-test: waiting in smm\n"
hmsg_leave: .asciz "smm-test: leaving smm\n"
handler_end:

msg_start:      .asciz "smm-test: start\n"
msg_relocated:  .asciz "smm-test: smbase relocated\n"
msg_handled:    .asciz "smm-test: smi handled in smram\n"
msg_locked:     .asciz "smm-test: smram locked\n"
msg_done:       .asciz "smm-test: done\n"
msg_fail_reloc: .asciz "smm-test: FAIL no smi at the default smbase\n"
msg_fail_smram: .asciz "smm-test: FAIL smram not isolated\n"
msg_fail_lock:  .asciz "smm-test: FAIL d_lck\n"
msg_fail_wait:  .asciz "smm-test: FAIL wait in smm\n"

    /* The reset vector, 16 bytes below the end of the 64 KiB image. */
    .org 0xfff0
    ljmp $0xf000, $_start
    .org 0x10000
