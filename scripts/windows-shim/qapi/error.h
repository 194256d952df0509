/* Declared in qemu/osdep.h of the shim */
