/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Functions that make buffer overflows easy; use the ct_buf helpers or snprintf. */
#ifndef CT_BANNED_H
#define CT_BANNED_H

#define CT_BANNED(func) sorry_##func##_is_banned_in_ctrace

#undef strcpy
#define strcpy(x, y) CT_BANNED(strcpy)
#undef strcat
#define strcat(x, y) CT_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) CT_BANNED(strncpy)
#undef sprintf
#define sprintf(...) CT_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) CT_BANNED(vsprintf)
#undef gets
#define gets(x) CT_BANNED(gets)
#undef strtok
#define strtok(x, y) CT_BANNED(strtok)

#endif
