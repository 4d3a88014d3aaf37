/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The Ruby names of C functions' frames ("Kernel#sleep", "Process.clock_gettime"), read from
 * outside with no debug info: the frame's method entry (ep[-2]) gives the method's ID and its
 * owner; the ID's name comes from the interpreter's ID table, which is not an exported symbol: it
 * is found among the objects the VM keeps marked (vm->mark_object_ary), as the one table that names
 * the operator ID '+' "+", and every later lookup is checked the same way (the entry's Symbol must be
 * the ID looked up); the owner's name is its class path (the __classpath__ instance variable, or
 * __attached__'s for a singleton class). What cannot be read or does not check out gives no name
 * (the native frame names the function). */
#ifndef CT_INTERP_RBNAMES_H
#define CT_INTERP_RBNAMES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "interp/rblayout.h"
#include "lib/memsrc.h"

struct ct_rb_names;

/* vm_ptr: the address of ruby_current_vm_ptr. 0 or -ENOMEM. */
int ct_rb_names_new(const struct ct_memsrc *mem, const struct ct_rb_layout *L, uint64_t vm_ptr, struct ct_rb_names **ret);
void ct_rb_names_free(struct ct_rb_names *nm);
/* The name of the C function whose method entry is at me: "Owner#method", "Owner.method" (a
 * singleton method), or the method alone when the owner has no path. 0 with *ret (malloc'd, NULL
 * when me is not a C function's method entry or cannot be read), or -ENOMEM. */
int ct_rb_cfunc_name(struct ct_rb_names *nm, uint64_t me, char **ret);
/* The bytes of the String at addr (T_STRING checked), 1 to max of them, no NUL among them:
 * malloc'd, or NULL. */
char *ct_rb_string(const struct ct_memsrc *mem, const struct ct_rb_layout *L, uint64_t addr, size_t max);

#endif
